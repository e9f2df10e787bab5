/*
 * http_auth.c — the bearer-token check shared by the node's admin API and
 * the fault agent.
 *
 * The scheme name is case-insensitive (RFC 7235 section 2.1). The tokens are
 * compared through their SHA-256 digests with CRYPTO_memcmp, so the time
 * taken depends on neither the token's length nor where the first differing
 * byte is: a mismatched length does not return early.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http_server.h"

static int digest(const char *s, uint8_t out[32])
{
	unsigned int n = 0;
	return EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

bool http_bearer_ok(const char *authorization, const char *token)
{
	if (token == NULL)
		return true;
	const char *got = authorization != NULL ? authorization : "";
	bool scheme = strncasecmp(got, "Bearer ", 7) == 0;
	got = scheme ? got + 7 : "";
	while (*got == ' ')
		got++;
	uint8_t a[32], b[32];
	if (digest(token, a) != 0 || digest(got, b) != 0)
		return false;
	return (CRYPTO_memcmp(a, b, sizeof a) == 0) & scheme;
}
