/*
 * main.c — raftkv-agent: flags, start-up and shutdown.
 *
 *   raftkv-agent --listen :2040 --data-dir DIR [--log FILE] [--admin-token T]
 *                -- raftkv --node 0 ...
 *
 * The node is started at once. SIGTERM, SIGINT and SIGHUP are forwarded to
 * the node (with SIGCONT if it is paused, so it can act on them); the agent
 * exits once the node has exited, with the node's exit status (128+signal if
 * a signal ended it). A node that ignores the signal is SIGKILLed after
 * AGENT_GRACE_MS, or at once on a second signal. Exit status 2 = bad flags,
 * 1 = could not start (address in use, data dir or log unusable, command not
 * runnable).
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define AGENT_VERSION "0.1.0"

static void usage(FILE *to)
{
	fprintf(to,
		"usage: raftkv-agent [flags] -- COMMAND [ARG...]\n"
		"Runs COMMAND (a raftkv node) as a child and serves the fault agent API.\n"
		"  --listen ADDR        HTTP address of the agent API, HOST:PORT or :PORT (default :2040)\n"
		"  --data-dir DIR       the node's data dir, target of corrupt and wipe (required)\n"
		"  --log FILE           where the node's stdout/stderr go, appended (default DIR/node.log)\n"
		"  --admin-token T      require Authorization: Bearer T on /agent/* requests (default none)\n"
		"  --help               this text\n"
		"  --version            print the version\n");
}

static int bad_flag(const char *fmt, const char *arg)
{
	fprintf(stderr, "raftkv-agent: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see raftkv-agent --help)\n");
	return 2;
}

/* Flags take "--flag value" or "--flag=value". 0, 1 (help/version: exit 0)
 * or 2 (bad flags). */
static int parse_flags(agent *a, int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("raftkv-agent %s\n", AGENT_VERSION);
			return 1;
		}
		if (strncmp(arg, "--", 2) != 0)
			break; /* the command starts here, without "--" */
		static const char *const names[] = { "listen", "data-dir", "log", "admin-token" };
		const char **dst[] = { &a->listen, &a->data_dir, (const char **)&a->log_path,
				       &a->token };
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		size_t k;
		for (k = 0; k < 4; k++)
			if (strlen(names[k]) == nlen && strncmp(names[k], name, nlen) == 0)
				break;
		if (k == 4)
			return bad_flag("unknown flag %s", arg);
		const char *val = eq ? eq + 1 : NULL;
		if (val == NULL) {
			if (i + 1 >= argc)
				return bad_flag("flag %s needs a value", arg);
			val = argv[++i];
		}
		if (val[0] == '\0' && k != 3)
			return bad_flag("flag %s needs a non-empty value", arg);
		*dst[k] = val;
	}
	if (a->data_dir == NULL)
		return bad_flag("%s", "--data-dir is required");
	if (i >= argc)
		return bad_flag("%s", "no node command given after --");
	a->argv = argv + i;
	return 0;
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

void agent_shutdown_finish(agent *a)
{
	agent_run_waiters(a);
	uv_handle_t *hs[] = { (uv_handle_t *)&a->sig_chld, (uv_handle_t *)&a->sig_term,
			      (uv_handle_t *)&a->sig_int, (uv_handle_t *)&a->sig_hup,
			      (uv_handle_t *)&a->grace };
	/* Only handles that were initialized (start-up may fail half-way). */
	for (size_t i = 0; i < a->n_handles && i < sizeof hs / sizeof hs[0]; i++)
		if (!uv_is_closing(hs[i]))
			uv_close(hs[i], close_cb);
	if (a->http != NULL) {
		http_server_close(a->http, NULL, NULL);
		a->http = NULL;
	}
}

static void on_grace(uv_timer_t *t)
{
	agent *a = t->data;
	if (a->pid > 0) {
		agent_log(a, "node pid %d still running after %d ms; SIGKILL", (int)a->pid,
			  AGENT_GRACE_MS);
		if (child_signal(a, SIGKILL) != 0)
			agent_log(a, "kill: %s", strerror(errno));
	}
}

static void on_term(uv_signal_t *h, int sig)
{
	agent *a = h->data;
	if (a->shutting_down) {
		/* A second request to stop: do not wait any longer. */
		if (a->pid > 0 && child_signal(a, SIGKILL) != 0)
			agent_log(a, "kill: %s", strerror(errno));
		return;
	}
	a->shutting_down = true;
	if (a->pid <= 0) {
		agent_log(a, "got signal %d; node is down, exiting", sig);
		a->exit_code = 0;
		agent_shutdown_finish(a);
		return;
	}
	agent_log(a, "got signal %d; forwarding to node pid %d", sig, (int)a->pid);
	if (child_signal(a, sig) != 0)
		agent_log(a, "forwarding signal %d: %s", sig, strerror(errno));
	if (a->state == NODE_PAUSED && child_signal(a, SIGCONT) != 0)
		agent_log(a, "SIGCONT: %s", strerror(errno));
	int rc = uv_timer_start(&a->grace, on_grace, AGENT_GRACE_MS, 0);
	if (rc != 0)
		agent_log(a, "grace timer: %s", uv_strerror(rc));
}

static int start_signal(agent *a, uv_signal_t *h, uv_signal_cb cb, int sig, char *err,
			size_t errlen)
{
	int rc = uv_signal_init(a->loop, h);
	if (rc == 0) {
		a->n_handles++;
		h->data = a;
		rc = uv_signal_start(h, cb, sig);
	}
	if (rc != 0)
		snprintf(err, errlen, "signal %d: %s", sig, uv_strerror(rc));
	return rc;
}

/* Runs the loop until every handle has closed, then frees the loop. */
static void drain_loop(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0)
		fprintf(stderr, "raftkv-agent: event loop still had open handles at exit\n");
}

int main(int argc, char **argv)
{
	agent a = { .listen = ":2040", .log_fd = -1, .state = NODE_STOPPED };
	char err[512];
	uv_loop_t loop;

	int rc = parse_flags(&a, argc, argv);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	const char *log_flag = a.log_path;
	a.log_path = log_flag ? strdup(log_flag) : path_join(a.data_dir, "node.log");
	if (a.log_path == NULL) {
		fprintf(stderr, "raftkv-agent: out of memory\n");
		return 1;
	}
	/* Orphans of the node become our children even when we are not PID 1,
	 * so they are reaped (and never outlive the agent unnoticed). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		fprintf(stderr, "raftkv-agent: PR_SET_CHILD_SUBREAPER: %s (continuing)\n",
			strerror(errno));
	/* Writing to a client that went away must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	a.rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();

	if (files_mkdir_p(a.data_dir, false, err, sizeof err) != 0) {
		fprintf(stderr, "raftkv-agent: data dir: %s\n", err);
		free(a.log_path);
		return 1;
	}
	a.log_fd = open(a.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (a.log_fd < 0) {
		fprintf(stderr, "raftkv-agent: log file %s: %s\n", a.log_path, strerror(errno));
		free(a.log_path);
		return 1;
	}
	rc = uv_loop_init(&loop);
	if (rc != 0) {
		fprintf(stderr, "raftkv-agent: event loop: %s\n", uv_strerror(rc));
		close(a.log_fd);
		free(a.log_path);
		return 1;
	}
	a.loop = &loop;
	int exit_code = 1;
	/* SIGCHLD first, so no exit of the node can go unnoticed. */
	err[0] = '\0';
	if (start_signal(&a, &a.sig_chld, child_on_sigchld, SIGCHLD, err, sizeof err) != 0 ||
	    start_signal(&a, &a.sig_term, on_term, SIGTERM, err, sizeof err) != 0 ||
	    start_signal(&a, &a.sig_int, on_term, SIGINT, err, sizeof err) != 0 ||
	    start_signal(&a, &a.sig_hup, on_term, SIGHUP, err, sizeof err) != 0) {
		fprintf(stderr, "raftkv-agent: %s\n", err);
		goto fail;
	}
	rc = uv_timer_init(&loop, &a.grace);
	if (rc != 0) {
		fprintf(stderr, "raftkv-agent: timer: %s\n", uv_strerror(rc));
		goto fail;
	}
	a.n_handles++;
	a.grace.data = &a;
	/* The API before the node: a busy port must not leave an orphan node. */
	if (http_server_start(&loop, a.listen, NULL, agent_handle, &a, &a.http, err,
			      sizeof err) != 0) {
		fprintf(stderr, "raftkv-agent: %s\n", err);
		a.http = NULL;
		goto fail;
	}
	agent_log(&a, "listening on %s, data dir %s, log %s", a.listen, a.data_dir, a.log_path);
	if (child_spawn(&a, err, sizeof err) != 0) {
		fprintf(stderr, "raftkv-agent: %s\n", err);
		goto fail;
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	exit_code = a.exit_code;
	agent_log(&a, "exiting with status %d", exit_code);
fail:
	agent_shutdown_finish(&a);
	drain_loop(&loop);
	close(a.log_fd);
	free(a.log_path);
	return exit_code;
}
