/*
 * peer_auth.h — the proof in a peer hello that the dialer knows the cluster
 * secret: HMAC-SHA256(secret, "raftkv-hello-v2" | from | to | nonce), ids as
 * little-endian u32, nonce the receiver's fresh challenge (WIRE.md). The
 * secret never crosses the wire, and a recorded hello is useless on any
 * other connection because every connection gets a new nonce.
 */
#ifndef RAFTKV_PEER_AUTH_H
#define RAFTKV_PEER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Fills mac. 0, or -1 when libcrypto fails. */
int peer_auth_mac(const uint8_t *key, size_t keylen, uint32_t from, uint32_t to,
		  const uint8_t nonce[WIRE_NONCE_LEN], uint8_t mac[WIRE_MAC_LEN]);

/* Whether mac is the right one, compared in constant time. */
bool peer_auth_check(const uint8_t *key, size_t keylen, uint32_t from, uint32_t to,
		     const uint8_t nonce[WIRE_NONCE_LEN], const uint8_t mac[WIRE_MAC_LEN]);

/* A fresh random nonce from the kernel. 0, or -1. */
int peer_auth_nonce(uint8_t nonce[WIRE_NONCE_LEN]);

#endif
