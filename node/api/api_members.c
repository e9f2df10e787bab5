/*
 * api_members.c — membership changes on the node (contract section 3),
 * ported from the pre-runtime node (node/server/members.c in ec15e1a).
 *
 * POST /admin/members {"op":"add"|"remove"|"promote","id":n,"raft":addr,
 * "http":addr} proposes one single-server change through rt_propose_conf
 * and answers once that very entry (index and term) is applied as committed:
 * 200 with the members; 4xx when the core or the checks here refuse it
 * (nothing was appended); 504 when leadership is lost or the request times
 * out first (the change may still commit). "add" adds a learner that the
 * leader promotes once caught up (raft_config.promote_distance).
 *
 * A member's address travels in its CONF entry as "RAFTADDR HTTPADDR" (the
 * core keeps it opaque); members of the bootstrap configuration have none
 * there and are found in the server's address book: --cluster, or what a
 * node started with --join learnt when it was added (node/server/join.h; a
 * member the leader replaces by its new incarnation keeps its old address). After every ready step the
 * transport's peers are made to match the configuration in force.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/notice.h"
#include "api.h"
#include "api_reply.h"
#include "json_out.h"

/* ------------------------------------------------------------ addresses */

/* Splits the CONF entry address "RAFT HTTP" (either may be missing) into
 * the caller's buffers. */
static void split_addr(const char *a, char *raft_out, size_t rn, char *http_out, size_t hn)
{
	raft_out[0] = http_out[0] = '\0';
	const char *sp = strchr(a, ' ');
	size_t n = sp != NULL ? (size_t)(sp - a) : strlen(a);
	if (n < rn) {
		memcpy(raft_out, a, n);
		raft_out[n] = '\0';
	}
	if (sp != NULL && strlen(sp + 1) < hn)
		strcpy(http_out, sp + 1);
}

/* The raft and http addresses of member id (from its CONF entry, else from
 * the address book); empty strings when unknown. */
static void member_addrs(server *s, uint32_t id, const char *conf_addr, char *raft_a, size_t rn,
			 char *http_a, size_t hn)
{
	split_addr(conf_addr != NULL ? conf_addr : "", raft_a, rn, http_a, hn);
	const node_member *m = book_find(&s->book, id);
	const char *r = m != NULL ? m->raft_addr : id == s->cfg->id ? s->cfg->raft_addr : NULL;
	if (raft_a[0] == '\0' && r != NULL && strlen(r) < rn)
		strcpy(raft_a, r);
	if (http_a[0] == '\0') {
		const char *h = m != NULL && m->http_addr != NULL ? m->http_addr
				: id == s->cfg->id ? s->cfg->http_addr : NULL;
		if (h != NULL && strlen(h) < hn)
			strcpy(http_a, h);
	}
}

bool api_members_json(server *s, cJSON *arr)
{
	raft_status stv;
	raft_get_status(rt_raft(s->rt), &stv);
	const raft_status *st = &stv;
	uint32_t id;
	bool voter;
	const char *addr;
	for (size_t i = 0; raft_member(rt_raft(s->rt), i, &id, &voter, NULL, &addr); i++) {
		char ra[RAFT_ADDR_MAX + 1], ha[RAFT_ADDR_MAX + 1];
		member_addrs(s, id, addr, ra, sizeof ra, ha, sizeof ha);
		cJSON *e = cJSON_CreateObject();
		bool ok = e != NULL && cJSON_AddItemToArray(arr, e) &&
			  cJSON_AddNumberToObject(e, "id", id) &&
			  (ra[0] ? cJSON_AddStringToObject(e, "raft", ra) : cJSON_AddNullToObject(e, "raft")) &&
			  (ha[0] ? cJSON_AddStringToObject(e, "http", ha) : cJSON_AddNullToObject(e, "http")) &&
			  cJSON_AddBoolToObject(e, "voter", voter);
		if (!ok)
			return false;
		/* match_index is known on the leader only (null elsewhere). */
		const raft_peer_status *ps = NULL;
		for (size_t k = 0; st->role == RAFT_LEADER && k < st->n_peers; k++)
			if (st->peers[k].id == id)
				ps = &st->peers[k];
		if (ps != NULL)
			ok = json_add_u64(e, "match_index", ps->match) != NULL;
		else if (st->role == RAFT_LEADER && id == s->cfg->id)
			ok = json_add_u64(e, "match_index", st->last_index) != NULL;
		else
			ok = cJSON_AddNullToObject(e, "match_index") != NULL;
		if (!ok)
			return false;
	}
	return true;
}

static void reply_members(server *s, http_request *req, int status)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_CreateArray();
	char *text = NULL;
	if (o != NULL && arr != NULL && cJSON_AddItemToObject(o, "members", arr)) {
		arr = NULL;
		if (api_members_json(s, cJSON_GetObjectItemCaseSensitive(o, "members")))
			text = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(arr);
	cJSON_Delete(o);
	if (text == NULL) {
		api_reply_error(s, req, 500, "out of memory", "The member list could not be built.");
		return;
	}
	api_reply_body(s, req, status, NULL, text, strlen(text));
	free(text);
}

/* ------------------------------------------------------------- changes */

static bool addr_in_use(server *s, const char *raft_a)
{
	uint32_t id;
	const char *addr;
	for (size_t i = 0; raft_member(rt_raft(s->rt), i, &id, NULL, NULL, &addr); i++) {
		char ra[RAFT_ADDR_MAX + 1], ha[RAFT_ADDR_MAX + 1];
		member_addrs(s, id, addr, ra, sizeof ra, ha, sizeof ha);
		if (strcmp(ra, raft_a) == 0)
			return true;
	}
	return false;
}

static bool is_member(server *s, uint32_t want)
{
	uint32_t id;
	for (size_t i = 0; raft_member(rt_raft(s->rt), i, &id, NULL, NULL, NULL); i++)
		if (id == want)
			return true;
	return false;
}

static bool parse_u64(const char *t, uint64_t *out)
{
	if (t[0] < '0' || t[0] > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(t, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static void post(server *s, http_request *req)
{
	cJSON *o = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(o, "op");
	const cJSON *idj = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *raftj = cJSON_GetObjectItemCaseSensitive(o, "raft");
	const cJSON *httpj = cJSON_GetObjectItemCaseSensitive(o, "http");
	const cJSON *incj = cJSON_GetObjectItemCaseSensitive(o, "incarnation");
	const cJSON *autoj = cJSON_GetObjectItemCaseSensitive(o, "auto_promote");
	raft_conf_change cc = {0};
	if (cJSON_IsString(op)) {
		if (strcmp(op->valuestring, "add") == 0)
			cc.op = RAFT_CONF_ADD_LEARNER;
		else if (strcmp(op->valuestring, "remove") == 0)
			cc.op = RAFT_CONF_REMOVE;
		else if (strcmp(op->valuestring, "promote") == 0)
			cc.op = RAFT_CONF_PROMOTE;
	}
	bool id_ok = cJSON_IsNumber(idj) && idj->valuedouble >= 0 &&
		     idj->valuedouble < (double)RAFT_NONE &&
		     idj->valuedouble == (double)(uint32_t)idj->valuedouble;
	bool addrs_ok = (raftj == NULL || cJSON_IsString(raftj)) && (httpj == NULL || cJSON_IsString(httpj));
	/* "incarnation": the new node's (its /admin/status says it), a decimal
	 * string since a 64-bit value does not fit a JSON number; absent = 0,
	 * and if the node turns out to be another life the leader replaces it
	 * by itself. "auto_promote": false keeps it a learner until promoted. */
	bool inc_ok = incj == NULL || (cJSON_IsString(incj) && parse_u64(incj->valuestring, &cc.incarnation));
	bool auto_ok = autoj == NULL || cJSON_IsBool(autoj);
	if (!cJSON_IsObject(o) || cc.op == 0 || !id_ok || !addrs_ok || !inc_ok || !auto_ok ||
	    (cc.op == RAFT_CONF_ADD_LEARNER && raftj == NULL)) {
		cJSON_Delete(o);
		api_reply_error(s, req, 400, "bad request",
			    "The body must be {\"op\":\"add\"|\"remove\"|\"promote\",\"id\":n} with "
			    "\"raft\" (and optionally \"http\", \"incarnation\" as a decimal string, "
			    "\"auto_promote\" as a boolean) for add.");
		return;
	}
	cc.id = (uint32_t)idj->valuedouble;
	/* Only the leader's configuration answers 404/409: another node's may
	 * be out of date, and a new node started with --cluster at a member's
	 * new address lists itself there (raftkv-ctl member replace asks the
	 * nodes in turn and goes on to the next one only on a 503). */
	if (s->role != RAFT_LEADER) {
		cJSON_Delete(o);
		api_reply_not_leader(s, req, "changes the membership");
		return;
	}
	char addr[2 * RAFT_ADDR_MAX + 2];
	if (cc.op == RAFT_CONF_ADD_LEARNER) {
		const char *ra = raftj->valuestring, *ha = httpj != NULL ? httpj->valuestring : "";
		if (ra[0] == '\0' || strchr(ra, ' ') != NULL || strchr(ha, ' ') != NULL ||
		    strlen(ra) + 1 + strlen(ha) > RAFT_ADDR_MAX) {
			cJSON_Delete(o);
			api_reply_error(s, req, 400, "bad address", "Addresses must be non-empty HOST:PORT strings without spaces.");
			return;
		}
		if (addr_in_use(s, ra)) {
			cJSON_Delete(o);
			api_reply_error(s, req, 409, "address in use", "A member already has this raft address.");
			return;
		}
		snprintf(addr, sizeof addr, "%s %s", ra, ha);
		cc.addr = addr;
		cc.auto_promote = autoj == NULL || cJSON_IsTrue(autoj);
	}
	cJSON_Delete(o);
	if (cc.op != RAFT_CONF_ADD_LEARNER && !is_member(s, cc.id)) {
		api_reply_error(s, req, 404, "unknown member", "No member has this id.");
		return;
	}
	uint64_t index = 0;
	int rc = rt_propose_conf(s->rt, &cc, &index);
	server_kick(s);
	switch (rc) {
	case RAFT_OK:
		break;
	case RAFT_ENOLEADER:
		api_reply_not_leader(s, req, "changes the membership");
		return;
	case RAFT_EPENDING:
		api_reply_error(s, req, 409, "change in progress",
			    "Another membership change is not committed yet (one at a time), or the leader has not committed an entry of its term yet; retry.");
		return;
	case RAFT_ECONF:
		api_reply_error(s, req, 409, "refused",
			    cc.op == RAFT_CONF_ADD_LEARNER ? "This id is already a member."
			    : cc.op == RAFT_CONF_PROMOTE  ? "Only a learner can be promoted."
							  : "The last voter cannot be removed.");
		return;
	default:
		api_reply_error(s, req, 400, "bad request", "The change is malformed.");
		return;
	}
	raft_status st;
	raft_get_status(rt_raft(s->rt), &st);
	members_state *ms = &s->members;
	if (ms->n_waits == ms->cap_waits) {
		size_t ncap = ms->cap_waits ? ms->cap_waits * 2 : 4;
		member_wait *w = realloc(ms->waits, ncap * sizeof(*w));
		if (w == NULL) {
			api_reply_error(s, req, 504, "unknown", "Out of memory after proposing: the outcome is unknown.");
			return;
		}
		ms->waits = w;
		ms->cap_waits = ncap;
	}
	ms->waits[ms->n_waits++] = (member_wait){
		.req = req, .index = index, .term = st.term,
		.deadline_ms = server_real_ms(s) + s->cfg->request_timeout_ms};
}

void api_members(server *s, http_request *req)
{
	if (strcmp(req->method, "GET") == 0)
		reply_members(s, req, 200);
	else if (strcmp(req->method, "POST") == 0)
		post(s, req);
	else
		api_reply_error(s, req, 405, "method not allowed", "/admin/members accepts GET and POST.");
}

static void drop_wait(members_state *ms, size_t i)
{
	ms->waits[i] = ms->waits[--ms->n_waits];
}

void api_members_on_applied(void *ud, const raft_entry *e)
{
	server *s = ud;
	if (e->type != RAFT_ENTRY_CONF)
		return;
	members_state *ms = &s->members;
	for (size_t i = 0; i < ms->n_waits; i++) {
		member_wait *w = &ms->waits[i];
		if (w->index != e->index)
			continue;
		http_request *req = w->req;
		bool ours = w->term == e->term;
		drop_wait(ms, i);
		if (ours)
			reply_members(s, req, 200);
		else
			api_reply_error(s, req, 409, "lost", "Another leader's entry took the place of this change: it was not made.");
		return;
	}
}

static bool has_id(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void drop_peer(members_state *ms, size_t k)
{
	ms->n_peers--;
	ms->peers[k] = ms->peers[ms->n_peers];
	memcpy(ms->addrs[k], ms->addrs[ms->n_peers], sizeof ms->addrs[k]);
}

/* The transport's peers: every member of the configuration in force and
 * whoever the leader tracks (a member being removed gets the entry that
 * removes it, README rule 5), each at the address it has now; and, while
 * there is room, members of earlier configurations. A peer is not dropped
 * because the configuration in force stops listing it: a node replaying the
 * log (a new node catching up, a lagging follower) passes through old
 * configurations, and one that dropped the current leader at an old
 * REMOVE of it would never hear that leader again (found by
 * tests/bats/27-grow-shrink.bats, "replace": the new node stopped at the
 * removal, in the log, of the node that led by then). The core decides whom
 * it talks to; the transport only has to be able to. */
static void sync_transport(server *s, const raft_status *brief)
{
	members_state *ms = &s->members;
	/* Its inputs are the configuration in force, the tracked peers (both
	 * change only when the core installs a configuration) and the book. */
	if (ms->synced && ms->synced_conf_gen == brief->conf_gen && ms->synced_book_gen == s->book.gen)
		return;
	raft_status full;
	raft_get_status(rt_raft(s->rt), &full);
	const raft_status *st = &full;
	bool complete = true; /* every wanted peer has its address */
	uint32_t want[2 * RAFT_MAX_NODES];
	size_t n = 0;
	uint32_t id;
	for (size_t i = 0; raft_member(rt_raft(s->rt), i, &id, NULL, NULL, NULL); i++)
		if (id != s->cfg->id && !has_id(want, n, id))
			want[n++] = id;
	for (size_t i = 0; i < st->n_peers; i++)
		if (st->peers[i].id != s->cfg->id && !has_id(want, n, st->peers[i].id))
			want[n++] = st->peers[i].id;
	bool changed = false;
	for (size_t i = 0; i < n; i++) {
		id = want[i];
		const char *addr = NULL, *a;
		uint32_t mid;
		for (size_t k = 0; addr == NULL && raft_member(rt_raft(s->rt), k, &mid, NULL, NULL, &a); k++)
			if (mid == id)
				addr = a;
		char ra[RAFT_ADDR_MAX + 1], ha[RAFT_ADDR_MAX + 1];
		member_addrs(s, id, addr, ra, sizeof ra, ha, sizeof ha);
		if (ra[0] == '\0')
			continue; /* a peer it already has keeps its address */
		size_t k = 0;
		while (k < ms->n_peers && ms->peers[k] != id)
			k++;
		if (k < ms->n_peers && strcmp(ms->addrs[k], ra) == 0)
			continue;
		if (k < ms->n_peers) { /* re-added at another address */
			(void)transport_remove_peer(s->transport, id);
			drop_peer(ms, k);
		}
		for (size_t e = 0; ms->n_peers == RAFT_MAX_NODES && e < ms->n_peers; e++)
			if (!has_id(want, n, ms->peers[e])) { /* no room: an old member goes */
				(void)transport_remove_peer(s->transport, ms->peers[e]);
				drop_peer(ms, e);
			}
		if (ms->n_peers == RAFT_MAX_NODES || transport_add_peer(s->transport, id, ra) != 0) {
			notice("member %u: no usable raft address \"%s\"", id, ra);
			complete = false; /* tried again after the next ready step */
			continue;
		}
		ms->peers[ms->n_peers] = id;
		snprintf(ms->addrs[ms->n_peers], sizeof ms->addrs[0], "%s", ra);
		ms->n_peers++;
		changed = true;
	}
	ms->synced = complete;
	ms->synced_conf_gen = st->conf_gen;
	ms->synced_book_gen = s->book.gen;
	if (!changed)
		return;
	/* Fault bodies may name every member (a partition of a grown cluster):
	 * the fault layer knows this node, its peers and the address book. */
	uint32_t all[RAFT_MAX_NODES + 1];
	size_t na = 0;
	all[na++] = s->cfg->id;
	for (size_t i = 0; i < ms->n_peers; i++)
		if (!has_id(all, na, ms->peers[i]))
			all[na++] = ms->peers[i];
	for (size_t i = 0; i < s->book.n && na < RAFT_MAX_NODES + 1; i++)
		if (!has_id(all, na, s->book.m[i].id))
			all[na++] = s->book.m[i].id;
	(void)faults_set_members(s->faults, all, na); /* na <= RAFT_MAX_NODES + 1 <= its limit */
}

void api_members_after_ready(server *s, const raft_status *st)
{
	if (s->rt == NULL)
		return;
	sync_transport(s, st);
	members_state *ms = &s->members;
	uint64_t now = server_real_ms(s);
	for (size_t i = 0; i < ms->n_waits;) {
		member_wait *w = &ms->waits[i];
		if (st->role == RAFT_LEADER && st->term == w->term && now < w->deadline_ms) {
			i++;
			continue;
		}
		http_request *req = w->req;
		drop_wait(ms, i);
		api_reply_error(s, req, 504, "unknown",
			    "Leadership was lost or the change did not commit in time: it may still be made.");
	}
}

void api_members_init(server *s)
{
	members_state *ms = &s->members;
	for (size_t i = 0; i < s->book.n; i++) {
		ms->peers[ms->n_peers] = s->book.m[i].id;
		snprintf(ms->addrs[ms->n_peers], sizeof ms->addrs[0], "%s", s->book.m[i].raft_addr);
		ms->n_peers++;
	}
}

void api_members_stop(server *s)
{
	members_state *ms = &s->members;
	while (ms->n_waits > 0) {
		http_request *req = ms->waits[0].req;
		drop_wait(ms, 0);
		api_reply_error(s, req, 504, "unknown", "The node is stopping: the change may still be made.");
	}
}

void api_members_free(server *s)
{
	members_state *ms = &s->members;
	free(ms->waits);
	ms->waits = NULL;
	ms->n_waits = ms->cap_waits = 0;
}
