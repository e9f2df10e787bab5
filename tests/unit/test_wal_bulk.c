/*
 * test_wal_bulk.c — large batches round-trip intact: many thousands of
 * entries encoded, written with group commit (one fsync per batch) and
 * replayed. The rates are printed for information only; speed is judged by
 * `make bench`, never by a timed unit test, so nothing here asserts a rate.
 */
#include <time.h>

#include "test_wal_util.h"


static double now_s(void)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_encode_rate(void **state)
{
	(void)state;
	enum { N = 200000, PER_BATCH = 500, LEN = 100 };
	uint8_t data[LEN];
	memset(data, 'x', sizeof(data));
	raft_entry e[PER_BATCH];
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	double t0 = now_s();
	for (uint64_t i = 1; i <= N; i += PER_BATCH) {
		for (int k = 0; k < PER_BATCH; k++)
			e[k] = (raft_entry){ .term = 1, .index = i + (uint64_t)k, .len = LEN, .data = data };
		wal_batch_clear(b);
		assert_int_equal(wal_batch_add_entries(b, e, PER_BATCH), 0);
	}
	double dt = now_s() - t0;
	wal_batch_free(b);
	double rate = N / dt;
	print_message("encode: %.0f entries/s (%.0f MB/s)\n", rate, rate * LEN / 1e6);
}

static void test_fsynced_write_rate(void **state)
{
	(void)state;
	enum { N = 60000, PER_BATCH = 250, LEN = 100 };
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 4 << 20, &rec); /* small segments: rolls are measured too */
	wal_recovered_free(&rec);
	uint8_t data[LEN];
	memset(data, 'y', sizeof(data));
	raft_entry e[PER_BATCH];
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	char err[256];
	double t0 = now_s();
	for (uint64_t i = 1; i <= N; i += PER_BATCH) {
		for (int k = 0; k < PER_BATCH; k++)
			e[k] = (raft_entry){ .term = 1, .index = i + (uint64_t)k, .len = LEN, .data = data };
		wal_batch_clear(b);
		assert_int_equal(wal_batch_add_entries(b, e, PER_BATCH), 0);
		raft_hard_state hs = { .term = 1, .vote = 0, .commit = i };
		assert_int_equal(wal_batch_add_hard_state(b, &hs), 0);
		assert_int_equal(wal_write(w, b, true, err, sizeof(err)), 0);
	}
	double dt = now_s() - t0;
	wal_batch_free(b);
	wal_close(w);
	double rate = N / dt;
	print_message("write+fsync: %.0f entries/s, %.2f ms per batch of %d\n", rate,
		      dt * 1000 / (N / PER_BATCH), PER_BATCH);

	t0 = now_s();
	w = tw_open(d.wal, 4 << 20, &rec);
	dt = now_s() - t0;
	assert_int_equal(rec.n_entries, N);
	print_message("replay: %.0f entries/s\n", N / dt);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
	(void)rate;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_rate),
		cmocka_unit_test(test_fsynced_write_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
