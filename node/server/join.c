/* join.c — --join: ask the cluster to add this node (see join.h). */
#include "join.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/http_client.h"
#include "notice.h"

/* ------------------------------------------------------------ the book */

const node_member *book_find(const addr_book *b, uint32_t id)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->m[i].id == id)
			return &b->m[i];
	return NULL;
}

int book_set(addr_book *b, uint32_t id, const char *raft, const char *http)
{
	char *r = strdup(raft), *h = http != NULL && http[0] != '\0' ? strdup(http) : NULL;
	if (r == NULL || (http != NULL && http[0] != '\0' && h == NULL)) {
		free(r);
		free(h);
		return -1;
	}
	node_member *m = (node_member *)book_find(b, id);
	if (m == NULL) {
		if (b->n == RAFT_MAX_NODES) {
			free(r);
			free(h);
			return -1;
		}
		m = &b->m[b->n++];
		memset(m, 0, sizeof *m);
		m->id = id;
	}
	free(m->raft_addr);
	free(m->http_addr);
	m->raft_addr = r;
	m->http_addr = h;
	b->gen++;
	return 0;
}

void book_free(addr_book *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->m[i].raft_addr);
		free(b->m[i].http_addr);
	}
	b->n = 0;
	b->gen++;
}

int book_parse(addr_book *b, const char *s)
{
	char *copy = strdup(s);
	if (copy == NULL)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *ent = strtok_r(copy, ";", &save); ent != NULL && rc == 0; ent = strtok_r(NULL, ";", &save)) {
		char *c1 = strchr(ent, ',');
		char *c2 = c1 != NULL ? strchr(c1 + 1, ',') : NULL;
		if (c1 == NULL || c2 == NULL || c1 == ent || c2 == c1 + 1) {
			rc = -1;
			break;
		}
		*c1 = *c2 = '\0';
		char *end;
		errno = 0;
		unsigned long id = strtoul(ent, &end, 10);
		if (errno != 0 || *end != '\0' || id >= RAFT_NONE)
			rc = -1;
		else
			rc = book_set(b, (uint32_t)id, c1 + 1, c2 + 1);
	}
	free(copy);
	return rc;
}

char *book_format(const addr_book *b)
{
	size_t n = 1;
	for (size_t i = 0; i < b->n; i++)
		n += 16 + strlen(b->m[i].raft_addr) +
		     (b->m[i].http_addr != NULL ? strlen(b->m[i].http_addr) : 0);
	char *out = malloc(n), *p = out;
	if (out == NULL)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < b->n; i++) {
		int w = snprintf(p, n - (size_t)(p - out), "%s%u,%s,%s", i ? ";" : "", b->m[i].id,
				 b->m[i].raft_addr, b->m[i].http_addr != NULL ? b->m[i].http_addr : "");
		if (w < 0) {
			free(out);
			return NULL;
		}
		p += w;
	}
	return out;
}

/* ------------------------------------------------------------ the join */

typedef struct joiner {
	const node_config *cfg;
	uint64_t inc;
	http_call call;
	char url[512];      /* whom we ask now (the join URL, the leader, another member) */
	cJSON *status;      /* the last /admin/status answer */
	char others[RAFT_MAX_NODES][256]; /* members' URLs heard of, to ask in turn */
	size_t n_others, next_other;
	char last[400];     /* why the last try did not add us (for the give-up line) */
	bool answered;      /* some member answered /admin/status */
	long status_ms;     /* the timeout of the next GET /admin/status */
} joiner;

/* One line per failed try, remembered for the line --join-timeout ends with. */
static void retry_note(joiner *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void retry_note(joiner *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->last, sizeof j->last, fmt, ap);
	va_end(ap);
	notice("join: %s; retrying", j->last);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* "http://HOST:PORT" for a member's HTTP address; ":PORT" (all interfaces)
 * takes the host of the URL the address came from. */
void join_url_of(const char *http, const char *from_url, char *out, size_t n)
{
	if (http[0] != ':') {
		snprintf(out, n, "http://%s", http);
		return;
	}
	const char *h = from_url + strlen("http://");
	size_t hl = strcspn(h, "/");
	const char *colon = NULL;
	for (const char *q = h; q < h + hl; q++)
		if (*q == ':')
			colon = q;
	if (colon != NULL)
		hl = (size_t)(colon - h);
	snprintf(out, n, "http://%.*s%s", (int)hl, h, http);
}

/* GET url/admin/status into j->status. The HTTP status (0 = no answer). */
static long get_status(joiner *j, const char *url)
{
	char full[600];
	snprintf(full, sizeof full, "%s/admin/status", url);
	long st = http_call_run(&j->call, "GET", full, j->cfg->admin_token, NULL, 0, 0, j->status_ms);
	cJSON_Delete(j->status);
	j->status = st == 200 ? cJSON_Parse(http_call_body(&j->call)) : NULL;
	return st;
}

const cJSON *join_member_of(const cJSON *o, uint32_t id)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "members")) {
		const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
		if (cJSON_IsNumber(mid) && mid->valuedouble == (double)id)
			return m;
	}
	return NULL;
}

const char *join_str_of(const cJSON *m, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum { J_RETRY, J_DONE, J_REFUSED, J_REDIRECT };

/* What the members list in o says about us: done when our id is a member
 * with our raft address, refused when the id or the address is taken. */
static int verdict(joiner *j, const cJSON *o, char *err, size_t errlen)
{
	const node_config *c = j->cfg;
	const cJSON *me = join_member_of(o, c->id);
	const char *ra = me != NULL ? join_str_of(me, "raft") : NULL;
	if (me != NULL && ra != NULL && strcmp(ra, c->raft_addr) == 0)
		return J_DONE;
	if (me != NULL) {
		snprintf(err, errlen, "--join: node id %u is already a member with raft address %s; "
			 "pick another --node, or remove it first", c->id, ra != NULL ? ra : "(unknown)");
		return J_REFUSED;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "members")) {
		const char *r = join_str_of(m, "raft");
		const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
		if (r != NULL && strcmp(r, c->raft_addr) == 0) {
			snprintf(err, errlen, "--join: raft address %s already belongs to member %.0f",
				 c->raft_addr, cJSON_IsNumber(mid) ? mid->valuedouble : -1.0);
			return J_REFUSED;
		}
	}
	return J_RETRY;
}

static int fill_book(const cJSON *o, uint32_t self, addr_book *out)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "members")) {
		const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
		const char *ra = join_str_of(m, "raft");
		if (!cJSON_IsNumber(mid) || ra == NULL || (uint32_t)mid->valuedouble == self)
			continue;
		if (book_set(out, (uint32_t)mid->valuedouble, ra, join_str_of(m, "http")) != 0)
			return -1;
	}
	return 0;
}

/* Remembers the members' URLs of a status answer: when the member we ask
 * knows no leader (it was removed, or is cut off) or does not answer, the
 * next attempt asks another one. */
static void note_others(joiner *j)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j->status, "members")) {
		const char *h = join_str_of(m, "http");
		if (h == NULL)
			continue;
		char u[256];
		join_url_of(h, j->url, u, sizeof u);
		bool seen = false;
		for (size_t i = 0; i < j->n_others && !seen; i++)
			seen = strcmp(j->others[i], u) == 0;
		if (!seen && j->n_others < RAFT_MAX_NODES)
			snprintf(j->others[j->n_others++], sizeof j->others[0], "%s", u);
	}
}

/* The next member to ask: the join URL, then each member heard of, in turn. */
static void ask_next(joiner *j)
{
	size_t k = j->next_other++ % (j->n_others + 1);
	snprintf(j->url, sizeof j->url, "%s", k == 0 ? j->cfg->join_url : j->others[k - 1]);
	size_t ul = strlen(j->url);
	while (ul > 0 && j->url[ul - 1] == '/')
		j->url[--ul] = '\0';
}

/* One attempt: find the leader, ask it. */
static int attempt(joiner *j, char *err, size_t errlen)
{
	const node_config *c = j->cfg;
	long st = get_status(j, j->url);
	if (st == 401 || st == 403) {
		snprintf(err, errlen, "--join: %s refused our admin token (HTTP %ld): give the cluster's --admin-token", j->url, st);
		return J_REFUSED;
	}
	if (j->status == NULL) {
		retry_note(j, "%s/admin/status: %s", j->url, st == 0 ? j->call.errbuf : "no usable answer");
		ask_next(j); /* the member we tried may be gone */
		return J_RETRY;
	}
	j->answered = true;
	note_others(j);
	const cJSON *leader = cJSON_GetObjectItemCaseSensitive(j->status, "leader");
	if (!cJSON_IsNumber(leader)) {
		retry_note(j, "%s knows no leader", j->url);
		ask_next(j);
		return J_RETRY;
	}
	const cJSON *lm = join_member_of(j->status, (uint32_t)leader->valuedouble);
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(j->status, "id");
	bool asked_is_leader = cJSON_IsNumber(sid) && sid->valuedouble == leader->valuedouble;
	if (!asked_is_leader) {
		const char *h = lm != NULL ? join_str_of(lm, "http") : NULL;
		if (h == NULL) {
			retry_note(j, "the leader (node %.0f) has no known HTTP address", leader->valuedouble);
			ask_next(j);
			return J_RETRY;
		}
		char lurl[512];
		join_url_of(h, j->url, lurl, sizeof lurl);
		snprintf(j->url, sizeof j->url, "%s", lurl);
		return J_REDIRECT; /* ask the leader for its own view first */
	}
	/* Only the leader's members list says whether we are in: another
	 * member's may be out of date (a removed member's stopped at its
	 * removal and may still list this id at this address, after this
	 * node was removed and wiped). */
	int v = verdict(j, j->status, err, errlen);
	if (v != J_RETRY)
		return v;
	/* An HTTP address without a host (":2020", all interfaces) is given
	 * to the cluster with the host of --raft, the name the others reach
	 * this node by. */
	char http_a[300];
	if (c->http_addr[0] == ':') {
		const char *colon = strrchr(c->raft_addr, ':');
		int hl = colon != NULL ? (int)(colon - c->raft_addr) : 0;
		snprintf(http_a, sizeof http_a, "%.*s%s", hl, c->raft_addr, c->http_addr);
	} else {
		snprintf(http_a, sizeof http_a, "%s", c->http_addr);
	}
	cJSON *o = cJSON_CreateObject();
	char inc[24];
	snprintf(inc, sizeof inc, "%llu", (unsigned long long)j->inc);
	char *body = NULL;
	if (o != NULL && cJSON_AddStringToObject(o, "op", "add") && cJSON_AddNumberToObject(o, "id", c->id) &&
	    cJSON_AddStringToObject(o, "raft", c->raft_addr) && cJSON_AddStringToObject(o, "http", http_a) &&
	    cJSON_AddStringToObject(o, "incarnation", inc) &&
	    cJSON_AddBoolToObject(o, "auto_promote", !c->join_learner))
		body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (body == NULL) {
		snprintf(err, errlen, "out of memory");
		return J_REFUSED;
	}
	char full[600];
	snprintf(full, sizeof full, "%s/admin/members", j->url);
	st = http_call_run(&j->call, "POST", full, c->admin_token, body, strlen(body), 1,
			   (long)c->request_timeout_ms + 5000);
	free(body);
	if (st == 200) {
		cJSON_Delete(j->status);
		j->status = cJSON_Parse(http_call_body(&j->call));
		if (j->status != NULL && verdict(j, j->status, err, errlen) == J_DONE)
			return J_DONE;
		return J_RETRY; /* an answer we cannot read: ask again, the next says */
	}
	if (st == 400 || st == 401 || st == 403 || st == 404 || st == 405 || st == 413) {
		snprintf(err, errlen, "--join: %s refused to add this node (HTTP %ld): %s", full, st,
			 http_call_body(&j->call));
		return J_REFUSED;
	}
	/* 409 (another change in progress, or already a member: the next
	 * status says which), 503 (leadership moved), 504 (unknown), no answer. */
	retry_note(j, "%s answered %ld %s", full, st, st == 0 ? j->call.errbuf : http_call_body(&j->call));
	return J_RETRY;
}

int join_cluster(const node_config *c, uint64_t inc, addr_book *out, char *err, size_t errlen)
{
	if (http_client_init() != 0) {
		snprintf(err, errlen, "--join: cannot initialise libcurl");
		return -1;
	}
	joiner *j = calloc(1, sizeof *j); /* a few KiB of URLs: off the stack */
	if (j == NULL) {
		snprintf(err, errlen, "out of memory");
		http_client_cleanup();
		return -1;
	}
	j->cfg = c;
	j->inc = inc;
	snprintf(j->last, sizeof j->last, "none finished");
	ask_next(j);
	notice("join: asking %s to add node %u (raft %s, http %s, incarnation %llu)", j->url, c->id,
	       c->raft_addr, c->http_addr, (unsigned long long)inc);
	int rc = -1;
	long wait = 100;
	int redirects = 0;
	/* --join-timeout: a URL nobody answers at (a typo, a cluster that is
	 * down), or a cluster that never adds us, ends the start with one line
	 * instead of a silent retry loop; 0 keeps trying. */
	uint64_t deadline = c->join_timeout_s > 0 ? now_ms() + (uint64_t)c->join_timeout_s * 1000u : 0;
	for (;;) {
		long left = 5000;
		if (deadline != 0) {
			uint64_t now = now_ms();
			if (now >= deadline) {
				snprintf(err, errlen, "--join: %s within %u s (--join-timeout; 0 keeps trying); last try: %s",
					 j->answered ? "not added" : "no member answered", c->join_timeout_s, j->last);
				break;
			}
			if (deadline - now < (uint64_t)left)
				left = (long)(deadline - now);
		}
		j->status_ms = left < 500 ? 500 : left;
		int v = attempt(j, err, errlen);
		if (v == J_REFUSED)
			break;
		if (v == J_DONE) {
			if (fill_book(j->status, c->id, out) != 0) {
				snprintf(err, errlen, "out of memory");
				break;
			}
			notice("join: node %u is a member; %zu other members known", c->id, out->n);
			rc = 0;
			break;
		}
		/* A redirect to the leader is followed at once (twice in a row at
		 * most: two nodes may name each other while leadership moves);
		 * other retries back off. */
		if (v == J_REDIRECT && ++redirects <= 2)
			continue;
		if (v == J_REDIRECT)
			snprintf(j->last, sizeof j->last, "members kept naming each other as leader (last %.300s)", j->url);
		redirects = 0;
		if (deadline != 0) {
			uint64_t now = now_ms();
			if (now + (uint64_t)wait > deadline)
				wait = now < deadline ? (long)(deadline - now) : 0;
		}
		pause_ms(wait);
		wait = wait * 2 > 2000 ? 2000 : wait * 2;
	}
	cJSON_Delete(j->status);
	http_call_free(&j->call);
	free(j);
	http_client_cleanup();
	return rc;
}
