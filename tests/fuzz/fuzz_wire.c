/*
 * fuzz_wire.c — the peer frame decoder (node/net/wire.c) on hostile bytes:
 * the stream cutter, the message decoder and both handshake frames. A frame
 * that decodes must encode back to the same bytes (the format has one
 * spelling per message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../node/net/wire.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		long flen = wire_frame_length(data + off, size - off);
		if (flen <= 0 || (size_t)flen > size - off)
			break;
		const uint8_t *f = data + off;
		raft_msg m;
		const char *why = NULL;
		if (wire_decode(f, (size_t)flen, &m, &why) == 0) {
			uint8_t *again;
			size_t len;
			FUZZ_CHECK(wire_encode(&m, &again, &len) == 0);
			FUZZ_CHECK(len == (size_t)flen && memcmp(again, f, len) == 0);
			free(again);
			wire_msg_free(&m);
		} else {
			FUZZ_CHECK(why != NULL);
		}
		uint32_t from, to;
		uint8_t mac[WIRE_MAC_LEN], nonce[WIRE_NONCE_LEN];
		if (wire_decode_hello(f, (size_t)flen, &from, &to, mac, NULL) == 0)
			FUZZ_CHECK(flen == WIRE_HELLO_LEN);
		if (wire_decode_challenge(f, (size_t)flen, nonce, NULL) == 0)
			FUZZ_CHECK(flen == WIRE_CHALLENGE_LEN);
		off += (size_t)flen;
	}
	/* The whole input as one frame, whatever its length prefix says. */
	raft_msg m;
	if (wire_decode(data, size, &m, NULL) == 0)
		wire_msg_free(&m);
	return 0;
}
