/* sim_run.c — the event loop, fault schedule, clients and invariants. */
#include "sim_internal.h"

#include "../../node/net/wire.h"
#include "../../node/net/wire_snapshot.h"
#include "../../node/runtime/rt_members.h"
#include "../../node/snapshot/snapshot_xfer.h"
#include "../../node/wal/wal_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#define TICK_US 10000u       /* a node's tick at clock rate 1.0 */

/* ---------------------------------------------------------------- reporting */

void sim_fail(sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(s->out->what, sizeof s->out->what, "step %llu, t=%.3fs: ",
			 (unsigned long long)s->steps, (double)s->now / 1e6);
	if (n > 0 && (size_t)n < sizeof s->out->what)
		vsnprintf(s->out->what + n, sizeof s->out->what - (size_t)n, fmt, ap);
	va_end(ap);
}

void sim_trace(sim *s, const char *fmt, ...)
{
	if (!s->p.trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	printf("[%10.6f #%llu] ", (double)s->now / 1e6, (unsigned long long)s->steps);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

/* ---------------------------------------------------------------- history */

static const char *key_name(int k)
{
	static const char *names[SIM_KEYS] = { "k0", "k1", "k2" };
	return names[k];
}

static void record(sim *s, sim_client *c, check_type type, const char *readval, bool mismatch)
{
	sim_op *o = &c->op;
	check_event ev = { 0 };
	ev.process = c->process;
	ev.type = type;
	ev.f = o->f;
	ev.key = check_cstr(key_name(o->key));
	ev.time = (int64_t)s->now * 1000;
	ev.mismatch = mismatch;
	if (o->f == CHECK_READ) {
		ev.value = (type == CHECK_OK) ? check_cstr(readval) : check_cstr(NULL);
	} else if (o->f == CHECK_CAS) {
		ev.value = check_cstr(o->has_val ? o->val : NULL);
		ev.value2 = check_cstr(o->val2);
	} else {
		ev.value = check_cstr(o->val);
	}
	if (check_history_add(s->h, &ev) != 0)
		sim_fail(s, "history refused an event: %s", check_history_error(s->h));
}

static void schedule_client(sim *s, int ci, uint64_t delay)
{
	sim_event e = { .at = s->now + delay, .kind = EV_CLIENT, .arg = (uint64_t)ci };
	if (sim_queue_push(&s->q, e) != 0)
		sim_fail(s, "out of memory");
}

/* Ends the client's op. An unknown outcome moves the client to a fresh process. */
static void complete(sim *s, sim_client *c, check_type type, const char *readval, bool mismatch)
{
	record(s, c, type, readval, mismatch);
	if (type == CHECK_OK)
		s->out->ops_ok++;
	else if (type == CHECK_FAIL)
		s->out->ops_fail++;
	else
		s->out->ops_info++;
	if (type == CHECK_OK && c->op.f == CHECK_READ) {
		s->out->reads_ok++;
		c->seen_valid[c->op.key] = readval != NULL;
		if (readval)
			snprintf(c->last_seen[c->op.key], sizeof c->last_seen[0], "%s", readval);
	}
	c->op.active = false;
	if (type == CHECK_INFO)
		c->process = s->next_process++;
	schedule_client(s, (int)(c - s->clients), 1000 + sim_below(&s->rng, s->think_max));
}

/* ---------------------------------------------------------------- network */

void sim_push(sim *s, sim_event e)
{
	if (sim_queue_push(&s->q, e) != 0) {
		free(e.frame);
		sim_fail(s, "out of memory");
	}
}

/* The wire between two nodes: latency, loss, duplication and long detours.
 * Partitions are not here: they are the nodes' own fault filters
 * (faults/filter.c, run by the runtime on every frame out and in). */
void sim_send(sim *s, uint32_t from, uint32_t to, uint8_t *frame, size_t len)
{
	if (to >= (uint32_t)s->n || from >= (uint32_t)s->n ||
	    (s->faults_on && sim_chance(&s->rng, s->loss))) {
		free(frame);
		return;
	}
	int copies = (s->faults_on && sim_chance(&s->rng, s->dup)) ? 2 : 1;
	for (int i = 0; i < copies; i++) {
		uint8_t *c = frame;
		if (i + 1 < copies) {
			c = malloc(len);
			if (!c) {
				free(frame);
				sim_fail(s, "out of memory");
				return;
			}
			memcpy(c, frame, len);
		}
		size_t clen = len;
		c = sim_xfer_flip(s, c, &clen);
		uint64_t d = s->delay_min + sim_below(&s->rng, s->delay_max - s->delay_min + 1);
		/* a long detour: the message overtakes nothing but is overtaken
		 * by whole rounds of later traffic */
		if (s->faults_on && s->slow_msg_p > 0 && sim_chance(&s->rng, s->slow_msg_p))
			d += sim_below(&s->rng, s->slow_msg_max);
		sim_push(s, (sim_event){ .at = s->now + d, .kind = EV_DELIVER, .node = to, .arg = from,
					 .frame = c, .len = clen });
	}
}

/* ---------------------------------------------------------------- invariants */

int sim_grow_u64(uint64_t **a, uint64_t *cap, uint64_t need, uint64_t fill)
{
	if (need < *cap)
		return 0;
	uint64_t c = *cap ? *cap : 256;
	while (c <= need)
		c *= 2;
	uint64_t *n = realloc(*a, c * sizeof *n);
	if (!n)
		return -1;
	for (uint64_t i = *cap; i < c; i++)
		n[i] = fill;
	*a = n;
	*cap = c;
	return 0;
}

/* State machine safety: no two nodes apply different entries at one index,
 * and a restarted node replays exactly what was applied before. */
/* Rebuilds nd's command table with capacity cap (a power of two, or the
 * same), keeping only commands first applied at or before keep_upto. */
int sim_cmds_rebuild(sim_node *nd, size_t cap, uint64_t keep_upto)
{
	uint64_t *t = calloc(2 * cap, sizeof *t);
	if (!t)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < nd->cmds_cap; i++) {
		uint64_t h = nd->cmds[2 * i], at = nd->cmds[2 * i + 1];
		if (!h || at > keep_upto)
			continue;
		for (size_t j = h % cap;; j = (j + 1) % cap)
			if (!t[2 * j]) {
				t[2 * j] = h;
				t[2 * j + 1] = at;
				n++;
				break;
			}
	}
	free(nd->cmds);
	nd->cmds = t;
	nd->cmds_cap = cap;
	nd->cmds_n = n;
	return 0;
}

/* Records command hash h as applied on nd at index; true when it was new.
 * A node restarted from a snapshot keeps the commands applied up to the
 * snapshot (they are in its state machine, dedup record included). */
static bool cmd_first(sim *s, sim_node *nd, uint64_t h, uint64_t index)
{
	if (h == 0)
		h = 1;
	if (2 * (nd->cmds_n + 1) > nd->cmds_cap &&
	    sim_cmds_rebuild(nd, nd->cmds_cap ? nd->cmds_cap * 2 : 256, UINT64_MAX) != 0) {
		sim_fail(s, "out of memory");
		return true;
	}
	for (size_t j = h % nd->cmds_cap;; j = (j + 1) % nd->cmds_cap) {
		if (nd->cmds[2 * j] == h)
			return false;
		if (!nd->cmds[2 * j]) {
			nd->cmds[2 * j] = h;
			nd->cmds[2 * j + 1] = index;
			nd->cmds_n++;
			return true;
		}
	}
}

/* De-duplication may skip only a command this node already applied, or one
 * of an older boot of its proposer: a skipped first copy of a live boot's
 * command means a client's command was silently lost (answered "unknown"
 * although nothing could have applied it). */
static void check_dedup(sim *s, sim_node *nd, const raft_entry *e)
{
	kv_command c;
	if (e->type != RAFT_ENTRY_NORMAL || e->len == 0 || kv_command_decode(e->data, e->len, &c) != 0)
		return;
	uint64_t h = ((uint64_t)c.origin * 0x9E3779B97F4A7C15ull) ^ (c.nonce * 0xBF58476D1CE4E5B9ull) ^
		     (c.req_id * 0x94D049BB133111EBull);
	bool first = cmd_first(s, nd, h, e->index);
	uint64_t skipped = rt_kv(nd->rt)->skipped_duplicates;
	/* A skipped command of an older boot of its origin is fine (nobody
	 * waits for it, and its outcome was "unknown"); one whose proposer is
	 * up in the same boot is a client's command silently lost. */
	const sim_node *o = c.origin < (uint32_t)s->n ? &s->nodes[c.origin] : NULL;
	bool proposer_waits = o && o->up && rt_nonce(o->rt) == c.nonce;
	if (skipped != nd->skipped_seen && first && proposer_waits && !nd->cmds_partial)
		sim_fail(s, "dedup: node %u skipped the first copy of a command at index %llu (origin %u, nonce %llu, id %llu)",
			 nd->id, (unsigned long long)e->index, c.origin, (unsigned long long)c.nonce,
			 (unsigned long long)c.req_id);
	kv_command_release(&c);
	nd->skipped_seen = skipped;
}

void sim_applied(sim *s, sim_node *nd, const raft_entry *e)
{
	check_dedup(s, nd, e);
	if (e->index != nd->applied + 1) {
		sim_fail(s, "node %u applied index %llu after %llu (not in order)", nd->id,
			 (unsigned long long)e->index, (unsigned long long)nd->applied);
		return;
	}
	nd->applied = e->index;
	uint64_t h = e->index <= nd->log_len ? nd->log_hash[e->index] : 0;
	if (e->index > nd->log_len || nd->log_term[e->index] != e->term) {
		sim_fail(s, "node %u applied index %llu (term %llu) that its log does not hold",
			 nd->id, (unsigned long long)e->index, (unsigned long long)e->term);
		return;
	}
	uint64_t cap = s->applied_cap;
	if (sim_grow_u64(&s->applied_term, &cap, e->index, 0) != 0 ||
	    sim_grow_u64(&s->applied_hash, &s->applied_cap, e->index, 0) != 0) {
		sim_fail(s, "out of memory");
		return;
	}
	if (s->applied_term[e->index] == 0) {
		s->applied_term[e->index] = e->term;
		s->applied_hash[e->index] = h;
		if (e->index > s->applied_max)
			s->applied_max = e->index;
	} else if (s->applied_term[e->index] != e->term || s->applied_hash[e->index] != h) {
		sim_fail(s, "state machine safety: node %u applied term %llu at index %llu, another node applied term %llu",
			 nd->id, (unsigned long long)e->term, (unsigned long long)e->index,
			 (unsigned long long)s->applied_term[e->index]);
		return;
	}
	sim_xfer_applied(s, nd, e->index);
}

/* A value's bytes on the wire and in the log. On seeds with record-shaped
 * values, half the counters carry a whole valid WAL record after '|' (a hard
 * state claiming a term the cluster never reached): a crash that tears the
 * write of such an entry leaves a record-shaped byte string inside the torn
 * record, which the WAL's torn-tail rule must not take for damage in the
 * middle (issue 10 item 6; planted WAL bug 2 does). The history keeps the
 * counter only; a read checks the suffix is the one its counter implies. */
#define SIM_VAL_MAX (32 + 1 + WAL_REC_HDR + WAL_HS_PAYLOAD)

static bool record_shaped(const sim *s, const char *counter)
{
	uint64_t v = strtoull(counter, NULL, 10);
	return s->record_values && (v * 0x9E3779B97F4A7C15ull) >> 63;
}

static size_t full_value(const sim *s, const char *counter, uint8_t out[SIM_VAL_MAX])
{
	size_t n = strnlen(counter, 31);
	memcpy(out, counter, n);
	if (!record_shaped(s, counter))
		return n;
	uint64_t v = strtoull(counter, NULL, 10);
	out[n++] = '|';
	raft_hard_state hs = { .term = 1000000 + v, .vote = (uint32_t)(v % 5), .commit = v };
	wal_record_hard_state(out + n, &hs);
	return n + WAL_REC_HDR + WAL_HS_PAYLOAD;
}

/* The counter of a value read back into dst; false when the bytes are not
 * a value some client wrote (a suffix that does not match its counter). */
static bool value_counter(const sim *s, const uint8_t *p, size_t len, char dst[32])
{
	size_t n = 0;
	while (n < len && n < 31 && p[n] != '|')
		n++;
	memcpy(dst, p, n);
	dst[n] = '\0';
	uint8_t want[SIM_VAL_MAX];
	size_t wn = full_value(s, dst, want);
	return wn == len && memcmp(want, p, len) == 0;
}


/* A request to nd's runtime ended: the client hears it, as over HTTP
 * (api_outcome.c's mapping: applied -> ok, not proposed -> fail, unknown ->
 * info). */
void sim_outcome_of(sim *s, sim_node *nd, const rt_outcome *o)
{
	sim_client *c = o->ctx;
	if (!c->op.active || c->op.seq != o->stamp || c->op.node != nd->id || c->op.epoch != nd->epoch)
		return;
	int ci = (int)(c - s->clients);
	if (o->end == RT_NOT_PROPOSED) {
		sim_trace(s, "client %d: %s at node %u not done (why %d)", ci,
			  c->op.f == CHECK_READ ? "read" : "command", nd->id, o->why);
		complete(s, c, CHECK_FAIL, NULL, false);
		return;
	}
	if (o->end == RT_UNKNOWN) {
		sim_trace(s, "client %d: outcome unknown at node %u (why %d)", ci, nd->id, o->why);
		complete(s, c, c->op.f == CHECK_READ ? CHECK_FAIL : CHECK_INFO, NULL, false);
		return;
	}
	if (c->op.f == CHECK_READ) {
		char v[32];
		if (o->res->value.found &&
		    !value_counter(s, o->res->value.p, o->res->value.len, v)) {
			sim_fail(s, "client %d: read k%d at node %u returned %u bytes no client wrote", ci,
				 c->op.key, nd->id, (unsigned)o->res->value.len);
			return;
		}
		sim_trace(s, "client %d: read k%d = %s at node %u", ci, c->op.key,
			  o->res->value.found ? v : "absent", nd->id);
		complete(s, c, CHECK_OK, o->res->value.found ? v : NULL, false);
		return;
	}
	bool mismatch = o->res->status == KV_CAS_MISMATCH;
	sim_trace(s, "client %d: %s on k%d %s at node %u index %llu", ci,
		  c->op.f == CHECK_CAS ? "cas" : "write", c->op.key, mismatch ? "mismatch" : "ok", nd->id,
		  (unsigned long long)o->index);
	complete(s, c, mismatch ? CHECK_FAIL : CHECK_OK, NULL, mismatch);
}

/* Each ready of a node, before the runtime handles it: what its log now
 * holds (for the log matching and leader completeness checks) and its role. */
void sim_on_ready(sim *s, sim_node *nd, const raft_ready *rd)
{
	/* buggify: a node crashes while it writes a batch that overwrites part
	 * of its log and moves its commit (the crash tears that batch at a
	 * random byte, sim_node_crash) */
	if (s->faults_on && s->overwrite_crash_p > 0 && rd->hs_changed && rd->n_entries &&
	    rd->entries[0].index <= nd->log_len && sim_chance(&s->rng, s->overwrite_crash_p))
		sim_push(s, (sim_event){ .at = s->now + sim_below(&s->rng, nd->fsync_us), .kind = EV_CRASH,
					 .node = nd->id, .arg = 3 });
	/* a lying disk that overwrites part of its log crashes soon after: the
	 * older image comes back while the leader still counts the
	 * acknowledged overwrite (issue 10 item 3) */
	if (nd->fsync_lies && rd->n_entries && rd->entries[0].index <= nd->log_len && s->faults_on &&
	    sim_chance(&s->disk_rng, 0.5))
		sim_push(s, (sim_event){ .at = s->now + 1000 + sim_below(&s->disk_rng, 40000), .kind = EV_CRASH,
					 .node = nd->id, .arg = 2 });
	sim_xfer_on_ready(s, nd, rd);
	if (s->failed)
		return;
	if (sim_mirror_write(nd, rd->entries, rd->n_entries) < 0) {
		sim_fail(s, "node %u: ready.entries not contiguous with the log (first %llu, log %llu)", nd->id,
			 (unsigned long long)rd->entries[0].index, (unsigned long long)nd->log_len);
		return;
	}
	if (rd->soft_changed)
		nd->role = rd->role;
	/* a follower that just learned of a new leader may still hold the old
	 * leader's uncommitted tail: the disk fault starts then, so that the
	 * overwrite is what the lying fsync loses */
	if (rd->soft_changed && rd->leader != RAFT_NONE && rd->leader != nd->id)
		sim_node_maybe_lie(s, nd);
	/* buggify: a node that just granted a vote crashes before its disk
	 * could have made that vote durable (the runtime must not have let the
	 * grant out yet) */
	if (!s->faults_on || s->vote_crash_p <= 0)
		return;
	for (size_t i = 0; i < rd->n_msgs; i++)
		if (rd->msgs[i].type == RAFT_MSG_VOTE_RESP && !rd->msgs[i].reject &&
		    sim_chance(&s->rng, s->vote_crash_p)) {
			sim_push(s, (sim_event){ .at = s->now + sim_below(&s->rng, nd->fsync_us), .kind = EV_CRASH,
						 .node = nd->id, .arg = 4 });
			break;
		}
}

/* ---------------------------------------------------------------- partitions */
/* Partitions are set on every node's fault filter through the admin API the
 * tester uses (faults_admin), so the runtime's filter does the cutting. */

static void fault_set(sim *s, sim_node *nd, const char *method, const char *name, const char *body)
{
	char *resp = NULL;
	int code = faults_admin(nd->f, method, name, body, body ? strlen(body) : 0, s->now / 1000, &resp);
	if (code != 200)
		sim_fail(s, "node %u: fault %s %s refused (%d): %s", nd->id, method, name, code,
			 resp ? resp : "no answer");
	free(resp);
}

/* Appends the ids of the nodes on `side` as a JSON array to buf. */
static size_t side_json(sim *s, const int *side, int which, char *buf, size_t n)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	bool first = true;
	for (int i = 0; i < s->n && k < n; i++)
		if (side[i] == which) {
			k += (size_t)snprintf(buf + k, n - k, "%s%d", first ? "" : ",", i);
			first = false;
		}
	if (k < n)
		k += (size_t)snprintf(buf + k, n - k, "]");
	return k;
}

/* Two sides; one-way: side 1 cannot reach side 0, side 0 can reach side 1. */
static void apply_sides(sim *s, const int *side, bool oneway)
{
	char a[64], b[64], body[200];
	side_json(s, side, 0, a, sizeof a);
	side_json(s, side, 1, b, sizeof b);
	for (int i = 0; i < s->n; i++) {
		sim_node *nd = &s->nodes[i];
		fault_set(s, nd, "DELETE", "", NULL);
		if (!oneway)
			snprintf(body, sizeof body, "{\"groups\":[%s,%s]}", a, b);
		else if (side[i] == 1)
			snprintf(body, sizeof body, "{\"drop_to\":%s}", a);
		else
			snprintf(body, sizeof body, "{\"drop_from\":%s}", b);
		fault_set(s, nd, "POST", oneway ? "net" : "partition", body);
	}
}

/* Cuts node x off from everyone (both ways) at once: what it sent and has
 * not arrived yet is lost. A heal follows; it does not extend the random
 * partition chain. */
static void isolate(sim *s, uint32_t x, const char *why)
{
	int side[SIM_MAX_NODES];
	for (int i = 0; i < s->n; i++)
		side[i] = (uint32_t)i == x;
	apply_sides(s, side, false);
	sim_trace(s, "isolate node %u (%s)", x, why);
	sim_push(s, (sim_event){ .at = s->now + 50000 + sim_below(&s->rng, 600000), .kind = EV_HEAL, .arg = 1 });
}

/* Election safety, leader completeness, monotonic commit. */
void sim_check_leader(sim *s, sim_node *nd)
{
	raft_status st;
	raft_get_status(rt_raft(nd->rt), &st);
	if (st.commit < nd->commit_max) {
		sim_fail(s, "node %u commit index went back from %llu to %llu", nd->id,
			 (unsigned long long)nd->commit_max, (unsigned long long)st.commit);
		return;
	}
	bool commit_moved = st.commit > nd->commit_max;
	nd->commit_max = st.commit;
	if (st.term > s->max_term)
		s->max_term = st.term;
	sim_node_check_amnesia(s, nd, &st);
	sim_check_conf(s, nd, &st);
	sim_check_wiped(s, nd, &st);
	if (s->failed || st.role != RAFT_LEADER)
		return;
	/* buggify: the leader loses the network the moment its commit index
	 * moves, before the followers learn of it or get what follows */
	if (commit_moved && s->faults_on && s->commit_isolate_p > 0 &&
	    sim_chance(&s->rng, s->commit_isolate_p))
		isolate(s, nd->id, "its commit moved");
	/* buggify: a follower that holds the entry just committed loses its
	 * disk and the leader goes down (issue 10 item 1's scenario): the
	 * wiped node must not help elect a leader that lacks the entry */
	if (commit_moved && s->faults_on && s->wipe_on_commit_p > 0 && sim_wipe_allowed(s) &&
	    sim_chance(&s->disk_rng, s->wipe_on_commit_p)) {
		for (int i = 0; i < s->n; i++) {
			sim_node *f = &s->nodes[(nd->id + 1 + (uint32_t)i) % (uint32_t)s->n];
			if (f != nd && f->up && f->log_len >= st.commit) {
				sim_push(s, (sim_event){ .at = s->now + 1, .kind = EV_WIPE, .node = f->id, .arg = 1 });
				sim_push(s, (sim_event){ .at = s->now + 2 + sim_below(&s->disk_rng, 5000), .kind = EV_CRASH,
						     .node = nd->id, .arg = 6 });
				break;
			}
		}
	}
	uint64_t cap = s->terms_cap;
	if (st.term >= cap) {
		uint64_t c = cap ? cap : 64;
		while (c <= st.term)
			c *= 2;
		uint32_t *n = realloc(s->leader_of_term, c * sizeof *n);
		if (!n) {
			sim_fail(s, "out of memory");
			return;
		}
		for (uint64_t i = cap; i < c; i++)
			n[i] = RAFT_NONE;
		s->leader_of_term = n;
		s->terms_cap = c;
	}
	uint32_t *l = &s->leader_of_term[st.term];
	if (*l == nd->id)
		return;
	if (*l != RAFT_NONE) {
		sim_fail(s, "election safety: nodes %u and %u are both leader in term %llu", *l, nd->id,
			 (unsigned long long)st.term);
		return;
	}
	*l = nd->id;
	s->out->elections++;
	/* only a voter of its own configuration, with its own incarnation,
	 * may win an election (a wiped node's new life votes and campaigns
	 * only once it has been promoted through the log), or one that the
	 * configuration before made a voter while the change that removed it
	 * is not committed (thesis §4.1) */
	if (!sim_may_lead(s, nd, &st)) {
		sim_fail(s, "node %u (incarnation %llu) became leader of term %llu but its configuration does not list it as a voter with that incarnation (nor, pending its removal, the one before)",
			 nd->id, (unsigned long long)nd->incarnation, (unsigned long long)st.term);
		return;
	}
	/* buggify: some new leaders crash before they finish replicating, the
	 * situation of the paper's Figure 8 */
	if (s->faults_on && sim_chance(&s->rng, s->leader_crash_p)) {
		sim_event e = { .at = s->now + sim_below(&s->rng, 30000), .kind = EV_CRASH, .node = nd->id, .arg = 1 };
		if (sim_queue_push(&s->q, e) != 0)
			sim_fail(s, "out of memory");
	} else if (s->faults_on && s->win_isolate_p > 0 && sim_chance(&s->rng, s->win_isolate_p)) {
		isolate(s, nd->id, "it just won"); /* its no-op stays with it */
	}
	sim_trace(s, "node %u is leader of term %llu", nd->id, (unsigned long long)st.term);
	/* leader completeness: every applied (hence committed) entry is in its log */
	for (uint64_t i = 1; i <= s->applied_max; i++) {
		if (s->applied_term[i] == 0)
			continue;
		if (i > nd->log_len || nd->log_term[i] != s->applied_term[i]) {
			sim_fail(s, "leader completeness: leader %u of term %llu lacks committed index %llu",
				 nd->id, (unsigned long long)st.term, (unsigned long long)i);
			return;
		}
	}
}

/* Log matching: same index and term means the same prefix. */
static void check_log_matching(sim *s)
{
	for (int a = 0; a < s->n; a++)
		for (int b = a + 1; b < s->n; b++) {
			sim_node *x = &s->nodes[a], *y = &s->nodes[b];
			uint64_t n = x->log_len < y->log_len ? x->log_len : y->log_len;
			uint64_t top = 0;
			for (uint64_t i = n; i >= 1; i--)
				if (x->log_term[i] == y->log_term[i]) {
					top = i;
					break;
				}
			for (uint64_t i = 1; i <= top; i++)
				if (x->log_term[i] != y->log_term[i] || x->log_hash[i] != y->log_hash[i]) {
					sim_fail(s, "log matching: nodes %d and %d agree at index %llu but differ at %llu",
						 a, b, (unsigned long long)top, (unsigned long long)i);
					return;
				}
		}
}

/* ---------------------------------------------------------------- events */

static void push(sim *s, sim_event e)
{
	if (sim_queue_push(&s->q, e) != 0)
		sim_fail(s, "out of memory");
}

static void schedule_tick(sim *s, sim_node *nd)
{
	uint64_t d = (uint64_t)((double)TICK_US / nd->rate);
	push(s, (sim_event){ .at = s->now + d, .kind = EV_TICK, .node = nd->id, .arg = nd->epoch });
}

/* Copies a value (always < 32 bytes: decimal counters) between 32-byte slots. */
static void copy32(char *dst, const char *src)
{
	size_t l = strnlen(src, 31);
	memmove(dst, src, l);
	dst[l] = '\0';
}

static void client_issue(sim *s, int ci)
{
	sim_client *c = &s->clients[ci];
	if (c->op.active || !s->faults_on)
		return;
	sim_op *o = &c->op;
	memset(o, 0, sizeof *o);
	o->active = true;
	o->seq = ++c->seq;
	o->key = (int)sim_below(&s->rng, SIM_KEYS);
	o->node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n);
	uint64_t r = sim_below(&s->rng, 100);
	o->f = r < 45 ? CHECK_READ : r < 85 ? CHECK_WRITE : CHECK_CAS;
	if (o->f == CHECK_WRITE) {
		snprintf(o->val, sizeof o->val, "%llu", (unsigned long long)++s->value_counter);
		o->has_val = true;
	} else if (o->f == CHECK_CAS) {
		o->has_val = c->seen_valid[o->key] && sim_chance(&s->rng, 0.8);
		if (o->has_val)
			copy32(o->val, c->last_seen[o->key]);
		snprintf(o->val2, sizeof o->val2, "%llu", (unsigned long long)++s->value_counter);
	}
	sim_node *nd = &s->nodes[o->node];
	if (nd->up && nd->paused) {
		/* a paused node holds requests until it resumes (the node's API
		 * queues them): the operation starts then */
		o->active = false;
		c->seq--;
		schedule_client(s, ci, 20000);
		return;
	}
	o->epoch = nd->epoch;
	record(s, c, CHECK_INVOKE, NULL, false);
	if (!nd->up) { /* connection refused: definitely not done */
		complete(s, c, CHECK_FAIL, NULL, false);
		return;
	}
	sim_trace(s, "client %d (p%lld): %s k%d via node %u", ci, (long long)c->process,
		  o->f == CHECK_READ ? "read" : o->f == CHECK_WRITE ? "write" : "cas", o->key, o->node);
	const char *key = key_name(o->key);
	if (o->f == CHECK_READ) {
		rt_read(nd->rt, key, strlen(key), c, o->seq);
	} else {
		if (o->f == CHECK_WRITE)
			c->seen_valid[o->key] = true, copy32(c->last_seen[o->key], o->val);
		kv_command cmd;
		uint8_t v1[SIM_VAL_MAX], v2[SIM_VAL_MAX];
		memset(&cmd, 0, sizeof cmd);
		cmd.key.p = (const uint8_t *)key;
		cmd.key.len = (uint32_t)strlen(key);
		if (o->f == CHECK_WRITE) {
			cmd.op = KV_OP_PUT;
			cmd.value.p = v1;
			cmd.value.len = (uint32_t)full_value(s, o->val, v1);
		} else {
			cmd.op = KV_OP_CAS;
			cmd.from_present = o->has_val;
			cmd.from.p = v1;
			cmd.from.len = o->has_val ? (uint32_t)full_value(s, o->val, v1) : 0;
			cmd.value.p = v2;
			cmd.value.len = (uint32_t)full_value(s, o->val2, v2);
		}
		rt_propose(nd->rt, &cmd, RT_KIND_WRITE, key, strlen(key), c, o->seq, false);
	}
	sim_node_process_ready(s, nd);
}

/* A node went away: its clients' ops end as unknown (writes) or failed (reads). */
static void abandon_ops_at(sim *s, uint32_t node)
{
	for (int i = 0; i < s->n_clients; i++) {
		sim_client *c = &s->clients[i];
		if (c->op.active && c->op.node == node)
			complete(s, c, c->op.f == CHECK_READ ? CHECK_FAIL : CHECK_INFO, NULL, false);
	}
}

static void new_partition(sim *s)
{
	/* each node joins side 0 or 1; sometimes a single node is isolated */
	int side[SIM_MAX_NODES];
	if (sim_chance(&s->rng, 0.5)) {
		int x = (int)sim_below(&s->rng, (uint64_t)s->n);
		for (int i = 0; i < s->n; i++)
			side[i] = i == x;
	} else {
		for (int i = 0; i < s->n; i++)
			side[i] = (int)sim_below(&s->rng, 2);
	}
	bool oneway = sim_chance(&s->rng, 0.2); /* asymmetric: only one direction cut */
	apply_sides(s, side, oneway);
	char sides[SIM_MAX_NODES + 1];
	for (int i = 0; i < s->n; i++)
		sides[i] = (char)('0' + side[i]);
	sides[s->n] = '\0';
	sim_trace(s, "partition%s: %s", oneway ? " (one-way)" : "", sides);
}

static void heal(sim *s)
{
	for (int i = 0; i < s->n; i++)
		fault_set(s, &s->nodes[i], "DELETE", "", NULL);
	sim_trace(s, "heal");
}

/* A power cut of node nd now; it restarts later (soon when quick). */
static void crash_now(sim *s, sim_node *nd, bool quick)
{
	sim_trace(s, "crash node %u", nd->id);
	s->out->crashes++;
	abandon_ops_at(s, nd->id);
	if (nd->paused) /* a new process is not paused */
		fault_set(s, nd, "POST", "resume", NULL);
	nd->paused = false;
	sim_node_crash(s, nd);
	/* some restarts are quick, so the node is back while the election it
	 * took part in is still going on; a lying disk's crash is back at once */
	uint64_t down = quick || sim_chance(&s->rng, s->quick_restart_p) ? 500 + sim_below(&s->rng, 10000)
									 : 20000 + sim_below(&s->rng, 400000);
	push(s, (sim_event){ .at = s->now + down, .kind = EV_RESTART, .node = nd->id });
}

/* Trace only: what a frame carries. */
static void trace_frame(sim *s, const sim_event *e)
{
	raft_msg m;
	const char *why = NULL;
	wire_snap_chunk c;
	wire_snap_ack a;
	if (wire_decode_snap_chunk(e->frame, e->len, &c, &why) == 0) {
		sim_trace(s, "deliver snapshot chunk %u->%u term %llu snapshot %llu offset %llu len %u of %llu", c.from,
			  c.to, (unsigned long long)c.term, (unsigned long long)c.index, (unsigned long long)c.offset,
			  c.len, (unsigned long long)c.total);
		return;
	}
	if (wire_decode_snap_ack(e->frame, e->len, &a, &why) == 0) {
		sim_trace(s, "deliver snapshot ack %u->%u snapshot %llu offset %llu status %u", a.from, a.to,
			  (unsigned long long)a.index, (unsigned long long)a.offset, a.status);
		return;
	}
	if (wire_decode(e->frame, e->len, &m, &why) != 0) {
		sim_trace(s, "deliver an undecodable frame %llu->%u", (unsigned long long)e->arg, e->node);
		return;
	}
	sim_trace(s, "deliver %s %u->%u term %llu index %llu commit %llu n=%zu%s", raft_msg_type_name(m.type),
		  m.from, m.to, (unsigned long long)m.term, (unsigned long long)m.index,
		  (unsigned long long)m.commit, m.n_entries, m.reject ? " reject" : "");
	wire_msg_free(&m);
}

static void handle(sim *s, sim_event *e)
{
	sim_node *nd = e->kind == EV_DELIVER || e->kind == EV_TICK || e->kind == EV_CRASH ||
				   e->kind == EV_RESTART || e->kind == EV_FSYNC || e->kind == EV_DEFER ||
				   e->kind == EV_PAUSE || e->kind == EV_RESUME || e->kind == EV_JUMP ||
				   e->kind == EV_WIPE || e->kind == EV_SNAP_DONE || e->kind == EV_SNAP_COMPACTED ||
				   e->kind == EV_SNAP_REQUEST || e->kind == EV_RECV_IO
			       ? &s->nodes[e->node]
			       : NULL;
	switch (e->kind) {
	case EV_DELIVER:
		if (nd->up) {
			if (s->p.trace)
				trace_frame(s, e);
			if (rt_step_frame(nd->rt, (uint32_t)e->arg, e->frame, e->len) != 0)
				sim_fail(s, "node %u refused a frame from %llu", nd->id, (unsigned long long)e->arg);
			sim_node_process_ready(s, nd);
		}
		free(e->frame);
		e->frame = NULL;
		break;
	case EV_FSYNC:
		if (nd->up && e->arg == nd->epoch)
			sim_node_fsync(s, nd);
		break;
	case EV_SNAP_DONE:
		if (nd->up && e->arg == nd->epoch)
			sim_snap_done(s, nd);
		break;
	case EV_SNAP_REQUEST:
		if (nd->up && !nd->paused)
			sim_snap_request(s, nd);
		if (s->faults_on)
			push(s, (sim_event){ .at = s->now + 50000 + sim_below(&s->snap_rng, 500000),
					     .kind = EV_SNAP_REQUEST, .node = (uint32_t)sim_below(&s->snap_rng, (uint64_t)s->n) });
		break;
	case EV_RECV_IO:
		if (nd->up && e->arg == nd->epoch) {
			snap_recv_io_run(e->ptr);
			rt_xfer_io_done(nd->rt);
			sim_node_process_ready(s, nd);
		}
		break;
	case EV_SNAP_COMPACTED:
		if (nd->up && e->arg == nd->epoch) {
			rt_snapshot_compacted(nd->rt);
			sim_node_process_ready(s, nd);
		}
		break;
	case EV_DEFER:
		if (nd->up && e->arg == nd->epoch) {
			rt_deferred_due(nd->rt, e->ptr);
			sim_node_process_ready(s, nd);
		}
		break;
	case EV_TICK: {
		if (!nd->up || e->arg != nd->epoch)
			break;
		/* the node's clock moves one tick, plus any jump; rt_clock turns
		 * it into ticks as the node's ticker does */
		raft_status before, after;
		raft_get_status(rt_raft(nd->rt), &before);
		uint64_t jump = nd->jump_ms;
		nd->jump_ms = 0;
		nd->clock_ms += TICK_US / 1000 + jump;
		nd->timer_ms += TICK_US / 1000;
		rt_clock(nd->rt, nd->clock_ms, nd->timer_ms, TICK_US / 1000);
		raft_get_status(rt_raft(nd->rt), &after);
		if (jump > 0 && after.term > before.term + 1)
			sim_fail(s, "clock jump of %llu ms at node %u started more than one election (term %llu -> %llu)",
				 (unsigned long long)jump, nd->id, (unsigned long long)before.term,
				 (unsigned long long)after.term);
		rt_expire(nd->rt);
		sim_node_process_ready(s, nd);
		schedule_tick(s, nd);
		break;
	}
	case EV_PAUSE:
		if (s->faults_on && e->arg == 0)
			push(s, (sim_event){ .at = s->now + 100000 + sim_below(&s->rng, 800000), .kind = EV_PAUSE,
					     .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
		if (nd->up && !nd->paused && s->faults_on) {
			uint64_t ms = 20 + sim_below(&s->rng, 400);
			char body[64];
			snprintf(body, sizeof body, "{\"ms\":%llu}", (unsigned long long)ms);
			fault_set(s, nd, "POST", "pause", body);
			nd->paused = true;
			rt_set_paused(nd->rt, true);
			sim_trace(s, "pause node %u for %llu ms", nd->id, (unsigned long long)ms);
			push(s, (sim_event){ .at = s->now + ms * 1000, .kind = EV_RESUME, .node = nd->id, .arg = nd->epoch });
		}
		break;
	case EV_RESUME:
		if (nd->up && nd->paused && e->arg == nd->epoch) {
			nd->paused = false;
			rt_set_paused(nd->rt, false);
			sim_trace(s, "resume node %u", nd->id);
			sim_node_process_ready(s, nd);
		}
		break;
	case EV_JUMP:
		if (s->faults_on) {
			/* two to four election timeouts at once */
			uint64_t ms = (2 + sim_below(&s->rng, 3)) * 10 * (TICK_US / 1000);
			nd->jump_ms += ms;
			sim_trace(s, "clock of node %u jumps %llu ms", nd->id, (unsigned long long)ms);
			push(s, (sim_event){ .at = s->now + 200000 + sim_below(&s->rng, 1000000), .kind = EV_JUMP,
					     .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
		}
		break;
	case EV_CLIENT:
		client_issue(s, (int)e->arg);
		break;
	case EV_CRASH:
		if (nd->up && s->faults_on)
			crash_now(s, nd, e->arg == 2);
		if (s->faults_on && e->arg == 0) /* the random chain; targeted crashes do not extend it */
			push(s, (sim_event){ .at = s->now + 50000 + sim_below(&s->rng, 600000),
					     .kind = EV_CRASH, .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
		break;
	case EV_WIPE:
		/* a lost disk: one at a time (sim_members.c) */
		if (sim_wipe_allowed(s)) {
			if (nd->up)
				crash_now(s, nd, false);
			if (s->lying < 0 && !s->failed) {
				s->out->wipes++;
				sim_node_wipe(s, nd);
			}
		}
		if (s->faults_on && e->arg == 0)
			push(s, (sim_event){ .at = s->now + 200000 + sim_below(&s->rng, 1000000), .kind = EV_WIPE,
					     .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
		break;
	case EV_MEMBER:
		if (!s->faults_on)
			break;
		/* a removal is followed, sometimes, by adding a node that is
		 * not a member: a replacement */
		if (sim_member_change(s, e->arg == 1) && e->arg == 0 && sim_chance(&s->rng, 0.5))
			push(s, (sim_event){ .at = s->now + 20000 + sim_below(&s->rng, 200000), .kind = EV_MEMBER, .arg = 1 });
		if (e->arg == 0) /* buggify: changes come thick and fast */
			push(s, (sim_event){ .at = s->now + 20000 + sim_below(&s->rng, s->buggify ? 150000 : 400000),
					     .kind = EV_MEMBER });
		break;
	case EV_RESTART: {
		if (nd->up)
			break;
		/* buggify: the operator restarts it with a wrong --cluster (only
		 * itself); the start must be refused, then it is retried right */
		bool wrong = s->faults_on && s->wrong_members_p > 0 && sim_chance(&s->rng, s->wrong_members_p);
		/* (a wiped dir remembers no member list to refuse a wrong one) */
		if (wrong && nd->wiped) {
			push(s, (sim_event){ .at = s->now + 1000, .kind = EV_RESTART, .node = nd->id });
			break;
		}
		if (wrong) {
			nd->voters[0] = nd->id;
			nd->n_voters = 1;
		}
		/* the wall clock may have been stepped back while it was down */
		if (s->clock_back_p > 0 && sim_chance(&s->rng, s->clock_back_p))
			nd->wall_offset_us -= sim_below(&s->rng, 3000000);
		int rc = sim_node_start(s, nd);
		nd->n_voters = (size_t)s->n_boot;
		for (int i = 0; i < s->n_boot; i++)
			nd->voters[i] = s->voters[i];
		if (rc == 1) {
			push(s, (sim_event){ .at = s->now + 1000 + sim_below(&s->rng, 20000), .kind = EV_RESTART, .node = nd->id });
		} else if (rc == 0) {
			nd->rate = 0.7 + 0.6 * (double)sim_below(&s->rng, 1000) / 1000.0;
			schedule_tick(s, nd);
			sim_node_process_ready(s, nd);
		}
		break;
	}
	case EV_PARTITION:
		if (!s->faults_on)
			break;
		new_partition(s);
		push(s, (sim_event){ .at = s->now + 50000 + sim_below(&s->rng, 800000), .kind = EV_HEAL });
		break;
	case EV_HEAL:
		heal(s);
		if (s->faults_on && e->arg == 0) /* buggify heals do not extend the chain */
			push(s, (sim_event){ .at = s->now + 100000 + sim_below(&s->rng, 1000000), .kind = EV_PARTITION });
		break;
	}
}

/* Faults stop, every node comes back, pending work drains. */
static void calm_down(sim *s)
{
	s->faults_on = false;
	s->delay_max = s->calm_delay_max;
	heal(s);
	for (int i = 0; i < s->n; i++)
		if (!s->nodes[i].up)
			push(s, (sim_event){ .at = s->now + 1, .kind = EV_RESTART, .node = (uint32_t)i });
}

static int make_dirs(sim *s)
{
	char base[400];
	snprintf(base, sizeof base, "%s/raftkv-sim-%d-%llu", s->p.tmp_root, (int)getpid(),
		 (unsigned long long)s->p.seed);
	if (mkdir(base, 0700) != 0)
		return -1;
	for (int i = 0; i < s->n; i++) {
		snprintf(s->nodes[i].dir, sizeof s->nodes[i].dir, "%s/n%d", base, i);
		snprintf(s->nodes[i].snapdir, sizeof s->nodes[i].snapdir, "%s/n%d.snap", base, i);
		snprintf(s->nodes[i].stagedir, sizeof s->nodes[i].stagedir, "%s/n%d.stage", base, i);
	}
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 ? -1 : 0;
}

/* Removes the seed's data dirs in-process: a shell per seed (rm -rf) used
 * to cost more CPU than the simulation itself. */
static void remove_dirs(sim *s)
{
	char base[512];
	snprintf(base, sizeof base, "%s", s->nodes[0].dir);
	char *slash = strrchr(base, '/');
	if (!slash)
		return;
	*slash = '\0';
	int rc = nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	(void)rc; /* leftover temp files are not a test failure */
}

int sim_run(const sim_params *p, sim_outcome *out)
{
	sim *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	memset(out, 0, sizeof *out);
	out->ok = true;
	s->p = *p;
#ifdef RAFT_PLANTED_BUGS
	rt_members_planted_bug = p->planted_bug;
#endif
#ifdef WAL_PLANTED_BUGS
	wal_planted_bug = p->planted_bug == SIM_BUG_WAL_SYNC_LAST_ONLY ? 1
			  : p->planted_bug == SIM_BUG_WAL_ANY_OFFSET ? 2 : 0;
#endif
	s->out = out;
	s->rng.s = p->seed * 0x2545F4914F6CDD1Dull + 1;
	s->n = p->n_nodes ? p->n_nodes : 3 + (int)sim_below(&s->rng, 3);
	s->n_boot = s->n;
	s->loss = 0.01 * (double)sim_below(&s->rng, 10);
	s->dup = 0.01 * (double)sim_below(&s->rng, 5);
	s->delay_min = 100 + sim_below(&s->rng, 1000);
	s->delay_max = s->delay_min + 500 + sim_below(&s->rng, 20000);
	s->calm_delay_max = s->delay_max;
	/* some seeds get a slow network, with delays near the election timeout:
	 * that is where stale vote responses and competing candidates meet */
	if (sim_chance(&s->rng, 0.3))
		s->delay_max = s->delay_min + 20000 + sim_below(&s->rng, 200000);
	static const size_t batch[] = { 1, 2, 16, 64 };
	s->max_msg_entries = batch[sim_below(&s->rng, 4)];
	s->max_inflight = 1 + sim_below(&s->rng, 4);
	s->pre_vote = !sim_chance(&s->rng, 0.33); /* without it terms move faster */
	s->leader_crash_p = 0.3;
	s->quick_restart_p = 0.3;
	s->think_max = 30000;
	/* Half the seeds buggify: leaders lose the network right after they win
	 * or commit, messages take long detours, batches are tiny and clients
	 * busy, so leaders hold many uncommitted entries and are replaced before
	 * replicating them. That is where the paper's Figure 8 lives: an entry
	 * of an earlier term on a majority, yet not committed. */
	s->buggify = sim_chance(&s->rng, 0.5);
	if (s->buggify) {
		static const size_t small[] = { 1, 1, 1, 2 };
		s->max_msg_entries = small[sim_below(&s->rng, 4)];
		s->leader_crash_p = 0.1 * (double)sim_below(&s->rng, 5);
		s->win_isolate_p = 0.1 * (double)(1 + sim_below(&s->rng, 5));
		s->commit_isolate_p = 0.1 * (double)(2 + sim_below(&s->rng, 5));
		s->slow_msg_p = 0.01 * (double)sim_below(&s->rng, 15);
		s->slow_msg_max = 20000 + sim_below(&s->rng, 300000);
		s->quick_restart_p = 0.1 * (double)sim_below(&s->rng, 8);
		s->think_max = 2000 + sim_below(&s->rng, 30000);
		s->vote_crash_p = 0.05 * (double)sim_below(&s->rng, 4);
		s->overwrite_crash_p = 0.2 * (double)sim_below(&s->rng, 4);
		s->wrong_members_p = 0.1 * (double)sim_below(&s->rng, 3);
		s->clock_back_p = 0.2 * (double)sim_below(&s->rng, 3);
	}
	/* Some seeds give one node at a time a disk whose fsync lies (the
	 * contract's disk {"fsync":false}, then a crash). Drawn from their own
	 * stream. */
	s->disk_rng.s = p->seed * 0x9E3779B97F4A7C15ull + 7;
	s->lying = -1;
	if (sim_chance(&s->disk_rng, 0.25))
		s->fsync_lies_p = 0.3 + 0.1 * (double)sim_below(&s->disk_rng, 6);
	/* Snapshots in two seeds of three, at random points (a few to tens of
	 * entries apart), with small WAL segments so compaction drops some;
	 * in half of those, crashes damage the newest snapshot file. Their own
	 * stream too. */
	s->snap_rng.s = p->seed * 0xD1B54A32D192ED03ull + 11;
	if (!sim_chance(&s->snap_rng, 0.33)) {
		s->snap.every_entries = 3 + sim_below(&s->snap_rng, 60);
		s->snap.every_bytes = sim_chance(&s->snap_rng, 0.3) ? 200 + sim_below(&s->snap_rng, 4000) : 0;
		s->snap.trailing_entries = 20 + sim_below(&s->snap_rng, 200);
		s->segment_bytes = 1024 + sim_below(&s->snap_rng, 16384);
		if (sim_chance(&s->snap_rng, 0.5))
			s->snap_damage_p = 0.2 + 0.1 * (double)sim_below(&s->snap_rng, 5);
	}
	/* small segments on some seeds: rolls happen, so a killed process can
	 * leave unsynced data in a segment that is not the last */
	if (sim_chance(&s->disk_rng, 0.5) && s->segment_bytes == 0)
		s->segment_bytes = (size_t)2048 << sim_below(&s->disk_rng, 4);
	/* membership changes with one or two spare nodes, and wipes; in
	 * buggify seeds, the wipe of issue 10 item 1 right after a commit */
	s->members = sim_chance(&s->disk_rng, 0.5);
	s->wipes = sim_chance(&s->disk_rng, 0.5);
	if (s->members)
		s->n += 1 + (int)sim_below(&s->disk_rng, 2);
	if (s->wipes && s->buggify)
		s->wipe_on_commit_p = 0.05 * (double)sim_below(&s->disk_rng, 4);
	sim_disk_reset();
	sim_xfer_params(s);
	s->faults_on = true;
	s->h = check_history_new();
	s->n_clients = 3 + (int)sim_below(&s->rng, SIM_MAX_CLIENTS - 2);
	sim_trace(s, "seed %llu: %d nodes (%d bootstrap voters), membership changes %d, wipes %d, %d clients, delay %llu..%llu us, loss %.2f, dup %.2f, batch %zu, "
		  "inflight %zu, pre-vote %d, buggify %d (leader crash %.1f, isolate on win %.1f / on commit %.2f, "
		  "slow msgs %.2f up to %llu us, quick restarts %.1f, think %llu us)",
		  (unsigned long long)p->seed, s->n, s->n_boot, (int)s->members, (int)s->wipes, s->n_clients, (unsigned long long)s->delay_min,
		  (unsigned long long)s->delay_max, s->loss, s->dup, s->max_msg_entries, s->max_inflight,
		  (int)s->pre_vote, (int)s->buggify, s->leader_crash_p, s->win_isolate_p, s->commit_isolate_p,
		  s->slow_msg_p, (unsigned long long)s->slow_msg_max, s->quick_restart_p,
		  (unsigned long long)s->think_max);
	int rc = 0;
	if (!s->h || make_dirs(s) != 0) {
		rc = -1;
		goto done;
	}
	for (int i = 0; i < s->n_boot; i++)
		s->voters[i] = (uint32_t)i;
	for (int i = 0; i < s->n; i++) {
		s->nodes[i].id = (uint32_t)i;
		s->nodes[i].s = s;
		s->nodes[i].spare = i >= s->n_boot;
		s->nodes[i].n_voters = (size_t)s->n_boot;
		s->nodes[i].wall_offset_us = 1700000000000000ull + (uint64_t)i * 7000000ull;
		for (int k = 0; k < s->n_boot; k++)
			s->nodes[i].voters[k] = (uint32_t)k;
		/* the node's fault filter outlives its crashes: it stands for the
		 * network around it, which a restart does not heal */
		if (!(s->nodes[i].f = faults_new((uint32_t)i, p->seed * 31u + (uint64_t)i))) {
			rc = -1;
			goto done;
		}
	}
	for (int i = 0; i < s->n; i++) {
		sim_node *nd = &s->nodes[i];
		nd->rate = 0.7 + 0.6 * (double)sim_below(&s->rng, 1000) / 1000.0;
		nd->fsync_us = 50 + sim_below(&s->rng, 3000);
		if (sim_node_start(s, nd) != 0) {
			rc = -1;
			goto done;
		}
		push(s, (sim_event){ .at = sim_below(&s->rng, TICK_US), .kind = EV_TICK, .node = nd->id, .arg = nd->epoch });
	}
	for (int i = 0; i < s->n_clients; i++) {
		s->clients[i].process = s->next_process++;
		schedule_client(s, i, 50000 + sim_below(&s->rng, 100000));
	}
	push(s, (sim_event){ .at = 200000 + sim_below(&s->rng, 1000000), .kind = EV_PARTITION });
	s->pauses = sim_chance(&s->rng, 0.5);
	s->jumps = sim_chance(&s->rng, 0.5);
	/* drawn from the disk stream: seeds without it replay as before */
	s->record_values = sim_chance(&s->disk_rng, 0.5);
	if (s->pauses)
		push(s, (sim_event){ .at = 100000 + sim_below(&s->rng, 1000000), .kind = EV_PAUSE,
				     .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
	if (s->jumps)
		push(s, (sim_event){ .at = 100000 + sim_below(&s->rng, 1000000), .kind = EV_JUMP,
				     .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
	if (s->snap.every_entries > 0)
		push(s, (sim_event){ .at = 100000 + sim_below(&s->snap_rng, 500000), .kind = EV_SNAP_REQUEST,
				     .node = (uint32_t)sim_below(&s->snap_rng, (uint64_t)s->n) });
	push(s, (sim_event){ .at = 300000 + sim_below(&s->rng, 1500000), .kind = EV_CRASH,
			     .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
	if (s->members)
		push(s, (sim_event){ .at = 300000 + sim_below(&s->disk_rng, 500000), .kind = EV_MEMBER });
	if (s->wipes)
		push(s, (sim_event){ .at = 300000 + sim_below(&s->disk_rng, 1500000), .kind = EV_WIPE,
				     .node = (uint32_t)sim_below(&s->disk_rng, (uint64_t)s->n) });
	uint64_t end = p->duration_us, calm_end = end + 3000000;
	bool calm = false;
	sim_event e;
	while (!s->failed && sim_queue_pop(&s->q, &e) == 0) {
		if (!calm && e.at >= end) {
			calm = true;
			s->now = end;
			calm_down(s);
		}
		if (e.at >= calm_end) {
			free(e.frame);
			break;
		}
		s->now = e.at;
		s->steps++;
		handle(s, &e);
		if ((s->steps & 63) == 0 && !s->failed)
			check_log_matching(s);
	}
	if (!s->failed)
		check_log_matching(s);
	/* liveness after the calm phase: some node leads */
	if (!s->failed) {
		bool any = false;
		for (int i = 0; i < s->n; i++)
			any |= s->nodes[i].up && s->nodes[i].role == RAFT_LEADER;
		if (!any) {
			sim_fail(s, "liveness: no leader 3 s after all faults healed");
			sim_trace_nodes(s);
		}
	}
	const char *dump = getenv("RAFTKV_SIM_HISTORY"); /* keep the history for a closer look */
	if (dump) {
		FILE *f = fopen(dump, "w");
		if (f) {
			if (check_history_write_jsonl(s->h, f) != 0)
				fprintf(stderr, "raftkv-sim: could not write %s\n", dump);
			fclose(f);
		}
	}
	if (!s->failed) {
		check_options o = { .timeout_s = 30 };
		check_result r;
		check_verdict v = check_history_check(s->h, &o, &r);
		if (v == CHECK_NOT_LINEARIZABLE)
			sim_fail(s, "client history not linearizable: %s", r.description ? r.description : "");
		check_result_free(&r);
	}
done:
	out->steps = s->steps;
	out->ok = !s->failed && rc == 0;
	sim_queue_free(&s->q);
	if (s->nodes[0].dir[0])
		remove_dirs(s);
	for (int i = 0; i < SIM_MAX_NODES; i++)
		sim_node_free(&s->nodes[i]);
	check_history_free(s->h);
	free(s->leader_of_term);
	free(s->applied_term);
	free(s->applied_hash);
	free(s->snap_digest);
	free(s);
	return rc;
}
