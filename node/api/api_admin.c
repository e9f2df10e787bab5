/*
 * api_admin.c — the admin routes /admin/... (status, faults, bugs, transfer), /healthz,
 * /readyz and /metrics.
 *
 * With --admin-token every /admin/... request needs "Authorization: Bearer T"
 * (401 otherwise); health and metrics stay open for probes and scrapers.
 * Fault and bug endpoints exist only with --enable-faults (403 otherwise);
 * their parsing is the fault layer's (faults_admin).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "api.h"
#include "api_reply.h"
#include "json_out.h"

static bool token_ok(const server *s, const http_request *req)
{
	return http_bearer_ok(req->authorization, s->cfg->admin_token);
}

static const cJSON *add_raw(cJSON *o, const char *name, char *json)
{
	/* faults_*_json return malloc'd JSON objects; embed them as they are. */
	cJSON *r = cJSON_CreateRaw(json != NULL ? json : "{}");
	free(json);
	if (r == NULL || !cJSON_AddItemToObject(o, name, r)) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

static void api_reply_cjson(server *s, http_request *req, int status, cJSON *o)
{
	char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (text == NULL) {
		api_reply_error(s, req, 500, "out of memory", "The answer could not be built.");
		return;
	}
	api_reply_body(s, req, status, NULL, text, strlen(text));
	free(text);
}

/* "removed_note": what a removed node's log says at start (server.c). */
static bool add_removed_note(cJSON *o, uint64_t conf_index)
{
	char note[400];
	snprintf(note, sizeof note, "removed from the cluster by configuration entry %llu: it neither votes nor "
		 "campaigns and serves no requests. " SERVER_REJOIN_HINT ".", (unsigned long long)conf_index);
	return cJSON_AddStringToObject(o, "removed_note", note) != NULL;
}

static void status(server *s, http_request *req)
{
	raft_status st;
	raft_get_status(rt_raft(s->rt), &st);
	const node_config *c = s->cfg;
	cJSON *o = cJSON_CreateObject();
	cJSON *members = cJSON_CreateArray();
	bool ok = o != NULL && members != NULL &&
		  cJSON_AddNumberToObject(o, "id", c->id) &&
		  cJSON_AddStringToObject(o, "raft", c->raft_addr) &&
		  cJSON_AddStringToObject(o, "http", c->http_addr) &&
		  cJSON_AddStringToObject(o, "role", raft_role_name(st.role)) &&
		  json_add_u64(o, "term", st.term) &&
		  (st.leader == RAFT_NONE ? cJSON_AddNullToObject(o, "leader") != NULL
					  : cJSON_AddNumberToObject(o, "leader", st.leader) != NULL) &&
		  json_add_u64(o, "commit_index", st.commit) &&
		  json_add_u64(o, "applied_index", s->applied) &&
		  json_add_u64(o, "last_log_index", st.last_index) &&
		  json_add_u64(o, "snapshot_index", rt_snapshot_index(s->rt));
	if (ok)
		ok = cJSON_AddItemToObject(o, "members", members);
	else
		cJSON_Delete(members);
	if (ok)
		ok = api_members_json(s, members);
	if (ok) {
		/* Which life of this id the node is, and what its configuration
		 * makes it (node/raft/README.md "Membership"): a string, since a
		 * random 64-bit value does not fit a JSON number exactly. */
		char inc[24];
		snprintf(inc, sizeof inc, "%llu", (unsigned long long)raft_get_incarnation(rt_raft(s->rt)));
		const char *mem = rt_probing(s->rt) ? "probing"
				  : st.membership == RAFT_MEMBER_VOTER   ? "voter"
				  : st.membership == RAFT_MEMBER_LEARNER ? "learner"
									 : "none";
		/* "removed": the entry in force removed this node (it will not
		 * campaign again); "joining": started with --join, added, and no
		 * configuration received yet. */
		bool removed = raft_removed(rt_raft(s->rt));
		bool joining = c->join_url != NULL && !raft_member(rt_raft(s->rt), 0, NULL, NULL, NULL, NULL);
		ok = cJSON_AddStringToObject(o, "incarnation", inc) &&
		     cJSON_AddStringToObject(o, "membership", joining ? "joining" : removed ? "removed" : mem) &&
		     cJSON_AddBoolToObject(o, "removed", removed) &&
		     (removed ? add_removed_note(o, st.conf_index) : cJSON_AddNullToObject(o, "removed_note") != NULL) &&
		     cJSON_AddBoolToObject(o, "join", c->join_url != NULL);
	}
	uint64_t real = server_real_ms(s);
	if (ok)
		ok = add_raw(o, "faults", faults_status_json(s->faults, real)) != NULL &&
		     add_raw(o, "bugs", faults_bugs_json(s->faults)) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		o = NULL;
	}
	api_reply_cjson(s, req, 200, o);
}

static void readyz(server *s, http_request *req)
{
	if (raft_removed(rt_raft(s->rt)))
		api_reply_error(s, req, 503, "removed", "This node was removed from the cluster. " SERVER_REJOIN_HINT ".");
	else if (s->leader == RAFT_NONE)
		api_reply_error(s, req, 503, "not ready", "No leader is known.");
	else if (s->applied < s->commit)
		api_reply_error(s, req, 503, "not ready", "Applying committed entries (catching up).");
	else
		api_reply_body(s, req, 200, NULL, "{\"ready\":true}", 14);
}

static int gauge(bytebuf *b, const char *name, const char *help, const char *type, uint64_t v)
{
	char line[320];
	int n = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help,
			 name, type, name, (unsigned long long)v);
	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	return bytebuf_append(b, line, (size_t)n);
}

static void api_reply_content(server *s, http_request *req, int status, const char *ctype)
{
	api_reply_body(s, req, status, ctype, s->out.data, s->out.len);
}

static void metrics(server *s, http_request *req)
{
	const node_metrics *m = &s->metrics;
	const rt_stats *st = rt_get_stats(s->rt);
	transport_stats ts;
	memset(&ts, 0, sizeof ts);
	if (s->transport != NULL)
		transport_get_stats(s->transport, &ts);
	bytebuf *b = &s->out;
	b->len = 0;
	int rc = bytebuf_append_str(b, "# HELP raftkv_role Current Raft role (1 for the active one).\n"
				       "# TYPE raftkv_role gauge\n");
	const uint8_t roles[] = {RAFT_FOLLOWER, RAFT_PRECANDIDATE, RAFT_CANDIDATE, RAFT_LEADER};
	for (size_t i = 0; i < sizeof roles; i++) {
		char line[80];
		int n = snprintf(line, sizeof line, "raftkv_role{role=\"%s\"} %d\n",
				 raft_role_name(roles[i]), s->role == roles[i]);
		rc |= (n < 0 || (size_t)n >= sizeof line) ? -1 : bytebuf_append(b, line, (size_t)n);
	}
	rc |= gauge(b, "raftkv_term", "Current Raft term.", "gauge", s->term);
	rc |= gauge(b, "raftkv_commit_index", "Highest index known committed.", "gauge", s->commit);
	rc |= gauge(b, "raftkv_applied_index", "Highest index applied to the state machine.", "gauge", s->applied);
	rc |= gauge(b, "raftkv_leader_known", "1 when a leader is known.", "gauge", s->leader != RAFT_NONE);
	rc |= gauge(b, "raftkv_proposals_total", "Commands accepted by raft_propose.", "counter", st->proposals);
	rc |= gauge(b, "raftkv_proposals_refused_total", "Commands refused before proposing (503).", "counter", st->proposals_refused);
	rc |= gauge(b, "raftkv_reads_linearizable_total", "Reads confirmed by ReadIndex.", "counter", st->reads_linearizable);
	rc |= gauge(b, "raftkv_reads_log_total", "Reads through the log.", "counter", m->reads_log);
	rc |= gauge(b, "raftkv_reads_stale_total", "Reads served locally without confirmation.", "counter", m->reads_stale);
	rc |= gauge(b, "raftkv_reads_lease_total", "Reads served on the (unsafe) lease.", "counter", m->reads_lease);
	rc |= gauge(b, "raftkv_request_timeouts_total", "Requests answered 503/504 for lack of time.", "counter", st->timeouts);
	rc |= gauge(b, "raftkv_responses_5xx_total", "Responses with a 5xx status.", "counter", m->responses_5xx);
	rc |= gauge(b, "raftkv_pending_requests", "Requests waiting for Raft.", "gauge", rt_pending_count(s->rt));
	rc |= gauge(b, "raftkv_messages_sent_total", "Peer messages handed to the transport.", "counter", st->msgs_sent - m->msgs_dropped_transport);
	rc |= gauge(b, "raftkv_messages_received_total", "Peer messages stepped into the core.", "counter", st->msgs_received);
	rc |= gauge(b, "raftkv_messages_dropped_fault_total", "Peer messages dropped by the fault layer.", "counter", st->msgs_dropped_fault);
	rc |= gauge(b, "raftkv_messages_dropped_queue_total", "Peer messages dropped (peer down, queue full, no memory).", "counter", st->msgs_dropped_queue + m->msgs_dropped_transport);
	rc |= gauge(b, "raftkv_messages_delayed_total", "Peer messages delayed by the fault layer.", "counter", st->msgs_delayed);
	rc |= gauge(b, "raftkv_messages_duplicated_total", "Extra copies made by the fault layer.", "counter", st->msgs_duplicated);
	rc |= gauge(b, "raftkv_transport_bad_frames_total", "Peer frames that failed to decode.", "counter", ts.bad_frames);
	rc |= gauge(b, "raftkv_wal_writes_total", "WAL writes (one fsync each).", "counter", st->wal_writes);
	rc |= gauge(b, "raftkv_wal_entries_total", "Entries written to the WAL.", "counter", st->wal_entries);
	rc |= gauge(b, "raftkv_wal_unsynced_bytes", "Bytes written but not fsynced.", "gauge", s->wal ? wal_unsynced_bytes(s->wal) : 0);
	rc |= gauge(b, "raftkv_applied_entries_total", "Entries applied.", "counter", st->applied_entries);
	rc |= gauge(b, "raftkv_duplicates_skipped_total", "Commands skipped by de-duplication.", "counter", rt_kv(s->rt)->skipped_duplicates);
	rc |= gauge(b, "raftkv_keys", "Keys in the state machine.", "gauge", kv_store_count(rt_kv(s->rt)->store));
	rc |= histogram_write(b, "raftkv_wal_batch_entries", "Entries per WAL write (group commit).", &m->batch_entries);
	rc |= histogram_write(b, "raftkv_wal_write_seconds", "Duration of a WAL write and its fsync.", &m->fsync_seconds);
	rc |= histogram_write(b, "raftkv_request_seconds", "Latency of requests that waited for Raft.", &m->request_seconds);
	{
		raft_status rs;
		raft_get_status(rt_raft(s->rt), &rs);
		rc |= gauge(b, "raftkv_log_entries", "Entries the Raft log holds in memory (snapshots compact it).", "gauge",
			    rs.last_index >= rs.first_index ? rs.last_index - rs.first_index + 1 : 0);
		rc |= gauge(b, "raftkv_log_bytes", "Bytes of entry data the Raft log holds in memory.", "gauge", raft_log_bytes(rt_raft(s->rt)));
	}
	rc |= histogram_write(b, "raftkv_loop_period_seconds", "Gap between two tick callbacks (tick-ms when the loop keeps up).", &m->loop_period_seconds);
	rc |= histogram_write(b, "raftkv_leader_gap_seconds", "On a follower: gap between two frames from its leader, as read.", &m->leader_gap_seconds);
	{
		/* The loop thread's own CPU time and preemptions: a long loop
		 * period with little CPU is a loop that was not scheduled. */
		struct timespec cpu;
		struct rusage ru;
		uint64_t cpu_ms = 0, preempted = 0;
		if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
			cpu_ms = (uint64_t)cpu.tv_sec * 1000u + (uint64_t)cpu.tv_nsec / 1000000u;
		if (getrusage(RUSAGE_THREAD, &ru) == 0)
			preempted = (uint64_t)ru.ru_nivcsw;
		rc |= gauge(b, "raftkv_loop_cpu_milliseconds_total", "CPU time of the loop thread.", "counter", cpu_ms);
		rc |= gauge(b, "raftkv_loop_preemptions_total", "Involuntary context switches of the loop thread (runnable, not running).", "counter", preempted);
		/* Tick periods of half an election timeout or more, by cause
		 * (node/server/loop_stall.h). */
		rc |= gauge(b, "raftkv_loop_stalls_busy_total", "Loop stalls (tick period >= half the election timeout) spent mostly running.", "counter", s->stall.counts[STALL_BUSY]);
		rc |= gauge(b, "raftkv_loop_stalls_starved_total", "Loop stalls spent mostly runnable, waiting for a CPU.", "counter", s->stall.counts[STALL_STARVED]);
		rc |= gauge(b, "raftkv_loop_stalls_blocked_total", "Loop stalls spent mostly neither: in a system call, paging.", "counter", s->stall.counts[STALL_BLOCKED]);
	}
	rc |= gauge(b, "raftkv_snapshot_index", "Index of the newest durable snapshot (0 = none).", "gauge", rt_snapshot_index(s->rt));
	rc |= gauge(b, "raftkv_snapshots_total", "Snapshots written and made durable by this node.", "counter", st->snapshots_written);
	rc |= gauge(b, "raftkv_snapshots_failed_total", "Snapshot writes that failed.", "counter", st->snapshots_failed);
	rc |= gauge(b, "raftkv_snapshot_bytes", "Size of the newest snapshot written.", "gauge", st->snapshot_bytes);
	rc |= histogram_write(b, "raftkv_snapshot_write_seconds", "Duration of a snapshot write, fork to durable.", &m->snapshot_write_seconds);
	rc |= gauge(b, "raftkv_snapshot_wait_milliseconds", "The newest requested snapshot's wait from the request to its start (all applied entries durable in this node's WAL).", "gauge", st->snapshot_wait_ms);
	rc |= gauge(b, "raftkv_snapshot_fork_microseconds", "The newest snapshot's fork call (the loop waits for it: page tables).", "gauge", m->snapshot_fork_us);
	rc |= gauge(b, "raftkv_snapshot_load_milliseconds", "Time to read and check the snapshot loaded at boot.", "gauge", (uint64_t)(m->snapshot_load_seconds * 1000));
	rc |= gauge(b, "raftkv_snapshot_installs_total", "Snapshots received from a leader and installed.", "counter", st->snapshot_installs);
	rc |= gauge(b, "raftkv_snapshot_install_milliseconds", "Duration of the newest install, first chunk to installed.", "gauge", st->snapshot_install_ms);
	rc |= gauge(b, "raftkv_snapshot_chunks_sent_total", "Snapshot chunks sent to followers.", "counter", st->snapshot_chunks_sent);
	rc |= gauge(b, "raftkv_snapshot_chunks_received_total", "Snapshot chunks received from a leader.", "counter", st->snapshot_chunks_received);
	rc |= gauge(b, "raftkv_snapshot_sends_done_total", "Snapshots a follower received whole.", "counter", st->snap_sends_done);
	rc |= gauge(b, "raftkv_snapshot_requests_refused_total", "Snapshot transfers the core asked for that could not start or were given up.", "counter", st->snap_sends_failed);
	if (rc != 0) {
		api_reply_error(s, req, 500, "out of memory", "The metrics could not be rendered.");
		return;
	}
	api_reply_content(s, req, 200, "text/plain; version=0.0.4");
}

static void transfer(server *s, http_request *req)
{
	cJSON *o = json_parse_whole(req->body, req->body_len);
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "to");
	bool ok = cJSON_IsObject(o) && cJSON_GetArraySize(o) == 1 && cJSON_IsNumber(to) &&
		  to->valuedouble >= 0 && to->valuedouble < (double)RAFT_NONE &&
		  to->valuedouble == (double)(uint32_t)to->valuedouble;
	if (!ok) {
		cJSON_Delete(o);
		api_reply_error(s, req, 400, "bad request", "The body must be {\"to\":node-id} with an integer id.");
		return;
	}
	uint32_t id = (uint32_t)to->valuedouble;
	cJSON_Delete(o);
	/* raft_transfer refuses a target that is not a voter of the
	 * configuration in force (a learner, a removed or unknown node). */
	int rc = raft_transfer(rt_raft(s->rt), id);
	server_kick(s);
	if (rc == RAFT_OK) {
		char body[64];
		int n = snprintf(body, sizeof body, "{\"ok\":true,\"to\":%u}", id);
		api_reply_body(s, req, 200, NULL, body, (size_t)n);
	} else if (rc == RAFT_ENOLEADER) {
		api_reply_not_leader(s, req, "can transfer leadership");
	} else {
		api_reply_error(s, req, 400, "bad target", "The target is not a voting member.");
	}
}

static void faults_route(server *s, http_request *req, const char *name)
{
	if (!s->cfg->enable_faults) {
		api_reply_error(s, req, 403, "faults disabled", "Start the node with --enable-faults to use this endpoint.");
		return;
	}
	char *resp = NULL;
	int code = faults_admin(s->faults, req->method, name, req->body, req->body_len,
				server_real_ms(s), &resp);
	if (resp != NULL)
		api_reply_body(s, req, code, NULL, resp, strlen(resp));
	else
		api_reply_error(s, req, code >= 400 ? code : 500, "fault request failed", "The fault layer gave no answer.");
	free(resp);
	/* A pause takes effect now, not at the next tick. A crash waits for
	 * the loop's check phase (server.c on_check), after this answer has been
	 * written: the HTTP server sends the answers of a read chunk once all
	 * of its requests are handled. */
	(void)ticker_sync_pause(s);
	server_kick(s);
}

void api_admin(server *s, http_request *req)
{
	const char *p = req->path;
	const char *m = req->method;
	bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
	bool probe = strcmp(p, "/healthz") == 0 || strcmp(p, "/readyz") == 0 || strcmp(p, "/metrics") == 0;
	if (probe && !get) {
		char detail[64];
		snprintf(detail, sizeof detail, "%s accepts GET.", p);
		api_reply_error(s, req, 405, "method not allowed", detail);
		return;
	}
	if (strcmp(p, "/healthz") == 0) {
		api_reply_body(s, req, 200, NULL, "{\"ok\":true}", 11);
		return;
	}
	if (strcmp(p, "/readyz") == 0) {
		readyz(s, req);
		return;
	}
	if (strcmp(p, "/metrics") == 0) {
		metrics(s, req);
		return;
	}
	if (!token_ok(s, req)) {
		api_reply_error(s, req, 401, "unauthorized", "This endpoint needs \"Authorization: Bearer <admin token>\".");
		return;
	}
	if (strcmp(p, "/admin/status") == 0) {
		if (get)
			status(s, req);
		else
			api_reply_error(s, req, 405, "method not allowed", "/admin/status accepts GET.");
	} else if (strcmp(p, "/admin/faults") == 0) {
		faults_route(s, req, "");
	} else if (strncmp(p, "/admin/faults/", 14) == 0) {
		faults_route(s, req, p + 14);
	} else if (strcmp(p, "/admin/bugs") == 0) {
		faults_route(s, req, "bugs");
	} else if (strcmp(p, "/admin/transfer") == 0) {
		if (post)
			transfer(s, req);
		else
			api_reply_error(s, req, 405, "method not allowed", "/admin/transfer accepts POST.");
	} else if (strcmp(p, "/admin/members") == 0) {
		api_members(s, req);
	} else if (strcmp(p, "/admin/snapshot") == 0) {
		if (post)
			server_snap_request(s, req);
		else
			api_reply_error(s, req, 405, "method not allowed", "This endpoint accepts POST.");
	} else {
		api_reply_error(s, req, 404, "not found", "No such admin endpoint.");
	}
}
