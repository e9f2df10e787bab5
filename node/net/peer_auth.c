/* peer_auth.c — HMAC-SHA256 hello proofs (see peer_auth.h), with OpenSSL's libcrypto. */
#include "peer_auth.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define LABEL "raftkv-hello-v2"

int peer_auth_mac(const uint8_t *key, size_t keylen, uint32_t from, uint32_t to,
		  const uint8_t nonce[WIRE_NONCE_LEN], uint8_t mac[WIRE_MAC_LEN])
{
	uint8_t msg[sizeof LABEL - 1 + 8 + WIRE_NONCE_LEN];
	size_t n = sizeof LABEL - 1;
	memcpy(msg, LABEL, n);
	for (int i = 0; i < 4; i++) {
		msg[n + (size_t)i] = (uint8_t)(from >> (8 * i));
		msg[n + 4 + (size_t)i] = (uint8_t)(to >> (8 * i));
	}
	memcpy(msg + n + 8, nonce, WIRE_NONCE_LEN);
	unsigned int out_len = 0;
	if (keylen > INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, sizeof msg, mac, &out_len) == NULL ||
	    out_len != WIRE_MAC_LEN)
		return -1;
	return 0;
}

bool peer_auth_check(const uint8_t *key, size_t keylen, uint32_t from, uint32_t to,
		     const uint8_t nonce[WIRE_NONCE_LEN], const uint8_t mac[WIRE_MAC_LEN])
{
	uint8_t want[WIRE_MAC_LEN];
	if (peer_auth_mac(key, keylen, from, to, nonce, want) != 0)
		return false;
	return CRYPTO_memcmp(want, mac, WIRE_MAC_LEN) == 0;
}

int peer_auth_nonce(uint8_t nonce[WIRE_NONCE_LEN])
{
	size_t got = 0;
	while (got < WIRE_NONCE_LEN) {
		ssize_t n = getrandom(nonce + got, WIRE_NONCE_LEN - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}
