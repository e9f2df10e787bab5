/*
 * cluster.h — blocking calls to the admin API (contract section 3) and the
 * fault agents (section 4): readiness, leader discovery, node ids. Used by
 * the nemesis and at the start and end of a run, never on the client path.
 */
#ifndef RAFTKV_WL_CLUSTER_H
#define RAFTKV_WL_CLUSTER_H

#include <cjson/cJSON.h>

#include "../../node/common/http_client.h"
#include "options.h"

/* Admin calls are short: loopback, and the admin API answers even on a
 * paused node. A node that does not answer in this long counts as down. */
enum { CLUSTER_ADMIN_TIMEOUT_MS = 1000 };

/* METHOD {nodes[i]}{path} with the admin token; body is JSON or NULL.
 * Returns the HTTP status, 0 when no answer, -1 when out of memory. */
long cluster_admin(http_call *c, const wl_options *o, size_t i, const char *method,
		   const char *path, const char *body);
/* The same against agents[i]. */
long cluster_agent(http_call *c, const wl_options *o, size_t i, const char *method,
		   const char *path, const char *body);

/* Polls GET /readyz on every node until all answer 200 or timeout_s passes.
 * 0 when all are ready, -1 otherwise (stderr names the laggards if loud). */
int cluster_wait_ready(http_call *c, const wl_options *o, double timeout_s, int loud);

/* Is key absent? A linearizable read on the first node that answers.
 * 1 absent, 0 present (holds a value), -1 no node could tell. */
int cluster_key_absent(http_call *c, const wl_options *o, const char *key);

/* Node ids by position in --nodes, from GET /admin/status; a node that does
 * not answer keeps its position as id. ids has o->n_nodes entries. */
void cluster_node_ids(http_call *c, const wl_options *o, int *ids);

/* Position in --nodes of the node that says it is leader (highest term
 * wins), or of the node the others name as leader; -1 if none is known. */
int cluster_find_leader(http_call *c, const wl_options *o, const int *ids);

#endif
