/*
 * wire_snapshot.h — the frames that carry a snapshot from a leader to a
 * follower (InstallSnapshot, streamed in chunks with flow control and
 * resume; format in node/net/WIRE.md, "Snapshot transfer").
 *
 * The leader's runtime sends CHUNK frames of its newest snapshot file; the
 * follower writes them aside and answers each with an ACK naming the next
 * offset it wants, which is both the flow control (the leader keeps only a
 * few chunks unacknowledged) and the resume point after a dropped connection
 * or a new leader of the same term. When the last chunk has arrived and the
 * whole stream checked, the follower's runtime steps its core with a
 * RAFT_MSG_SNAPSHOT (node/raft/snapshot.c).
 */
#ifndef RAFTKV_WIRE_SNAPSHOT_H
#define RAFTKV_WIRE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_SNAP_CHUNK_FIXED 61u
#define WIRE_SNAP_ACK_LEN (WIRE_HDR_LEN + 41u)
#define WIRE_SNAP_MAX_CHUNK (WIRE_MAX_FRAME - WIRE_HDR_LEN - WIRE_SNAP_CHUNK_FIXED)

typedef struct wire_snap_chunk {
	uint32_t from, to;
	uint64_t term;       /* the leader's term */
	uint64_t index;      /* the snapshot's applied index ... */
	uint64_t snap_term;  /* ... and its term */
	uint64_t total;      /* bytes of the whole snapshot stream */
	uint64_t offset;     /* where data starts in it */
	bool last;           /* offset + len == total */
	uint32_t stream_crc; /* CRC-32C of the whole stream: the same in every chunk of one
	                        snapshot, so a resumed transfer cannot splice two files */
	const uint8_t *data; /* decoded: points into the frame */
	uint32_t len;
} wire_snap_chunk;

enum wire_snap_status {
	WIRE_SNAP_CONTINUE = 0, /* send from `offset` on */
	WIRE_SNAP_DONE = 1,     /* all received and checked; the install follows */
	WIRE_SNAP_RESTART = 2,  /* refused (damaged, another snapshot, no space): start over at 0 */
};

typedef struct wire_snap_ack {
	uint32_t from, to;
	uint64_t term;
	uint64_t index;     /* which snapshot */
	uint64_t snap_term;
	uint64_t offset;    /* bytes received and stored contiguously: the next one wanted */
	uint8_t status;     /* enum wire_snap_status */
} wire_snap_ack;

/* Encodes one CHUNK frame (malloc'd). 0, or -1 on ENOMEM or fields that the
 * decoder would refuse. */
int wire_encode_snap_chunk(const wire_snap_chunk *c, uint8_t **frame, size_t *len);
/* 0 (c->data points into frame), or -1 with *why. Never reads past len. */
int wire_decode_snap_chunk(const uint8_t *frame, size_t len, wire_snap_chunk *c,
			   const char **why);

void wire_encode_snap_ack(const wire_snap_ack *a, uint8_t out[WIRE_SNAP_ACK_LEN]);
int wire_decode_snap_ack(const uint8_t *frame, size_t len, wire_snap_ack *a, const char **why);

#endif
