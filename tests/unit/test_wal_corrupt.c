/*
 * test_wal_corrupt.c — damage the files the way a crash or a bad disk (or the
 * fault agent) would, and check that open cuts a torn tail but refuses a
 * damaged middle, naming file and offset.
 */
#include "test_wal_util.h"

/* Five batches of ten entries (1..50, term 1), each fsynced; off[k] = size of
 * segment 1 after k batches (off[0] = the empty log). */
static void write_five(const char *dir, int64_t off[6])
{
	wal_recovered rec;
	wal *w = tw_open(dir, 0, &rec);
	wal_recovered_free(&rec);
	char p[256];
	tw_seg_path(dir, 1, p, sizeof(p));
	off[0] = tw_file_size(p);
	for (int k = 1; k <= 5; k++) {
		tw_write_entries(w, (uint64_t)(k - 1) * 10 + 1, 10, 1, true);
		off[k] = tw_file_size(p);
	}
	wal_close(w);
}

static void expect_entries(const wal_recovered *rec, size_t n)
{
	assert_int_equal(rec->n_entries, n);
	for (size_t i = 0; i < n; i++)
		tw_check_entry(&rec->entries[i], i + 1, 1);
}

/* Open must fail with a one-line reason that contains every needle. */
static void expect_refused(const char *dir, const char *needle1, const char *needle2)
{
	tw_open_refused(dir, 0, NULL, needle1, needle2);
}

/* After a cut, the log must take new writes and replay them after the kept
 * prefix. */
static void expect_writable_after(const char *dir, size_t kept)
{
	wal_recovered rec;
	wal *w = tw_open(dir, 0, &rec);
	assert_int_equal(rec.n_entries, kept);
	wal_recovered_free(&rec);
	tw_write_entries(w, kept + 1, 3, 2, true);
	wal_close(w);
	w = tw_open(dir, 0, &rec);
	assert_int_equal(rec.n_entries, kept + 3);
	assert_int_equal(rec.torn_bytes_cut, 0);
	tw_check_entry(&rec.entries[kept + 2], kept + 3, 2);
	wal_close(w);
	wal_recovered_free(&rec);
}

static void test_torn_mid_record(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	int64_t half = (off[5] - off[4]) / 2;
	tw_truncate(p, off[4] + half);

	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	expect_entries(&rec, 40);
	assert_int_equal(rec.torn_bytes_cut, half);
	assert_int_equal(tw_file_size(p), off[4]);
	wal_close(w);
	wal_recovered_free(&rec);
	expect_writable_after(d.wal, 40);
	tw_dir_remove(&d);
}

static void test_torn_inside_record_header(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	tw_truncate(p, off[4] + 5); /* not even a whole record header */
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	expect_entries(&rec, 40);
	assert_int_equal(rec.torn_bytes_cut, 5);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_garbage_tail(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	uint8_t junk[333];
	srand(42);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	tw_append_bytes(p, junk, sizeof(junk));
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	expect_entries(&rec, 50);
	assert_int_equal(rec.torn_bytes_cut, sizeof(junk));
	assert_int_equal(tw_file_size(p), off[5]);
	wal_close(w);
	wal_recovered_free(&rec);
	expect_writable_after(d.wal, 50);
	tw_dir_remove(&d);
}

static void test_zero_tail(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	/* The last record's bytes replaced by zeros (a partial write that
	 * extended the file but never filled it), plus preallocated zeros. */
	tw_truncate(p, off[4]);
	tw_truncate(p, off[4] + 8192);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	expect_entries(&rec, 40);
	assert_int_equal(rec.torn_bytes_cut, 8192);
	wal_close(w);
	wal_recovered_free(&rec);
	expect_writable_after(d.wal, 40);
	tw_dir_remove(&d);
}

static void test_bitflip_in_last_record_is_cut(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	tw_xor_byte(p, off[4] + 40, 0x10); /* inside the payload */
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	expect_entries(&rec, 40);
	assert_int_equal(rec.torn_bytes_cut, off[5] - off[4]);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_huge_length_in_last_record_is_cut(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	tw_xor_byte(p, off[4] + 3, 0xff); /* length's top byte: ~4 GiB */
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	expect_entries(&rec, 40);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_bitflip_in_middle_is_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	tw_xor_byte(p, off[1] + 50, 0x01);
	char where[64];
	snprintf(where, sizeof(where), "0000000000000001.wal offset %lld", (long long)off[1]);
	expect_refused(d.wal, "middle of the log", where);
	expect_refused(d.wal, "refusing to start", NULL);
	/* Refusing must not "repair" anything. */
	assert_int_equal(tw_file_size(p), off[5]);
	tw_dir_remove(&d);
}

static void test_huge_length_in_middle_is_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	tw_xor_byte(p, off[2] + 3, 0x80);
	expect_refused(d.wal, "middle of the log", "refusing to start");
	tw_dir_remove(&d);
}

static void test_zeroed_middle_is_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	int fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	uint8_t z[16] = { 0 };
	assert_int_equal(pwrite(fd, z, sizeof(z), off[1]), (ssize_t)sizeof(z));
	assert_int_equal(close(fd), 0);
	expect_refused(d.wal, "middle of the log", NULL);
	tw_dir_remove(&d);
}

/* Several segments; n_out = how many. */
static size_t write_segments(const char *dir)
{
	wal_recovered rec;
	wal *w = tw_open(dir, 2048, &rec);
	wal_recovered_free(&rec);
	for (uint64_t i = 1; i <= 300; i += 10)
		tw_write_entries(w, i, 10, 1, true);
	wal_close(w);
	size_t n = tw_count_segments(dir);
	assert_true(n >= 3);
	return n;
}

static void test_damage_in_earlier_segment_is_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	write_segments(d.wal);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	/* Even the very last byte of a segment that is not the last. */
	tw_xor_byte(p, tw_file_size(p) - 1, 0x04);
	expect_refused(d.wal, "0000000000000001.wal", "refusing to start");
	tw_dir_remove(&d);
}

static void test_truncated_earlier_segment_is_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	write_segments(d.wal);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof(p));
	int64_t sz = tw_file_size(p);
	/* Cut mid-record... */
	tw_truncate(p, sz - 7);
	expect_refused(d.wal, "0000000000000001.wal", NULL);
	tw_dir_remove(&d);

	/* ...or exactly on a record boundary: only the next segment's start
	 * record can tell, and it must. */
	tw_dir_make(&d);
	tw_seg_path(d.wal, 1, p, sizeof(p));
	wal_recovered rec;
	wal *w = tw_open(d.wal, 1024, &rec);
	wal_recovered_free(&rec);
	int64_t prev = tw_file_size(p), bound = prev;
	uint64_t next = 1;
	while (tw_count_segments(d.wal) < 2) {
		tw_write_entries(w, next, 10, 1, true);
		next += 10;
		if (tw_count_segments(d.wal) < 2) {
			bound = prev; /* where segment 1's newest record starts */
			prev = tw_file_size(p);
		}
	}
	wal_close(w);
	assert_true(bound > 80);
	tw_truncate(p, bound); /* drop segment 1's last record, cleanly */
	expect_refused(d.wal, "missing from an earlier segment", "0000000000000002.wal");
	tw_dir_remove(&d);
}

static void test_missing_segment_is_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	size_t n = write_segments(d.wal);
	char p[256];
	assert_int_equal(unlink(tw_seg_path(d.wal, 2, p, sizeof(p))), 0);
	expect_refused(d.wal, "missing", NULL);
	(void)n;
	tw_dir_remove(&d);
}

static void test_damaged_header_is_refused(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	size_t n = write_segments(d.wal);
	char p[256];
	/* A flipped header in the last segment, records after it: refused. */
	tw_xor_byte(tw_seg_path(d.wal, n, p, sizeof(p)), 9, 0x01);
	expect_refused(d.wal, "header", NULL);
	tw_dir_remove(&d);
}

/* A crash while creating a segment leaves an empty or partial file: it holds
 * nothing and is removed; the log goes on and rolls into it again. */
static void test_torn_segment_creation(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	size_t n = write_segments(d.wal);
	char p[256];
	tw_seg_path(d.wal, n + 1, p, sizeof(p));
	tw_append_bytes(p, "RKVWAL\r\n\x01", 9);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 2048, &rec);
	assert_int_equal(rec.n_entries, 300);
	assert_int_equal(rec.torn_bytes_cut, 9);
	assert_true(tw_file_size(p) < 0);
	wal_recovered_free(&rec);
	for (uint64_t i = 301; i <= 400; i += 10)
		tw_write_entries(w, i, 10, 1, true);
	wal_close(w);

	/* The new segment's start record torn: same. */
	n = tw_count_segments(d.wal);
	char q[256];
	tw_seg_path(d.wal, n, q, sizeof(q));
	w = tw_open(d.wal, 2048, &rec);
	wal_recovered_free(&rec);
	wal_close(w);
	tw_seg_path(d.wal, n + 1, p, sizeof(p));
	/* Make the next segment by hand: copy this one's header region. */
	int in = open(q, O_RDONLY);
	assert_true(in >= 0);
	uint8_t hdr[50];
	assert_int_equal(read(in, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(close(in), 0);
	tw_append_bytes(p, hdr, sizeof(hdr)); /* wrong sequence in the header */
	expect_refused(d.wal, "segment", NULL);
	assert_int_equal(unlink(p), 0);

	w = tw_open(d.wal, 2048, &rec);
	assert_int_equal(rec.n_entries, 400);
	tw_check_entry(&rec.entries[399], 400, 1);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_only_segment_empty(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	assert_int_equal(mkdir(d.wal, 0755), 0);
	char p[256];
	tw_append_bytes(tw_seg_path(d.wal, 1, p, sizeof(p)), "", 0);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 0);
	wal_recovered_free(&rec);
	tw_write_entries(w, 1, 4, 1, true);
	wal_close(w);
	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 4);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

static void test_foreign_files_ignored(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	int64_t off[6];
	write_five(d.wal, off);
	char p[256];
	snprintf(p, sizeof(p), "%s/notes.txt", d.wal);
	tw_append_bytes(p, "hello", 5);
	snprintf(p, sizeof(p), "%s/12.wal", d.wal);
	tw_append_bytes(p, "hello", 5);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	expect_entries(&rec, 50);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torn_mid_record),
		cmocka_unit_test(test_torn_inside_record_header),
		cmocka_unit_test(test_garbage_tail),
		cmocka_unit_test(test_zero_tail),
		cmocka_unit_test(test_bitflip_in_last_record_is_cut),
		cmocka_unit_test(test_huge_length_in_last_record_is_cut),
		cmocka_unit_test(test_bitflip_in_middle_is_refused),
		cmocka_unit_test(test_huge_length_in_middle_is_refused),
		cmocka_unit_test(test_zeroed_middle_is_refused),
		cmocka_unit_test(test_damage_in_earlier_segment_is_refused),
		cmocka_unit_test(test_truncated_earlier_segment_is_refused),
		cmocka_unit_test(test_missing_segment_is_refused),
		cmocka_unit_test(test_damaged_header_is_refused),
		cmocka_unit_test(test_torn_segment_creation),
		cmocka_unit_test(test_only_segment_empty),
		cmocka_unit_test(test_foreign_files_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
