/*
 * agent.h — raftkv-agent: a supervisor that runs one raftkv node as its
 * child and lets a tester kill, restart, pause it and damage its files over
 * HTTP (contract section 4). Files:
 *   main.c     flags, start-up, shutdown on SIGTERM/SIGINT
 *   child.c    the node process: spawn, signals, reaping every child
 *   routes.c   the agent HTTP API (/agent/NAME)
 *   corrupt.c  /agent/corrupt: bit flips and truncation of WAL/meta/snapshot
 *   wipe.c     /agent/wipe: empty the data dir
 *   util.c     logging, JSON replies, small file helpers
 * Everything runs on one libuv loop thread.
 */
#ifndef RAFTKV_AGENT_H
#define RAFTKV_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "../../node/common/files.h"
#include "../../node/http/http_server.h"

typedef enum node_state {
	NODE_RUNNING,
	NODE_PAUSED,  /* SIGSTOPped through the agent */
	NODE_STOPPED, /* killed through the agent (or never started) */
	NODE_EXITED,  /* died by itself; not restarted automatically */
} node_state;

/* What a request parked until the node has exited does next. */
typedef enum waiter_action { WAIT_KILL, WAIT_START } waiter_action;

typedef struct waiter {
	http_request *req;
	waiter_action action;
	struct waiter *next;
} waiter;

typedef struct agent {
	uv_loop_t *loop;
	http_server *http;
	uv_signal_t sig_chld, sig_term, sig_int, sig_hup;
	uv_timer_t grace; /* SIGKILL if the node ignores a forwarded SIGTERM */
	size_t n_handles; /* of sig_chld, sig_term, sig_int, sig_hup, grace: initialized so far */

	/* flags */
	const char *listen;
	const char *data_dir;
	char *log_path;       /* malloc'd */
	const char *token;    /* NULL = no auth */
	char **argv;          /* the node command, NULL-terminated (main's argv) */

	int log_fd;           /* node stdout/stderr and agent notes, O_APPEND */

	/* the node */
	pid_t pid;            /* 0 while down */
	node_state state;
	bool dying;           /* SIGKILL sent, exit not yet reaped */
	bool has_exit;        /* exit_status/exit_signal are meaningful */
	int exit_status;      /* exit code, or 128 + signal */
	int exit_signal;      /* 0 unless killed by a signal */
	unsigned restarts;    /* starts after the first */
	bool started_once;
	waiter *waiters;

	bool shutting_down;
	int exit_code;        /* of the agent itself */
	uint64_t rng;
} agent;

#define AGENT_GRACE_MS 10000

/* child.c */
int child_spawn(agent *a, char *err, size_t errlen);
/* Signals the node's process group (the node and anything it forked). */
int child_signal(agent *a, int sig);
void child_on_sigchld(uv_signal_t *h, int signum);
/* Called by child.c when the node has been reaped. */
void agent_node_exited(agent *a);

/* main.c: closes the server and signal handles so the loop can end. */
void agent_shutdown_finish(agent *a);

/* routes.c */
void agent_handle(void *ud, http_request *req);
void agent_reply_status(agent *a, http_request *req, int code);
/* Answers every parked request (used on exit and on shutdown). */
void agent_run_waiters(agent *a);

/* corrupt.c: returns an HTTP status; *out is the JSON reply body (malloc'd). */
int agent_corrupt(agent *a, const char *body, size_t len, char **out);

/* wipe.c */
int agent_wipe(agent *a, char **out);

/* util.c (directories: files_mkdir_p in node/common/files.h) */
void agent_log(agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_json(http_request *req, int code, cJSON *obj); /* takes obj */
void reply_error(http_request *req, int code, const char *error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
char *error_json(const char *error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *path_join(const char *dir, const char *name); /* malloc'd or NULL */
uint64_t agent_rand(agent *a);

#endif
