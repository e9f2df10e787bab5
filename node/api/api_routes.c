/*
 * api_routes.c — the first stop of every HTTP request: admin and health
 * routes are always served; client routes wait while the node is paused (a
 * paused node processes no client work, but its admin API must stay up so
 * the pause can be lifted); the rest is dispatched by path.
 *
 * Every response carries X-Raft-Node, X-Raft-Term and X-Raft-Leader; the
 * leader header is "none" while no leader is known.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_reply.h"

const char *api_common_headers(void *ud, size_t *len)
{
	server *s = ud;
	if (s->hdrs.len == 0 || s->hdrs_term != s->term || s->hdrs_leader != s->leader) {
		bytebuf *b = &s->hdrs;
		b->len = 0;
		if (bytebuf_append_str(b, "X-Raft-Node: ") != 0 || bytebuf_append_u64(b, s->cfg->id) != 0 ||
		    bytebuf_append_str(b, "\r\nX-Raft-Term: ") != 0 || bytebuf_append_u64(b, s->term) != 0 ||
		    bytebuf_append_str(b, "\r\nX-Raft-Leader: ") != 0 ||
		    (s->leader == RAFT_NONE ? bytebuf_append_str(b, "none")
					    : bytebuf_append_u64(b, s->leader)) != 0 ||
		    bytebuf_append(b, "\r\n", 2) != 0) {
			b->len = 0;
			*len = 0;
			return NULL; /* ENOMEM: the answer goes out without them */
		}
		s->hdrs_term = s->term;
		s->hdrs_leader = s->leader;
	}
	*len = s->hdrs.len;
	return (const char *)s->hdrs.data;
}

static bool is_admin_path(const char *p)
{
	/* The byte after '/' tells nearly every request (/kv/...) apart. */
	switch (p[0] == '/' ? p[1] : '\0') {
	case 'a': return strncmp(p, "/admin/", 7) == 0 || strcmp(p, "/admin") == 0;
	case 'h': return strcmp(p, "/healthz") == 0;
	case 'r': return strcmp(p, "/readyz") == 0;
	case 'm': return strcmp(p, "/metrics") == 0;
	default: return false;
	}
}

void api_dispatch_client(server *s, http_request *req)
{
	const char *path = req->path;
	if (req->shed) {
		api_reply_error(s, req, 503, "overloaded",
				"Too many bytes are waiting to commit; the command was not proposed. Retry later.");
		return;
	}
	if (strncmp(path, "/kv/", 4) == 0)
		api_kv(s, req, path + 4);
	else if (strcmp(path, "/txn") == 0)
		api_txn(s, req);
	else if (strcmp(path, "/set") == 0)
		api_goraft_set(s, req);
	else if (strcmp(path, "/get") == 0)
		api_goraft_get(s, req);
	else
		api_reply_error(s, req, 404, "not found", "No such endpoint.");
}

/* The HTTP layer's shed hook (issue 15.4): a write whose body admission
 * control would refuse is refused at its headers, its body discarded
 * unbuffered. The body length stands for the command's (a little shorter). */
bool api_shed(void *ud, const char *method, const char *path, uint64_t body_len)
{
	server *s = ud;
	if (strcmp(method, "PUT") != 0 && strcmp(method, "POST") != 0)
		return false;
	if (strncmp(path, "/kv/", 4) != 0 && strcmp(path, "/txn") != 0 && strcmp(path, "/set") != 0)
		return false;
	return body_len <= SIZE_MAX && !rt_admits(s->rt, (size_t)body_len);
}

void api_on_request(void *ud, http_request *req)
{
	server *s = ud;
	if (s->stopping) {
		api_reply_error(s, req, 503, "shutting down", "The node is stopping.");
		return;
	}
	/* HEAD is GET without the body (RFC 9110 9.3.2): the HTTP layer
	 * already sends only the headers, so every GET route serves it. */
	if (strcmp(req->method, "HEAD") == 0)
		req->method = "GET";
	if (is_admin_path(req->path)) {
		api_admin(s, req);
		return;
	}
	if (s->paused || faults_paused(s->faults, server_real_ms(s))) {
		/* Held in arrival order, chained through req->user; the ticker
		 * replays them on resume. */
		req->user = NULL;
		if (s->paused_tail != NULL)
			s->paused_tail->user = req;
		else
			s->paused_head = req;
		s->paused_tail = req;
		return;
	}
	api_dispatch_client(s, req);
}

void api_replay_paused(server *s)
{
	http_request *r = s->paused_head;
	s->paused_head = s->paused_tail = NULL;
	while (r != NULL) {
		http_request *next = r->user;
		r->user = NULL;
		api_dispatch_client(s, r);
		r = next;
	}
}
