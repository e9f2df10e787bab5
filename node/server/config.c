/* config.c — command-line parsing and validation (see config.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"

/* One table drives parsing and --help, so the help can never miss a flag. */
enum flag_kind { F_U32, F_SIZE, F_STR, F_BOOL, F_INT };

typedef struct flag_def {
	const char *name;
	enum flag_kind kind;
	size_t offset;
	const char *def;  /* default, as shown in --help */
	const char *help;
	uint64_t min, max;
} flag_def;

#define OFF(f) offsetof(node_config, f)
static const flag_def flags[] = {
	{"node", F_U32, OFF(id), "(required)", "this node's id; must appear in --cluster (with --join: an id no member has)", 0, RAFT_NONE - 1},
	{"http", F_STR, OFF(http_addr), "(default: the member's third field; required with --join)", "client API address HOST:PORT or :PORT", 0, 0},
	{"cluster", F_STR, OFF(cluster), "(required) unless --join", "bootstraps a new cluster: members \"ID,RAFTADDR[,HTTPADDR];...\"", 0, 0},
	{"join", F_STR, OFF(join_url), "(none)", "join an existing cluster instead: any member's HTTP URL, e.g. http://127.0.0.1:2020 (the node asks to be added as a learner and is promoted once caught up)", 0, 0},
	{"raft", F_STR, OFF(raft_addr), "(none) required with --join", "this node's peer address HOST:PORT (with --cluster: its entry there)", 0, 0},
	{"join-timeout", F_U32, OFF(join_timeout_s), "60", "with --join: give up (one line, exit 1) when not added within this many seconds, e.g. no member answers (0 = keep trying)", 0, 86400},
	{"join-learner", F_BOOL, OFF(join_learner), "false", "with --join: stay a learner until promoted (POST /admin/members op promote)", 0, 0},
	{"promote-distance", F_U32, OFF(promote_distance), "64", "as leader: promote a joining learner once its log is within this many entries of the leader's", 0, UINT32_MAX},
	{"data-dir", F_STR, OFF(data_dir), "(required)", "directory for meta.json and the WAL", 0, 0},
	{"enable-faults", F_BOOL, OFF(enable_faults), "false", "serve /admin/faults/* and /admin/bugs", 0, 0},
	{"admin-token", F_STR, OFF(admin_token), "(none)", "require \"Authorization: Bearer T\" on /admin/*", 0, 0},
	{"max-key-bytes", F_SIZE, OFF(max_key_bytes), "1024", "largest key; longer is 413", 1, 1u << 20},
	{"max-value-bytes", F_SIZE, OFF(max_value_bytes), "1048576", "largest value or body; larger is 413", 1, 64u << 20},
	{"request-timeout-ms", F_U32, OFF(request_timeout_ms), "3000", "how long a request waits before 504 (or 503 for reads)", 10, 3600000},
	{"tick-ms", F_U32, OFF(tick_ms), "10", "length of one Raft tick on the node's clock", 1, 10000},
	{"election-ticks", F_INT, OFF(election_ticks), "30", "election timeout in ticks (randomized in [T,2T))", 2, 100000},
	{"heartbeat-ticks", F_INT, OFF(heartbeat_ticks), "5", "leader heartbeat interval in ticks", 1, 100000},
	{"no-prevote", F_BOOL, OFF(pre_vote), "(default: pre-vote on)", "disable the pre-vote round", 0, 0},
	{"max-uncommitted-bytes", F_SIZE, OFF(max_uncommitted_bytes), "67108864", "command bytes proposed and not yet answered; past it writes get 503 (not applied)", 4096, (size_t)1 << 40},
	{"snapshot-entries", F_SIZE, OFF(snapshot_entries), "100000", "take a snapshot after this many log entries applied since the last one (0 = only by POST /admin/snapshot)", 0, (size_t)1 << 40},
	{"snapshot-bytes", F_SIZE, OFF(snapshot_bytes), "67108864", "... or after this many bytes of entries (0 = no byte trigger)", 0, (size_t)1 << 50},
	{"snapshot-trailing", F_SIZE, OFF(snapshot_trailing), "10000", "log entries kept behind a snapshot, so slightly lagging followers catch up from the log", 0, (size_t)1 << 40},
	{"snapshot-trailing-bytes", F_SIZE, OFF(snapshot_trailing_bytes), "16777216", "... and at most this many bytes of them (0 = no byte bound): with large entries the log in memory stays bounded", 0, (size_t)1 << 50},
	{"wal-segment-bytes", F_SIZE, OFF(wal_segment_bytes), "4194304", "WAL segment size; compaction behind a snapshot drops whole segments", 4096, (size_t)1 << 34},
	{"max-connections", F_SIZE, OFF(max_connections), "4096", "client connections; more are closed at once (also kept 256 below the fd limit)", 1, 1u << 24},
	{"max-buffered-bytes", F_SIZE, OFF(max_buffered_bytes), "268435456", "request bodies still arriving, all connections; past it 503", 4096, (size_t)1 << 40},
	{"idle-timeout-ms", F_U32, OFF(idle_timeout_ms), "60000", "close a client connection idle this long", 10, 86400000},
	{"header-timeout-ms", F_U32, OFF(header_timeout_ms), "10000", "a request's headers must arrive within this (else 408)", 10, 3600000},
	{"body-timeout-ms", F_U32, OFF(body_timeout_ms), "60000", "a whole request must arrive within this (else 408)", 10, 3600000},
	{"peer-secret", F_STR, OFF(peer_secret), "(none)", "cluster secret: peers prove it (HMAC over a nonce) in their hello; visible in ps, prefer the file", 0, 0},
	{"peer-secret-file", F_STR, OFF(peer_secret_file), "(none)", "read the cluster secret from this file (one line)", 0, 0},
	{"help", F_BOOL, OFF(show_help), "", "print this help (also -h) and exit", 0, 0},
	{"version", F_BOOL, OFF(show_version), "", "print the version and exit", 0, 0},
};
#define N_FLAGS (sizeof flags / sizeof flags[0])

void config_print_help(FILE *out)
{
	fprintf(out, "usage: raftkv --node ID --cluster \"0,:3030;1,:3031;2,:3032\" --data-dir DIR [--http ADDR] [flags]\n"
		     "       raftkv --node ID --join http://HOST:PORT --raft ADDR --http ADDR --data-dir DIR [flags]\n\n");
	for (size_t i = 0; i < N_FLAGS; i++) {
		const flag_def *f = &flags[i];
		char left[64];
		snprintf(left, sizeof left, "--%s%s", f->name, f->kind == F_BOOL ? "" : " V");
		if (f->def[0] == '(')
			fprintf(out, "  %-24s %s %s\n", left, f->help, f->def);
		else if (f->def[0] != '\0')
			fprintf(out, "  %-24s %s (default %s)\n", left, f->help, f->def);
		else
			fprintf(out, "  %-24s %s\n", left, f->help);
	}
}

static void defaults(node_config *c)
{
	memset(c, 0, sizeof *c);
	c->id = RAFT_NONE;
	c->max_key_bytes = 1024;
	c->max_value_bytes = 1u << 20;
	c->request_timeout_ms = 3000;
	c->tick_ms = 10;
	c->election_ticks = 30;
	c->heartbeat_ticks = 5;
	c->pre_vote = true;
	c->max_connections = 4096;
	c->max_uncommitted_bytes = 64u << 20;
	c->snapshot_entries = 100000;
	c->snapshot_bytes = 64u << 20;
	c->snapshot_trailing = 10000;
	c->snapshot_trailing_bytes = 16u << 20;
	/* Small enough that compaction behind a snapshot frees the disk:
	 * 64 MiB held ~1M small entries, ten snapshot intervals, so the WAL
	 * grew to 55-77 MB before one segment could go (bench-snapshot A). */
	c->wal_segment_bytes = 4u << 20;
	c->max_buffered_bytes = 256u << 20;
	c->idle_timeout_ms = 60000;
	c->header_timeout_ms = 10000;
	c->body_timeout_ms = 60000;
	c->promote_distance = 64;
	c->join_timeout_s = 60;
}

static const flag_def *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < N_FLAGS; i++)
		if (strlen(flags[i].name) == len && memcmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Go's flag package spelling of a boolean value: -flag=true, -flag=false. */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "1", "t", "TRUE", "True", "T"};
	static const char *const no[] = {"false", "0", "f", "FALSE", "False", "F"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int set_flag(node_config *c, const flag_def *f, const char *val, char *err, size_t errlen)
{
	void *field = (char *)c + f->offset;
	uint64_t v;
	switch (f->kind) {
	case F_BOOL: {
		/* A bare flag means true; --flag=false is accepted as Go's flag
		 * package does. --no-prevote is the only negative flag: setting
		 * it clears pre_vote. */
		bool on = true;
		if (val != NULL && parse_bool(val, &on) != 0) {
			snprintf(err, errlen, "--%s: expected true or false, got \"%s\"", f->name, val);
			return -1;
		}
		*(bool *)field = strcmp(f->name, "no-prevote") != 0 ? on : !on;
		return 0;
	}
	case F_STR: {
		char *dup = strdup(val);
		if (dup == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	default:
		break;
	}
	if (parse_uint(val, f->min, f->max, &v) != 0) {
		snprintf(err, errlen, "--%s: expected an integer in [%llu, %llu], got \"%s\"",
			 f->name, (unsigned long long)f->min, (unsigned long long)f->max, val);
		return -1;
	}
	if (f->kind == F_U32)
		*(uint32_t *)field = (uint32_t)v;
	else if (f->kind == F_SIZE)
		*(size_t *)field = (size_t)v;
	else
		*(int *)field = (int)v;
	return 0;
}

static int check_addr(const char *what, const char *a, char *err, size_t errlen)
{
	char host[256], why[128];
	uint16_t port = 0;
	if (addr_split(a, host, sizeof host, &port, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s \"%s\": %s", what, a, why);
		return -1;
	}
	if (port == 0) {
		snprintf(err, errlen, "%s \"%s\": port must be 1-65535", what, a);
		return -1;
	}
	return 0;
}

/* Splits "ID,RAFT[,HTTP];..." into members. */
static int parse_cluster(node_config *c, char *err, size_t errlen)
{
	char *spec = strdup(c->cluster);
	if (spec == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	char *save = NULL;
	for (char *ent = strtok_r(spec, ";", &save); ent != NULL; ent = strtok_r(NULL, ";", &save)) {
		char *fields[3] = {NULL, NULL, NULL};
		int nf = 0;
		/* Split by hand: strtok would merge empty fields. */
		for (char *p = ent; p != NULL && nf <= 3; nf++) {
			char *comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			if (nf < 3)
				fields[nf] = p;
			p = comma != NULL ? comma + 1 : NULL;
		}
		if (nf < 2 || nf > 3) {
			snprintf(err, errlen, "--cluster: entry %zu of \"%s\" is not ID,RAFTADDR[,HTTPADDR]",
				 c->n_members + 1, c->cluster);
			goto out;
		}
		uint64_t id;
		if (parse_uint(fields[0], 0, RAFT_NONE - 1, &id) != 0) {
			snprintf(err, errlen, "--cluster: bad node id \"%s\"", fields[0]);
			goto out;
		}
		if (c->n_members == RAFT_MAX_NODES) {
			snprintf(err, errlen, "--cluster: more than %d members", RAFT_MAX_NODES);
			goto out;
		}
		if (config_member(c, (uint32_t)id) != NULL) {
			snprintf(err, errlen, "--cluster: node id %llu appears twice", (unsigned long long)id);
			goto out;
		}
		if (check_addr("--cluster: raft address", fields[1], err, errlen) != 0)
			goto out;
		if (nf == 3 && fields[2][0] != '\0' &&
		    check_addr("--cluster: http address", fields[2], err, errlen) != 0)
			goto out;
		node_member *m = &c->members[c->n_members];
		m->id = (uint32_t)id;
		m->raft_addr = strdup(fields[1]);
		m->http_addr = (nf == 3 && fields[2][0] != '\0') ? strdup(fields[2]) : NULL;
		c->n_members++;
		if (m->raft_addr == NULL || (nf == 3 && fields[2][0] != '\0' && m->http_addr == NULL)) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (c->n_members == 0) {
		snprintf(err, errlen, "--cluster: no members in \"%s\"", c->cluster);
		goto out;
	}
	rc = 0;
out:
	free(spec);
	return rc;
}

/* --peer-secret or --peer-secret-file (one line; the final newline is not
 * part of the secret), never both, never empty. */
static int load_peer_secret(node_config *c, char *err, size_t errlen)
{
	if (c->peer_secret_file == NULL) {
		if (c->peer_secret != NULL && c->peer_secret[0] == '\0') {
			snprintf(err, errlen, "--peer-secret must not be empty");
			return -1;
		}
		return 0;
	}
	if (c->peer_secret != NULL) {
		snprintf(err, errlen, "give --peer-secret or --peer-secret-file, not both");
		return -1;
	}
	FILE *f = fopen(c->peer_secret_file, "r");
	if (f == NULL) {
		snprintf(err, errlen, "--peer-secret-file %s: %s", c->peer_secret_file, strerror(errno));
		return -1;
	}
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	bool too_long = n == sizeof buf;
	bool failed = ferror(f) != 0;
	if (fclose(f) != 0)
		failed = true;
	if (failed || too_long) {
		snprintf(err, errlen, "--peer-secret-file %s: %s", c->peer_secret_file,
			 too_long ? "longer than 4095 bytes" : "read error");
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0 || memchr(buf, '\0', n) != NULL) {
		snprintf(err, errlen, "--peer-secret-file %s: empty or not text", c->peer_secret_file);
		return -1;
	}
	c->peer_secret = strndup(buf, n);
	if (c->peer_secret == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* --join: no --cluster; the node's own addresses come from --raft and
 * --http, the members' from the cluster it joins (node/server/join.c). */
static int validate_join(node_config *c, char *err, size_t errlen)
{
	if (c->cluster != NULL) {
		snprintf(err, errlen, "give --cluster (bootstrap a new cluster) or --join (join an existing one), not both");
		return -1;
	}
	if (strncmp(c->join_url, "http://", 7) != 0 || c->join_url[7] == '\0' ||
	    strchr(c->join_url, ',') != NULL || strchr(c->join_url, ' ') != NULL) {
		snprintf(err, errlen, "--join \"%s\": expected one member's URL, e.g. http://127.0.0.1:2020", c->join_url);
		return -1;
	}
	if (c->raft_addr == NULL) {
		snprintf(err, errlen, "--join needs --raft ADDR (this node's peer address, e.g. 127.0.0.1:3033)");
		return -1;
	}
	if (c->http_addr == NULL) {
		snprintf(err, errlen, "--join needs --http ADDR (this node's client address, e.g. 127.0.0.1:2023)");
		return -1;
	}
	return check_addr("--raft", c->raft_addr, err, errlen);
}

static int validate(node_config *c, char *err, size_t errlen)
{
	if (c->cluster == NULL && c->join_url == NULL) {
		snprintf(err, errlen, "--cluster is required (e.g. --cluster \"0,:3030;1,:3031;2,:3032\"), or --join URL to join an existing cluster");
		return -1;
	}
	if (c->id == RAFT_NONE) {
		snprintf(err, errlen, "--node is required");
		return -1;
	}
	if (c->data_dir == NULL || c->data_dir[0] == '\0') {
		snprintf(err, errlen, "--data-dir is required");
		return -1;
	}
	if (c->join_url == NULL && c->join_learner) {
		snprintf(err, errlen, "--join-learner goes with --join");
		return -1;
	}
	if (c->join_url != NULL) {
		if (validate_join(c, err, errlen) != 0)
			return -1;
	} else {
		if (parse_cluster(c, err, errlen) != 0)
			return -1;
		const node_member *self = config_member(c, c->id);
		if (self == NULL) {
			snprintf(err, errlen, "--node %u is not a member of --cluster \"%s\"", c->id, c->cluster);
			return -1;
		}
		if (c->raft_addr != NULL && strcmp(c->raft_addr, self->raft_addr) != 0) {
			snprintf(err, errlen, "--raft %s differs from node %u's entry in --cluster (%s)",
				 c->raft_addr, c->id, self->raft_addr);
			return -1;
		}
		if (c->raft_addr == NULL && (c->raft_addr = strdup(self->raft_addr)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (c->http_addr == NULL) {
			if (self->http_addr == NULL) {
				snprintf(err, errlen, "--http is required (or give node %u a third field in --cluster)", c->id);
				return -1;
			}
			c->http_addr = strdup(self->http_addr);
			if (c->http_addr == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
	}
	if (check_addr("--http", c->http_addr, err, errlen) != 0)
		return -1;
	if (c->heartbeat_ticks >= c->election_ticks) {
		snprintf(err, errlen, "--heartbeat-ticks (%d) must be below --election-ticks (%d)",
			 c->heartbeat_ticks, c->election_ticks);
		return -1;
	}
	if (c->admin_token != NULL && c->admin_token[0] == '\0') {
		snprintf(err, errlen, "--admin-token must not be empty");
		return -1;
	}
	return load_peer_secret(c, err, errlen);
}

int config_parse(int argc, char **argv, node_config *c, char *err, size_t errlen)
{
	defaults(c);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", a);
			return -1;
		}
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const flag_def *f = find_flag(name, nlen);
		if (f == NULL && nlen == 1 && name[0] == 'h')
			f = find_flag("help", 4); /* -h, as Go's flag package */
		if (f == NULL) {
			snprintf(err, errlen, "unknown flag \"%s\" (see --help)", a);
			return -1;
		}
		const char *val = eq ? eq + 1 : NULL;
		if (f->kind != F_BOOL && val == NULL) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "--%s needs a value", f->name);
				return -1;
			}
			val = argv[++i];
		}
		if (set_flag(c, f, val, err, errlen) != 0)
			return -1;
	}
	if (c->show_help || c->show_version)
		return 0;
	return validate(c, err, errlen);
}

void config_free(node_config *c)
{
	free(c->http_addr);
	free(c->cluster);
	free(c->join_url);
	free(c->raft_addr);
	free(c->data_dir);
	free(c->admin_token);
	free(c->peer_secret);
	free(c->peer_secret_file);
	for (size_t i = 0; i < c->n_members; i++) {
		free(c->members[i].raft_addr);
		free(c->members[i].http_addr);
	}
	memset(c, 0, sizeof *c);
}

const node_member *config_member(const node_config *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].id == id)
			return &c->members[i];
	return NULL;
}
