/*
 * test_wal_compact.c — compaction behind a snapshot: whole segments before
 * an index go, the log's first index moves, a restart replays from the base
 * (and from the snapshot index after wal_recovered_skip_to), nothing that is
 * current or unsynced is ever dropped, an interrupted compaction is finished
 * at open, a damaged or inconsistent base file refuses to start, and a reset
 * to an installed snapshot (one RESET record, alone or heading a batch)
 * starts the log afresh at the snapshot point, or not at all when torn.
 */
#include "test_wal_util.h"

#include "../../node/wal/wal_compact.h"

#define SEG 600 /* small segments: a few batches each */

/* Entries 1..n of term 1, in batches of 10, each fsynced. */
static wal *fill(tw_dir *d, uint64_t n)
{
	wal_recovered rec;
	wal *w = tw_open(d->wal, SEG, &rec);
	wal_recovered_free(&rec);
	for (uint64_t i = 1; i <= n; i += 10)
		tw_write_entries(w, i, 10, 1, true);
	tw_write_hs(w, 1, 1, n, true);
	return w;
}

/* fill(d, n), compact behind upto, close: the preamble of the tests that
 * look at a compacted directory after a restart. */
static wal_compact_result fill_compact_close(tw_dir *d, uint64_t n, uint64_t upto)
{
	wal *w = fill(d, n);
	wal_compact_result res;
	char err[512];
	assert_int_equal(wal_compact(w, upto, &res, err, sizeof err), 0);
	wal_close(w);
	return res;
}

static void check_log(const wal_recovered *rec, uint64_t from, uint64_t to, uint64_t term)
{
	assert_int_equal(rec->snap_index + rec->n_entries, to);
	for (uint64_t i = from; i <= to; i++)
		tw_check_entry(&rec->entries[i - rec->snap_index - 1], i, term);
}

static void test_compact_moves_first_index(void **state)
{
	tw_dir *d = *state;
	wal *w = fill(d, 300);
	size_t before = tw_count_segments(d->wal);
	assert_true(before > 5);
	wal_compact_result res;
	char err[512];
	assert_int_equal(wal_compact(w, 200, &res, err, sizeof err), 0);
	assert_true(res.segments_dropped > 0);
	assert_true(res.base_index > 0 && res.base_index <= 200);
	assert_true(res.base_index > 150); /* whole segments, but no more than one behind */
	assert_true(res.bytes_freed > 0);
	assert_int_equal(tw_count_segments(d->wal), before - res.segments_dropped);
	/* Compacting to the same point again changes nothing. */
	wal_compact_result again;
	assert_int_equal(wal_compact(w, 200, &again, err, sizeof err), 0);
	assert_int_equal(again.segments_dropped, 0);
	wal_close(w);

	wal_recovered rec;
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(rec.snap_index, res.base_index);
	assert_int_equal(rec.snap_term, 1);
	assert_int_equal(rec.hs.commit, 300);
	check_log(&rec, res.base_index + 1, 300, 1);
	/* The restart then continues from the snapshot at 200. */
	assert_int_equal(wal_recovered_skip_to(&rec, 200, 1, err, sizeof err), 0);
	assert_int_equal(rec.snap_index, 200);
	assert_int_equal(rec.n_entries, 100);
	tw_check_entry(&rec.entries[0], 201, 1);
	wal_recovered_free(&rec);
	/* Writing goes on after a compacted start. */
	tw_write_entries(w, 301, 10, 2, true);
	wal_close(w);
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(rec.snap_index, res.base_index);
	check_log(&rec, 301, 310, 2);
	wal_recovered_free(&rec);
	wal_close(w);
}

/* The current segment and anything not yet fsynced stay, whatever upto says:
 * losing unsynced writes must still be possible (and replayable). */
static void test_compact_keeps_current_and_unsynced(void **state)
{
	tw_dir *d = *state;
	wal *w = fill(d, 100);
	for (uint64_t i = 101; i <= 200; i += 10)
		tw_write_entries(w, i, 10, 1, false); /* several unsynced segments */
	wal_compact_result res;
	char err[512];
	assert_int_equal(wal_compact(w, 1000, &res, err, sizeof err), 0);
	assert_true(res.segments_dropped > 0);
	assert_true(res.base_index <= 100);
	assert_int_equal(wal_drop_unsynced(w), 0);
	wal_close(w);
	wal_recovered rec;
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(rec.snap_index, res.base_index);
	check_log(&rec, res.base_index + 1, 100, 1);
	wal_recovered_free(&rec);
	wal_close(w);
}

/* A crash after the base file was written but before the old segments were
 * deleted: open deletes them and recovers the compacted log. */
static void test_interrupted_compaction_is_finished_at_open(void **state)
{
	tw_dir *d = *state;
	wal *w = fill(d, 200);
	char p[256];
	size_t n1;
	uint8_t *seg1 = tw_read_file(tw_seg_path(d->wal, 1, p, sizeof p), &n1);
	wal_compact_result res;
	char err[512];
	assert_int_equal(wal_compact(w, 150, &res, err, sizeof err), 0);
	wal_close(w);
	assert_true(tw_file_size(tw_seg_path(d->wal, 1, p, sizeof p)) < 0);
	tw_append_bytes(p, seg1, n1); /* segment 1 is back, as if never deleted */
	free(seg1);

	wal_recovered rec;
	w = tw_open(d->wal, SEG, &rec);
	assert_true(tw_file_size(tw_seg_path(d->wal, 1, p, sizeof p)) < 0);
	assert_int_equal(rec.snap_index, res.base_index);
	check_log(&rec, res.base_index + 1, 200, 1);
	wal_recovered_free(&rec);
	wal_close(w);
}

/* A record in the first kept segment may rewrite entries at or before the
 * base (they were uncommitted when that segment began): replay skips them
 * and takes the base's term from the rewrite. */
static void test_rewrite_across_the_base(void **state)
{
	tw_dir *d = *state;
	wal_recovered rec;
	wal *w = tw_open(d->wal, 100, &rec);
	wal_recovered_free(&rec);
	tw_write_entries(w, 1, 50, 1, true); /* segment 1, past 100 bytes */
	tw_write_entries(w, 45, 36, 2, true); /* segment 2 starts at (50, 1); rewrites 45.. */
	tw_write_entries(w, 81, 5, 2, true);  /* segment 3 */
	wal_compact_result res;
	char err[512];
	assert_int_equal(wal_compact(w, 60, &res, err, sizeof err), 0);
	assert_int_equal(res.segments_dropped, 1);
	assert_int_equal(res.base_index, 50);
	wal_close(w);
	w = tw_open(d->wal, 100, &rec);
	assert_int_equal(rec.snap_index, 50);
	assert_int_equal(rec.snap_term, 2);
	check_log(&rec, 51, 85, 2);
	wal_recovered_free(&rec);
	wal_close(w);
}

static void test_damaged_or_inconsistent_base_refuses(void **state)
{
	tw_dir *d = *state;
	wal_compact_result res = fill_compact_close(d, 200, 150);
	char base[256];
	snprintf(base, sizeof base, "%s/base", d->wal);
	tw_xor_byte(base, 22, 0x01);
	tw_open_refused(d->wal, SEG, "a damaged base file", "base", "damaged");
	tw_xor_byte(base, 22, 0x01);

	/* The first kept segment deleted: refused, not silently started later. */
	char p[256];
	assert_int_equal(unlink(tw_seg_path(d->wal, res.first_seq, p, sizeof p)), 0);
	tw_open_refused(d->wal, SEG, "the first kept segment deleted", "first one is", NULL);
}

/* A follower installs a snapshot at 500 while its log ends at 100: one
 * RESET record; the old segments then go by ordinary compaction. */
static void test_reset_to_snapshot_point(void **state)
{
	tw_dir *d = *state;
	wal *w = fill(d, 100);
	tw_write_hs(w, 3, 2, 100, true);
	char err[512];
	assert_int_equal(wal_reset(w, 500, 3, err, sizeof err), 0);
	for (uint64_t i = 501; i <= 560; i += 10)
		tw_write_entries(w, i, 10, 3, true);
	wal_compact_result res;
	size_t before = tw_count_segments(d->wal);
	assert_int_equal(wal_compact(w, 500, &res, err, sizeof err), 0);
	assert_true(res.segments_dropped > 0);
	assert_int_equal(tw_count_segments(d->wal), before - res.segments_dropped);
	wal_close(w);
	wal_recovered rec;
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(rec.snap_index, 500);
	assert_int_equal(rec.snap_term, 3);
	assert_int_equal(rec.hs.term, 3);
	assert_int_equal(rec.hs.vote, 2);
	check_log(&rec, 501, 560, 3);
	/* Skipping to the snapshot itself leaves the log as it is. */
	assert_int_equal(wal_recovered_skip_to(&rec, 500, 3, err, sizeof err), 0);
	assert_int_equal(rec.n_entries, 60);
	wal_recovered_free(&rec);

	/* The runtime's way: the reset heads a batch, the entries after the
	 * snapshot follow in it, one write, one fsync. Entries that do not
	 * continue from the snapshot point are refused. */
	wal_batch *b = wal_batch_new();
	assert_int_equal(wal_batch_add_reset(b, 900, 4), 0);
	char data[64];
	raft_entry e[3];
	for (int k = 0; k < 3; k++) {
		e[k] = (raft_entry){.index = 901 + (uint64_t)k, .term = 4, .type = RAFT_ENTRY_NORMAL};
		e[k].len = (uint32_t)tw_data(e[k].index, 4, data, sizeof data);
		e[k].data = malloc(e[k].len);
		memcpy(e[k].data, data, e[k].len);
	}
	raft_entry gap = e[1];
	assert_int_equal(wal_batch_add_entries(b, &gap, 1), -1); /* 902 right after 900 */
	assert_int_equal(wal_batch_add_entries(b, e, 3), 0);
	wal_batch *big = wal_batch_new();
	assert_int_equal(wal_batch_append(big, b), 0); /* the writer's group commit */
	assert_int_equal(wal_write(w, big, true, err, sizeof err), 0);
	for (int k = 0; k < 3; k++)
		free(e[k].data);
	wal_batch_free(b);
	wal_batch_free(big);
	wal_close(w);
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(rec.snap_index, 900);
	assert_int_equal(rec.snap_term, 4);
	check_log(&rec, 901, 903, 4);
	wal_recovered_free(&rec);
	wal_close(w);
}

/* A reset torn by a crash (the last record cut short) is cut at replay: the
 * log before it is back, as if the install never happened. */
static void test_torn_reset_leaves_the_old_log(void **state)
{
	tw_dir *d = *state;
	wal *w = fill(d, 30);
	char err[512];
	assert_int_equal(wal_reset(w, 700, 5, err, sizeof err), 0);
	wal_close(w);
	uint64_t last = 0;
	char p[256];
	for (uint64_t s = 1; s < 1000; s++)
		if (tw_file_size(tw_seg_path(d->wal, s, p, sizeof p)) >= 0)
			last = s;
	tw_seg_path(d->wal, last, p, sizeof p);
	tw_truncate(p, tw_file_size(p) - 5);
	wal_recovered rec;
	w = tw_open(d->wal, SEG, &rec);
	assert_true(rec.torn_bytes_cut > 0);
	assert_int_equal(rec.snap_index, 0);
	check_log(&rec, 1, 30, 1);
	wal_recovered_free(&rec);
	wal_close(w);
}

static void test_skip_to_checks_the_log(void **state)
{
	tw_dir *d = *state;
	wal_compact_result res = fill_compact_close(d, 200, 150);
	char err[512];
	wal_recovered rec;
	wal *w = tw_open(d->wal, SEG, &rec);
	/* A snapshot older than the log's start: the entries between are gone. */
	assert_int_equal(wal_recovered_skip_to(&rec, res.base_index - 1, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "missing"));
	/* Another term at the snapshot index: the snapshot is not of this log. */
	assert_int_equal(wal_recovered_skip_to(&rec, 190, 7, err, sizeof err), -1);
	assert_non_null(strstr(err, "term"));
	/* Ahead of the log: nothing of it is needed. */
	assert_int_equal(wal_recovered_skip_to(&rec, 250, 2, err, sizeof err), 0);
	assert_int_equal(rec.n_entries, 0);
	assert_int_equal(rec.snap_index, 250);
	wal_recovered_free(&rec);
	wal_close(w);
}

/* After a crash between a received snapshot becoming durable and its RESET
 * record: the log holds the snapshot's entry (kept, as skip_to), ends
 * before it, or holds another term there (a conflicting log): the last two
 * reset the WAL to the snapshot at once, and the next open starts there. */
static void test_fit_snapshot(void **state)
{
	tw_dir *d = *state;
	wal *w = fill(d, 100);
	wal_recovered rec;
	char err[512];
	bool reset = true;
	wal_close(w);
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(wal_fit_snapshot(w, &rec, 60, 1, &reset, err, sizeof err), 0);
	assert_false(reset);
	assert_int_equal(rec.snap_index, 60);
	check_log(&rec, 61, 100, 1);
	wal_recovered_free(&rec);
	wal_close(w);
	/* another term at the snapshot's index: the log after it conflicts */
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(wal_fit_snapshot(w, &rec, 80, 3, &reset, err, sizeof err), 0);
	assert_true(reset);
	assert_int_equal(rec.snap_index, 80);
	assert_int_equal(rec.snap_term, 3);
	assert_int_equal(rec.n_entries, 0);
	tw_write_entries(w, 81, 5, 3, true);
	wal_recovered_free(&rec);
	wal_close(w);
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(rec.snap_index, 80);
	check_log(&rec, 81, 85, 3);
	/* ahead of the log */
	assert_int_equal(wal_fit_snapshot(w, &rec, 120, 4, &reset, err, sizeof err), 0);
	assert_true(reset);
	wal_recovered_free(&rec);
	tw_write_entries(w, 121, 2, 4, true);
	wal_close(w);
	w = tw_open(d->wal, SEG, &rec);
	assert_int_equal(rec.snap_index, 120);
	check_log(&rec, 121, 122, 4);
	wal_recovered_free(&rec);
	wal_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compact_moves_first_index, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_compact_keeps_current_and_unsynced, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_compaction_is_finished_at_open, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_across_the_base, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_or_inconsistent_base_refuses, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_reset_to_snapshot_point, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_torn_reset_leaves_the_old_log, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_skip_to_checks_the_log, tw_setup, tw_teardown),
		cmocka_unit_test_setup_teardown(test_fit_snapshot, tw_setup, tw_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
