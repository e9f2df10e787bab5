/*
 * peer_send.c — raftkv-peer-send: plays a (possibly hostile) peer for the
 * bats tests. Dials a node's Raft port, reads its challenge, sends a hello
 * (with a proof when given a secret) and COUNT copies of one message, then
 * says whether the node kept the connection open.
 *
 *   raftkv-peer-send HOST:PORT FROM TO TYPE TERM [COUNT] [SECRET]
 *
 * TYPE is a raft_msg_type number (6 = heartbeat). Prints "open" or "closed"
 * on stdout; exit 0 when it could dial and send, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../node/common/addr.h"
#include "../../node/net/peer_auth.h"
#include "../../node/net/wire.h"

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int parse_u64(const char *s, unsigned long long *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0') ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: %s HOST:PORT FROM TO TYPE TERM [COUNT] [SECRET]\n", argv[0]);
		return 2;
	}
	struct sockaddr_in sa;
	char why[128];
	unsigned long long from, to, type, term, count = 1;
	if (addr_parse(argv[1], &sa, why, sizeof why) != 0 || parse_u64(argv[2], &from) ||
	    parse_u64(argv[3], &to) || parse_u64(argv[4], &type) || parse_u64(argv[5], &term) ||
	    (argc > 6 && parse_u64(argv[6], &count)) || from > UINT32_MAX || to > UINT32_MAX ||
	    type > 255) {
		fprintf(stderr, "peer-send: bad arguments\n");
		return 2;
	}
	const char *secret = argc > 7 ? argv[7] : NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 2 };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("peer-send: connect");
		return 1;
	}
	uint8_t ch[WIRE_CHALLENGE_LEN], nonce[WIRE_NONCE_LEN], mac[WIRE_MAC_LEN];
	uint8_t hello[WIRE_HELLO_LEN];
	if (recv_all(fd, ch, sizeof ch) != 0 ||
	    wire_decode_challenge(ch, sizeof ch, nonce, NULL) != 0) {
		fprintf(stderr, "peer-send: no challenge from %s\n", argv[1]);
		close(fd);
		return 1;
	}
	if (secret != NULL && peer_auth_mac((const uint8_t *)secret, strlen(secret), (uint32_t)from,
					    (uint32_t)to, nonce, mac) != 0) {
		close(fd);
		return 1;
	}
	wire_encode_hello((uint32_t)from, (uint32_t)to, secret ? mac : NULL, hello);
	raft_msg m = { .type = (uint8_t)type, .from = (uint32_t)from, .to = (uint32_t)to, .term = term };
	uint8_t *f;
	size_t len;
	if (send_all(fd, hello, sizeof hello) != 0 || wire_encode(&m, &f, &len) != 0) {
		printf("closed\n");
		close(fd);
		return 0;
	}
	int rc = 0;
	for (unsigned long long i = 0; i < count && rc == 0; i++)
		rc = send_all(fd, f, len);
	free(f);
	/* The node never writes after the challenge: EOF or a reset means it
	 * refused us, a timeout means the connection is still open. */
	uint8_t b;
	ssize_t r = rc == 0 ? recv(fd, &b, 1, 0) : 0;
	printf("%s\n", (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ? "open" : "closed");
	close(fd);
	return 0;
}
