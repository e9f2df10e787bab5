/*
 * raftkv-workload — concurrent clients, faults, a history, a verdict.
 *
 * The run: wait until every node is ready; drive the clients for --duration
 * seconds while the nemesis injects and heals faults; heal everything and
 * wait for the cluster to recover; read every key on every node once more;
 * then summary, plot and (with --check) the checker's verdict.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkrun.h"
#include "clock.h"
#include "cluster.h"
#include "history.h"
#include "../../node/common/http_client.h"
#include "nemesis.h"
#include "options.h"
#include "plot.h"
#include "runner.h"
#include "stats.h"
#include "summary.h"

enum { EXIT_OK = 0, EXIT_NOT_LINEARIZABLE = 1, EXIT_USAGE = 2, EXIT_INFRA = 3 };

static void on_signal(int sig)
{
	(void)sig;
	wl_stop = 1;
}

static int install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	if (sigemptyset(&sa.sa_mask) != 0)
		return -1;
	/* First Ctrl-C ends the workload early but still heals the cluster;
	 * the default action comes back for a second one. */
	sa.sa_flags = SA_RESETHAND;
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	return 0;
}

static int write_summary(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "raftkv-workload: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF;
	bad |= fclose(f) != 0;
	if (bad)
		fprintf(stderr, "raftkv-workload: error writing %s\n", path);
	return bad ? -1 : 0;
}

/* --check without --history: record into a temporary file. */
static char *temp_history(void)
{
	const char *dir = getenv("TMPDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	size_t n = strlen(dir) + sizeof "/raftkv-history-XXXXXX";
	char *path = malloc(n);
	if (path == NULL)
		return NULL;
	snprintf(path, n, "%s/raftkv-history-XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0 || close(fd) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

int main(int argc, char **argv)
{
	wl_options o;
	int pr = options_parse(argc, argv, &o);
	if (pr != 0) {
		options_free(&o);
		return pr > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (http_client_init() != 0 || install_signals() != 0) {
		fprintf(stderr, "raftkv-workload: cannot initialise libcurl or signals\n");
		options_free(&o);
		return EXIT_INFRA;
	}
	wl_clock_start();

	int code = EXIT_OK;
	char *tmp_history = NULL;
	http_call admin = {0};
	wl_history hist = {0};
	wl_stats stats = {0};
	wl_nemesis nem = {0};
	wl_runner run = {0};
	wl_outcome_info info = {.recovered = 1};
	int have_nem = 0, have_run = 0;

	if (o.check && o.history == NULL) {
		tmp_history = temp_history();
		if (tmp_history == NULL) {
			fprintf(stderr, "raftkv-workload: cannot create a temporary history\n");
			code = EXIT_INFRA;
			goto out;
		}
		o.history = tmp_history;
	}
	if (cluster_wait_ready(&admin, &o, o.ready_timeout, 1) != 0) {
		fprintf(stderr, "raftkv-workload: cluster not ready after %.0f s\n",
			o.ready_timeout);
		code = EXIT_INFRA;
		goto out;
	}
	if (history_open(&hist, o.history) != 0) {
		code = EXIT_INFRA;
		goto out;
	}
	uint64_t start = wl_now();
	have_nem = 1;
	if (nemesis_init(&nem, &o, &stats, start) != 0) {
		code = EXIT_INFRA;
		goto out;
	}
	have_run = 1;
	if (runner_init(&run, &o, &hist, &stats) != 0) {
		fprintf(stderr, "raftkv-workload: out of memory\n");
		code = EXIT_INFRA;
		goto out;
	}

	/* The checker assumes every key starts absent; a key left over from an
	 * earlier run would look like a value from nowhere. */
	for (int k = 0; k < o.keys; k++) {
		int a = cluster_key_absent(&admin, &o, run.keys[k]);
		if (a != 1) {
			fprintf(stderr, "raftkv-workload: key %s %s; a run needs keys that were never "
					"written: use a fresh cluster or a new --key-prefix\n",
				run.keys[k], a == 0 ? "already holds a value" : "could not be read");
			code = EXIT_INFRA;
			goto out;
		}
	}

	stats.run_start = wl_now();
	int rc = runner_workload(&run, &nem, stats.run_start + (uint64_t)(o.duration * 1e9));
	stats.run_end = wl_now();
	info.nemesis_events = nem.events;
	info.interrupted = wl_stop != 0;
	if (rc != 0)
		fprintf(stderr, "raftkv-workload: internal error during the run "
				"(out of memory, curl or history write)\n");

	/* Always leave the cluster as it was found, even after an error. */
	if (nemesis_heal_all(&nem) != 0)
		fprintf(stderr, "raftkv-workload: healing failed for some node\n");
	info.recovered = cluster_wait_ready(&admin, &o, o.ready_timeout, 1) == 0;
	if (!info.recovered)
		fprintf(stderr, "raftkv-workload: cluster did not recover within %.0f s "
				"of the final heal\n", o.ready_timeout);
	if (rc == 0 && o.final_reads && runner_final_reads(&run) != 0) {
		fprintf(stderr, "raftkv-workload: internal error during the final reads\n");
		rc = -1;
	}
	if (history_close(&hist) != 0) {
		fprintf(stderr, "raftkv-workload: error writing history %s\n", o.history);
		rc = -1;
	}
	if (rc != 0) {
		code = EXIT_INFRA;
		goto out;
	}

	if (o.check) {
		code = checkrun(o.history, o.check_timeout, &info.verdict);
		if (code != EXIT_OK && tmp_history != NULL) {
			fprintf(stderr, "raftkv-workload: history kept in %s\n", tmp_history);
			free(tmp_history); /* the file stays */
			tmp_history = NULL;
		}
	}
	if (code == EXIT_OK && !info.recovered)
		code = EXIT_INFRA;

	if (!o.quiet) {
		summary_print(stdout, &o, &stats, &info);
		if (fflush(stdout) != 0 && code == EXIT_OK)
			code = EXIT_INFRA;
	}
	if (o.summary != NULL) {
		char *text = summary_json(&o, &stats, &info);
		if (text == NULL || write_summary(o.summary, text) != 0) {
			if (code == EXIT_OK)
				code = EXIT_INFRA;
		}
		free(text);
	}
	if (o.plot != NULL && plot_svg(o.plot, &o, &stats) != 0 && code == EXIT_OK)
		code = EXIT_INFRA;

out:
	if (have_run)
		runner_free(&run);
	if (have_nem)
		nemesis_free(&nem);
	if (hist.f != NULL)
		(void)history_close(&hist); /* already failing: nothing more to say */
	stats_free(&stats);
	http_call_free(&admin);
	if (tmp_history != NULL) {
		if (unlink(tmp_history) != 0 && errno != ENOENT)
			fprintf(stderr, "raftkv-workload: cannot remove %s\n", tmp_history);
		free(tmp_history);
	}
	options_free(&o);
	http_client_cleanup();
	return code;
}
