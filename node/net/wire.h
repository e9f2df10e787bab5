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

#define WIRE_VERSION 3 /* 2: challenge and authenticated hello; 3: the sender's incarnation in every message */
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

/* The transport's handshake (WIRE.md, "Connections and the handshake"):
 * the receiver of a connection first sends a challenge carrying a fresh
 * random nonce; the dialer answers with a hello naming sender and intended
 * receiver and, when the cluster has a secret, an HMAC-SHA256 over both ids
 * and the nonce. Same framing, their own types, never passed to Raft
 * (wire_decode refuses them). */
#define WIRE_MSG_HELLO 0x80
#define WIRE_MSG_CHALLENGE 0x81
#define WIRE_NONCE_LEN 16
#define WIRE_MAC_LEN 32
#define WIRE_CHALLENGE_LEN 30 /* 10-byte header + magic u32 + nonce */
#define WIRE_HELLO_LEN 54     /* 10-byte header + magic, from, to u32 + mac */
void wire_encode_challenge(const uint8_t nonce[WIRE_NONCE_LEN], uint8_t out[WIRE_CHALLENGE_LEN]);
/* 0, or -1 with *why when the frame is not a valid challenge. */
int wire_decode_challenge(const uint8_t *frame, size_t len, uint8_t nonce[WIRE_NONCE_LEN],
			  const char **why);
/* mac may be NULL (no cluster secret): the field is sent as zeros. */
void wire_encode_hello(uint32_t from, uint32_t to, const uint8_t *mac, uint8_t out[WIRE_HELLO_LEN]);
/* 0, or -1 with *why when the frame is not a valid hello. mac may be NULL. */
int wire_decode_hello(const uint8_t *frame, size_t len, uint32_t *from, uint32_t *to,
		      uint8_t *mac, const char **why);

/* Snapshot transfer frames (wire_snapshot.h): transport-level like hello,
 * never passed to Raft as such (wire_decode refuses them). */
#define WIRE_MSG_SNAP_CHUNK 0x82
#define WIRE_MSG_SNAP_ACK 0x83

#define WIRE_HDR_LEN 10 /* length u32 | version u8 | type u8 | crc u32 */

/* For the other frame kinds' codecs (wire_snapshot.c): writes the
 * WIRE_HDR_LEN-byte header in front of a body already at f + WIRE_HDR_LEN;
 * checks a frame's length, version, type and checksum and returns its body
 * (NULL and *why if bad). */
void wire_put_header(uint8_t *f, size_t body_len, uint8_t type);
const uint8_t *wire_check_frame(const uint8_t *f, size_t len, size_t *body_len,
				const char **why);
/* The opening every decoder of one frame type shares: the frame checked
 * (wire_check_frame), then its type, which must be `type`, else *why =
 * `expected`. Returns the body and its length, or NULL with *why set; why
 * may be NULL. */
const uint8_t *wire_open_frame(const uint8_t *f, size_t len, uint8_t type, size_t *body_len,
			       const char **why, const char *expected);

#endif
