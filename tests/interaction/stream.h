/*
 * stream.h — the runtime's half of InstallSnapshot in the interaction
 * scripts: snapshot files written at `compact`, and the chunked transfer
 * that a leader's `snapshot` message stands for, driven step by step with
 * the real sender and receiver (node/snapshot/snapshot_xfer.h) and the real
 * CHUNK/ACK frames (node/net/wire_snapshot.h). The scripts that do not use
 * the `stream` commands see none of it.
 */
#ifndef RAFTKV_INTERACTION_STREAM_H
#define RAFTKV_INTERACTION_STREAM_H

#include "env.h"

/* Writes nd's snapshot file at index (term) from its newest older file plus
 * the entries compacted now (ents[0..n): the ones after that file, up to
 * index). 0, or -1 (printed). */
int stream_write_file(env *e, env_node *nd, uint64_t index, uint64_t term,
		      const raft_entry *ents, size_t n);
/* nd crashed: its transfers (both ends) are gone with its memory. */
void stream_node_down(env *e, env_node *nd);
/* nd's disk is gone: its snapshot files too. */
void stream_node_wipe(env *e, env_node *nd);
void stream_free(env *e);

/* Commands (README.md). */
void stream_open(env *e, env_node *leader, uint32_t to, uint64_t chunk, uint64_t window);
void stream_send(env *e, env_node *leader);
void stream_rewind(env *e, env_node *leader, uint32_t to);
void stream_deliver(env *e, env_node *nd, uint32_t from, size_t max, bool drop);
void stream_net(env *e);

#endif
