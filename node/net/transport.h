/*
 * transport.h — the peer transport: TCP between Raft nodes on one libuv loop.
 *
 * One persistent outbound connection per peer (this node dials every peer and
 * sends only on its own outbound connection; it receives on the connections
 * peers dial to it), reconnect with exponential backoff, frames as described
 * in node/net/WIRE.md (length prefix, version, type, checksum). A frame that
 * fails to decode closes that connection and is counted; the node goes on.
 *
 * The transport does not decode, filter or delay: it cuts frames and hands
 * them to the runtime (node/runtime/rt_peer.c), which alone filters, decodes
 * and steps them, and which sends through transport_send_frame.
 */
#ifndef RAFTKV_TRANSPORT_H
#define RAFTKV_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../raft/raft.h"

typedef struct transport transport;

/* Called for each complete frame from peer `from` (as it introduced itself);
 * the frame is valid only during the call. The receiver filters, decodes and
 * steps it (node/runtime/rt_peer.c); it returns -1 for a frame that does not
 * decode or names another sender, and the transport closes that connection. */
typedef int (*transport_recv_cb)(void *ud, uint32_t from, const uint8_t *frame, size_t len);

typedef struct transport_stats {
	uint64_t frames_sent, frames_received, bytes_sent, bytes_received;
	uint64_t bad_frames, connects, disconnects, dropped_queue_full;
	uint64_t dropped_not_connected; /* sends to an unknown or unconnected peer */
	uint64_t refused_inbound; /* inbound connections over TRANSPORT_MAX_INBOUND, closed at once */
	uint64_t late_hellos;     /* inbound connections closed for no hello in time */
} transport_stats;
/* frames_sent includes the one hello per connection; connects and disconnects
 * count this node's outbound connections; bad_frames counts inbound ones
 * closed for a bad frame. */

/* Binds listen_addr ("HOST:PORT" or ":PORT"). 0, or -1 with a one-line err
 * (e.g. "raft address :3030: address already in use"). */
int transport_start(uv_loop_t *loop, uint32_t self, const char *listen_addr,
		    transport_recv_cb cb, void *ud, transport **out, char *err, size_t errlen);

/* Declares a peer and starts dialing it. 0 or -1 (bad address / ENOMEM). */
int transport_add_peer(transport *t, uint32_t id, const char *addr);

/* Forgets a peer (membership change): its connection is closed and sends to
 * it are dropped. The id may be added again later, with any address. 0, or -1
 * if unknown. */
int transport_remove_peer(transport *t, uint32_t id);

/* Sets the cluster secret: from now on a hello is accepted only with a
 * valid proof (HMAC over the connection's nonce, WIRE.md), and our hellos
 * carry one. The key is copied. 0, or -1 (empty key, ENOMEM). */
int transport_set_secret(transport *t, const void *key, size_t len);

/* Sends one encoded frame (from wire_encode) to peer `to`. Takes ownership of
 * frame (freed with free()). If the peer is not connected or its queue is over
 * the limit the frame is dropped: Raft retransmits. Returns 0 queued, -1 dropped. */
int transport_send_frame(transport *t, uint32_t to, uint8_t *frame, size_t len);

void transport_get_stats(const transport *t, transport_stats *st);

/* Per-peer limit on bytes queued and in flight (default 16 MiB); frames
 * beyond it are dropped and counted in dropped_queue_full. */
void transport_set_queue_limit(transport *t, size_t bytes);

/* The bound listen port (after ":0" in tests), or -1. */
int transport_port(const transport *t);

/* Closes all handles; done(ud) runs when every handle is closed. */
void transport_close(transport *t, void (*done)(void *ud), void *ud);

#endif
