/*
 * wire.h — encoding of raft_msg into peer frames (format in node/net/WIRE.md).
 * Pure functions: no I/O, usable from tests and fuzzers.
 */
#ifndef RAFTKV_WIRE_H
#define RAFTKV_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../raft/raft.h"

#define WIRE_VERSION 1
#define WIRE_MAX_FRAME (64u << 20) /* frames above this are refused */

/* Encodes m as one complete frame (length prefix included) into a malloc'd
 * buffer. 0, or -1 on ENOMEM. */
int wire_encode(const raft_msg *m, uint8_t **frame, size_t *len);

/* Given the first bytes of a stream, says how long the next frame is:
 * returns the total frame length (>0) once enough header bytes are present,
 * 0 if more bytes are needed, -1 if the header is invalid (bad length/version). */
long wire_frame_length(const uint8_t *buf, size_t avail);

/* Decodes one complete frame. On success m->entries is malloc'd (and each
 * entry's data points into one malloc'd block): release with wire_msg_free.
 * 0, or -1 with a short reason in *why (static string). Never reads past len. */
int wire_decode(const uint8_t *frame, size_t len, raft_msg *m, const char **why);
void wire_msg_free(raft_msg *m);

/* The transport's handshake: the first frame on every connection, sent by
 * the dialer, naming sender and intended receiver. Same framing, its own
 * type, never passed to Raft (wire_decode refuses it). */
#define WIRE_MSG_HELLO 0x80
#define WIRE_HELLO_LEN 22 /* 10-byte header + 12-byte body */
void wire_encode_hello(uint32_t from, uint32_t to, uint8_t out[WIRE_HELLO_LEN]);
/* 0, or -1 with *why when the frame is not a valid hello. */
int wire_decode_hello(const uint8_t *frame, size_t len, uint32_t *from, uint32_t *to,
		      const char **why);

/* Snapshot transfer frames (wire_snapshot.h): transport-level like hello,
 * never passed to Raft as such (wire_decode refuses them). */
#define WIRE_MSG_SNAP_CHUNK 0x81
#define WIRE_MSG_SNAP_ACK 0x82

/* For the other frame kinds' codecs (wire_snapshot.c): writes the 10-byte
 * header in front of a body already at f + 10; checks a frame's length,
 * version, type and checksum and returns its body (NULL and *why if bad). */
void wire_put_header(uint8_t *f, size_t body_len, uint8_t type);
const uint8_t *wire_check_frame(const uint8_t *f, size_t len, size_t *body_len,
				const char **why);

#endif
