/* addr.c — "HOST:PORT" parsing (see addr.h). */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int addr_split(const char *s, char *host, size_t hostlen, uint16_t *port,
	       char *err, size_t errlen)
{
	if (s == NULL) {
		snprintf(err, errlen, "no address");
		return -1;
	}
	/* The last colon separates the port, so "HOST:PORT" and ":PORT" both work. */
	const char *colon = strrchr(s, ':');
	if (colon == NULL) {
		snprintf(err, errlen, "missing ':PORT'");
		return -1;
	}
	size_t hl = (size_t)(colon - s);
	if (hl + 1 > hostlen) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	const char *p = colon + 1;
	if (*p == '\0') {
		snprintf(err, errlen, "missing port");
		return -1;
	}
	unsigned long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(err, errlen, "bad port");
			return -1;
		}
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535) {
			snprintf(err, errlen, "port out of range");
			return -1;
		}
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	return 0;
}

int addr_host_numeric(const char *host, struct in_addr *ip)
{
	if (host[0] == '\0' || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0) {
		ip->s_addr = htonl(INADDR_ANY);
		return 1;
	}
	if (strcmp(host, "localhost") == 0) {
		ip->s_addr = htonl(INADDR_LOOPBACK);
		return 1;
	}
	return inet_pton(AF_INET, host, ip) == 1;
}

int addr_parse(const char *s, struct sockaddr_in *out, char *err, size_t errlen)
{
	/* A DNS name is at most 253 characters; anything longer is refused. */
	char host[256];
	uint16_t port;
	if (addr_split(s, host, sizeof host, &port, err, errlen) != 0)
		return -1;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons(port);
	if (addr_host_numeric(host, &out->sin_addr))
		return 0;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "cannot resolve host '%s': %s", host,
			 rc != 0 ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	out->sin_addr = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

void addr_format(const struct sockaddr_in *sa, char *buf, size_t buflen)
{
	char ip[INET_ADDRSTRLEN];
	if (inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip) == NULL)
		snprintf(ip, sizeof ip, "?");
	snprintf(buf, buflen, "%s:%u", ip, (unsigned)ntohs(sa->sin_port));
}

void net_ignore_sigpipe(void)
{
	struct sigaction cur;
	if (sigaction(SIGPIPE, NULL, &cur) != 0 || cur.sa_handler != SIG_DFL)
		return;
	struct sigaction ign;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	if (sigemptyset(&ign.sa_mask) != 0)
		return;
	/* Failure leaves the default: writes to a closed socket would then
	 * kill the process, which the tests would show at once. */
	(void)sigaction(SIGPIPE, &ign, NULL);
}
