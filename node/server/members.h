/*
 * members.h — membership on the node: /admin/members, the members of
 * /admin/status, and keeping the transport's peers in step with the
 * configuration in force (see members.c).
 */
#ifndef RAFTKV_MEMBERS_H
#define RAFTKV_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../http/http_server.h"
#include "../raft/raft.h"

struct server;

typedef struct member_wait {
	http_request *req;
	uint64_t index;       /* the CONF entry proposed */
	uint64_t term;        /* the leader's term when it was appended */
	uint64_t deadline_ms;
} member_wait;

typedef struct members_state {
	member_wait *waits;
	size_t n_waits, cap_waits;
	uint32_t peers[RAFT_MAX_NODES]; /* ids given to the transport */
	size_t n_peers;
	uint64_t synced_conf;           /* conf_index the transport was synced at (+1) */
} members_state;

/* The transport starts with the --cluster peers. */
void members_init_peers(struct server *s);
void members_free(struct server *s);
/* GET and POST /admin/members. */
void members_route(struct server *s, http_request *req);
/* Fills arr with the contract's member objects (id, raft, http, voter,
 * match_index). false on ENOMEM. */
bool members_json(struct server *s, cJSON *arr, const raft_status *st);
/* A committed CONF entry was applied: answers the POST that proposed it. */
void members_on_apply(struct server *s, const raft_entry *e);
/* After each ready step: transport peers follow the configuration; POSTs
 * whose outcome can no longer be known in time get 504. */
void members_after_ready(struct server *s);

#endif
