/*
 * members.c — membership changes on the node (contract section 3).
 *
 * POST /admin/members {"op":"add"|"remove"|"promote","id":n,"raft":addr,
 * "http":addr} proposes one single-server change through raft_propose_conf
 * and answers once that very entry (index and term) is applied as committed:
 * 200 with the members; 4xx when the core or the checks here refuse it
 * (nothing was appended); 504 when leadership is lost or the request times
 * out first (the change may still commit). "add" adds a learner that the
 * leader promotes once caught up (raft_config.promote_distance).
 *
 * A member's address travels in its CONF entry as "RAFTADDR HTTPADDR" (the
 * core keeps it opaque); members of the bootstrap configuration have none
 * there and are found in --cluster. After every ready step the transport's
 * peers are made to match the configuration in force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_api.h"
#include "http_reply.h"
#include "log.h"
#include "members.h"

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
 * --cluster); empty strings when unknown. */
static void member_addrs(server *s, uint32_t id, const char *conf_addr, char *raft_a, size_t rn,
			 char *http_a, size_t hn)
{
	split_addr(conf_addr != NULL ? conf_addr : "", raft_a, rn, http_a, hn);
	const node_member *m = config_member(s->cfg, id);
	if (raft_a[0] == '\0' && m != NULL && strlen(m->raft_addr) < rn)
		strcpy(raft_a, m->raft_addr);
	if (http_a[0] == '\0') {
		const char *h = m != NULL && m->http_addr != NULL ? m->http_addr
				: id == s->cfg->id ? s->cfg->http_addr : NULL;
		if (h != NULL && strlen(h) < hn)
			strcpy(http_a, h);
	}
}

bool members_json(server *s, cJSON *arr, const raft_status *st)
{
	uint32_t id;
	bool voter;
	const char *addr;
	for (size_t i = 0; raft_member(s->raft, i, &id, &voter, NULL, &addr); i++) {
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
			ok = cJSON_AddNumberToObject(e, "match_index", (double)ps->match) != NULL;
		else
			ok = cJSON_AddNullToObject(e, "match_index") != NULL;
		if (!ok)
			return false;
	}
	return true;
}

static void reply_members(server *s, http_request *req, int status)
{
	raft_status st;
	raft_get_status(s->raft, &st);
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_CreateArray();
	char *text = NULL;
	if (o != NULL && arr != NULL && cJSON_AddItemToObject(o, "members", arr)) {
		arr = NULL;
		if (members_json(s, cJSON_GetObjectItemCaseSensitive(o, "members"), &st))
			text = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(arr);
	cJSON_Delete(o);
	if (text == NULL) {
		reply_error(s, req, 500, "out of memory", "The member list could not be built.");
		return;
	}
	reply_body(s, req, status, NULL, text, strlen(text));
	free(text);
}

/* ------------------------------------------------------------- changes */

static bool addr_in_use(server *s, const char *raft_a)
{
	uint32_t id;
	const char *addr;
	for (size_t i = 0; raft_member(s->raft, i, &id, NULL, NULL, &addr); i++) {
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
	for (size_t i = 0; raft_member(s->raft, i, &id, NULL, NULL, NULL); i++)
		if (id == want)
			return true;
	return false;
}

static void post(server *s, http_request *req)
{
	cJSON *o = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(o, "op");
	const cJSON *idj = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *raftj = cJSON_GetObjectItemCaseSensitive(o, "raft");
	const cJSON *httpj = cJSON_GetObjectItemCaseSensitive(o, "http");
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
	if (!cJSON_IsObject(o) || cc.op == 0 || !id_ok || !addrs_ok ||
	    (cc.op == RAFT_CONF_ADD_LEARNER && raftj == NULL)) {
		cJSON_Delete(o);
		reply_error(s, req, 400, "bad request",
			    "The body must be {\"op\":\"add\"|\"remove\"|\"promote\",\"id\":n} with "
			    "\"raft\" (and optionally \"http\") addresses for add.");
		return;
	}
	cc.id = (uint32_t)idj->valuedouble;
	char addr[2 * RAFT_ADDR_MAX + 2];
	if (cc.op == RAFT_CONF_ADD_LEARNER) {
		const char *ra = raftj->valuestring, *ha = httpj != NULL ? httpj->valuestring : "";
		if (ra[0] == '\0' || strchr(ra, ' ') != NULL || strchr(ha, ' ') != NULL ||
		    strlen(ra) + 1 + strlen(ha) > RAFT_ADDR_MAX) {
			cJSON_Delete(o);
			reply_error(s, req, 400, "bad address", "Addresses must be non-empty HOST:PORT strings without spaces.");
			return;
		}
		if (addr_in_use(s, ra)) {
			cJSON_Delete(o);
			reply_error(s, req, 409, "address in use", "A member already has this raft address.");
			return;
		}
		snprintf(addr, sizeof addr, "%s %s", ra, ha);
		cc.addr = addr;
		cc.auto_promote = true;
	}
	cJSON_Delete(o);
	if (cc.op != RAFT_CONF_ADD_LEARNER && !is_member(s, cc.id)) {
		reply_error(s, req, 404, "unknown member", "No member has this id.");
		return;
	}
	uint64_t index = 0;
	int rc = raft_propose_conf(s->raft, &cc, &index);
	server_kick(s);
	switch (rc) {
	case RAFT_OK:
		break;
	case RAFT_ENOLEADER: {
		char detail[160];
		if (s->leader == RAFT_NONE)
			snprintf(detail, sizeof detail, "Only the leader changes the membership, and no leader is known.");
		else
			snprintf(detail, sizeof detail, "Only the leader changes the membership; send this to node %u.", s->leader);
		reply_error(s, req, 503, "not leader", detail);
		return;
	}
	case RAFT_EPENDING:
		reply_error(s, req, 409, "change in progress",
			    "Another membership change is not committed yet (one at a time), or the leader has not committed an entry of its term yet; retry.");
		return;
	case RAFT_ECONF:
		reply_error(s, req, 409, "refused",
			    cc.op == RAFT_CONF_ADD_LEARNER ? "This id is already a member."
			    : cc.op == RAFT_CONF_PROMOTE  ? "Only a learner can be promoted."
							  : "The last voter cannot be removed.");
		return;
	default:
		reply_error(s, req, 400, "bad request", "The change is malformed.");
		return;
	}
	members_state *ms = &s->members;
	if (ms->n_waits == ms->cap_waits) {
		size_t ncap = ms->cap_waits ? ms->cap_waits * 2 : 4;
		member_wait *w = realloc(ms->waits, ncap * sizeof(*w));
		if (w == NULL) {
			reply_error(s, req, 504, "unknown", "Out of memory after proposing: the outcome is unknown.");
			return;
		}
		ms->waits = w;
		ms->cap_waits = ncap;
	}
	ms->waits[ms->n_waits++] = (member_wait){
		.req = req, .index = index, .term = s->term,
		.deadline_ms = server_real_ms(s) + s->cfg->request_timeout_ms};
}

void members_route(server *s, http_request *req)
{
	if (strcmp(req->method, "GET") == 0)
		reply_members(s, req, 200);
	else if (strcmp(req->method, "POST") == 0)
		post(s, req);
	else
		reply_error(s, req, 405, "method not allowed", "/admin/members accepts GET and POST.");
}

static void drop_wait(members_state *ms, size_t i)
{
	ms->waits[i] = ms->waits[--ms->n_waits];
}

void members_on_apply(server *s, const raft_entry *e)
{
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
			reply_error(s, req, 409, "lost", "Another leader's entry took the place of this change: it was not made.");
		return;
	}
}

/* The transport's peers follow the configuration in force. */
static void sync_transport(server *s, const raft_status *st)
{
	members_state *ms = &s->members;
	if (ms->synced_conf == st->conf_index + 1)
		return;
	uint32_t ids[RAFT_MAX_NODES];
	size_t n = 0;
	uint32_t id;
	const char *addr;
	for (size_t i = 0; raft_member(s->raft, i, &id, NULL, NULL, &addr); i++) {
		if (id == s->cfg->id)
			continue;
		ids[n++] = id;
		bool known = false;
		for (size_t k = 0; k < ms->n_peers; k++)
			known |= ms->peers[k] == id;
		if (known)
			continue;
		char ra[RAFT_ADDR_MAX + 1], ha[RAFT_ADDR_MAX + 1];
		member_addrs(s, id, addr, ra, sizeof ra, ha, sizeof ha);
		if (ra[0] == '\0' || transport_add_peer(s->transport, id, ra) != 0)
			log_info("member %u: no usable raft address \"%s\"", id, ra);
	}
	for (size_t k = 0; k < ms->n_peers; k++) {
		bool stays = false;
		for (size_t i = 0; i < n; i++)
			stays |= ids[i] == ms->peers[k];
		if (!stays)
			(void)transport_remove_peer(s->transport, ms->peers[k]);
	}
	memcpy(ms->peers, ids, n * sizeof(uint32_t));
	ms->n_peers = n;
	ms->synced_conf = st->conf_index + 1;
}

void members_after_ready(server *s)
{
	raft_status st;
	raft_get_status(s->raft, &st);
	sync_transport(s, &st);
	members_state *ms = &s->members;
	uint64_t now = server_real_ms(s);
	for (size_t i = 0; i < ms->n_waits;) {
		member_wait *w = &ms->waits[i];
		if (st.role == RAFT_LEADER && st.term == w->term && now < w->deadline_ms) {
			i++;
			continue;
		}
		http_request *req = w->req;
		drop_wait(ms, i);
		reply_error(s, req, 504, "unknown",
			    "Leadership was lost or the change did not commit in time: it may still be made.");
	}
}

void members_init_peers(server *s)
{
	members_state *ms = &s->members;
	for (size_t i = 0; i < s->cfg->n_members; i++)
		if (s->cfg->members[i].id != s->cfg->id)
			ms->peers[ms->n_peers++] = s->cfg->members[i].id;
}

void members_free(server *s)
{
	members_state *ms = &s->members;
	free(ms->waits);
	ms->waits = NULL;
	ms->n_waits = ms->cap_waits = 0;
}
