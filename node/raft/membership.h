/*
 * membership.h — the configuration as the log states it: single-server
 * membership changes, learners, incarnations (see membership.c and the
 * "Membership" section of README.md).
 */
#ifndef RAFTKV_RAFT_MEMBERSHIP_H
#define RAFTKV_RAFT_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft.h"

typedef struct member {
	uint32_t id;
	bool voter;
	bool auto_promote;    /* the leader promotes it once caught up */
	uint64_t incarnation; /* which life of node `id` this member is */
	char addr[RAFT_ADDR_MAX + 1];
} member;

/* A whole configuration, plus the change that produced it (from the CONF
 * entry; op 0 for the base configuration). */
typedef struct member_conf {
	member m[RAFT_MAX_NODES];
	size_t n;
	uint8_t op;           /* enum raft_conf_op of the entry, 0 = base */
	uint32_t subject;     /* the node the change was about */
	uint64_t next_incarnation; /* REMOVE: the incarnation that replaces it (0 = none) */
	char subject_addr[RAFT_ADDR_MAX + 1];
} member_conf;

/* Encoding of a CONF entry's data (the whole configuration after the change;
 * little-endian): u8 version(1) u8 op u32 subject u64 next_incarnation
 * u8 addr_len addr; u8 n; then per member: u32 id u8 flags(1 voter, 2
 * auto_promote) u64 incarnation u8 addr_len addr. */
int membership_encode(const member_conf *c, uint8_t **out, uint32_t *len);
int membership_decode(const uint8_t *data, size_t len, member_conf *c);

const member *membership_find(const member_conf *c, uint32_t id);

#endif
