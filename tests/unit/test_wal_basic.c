/*
 * test_wal_basic.c — the WAL's normal life: create, append, reopen, overwrite
 * a conflicting suffix, roll segments, lose unsynced writes.
 */
#include "test_wal_util.h"

static void test_missing_dir_is_created(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	char nested[160];
	snprintf(nested, sizeof(nested), "%s/a/b/wal", d.root);
	wal_recovered rec;
	wal *w = tw_open(nested, 0, &rec);
	assert_int_equal(rec.n_entries, 0);
	assert_int_equal(rec.hs.term, 0);
	assert_int_equal(rec.hs.vote, RAFT_NONE);
	assert_int_equal(rec.hs.commit, 0);
	assert_int_equal(rec.torn_bytes_cut, 0);
	char p[256];
	assert_true(tw_file_size(tw_seg_path(nested, 1, p, sizeof(p))) > 0);
	wal_close(w);
	wal_recovered_free(&rec);

	/* An empty log reopens as an empty log. */
	w = tw_open(nested, 0, &rec);
	assert_int_equal(rec.n_entries, 0);
	assert_int_equal(rec.hs.vote, RAFT_NONE);
	assert_int_equal(rec.torn_bytes_cut, 0);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_append_reopen(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	wal_recovered_free(&rec);
	tw_write_hs(w, 2, 1, 0, true);
	for (uint64_t i = 1; i <= 100; i += 10)
		tw_write_entries(w, i, 10, 2, true);
	tw_write_hs(w, 3, 2, 57, true);
	assert_int_equal(wal_unsynced_bytes(w), 0);
	wal_close(w);

	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 100);
	for (size_t i = 0; i < 100; i++)
		tw_check_entry(&rec.entries[i], i + 1, 2);
	assert_int_equal(rec.hs.term, 3);
	assert_int_equal(rec.hs.vote, 2);
	assert_int_equal(rec.hs.commit, 57);
	assert_int_equal(rec.snap_index, 0);
	assert_int_equal(rec.torn_bytes_cut, 0);
	wal_recovered_free(&rec);

	/* Appending after a reopen continues the same log. */
	tw_write_entries(w, 101, 5, 3, true);
	wal_close(w);
	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 105);
	tw_check_entry(&rec.entries[99], 100, 2);
	tw_check_entry(&rec.entries[104], 105, 3);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_overwrite_truncates_suffix(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	wal_recovered_free(&rec);
	tw_write_entries(w, 1, 10, 1, true);
	tw_write_entries(w, 6, 3, 2, true); /* conflicts from 6 on: 6..10 go */
	wal_close(w);

	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 8);
	for (uint64_t i = 1; i <= 5; i++)
		tw_check_entry(&rec.entries[i - 1], i, 1);
	for (uint64_t i = 6; i <= 8; i++)
		tw_check_entry(&rec.entries[i - 1], i, 2);
	wal_recovered_free(&rec);

	/* Truncating back to the very first entry. */
	tw_write_entries(w, 1, 2, 3, true);
	wal_close(w);
	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 2);
	tw_check_entry(&rec.entries[0], 1, 3);
	tw_check_entry(&rec.entries[1], 2, 3);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_segment_roll(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 4096, &rec);
	wal_recovered_free(&rec);
	tw_write_hs(w, 4, 0, 0, true);
	for (uint64_t i = 1; i <= 1000; i += 10)
		tw_write_entries(w, i, 10, 4, i % 30 == 1);
	tw_write_hs(w, 4, 0, 990, true);
	size_t nseg = tw_count_segments(d.wal);
	assert_true(nseg > 5);
	wal_close(w);

	/* Every segment after the first starts with the hard state. */
	char p[256];
	int64_t sz = tw_file_size(tw_seg_path(d.wal, 2, p, sizeof(p)));
	assert_true(sz > 32 + 12 + 36);

	w = tw_open(d.wal, 4096, &rec);
	assert_int_equal(rec.n_entries, 1000);
	for (size_t i = 0; i < 1000; i++)
		tw_check_entry(&rec.entries[i], i + 1, 4);
	assert_int_equal(rec.hs.term, 4);
	assert_int_equal(rec.hs.commit, 990);
	wal_recovered_free(&rec);

	/* A conflicting suffix that starts in an earlier segment. */
	tw_write_entries(w, 15, 3, 5, true);
	wal_close(w);
	w = tw_open(d.wal, 4096, &rec);
	assert_int_equal(rec.n_entries, 17);
	tw_check_entry(&rec.entries[13], 14, 4);
	tw_check_entry(&rec.entries[14], 15, 5);
	tw_check_entry(&rec.entries[16], 17, 5);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

/* The hard state survives in later segments even when it was written long
 * before: a start record carries it. Checked by reading segment 3 alone. */
static void test_new_segment_carries_hard_state(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 1024, &rec);
	wal_recovered_free(&rec);
	tw_write_hs(w, 9, 2, 0, true);
	for (uint64_t i = 1; i <= 200; i += 5)
		tw_write_entries(w, i, 5, 9, true);
	wal_close(w);
	assert_true(tw_count_segments(d.wal) >= 3);

	char p[256];
	tw_seg_path(d.wal, 3, p, sizeof(p));
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t buf[32 + 12 + 36];
	assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(close(fd), 0);
	assert_memory_equal(buf, "RKVWAL\r\n", 8);
	assert_int_equal(buf[32 + 8], 3); /* SEGMENT_START */
	assert_int_equal(buf[32 + 12], 9); /* term, little-endian */
	assert_int_equal(buf[32 + 20], 2); /* vote */
	tw_dir_remove(&d);
}

static void test_drop_unsynced(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	wal_recovered_free(&rec);
	tw_write_hs(w, 1, 0, 0, true);
	tw_write_entries(w, 1, 10, 1, true);
	assert_int_equal(wal_unsynced_bytes(w), 0);
	char p[256];
	int64_t synced_size = tw_file_size(tw_seg_path(d.wal, 1, p, sizeof(p)));
	tw_write_entries(w, 11, 10, 1, false);
	tw_write_hs(w, 2, 1, 15, false);
	tw_write_entries(w, 5, 1, 2, false); /* an unsynced truncation, too */
	assert_int_equal(wal_unsynced_bytes(w), tw_file_size(p) - synced_size);
	assert_int_equal(wal_drop_unsynced(w), 0);
	assert_int_equal(wal_unsynced_bytes(w), 0);
	assert_int_equal(tw_file_size(p), synced_size);
	wal_close(w);

	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 10);
	for (size_t i = 0; i < 10; i++)
		tw_check_entry(&rec.entries[i], i + 1, 1);
	assert_int_equal(rec.hs.term, 1);
	assert_int_equal(rec.hs.vote, 0);
	assert_int_equal(rec.torn_bytes_cut, 0);
	wal_recovered_free(&rec);

	/* Synced writes are never dropped, and the log goes on after a drop. */
	tw_write_entries(w, 11, 2, 3, true);
	assert_int_equal(wal_drop_unsynced(w), 0);
	tw_write_entries(w, 13, 1, 3, true);
	wal_close(w);
	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 13);
	tw_check_entry(&rec.entries[12], 13, 3);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_drop_unsynced_across_segments(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 2048, &rec);
	wal_recovered_free(&rec);
	tw_write_hs(w, 1, 2, 0, true);
	for (uint64_t i = 1; i <= 100; i += 10)
		tw_write_entries(w, i, 10, 1, true);
	size_t synced_segs = tw_count_segments(d.wal);
	for (uint64_t i = 101; i <= 400; i += 10)
		tw_write_entries(w, i, 10, 1, false);
	tw_write_hs(w, 7, 1, 300, false);
	assert_true(tw_count_segments(d.wal) > synced_segs + 2);
	assert_int_equal(wal_drop_unsynced(w), 0);
	assert_int_equal(tw_count_segments(d.wal), synced_segs);

	/* Writing on rolls again, and a synced write after unsynced ones that
	 * rolled makes the older segments durable too. */
	for (uint64_t i = 101; i <= 200; i += 10)
		tw_write_entries(w, i, 10, 2, false);
	tw_write_entries(w, 201, 1, 2, true);
	assert_int_equal(wal_drop_unsynced(w), 0);
	wal_close(w);

	w = tw_open(d.wal, 2048, &rec);
	assert_int_equal(rec.n_entries, 201);
	tw_check_entry(&rec.entries[99], 100, 1);
	tw_check_entry(&rec.entries[100], 101, 2);
	tw_check_entry(&rec.entries[200], 201, 2);
	assert_int_equal(rec.hs.term, 1);
	assert_int_equal(rec.hs.vote, 2);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_batch_api(void **state)
{
	(void)state;
	wal_batch *a = wal_batch_new(), *b = wal_batch_new();
	assert_non_null(a);
	assert_non_null(b);
	assert_true(wal_batch_empty(a));
	uint8_t x = 'x';
	raft_entry e[3] = {
		{ .term = 1, .index = 4, .len = 1, .data = &x },
		{ .term = 1, .index = 5, .len = 0, .data = NULL },
		{ .term = 1, .index = 7, .len = 1, .data = &x },
	};
	/* Bad input is refused and leaves the batch untouched. */
	assert_int_equal(wal_batch_add_entries(a, e, 3), -1); /* 5 -> 7 gap */
	assert_true(wal_batch_empty(a));
	raft_entry zero = { .term = 1, .index = 0 };
	assert_int_equal(wal_batch_add_entries(a, &zero, 1), -1);
	raft_entry nodata = { .term = 1, .index = 1, .len = 3, .data = NULL };
	assert_int_equal(wal_batch_add_entries(a, &nodata, 1), -1);
	assert_true(wal_batch_empty(a));
	assert_int_equal(wal_batch_add_entries(a, e, 0), 0);
	assert_true(wal_batch_empty(a));

	assert_int_equal(wal_batch_add_entries(a, e, 2), 0);
	size_t abytes = wal_batch_bytes(a);
	assert_true(abytes > 0);
	raft_hard_state hs = { .term = 1, .vote = 0, .commit = 0 };
	assert_int_equal(wal_batch_add_hard_state(b, &hs), 0);
	size_t bbytes = wal_batch_bytes(b);
	assert_int_equal(wal_batch_append(a, b), 0);
	assert_true(wal_batch_empty(b));
	assert_int_equal(wal_batch_bytes(a), abytes + bbytes);
	/* Appending into an empty batch moves everything too. */
	assert_int_equal(wal_batch_append(b, a), 0);
	assert_true(wal_batch_empty(a));
	assert_int_equal(wal_batch_bytes(b), abytes + bbytes);
	wal_batch_clear(b);
	assert_true(wal_batch_empty(b));
	wal_batch_free(a);
	wal_batch_free(b);
	wal_batch_free(NULL);
}

/* Batches merged with wal_batch_append (group commit) replay like separate
 * writes, in order, including a truncation inside the merged batch. */
static void test_merged_batches(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	wal_recovered_free(&rec);
	wal_batch *all = wal_batch_new();
	assert_non_null(all);
	for (uint64_t i = 1; i <= 50; i++) {
		wal_batch *one = wal_batch_new();
		assert_non_null(one);
		char buf[64];
		uint64_t idx = i <= 40 ? i : i - 10; /* 41..50 rewrite 31..40 in term 2 */
		uint64_t term = i <= 40 ? 1 : 2;
		raft_entry e = { .term = term, .index = idx, .len = (uint32_t)tw_data(idx, term, buf, 64),
				 .data = (uint8_t *)buf };
		assert_int_equal(wal_batch_add_entries(one, &e, 1), 0);
		raft_hard_state hs = { .term = term, .vote = 1, .commit = i / 2 };
		assert_int_equal(wal_batch_add_hard_state(one, &hs), 0);
		assert_int_equal(wal_batch_append(all, one), 0);
		wal_batch_free(one);
	}
	char err[256];
	assert_int_equal(wal_write(w, all, true, err, sizeof(err)), 0);
	wal_batch_free(all);
	wal_close(w);
	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 40);
	tw_check_entry(&rec.entries[29], 30, 1);
	tw_check_entry(&rec.entries[30], 31, 2);
	tw_check_entry(&rec.entries[39], 40, 2);
	assert_int_equal(rec.hs.term, 2);
	assert_int_equal(rec.hs.commit, 25);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_large_entries(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 1 << 20, &rec);
	wal_recovered_free(&rec);
	size_t big = (1 << 20) + 3;
	uint8_t *data = malloc(big);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 31 + 7);
	raft_entry e[3] = {
		{ .term = 1, .index = 1, .len = (uint32_t)big, .data = data },
		{ .term = 1, .index = 2, .type = RAFT_ENTRY_NOOP, .len = 0, .data = NULL },
		{ .term = 1, .index = 3, .len = (uint32_t)big, .data = data },
	};
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	assert_int_equal(wal_batch_add_entries(b, e, 3), 0);
	char err[256];
	assert_int_equal(wal_write(w, b, true, err, sizeof(err)), 0);
	assert_int_equal(wal_write(w, b, true, err, sizeof(err)), 0); /* rewrites 1..3 */
	wal_batch_free(b);
	wal_close(w);
	w = tw_open(d.wal, 1 << 20, &rec);
	assert_int_equal(rec.n_entries, 3);
	assert_int_equal(rec.entries[0].len, big);
	assert_memory_equal(rec.entries[0].data, data, big);
	assert_int_equal(rec.entries[1].type, RAFT_ENTRY_NOOP);
	assert_int_equal(rec.entries[1].len, 0);
	assert_null(rec.entries[1].data);
	assert_memory_equal(rec.entries[2].data, data, big);
	free(data);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_second_opener_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec, rec2;
	wal *w = tw_open(d.wal, 0, &rec);
	wal *w2 = NULL;
	char err[256] = "";
	assert_int_equal(wal_open(d.wal, NULL, &w2, &rec2, err, sizeof(err)), -1);
	assert_null(w2);
	assert_non_null(strstr(err, "locked"));
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_unwritable_dir(void **state)
{
	(void)state;
	wal *w = NULL;
	wal_recovered rec;
	char err[256] = "";
	/* A regular file where the directory should be. */
	tw_dir d;
	tw_dir_make(&d);
	char f[160];
	snprintf(f, sizeof(f), "%s/file", d.root);
	tw_append_bytes(f, "x", 1);
	char sub[200];
	snprintf(sub, sizeof(sub), "%s/wal", f);
	assert_int_equal(wal_open(sub, NULL, &w, &rec, err, sizeof(err)), -1);
	assert_null(w);
	assert_true(strlen(err) > 0);
	assert_null(strchr(err, '\n'));
	tw_dir_remove(&d);
}

/* A batch that would leave a gap in the log is refused before it reaches
 * the disk (replay would refuse it and the node could never restart), and
 * the refusal does not break the log. */
static void test_gap_refused_on_write(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	wal_recovered_free(&rec);
	tw_write_entries(w, 1, 5, 1, true);
	uint8_t x = 'x';
	raft_entry e = { .term = 1, .index = 7, .len = 1, .data = &x };
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	assert_int_equal(wal_batch_add_entries(b, &e, 1), 0);
	char err[256] = "";
	assert_int_equal(wal_write(w, b, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "gap"));
	/* Within a batch, too. */
	e.index = 9;
	assert_int_equal(wal_batch_add_entries(b, &e, 1), -1);
	wal_batch *c = wal_batch_new();
	assert_non_null(c);
	assert_int_equal(wal_batch_add_entries(c, &e, 1), 0);
	assert_int_equal(wal_batch_append(b, c), -1);
	wal_batch_free(c);
	wal_batch_free(b);
	tw_write_entries(w, 6, 1, 1, true);
	wal_close(w);
	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 6);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_dir_is_created),
		cmocka_unit_test(test_append_reopen),
		cmocka_unit_test(test_overwrite_truncates_suffix),
		cmocka_unit_test(test_segment_roll),
		cmocka_unit_test(test_new_segment_carries_hard_state),
		cmocka_unit_test(test_drop_unsynced),
		cmocka_unit_test(test_drop_unsynced_across_segments),
		cmocka_unit_test(test_batch_api),
		cmocka_unit_test(test_merged_batches),
		cmocka_unit_test(test_large_entries),
		cmocka_unit_test(test_second_opener_refused),
		cmocka_unit_test(test_unwritable_dir),
		cmocka_unit_test(test_gap_refused_on_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
