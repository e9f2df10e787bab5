/*
 * snapshot_bench.c — what writing a snapshot costs a node that keeps serving
 * (`make bench-snapshot`). Figures, not a pass/fail test.
 *
 * A state machine of N keys (default 1,000,000) with V-byte values (default
 * 100) is snapshotted to a file three ways while the "loop" keeps applying
 * writes (overwrites of random keys, as the apply path does):
 *   inline  the loop writes the snapshot itself (stall = the whole write);
 *   copy    the loop deep-copies the map (an immutable view), a thread writes it;
 *   fork    the loop forks, the child writes its copy-on-write view and exits.
 * For each: time until the file is durable, the longest loop stall, and the
 * p99 and max latency of the writes applied meanwhile against a baseline run
 * of the same length without a snapshot.
 *
 * usage: raftkv-snapbench [DIR [KEYS [VALUE_BYTES [WRITES_PER_SECOND]]]]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../node/common/splitmix.h"
#include "../../node/snapshot/snapshot.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t n_keys = 1000000, v_bytes = 100;
static uint64_t rng = 42;

static void key_of(uint64_t i, char *k, size_t *kl)
{
	*kl = (size_t)snprintf(k, 32, "key-%010llu", (unsigned long long)i);
}

/* One apply: overwrite a random key with a same-size value. */
static void one_write(kv_machine *m, uint8_t *val)
{
	char k[32];
	size_t kl;
	key_of(splitmix64_next(&rng) % n_keys, k, &kl);
	val[0] = (uint8_t)splitmix64_next(&rng);
	if (kv_store_put(m->store, (uint8_t *)k, kl, val, v_bytes) != 0) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
}

typedef struct lat {
	double *v;
	size_t n, cap;
	double max_gap; /* longest time the loop did not get to apply */
	double max_gap_at; /* when it ended, ms after the start */
	double start;
	double max_op; /* longest single write */
} lat;

static void lat_init(lat *l)
{
	memset(l, 0, sizeof *l);
	l->cap = 1u << 22;
	l->v = malloc(l->cap * sizeof *l->v);
	if (l->v == NULL)
		exit(1);
	memset(l->v, 0, l->cap * sizeof *l->v); /* touched now, not while measuring */
}

static void lat_add(lat *l, double ms)
{
	if (l->n < l->cap)
		l->v[l->n++] = ms;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double p99(lat *l)
{
	if (l->n == 0)
		return 0;
	qsort(l->v, l->n, sizeof *l->v, cmp_d);
	return l->v[(size_t)((double)(l->n - 1) * 0.99)];
}

/* Applies writes at a fixed rate (a node applies what clients send, not as
 * fast as it can), until done() says stop. Each write's latency is counted
 * from when it was due, so a stalled loop shows up as latency, as it would
 * for a client. */
static double rate = 20000; /* writes per second */
static void serve(kv_machine *m, lat *l, int (*done)(void *), void *ctx, double since)
{
	uint8_t *val = malloc(v_bytes);
	memset(val, 'v', v_bytes);
	double last = since;
	uint64_t applied = 0;
	/* One loop turn per millisecond, like an event loop woken by the
	 * network: it sleeps between turns (so a forked child gets the CPU it
	 * would get next to a real node) and applies what came due. */
	for (uint64_t turn = 0; !done(ctx); turn++) {
		double due_turn = since + (double)turn;
		double t = now_ms();
		if (t < due_turn) {
			struct timespec ts = {0, (long)((due_turn - t) * 1e6)};
			nanosleep(&ts, NULL);
		}
		uint64_t want = (uint64_t)((double)(turn + 1) * rate / 1e3);
		for (; applied < want; applied++) {
			double due = since + (double)applied * 1e3 / rate;
			double t0 = now_ms();
			one_write(m, val);
			double t1 = now_ms();
			if (t1 - t0 > l->max_op)
				l->max_op = t1 - t0;
			lat_add(l, t1 - due);
			if (t1 - last > l->max_gap) {
				l->max_gap = t1 - last;
				l->max_gap_at = t1 - since;
			}
			last = t1;
		}
	}
	free(val);
}

static long minflt(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static double deadline;
static int until_deadline(void *ctx)
{
	(void)ctx;
	return now_ms() >= deadline;
}

typedef struct job {
	const char *dir;
	kv_machine *m;
	kv_snap_meta meta;
	volatile int finished;
	int rc;
	double end_ms;
} job;

static void *thread_save(void *arg)
{
	job *j = arg;
	char err[300];
	j->rc = snapshot_save(j->dir, j->m, &j->meta, NULL, err, sizeof err);
	if (j->rc != 0)
		fprintf(stderr, "%s\n", err);
	j->end_ms = now_ms();
	__atomic_store_n(&j->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int job_done(void *ctx)
{
	return __atomic_load_n(&((job *)ctx)->finished, __ATOMIC_ACQUIRE);
}

static int child, child_fd;
static double child_end;
/* The writer is done when its result pipe becomes readable (EOF or line). */
static int fork_done(void *ctx)
{
	(void)ctx;
	struct pollfd pfd = {.fd = child_fd, .events = POLLIN};
	if (poll(&pfd, 1, 0) == 1) {
		child_end = now_ms();
		return 1;
	}
	return 0;
}

static int clone_key(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	return kv_store_put(ctx, k, kl, v, vl);
}

static void report(const char *name, double durable_ms, double stall_ms, lat *during, double base_p99,
		   double base_max)
{
	double p = p99(during);
	printf("%-7s durable in %7.0f ms   loop stall %7.1f ms   writes meanwhile %8zu   "
	       "p99 %.3f ms (%.2fx baseline)   max gap %.1f ms (baseline %.2f)\n",
	       name, durable_ms, stall_ms, during->n, p, base_p99 > 0 ? p / base_p99 : 0,
	       during->max_gap, base_max);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp/raftkv-snapbench";
	if (argc > 2)
		n_keys = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		v_bytes = strtoull(argv[3], NULL, 10);
	if (argc > 4)
		rate = strtod(argv[4], NULL);
	if (n_keys == 0 || v_bytes == 0 || !(rate > 0))
		return 2;
	kv_machine m;
	if (kv_machine_init(&m) != 0)
		return 1;
	uint8_t *val = malloc(v_bytes);
	memset(val, 'x', v_bytes);
	double t0 = now_ms();
	for (uint64_t i = 0; i < n_keys; i++) {
		char k[32];
		size_t kl;
		key_of(i, k, &kl);
		if (kv_store_put(m.store, (uint8_t *)k, kl, val, v_bytes) != 0)
			return 1;
	}
	free(val);
	printf("state machine: %zu keys x %zu-byte values, filled in %.0f ms; snapshots to %s; "
	       "loop applies %.0f writes/s\n",
	       n_keys, v_bytes, now_ms() - t0, dir, rate);
	kv_snap_meta meta = {.index = 1, .term = 1, .n_voters = 3, .voters = {1, 2, 3}};
	char err[300];

	/* inline: the loop is stalled for the whole write */
	double s0 = now_ms();
	uint64_t bytes = 0;
	if (snapshot_save(dir, &m, &meta, &bytes, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double inline_ms = now_ms() - s0;
	printf("inline  durable in %7.0f ms   loop stall %7.0f ms   file %.1f MB\n", inline_ms,
	       inline_ms, (double)bytes / 1e6);

	/* baseline: writes with no snapshot, as long as the inline write took */
	lat base, during, during2;
	lat_init(&base);
	lat_init(&during);
	lat_init(&during2);
	deadline = now_ms() + (inline_ms > 500 ? inline_ms : 500);
	serve(&m, &base, until_deadline, NULL, now_ms());
	double base_max = base.max_gap;
	double base_p99 = p99(&base);
	printf("baseline %zu writes: p99 %.3f ms, max gap %.2f ms\n", base.n, base_p99, base_max);

	/* fork: the child writes its copy-on-write view. It runs before the
	 * copy mode on purpose: freeing the 1M-item clone leaves the allocator
	 * with freed chunks that its next large malloc consolidates, and after
	 * a fork each of those touches is a copy-on-write fault (measured: one
	 * malloc took 0.7 s), which is the bench's artefact, not the method's. */
	meta.index = 2;
	s0 = now_ms();
	fflush(stdout);
	if (snapshot_fork_save(dir, &m, &meta, &child, &child_fd, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double fork_stall = now_ms() - s0;
	long f1 = minflt();
	serve(&m, &during2, fork_done, NULL, s0);
	if (snapshot_fork_finish(child, child_fd, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	during2.max_gap = during2.max_gap > fork_stall ? during2.max_gap : fork_stall;
	report("fork", child_end - s0, fork_stall, &during2, base_p99, base_max);
	printf("        page faults in the loop meanwhile (copy-on-write): %ld; longest gap ended %.0f ms "
	       "after the fork; longest single write %.1f ms\n",
	       minflt() - f1, during2.max_gap_at, during2.max_op);

	/* copy: the loop clones the map, a thread writes the clone */
	meta.index = 3;
	s0 = now_ms();
	kv_machine clone;
	if (kv_machine_init(&clone) != 0 || kv_store_foreach(m.store, clone_key, clone.store) != 0)
		return 1;
	double copy_stall = now_ms() - s0;
	job j = {.dir = dir, .m = &clone, .meta = meta};
	pthread_t th;
	if (pthread_create(&th, NULL, thread_save, &j) != 0)
		return 1;
	long f0 = minflt();
	serve(&m, &during, job_done, &j, s0); /* writes due during the copy count as late */
	pthread_join(th, NULL);
	if (j.rc != 0)
		return 1;
	during.max_gap = during.max_gap > copy_stall ? during.max_gap : copy_stall;
	report("copy", j.end_ms - s0, copy_stall, &during, base_p99, base_max);
	printf("        page faults in the loop meanwhile: %ld\n", minflt() - f0);
	kv_machine_destroy(&clone);

	/* the files are checked whole, as a restart would */
	kv_machine back;
	snapshot_loaded res;
	s0 = now_ms();
	if (snapshot_load(dir, 0, &back, &res, err, sizeof err) != 0 || !res.found ||
	    kv_store_count(back.store) != n_keys) {
		fprintf(stderr, "reload failed: %s\n", err);
		return 1;
	}
	printf("load    newest (index %llu) read and checked in %.0f ms\n",
	       (unsigned long long)res.meta.index, now_ms() - s0);
	kv_machine_destroy(&back);
	if (snapshot_prune(dir, 0, err, sizeof err) != 0)
		fprintf(stderr, "%s\n", err);
	free(base.v);
	free(during.v);
	free(during2.v);
	kv_machine_destroy(&m);
	return 0;
}
