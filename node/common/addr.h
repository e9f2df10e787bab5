/*
 * addr.h — parsing of "HOST:PORT" / ":PORT" listen and peer addresses.
 *
 * Shared by the HTTP server, the peer transport and the fault agent so that
 * every flag spells addresses the same way. IPv4 only: an empty host means
 * all interfaces (0.0.0.0), "localhost" means 127.0.0.1, anything else is a
 * dotted quad or a name resolved through the system resolver.
 */
#ifndef RAFTKV_ADDR_H
#define RAFTKV_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* The two halves of an address, host copied into a caller-sized buffer.
 * 0, or -1 with a reason in err ("missing port", "bad port", "host too long"). */
int addr_split(const char *s, char *host, size_t hostlen, uint16_t *port,
	       char *err, size_t errlen);

/* True when host needs no resolver ("" / "localhost" / dotted quad);
 * then *ip is filled (network byte order). */
int addr_host_numeric(const char *host, struct in_addr *ip);

/* Full parse into a sockaddr_in, resolving names synchronously (getaddrinfo:
 * only for start-up, never on the event loop's hot path).
 * 0, or -1 with a one-line reason in err. */
int addr_parse(const char *s, struct sockaddr_in *out, char *err, size_t errlen);

/* Makes writes to a vanished peer fail with EPIPE instead of killing the
 * process with SIGPIPE (libuv writes with write(2)). Only replaces the
 * default disposition, never a handler the program installed. Called by the
 * HTTP server and the transport when they start. */
void net_ignore_sigpipe(void);

/* Formats "a.b.c.d:port" into buf (at least 22 bytes for a full answer). */
void addr_format(const struct sockaddr_in *sa, char *buf, size_t buflen);

#endif
