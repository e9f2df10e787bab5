/*
 * test_net_transport.c — transports on 127.0.0.1 exchanging messages on one
 * loop: delivery in order, reconnection after a peer restarts, survival of
 * garbage on the listen port, the queue limit, and clean shutdown.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <errno.h>
#include <cmocka.h>
#include <uv.h>

#include "../../node/common/addr.h"
#include "../../node/net/peer_auth.h"
#include "../../node/net/transport.h"
#include "../../node/net/wire.h"

#define MAX_GOT 5000

typedef struct node {
	uint32_t id;
	transport *t;
	int port;
	size_t got;
	uint8_t type[MAX_GOT];
	uint32_t from[MAX_GOT];
	uint64_t term[MAX_GOT];
	size_t entries[MAX_GOT];
	bool closed;
} node;

static uv_loop_t loop;

/* What the node's runtime does with a frame (rt_peer.c): decode it, check it
 * names the connection's peer and us, or report it bad. */
static int on_recv(void *ud, uint32_t from, const uint8_t *frame, size_t len)
{
	node *n = ud;
	raft_msg mm;
	const raft_msg *m = &mm;
	const char *why = NULL;
	if (wire_decode(frame, len, &mm, &why) != 0)
		return -1;
	if (mm.from != from || n == NULL || mm.to != n->id) {
		wire_msg_free(&mm);
		return -1;
	}
	if (n->got < MAX_GOT) {
		n->type[n->got] = m->type;
		n->from[n->got] = m->from;
		n->term[n->got] = m->term;
		n->entries[n->got] = m->n_entries;
		for (size_t i = 0; i < m->n_entries; i++)
			assert_int_equal(m->entries[i].len, 3);
	}
	n->got++;
	wire_msg_free(&mm);
	return 0;
}

static void on_closed(void *ud)
{
	((node *)ud)->closed = true;
}

static void start_node(node *n, uint32_t id, int port)
{
	memset(n, 0, sizeof *n);
	n->id = id;
	char addr[32], err[256];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	if (transport_start(&loop, id, addr, on_recv, n, &n->t, err, sizeof err) != 0)
		fail_msg("%s", err);
	n->port = transport_port(n->t);
	assert_true(n->port > 0);
}

static void add_peer(node *n, const node *peer)
{
	char addr[32];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", peer->port);
	assert_int_equal(transport_add_peer(n->t, peer->id, addr), 0);
}

static bool timed_out;
static void on_guard(uv_timer_t *t)
{
	(void)t;
	timed_out = true;
}

/* Runs the loop until pred(arg) holds or ms pass; returns pred's last value. */
static bool run_until(bool (*pred)(void *), void *arg, uint64_t ms)
{
	uv_timer_t guard;
	assert_int_equal(uv_timer_init(&loop, &guard), 0);
	timed_out = false;
	assert_int_equal(uv_timer_start(&guard, on_guard, ms, 0), 0);
	bool ok;
	while (!(ok = pred(arg)) && !timed_out)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	return ok;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static uint64_t stat_connects(const node *n)
{
	transport_stats st;
	transport_get_stats(n->t, &st);
	return st.connects;
}

typedef struct want {
	const node *n;
	uint64_t v;
} want;

static bool connects_at_least(void *arg)
{
	want *w = arg;
	return stat_connects(w->n) >= w->v;
}

static bool got_at_least(void *arg)
{
	want *w = arg;
	return w->n->got >= w->v;
}

static bool bad_at_least(void *arg)
{
	want *w = arg;
	transport_stats st;
	transport_get_stats(w->n->t, &st);
	return st.bad_frames >= w->v;
}

static bool is_closed(void *arg)
{
	return ((node *)arg)->closed;
}

static void close_node(node *n)
{
	transport_close(n->t, on_closed, n);
	assert_true(run_until(is_closed, n, 5000));
}

static int send_msg(node *from, uint32_t to, uint8_t type, uint64_t term, size_t n_entries)
{
	raft_entry es[4];
	uint8_t data[3] = { 'a', 'b', 'c' };
	for (size_t i = 0; i < n_entries && i < 4; i++)
		es[i] = (raft_entry){ .term = term, .index = i + 1, .len = 3, .data = data };
	raft_msg m = { .type = type, .from = from->id, .to = to, .term = term,
		       .n_entries = n_entries, .entries = n_entries ? es : NULL };
	uint8_t *f;
	size_t len;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	return transport_send_frame(from->t, to, f, len);
}

static int setup(void **state)
{
	(void)state;
	return uv_loop_init(&loop);
}

static int teardown(void **state)
{
	(void)state;
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	return 0;
}

static void test_three_nodes_exchange(void **state)
{
	(void)state;
	static node n[3];
	for (int i = 0; i < 3; i++)
		start_node(&n[i], (uint32_t)i + 1, 0);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				add_peer(&n[i], &n[j]);
	for (int i = 0; i < 3; i++) {
		want w = { &n[i], 2 };
		assert_true(run_until(connects_at_least, &w, 5000));
	}
	/* Everyone sends to everyone; one iteration's sends go as one batch. */
	for (int k = 0; k < 1000; k++)
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				if (i != j)
					assert_int_equal(send_msg(&n[i], n[j].id, RAFT_MSG_APPEND,
								  (uint64_t)k, (size_t)k % 4), 0);
	for (int i = 0; i < 3; i++) {
		want w = { &n[i], 2000 };
		assert_true(run_until(got_at_least, &w, 10000));
		assert_int_equal(n[i].got, 2000);
	}
	/* Per sender, messages arrive in the order sent. */
	for (int i = 0; i < 3; i++) {
		uint64_t next[4] = { 0 };
		for (size_t k = 0; k < n[i].got; k++) {
			uint32_t f = n[i].from[k];
			assert_true(n[i].term[k] == next[f]);
			assert_int_equal(n[i].entries[k], n[i].term[k] % 4);
			next[f]++;
		}
	}
	transport_stats st;
	transport_get_stats(n[0].t, &st);
	assert_true(st.frames_sent >= 2000);
	assert_int_equal(st.frames_received, 2000);
	assert_int_equal(st.bad_frames, 0);
	/* Unknown destination: dropped (the frame is freed, ASan checks). */
	assert_int_equal(send_msg(&n[0], 42, RAFT_MSG_HEARTBEAT, 1, 0), -1);
	for (int i = 0; i < 3; i++)
		close_node(&n[i]);
}

static void test_peer_restart(void **state)
{
	(void)state;
	static node a, b;
	start_node(&a, 1, 0);
	start_node(&b, 2, 0);
	int bport = b.port;
	add_peer(&a, &b);
	add_peer(&b, &a);
	want w = { &a, 1 };
	assert_true(run_until(connects_at_least, &w, 5000));
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_VOTE, 1, 0), 0);
	want g = { &b, 1 };
	assert_true(run_until(got_at_least, &g, 5000));

	/* b goes away; a notices, drops sends, and keeps redialing. */
	close_node(&b);
	run_until(never, NULL, 400);
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_VOTE, 2, 0), -1);
	transport_stats st;
	transport_get_stats(a.t, &st);
	assert_int_equal(st.disconnects, 1);
	assert_int_equal(st.dropped_not_connected, 1);

	/* b comes back on the same port: a reconnects by itself. */
	start_node(&b, 2, bport);
	add_peer(&b, &a);
	w.v = 2;
	assert_true(run_until(connects_at_least, &w, 5000));
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_VOTE, 3, 0), 0);
	g.v = 1;
	assert_true(run_until(got_at_least, &g, 5000));
	assert_true(b.term[0] == 3);
	close_node(&a);
	close_node(&b);
}

static int raw_dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void raw_send(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static bool peer_closed(int fd)
{
	/* After the loop ran, the server side has closed: read sees EOF/reset
	 * (after the challenge it sent on accept). A timeout means still open. */
	struct timeval tv = { .tv_sec = 2 };
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	char c[64];
	for (;;) {
		ssize_t n = recv(fd, c, sizeof c, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

typedef struct chal_read {
	int fd;
	uint8_t buf[WIRE_CHALLENGE_LEN];
	size_t got;
} chal_read;

static bool challenge_in(void *arg)
{
	chal_read *r = arg;
	ssize_t n = recv(r->fd, r->buf + r->got, sizeof r->buf - r->got, MSG_DONTWAIT);
	if (n > 0)
		r->got += (size_t)n;
	return r->got == sizeof r->buf;
}

/* Reads the challenge the receiver sends on accept (running the loop, which
 * accepts and writes it); returns its nonce. */
static void raw_read_challenge(int fd, uint8_t nonce[WIRE_NONCE_LEN])
{
	chal_read r = { .fd = fd };
	assert_true(run_until(challenge_in, &r, 5000));
	assert_int_equal(wire_decode_challenge(r.buf, sizeof r.buf, nonce, NULL), 0);
}

static void test_garbage_survived(void **state)
{
	(void)state;
	static node a, b;
	start_node(&a, 1, 0);
	start_node(&b, 2, 0);
	add_peer(&a, &b);
	add_peer(&b, &a);
	/* 3 is a member that is not running; 5 is not a member. */
	assert_int_equal(transport_add_peer(b.t, 3, "127.0.0.1:1"), 0);
	int fds[8];
	uint64_t expect_bad = 0;

	/* An HTTP request on the peer port. */
	fds[0] = raw_dial(b.port);
	const char http[] = "GET /kv/x HTTP/1.1\r\nHost: b\r\n\r\n";
	raw_send(fds[0], http, sizeof http - 1);
	expect_bad++;

	/* Random bytes. */
	fds[1] = raw_dial(b.port);
	uint8_t junk[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	raw_send(fds[1], junk, sizeof junk);
	expect_bad++;

	/* A hello addressed to another node. */
	fds[2] = raw_dial(b.port);
	uint8_t hello[WIRE_HELLO_LEN];
	wire_encode_hello(1, 7, NULL, hello);
	raw_send(fds[2], hello, sizeof hello);
	expect_bad++;

	/* A good hello, then a frame with a flipped body byte. */
	fds[3] = raw_dial(b.port);
	wire_encode_hello(3, 2, NULL, hello);
	raft_msg m = { .type = RAFT_MSG_HEARTBEAT, .from = 3, .to = 2, .term = 9 };
	uint8_t *f;
	size_t len;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	raw_send(fds[3], hello, sizeof hello);
	raw_send(fds[3], f, len); /* this one is fine */
	f[len - 1] ^= 0x40;
	raw_send(fds[3], f, len);
	expect_bad++;

	/* A good hello from 3, then a message claiming to be from 1. */
	fds[4] = raw_dial(b.port);
	raw_send(fds[4], hello, sizeof hello);
	free(f);
	m.from = 1;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	raw_send(fds[4], f, len);
	free(f);
	expect_bad++;

	/* A hello from a node that is not a member (issue 15.1). */
	fds[5] = raw_dial(b.port);
	uint8_t stranger[WIRE_HELLO_LEN];
	wire_encode_hello(5, 2, NULL, stranger);
	raw_send(fds[5], stranger, sizeof stranger);
	expect_bad++;

	/* A first frame announcing more than a hello is refused from its
	 * header alone, before any of it is buffered (issue 15.3). */
	fds[6] = raw_dial(b.port);
	uint8_t big[6] = { 0xf6, 0xff, 0xff, 0x03, WIRE_VERSION, RAFT_MSG_APPEND };
	raw_send(fds[6], big, sizeof big);
	expect_bad++;

	/* A truncated frame, then the client leaves. */
	fds[7] = raw_dial(b.port);
	raw_send(fds[7], hello, 7);
	close(fds[7]);

	want wb = { &b, expect_bad };
	assert_true(run_until(bad_at_least, &wb, 5000));
	for (int i = 0; i < 7; i++) {
		assert_true(peer_closed(fds[i]));
		close(fds[i]);
	}
	/* Exactly one message got through: the good heartbeat from 3. */
	assert_int_equal(b.got, 1);
	assert_int_equal(b.from[0], 3);

	/* And real traffic still flows. */
	want w = { &a, 1 };
	assert_true(run_until(connects_at_least, &w, 5000));
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_APPEND, 5, 2), 0);
	want g = { &b, 2 };
	assert_true(run_until(got_at_least, &g, 5000));
	transport_stats st;
	transport_get_stats(b.t, &st);
	assert_int_equal(st.bad_frames, expect_bad);
	close_node(&a);
	close_node(&b);
}

/* Issue 15.1: with a cluster secret a hello must prove knowledge of it over
 * the connection's fresh nonce. Nodes sharing the secret talk; a node with
 * another secret, a hello without a proof, and a replayed hello are refused. */
static void test_secret(void **state)
{
	(void)state;
	static node a, b, c;
	start_node(&a, 1, 0);
	start_node(&b, 2, 0);
	start_node(&c, 3, 0);
	const char key[] = "correct horse", other[] = "battery staple";
	assert_int_equal(transport_set_secret(a.t, key, sizeof key - 1), 0);
	assert_int_equal(transport_set_secret(b.t, key, sizeof key - 1), 0);
	assert_int_equal(transport_set_secret(c.t, other, sizeof other - 1), 0);
	assert_int_equal(transport_set_secret(c.t, other, 0), -1);
	add_peer(&a, &b);
	add_peer(&b, &a);
	add_peer(&b, &c);
	add_peer(&c, &b);
	want w = { &a, 1 };
	assert_true(run_until(connects_at_least, &w, 5000));
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_HEARTBEAT, 7, 0), 0);
	want g = { &b, 1 };
	assert_true(run_until(got_at_least, &g, 5000));
	assert_int_equal(b.from[0], 1);

	/* c has the wrong secret: every hello it sends b is refused. */
	want wb = { &b, 2 };
	assert_true(run_until(bad_at_least, &wb, 5000));
	(void)send_msg(&c, 2, RAFT_MSG_HEARTBEAT, 9, 0);

	/* A hello claiming to be a without any proof. */
	int fd = raw_dial(b.port);
	uint8_t nonce[WIRE_NONCE_LEN], mac[WIRE_MAC_LEN], hello[WIRE_HELLO_LEN];
	raw_read_challenge(fd, nonce);
	wire_encode_hello(1, 2, NULL, hello);
	raw_send(fd, hello, sizeof hello);
	transport_stats st;
	transport_get_stats(b.t, &st);
	want wb2 = { &b, st.bad_frames + 1 };
	assert_true(run_until(bad_at_least, &wb2, 5000));
	assert_true(peer_closed(fd));
	close(fd);

	/* The right proof over this connection's nonce is accepted... */
	fd = raw_dial(b.port);
	raw_read_challenge(fd, nonce);
	assert_int_equal(peer_auth_mac((const uint8_t *)key, sizeof key - 1, 1, 2, nonce, mac), 0);
	wire_encode_hello(1, 2, mac, hello);
	raw_send(fd, hello, sizeof hello);
	raft_msg m = { .type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 8 };
	uint8_t *f;
	size_t len;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	raw_send(fd, f, len);
	g.v = 2;
	assert_true(run_until(got_at_least, &g, 5000));
	assert_true(b.term[1] == 8);
	/* ...and a frame claiming another sender on it is dropped with the connection. */
	free(f);
	m.from = 3;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	raw_send(fd, f, len);
	free(f);
	transport_get_stats(b.t, &st);
	want wb3 = { &b, st.bad_frames + 1 };
	assert_true(run_until(bad_at_least, &wb3, 5000));
	assert_true(peer_closed(fd));
	close(fd);

	/* The same hello replayed on a new connection (new nonce) is refused. */
	fd = raw_dial(b.port);
	raw_read_challenge(fd, nonce);
	raw_send(fd, hello, sizeof hello);
	transport_get_stats(b.t, &st);
	want wb4 = { &b, st.bad_frames + 1 };
	assert_true(run_until(bad_at_least, &wb4, 5000));
	assert_true(peer_closed(fd));
	close(fd);

	/* Only a's two messages ever reached b. */
	run_until(never, NULL, 100);
	assert_int_equal(b.got, 2);
	for (size_t i = 0; i < b.got; i++)
		assert_int_equal(b.from[i], 1);
	close_node(&a);
	close_node(&b);
	close_node(&c);
}

static bool late_hellos_at_least(void *arg)
{
	want *w = arg;
	transport_stats st;
	transport_get_stats(w->n->t, &st);
	return st.late_hellos >= w->v;
}

/* Issue 15.2: strangers cannot use up the node's descriptors through the
 * Raft port: inbound connections are capped, and one that sends no hello is
 * closed after the hello timeout. The member's own connection is unharmed. */
static void test_inbound_limits(void **state)
{
	(void)state;
	static node a, b;
	start_node(&a, 1, 0);
	start_node(&b, 2, 0);
	add_peer(&a, &b);
	add_peer(&b, &a);
	want w = { &a, 1 };
	assert_true(run_until(connects_at_least, &w, 5000));
	int fds[64];
	for (int i = 0; i < 64; i++) {
		fds[i] = raw_dial(b.port);
		run_until(never, NULL, 2); /* let b accept it */
	}
	run_until(never, NULL, 100);
	transport_stats st;
	transport_get_stats(b.t, &st);
	assert_int_equal(st.refused_inbound, 1); /* a's connection and 63 strangers fit */
	assert_true(peer_closed(fds[63]));
	want late = { &b, 63 };
	assert_true(run_until(late_hellos_at_least, &late, 10000));
	for (int i = 0; i < 63; i++)
		assert_true(peer_closed(fds[i]));
	for (int i = 0; i < 64; i++)
		close(fds[i]);
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_HEARTBEAT, 3, 0), 0);
	want g = { &b, 1 };
	assert_true(run_until(got_at_least, &g, 5000));
	assert_int_equal(stat_connects(&a), 1);
	close_node(&a);
	close_node(&b);
}

static void test_queue_limit(void **state)
{
	(void)state;
	static node a, b;
	start_node(&a, 1, 0);
	start_node(&b, 2, 0);
	add_peer(&a, &b);
	add_peer(&b, &a);
	want w = { &a, 1 };
	assert_true(run_until(connects_at_least, &w, 5000));
	run_until(never, NULL, 50); /* let the hello go out */
	transport_set_queue_limit(a.t, 1000);
	int ok = 0, dropped = 0;
	for (int i = 0; i < 100; i++) {
		if (send_msg(&a, 2, RAFT_MSG_APPEND, (uint64_t)i, 0) == 0)
			ok++;
		else
			dropped++;
	}
	assert_true(ok > 0);
	assert_true(dropped > 0);
	transport_stats st;
	transport_get_stats(a.t, &st);
	assert_int_equal(st.dropped_queue_full, (uint64_t)dropped);
	want g = { &b, (uint64_t)ok };
	assert_true(run_until(got_at_least, &g, 5000));
	assert_int_equal(b.got, (size_t)ok);

	/* Issue 15.4: with the queue full of appends, heartbeats and votes are
	 * still taken, and they overtake the appends queued before them. */
	size_t base = b.got;
	int appends = 0;
	while (send_msg(&a, 2, RAFT_MSG_APPEND, 1000 + (uint64_t)appends, 1) == 0)
		appends++;
	assert_true(appends > 0);
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_HEARTBEAT, 7, 0), 0);
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_VOTE, 8, 0), 0);
	g.v = base + (size_t)appends + 2;
	assert_true(run_until(got_at_least, &g, 5000));
	assert_int_equal(b.type[base], RAFT_MSG_HEARTBEAT);
	assert_int_equal(b.type[base + 1], RAFT_MSG_VOTE);
	for (int i = 0; i < appends; i++) {
		assert_int_equal(b.type[base + 2 + (size_t)i], RAFT_MSG_APPEND);
		assert_true(b.term[base + 2 + (size_t)i] == 1000 + (uint64_t)i);
	}
	close_node(&a);
	close_node(&b);
}

static void test_bind_errors(void **state)
{
	(void)state;
	static node a;
	start_node(&a, 1, 0);
	transport *t = NULL;
	char addr[32], err[256];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", a.port);
	assert_int_equal(transport_start(&loop, 2, addr, on_recv, NULL, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "address already in use"));
	assert_int_equal(strncmp(err, "raft address ", 13), 0);
	assert_int_equal(transport_start(&loop, 2, "no-port", on_recv, NULL, &t, err, sizeof err), -1);
	/* Bad peer declarations. */
	assert_int_equal(transport_add_peer(a.t, 1, "127.0.0.1:1"), -1); /* self */
	assert_int_equal(transport_add_peer(a.t, 2, "127.0.0.1"), -1);   /* no port */
	assert_int_equal(transport_add_peer(a.t, 2, "127.0.0.1:1"), 0);
	assert_int_equal(transport_add_peer(a.t, 2, "127.0.0.1:2"), -1); /* duplicate */
	/* A peer that refuses connections is retried quietly. */
	run_until(never, NULL, 300);
	assert_int_equal(stat_connects(&a), 0);
	/* Membership change: removed, then back with another address. */
	assert_int_equal(transport_remove_peer(a.t, 2), 0);
	assert_int_equal(transport_remove_peer(a.t, 2), -1);
	assert_int_equal(transport_remove_peer(a.t, 9), -1);
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_HEARTBEAT, 1, 0), -1);
	static node b;
	start_node(&b, 2, 0);
	add_peer(&a, &b);
	add_peer(&b, &a);
	want w = { &a, 1 };
	assert_true(run_until(connects_at_least, &w, 5000));
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_HEARTBEAT, 1, 0), 0);
	want g = { &b, 1 };
	assert_true(run_until(got_at_least, &g, 5000));
	close_node(&b);
	close_node(&a);
}

static void test_dial_by_name(void **state)
{
	(void)state;
	/* A peer named by host name goes through the asynchronous resolver;
	 * this machine's own name is used when it resolves to an IPv4 address
	 * (most containers list it in /etc/hosts), else the test is skipped. */
	char name[256];
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
	name[sizeof name - 1] = '\0';
	if (gethostname(name, sizeof name - 1) != 0 || getaddrinfo(name, NULL, &hints, &res) != 0) {
		skip();
		return;
	}
	freeaddrinfo(res);
	static node a, b;
	start_node(&a, 1, 0);
	/* b listens on all interfaces (":0"), as a node in a container does. */
	b.id = 2;
	char err[256], addr[300];
	if (transport_start(&loop, 2, ":0", on_recv, &b, &b.t, err, sizeof err) != 0)
		fail_msg("%s", err);
	b.port = transport_port(b.t);
	snprintf(addr, sizeof addr, "%s:%d", name, b.port);
	assert_int_equal(transport_add_peer(a.t, 2, addr), 0);
	add_peer(&b, &a);
	want w = { &a, 1 };
	assert_true(run_until(connects_at_least, &w, 5000));
	assert_int_equal(send_msg(&a, 2, RAFT_MSG_HEARTBEAT, 4, 0), 0);
	want g = { &b, 1 };
	assert_true(run_until(got_at_least, &g, 5000));
	close_node(&b);
	close_node(&a);
}

static void test_addr_parse(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	char err[128], buf[32];
	assert_int_equal(addr_parse(":3030", &sa, err, sizeof err), 0);
	assert_int_equal(ntohs(sa.sin_port), 3030);
	assert_int_equal(sa.sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(addr_parse("localhost:80", &sa, err, sizeof err), 0);
	assert_int_equal(sa.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(addr_parse("10.1.2.3:65535", &sa, err, sizeof err), 0);
	addr_format(&sa, buf, sizeof buf);
	assert_string_equal(buf, "10.1.2.3:65535");
	const char *bad[] = { "", "3030", ":", ":65536", ":12a", "host:", ":-1", "1.2.3.4:99999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(addr_parse(bad[i], &sa, err, sizeof err), -1);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(addr_parse(NULL, &sa, err, sizeof err), -1);
	/* A host longer than any DNS name is refused, not overflowed. */
	char longhost[600];
	memset(longhost, 'h', sizeof longhost);
	snprintf(longhost + 500, 100, ":80");
	assert_int_equal(addr_parse(longhost, &sa, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test_setup_teardown(test_three_nodes_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_survived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dial_by_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
