/*
 * test_snapshot_files.c — snapshot files on disk: a saved snapshot loads
 * back whole; the newest valid one wins; a damaged one (bit flip, truncation,
 * empty, contents that disagree with the name) is never loaded: the loader
 * falls back to an older one when the log still covers the gap and otherwise
 * refuses with a line naming the file; leftovers of an interrupted write are
 * ignored; pruning keeps the newest two.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../node/snapshot/snapshot.h"
#include "../../node/snapshot/snapshot_policy.h"

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

typedef struct fixture {
	char root[64];
	char dir[96];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof f->root, "/tmp/raftkv-snaptest-XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "%s/snapshots", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A machine whose content says which index it was taken at. */
static void machine_at(kv_machine *m, uint64_t index)
{
	assert_int_equal(kv_machine_init(m), 0);
	char k[32], v[32];
	for (uint64_t i = 1; i <= 50; i++) {
		snprintf(k, sizeof k, "k%llu", (unsigned long long)i);
		snprintf(v, sizeof v, "v%llu@%llu", (unsigned long long)i, (unsigned long long)index);
		assert_int_equal(kv_store_put(m->store, (uint8_t *)k, strlen(k), (uint8_t *)v, strlen(v)), 0);
	}
}

static void save_at(const fixture *f, uint64_t index, uint64_t term)
{
	kv_machine m;
	machine_at(&m, index);
	kv_snap_meta meta = {.index = index, .term = term, .n_voters = 3, .voters = {1, 2, 3}};
	char err[300];
	uint64_t bytes = 0;
	if (snapshot_save(f->dir, &m, &meta, &bytes, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(bytes > KV_SNAP_HEADER_BYTES);
	kv_machine_destroy(&m);
}

static uint64_t loaded_index(const kv_machine *m)
{
	const uint8_t *v;
	size_t n;
	assert_true(kv_store_get(m->store, (const uint8_t *)"k1", 2, &v, &n));
	const char *at = strchr((const char *)v, '@');
	assert_non_null(at);
	return strtoull(at + 1, NULL, 10);
}

static size_t count_files(const char *dir)
{
	snapshot_file *files;
	size_t n;
	char err[200];
	assert_int_equal(snapshot_list(dir, &files, &n, err, sizeof err), 0);
	free(files);
	return n;
}

static void damage(const fixture *f, uint64_t index, uint64_t term, int how)
{
	char *p = snapshot_path(f->dir, index, term);
	assert_non_null(p);
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	if (how == 0) { /* one bit, in the middle */
		uint8_t b;
		off_t off = st.st_size / 2;
		assert_int_equal(pread(fd, &b, 1, off), 1);
		b ^= 0x10;
		assert_int_equal(pwrite(fd, &b, 1, off), 1);
	} else if (how == 1) { /* torn: the last bytes missing */
		assert_int_equal(ftruncate(fd, st.st_size - 5), 0);
	} else { /* empty */
		assert_int_equal(ftruncate(fd, 0), 0);
	}
	close(fd);
	free(p);
}

static void test_save_then_load(void **state)
{
	fixture *f = *state;
	save_at(f, 40, 3);
	assert_int_equal(count_files(f->dir), 1);
	kv_machine m;
	snapshot_loaded res;
	char err[600];
	assert_int_equal(snapshot_load(f->dir, 0, &m, &res, err, sizeof err), 0);
	assert_true(res.found);
	assert_int_equal(res.meta.index, 40);
	assert_int_equal(res.meta.term, 3);
	assert_int_equal(res.meta.n_voters, 3);
	assert_int_equal(res.skipped, 0);
	assert_int_equal(loaded_index(&m), 40);
	assert_int_equal(kv_store_count(m.store), 50);
	assert_non_null(strstr(res.path, "snapshot-00000000000000000040-00000000000000000003.snap"));
	kv_machine_destroy(&m);
}

static void test_no_snapshot_dir_is_empty_state(void **state)
{
	fixture *f = *state;
	kv_machine m;
	snapshot_loaded res;
	char err[600];
	assert_int_equal(snapshot_load(f->dir, 0, &m, &res, err, sizeof err), 0);
	assert_false(res.found);
	assert_int_equal(kv_store_count(m.store), 0);
	kv_machine_destroy(&m);
	/* ... but not when the log was compacted: the state is somewhere. */
	assert_int_equal(snapshot_load(f->dir, 10, &m, &res, err, sizeof err), -1);
	assert_non_null(strstr(err, "refusing to start"));
}

static void test_newest_valid_wins_and_prune_keeps_two(void **state)
{
	fixture *f = *state;
	save_at(f, 10, 1);
	save_at(f, 30, 2);
	save_at(f, 20, 2);
	/* A write that never finished, and a file that is not ours. */
	char p[200];
	snprintf(p, sizeof p, "%s/snapshot-00000000000000000099-1234.tmp", f->dir);
	FILE *t = fopen(p, "w");
	assert_non_null(t);
	fputs("partial", t);
	fclose(t);
	snprintf(p, sizeof p, "%s/notes.txt", f->dir);
	t = fopen(p, "w");
	assert_non_null(t);
	fclose(t);

	kv_machine m;
	snapshot_loaded res;
	char err[600];
	assert_int_equal(snapshot_load(f->dir, 0, &m, &res, err, sizeof err), 0);
	assert_int_equal(res.meta.index, 30);
	assert_int_equal(loaded_index(&m), 30);
	kv_machine_destroy(&m);

	assert_int_equal(snapshot_prune(f->dir, SNAPSHOT_KEEP, err, sizeof err), 0);
	snapshot_file *files;
	size_t n;
	assert_int_equal(snapshot_list(f->dir, &files, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(files[0].index, 30);
	assert_int_equal(files[1].index, 20);
	free(files);
	snprintf(p, sizeof p, "%s/snapshot-00000000000000000099-1234.tmp", f->dir);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s/notes.txt", f->dir);
	assert_int_equal(access(p, F_OK), 0); /* not ours: left alone */
}

/* Each kind of damage to the newest file: with the log covering the gap
 * (log_base <= older snapshot) the older one loads and the damage is
 * reported; with the log compacted past the older one, the node refuses and
 * names the damaged file. */
static void test_damaged_newest_falls_back_or_refuses(void **state)
{
	fixture *f = *state;
	for (int how = 0; how < 3; how++) {
		nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		save_at(f, 100, 4);
		save_at(f, 200, 5);
		damage(f, 200, 5, how);

		kv_machine m;
		snapshot_loaded res;
		char err[600];
		assert_int_equal(snapshot_load(f->dir, 100, &m, &res, err, sizeof err), 0);
		assert_true(res.found);
		assert_int_equal(res.meta.index, 100);
		assert_int_equal(loaded_index(&m), 100);
		assert_int_equal(res.skipped, 1);
		assert_non_null(strstr(res.skipped_why, "snapshot-00000000000000000200-00000000000000000005.snap"));
		kv_machine_destroy(&m);

		err[0] = 0;
		assert_int_equal(snapshot_load(f->dir, 150, &m, &res, err, sizeof err), -1);
		assert_non_null(strstr(err, "snapshot-00000000000000000200-00000000000000000005.snap"));
		assert_non_null(strstr(err, "refusing to start"));
		assert_null(strchr(err, '\n'));

		/* Both damaged and the log complete from index 1: start empty,
		 * replaying everything, but say what was skipped. */
		damage(f, 100, 4, how);
		assert_int_equal(snapshot_load(f->dir, 0, &m, &res, err, sizeof err), 0);
		assert_false(res.found);
		assert_int_equal(res.skipped, 2);
		assert_int_equal(kv_store_count(m.store), 0);
		kv_machine_destroy(&m);
	}
}

/* A valid file under the wrong name (a copy, an operator's rename) would
 * restore the wrong state at the wrong index: treated as damaged. */
static void test_contents_must_match_name(void **state)
{
	fixture *f = *state;
	save_at(f, 5, 1);
	save_at(f, 9, 1);
	char *from = snapshot_path(f->dir, 5, 1);
	char *to = snapshot_path(f->dir, 12, 1);
	assert_int_equal(rename(from, to), 0);
	kv_machine m;
	snapshot_loaded res;
	char err[600];
	assert_int_equal(snapshot_load(f->dir, 0, &m, &res, err, sizeof err), 0);
	assert_int_equal(res.meta.index, 9);
	assert_int_equal(res.skipped, 1);
	assert_non_null(strstr(res.skipped_why, "not what its name says"));
	kv_machine_destroy(&m);
	free(from);
	free(to);
}

static void test_save_into_unwritable_dir_fails_cleanly(void **state)
{
	fixture *f = *state;
	kv_machine m;
	machine_at(&m, 1);
	kv_snap_meta meta = {.index = 1, .term = 1, .n_voters = 1, .voters = {1}};
	char err[300];
	char bad[200];
	/* a directory cannot be made inside a regular file */
	snprintf(bad, sizeof bad, "%s/plain", f->root);
	FILE *pf = fopen(bad, "w");
	assert_non_null(pf);
	fclose(pf);
	snprintf(bad, sizeof bad, "%s/plain/snapshots", f->root);
	assert_int_equal(snapshot_save(bad, &m, &meta, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot create"));
	kv_machine_destroy(&m);
}

/* The forked writer: the parent changes its map at once; the file holds
 * the state as of the fork. */
static void test_fork_save_freezes_the_state(void **state)
{
	fixture *f = *state;
	kv_machine m;
	machine_at(&m, 70);
	kv_snap_meta meta = {.index = 70, .term = 2, .n_voters = 1, .voters = {1}};
	int child, fd;
	char err[300];
	assert_int_equal(snapshot_fork_save(f->dir, &m, &meta, &child, &fd, err, sizeof err), 0);
	/* the parent goes on changing its state machine */
	assert_int_equal(kv_store_put(m.store, (const uint8_t *)"k1", 2, (const uint8_t *)"v1@71", 5), 0);
	assert_int_equal(kv_store_put(m.store, (const uint8_t *)"new", 3, (const uint8_t *)"x", 1), 0);
	uint64_t bytes = 0;
	assert_int_equal(snapshot_fork_finish(child, fd, &bytes, err, sizeof err), 0);
	assert_true(bytes > 0);
	kv_machine back;
	snapshot_loaded res;
	char lerr[600];
	assert_int_equal(snapshot_load(f->dir, 0, &back, &res, lerr, sizeof lerr), 0);
	assert_int_equal(res.meta.index, 70);
	assert_int_equal(loaded_index(&back), 70);
	assert_int_equal(kv_store_count(back.store), 50);
	kv_machine_destroy(&back);
	/* a failing child reports its reason */
	char bad[200];
	snprintf(bad, sizeof bad, "%s/plain2", f->root);
	FILE *pf = fopen(bad, "w");
	assert_non_null(pf);
	fclose(pf);
	snprintf(bad, sizeof bad, "%s/plain2/snapshots", f->root);
	assert_int_equal(snapshot_fork_save(bad, &m, &meta, &child, &fd, err, sizeof err), 0);
	assert_int_equal(snapshot_fork_finish(child, fd, &bytes, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot create"));
	kv_machine_destroy(&m);
}

/* The loop's way: the result line read without blocking (the child is
 * reaped afterwards); a failure's reason and a writer that died. */
static void test_fork_result_without_blocking(void **state)
{
	fixture *f = *state;
	kv_machine m;
	machine_at(&m, 80);
	kv_snap_meta meta = {.index = 80, .term = 2, .n_voters = 1, .voters = {1}};
	int child, fd;
	char err[300];
	assert_int_equal(snapshot_fork_save(f->dir, &m, &meta, &child, &fd, err, sizeof err), 0);
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	char line[512];
	size_t have = 0;
	while (snapshot_fork_read(fd, line, sizeof line, &have) == 0)
		usleep(1000);
	uint64_t bytes = 0;
	assert_int_equal(snapshot_fork_verdict(line, have, &bytes, err, sizeof err), 0);
	assert_true(bytes > 0);
	char *p = snapshot_path(f->dir, 80, 2);
	assert_int_equal(access(p, F_OK), 0); /* durable before the line */
	free(p);
	close(fd);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	/* verdicts of other lines */
	assert_int_equal(snapshot_fork_verdict("err no space\n", 13, &bytes, err, sizeof err), -1);
	assert_string_equal(err, "no space");
	assert_int_equal(snapshot_fork_verdict("ok 12", 5, &bytes, err, sizeof err), -1); /* cut */
	assert_non_null(strstr(err, "without a result"));
	assert_int_equal(snapshot_fork_verdict("", 0, &bytes, err, sizeof err), -1);
	kv_machine_destroy(&m);
}

static void test_policy(void **state)
{
	(void)state;
	snapshot_policy p;
	snapshot_policy_defaults(&p);
	assert_false(snapshot_due(&p, 10, 10, 1u << 30)); /* nothing new applied */
	assert_false(snapshot_due(&p, 99999, 0, 0));
	assert_true(snapshot_due(&p, 100000, 0, 0));
	assert_true(snapshot_due(&p, 150000, 50000, 0));
	assert_true(snapshot_due(&p, 11, 10, 64u << 20)); /* bytes alone */
	p.every_entries = 0;
	p.every_bytes = 0;
	assert_false(snapshot_due(&p, 1u << 30, 0, 1u << 30)); /* both off */
	assert_int_equal(snapshot_compact_to(&p, 5000), 0);   /* the margin covers it all */
	assert_int_equal(snapshot_compact_to(&p, 10000), 0);
	assert_int_equal(snapshot_compact_to(&p, 25000), 15000);
	p.trailing_entries = 0;
	assert_int_equal(snapshot_compact_to(&p, 25000), 25000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_save_then_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_snapshot_dir_is_empty_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_valid_wins_and_prune_keeps_two, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_newest_falls_back_or_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contents_must_match_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_into_unwritable_dir_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_result_without_blocking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_save_freezes_the_state, setup, teardown),
		cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
