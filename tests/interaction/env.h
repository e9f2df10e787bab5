/*
 * env.h — the world an interaction script acts on: Raft nodes driven
 * directly through raft.h, each with a disk that distinguishes written from
 * synced, and one network of messages in flight.
 */
#ifndef RAFTKV_INTERACTION_ENV_H
#define RAFTKV_INTERACTION_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../node/raft/raft.h"

#define ENV_MAX_NODES RAFT_MAX_NODES

typedef struct entry_vec {
	raft_entry *v;
	size_t n, cap;
} entry_vec;

typedef struct msg_vec {
	raft_msg *v;
	size_t n, cap;
} msg_vec;

typedef struct env_disk {
	raft_hard_state hs;
	uint64_t snap_index, snap_term; /* the log starts after this entry */
	entry_vec log;                  /* entries snap_index+1 ... */
} env_disk;

typedef struct env_node {
	uint32_t id;
	raft *r;            /* NULL while crashed */
	raft_config cfg;
	unsigned restarts;
	env_disk written;   /* what the node wrote: lost on a crash unless synced */
	env_disk synced;    /* what survives a crash */
	uint64_t unsynced_index, unsynced_term; /* last entry written since the sync */
	bool install_unsynced; /* a snapshot was installed since the sync */
	bool must_sync_pending; /* a ready since the sync had rd.must_sync */
	msg_vec held;       /* messages waiting for the sync (raft_msg_waits_for_disk) */
	uint64_t applied;
	bool isolated;      /* all its links are cut */
	/* The snapshot transfer (stream.c): this node's receiving end, and
	 * its sending ends while it leads. */
	struct snap_recv *in;
	struct env_out {
		uint32_t to;
		uint64_t term, index;
		struct snap_send *s;
	} out[ENV_MAX_NODES];
	size_t n_out;
} env_node;

/* A CHUNK or ACK frame of a snapshot transfer in flight (stream.c). */
typedef struct env_frame {
	uint32_t from, to;
	uint8_t *buf;
	size_t len;
} env_frame;

typedef struct env {
	env_node nodes[ENV_MAX_NODES];
	uint32_t ids[ENV_MAX_NODES];
	size_t n;
	msg_vec net;              /* in flight, in send order */
	env_frame *frames;        /* snapshot transfer frames in flight, in send order */
	size_t n_frames, cap_frames;
	char *dir;                /* snapshot files: <dir>/n<ID>/ (made on first use) */
	uint64_t *applied_term;   /* term applied at each index by anyone (0 = none) */
	size_t cap_applied;
	FILE *out;
} env;

void env_init(env *e, FILE *out);
void env_free(env *e);

/* Creates n voters with ids 1..n, all configured alike from cfg (id, voters
 * and seed are set here). Returns 0, or -1 (printed) if nodes exist. */
int env_add_nodes(env *e, size_t n, const raft_config *cfg);
/* A node `id` that starts empty and joining (raft_config.joining), knowing the
 * voters of add-nodes, with the given incarnation. */
int env_add_joiner(env *e, uint32_t id, uint64_t incarnation);
/* On a crashed node: the disk is gone; it restarts as `incarnation`. */
int env_wipe(env *e, env_node *nd, uint64_t incarnation);
env_node *env_node_get(env *e, uint32_t id); /* NULL (printed) if unknown */
env_node *env_node_up(env *e, uint32_t id);  /* NULL (printed) if unknown or down */

/* One ready: printed, written (not synced), messages sent or held, committed
 * entries applied, raft_advance. Returns false if there was none. */
bool env_ready(env *e, env_node *nd);
/* The disk syncs: held messages leave, raft_persisted is called. */
void env_persist(env *e, env_node *nd);
/* Steps the queued messages for nd that match (from/type 0 = any), at most
 * max of them (0 = all). Returns how many were taken off the network. */
size_t env_deliver(env *e, env_node *nd, uint32_t from, uint8_t type, size_t max, bool drop);
/* Readies, syncs and deliveries on every node until nothing moves. */
void env_stabilize(env *e, const uint32_t *ids, size_t n);

/* Whether a partition cuts the link between from and to. */
bool env_link_cut(const env *e, uint32_t from, uint32_t to);

void env_crash(env *e, env_node *nd);
int env_restart(env *e, env_node *nd);
int env_compact(env *e, env_node *nd, uint64_t index);

void env_print_status(env *e, env_node *nd);
void env_print_log(env *e, env_node *nd);

void env_msg_free(raft_msg *m);

#endif
