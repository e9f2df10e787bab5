/* sim_run.c — the event loop, fault schedule, clients and invariants. */
#include "sim_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TICK_US 10000u       /* a node's tick at clock rate 1.0 */
#define OP_TIMEOUT_US 1500000u

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

/* ---------------------------------------------------------------- commands */
/* An entry's data: f, key, process, seq, len(val), has_val, val, len(val2), val2 */

static size_t cmd_encode(uint8_t *buf, const sim_client *c)
{
	const sim_op *o = &c->op;
	size_t n = 0;
	buf[n++] = (uint8_t)o->f;
	buf[n++] = (uint8_t)o->key;
	memcpy(buf + n, &c->process, 8);
	n += 8;
	memcpy(buf + n, &o->seq, 8);
	n += 8;
	buf[n++] = o->has_val;
	uint8_t l1 = (uint8_t)strlen(o->val), l2 = (uint8_t)strlen(o->val2);
	buf[n++] = l1;
	memcpy(buf + n, o->val, l1);
	n += l1;
	buf[n++] = l2;
	memcpy(buf + n, o->val2, l2);
	n += l2;
	return n;
}

typedef struct sim_cmd {
	check_fn f;
	int key;
	int64_t process;
	uint64_t seq;
	bool has_val;
	char val[32], val2[32];
} sim_cmd;

static int cmd_decode(const uint8_t *d, size_t len, sim_cmd *c)
{
	if (len < 21)
		return -1;
	memset(c, 0, sizeof *c);
	c->f = (check_fn)d[0];
	c->key = d[1];
	memcpy(&c->process, d + 2, 8);
	memcpy(&c->seq, d + 10, 8);
	c->has_val = d[18];
	size_t p = 19, l1 = d[p++];
	if (l1 >= sizeof c->val || p + l1 + 1 > len)
		return -1;
	memcpy(c->val, d + p, l1);
	p += l1;
	size_t l2 = d[p++];
	if (l2 >= sizeof c->val2 || p + l2 > len || c->key >= SIM_KEYS)
		return -1;
	memcpy(c->val2, d + p, l2);
	return 0;
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

void sim_send(sim *s, const raft_msg *m)
{
	if (m->to >= (uint32_t)s->n || m->from >= (uint32_t)s->n)
		return;
	if (!s->link[m->from][m->to] || (s->faults_on && sim_chance(&s->rng, s->loss)))
		return;
	if (sim_node_vote_dropped(s, m))
		return;
	int copies = (s->faults_on && sim_chance(&s->rng, s->dup)) ? 2 : 1;
	for (int i = 0; i < copies; i++) {
		raft_msg *c = sim_msg_copy(m);
		if (!c) {
			sim_fail(s, "out of memory");
			return;
		}
		uint64_t d = s->delay_min + sim_below(&s->rng, s->delay_max - s->delay_min + 1);
		/* a long detour: the message overtakes nothing but is overtaken
		 * by whole rounds of later traffic */
		if (s->faults_on && s->slow_msg_p > 0 && sim_chance(&s->rng, s->slow_msg_p))
			d += sim_below(&s->rng, s->slow_msg_max);
		sim_event e = { .at = s->now + d, .kind = EV_DELIVER, .node = m->to, .msg = c };
		if (sim_queue_push(&s->q, e) != 0) {
			sim_msg_free(c);
			sim_fail(s, "out of memory");
		}
	}
}

/* ---------------------------------------------------------------- invariants */

static int grow_u64(uint64_t **a, uint64_t *cap, uint64_t need, uint64_t fill)
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
void sim_applied(sim *s, sim_node *nd, const raft_entry *e)
{
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
	if (grow_u64(&s->applied_term, &cap, e->index, 0) != 0 ||
	    grow_u64(&s->applied_hash, &s->applied_cap, e->index, 0) != 0) {
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
	if (e->type != RAFT_ENTRY_NORMAL)
		return;
	sim_cmd cmd;
	if (cmd_decode(e->data, e->len, &cmd) != 0) {
		sim_fail(s, "node %u applied an undecodable command at %llu", nd->id, (unsigned long long)e->index);
		return;
	}
	/* dedup: a duplicated forwarded proposal must not apply twice */
	if ((size_t)cmd.process >= nd->last_seq_n) {
		size_t n = (size_t)cmd.process + 16;
		uint64_t *ls = realloc(nd->last_seq, n * sizeof *ls);
		if (!ls) {
			sim_fail(s, "out of memory");
			return;
		}
		for (size_t i = nd->last_seq_n; i < n; i++)
			ls[i] = 0;
		nd->last_seq = ls;
		nd->last_seq_n = n;
	}
	if (cmd.seq <= nd->last_seq[cmd.process])
		return;
	nd->last_seq[cmd.process] = cmd.seq;
	char **slot = &nd->kv[cmd.key];
	bool mismatch = false;
	if (cmd.f == CHECK_WRITE || cmd.f == CHECK_CAS) {
		if (cmd.f == CHECK_CAS) {
			bool cur_present = *slot != NULL;
			mismatch = cmd.has_val ? !(cur_present && strcmp(*slot, cmd.val) == 0) : cur_present;
		}
		if (!mismatch) {
			char *v = strdup(cmd.f == CHECK_CAS ? cmd.val2 : cmd.val);
			if (!v) {
				sim_fail(s, "out of memory");
				return;
			}
			free(*slot);
			*slot = v;
		}
	}
	/* answer the waiting client if it sent this op to this incarnation */
	for (int i = 0; i < s->n_clients; i++) {
		sim_client *c = &s->clients[i];
		if (c->op.active && c->process == cmd.process && c->op.seq == cmd.seq &&
		    c->op.node == nd->id && c->op.epoch == nd->epoch && c->op.f != CHECK_READ) {
			sim_trace(s, "client %d: %s on k%d %s at node %u index %llu", i,
				  cmd.f == CHECK_CAS ? "cas" : "write", cmd.key, mismatch ? "mismatch" : "ok",
				  nd->id, (unsigned long long)e->index);
			complete(s, c, mismatch ? CHECK_FAIL : CHECK_OK, NULL, mismatch);
		}
	}
}

void sim_read_state(sim *s, sim_node *nd, const raft_read_state *rs)
{
	for (int i = 0; i < s->n_clients; i++) {
		sim_client *c = &s->clients[i];
		if (!c->op.active || c->op.f != CHECK_READ || c->op.read_ctx != rs->ctx ||
		    c->op.node != nd->id || c->op.epoch != nd->epoch)
			continue;
		if (rs->index == 0) {
			complete(s, c, CHECK_FAIL, NULL, false);
			return;
		}
		c->op.read_index = rs->index;
	}
}

void sim_node_applied_reads(sim *s, sim_node *nd)
{
	for (int i = 0; i < s->n_clients; i++) {
		sim_client *c = &s->clients[i];
		if (c->op.active && c->op.f == CHECK_READ && c->op.node == nd->id &&
		    c->op.epoch == nd->epoch && c->op.read_index && nd->applied >= c->op.read_index) {
			sim_trace(s, "client %d: read k%d = %s at node %u (read index %llu)", i, c->op.key,
				  nd->kv[c->op.key] ? nd->kv[c->op.key] : "absent", nd->id,
				  (unsigned long long)c->op.read_index);
			complete(s, c, CHECK_OK, nd->kv[c->op.key], false);
		}
	}
}

/* Cuts node x off from everyone (both ways) at once: what it sent and has
 * not arrived yet is lost. A heal follows; it does not extend the random
 * partition chain. */
static void isolate(sim *s, uint32_t x, const char *why)
{
	for (int a = 0; a < s->n; a++)
		for (int b = 0; b < s->n; b++)
			s->link[a][b] = ((uint32_t)a == x) == ((uint32_t)b == x);
	sim_trace(s, "isolate node %u (%s)", x, why);
	sim_event e = { .at = s->now + 50000 + sim_below(&s->rng, 600000), .kind = EV_HEAL, .arg = 1 };
	if (sim_queue_push(&s->q, e) != 0)
		sim_fail(s, "out of memory");
}

/* Election safety, leader completeness, monotonic commit. */
void sim_check_leader(sim *s, sim_node *nd)
{
	raft_status st;
	raft_get_status(nd->r, &st);
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
	if (st.role != RAFT_LEADER)
		return;
	/* buggify: the leader loses the network the moment its commit index
	 * moves, before the followers learn of it or get what follows */
	if (commit_moved && s->faults_on && s->commit_isolate_p > 0 &&
	    sim_chance(&s->rng, s->commit_isolate_p))
		isolate(s, nd->id, "its commit moved");
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
	o->epoch = nd->epoch;
	record(s, c, CHECK_INVOKE, NULL, false);
	if (!nd->up) { /* connection refused: definitely not done */
		complete(s, c, CHECK_FAIL, NULL, false);
		return;
	}
	int rc;
	if (o->f == CHECK_READ) {
		o->read_ctx = ((uint64_t)ci << 40) | o->seq;
		rc = raft_read_index(nd->r, o->read_ctx);
	} else {
		if (o->f == CHECK_WRITE)
			c->seen_valid[o->key] = true, copy32(c->last_seen[o->key], o->val);
		uint8_t buf[128];
		size_t len = cmd_encode(buf, c);
		uint64_t idx = 0;
		rc = raft_propose(nd->r, buf, len, &idx);
	}
	sim_trace(s, "client %d (p%lld): %s k%d via node %u -> %d", ci, (long long)c->process,
		  o->f == CHECK_READ ? "read" : o->f == CHECK_WRITE ? "write" : "cas", o->key, o->node, rc);
	if (rc != RAFT_OK) {
		complete(s, c, CHECK_FAIL, NULL, false);
		return;
	}
	push(s, (sim_event){ .at = s->now + OP_TIMEOUT_US, .kind = EV_TIMEOUT, .arg = (uint64_t)ci, .arg2 = o->seq });
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
	for (int a = 0; a < s->n; a++)
		for (int b = 0; b < s->n; b++)
			s->link[a][b] = side[a] == side[b] || (oneway && side[a] < side[b]);
	sim_trace(s, "partition%s: %d%d%d%d%d", oneway ? " (one-way)" : "", side[0], side[1],
		  s->n > 2 ? side[2] : 0, s->n > 3 ? side[3] : 0, s->n > 4 ? side[4] : 0);
}

static void heal(sim *s)
{
	for (int a = 0; a < s->n; a++)
		for (int b = 0; b < s->n; b++)
			s->link[a][b] = true;
	sim_trace(s, "heal");
}

static void handle(sim *s, sim_event *e)
{
	sim_node *nd = e->kind == EV_DELIVER || e->kind == EV_TICK || e->kind == EV_CRASH ||
				   e->kind == EV_RESTART || e->kind == EV_FSYNC
			       ? &s->nodes[e->node]
			       : NULL;
	switch (e->kind) {
	case EV_DELIVER:
		if (nd->up && s->link[e->msg->from][e->node]) {
			if (s->p.trace)
				sim_trace(s, "deliver %s %u->%u term %llu index %llu commit %llu n=%zu%s",
					  raft_msg_type_name(e->msg->type), e->msg->from, e->msg->to,
					  (unsigned long long)e->msg->term, (unsigned long long)e->msg->index,
					  (unsigned long long)e->msg->commit, e->msg->n_entries,
					  e->msg->reject ? " reject" : "");
			raft_step(nd->r, e->msg);
			sim_node_process_ready(s, nd);
		}
		sim_msg_free(e->msg);
		e->msg = NULL;
		break;
	case EV_FSYNC:
		if (nd->up && e->arg == nd->epoch)
			sim_node_fsync(s, nd);
		break;
	case EV_TICK:
		if (!nd->up || e->arg != nd->epoch)
			break;
		raft_tick(nd->r);
		sim_node_process_ready(s, nd);
		schedule_tick(s, nd);
		break;
	case EV_CLIENT:
		client_issue(s, (int)e->arg);
		break;
	case EV_TIMEOUT: {
		sim_client *c = &s->clients[e->arg];
		if (c->op.active && c->op.seq == e->arg2)
			complete(s, c, c->op.f == CHECK_READ ? CHECK_FAIL : CHECK_INFO, NULL, false);
		break;
	}
	case EV_CRASH:
		if (nd->up && s->faults_on) {
			sim_trace(s, "crash node %u", nd->id);
			s->out->crashes++;
			abandon_ops_at(s, nd->id);
			sim_node_crash(s, nd);
			/* some restarts are quick, so the node is back while the
			 * election it took part in is still going on; arg 2 (a
			 * lying disk's crash after an overwrite) is back at once */
			uint64_t down = e->arg == 2 || sim_chance(&s->rng, s->quick_restart_p)
						? 500 + sim_below(&s->rng, 10000)
						: 20000 + sim_below(&s->rng, 400000);
			push(s, (sim_event){ .at = s->now + down, .kind = EV_RESTART, .node = nd->id });
		}
		if (s->faults_on && e->arg == 0) /* the random chain; targeted crashes do not extend it */
			push(s, (sim_event){ .at = s->now + 50000 + sim_below(&s->rng, 600000),
					     .kind = EV_CRASH, .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
		break;
	case EV_RESTART:
		if (!nd->up && sim_node_start(s, nd) == 0) {
			nd->rate = 0.7 + 0.6 * (double)sim_below(&s->rng, 1000) / 1000.0;
			schedule_tick(s, nd);
			sim_node_process_ready(s, nd);
		}
		break;
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
	for (int i = 0; i < s->n; i++)
		snprintf(s->nodes[i].dir, sizeof s->nodes[i].dir, "%s/n%d", base, i);
	return 0;
}

static void remove_dirs(sim *s)
{
	char cmd[700];
	char base[512];
	snprintf(base, sizeof base, "%s", s->nodes[0].dir);
	char *slash = strrchr(base, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	int rc = system(cmd);
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
	s->out = out;
	s->rng.s = p->seed * 0x2545F4914F6CDD1Dull + 1;
	s->n = p->n_nodes ? p->n_nodes : 3 + (int)sim_below(&s->rng, 3);
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
	}
	/* Some seeds give one node at a time a disk whose fsync lies (the
	 * contract's disk {"fsync":false}, then a crash). Drawn from their own
	 * stream so that every other seed replays exactly as before. */
	s->disk_rng.s = p->seed * 0x9E3779B97F4A7C15ull + 7;
	s->lying = -1;
	if (sim_chance(&s->disk_rng, 0.25))
		s->fsync_lies_p = 0.3 + 0.1 * (double)sim_below(&s->disk_rng, 6);
	s->faults_on = true;
	s->h = check_history_new();
	s->n_clients = 3 + (int)sim_below(&s->rng, SIM_MAX_CLIENTS - 2);
	sim_trace(s, "seed %llu: %d nodes, %d clients, delay %llu..%llu us, loss %.2f, dup %.2f, batch %zu, "
		  "inflight %zu, pre-vote %d, buggify %d (leader crash %.1f, isolate on win %.1f / on commit %.2f, "
		  "slow msgs %.2f up to %llu us, quick restarts %.1f, think %llu us)",
		  (unsigned long long)p->seed, s->n, s->n_clients, (unsigned long long)s->delay_min,
		  (unsigned long long)s->delay_max, s->loss, s->dup, s->max_msg_entries, s->max_inflight,
		  (int)s->pre_vote, (int)s->buggify, s->leader_crash_p, s->win_isolate_p, s->commit_isolate_p,
		  s->slow_msg_p, (unsigned long long)s->slow_msg_max, s->quick_restart_p,
		  (unsigned long long)s->think_max);
	int rc = 0;
	if (!s->h || make_dirs(s) != 0) {
		rc = -1;
		goto done;
	}
	heal(s);
	for (int i = 0; i < s->n; i++) {
		s->voters[i] = (uint32_t)i;
		s->nodes[i].id = (uint32_t)i;
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
	push(s, (sim_event){ .at = 300000 + sim_below(&s->rng, 1500000), .kind = EV_CRASH,
			     .node = (uint32_t)sim_below(&s->rng, (uint64_t)s->n) });
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
			sim_msg_free(e.msg);
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
		if (!any)
			sim_fail(s, "liveness: no leader 3 s after all faults healed");
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
	free(s);
	return rc;
}
