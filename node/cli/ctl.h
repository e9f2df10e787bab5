/*
 * ctl.h — raftkv-ctl, the operator's command line: one HTTP request (or one
 * per node) per command, through libcurl's easy interface, with exit codes a
 * script can branch on.
 */
#ifndef RAFTKV_CTL_H
#define RAFTKV_CTL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "../common/http_client.h"

enum {
	CTL_OK = 0,      /* done */
	CTL_FAILED = 1,  /* definitely not done: mismatch, absent, refused */
	CTL_USAGE = 2,
	CTL_UNKNOWN = 3, /* cluster unreachable, or the outcome is unknown */
};

typedef struct ctl {
	char **nodes;      /* node HTTP endpoints; position = node number */
	size_t n_nodes;
	char **agents;     /* agent endpoints, same positions; may be empty */
	size_t n_agents;
	const char *token; /* admin bearer token, or NULL */
	long timeout_ms;
	http_call call;    /* reused: one connection per endpoint at a time */
	CURLcode last_rc;  /* transport result of the last request */
} ctl;

/* METHOD base+path (body JSON when json, raw otherwise). The status, 0 when
 * no answer arrived, -1 out of memory. The body is http_call_body(&c->call). */
long ctl_request(ctl *c, const char *base, const char *method, const char *path,
		 const char *body, int json);

/* True when the last request failed before anything was sent (connection
 * refused): safe to retry elsewhere even for a write. */
int ctl_not_sent(const ctl *c);

/* One line for stderr about a non-2xx answer or a missing one:
 * "http 503: no leader (detail)" or "no answer: Connection refused". */
void ctl_describe(const ctl *c, long status, char *buf, size_t len);

/* A node or agent number from the command line, checked against count.
 * The index, or -1 after printing why. */
int ctl_index(const char *arg, size_t count, const char *what);

/* Commands: argv[0] is the command name. Each returns a CTL_* code. */
int ctl_kv(ctl *c, int argc, char **argv);       /* get put del cas append */
int ctl_status(ctl *c, int argc, char **argv);
int ctl_faults(ctl *c, int argc, char **argv);   /* partition isolate-leader pause
						    resume clock heal bugs */
int ctl_agent(ctl *c, int argc, char **argv);    /* kill start */
int ctl_member(ctl *c, int argc, char **argv);   /* member list|add|remove|promote|replace */
int ctl_snapshot(ctl *c, int argc, char **argv); /* snapshot [N|all] */

/* Prints "name: message" on stderr and returns CTL_USAGE. */
int ctl_usage_error(const char *cmd, const char *msg);

/* GET /admin/status of node i, parsed, or NULL (no answer, not 200, not
 * JSON); *status gets the HTTP status (0 = no answer). */
cJSON *ctl_status_of(ctl *c, size_t i, long *status);

#endif
