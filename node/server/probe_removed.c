/* probe_removed.c — is a probing node's id still in the configuration? (see probe_removed.h) */
#include "probe_removed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "join.h"
#include "notice.h"
#include "server_internal.h"

enum { PR_UNKNOWN, PR_MEMBER, PR_ABSENT };

#define PR_EVERY_MS 1000u
#define PR_CALL_MS 800L
#define PR_ABSENT_FOR_MS 2000u

/* GET url/admin/status, parsed (NULL: no usable answer). */
static cJSON *get_status(probe_removed *p, const char *url)
{
	char full[320];
	snprintf(full, sizeof full, "%s/admin/status", url);
	long st = http_call_run(&p->call, "GET", full, p->token, NULL, 0, 0, PR_CALL_MS);
	return st == 200 ? cJSON_Parse(http_call_body(&p->call)) : NULL;
}

/* The verdict of a status answer, if it comes from the leader it names. */
static int leader_verdict(probe_removed *p, const cJSON *o)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *leader = cJSON_GetObjectItemCaseSensitive(o, "leader");
	if (!cJSON_IsNumber(id) || !cJSON_IsNumber(leader) || id->valuedouble != leader->valuedouble)
		return PR_UNKNOWN;
	p->leader = (uint32_t)leader->valuedouble;
	return join_member_of(o, p->self) != NULL ? PR_MEMBER : PR_ABSENT;
}

/* One round on a worker: each --cluster member in turn, and the leader it
 * names, until a leader answers. */
static void round_work(uv_work_t *w)
{
	probe_removed *p = w->data;
	p->verdict = PR_UNKNOWN;
	for (size_t i = 0; i < p->n_urls && p->verdict == PR_UNKNOWN && !atomic_load(&p->stop); i++) {
		cJSON *o = get_status(p, p->urls[i]);
		if (o == NULL)
			continue;
		p->verdict = leader_verdict(p, o);
		const cJSON *leader = cJSON_GetObjectItemCaseSensitive(o, "leader");
		const cJSON *lm = cJSON_IsNumber(leader) ? join_member_of(o, (uint32_t)leader->valuedouble) : NULL;
		const char *h = lm != NULL ? join_str_of(lm, "http") : NULL;
		char lurl[300];
		if (p->verdict == PR_UNKNOWN && h != NULL)
			join_url_of(h, p->urls[i], lurl, sizeof lurl);
		cJSON_Delete(o);
		if (p->verdict != PR_UNKNOWN || h == NULL || atomic_load(&p->stop))
			continue;
		o = get_status(p, lurl);
		if (o != NULL)
			p->verdict = leader_verdict(p, o);
		cJSON_Delete(o);
	}
}

static void round_done(uv_work_t *w, int status)
{
	probe_removed *p = w->data;
	server *srv = p->timer.data;
	p->busy = false;
	if (status != 0 || srv->stopping || !rt_probing(srv->rt))
		return;
	if (p->verdict == PR_MEMBER) {
		p->absent_since_ms = 0;
		p->absent_seen = 0;
		return;
	}
	if (p->verdict != PR_ABSENT)
		return; /* silence is no verdict: keep probing */
	uint64_t now = server_real_ms(srv);
	if (p->absent_seen++ == 0)
		p->absent_since_ms = now;
	if (p->absent_seen < 2 || now - p->absent_since_ms < PR_ABSENT_FOR_MS)
		return;
	char why[300];
	snprintf(why, sizeof why,
		 "node %u is not in the cluster's configuration (removed); to add it again, start it with an "
		 "empty --data-dir and --join URL (leader: node %u)",
		 p->self, p->leader);
	server_stop(srv, 1, why);
}

static void on_timer(uv_timer_t *t)
{
	server *s = t->data;
	probe_removed *p = &s->probe_removed;
	if (s->stopping || p->busy)
		return;
	if (!rt_probing(s->rt)) { /* the incarnation is decided: nothing more to ask */
		if (uv_timer_stop(&p->timer) != 0)
			notice("probe: cannot stop its timer");
		return;
	}
	p->work.data = p;
	p->busy = uv_queue_work(s->loop, &p->work, round_work, round_done) == 0;
}

int probe_removed_start(server *s)
{
	const node_config *c = s->cfg;
	probe_removed *p = &s->probe_removed;
	if (!rt_probing(s->rt) || c->join_url != NULL || c->n_members < 2)
		return 0;
	p->urls = calloc(c->n_members, sizeof *p->urls);
	if (p->urls == NULL)
		return UV_ENOMEM;
	for (size_t i = 0; i < c->n_members; i++) {
		const char *h = c->members[i].http_addr;
		if (c->members[i].id == c->id || h == NULL || h[0] == '\0')
			continue;
		/* ":PORT" (all interfaces): the member's raft host */
		char from[300];
		const char *ra = c->members[i].raft_addr, *colon = strrchr(ra, ':');
		snprintf(from, sizeof from, "http://%.*s", colon != NULL ? (int)(colon - ra) : 0, ra);
		join_url_of(h, from, p->urls[p->n_urls++], sizeof p->urls[0]);
	}
	if (p->n_urls == 0)
		return 0;
	if (http_client_init() != 0)
		return UV_ENOMEM;
	p->curl_ready = true;
	p->token = c->admin_token;
	p->self = c->id;
	atomic_init(&p->stop, false);
	int rc = uv_timer_init(s->loop, &p->timer);
	if (rc != 0)
		return rc;
	p->timer.data = s;
	p->on = true;
	return uv_timer_start(&p->timer, on_timer, PR_EVERY_MS, PR_EVERY_MS);
}

void probe_removed_stop(server *s)
{
	probe_removed *p = &s->probe_removed;
	atomic_store(&p->stop, true);
	if (p->on && !uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, NULL);
}

void probe_removed_free(server *s)
{
	probe_removed *p = &s->probe_removed;
	http_call_free(&p->call);
	free(p->urls);
	p->urls = NULL;
	if (p->curl_ready)
		http_client_cleanup();
	p->curl_ready = false;
}
