/*
 * test_wal_torn.c — what wal_open syncs, and a torn-tail rule that client
 * data cannot fool (issue 10, item 6).
 *
 * - Open fsyncs every segment, not only the last one: a previous process may
 *   have died with dirty pages in any segment written with fsync off, and
 *   wal_drop_unsynced must only ever cut this process's own writes.
 * - A write torn inside a record whose payload carries a client value shaped
 *   like a valid record (header, type, checksum and all) is still a torn
 *   tail: the node must start. Damage in the middle is still refused.
 *
 * fdatasync is wrapped here (this definition wins over libc's at link time
 * for the statically linked WAL library) to record which files were synced.
 */
#include "test_wal_util.h"

#include <limits.h>
#include <sys/syscall.h>

#include "../../node/wal/wal_int.h"

static bool g_record_syncs;
static char g_synced[32][PATH_MAX];
static size_t g_n_synced;

int fdatasync(int fd)
{
	if (g_record_syncs && g_n_synced < 32) {
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, g_synced[g_n_synced], PATH_MAX - 1);
		if (n > 0) {
			g_synced[g_n_synced][n] = '\0';
			g_n_synced++;
		}
	}
	return (int)syscall(SYS_fdatasync, fd);
}

static bool was_synced(const char *path)
{
	char real[PATH_MAX];
	if (realpath(path, real) == NULL)
		return false;
	for (size_t i = 0; i < g_n_synced; i++)
		if (strcmp(g_synced[i], real) == 0)
			return true;
	return false;
}

/* Three segments written without fsync, as with disk {"fsync":false}; the
 * next open must fsync every one of them. NULL, or what went wrong. */
static const char *check_open_syncs_every_segment(char *msg, size_t cap)
{
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 1024, &rec);
	wal_recovered_free(&rec);
	for (uint64_t i = 1; i <= 200; i += 10)
		tw_write_entries(w, i, 10, 1, false);
	wal_close(w);
	size_t n = tw_count_segments(d.wal);
	assert_true(n >= 3);
	g_n_synced = 0;
	g_record_syncs = true;
	w = tw_open(d.wal, 1024, &rec);
	g_record_syncs = false;
	assert_int_equal(rec.n_entries, 200);
	const char *bad = NULL;
	for (uint64_t s = 1; s <= n && bad == NULL; s++) {
		char p[256];
		tw_seg_path(d.wal, s, p, sizeof p);
		if (!was_synced(p)) {
			snprintf(msg, cap, "wal_open did not fsync segment %llu of %zu (%s)",
				 (unsigned long long)s, n, p);
			bad = msg;
		}
	}
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
	return bad;
}

static void test_open_syncs_every_segment(void **state)
{
	(void)state;
	char msg[512];
	const char *bad = check_open_syncs_every_segment(msg, sizeof msg);
	if (bad)
		fail_msg("%s", bad);
}

/* An entry whose data is a whole valid record (a hard state claiming term
 * 99, and an entries record), followed by more data. */
static size_t record_shaped_value(uint8_t *buf, size_t cap)
{
	assert_true(cap >= 200);
	memset(buf, 'x', cap);
	raft_hard_state hs = { .term = 99, .vote = 2, .commit = 7 };
	wal_record_hard_state(buf + 5, &hs);
	size_t at = 5 + WAL_REC_HDR + WAL_HS_PAYLOAD;
	/* an ENTRIES record of one entry, index 4, term 99, data "evil" */
	uint8_t *p = buf + at + WAL_REC_HDR;
	wal_put64(p, 4);
	wal_put32(p + 8, 1);
	wal_put64(p + 12, 99);
	p[20] = RAFT_ENTRY_NORMAL;
	wal_put32(p + 21, 4);
	memcpy(p + 25, "evil", 4);
	wal_record_seal(buf + at, WAL_REC_ENTRIES, 29);
	return 200;
}

/* Entries 1..3 synced; entry 4 carries the record-shaped value, and the
 * write of its batch is torn inside that value: after the embedded records
 * (variant 0), right at their end (1), or after the first of them (2). Open
 * must cut the torn batch and keep 1..3. NULL, or what went wrong. */
static const char *check_record_shaped_torn(int variant, char *msg, size_t cap)
{
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	wal_recovered_free(&rec);
	tw_write_entries(w, 1, 3, 1, true);
	char p[256];
	tw_seg_path(d.wal, 1, p, sizeof p);
	int64_t before = tw_file_size(p);
	uint8_t val[200];
	raft_entry e = { .index = 4, .term = 1, .type = RAFT_ENTRY_NORMAL };
	e.len = (uint32_t)record_shaped_value(val, sizeof val);
	e.data = val;
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	assert_int_equal(wal_batch_add_entries(b, &e, 1), 0);
	raft_hard_state hs = { .term = 1, .vote = 1, .commit = 4 };
	assert_int_equal(wal_batch_add_hard_state(b, &hs), 0);
	char err[256];
	assert_int_equal(wal_write(w, b, true, err, sizeof err), 0);
	wal_batch_free(b);
	wal_close(w);
	/* the value starts after the record header (12), the entries header
	 * (12) and the entry header (13); its embedded records end at
	 * 5 + 32 + 41 = 78 bytes into it */
	int64_t value_at = before + 12 + 12 + 13;
	int64_t cut = variant == 0 ? value_at + 78 + 10 : variant == 1 ? value_at + 78
								     : value_at + 37 + 20;
	tw_truncate(p, cut);
	w = NULL;
	if (wal_open(d.wal, NULL, &w, &rec, err, sizeof err) != 0) {
		snprintf(msg, cap, "variant %d: a torn node refused to start: %s", variant, err);
		tw_dir_remove(&d);
		return msg;
	}
	assert_int_equal(rec.n_entries, 3);
	for (size_t i = 0; i < 3; i++)
		tw_check_entry(&rec.entries[i], i + 1, 1);
	assert_int_equal(rec.hs.term, 0); /* not the fake hard state's 99 */
	assert_int_equal(rec.torn_bytes_cut, cut - before);
	assert_int_equal(tw_file_size(p), before);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
	return NULL;
}

static void test_record_shaped_value_in_torn_tail(void **state)
{
	(void)state;
	char msg[512];
	for (int variant = 0; variant < 3; variant++) {
		const char *bad = check_record_shaped_torn(variant, msg, sizeof msg);
		if (bad)
			fail_msg("%s", bad);
	}
}

/* The record-shaped value in a record that was written whole: nothing is
 * cut and the value comes back as data. */
static void test_record_shaped_value_whole(void **state)
{
	(void)state;
	tw_dir d;
	tw_dir_make(&d);
	wal_recovered rec;
	wal *w = tw_open(d.wal, 0, &rec);
	wal_recovered_free(&rec);
	uint8_t val[200];
	raft_entry e = { .index = 1, .term = 1, .type = RAFT_ENTRY_NORMAL };
	e.len = (uint32_t)record_shaped_value(val, sizeof val);
	e.data = val;
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	assert_int_equal(wal_batch_add_entries(b, &e, 1), 0);
	char err[256];
	assert_int_equal(wal_write(w, b, true, err, sizeof err), 0);
	wal_batch_free(b);
	wal_close(w);
	w = tw_open(d.wal, 0, &rec);
	assert_int_equal(rec.n_entries, 1);
	assert_int_equal(rec.entries[0].len, sizeof val);
	assert_memory_equal(rec.entries[0].data, val, sizeof val);
	assert_int_equal(rec.torn_bytes_cut, 0);
	wal_close(w);
	wal_recovered_free(&rec);
	tw_dir_remove(&d);
}

/* Four synced batches of entries; off[k] = file size after k of them. */
static void write_four(const char *dir, int64_t off[5])
{
	wal_recovered rec;
	wal *w = tw_open(dir, 0, &rec);
	wal_recovered_free(&rec);
	char p[256];
	tw_seg_path(dir, 1, p, sizeof p);
	off[0] = tw_file_size(p);
	for (int k = 1; k <= 4; k++) {
		tw_write_entries(w, (uint64_t)(k - 1) * 5 + 1, 5, 1, true);
		off[k] = tw_file_size(p);
	}
	wal_close(w);
}

static void expect_refused(const char *dir, const char *what)
{
	tw_open_refused(dir, 0, what, "middle of the log", "refusing to start");
}

/* Real damage to the second record (of four) is still refused, whatever
 * field it hits: payload, checksum, type, reserved bytes, a length made
 * smaller, larger or huge by one flipped bit, or a zeroed header. */
static void test_middle_damage_still_refused(void **state)
{
	(void)state;
	static const struct {
		int at;       /* offset into the record; -1 = zero its header */
		uint8_t mask;
		const char *what;
	} cases[] = {
		{ 40, 0x04, "payload bit" },
		{ 5, 0x01, "checksum bit" },
		{ 8, 0x02, "type bit" },
		{ 10, 0x20, "reserved bit" },
		{ 0, 0x04, "length bit (shorter or longer)" },
		{ 1, 0x01, "length bit (+256)" },
		{ 2, 0x10, "length bit (+1 MiB: past the end of the file)" },
		{ 3, 0x40, "length bit (past the size limit)" },
		{ -1, 0, "zeroed header" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tw_dir d;
		tw_dir_make(&d);
		int64_t off[5];
		write_four(d.wal, off);
		char p[256];
		tw_seg_path(d.wal, 1, p, sizeof p);
		if (cases[i].at >= 0) {
			tw_xor_byte(p, off[1] + cases[i].at, cases[i].mask);
		} else {
			int fd = open(p, O_WRONLY);
			assert_true(fd >= 0);
			uint8_t z[12] = { 0 };
			assert_int_equal(pwrite(fd, z, sizeof z, off[1]), (ssize_t)sizeof z);
			assert_int_equal(close(fd), 0);
		}
		expect_refused(d.wal, cases[i].what);
		assert_int_equal(tw_file_size(p), off[4]); /* refusing repairs nothing */
		tw_dir_remove(&d);
	}
}

#ifndef WAL_TORN_NO_MAIN
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_syncs_every_segment),
		cmocka_unit_test(test_record_shaped_value_in_torn_tail),
		cmocka_unit_test(test_record_shaped_value_whole),
		cmocka_unit_test(test_middle_damage_still_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
