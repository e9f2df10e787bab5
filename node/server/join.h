/*
 * join.h — a node started with --join URL asks the cluster to add it
 * (contract section 1; node/server/README.md "Joining").
 *
 * Before its loop runs, the node finds the leader through the member at URL
 * (GET /admin/status: "leader" and the members' HTTP addresses), posts
 * {"op":"add","id","raft","http","incarnation","auto_promote"} to
 * /admin/members there, and retries until the answer proves it is a member
 * (200, or a 409 after which the members list names its id with its raft
 * address). A refusal that retrying cannot cure (its id is a member at
 * another address, its address belongs to another id, a bad request, a
 * refused token) ends the start with one line. What it learns is an address
 * book of the members (id, raft, http): the transport accepts frames only
 * from known peers, and members of the bootstrap configuration carry no
 * address in the log. The configuration itself comes through the log.
 */
#ifndef RAFTKV_JOIN_H
#define RAFTKV_JOIN_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Addresses of members by id; strings owned by the book. */
typedef struct addr_book {
	node_member m[RAFT_MAX_NODES];
	size_t n;
	uint64_t gen;  /* changes with every book_set and book_free */
} addr_book;

/* Adds or replaces id's entry (http may be NULL). 0, or -1 (full, ENOMEM). */
int book_set(addr_book *b, uint32_t id, const char *raft, const char *http);
const node_member *book_find(const addr_book *b, uint32_t id);
void book_free(addr_book *b);
/* "ID,RAFT,HTTP;..." (HTTP may be empty) both ways; parse: 0 or -1. */
int book_parse(addr_book *b, const char *s);
char *book_format(const addr_book *b);

/* Runs the join (blocking, retrying until added or --join-timeout passes:
 * then -1 with one line naming the last failure). inc is this node's
 * incarnation (already durable). On success fills *out with the members
 * other than this node and returns 0; -1 with one line in err on a refusal. */
int join_cluster(const node_config *c, uint64_t inc, addr_book *out, char *err, size_t errlen);

/* Reading a member's GET /admin/status answer (also probe_removed.c): the
 * entry of id in its "members", a string field of an entry (NULL if none),
 * and the URL of a member's HTTP address (":PORT" takes from_url's host). */
const cJSON *join_member_of(const cJSON *status, uint32_t id);
const char *join_str_of(const cJSON *m, const char *k);
void join_url_of(const char *http, const char *from_url, char *out, size_t n);

#endif
