/*
 * api_members.h — membership on the node: /admin/members, the members of
 * /admin/status, and keeping the transport's peers in step with the
 * configuration in force (api_members.c). The state lives in the server.
 */
#ifndef RAFTKV_API_MEMBERS_H
#define RAFTKV_API_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../http/http_server.h"
#include "../raft/raft.h"

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
	char addrs[RAFT_MAX_NODES][RAFT_ADDR_MAX + 1]; /* the raft address given for each */
	size_t n_peers;
	/* What the transport's peers were last made to match (sync_transport
	 * runs after every ready step; it only has work when one changed). */
	bool synced;
	uint64_t synced_conf_gen, synced_book_gen;
} members_state;

#endif
