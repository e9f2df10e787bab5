/* main.c — raftkv-sim: run the deterministic simulator over many seeds.
 *
 *   raftkv-sim --seeds N [--first S] [--jobs J]   N seeds from S (default 1)
 *   raftkv-sim --seed S --trace                    replay one seed, every event
 *   raftkv-sim --bug B --seeds N --expect-find     a planted bug must be found
 *
 * A failure prints the seed, the step and the invariant, and how to replay it.
 * The closing line is "sim: N passed, N failed" and the seeds per second. */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: raftkv-sim [--seeds N] [--first S] [--seed S] [--jobs J] [--trace]\n"
		"                  [--nodes 3..5] [--time-ms T] [--bug B] [--expect-find]\n"
		"  --seeds N      run N seeds starting at --first (default 1)\n"
		"  --seed S       run one seed (add --trace for every event)\n"
		"  --jobs J       run seeds in J processes (default 1)\n"
		"  --nodes N      cluster size (default: chosen by each seed, 3..5)\n"
		"  --time-ms T    simulated time with faults per seed (default 4000)\n"
		"  --bug B        plant bug B: in the core 1 stale vote grants, 2 commit an\n"
		"                 earlier-term entry by counting, 3 vote not persisted,\n"
		"                 4 ReadIndex before the leader's no-op commits, 5 a\n"
		"                 follower's log trusted at its word, 6 must-sync rule\n"
		"                 forgets term/vote; in the runtime 7 vote answer sent\n"
		"                 before its fsync, 8 hard state queued before the\n"
		"                 entries it covers, 9 member list not checked at\n"
		"                 restart, 10 boot nonce from the wall clock, 11 WAL\n"
		"                 completion acts while paused, 12 a clock jump\n"
		"                 delivers 2T+1 ticks, 13 a probing node's core ticked,\n"
		"                 14 a new life's nonce not taken from the log, 30 no\n"
		"                 dedup record after a restart from a snapshot, 31 WAL\n"
		"                 compacted up to the snapshot; in the core's\n"
		"                 membership 20 a wiped node votes at once, 22 a node\n"
		"                 removed by an uncommitted change never campaigns, 23\n"
		"                 learners counted for commit, 25 a cut CONF entry\n"
		"                 stays in force, 26 votes consult a stale configuration;\n"
		"                 in the WAL 41 open fsyncs only the last segment, 42\n"
		"                 the torn-tail check takes a valid record at any later\n"
		"                 offset as damage in the middle (node/raft/planted_bugs.h,\n"
		"                 node/runtime/rt_planted.h, node/wal/wal_int.h)\n"
		"  --expect-find  succeed only if some seed fails (proves the bug is caught)\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

/* Set by SIGTERM (another job found the planted bug): a job finishes the
 * seed it runs, which removes its temp dir, and stops. */
static volatile sig_atomic_t stop_now;

static void on_term(int sig)
{
	(void)sig;
	stop_now = 1;
}

/* Runs seeds first, first+jobs, ... ; returns failures; stops at the first
 * failure when stop_first. Prints one line per failure. */
static int run_range(sim_params p, uint64_t first, uint64_t count, uint64_t stride, bool stop_first,
		     uint64_t *first_fail)
{
	int fails = 0;
	for (uint64_t i = 0; i < count && !stop_now; i += stride) {
		p.seed = first + i;
		sim_outcome o;
		if (sim_run(&p, &o) != 0 && o.what[0] == '\0') {
			fprintf(stderr, "seed %llu: the simulator could not run (temp dir %s)\n",
				(unsigned long long)p.seed, p.tmp_root);
			return fails + 1;
		}
		if (p.trace || count == 1)
			printf("seed %llu: %s, %llu steps, %llu elections, %llu crashes, %llu wipes, %llu membership changes, %llu snapshots, %llu restarts from one, ops ok/fail/info %llu/%llu/%llu (reads ok %llu)\n",
			       (unsigned long long)p.seed, o.ok ? "ok" : "FAILED", (unsigned long long)o.steps,
			       (unsigned long long)o.elections, (unsigned long long)o.crashes,
			       (unsigned long long)o.wipes, (unsigned long long)o.conf_changes,
			       (unsigned long long)o.snapshots, (unsigned long long)o.snapshot_boots,
			       (unsigned long long)o.ops_ok, (unsigned long long)o.ops_fail,
			       (unsigned long long)o.ops_info, (unsigned long long)o.reads_ok);
		if (!o.ok) {
			char bug[32] = "";
			if (p.planted_bug)
				snprintf(bug, sizeof bug, " BUG=%d", p.planted_bug);
			printf("FAIL seed %llu%s: %s\n  replay: make sim SEED=%llu%s\n", (unsigned long long)p.seed,
			       p.planted_bug ? " (planted bug)" : "", o.what, (unsigned long long)p.seed, bug);
			fflush(stdout);
			fails++;
			if (*first_fail == 0 || p.seed < *first_fail)
				*first_fail = p.seed;
			if (stop_first)
				return fails;
		}
	}
	return fails;
}

int main(int argc, char **argv)
{
	uint64_t seeds = 1, first = 1, jobs = 1, v;
	bool expect_find = false, have_seed = false;
	sim_params p = { .duration_us = 4000000 };
	const char *shm = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
	p.tmp_root = getenv("RAFTKV_SIM_TMP") ? getenv("RAFTKV_SIM_TMP")
			: shm ? shm : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--trace")) {
			p.trace = true;
		} else if (!strcmp(a, "--expect-find")) {
			expect_find = true;
		} else if (val && !parse_u64(val, &v) &&
			   (!strcmp(a, "--seeds") || !strcmp(a, "--first") || !strcmp(a, "--seed") ||
			    !strcmp(a, "--jobs") || !strcmp(a, "--nodes") || !strcmp(a, "--time-ms") ||
			    !strcmp(a, "--bug"))) {
			i++;
			if (!strcmp(a, "--seeds"))
				seeds = v;
			else if (!strcmp(a, "--first"))
				first = v;
			else if (!strcmp(a, "--seed"))
				first = v, seeds = 1, have_seed = true;
			else if (!strcmp(a, "--jobs"))
				jobs = v ? v : 1;
			else if (!strcmp(a, "--nodes") && v >= 3 && v <= 5)
				p.n_nodes = (int)v;
			else if (!strcmp(a, "--time-ms") && v > 0)
				p.duration_us = v * 1000;
			else if (!strcmp(a, "--bug") && v <= 99)
				p.planted_bug = (int)v;
			else {
				fprintf(stderr, "raftkv-sim: bad value for %s: %s\n", a, val);
				return 2;
			}
		} else {
			fprintf(stderr, "raftkv-sim: bad argument %s (see --help)\n", a);
			return 2;
		}
	}
	(void)have_seed;
	if (jobs > seeds)
		jobs = seeds;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fails = 0;
	uint64_t first_fail = 0;
	if (jobs == 1) {
		fails = run_range(p, first, seeds, 1, expect_find, &first_fail);
	} else {
		/* one child per job; each reports failures on stdout and its count
		 * (capped) in its exit status */
		pid_t pids[64];
		if (jobs > 64)
			jobs = 64;
		fflush(stdout);
		for (uint64_t j = 0; j < jobs; j++) {
			pid_t pid = fork();
			if (pid < 0) {
				perror("raftkv-sim: fork");
				return 2;
			}
			if (pid == 0) {
				signal(SIGTERM, on_term);
				uint64_t ff = 0;
				int f = run_range(p, first + j, seeds - j, jobs, expect_find, &ff);
				fflush(stdout);
				_exit(f > 100 ? 100 : f);
			}
			pids[j] = pid;
		}
		/* with --expect-find, the first job that finds the bug ends the
		 * search: the others are stopped */
		uint64_t left = jobs;
		bool stopping = false;
		while (left > 0) {
			int st;
			pid_t pid = waitpid(-1, &st, 0);
			if (pid < 0) {
				if (errno == EINTR)
					continue;
				perror("raftkv-sim: waitpid");
				return 2;
			}
			uint64_t j = 0;
			while (j < jobs && pids[j] != pid)
				j++;
			if (j == jobs)
				continue;
			pids[j] = 0;
			left--;
			if (stopping)
				continue;
			if (!WIFEXITED(st)) {
				fprintf(stderr, "raftkv-sim: a job died\n");
				fails++;
				continue;
			}
			fails += WEXITSTATUS(st);
			if (expect_find && WEXITSTATUS(st) > 0) {
				stopping = true;
				for (uint64_t k = 0; k < jobs; k++)
					if (pids[k] > 0)
						kill(pids[k], SIGTERM);
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* with --expect-find the jobs stop at their first find, so a rate over
	 * all the seeds asked for would be made up */
	if (!expect_find)
		printf("sim: %.1f seeds/s over %.1fs (%llu seeds, %llu jobs%s)\n",
	       (double)seeds / (secs > 0 ? secs : 1), secs, (unsigned long long)seeds,
	       (unsigned long long)jobs, p.planted_bug ? ", planted bug" : "");
	if (expect_find) {
		if (fails > 0) {
			printf("planted bug %d found\n", p.planted_bug);
			return 0;
		}
		printf("planted bug %d NOT found in %llu seeds\n", p.planted_bug, (unsigned long long)seeds);
		return 1;
	}
	printf("sim: %llu passed, %d failed\n", (unsigned long long)(seeds - (uint64_t)fails), fails);
	return fails ? 1 : 0;
}
