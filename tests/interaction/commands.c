/*
 * commands.c — parses one script command and runs it on the environment.
 *
 * A command is a name, positional arguments (node ids, numbers) and
 * key=value options. To add a command (snapshots, membership changes), add a
 * row to the table at the bottom and a handler taking the parsed arguments.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "format.h"
#include "stream.h"

#define MAX_ARGS 32

typedef struct args {
	const char *pos[MAX_ARGS];
	size_t n_pos;
	const char *key[MAX_ARGS], *val[MAX_ARGS];
	size_t n_kv;
	const char *rest; /* the line after the first positional argument */
	bool bad;
} args;

/* ---------------------------------------------------------------- helpers */

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (s == NULL || *s == '\0' || *s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0')
		return false;
	*out = v;
	return true;
}

static const char *opt(const args *a, const char *key)
{
	for (size_t i = 0; i < a->n_kv; i++)
		if (strcmp(a->key[i], key) == 0)
			return a->val[i];
	return NULL;
}

static bool opt_u64(env *e, const args *a, const char *key, uint64_t *out)
{
	const char *v = opt(a, key);
	if (v == NULL)
		return true;
	if (!parse_u64(v, out)) {
		fprintf(e->out, "error: %s=%s is not a number\n", key, v);
		return false;
	}
	return true;
}

static bool opt_bool(env *e, const args *a, const char *key, bool *out)
{
	const char *v = opt(a, key);
	if (v == NULL)
		return true;
	if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0)
		*out = false;
	else {
		fprintf(e->out, "error: %s=%s: on or off\n", key, v);
		return false;
	}
	return true;
}

/* Positional node ids; none means every node when all_if_none. */
static size_t node_list(env *e, const args *a, size_t from, env_node **out, bool all_if_none)
{
	size_t n = 0;
	if (a->n_pos <= from && all_if_none) {
		for (size_t i = 0; i < e->n; i++)
			out[n++] = &e->nodes[i];
		return n;
	}
	for (size_t i = from; i < a->n_pos; i++) {
		uint64_t id;
		if (!parse_u64(a->pos[i], &id) || id > UINT32_MAX) {
			fprintf(e->out, "error: %s is not a node id\n", a->pos[i]);
			return 0;
		}
		env_node *nd = env_node_get(e, (uint32_t)id);
		if (nd == NULL)
			return 0;
		out[n++] = nd;
	}
	if (n == 0)
		fputs("error: which node?\n", e->out);
	return n;
}

/* Exactly one running node as the first argument. */
static env_node *one_up(env *e, const args *a)
{
	uint64_t id;
	if (a->n_pos < 1 || !parse_u64(a->pos[0], &id) || id > UINT32_MAX) {
		fputs("error: which node?\n", e->out);
		return NULL;
	}
	return env_node_up(e, (uint32_t)id);
}

static const char *rc_name(int rc)
{
	switch (rc) {
	case RAFT_OK: return "ok";
	case RAFT_ENOLEADER: return "no leader";
	case RAFT_ENOMEM: return "out of memory";
	case RAFT_EINVAL: return "invalid";
	case RAFT_EBUSY: return "busy";
	case RAFT_ECONF: return "not a valid change of this configuration";
	case RAFT_EPENDING: return "a change is pending (or no entry of this term committed yet)";
	default: return "unknown error";
	}
}

static uint8_t msg_type_by_name(const char *name)
{
	for (uint8_t t = RAFT_MSG_PREVOTE; t <= RAFT_MSG_SNAPSHOT; t++)
		if (strcmp(raft_msg_type_name(t), name) == 0)
			return t;
	return 0;
}

/* --------------------------------------------------------------- commands */

static void cmd_add_nodes(env *e, const args *a)
{
	uint64_t n, election = 10, heartbeat = 1, inflight = 64, entries = 512;
	raft_config cfg;
	raft_config_defaults(&cfg);
	if (a->n_pos != 1 || !parse_u64(a->pos[0], &n)) {
		fputs("error: add-nodes N [options]\n", e->out);
		return;
	}
	if (!opt_bool(e, a, "pre-vote", &cfg.pre_vote) ||
	    !opt_bool(e, a, "check-quorum", &cfg.check_quorum) ||
	    !opt_u64(e, a, "election", &election) || !opt_u64(e, a, "heartbeat", &heartbeat) ||
	    !opt_u64(e, a, "max-inflight", &inflight) || !opt_u64(e, a, "max-entries", &entries))
		return;
	cfg.election_ticks = (int)election;
	cfg.heartbeat_ticks = (int)heartbeat;
	cfg.max_inflight = (size_t)inflight;
	cfg.max_msg_entries = (size_t)entries;
	if (env_add_nodes(e, (size_t)n, &cfg) != 0)
		return;
	for (size_t i = 0; i < e->n; i++)
		env_print_status(e, &e->nodes[i]);
}

static void cmd_add_joiner(env *e, const args *a)
{
	uint64_t id, inc = 0;
	if (a->n_pos != 1 || !parse_u64(a->pos[0], &id) || id > UINT32_MAX) {
		fputs("error: add-joiner ID [incarnation=N]\n", e->out);
		return;
	}
	if (!opt_u64(e, a, "incarnation", &inc))
		return;
	(void)env_add_joiner(e, (uint32_t)id, inc);
}

static void cmd_conf(env *e, const args *a)
{
	static const char *const ops[] = {"", "add-learner", "promote", "remove"};
	raft_conf_change cc = {0};
	uint64_t target, inc = 0, next = 0;
	bool auto_promote = false;
	env_node *nd = one_up(e, a);
	if (nd == NULL)
		return;
	if (a->n_pos == 3)
		for (uint8_t k = 1; k <= 3; k++)
			if (strcmp(a->pos[1], ops[k]) == 0)
				cc.op = k;
	if (a->n_pos != 3 || cc.op == 0 || !parse_u64(a->pos[2], &target) || target > UINT32_MAX) {
		fputs("error: conf ID add-learner|promote|remove TARGET [incarnation=N] [auto=on] [next=N]\n",
		      e->out);
		return;
	}
	if (!opt_u64(e, a, "incarnation", &inc) || !opt_bool(e, a, "auto", &auto_promote) ||
	    !opt_u64(e, a, "next", &next))
		return;
	cc.id = (uint32_t)target;
	cc.incarnation = inc;
	cc.auto_promote = auto_promote;
	cc.next_incarnation = next;
	uint64_t index = 0;
	int rc = raft_propose_conf(nd->r, &cc, &index);
	if (rc != RAFT_OK)
		fprintf(e->out, "refused: %s\n", rc_name(rc));
	else
		fprintf(e->out, "appended at %" PRIu64 "\n", index);
}

static void cmd_wipe(env *e, const args *a)
{
	uint64_t id, inc = 0;
	if (a->n_pos != 1 || !parse_u64(a->pos[0], &id) || id > UINT32_MAX) {
		fputs("error: wipe ID incarnation=N\n", e->out);
		return;
	}
	if (!opt_u64(e, a, "incarnation", &inc))
		return;
	env_node *nd = env_node_get(e, (uint32_t)id);
	if (nd != NULL)
		(void)env_wipe(e, nd, inc);
}

static void cmd_campaign(env *e, const args *a)
{
	env_node *nd = one_up(e, a);
	if (nd == NULL)
		return;
	raft_campaign(nd->r);
	fputs("ok\n", e->out);
}

static void cmd_tick(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	uint64_t n = 1;
	if (!opt_u64(e, a, "n", &n))
		return;
	size_t k = node_list(e, a, 0, nds, true);
	for (size_t i = 0; i < k; i++) {
		if (nds[i]->r == NULL)
			continue;
		for (uint64_t t = 0; t < n; t++)
			raft_tick(nds[i]->r);
		raft_status st;
		raft_get_status(nds[i]->r, &st);
		fprintf(e->out, "%" PRIu32 ": %s term=%" PRIu64 "\n", nds[i]->id,
			raft_role_name(st.role), st.term);
	}
}

static void cmd_propose(env *e, const args *a)
{
	env_node *nd = one_up(e, a);
	if (nd == NULL)
		return;
	const char *data = a->rest != NULL ? a->rest : "";
	uint64_t index = 0;
	int rc = raft_propose(nd->r, data, strlen(data), &index);
	if (rc != RAFT_OK)
		fprintf(e->out, "refused: %s\n", rc_name(rc));
	else if (index == 0)
		fputs("forwarded to the leader\n", e->out);
	else
		fprintf(e->out, "appended at %" PRIu64 "\n", index);
}

static void cmd_read_index(env *e, const args *a)
{
	env_node *nd = one_up(e, a);
	uint64_t ctx;
	if (nd == NULL)
		return;
	if (a->n_pos != 2 || !parse_u64(a->pos[1], &ctx)) {
		fputs("error: read-index ID CTX\n", e->out);
		return;
	}
	fprintf(e->out, "%s\n", rc_name(raft_read_index(nd->r, ctx)));
}

static void cmd_transfer(env *e, const args *a)
{
	env_node *nd = one_up(e, a);
	uint64_t to;
	if (nd == NULL)
		return;
	if (a->n_pos != 2 || !parse_u64(a->pos[1], &to) || to > UINT32_MAX) {
		fputs("error: transfer ID TO\n", e->out);
		return;
	}
	fprintf(e->out, "%s\n", rc_name(raft_transfer(nd->r, (uint32_t)to)));
}

static void cmd_ready(env *e, const args *a, bool sync)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, true);
	for (size_t i = 0; i < k; i++) {
		if (!env_ready(e, nds[i]) && a->n_pos > 0)
			fprintf(e->out, "%" PRIu32 ": no ready\n", nds[i]->id);
		if (sync)
			env_persist(e, nds[i]);
	}
}

static void cmd_process_ready(env *e, const args *a) { cmd_ready(e, a, true); }
static void cmd_ready_only(env *e, const args *a) { cmd_ready(e, a, false); }

static void cmd_persist(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, true);
	for (size_t i = 0; i < k; i++)
		env_persist(e, nds[i]);
}

static void deliver_or_drop(env *e, const args *a, bool drop)
{
	env_node *nds[ENV_MAX_NODES];
	uint64_t from = 0, max = 0;
	uint8_t type = 0;
	if (!opt_u64(e, a, "from", &from) || !opt_u64(e, a, "n", &max))
		return;
	const char *tn = opt(a, "type");
	if (tn != NULL && (type = msg_type_by_name(tn)) == 0) {
		fprintf(e->out, "error: no message type %s\n", tn);
		return;
	}
	size_t k = node_list(e, a, 0, nds, true);
	for (size_t i = 0; i < k; i++)
		env_deliver(e, nds[i], (uint32_t)from, type, (size_t)max, drop);
}

static void cmd_deliver(env *e, const args *a) { deliver_or_drop(e, a, false); }
static void cmd_drop(env *e, const args *a) { deliver_or_drop(e, a, true); }

static void cmd_stabilize(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	uint32_t ids[ENV_MAX_NODES];
	size_t k = a->n_pos > 0 ? node_list(e, a, 0, nds, false) : 0;
	if (a->n_pos > 0 && k == 0)
		return;
	for (size_t i = 0; i < k; i++)
		ids[i] = nds[i]->id;
	env_stabilize(e, ids, k);
}

static void cmd_isolate(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, false);
	for (size_t i = 0; i < k; i++)
		nds[i]->isolated = true;
	if (k > 0)
		fputs("ok\n", e->out);
}

static void cmd_heal(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, true);
	for (size_t i = 0; i < k; i++)
		nds[i]->isolated = false;
	fputs("ok\n", e->out);
}

static void cmd_crash(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, false);
	for (size_t i = 0; i < k; i++) {
		if (nds[i]->r == NULL)
			fprintf(e->out, "error: node %" PRIu32 " is down\n", nds[i]->id);
		else
			env_crash(e, nds[i]);
	}
}

static void cmd_restart(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, false);
	for (size_t i = 0; i < k; i++)
		(void)env_restart(e, nds[i]);
}

static void cmd_compact(env *e, const args *a)
{
	uint64_t id, index;
	if (a->n_pos != 2 || !parse_u64(a->pos[0], &id) || id > UINT32_MAX ||
	    !parse_u64(a->pos[1], &index)) {
		fputs("error: compact ID INDEX\n", e->out);
		return;
	}
	env_node *nd = env_node_get(e, (uint32_t)id);
	if (nd != NULL)
		(void)env_compact(e, nd, index);
}

static void cmd_report_snapshot(env *e, const args *a)
{
	uint64_t id, to;
	if (a->n_pos != 3 || !parse_u64(a->pos[0], &id) || id > UINT32_MAX ||
	    !parse_u64(a->pos[1], &to) || to > UINT32_MAX ||
	    (strcmp(a->pos[2], "ok") != 0 && strcmp(a->pos[2], "fail") != 0)) {
		fputs("error: report-snapshot ID TO ok|fail\n", e->out);
		return;
	}
	env_node *nd = env_node_up(e, (uint32_t)id);
	if (nd == NULL)
		return;
	raft_report_snapshot(nd->r, (uint32_t)to, strcmp(a->pos[2], "ok") == 0);
	fputs("ok\n", e->out);
}

/* Two node ids: "stream 1 3", "stream-rewind 1 3". */
static bool two_ids(env *e, const args *a, const char *usage, env_node **nd, uint32_t *to)
{
	uint64_t id, t;
	if (a->n_pos != 2 || !parse_u64(a->pos[0], &id) || id > UINT32_MAX ||
	    !parse_u64(a->pos[1], &t) || t > UINT32_MAX) {
		fprintf(e->out, "error: %s\n", usage);
		return false;
	}
	*to = (uint32_t)t;
	*nd = env_node_up(e, (uint32_t)id);
	return *nd != NULL;
}

static void cmd_stream(env *e, const args *a)
{
	env_node *nd;
	uint32_t to;
	uint64_t chunk = 32, window = 2;
	if (!opt_u64(e, a, "chunk", &chunk) || !opt_u64(e, a, "window", &window) ||
	    !two_ids(e, a, "stream ID TO [chunk=N] [window=N]", &nd, &to))
		return;
	stream_open(e, nd, to, chunk, window);
}

static void cmd_stream_send(env *e, const args *a)
{
	env_node *nd = one_up(e, a);
	if (nd != NULL)
		stream_send(e, nd);
}

static void cmd_stream_rewind(env *e, const args *a)
{
	env_node *nd;
	uint32_t to;
	if (two_ids(e, a, "stream-rewind ID TO", &nd, &to))
		stream_rewind(e, nd, to);
}

static void stream_deliver_or_drop(env *e, const args *a, bool drop)
{
	env_node *nds[ENV_MAX_NODES];
	uint64_t from = 0, max = 0;
	if (!opt_u64(e, a, "from", &from) || !opt_u64(e, a, "n", &max) || from > UINT32_MAX)
		return;
	size_t k = node_list(e, a, 0, nds, false);
	for (size_t i = 0; i < k; i++)
		stream_deliver(e, nds[i], (uint32_t)from, (size_t)max, drop);
}

static void cmd_stream_deliver(env *e, const args *a) { stream_deliver_or_drop(e, a, false); }
static void cmd_stream_drop(env *e, const args *a) { stream_deliver_or_drop(e, a, true); }

static void cmd_stream_net(env *e, const args *a)
{
	(void)a;
	stream_net(e);
}

static void cmd_status(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, true);
	for (size_t i = 0; i < k; i++)
		env_print_status(e, nds[i]);
}

static void cmd_log(env *e, const args *a)
{
	env_node *nds[ENV_MAX_NODES];
	size_t k = node_list(e, a, 0, nds, true);
	for (size_t i = 0; i < k; i++)
		env_print_log(e, nds[i]);
}

static void cmd_net(env *e, const args *a)
{
	(void)a;
	if (e->net.n == 0)
		fputs("no messages in flight\n", e->out);
	for (size_t i = 0; i < e->net.n; i++) {
		fmt_msg(e->out, &e->net.v[i]);
		fputc('\n', e->out);
	}
}

/* ------------------------------------------------------------------ table */

typedef struct command {
	const char *name;
	void (*run)(env *e, const args *a);
	const char *keys; /* the key=value options it takes, space separated */
} command;

static const command commands[] = {
	{"add-nodes", cmd_add_nodes, "pre-vote check-quorum election heartbeat max-inflight max-entries"},
	{"add-joiner", cmd_add_joiner, "incarnation"},
	{"conf", cmd_conf, "incarnation auto next"},
	{"wipe", cmd_wipe, "incarnation"},
	{"campaign", cmd_campaign, ""},
	{"tick", cmd_tick, "n"},
	{"propose", cmd_propose, ""},
	{"read-index", cmd_read_index, ""},
	{"transfer", cmd_transfer, ""},
	{"ready", cmd_ready_only, ""},
	{"persist", cmd_persist, ""},
	{"process-ready", cmd_process_ready, ""},
	{"deliver", cmd_deliver, "from type n"},
	{"drop", cmd_drop, "from type n"},
	{"stabilize", cmd_stabilize, ""},
	{"isolate", cmd_isolate, ""},
	{"heal", cmd_heal, ""},
	{"crash", cmd_crash, ""},
	{"restart", cmd_restart, ""},
	{"compact", cmd_compact, ""},
	{"report-snapshot", cmd_report_snapshot, ""},
	{"stream", cmd_stream, "chunk window"},
	{"stream-send", cmd_stream_send, ""},
	{"stream-deliver", cmd_stream_deliver, "from n"},
	{"stream-drop", cmd_stream_drop, "from n"},
	{"stream-rewind", cmd_stream_rewind, ""},
	{"stream-net", cmd_stream_net, ""},
	{"status", cmd_status, ""},
	{"log", cmd_log, ""},
	{"net", cmd_net, ""},
};

/* Whether word is one of the space-separated words of list. */
static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; *p != '\0';) {
		const char *end = strchr(p, ' ');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
		while (*p == ' ')
			p++;
	}
	return false;
}

void command_run(env *e, const char *line)
{
	char buf[1024];
	if (strlen(line) >= sizeof(buf)) {
		fputs("error: command line too long\n", e->out);
		return;
	}
	strcpy(buf, line);
	args a;
	memset(&a, 0, sizeof(a));
	char *save = NULL;
	char *name = strtok_r(buf, " \t", &save);
	if (name == NULL) {
		fputs("error: empty command\n", e->out);
		return;
	}
	/* propose takes the rest of the line as its data, verbatim */
	if (strcmp(name, "propose") == 0) {
		char *id = strtok_r(NULL, " \t", &save);
		if (id != NULL)
			a.pos[a.n_pos++] = id;
		a.rest = save != NULL && *save != '\0' ? save : NULL;
	} else {
		for (char *tok = strtok_r(NULL, " \t", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t", &save)) {
			char *eq = strchr(tok, '=');
			if (a.n_pos + a.n_kv >= MAX_ARGS) {
				fputs("error: too many arguments\n", e->out);
				return;
			}
			if (eq != NULL) {
				*eq = '\0';
				a.key[a.n_kv] = tok;
				a.val[a.n_kv++] = eq + 1;
			} else {
				a.pos[a.n_pos++] = tok;
			}
		}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		for (size_t k = 0; k < a.n_kv; k++) {
			if (!word_in(commands[i].keys, a.key[k])) {
				fprintf(e->out, "error: %s takes no option %s\n", name, a.key[k]);
				return;
			}
		}
		commands[i].run(e, &a);
		return;
	}
	fprintf(e->out, "error: unknown command %s\n", name);
}
