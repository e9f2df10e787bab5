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

#endif
