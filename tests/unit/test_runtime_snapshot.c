/*
 * test_runtime_snapshot.c — the runtime's snapshots (node/runtime/
 * rt_snapshot.c) on a fixture host with a real WAL and real snapshot files:
 * a one-voter cluster, so the test decides when writes, snapshot writes and
 * compactions finish.
 *
 *   - automatic snapshots follow the policy; the core's log is compacted
 *     behind the trailing margin (entries, and bytes for large entries),
 *     the WAL behind the previous snapshot too;
 *   - a restart loads the newest snapshot plus the log after it: the same
 *     KV map, dedup record and configuration (a learner added through the
 *     log is still there);
 *   - POST /admin/snapshot's request: answered with the index once durable,
 *     at once when nothing new was applied;
 *   - a damaged newest file: the older one plus the log (and it is set
 *     aside); a damaged file the log cannot replace: refused, naming it;
 *   - a failed snapshot write changes nothing.
 */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../node/kv/kv_dedup.h"
#include "../../node/kv/kv_store.h"
#include "../../node/runtime/rt.h"
#include "../../node/wal/wal_compact.h"

typedef struct fixture {
	char root[64], waldir[96], snapdir[96];
	wal *w;
	rt *r;
	uint64_t now;
	bool write_in_flight, write_sync;
	bool snap_pending, compact_pending;
	int snap_rc;
	uint64_t snap_bytes;
	bool fail_next_write;
	uint64_t compact_upto, compact_snap;
	int on_snapshot_calls;
	uint64_t on_snapshot_seq, on_snapshot_index;
	bool on_snapshot_ok;
	int outcomes;
} fixture;

static fixture fx;

static void io_write(void *ud, wal_batch *b, size_t n, bool sync)
{
	(void)n;
	fixture *f = ud;
	char err[200];
	int rc = wal_write(f->w, b, sync, err, sizeof err);
	wal_batch_free(b);
	assert_int_equal(rc, 0);
	f->write_in_flight = true;
	f->write_sync = sync;
}

static void io_send(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	(void)ud;
	(void)to;
	(void)len;
	free(frame);
}

static int io_defer(void *ud, uint32_t ms, rt_deferred *d)
{
	(void)ud;
	(void)ms;
	(void)d;
	return -1;
}

static uint64_t io_now(void *ud)
{
	return ((fixture *)ud)->now;
}

static void io_outcome(void *ud, const rt_outcome *o)
{
	(void)o;
	((fixture *)ud)->outcomes++;
}

static void io_kick(void *ud)
{
	(void)ud;
}

static void io_fatal(void *ud, const char *what)
{
	(void)ud;
	fail_msg("runtime fatal: %s", what);
}

static int io_snapshot_write(void *ud, const kv_machine *m, const kv_snap_meta *meta)
{
	fixture *f = ud;
	assert_false(f->snap_pending);
	char err[300];
	if (f->fail_next_write) {
		f->fail_next_write = false;
		f->snap_rc = -1;
	} else {
		f->snap_rc = snapshot_save(f->snapdir, m, meta, &f->snap_bytes, err, sizeof err);
		assert_int_equal(f->snap_rc, 0);
	}
	f->snap_pending = true; /* reported later, never from inside */
	return 0;
}

static void io_compact(void *ud, uint64_t upto, uint64_t snap_index)
{
	fixture *f = ud;
	f->compact_upto = upto;
	f->compact_snap = snap_index;
	char err[300];
	wal_compact_result res;
	if (upto > 0)
		assert_int_equal(wal_compact(f->w, upto, &res, err, sizeof err), 0);
	assert_int_equal(snapshot_prune(f->snapdir, SNAPSHOT_KEEP, err, sizeof err), 0);
	f->compact_pending = true;
}

static void io_on_snapshot(void *ud, uint64_t seq, bool ok, uint64_t index, const char *err)
{
	(void)err;
	fixture *f = ud;
	f->on_snapshot_calls++;
	f->on_snapshot_seq = seq;
	f->on_snapshot_ok = ok;
	f->on_snapshot_index = index;
}

static const snapshot_policy default_policy = {.every_entries = 10, .every_bytes = 0, .trailing_entries = 4};
static snapshot_policy policy; /* default_policy, set by setup; a test may change it */

/* Opens the WAL and the runtime from the data dir (a boot). rc of
 * rt_snapshot_boot; err gets its line. */
static int boot(snapshot_loaded *sl, char *err, size_t errlen)
{
	wal_recovered rec;
	memset(&rec, 0, sizeof rec);
	wal_options wo = {.segment_bytes = 1024};
	char why[200];
	assert_int_equal(wal_open(fx.waldir, &wo, &fx.w, &rec, why, sizeof why), 0);
	static const uint32_t voters[] = {1};
	raft_config c;
	raft_config_defaults(&c);
	c.id = 1;
	c.voters = voters;
	c.n_voters = 1;
	c.seed = 7;
	rt_options o = {.nonce = fx.now, .request_timeout_ms = 5000, .snap = policy};
	rt_io io = {
		.ud = &fx, .write = io_write, .send = io_send, .defer = io_defer, .now_ms = io_now,
		.outcome = io_outcome, .kick = io_kick, .fatal = io_fatal,
		.snapshot_write = io_snapshot_write, .compact = io_compact, .on_snapshot = io_on_snapshot,
	};
	fx.r = rt_new(&c, &o, &io);
	assert_non_null(fx.r);
	snapshot_loaded local;
	int rc = rt_snapshot_boot(fx.r, fx.snapdir, fx.w, &rec, sl ? sl : &local, err, errlen);
	if (rc == 0)
		assert_int_equal(rt_load(fx.r, &rec), RAFT_OK);
	wal_recovered_free(&rec);
	return rc;
}

static void shutdown_node(void)
{
	rt_free(fx.r);
	wal_close(fx.w);
	fx.r = NULL;
	fx.w = NULL;
	fx.write_in_flight = fx.snap_pending = fx.compact_pending = false;
}

/* Runs the ready step, finishing every WAL write, snapshot write and
 * compaction the runtime starts. */
static void settle(void)
{
	for (int i = 0; i < 30; i++) {
		rt_process(fx.r);
		if (fx.write_in_flight) {
			fx.write_in_flight = false;
			rt_write_done(fx.r, 0, NULL);
		}
		if (fx.snap_pending) {
			fx.snap_pending = false;
			rt_snapshot_written(fx.r, fx.snap_rc, fx.snap_bytes, fx.snap_rc ? "injected" : NULL);
		}
		if (fx.compact_pending) {
			fx.compact_pending = false;
			rt_snapshot_compacted(fx.r);
		}
	}
}

static void become_leader(void)
{
	for (int i = 0; i < 40; i++) {
		rt_tick(fx.r);
		settle();
	}
	raft_status st;
	raft_get_status(rt_raft(fx.r), &st);
	assert_int_equal(st.role, RAFT_LEADER);
}

static void put(const char *key, const char *value)
{
	kv_command c;
	memset(&c, 0, sizeof c);
	c.op = KV_OP_PUT;
	c.key.p = (const uint8_t *)key;
	c.key.len = (uint32_t)strlen(key);
	c.value.p = (const uint8_t *)value;
	c.value.len = (uint32_t)strlen(value);
	rt_propose(fx.r, &c, RT_KIND_WRITE, key, strlen(key), NULL, 0, false);
	settle();
}

static void put_n(int from, int n)
{
	for (int i = from; i < from + n; i++) {
		char k[16], v[16];
		snprintf(k, sizeof k, "k%d", i % 7);
		snprintf(v, sizeof v, "v%d", i);
		put(k, v);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	policy = default_policy;
	fx.now = 1000;
	snprintf(fx.root, sizeof fx.root, "/tmp/rt-snap-XXXXXX");
	if (mkdtemp(fx.root) == NULL)
		return -1;
	snprintf(fx.waldir, sizeof fx.waldir, "%s/wal", fx.root);
	snprintf(fx.snapdir, sizeof fx.snapdir, "%s/snapshots", fx.root);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (fx.r != NULL)
		shutdown_node();
	nftw(fx.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static size_t count_files(const char *suffix)
{
	snapshot_file *files;
	size_t n;
	char err[200];
	assert_int_equal(snapshot_list(fx.snapdir, &files, &n, err, sizeof err), 0);
	free(files);
	if (suffix == NULL)
		return n;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "ls %s | grep -c '%s$' > /dev/null", fx.snapdir, suffix);
	return system(cmd) == 0 ? 1 : 0;
}

static void get(const char *key, char *out, size_t n)
{
	const uint8_t *v;
	size_t len;
	if (!kv_store_get(rt_kv(fx.r)->store, (const uint8_t *)key, strlen(key), &v, &len)) {
		snprintf(out, n, "(absent)");
		return;
	}
	snprintf(out, n, "%.*s", (int)len, (const char *)v);
}

static void test_automatic_snapshots_compact_behind_the_margin(void **state)
{
	(void)state;
	assert_int_equal(boot(NULL, NULL, 0), 0);
	become_leader();
	put_n(0, 35);
	const rt_stats *st = rt_get_stats(fx.r);
	assert_true(st->snapshots_written >= 3);
	uint64_t si = rt_snapshot_index(fx.r);
	assert_true(si >= 30);
	assert_true(si <= rt_applied(fx.r));
	raft_status rs;
	raft_get_status(rt_raft(fx.r), &rs);
	/* the core's log starts right after snapshot - margin */
	assert_int_equal(rs.first_index, si - policy.trailing_entries + 1);
	/* the WAL was compacted no further than the previous snapshot */
	assert_true(fx.compact_upto <= si - 10);
	assert_true(fx.compact_upto > 0);
	assert_int_equal(count_files(NULL), SNAPSHOT_KEEP);
	assert_int_equal(st->snapshot_compact_refused, 0);
	shutdown_node();
}

/* Large entries: the margin is bounded by bytes too. With only the entry
 * count (1000 here, 10000 on the node) nothing of a 1 MiB-entry workload
 * was ever compacted from memory (issue 15.4: RSS grew by every committed
 * byte under the flood). */
static void test_trailing_margin_bounded_by_bytes(void **state)
{
	(void)state;
	policy = (snapshot_policy){.every_entries = 0, .every_bytes = 8000, .trailing_entries = 1000,
				   .trailing_bytes = 3000};
	assert_int_equal(boot(NULL, NULL, 0), 0);
	become_leader();
	char big[1001];
	memset(big, 'x', 1000);
	big[1000] = '\0';
	for (int i = 0; i < 30; i++) {
		char k[16];
		snprintf(k, sizeof k, "big%d", i % 5);
		put(k, big);
	}
	uint64_t si = rt_snapshot_index(fx.r);
	assert_true(si >= 20);
	raft_status rs;
	raft_get_status(rt_raft(fx.r), &rs);
	/* entries of ~1040 bytes: two fit in 3000 bytes, a third does not */
	assert_int_equal(rs.first_index, si - 1);
	/* the query on what is left: one entry fits in 1500 bytes; all of
	 * them in 1 MiB (nothing to compact: 0) */
	assert_int_equal(raft_compact_keeping_bytes(rt_raft(fx.r), si, 1500), si - 1);
	assert_int_equal(raft_compact_keeping_bytes(rt_raft(fx.r), si, 1 << 20), 0);
	/* what /metrics reports as raftkv_log_bytes: the entries after the
	 * compaction point, whole */
	uint64_t held = raft_log_bytes(rt_raft(fx.r));
	assert_true(held > 2000 && held <= 3000 + (rs.last_index - si) * 1100);
	/* the WAL still keeps everything after the previous snapshot */
	assert_true(fx.compact_upto <= si - 7);
	assert_int_equal(rt_get_stats(fx.r)->snapshot_compact_refused, 0);
	shutdown_node();
}

static void test_restart_restores_state_dedup_and_configuration(void **state)
{
	(void)state;
	assert_int_equal(boot(NULL, NULL, 0), 0);
	become_leader();
	raft_conf_change cc = {.op = RAFT_CONF_ADD_LEARNER, .id = 9, .incarnation = 77, .addr = "x:1"};
	uint64_t ci = 0;
	assert_int_equal(raft_propose_conf(rt_raft(fx.r), &cc, &ci), RAFT_OK);
	settle();
	put_n(0, 27);
	uint64_t applied = rt_applied(fx.r), si = rt_snapshot_index(fx.r);
	assert_true(si > ci);
	char before[7][32];
	for (int i = 0; i < 7; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		get(k, before[i], sizeof before[i]);
	}
	size_t windows = kv_dedup_window_count(rt_kv(fx.r)->dedup);
	assert_true(windows >= 1);
	shutdown_node();

	fx.now += 1; /* another boot nonce */
	snapshot_loaded sl;
	char err[600];
	assert_int_equal(boot(&sl, err, sizeof err), 0);
	assert_true(sl.found);
	assert_int_equal(sl.meta.index, si);
	assert_true(sl.meta.conf_len > 0);
	assert_int_equal(rt_snapshot_index(fx.r), si);
	/* the dedup record came back with the snapshot */
	assert_int_equal(kv_dedup_window_count(rt_kv(fx.r)->dedup), windows);
	/* the learner added through the log (before the snapshot) is still a member */
	bool found = false;
	uint32_t id;
	bool voter;
	uint64_t inc;
	const char *addr;
	for (size_t i = 0; raft_member(rt_raft(fx.r), i, &id, &voter, &inc, &addr); i++)
		if (id == 9) {
			found = true;
			assert_false(voter);
			assert_int_equal(inc, 77);
			assert_string_equal(addr, "x:1");
		}
	assert_true(found);
	become_leader();
	assert_true(rt_applied(fx.r) >= applied);
	for (int i = 0; i < 7; i++) {
		char k[16], now[32];
		snprintf(k, sizeof k, "k%d", i);
		get(k, now, sizeof now);
		assert_string_equal(now, before[i]);
	}
	shutdown_node();
}

static void test_request_answers_once_durable(void **state)
{
	(void)state;
	assert_int_equal(boot(NULL, NULL, 0), 0);
	become_leader();
	put_n(0, 3); /* below the policy's 10 */
	assert_int_equal(rt_snapshot_index(fx.r), 0);
	uint64_t idx = 99;
	uint64_t seq = rt_snapshot_request(fx.r, &idx);
	assert_true(seq > 0 && seq != UINT64_MAX);
	rt_process(fx.r); /* starts the write */
	assert_true(fx.snap_pending);
	assert_int_equal(fx.on_snapshot_calls, 0); /* not durable yet */
	settle();
	assert_int_equal(fx.on_snapshot_calls, 1);
	assert_int_equal(fx.on_snapshot_seq, seq);
	assert_true(fx.on_snapshot_ok);
	assert_int_equal(fx.on_snapshot_index, rt_applied(fx.r));
	/* nothing new applied: answered at once with the same index */
	assert_int_equal(rt_snapshot_request(fx.r, &idx), 0);
	assert_int_equal(idx, fx.on_snapshot_index);
	shutdown_node();
}

static void test_failed_write_changes_nothing(void **state)
{
	(void)state;
	assert_int_equal(boot(NULL, NULL, 0), 0);
	become_leader();
	put_n(0, 3);
	uint64_t idx;
	uint64_t seq = rt_snapshot_request(fx.r, &idx);
	fx.fail_next_write = true;
	settle();
	assert_int_equal(fx.on_snapshot_calls, 1);
	assert_int_equal(fx.on_snapshot_seq, seq);
	assert_false(fx.on_snapshot_ok);
	assert_int_equal(rt_snapshot_index(fx.r), 0);
	assert_int_equal(rt_get_stats(fx.r)->snapshots_failed, 1);
	raft_status rs;
	raft_get_status(rt_raft(fx.r), &rs);
	assert_int_equal(rs.first_index, 1); /* nothing compacted */
	shutdown_node();
}

static void flip_newest(void)
{
	snapshot_file *files;
	size_t n;
	char err[200];
	assert_int_equal(snapshot_list(fx.snapdir, &files, &n, err, sizeof err), 0);
	assert_true(n >= 1);
	char path[300];
	snprintf(path, sizeof path, "%s/%s", fx.snapdir, files[0].name);
	free(files);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, 100), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, 100), 1);
	close(fd);
}

static void test_damaged_newest_falls_back_to_the_older_one(void **state)
{
	(void)state;
	assert_int_equal(boot(NULL, NULL, 0), 0);
	become_leader();
	put_n(0, 45);
	uint64_t si = rt_snapshot_index(fx.r), applied = rt_applied(fx.r);
	char before[32];
	get("k3", before, sizeof before);
	shutdown_node();
	flip_newest();
	snapshot_loaded sl;
	char err[600];
	fx.now++;
	assert_int_equal(boot(&sl, err, sizeof err), 0);
	assert_true(sl.found);
	assert_true(sl.meta.index < si);
	assert_int_equal(sl.skipped, 1);
	assert_non_null(strstr(sl.skipped_why, "checksum"));
	assert_int_equal(count_files(".damaged"), 1); /* set aside */
	become_leader();
	assert_true(rt_applied(fx.r) >= applied); /* the log covered the gap */
	char now[32];
	get("k3", now, sizeof now);
	assert_string_equal(now, before);
	shutdown_node();
}

static void test_damaged_and_no_cover_refuses_naming_the_file(void **state)
{
	(void)state;
	assert_int_equal(boot(NULL, NULL, 0), 0);
	become_leader();
	put_n(0, 45);
	shutdown_node();
	/* both snapshots damaged: the WAL starts after the older one */
	flip_newest();
	snapshot_file *files;
	size_t n;
	char err[600];
	assert_int_equal(snapshot_list(fx.snapdir, &files, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	char path[300];
	snprintf(path, sizeof path, "%s/%s", fx.snapdir, files[1].name);
	char first[300];
	snprintf(first, sizeof first, "%s/%s", fx.snapdir, files[0].name);
	free(files);
	assert_int_equal(truncate(path, 80), 0);
	snapshot_loaded sl;
	fx.now++;
	assert_int_equal(boot(&sl, err, sizeof err), -1);
	assert_non_null(strstr(err, first));
	assert_non_null(strstr(err, "refusing to start"));
	assert_null(strchr(err, '\n'));
	rt_free(fx.r);
	wal_close(fx.w);
	fx.r = NULL;
	fx.w = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_automatic_snapshots_compact_behind_the_margin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_margin_bounded_by_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_restores_state_dedup_and_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_answers_once_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_newest_falls_back_to_the_older_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_and_no_cover_refuses_naming_the_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
