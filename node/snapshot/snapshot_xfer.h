/*
 * snapshot_xfer.h — both ends of streaming a snapshot file to a follower
 * (InstallSnapshot), independent of sockets and loops: the runtime moves the
 * frames (node/net/wire_snapshot.h) and calls these.
 *
 * Sender (leader, one per follower): reads its snapshot file in chunks,
 * keeps at most `window` chunks beyond the last acknowledged offset in
 * flight (flow control: heartbeats and other followers' traffic are not
 * starved), resends from the acknowledged offset after a lost connection
 * (snap_send_rewind) or when the follower asks for it.
 *
 * Receiver (follower): writes the chunks in order to a temporary file beside
 * the snapshots and feeds them to a snapshot reader at once, so the state
 * machine is rebuilt (and every byte checked) while the data arrives. A
 * duplicate is acknowledged again, a gap is answered with the offset it
 * wants, a chunk of another snapshot starts over. When the last byte has
 * checked, the file is fsynced and renamed to its snapshot name (so a crash
 * after the install restarts from it) and the restored machine is handed
 * over. The transfer is keyed by (index, term, stream CRC), not by the
 * sender, so whoever sends the same snapshot continues where it stopped.
 */
#ifndef RAFTKV_SNAPSHOT_XFER_H
#define RAFTKV_SNAPSHOT_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../net/wire_snapshot.h"
#include "snapshot.h"

#define SNAP_XFER_CHUNK (1u << 20)
#define SNAP_XFER_WINDOW 4u

typedef struct snap_send snap_send;

/* Opens path (a snapshot file of (index, term)) for sending to `to`. NULL
 * and err when it cannot be read or is too short to be a snapshot. */
snap_send *snap_send_open(const char *path, uint64_t index, uint64_t term, uint32_t from,
			  uint32_t to, uint64_t leader_term, size_t chunk, size_t window,
			  char *err, size_t errlen);
void snap_send_free(snap_send *s);

/* The next CHUNK frame (malloc'd) when the window allows: 1, or 0 when
 * nothing is to be sent now, or -1 with err (read failure). */
int snap_send_next(snap_send *s, uint8_t **frame, size_t *len, char *err, size_t errlen);

/* An ACK from the follower. 0 going on, 1 done (the follower holds the whole
 * snapshot; report success to the core), -1 given up (too many restarts:
 * report failure). ACKs of another snapshot or follower are ignored (0). */
int snap_send_ack(snap_send *s, const wire_snap_ack *a);

/* The connection dropped: resend from the last acknowledged offset. */
void snap_send_rewind(snap_send *s);

uint64_t snap_send_acked(const snap_send *s);
uint64_t snap_send_total(const snap_send *s);
uint64_t snap_send_chunks_sent(const snap_send *s);

typedef struct snap_recv snap_recv;

/* Receives into dir (the node's snapshot directory). */
snap_recv *snap_recv_new(const char *dir);
/* Frees r; with an I/O step begun, only once snap_recv_io_run returned
 * (or never will run). */
void snap_recv_free(snap_recv *r);

/* snap_recv_chunk's answers besides 0, 1 and -1 (deferred I/O only). */
#define SNAP_RECV_QUEUED 2 /* accepted; its ACK comes from snap_recv_io_end */
#define SNAP_RECV_NO_ACK 3 /* not taken now (the disk step of another transfer
			      or of the final fsync is running); no answer: the
			      sender resends after its timeout, or DONE follows */

/* Handles one chunk; *ack is the answer to send. Every chunk is checked as
 * it arrives (the snapshot reader rebuilds the state machine from it); its
 * bytes are written by the I/O step below.
 *   Synchronous (the default): the I/O step runs inside this call. 0 keep
 *   going, 1 complete (take the result with snap_recv_take), -1 with err
 *   when the chunk or the stream was refused (the ack then says restart;
 *   nothing is installed).
 *   Deferred (snap_recv_set_deferred): no disk I/O here. 0 or -1 as above
 *   (an answer now: an acknowledgement, a duplicate, a gap, a refusal), or
 *   SNAP_RECV_QUEUED or
 *   SNAP_RECV_NO_ACK (nothing to send now); then, whenever
 *   snap_recv_io_wanted, the caller runs the I/O step: snap_recv_io_begin
 *   (its thread), snap_recv_io_run (any thread, e.g. a worker: it touches
 *   only the file and the bytes handed over by begin), snap_recv_io_end
 *   (its thread again). A chunk is acknowledged at once while what is
 *   accepted runs at most SNAP_RECV_AHEAD (snap_recv_set_ahead) beyond
 *   what is written, otherwise by the step that writes it: so the leader
 *   streams on while the disk catches up, what waits in memory stays below
 *   that plus the leader's window, and DONE leaves only once the file is
 *   durable under its snapshot name. */
int snap_recv_chunk(snap_recv *r, const wire_snap_chunk *c, wire_snap_ack *ack, char *err,
		    size_t errlen);

void snap_recv_set_deferred(snap_recv *r, bool deferred);
#define SNAP_RECV_AHEAD ((uint64_t)8 << 20)
void snap_recv_set_ahead(snap_recv *r, uint64_t bytes);
/* Bytes wait to be written, or the final fsync and rename, and no I/O step
 * is running. */
bool snap_recv_io_wanted(const snap_recv *r);
void snap_recv_io_begin(snap_recv *r);
/* Whether the step begun is the final one (it fsyncs). */
bool snap_recv_io_final(const snap_recv *r);
void snap_recv_io_run(snap_recv *r);
/* The step's outcome and *ack to send: 0 keep going (ack CONTINUE), 1
 * complete (ack DONE; snap_recv_take), -1 with err (ack RESTART, the
 * transfer dropped), SNAP_RECV_NO_ACK (nothing to send: everything
 * acknowledged already, or the transfer was dropped). */
int snap_recv_io_end(snap_recv *r, wire_snap_ack *ack, char *err, size_t errlen);

/* After snap_recv_chunk returned 1: the restored state machine (into *out,
 * uninitialised on entry), what it is of, and its durable file. 0, or -1 if
 * nothing is complete. */
int snap_recv_take(snap_recv *r, kv_machine *out, kv_snap_meta *meta, char *path,
		   size_t pathlen);

uint64_t snap_recv_chunks(const snap_recv *r);

#ifdef RAFT_PLANTED_BUGS
/* Planted bug 40 (node/runtime/rt_planted.h): every stream this receiver
 * starts is taken without its final checksum. Simulator builds only. */
void snap_recv_plant_unchecked(snap_recv *r);
#endif

#endif
