/*
 * routes.c — the agent's HTTP API (contract section 4).
 *
 * kill and restart answer only once the node has really exited (reaped), so
 * a tester that gets 200 from kill can corrupt files or start again at once:
 * such requests are parked in a->waiters until child.c reports the exit.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The log is served whole up to this size, else its last this-many bytes. */
#define MAX_LOG_REPLY ((off_t)64 << 20)

static const char *state_name(node_state s)
{
	switch (s) {
	case NODE_RUNNING: return "running";
	case NODE_PAUSED: return "paused";
	case NODE_STOPPED: return "stopped";
	case NODE_EXITED: return "exited";
	}
	return "unknown";
}

static cJSON *status_obj(agent *a)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	bool ok = (a->pid > 0 ? cJSON_AddNumberToObject(o, "pid", a->pid)
			      : cJSON_AddNullToObject(o, "pid")) != NULL &&
		  cJSON_AddStringToObject(o, "state", state_name(a->state)) != NULL &&
		  (a->has_exit ? cJSON_AddNumberToObject(o, "exit_status", a->exit_status)
			       : cJSON_AddNullToObject(o, "exit_status")) != NULL &&
		  (a->has_exit && a->exit_signal ? cJSON_AddNumberToObject(o, "signal", a->exit_signal)
						 : cJSON_AddNullToObject(o, "signal")) != NULL &&
		  cJSON_AddNumberToObject(o, "restarts", a->restarts) != NULL &&
		  cJSON_AddStringToObject(o, "data_dir", a->data_dir) != NULL &&
		  cJSON_AddStringToObject(o, "log", a->log_path) != NULL;
	int argc = 0;
	while (a->argv[argc] != NULL)
		argc++;
	cJSON *cmd = ok ? cJSON_CreateStringArray((const char *const *)a->argv, argc) : NULL;
	if (cmd == NULL || !cJSON_AddItemToObject(o, "command", cmd)) {
		cJSON_Delete(cmd);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void agent_reply_status(agent *a, http_request *req, int code)
{
	reply_json(req, code, status_obj(a));
}

static bool park(agent *a, http_request *req, waiter_action act)
{
	waiter *w = calloc(1, sizeof *w);
	if (w == NULL)
		return false;
	w->req = req;
	w->action = act;
	/* Keep arrival order: answers go out in the order asked. */
	waiter **p = &a->waiters;
	while (*p != NULL)
		p = &(*p)->next;
	*p = w;
	return true;
}

/* Starts the node if it is down and answers req. */
static void start_now(agent *a, http_request *req)
{
	if (a->shutting_down) {
		reply_error(req, 503, "shutting down", "the agent is stopping; not starting the node");
		return;
	}
	if (a->pid > 0) {
		agent_reply_status(a, req, 200); /* already up: start is idempotent */
		return;
	}
	char err[512];
	if (child_spawn(a, err, sizeof err) != 0) {
		agent_log(a, "start failed: %s", err);
		reply_error(req, 500, "start failed", "%s", err);
		return;
	}
	agent_reply_status(a, req, 200);
}

static bool kill_now(agent *a, http_request *req);

void agent_run_waiters(agent *a)
{
	waiter *w = a->waiters;
	a->waiters = NULL;
	while (w != NULL) {
		waiter *next = w->next;
		if (w->action == WAIT_KILL && a->pid > 0 && !a->shutting_down) {
			/* An earlier parked start brought the node back: honour this
			 * kill too, and keep it and everything after it parked, in order. */
			if (!kill_now(a, w->req)) {
				free(w);
				w = next;
				continue;
			}
			waiter **tail = &a->waiters;
			while (*tail != NULL)
				tail = &(*tail)->next;
			*tail = w;
			return;
		}
		if (w->action == WAIT_START)
			start_now(a, w->req);
		else
			agent_reply_status(a, w->req, 200);
		free(w);
		w = next;
	}
}

/* Sends SIGKILL once per death; false (after answering req) on failure. */
static bool kill_now(agent *a, http_request *req)
{
	if (a->dying)
		return true;
	if (child_signal(a, SIGKILL) != 0) {
		reply_error(req, 500, "kill failed", "kill %d: %s", (int)a->pid, strerror(errno));
		return false;
	}
	a->dying = true;
	agent_log(a, "SIGKILL sent to node pid %d", (int)a->pid);
	return true;
}

/* SIGKILL the node (once) and park req until it is reaped. */
static void kill_and_wait(agent *a, http_request *req, waiter_action then)
{
	if (!kill_now(a, req))
		return;
	if (!park(a, req, then))
		reply_error(req, 500, "internal error", "out of memory");
}

static void do_kill(agent *a, http_request *req)
{
	if (a->pid <= 0) {
		agent_reply_status(a, req, 200);
		return;
	}
	kill_and_wait(a, req, WAIT_KILL);
}

static void do_start(agent *a, http_request *req, bool restart)
{
	if (a->shutting_down) {
		reply_error(req, 503, "shutting down", "the agent is stopping; not starting the node");
		return;
	}
	if (a->pid > 0 && (restart || a->dying)) {
		kill_and_wait(a, req, WAIT_START);
		return;
	}
	start_now(a, req);
}

static void do_pause(agent *a, http_request *req, bool pause)
{
	if (a->pid <= 0 || a->dying) {
		reply_error(req, 409, "not running", "the node is %s; nothing to %s",
			    a->dying ? "being killed" : state_name(a->state),
			    pause ? "pause" : "resume");
		return;
	}
	if ((a->state == NODE_PAUSED) != pause) {
		if (child_signal(a, pause ? SIGSTOP : SIGCONT) != 0) {
			reply_error(req, 500, "signal failed", "%s to pid %d: %s",
				    pause ? "SIGSTOP" : "SIGCONT", (int)a->pid, strerror(errno));
			return;
		}
		a->state = pause ? NODE_PAUSED : NODE_RUNNING;
		agent_log(a, "node pid %d %s", (int)a->pid, pause ? "paused" : "resumed");
	}
	agent_reply_status(a, req, 200);
}

/* Disk damage needs the node down: a running node would overwrite it or
 * hold it in memory, and the test would prove nothing. */
static bool require_down(agent *a, http_request *req, const char *what)
{
	if (a->pid <= 0)
		return true;
	reply_error(req, 409, "node running",
		    "%s needs the node down; it is %s (pid %d): POST /agent/kill first", what,
		    a->dying ? "being killed" : state_name(a->state), (int)a->pid);
	return false;
}

static void reply_body(http_request *req, int code, char *body)
{
	if (body == NULL) {
		reply_error(req, 500, "internal error", "out of memory");
		return;
	}
	http_respond(req, code, NULL, body, strlen(body));
	free(body);
}

static void do_logs(agent *a, http_request *req)
{
	int fd = open(a->log_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == ENOENT) {
			http_respond(req, 200, "text/plain; charset=utf-8", "", 0);
			return;
		}
		reply_error(req, 500, "log unreadable", "%s: %s", a->log_path, strerror(e));
		return;
	}
	off_t from = st.st_size > MAX_LOG_REPLY ? st.st_size - MAX_LOG_REPLY : 0;
	size_t want = (size_t)(st.st_size - from), got = 0;
	char *buf = malloc(want + 1);
	if (buf == NULL) {
		close(fd);
		reply_error(req, 500, "internal error", "out of memory");
		return;
	}
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the file shrank under us: serve what we have */
		got += (size_t)n;
	}
	close(fd);
	http_respond(req, 200, "text/plain; charset=utf-8", buf, got);
	free(buf);
}

/* Same rule as the node's admin API: with a token, every request carries it. */
static bool authorized(agent *a, const http_request *req)
{
	return http_bearer_ok(req->authorization, a->token);
}

typedef enum { R_STATUS, R_LOGS, R_KILL, R_START, R_RESTART, R_PAUSE, R_RESUME, R_CORRUPT,
	       R_WIPE } route_id;

static const struct {
	const char *path;
	const char *method;
	route_id id;
} routes[] = {
	{ "/agent/status", "GET", R_STATUS },   { "/agent/logs", "GET", R_LOGS },
	{ "/agent/kill", "POST", R_KILL },      { "/agent/start", "POST", R_START },
	{ "/agent/restart", "POST", R_RESTART }, { "/agent/pause", "POST", R_PAUSE },
	{ "/agent/resume", "POST", R_RESUME },  { "/agent/corrupt", "POST", R_CORRUPT },
	{ "/agent/wipe", "POST", R_WIPE },
};

void agent_handle(void *ud, http_request *req)
{
	agent *a = ud;
	if (strcmp(req->path, "/healthz") == 0) {
		static const char ok[] = "{\"ok\":true}";
		http_respond(req, 200, NULL, ok, sizeof ok - 1);
		return;
	}
	size_t i, n = sizeof routes / sizeof routes[0];
	for (i = 0; i < n; i++)
		if (strcmp(req->path, routes[i].path) == 0)
			break;
	if (i == n) {
		reply_error(req, 404, "not found", "no agent endpoint %.200s", req->path);
		return;
	}
	if (!authorized(a, req)) {
		reply_error(req, 401, "unauthorized", "this agent needs Authorization: Bearer <token>");
		return;
	}
	bool is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (strcmp(req->method, routes[i].method) != 0 &&
	    !(is_get && strcmp(routes[i].method, "GET") == 0)) {
		reply_error(req, 405, "method not allowed", "%s takes %s", routes[i].path,
			    routes[i].method);
		return;
	}
	char *body = NULL;
	int code;
	switch (routes[i].id) {
	case R_STATUS: agent_reply_status(a, req, 200); return;
	case R_LOGS: do_logs(a, req); return;
	case R_KILL: do_kill(a, req); return;
	case R_START: do_start(a, req, false); return;
	case R_RESTART: do_start(a, req, true); return;
	case R_PAUSE: do_pause(a, req, true); return;
	case R_RESUME: do_pause(a, req, false); return;
	case R_CORRUPT:
		if (!require_down(a, req, "corrupt"))
			return;
		code = agent_corrupt(a, req->body, req->body_len, &body);
		reply_body(req, code, body);
		return;
	case R_WIPE:
		if (!require_down(a, req, "wipe"))
			return;
		code = agent_wipe(a, &body);
		reply_body(req, code, body);
		return;
	}
}

void agent_node_exited(agent *a)
{
	agent_run_waiters(a);
	if (a->shutting_down) {
		a->exit_code = a->has_exit ? a->exit_status : 0;
		agent_shutdown_finish(a);
	}
}
