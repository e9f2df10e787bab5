/*
 * env.c — nodes, disks and the network of an interaction script.
 *
 * The driver follows the caller contract of raft.h to the letter: a ready's
 * hard state and entries are written, messages that vouch for the disk
 * (raft_msg_waits_for_disk) are held while a must-sync write (rd.must_sync)
 * is not yet synced, committed entries are applied, and raft_persisted is
 * called when the disk syncs (which syncs everything written, must-sync or
 * not). A crash keeps only what was synced. Every applied entry is
 * compared with what other nodes applied at the same index, so a script that
 * makes two nodes disagree prints a SAFETY VIOLATION line.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "format.h"
#include "stream.h"

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (q == NULL) {
		fprintf(stderr, "interaction: out of memory\n");
		exit(2);
	}
	return q;
}

/* ----------------------------------------------------------- containers */

static void entry_copy(raft_entry *dst, const raft_entry *src)
{
	*dst = *src;
	dst->data = NULL;
	if (src->len > 0) {
		dst->data = xrealloc(NULL, src->len);
		memcpy(dst->data, src->data, src->len);
	}
}

static void entries_truncate(entry_vec *v, size_t n)
{
	for (size_t i = n; i < v->n; i++)
		free(v->v[i].data);
	if (n < v->n)
		v->n = n;
}

static void entries_push(entry_vec *v, const raft_entry *e)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->v = xrealloc(v->v, v->cap * sizeof(raft_entry));
	}
	entry_copy(&v->v[v->n++], e);
}

static void entries_free(entry_vec *v)
{
	entries_truncate(v, 0);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

static void disk_copy(env_disk *dst, const env_disk *src)
{
	entries_truncate(&dst->log, 0);
	dst->hs = src->hs;
	dst->snap_index = src->snap_index;
	dst->snap_term = src->snap_term;
	for (size_t i = 0; i < src->log.n; i++)
		entries_push(&dst->log, &src->log.v[i]);
}

void env_msg_free(raft_msg *m)
{
	for (size_t i = 0; i < m->n_entries; i++)
		free(m->entries[i].data);
	free(m->entries);
	m->entries = NULL;
	m->n_entries = 0;
}

static void msgs_push(msg_vec *v, const raft_msg *m)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->v = xrealloc(v->v, v->cap * sizeof(raft_msg));
	}
	raft_msg *c = &v->v[v->n++];
	*c = *m;
	c->entries = NULL;
	if (m->n_entries > 0) {
		c->entries = xrealloc(NULL, m->n_entries * sizeof(raft_entry));
		for (size_t i = 0; i < m->n_entries; i++)
			entry_copy(&c->entries[i], &m->entries[i]);
	}
}

static void msgs_free(msg_vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		env_msg_free(&v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* ------------------------------------------------------------ lifecycle */

void env_init(env *e, FILE *out)
{
	memset(e, 0, sizeof(*e));
	e->out = out;
}

void env_free(env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		env_node *nd = &e->nodes[i];
		raft_free(nd->r);
		entries_free(&nd->written.log);
		entries_free(&nd->synced.log);
		msgs_free(&nd->held);
	}
	msgs_free(&e->net);
	stream_free(e);
	free(e->applied_term);
	memset(e, 0, sizeof(*e));
}

static uint64_t node_seed(const env_node *nd)
{
	/* fixed per node and per restart, so every run prints the same */
	return 1000u * nd->id + 7u * nd->restarts;
}

int env_add_nodes(env *e, size_t n, const raft_config *cfg)
{
	if (e->n > 0 || n < 1 || n > ENV_MAX_NODES) {
		fprintf(e->out, "error: add-nodes once, 1..%d nodes\n", ENV_MAX_NODES);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		e->ids[i] = (uint32_t)(i + 1);
	for (size_t i = 0; i < n; i++) {
		env_node *nd = &e->nodes[i];
		memset(nd, 0, sizeof(*nd));
		nd->id = e->ids[i];
		nd->cfg = *cfg;
		nd->cfg.id = nd->id;
		nd->cfg.voters = e->ids;
		nd->cfg.n_voters = n;
		nd->cfg.seed = node_seed(nd);
		nd->written.hs.vote = nd->synced.hs.vote = RAFT_NONE;
		nd->r = raft_new(&nd->cfg);
		if (nd->r == NULL) {
			fprintf(e->out, "error: raft_new refused the configuration\n");
			e->n = i;
			return -1;
		}
	}
	e->n = n;
	return 0;
}

int env_add_joiner(env *e, uint32_t id, uint64_t incarnation)
{
	if (e->n == 0 || e->n >= ENV_MAX_NODES || id == 0 || id == RAFT_NONE) {
		fputs("error: add-joiner after add-nodes, with room for one more node\n", e->out);
		return -1;
	}
	for (size_t i = 0; i < e->n; i++)
		if (e->ids[i] == id) {
			fprintf(e->out, "error: node %" PRIu32 " exists\n", id);
			return -1;
		}
	env_node *nd = &e->nodes[e->n];
	memset(nd, 0, sizeof(*nd));
	nd->id = id;
	nd->cfg = e->nodes[0].cfg;
	nd->cfg.id = id;
	nd->cfg.joining = true;
	nd->cfg.incarnation = incarnation;
	nd->cfg.seed = node_seed(nd);
	nd->written.hs.vote = nd->synced.hs.vote = RAFT_NONE;
	nd->r = raft_new(&nd->cfg);
	if (nd->r == NULL) {
		fputs("error: raft_new refused the configuration\n", e->out);
		return -1;
	}
	e->ids[e->n++] = id;
	env_print_status(e, nd);
	return 0;
}

int env_wipe(env *e, env_node *nd, uint64_t incarnation)
{
	if (nd->r != NULL) {
		fprintf(e->out, "error: node %" PRIu32 " is running\n", nd->id);
		return -1;
	}
	entries_free(&nd->written.log);
	entries_free(&nd->synced.log);
	memset(&nd->written, 0, sizeof(nd->written));
	memset(&nd->synced, 0, sizeof(nd->synced));
	nd->written.hs.vote = nd->synced.hs.vote = RAFT_NONE;
	nd->cfg.incarnation = incarnation;
	stream_node_wipe(e, nd);
	fprintf(e->out, "wipe %" PRIu32 ": empty disk, incarnation %" PRIu64 "\n", nd->id,
		incarnation);
	return 0;
}

env_node *env_node_get(env *e, uint32_t id)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->nodes[i].id == id)
			return &e->nodes[i];
	fprintf(e->out, "error: no node %" PRIu32 "\n", id);
	return NULL;
}

env_node *env_node_up(env *e, uint32_t id)
{
	env_node *nd = env_node_get(e, id);
	if (nd != NULL && nd->r == NULL) {
		fprintf(e->out, "error: node %" PRIu32 " is down\n", id);
		return NULL;
	}
	return nd;
}

/* -------------------------------------------------------------- network */

bool env_link_cut(const env *e, uint32_t from, uint32_t to)
{
	for (size_t i = 0; i < e->n; i++) {
		const env_node *nd = &e->nodes[i];
		if (nd->isolated && (nd->id == from || nd->id == to))
			return true;
	}
	return false;
}

static bool link_cut(env *e, const raft_msg *m)
{
	return env_link_cut(e, m->from, m->to);
}

/* Puts m on the network, unless a partition swallows it. */
static void send(env *e, const raft_msg *m, const char *indent)
{
	if (!link_cut(e, m)) {
		msgs_push(&e->net, m);
		return;
	}
	fprintf(e->out, "%slost in the partition: ", indent);
	fmt_msg(e->out, m);
	fputc('\n', e->out);
}

/* Field by field: the struct has padding, which memcmp would read. */
static bool hs_equal(const raft_hard_state *a, const raft_hard_state *b)
{
	return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

static bool has_unsynced(const env_node *nd)
{
	return nd->unsynced_index != 0 || nd->install_unsynced ||
	       !hs_equal(&nd->written.hs, &nd->synced.hs);
}

/* --------------------------------------------------------------- readies */

static void disk_write(env_disk *d, const raft_entry *ents, size_t n)
{
	if (n == 0)
		return;
	/* remove every stored entry with index >= ents[0].index, then append */
	uint64_t first = ents[0].index;
	size_t keep = first > d->snap_index ? (size_t)(first - d->snap_index - 1) : 0;
	entries_truncate(&d->log, keep);
	for (size_t i = 0; i < n; i++)
		entries_push(&d->log, &ents[i]);
}

static void apply(env *e, env_node *nd, const raft_entry *en)
{
	if (en->index != nd->applied + 1)
		fprintf(e->out, "  ERROR applies %" PRIu64 " after %" PRIu64 "\n", en->index,
			nd->applied);
	nd->applied = en->index;
	if (en->index >= e->cap_applied) {
		size_t ncap = (size_t)en->index * 2 + 16;
		e->applied_term = xrealloc(e->applied_term, ncap * sizeof(uint64_t));
		memset(e->applied_term + e->cap_applied, 0,
		       (ncap - e->cap_applied) * sizeof(uint64_t));
		e->cap_applied = ncap;
	}
	uint64_t *t = &e->applied_term[en->index];
	if (*t == 0)
		*t = en->term;
	else if (*t != en->term)
		fprintf(e->out, "  SAFETY VIOLATION: index %" PRIu64 " applied at term %" PRIu64
			" here, at term %" PRIu64 " elsewhere\n", en->index, en->term, *t);
}

bool env_ready(env *e, env_node *nd)
{
	if (nd->r == NULL || !raft_has_ready(nd->r))
		return false;
	FILE *o = e->out;
	raft_ready rd;
	raft_get_ready(nd->r, &rd);
	fprintf(o, "ready %" PRIu32 ":\n", nd->id);
	if (rd.soft_changed) {
		fprintf(o, "  role: %s, leader ", raft_role_name(rd.role));
		fmt_id(o, rd.leader);
		fputc('\n', o);
	}
	if (rd.hs_changed) {
		fprintf(o, "  hard state: term=%" PRIu64 " vote=", rd.hs.term);
		fmt_id(o, rd.hs.vote);
		/* the must-sync rule: a commit-only change needs no fsync */
		fprintf(o, " commit=%" PRIu64 "%s\n", rd.hs.commit,
			rd.must_sync ? "" : " (no fsync needed)");
		nd->written.hs = rd.hs;
	}
	if (rd.install) {
		/* The runtime swaps in the received state machine and resets the
		 * log storage to the snapshot point before the rest of the ready;
		 * like entries, that is durable at the next sync (must_sync). */
		fprintf(o, "  install: snapshot at %" PRIu64 "@%" PRIu64 " (log and state machine reset)\n",
			rd.install_index, rd.install_term);
		entries_truncate(&nd->written.log, 0);
		nd->written.snap_index = rd.install_index;
		nd->written.snap_term = rd.install_term;
		nd->unsynced_index = nd->unsynced_term = 0;
		nd->install_unsynced = true;
		nd->applied = rd.install_index;
	}
	if (rd.n_entries > 0) {
		fputs("  write: ", o);
		fmt_entries(o, rd.entries, rd.n_entries);
		fputc('\n', o);
		disk_write(&nd->written, rd.entries, rd.n_entries);
		nd->unsynced_index = rd.entries[rd.n_entries - 1].index;
		nd->unsynced_term = rd.entries[rd.n_entries - 1].term;
	}
	/* raft.h step 3: what vouches for the disk waits for every must-sync
	 * write so far; with none pending it goes at once. */
	if (rd.must_sync)
		nd->must_sync_pending = true;
	bool hold = nd->must_sync_pending;
	for (size_t i = 0; i < rd.n_msgs; i++) {
		const raft_msg *m = &rd.msgs[i];
		if (hold && raft_msg_waits_for_disk(m->type)) {
			fputs("  send after sync: ", o);
			fmt_msg(o, m);
			fputc('\n', o);
			msgs_push(&nd->held, m);
		} else {
			fputs("  send: ", o);
			fmt_msg(o, m);
			fputc('\n', o);
			send(e, m, "  ");
		}
	}
	if (rd.n_committed > 0) {
		fputs("  apply: ", o);
		fmt_entries(o, rd.committed, rd.n_committed);
		fputc('\n', o);
		for (size_t i = 0; i < rd.n_committed; i++)
			apply(e, nd, &rd.committed[i]);
	}
	for (size_t i = 0; i < rd.n_reads; i++) {
		if (rd.reads[i].index == 0)
			fprintf(o, "  read ctx=%" PRIu64 ": refused\n", rd.reads[i].ctx);
		else
			fprintf(o, "  read ctx=%" PRIu64 ": serve once applied >= %" PRIu64 "\n",
				rd.reads[i].ctx, rd.reads[i].index);
	}
	raft_advance(nd->r, &rd);
	return true;
}

void env_persist(env *e, env_node *nd)
{
	if (nd->r == NULL || !has_unsynced(nd))
		return;
	disk_copy(&nd->synced, &nd->written);
	fprintf(e->out, "sync %" PRIu32 ":", nd->id);
	if (nd->install_unsynced)
		fprintf(e->out, " snapshot at %" PRIu64 "@%" PRIu64 "%s", nd->written.snap_index,
			nd->written.snap_term, nd->unsynced_index != 0 ? " and" : " durable");
	if (nd->unsynced_index != 0)
		fprintf(e->out, " entries up to %" PRIu64 "@%" PRIu64 " durable", nd->unsynced_index,
			nd->unsynced_term);
	else if (!nd->install_unsynced)
		fputs(" hard state durable", e->out);
	if (nd->held.n > 0)
		fprintf(e->out, ", %zu held message%s sent", nd->held.n, nd->held.n == 1 ? "" : "s");
	fputc('\n', e->out);
	for (size_t i = 0; i < nd->held.n; i++) {
		send(e, &nd->held.v[i], "  ");
		env_msg_free(&nd->held.v[i]);
	}
	nd->held.n = 0;
	uint64_t li = nd->unsynced_index, lt = nd->unsynced_term;
	nd->unsynced_index = nd->unsynced_term = 0;
	nd->install_unsynced = false;
	nd->must_sync_pending = false;
	if (li != 0)
		raft_persisted(nd->r, li, lt);
}

/* ---------------------------------------------------------------- deliver */

size_t env_deliver(env *e, env_node *nd, uint32_t from, uint8_t type, size_t max, bool drop)
{
	size_t taken = 0, kept = 0;
	msg_vec *q = &e->net;
	const char *verb = drop ? "drop" : "deliver";
	/* Matching messages are taken in send order. Stepping only queues
	 * answers inside the core (they leave at its next ready), so q does
	 * not change under the loop. */
	for (size_t i = 0; i < q->n; i++) {
		raft_msg m = q->v[i];
		bool match = m.to == nd->id && (from == 0 || m.from == from) &&
			     (type == 0 || m.type == type) && (max == 0 || taken < max);
		if (!match) {
			q->v[kept++] = m;
			continue;
		}
		taken++;
		fprintf(e->out, "%s ", verb);
		fmt_msg(e->out, &m);
		if (!drop) {
			if (nd->r == NULL)
				fputs(" (lost: node down)", e->out);
			else if (raft_step(nd->r, &m) != RAFT_OK)
				fputs(" (refused as invalid)", e->out);
		}
		fputc('\n', e->out);
		env_msg_free(&m);
	}
	q->n = kept;
	return taken;
}

static bool in_list(const uint32_t *ids, size_t n, uint32_t id)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

void env_stabilize(env *e, const uint32_t *ids, size_t n)
{
	for (int round = 0; round < 10000; round++) {
		bool moved = false;
		for (size_t i = 0; i < e->n; i++) {
			env_node *nd = &e->nodes[i];
			if (!in_list(ids, n, nd->id))
				continue;
			while (env_ready(e, nd)) {
				env_persist(e, nd);
				moved = true;
			}
			if (has_unsynced(nd)) {
				env_persist(e, nd);
				moved = true;
			}
		}
		for (size_t i = 0; i < e->n; i++) {
			env_node *nd = &e->nodes[i];
			if (in_list(ids, n, nd->id) && env_deliver(e, nd, 0, 0, 0, false) > 0)
				moved = true;
		}
		if (!moved)
			return;
	}
	fputs("error: no stable state after 10000 rounds\n", e->out);
}

/* ---------------------------------------------------------- crash, restart */

void env_crash(env *e, env_node *nd)
{
	size_t lost = 0;
	/* entries of the written log beyond (or different from) the synced one */
	for (size_t i = 0; i < nd->written.log.n; i++) {
		const raft_entry *w = &nd->written.log.v[i];
		bool kept = i < nd->synced.log.n && nd->synced.log.v[i].term == w->term;
		if (!kept)
			lost++;
	}
	bool hs_lost = !hs_equal(&nd->written.hs, &nd->synced.hs);
	raft_hard_state whs = nd->written.hs;
	raft_free(nd->r);
	nd->r = NULL;
	stream_node_down(e, nd);
	disk_copy(&nd->written, &nd->synced);
	nd->unsynced_index = nd->unsynced_term = 0;
	nd->install_unsynced = false; /* an install not yet durable is lost too */
	nd->must_sync_pending = false;
	for (size_t i = 0; i < nd->held.n; i++)
		env_msg_free(&nd->held.v[i]);
	nd->held.n = 0;
	fprintf(e->out, "crash %" PRIu32 ": %zu unsynced entr%s lost", nd->id, lost,
		lost == 1 ? "y" : "ies");
	if (hs_lost) {
		fprintf(e->out, ", unsynced hard state term=%" PRIu64 " vote=", whs.term);
		fmt_id(e->out, whs.vote);
		fprintf(e->out, " commit=%" PRIu64 " lost", whs.commit);
	}
	fputc('\n', e->out);
}

int env_restart(env *e, env_node *nd)
{
	if (nd->r != NULL) {
		fprintf(e->out, "error: node %" PRIu32 " is running\n", nd->id);
		return -1;
	}
	nd->restarts++;
	nd->cfg.seed = node_seed(nd);
	nd->r = raft_new(&nd->cfg);
	if (nd->r == NULL) {
		fprintf(e->out, "error: raft_new failed\n");
		return -1;
	}
	const env_disk *d = &nd->synced;
	int rc = raft_load(nd->r, &d->hs, d->snap_index, d->snap_term, d->log.v, d->log.n);
	if (rc != RAFT_OK) {
		fprintf(e->out, "error: raft_load returned %d\n", rc);
		raft_free(nd->r);
		nd->r = NULL;
		return -1;
	}
	/* the state machine lives in memory: it restarts from the snapshot */
	nd->applied = d->snap_index;
	env_print_status(e, nd);
	return 0;
}

int env_compact(env *e, env_node *nd, uint64_t index)
{
	env_disk *d = &nd->synced;
	uint64_t last = d->snap_index + d->log.n;
	/* A running node: its state machine holds a snapshot at index (the
	 * runtime wrote it); the core drops the log (raft_compact), the disk too. */
	uint64_t limit = nd->r != NULL ? nd->applied : d->hs.commit;
	if (index <= d->snap_index || index > last || index > limit ||
	    (nd->r != NULL && nd->written.snap_index + nd->written.log.n < index)) {
		fprintf(e->out, "error: compact needs %" PRIu64
			" < index <= min(last synced %" PRIu64 ", %s %" PRIu64 ")\n",
			d->snap_index, last, nd->r != NULL ? "applied" : "commit", limit);
		return -1;
	}
	/* The runtime wrote the snapshot file before it compacts. */
	if (stream_write_file(e, nd, index, d->log.v[index - d->snap_index - 1].term, d->log.v,
			      (size_t)(index - d->snap_index)) != 0)
		return -1;
	if (nd->r != NULL && raft_compact(nd->r, index) != RAFT_OK) {
		fprintf(e->out, "error: raft_compact refused %" PRIu64 "\n", index);
		return -1;
	}
	if (nd->r != NULL) {
		/* the written log holds the synced one as its prefix up to index */
		env_disk *w = &nd->written;
		size_t wcut = (size_t)(index - w->snap_index);
		for (size_t i = 0; i < wcut; i++)
			free(w->log.v[i].data);
		memmove(w->log.v, w->log.v + wcut, (w->log.n - wcut) * sizeof(raft_entry));
		w->log.n -= wcut;
		w->snap_index = index;
	}
	size_t cut = (size_t)(index - d->snap_index);
	d->snap_term = d->log.v[cut - 1].term;
	for (size_t i = 0; i < cut; i++)
		free(d->log.v[i].data);
	memmove(d->log.v, d->log.v + cut, (d->log.n - cut) * sizeof(raft_entry));
	d->log.n -= cut;
	d->snap_index = index;
	if (nd->r == NULL)
		disk_copy(&nd->written, d);
	else
		nd->written.snap_term = d->snap_term;
	fprintf(e->out, "compact %" PRIu32 ": log starts after %" PRIu64 "@%" PRIu64 "\n", nd->id,
		d->snap_index, d->snap_term);
	return 0;
}

/* ----------------------------------------------------------------- status */

void env_print_status(env *e, env_node *nd)
{
	FILE *o = e->out;
	if (nd->r == NULL) {
		fprintf(o, "%" PRIu32 ": down, synced term=%" PRIu64 " vote=", nd->id,
			nd->synced.hs.term);
		fmt_id(o, nd->synced.hs.vote);
		fprintf(o, " commit=%" PRIu64 " last=%" PRIu64 "\n", nd->synced.hs.commit,
			nd->synced.snap_index + nd->synced.log.n);
		return;
	}
	raft_status st;
	raft_get_status(nd->r, &st);
	fprintf(o, "%" PRIu32 ": %s term=%" PRIu64 " vote=", st.id, raft_role_name(st.role), st.term);
	fmt_id(o, st.vote);
	fputs(" leader=", o);
	fmt_id(o, st.leader);
	fprintf(o, " commit=%" PRIu64 " applied=%" PRIu64 " last=%" PRIu64 "@%" PRIu64,
		st.commit, st.applied, st.last_index, st.last_term);
	if (st.first_index > 1)
		fprintf(o, " first=%" PRIu64, st.first_index);
	if (st.membership == RAFT_MEMBER_LEARNER)
		fputs(" learner", o);
	else if (st.membership == RAFT_MEMBER_NONE)
		fputs(" not-a-member", o);
	if (st.conf_index != 0)
		fprintf(o, " conf=%" PRIu64 "%s", st.conf_index, st.conf_pending ? " (pending)" : "");
	fputc('\n', o);
	if (st.role != RAFT_LEADER)
		return;
	for (size_t i = 0; i < st.n_peers; i++) {
		const raft_peer_status *p = &st.peers[i];
		if (p->id == st.id)
			continue;
		fprintf(o, "  peer %" PRIu32 ": match=%" PRIu64 " next=%" PRIu64 "%s%s%s\n", p->id,
			p->match, p->next, p->recent_active ? " active" : "",
			p->voter ? "" : " learner", p->sending_snapshot ? " sending-snapshot" : "");
	}
}

static void print_disk_log(FILE *o, const env_disk *d)
{
	if (d->snap_index > 0)
		fprintf(o, "(after %" PRIu64 "@%" PRIu64 ") ", d->snap_index, d->snap_term);
	fmt_entries(o, d->log.v, d->log.n);
	fputc('\n', o);
}

static bool same_log(const env_disk *a, const env_disk *b)
{
	if (a->snap_index != b->snap_index || a->log.n != b->log.n)
		return false;
	for (size_t i = 0; i < a->log.n; i++)
		if (a->log.v[i].term != b->log.v[i].term)
			return false;
	return true;
}

void env_print_log(env *e, env_node *nd)
{
	fprintf(e->out, "%" PRIu32 " log: ", nd->id);
	print_disk_log(e->out, &nd->written);
	if (!same_log(&nd->written, &nd->synced)) {
		fprintf(e->out, "%" PRIu32 " synced log: ", nd->id);
		print_disk_log(e->out, &nd->synced);
	}
}
