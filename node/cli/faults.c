/*
 * faults.c — fault commands through the admin API (contract section 3):
 * partition, isolate-leader, pause, resume, clock, heal, bugs. A node is
 * named by its position in --nodes (with the default lists, its id); the
 * groups of `partition` are node ids, as the API takes them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* Sends one request to node i and prints the result as a line. */
static int send_one(ctl *c, size_t i, const char *method, const char *path, const char *body)
{
	long st = ctl_request(c, c->nodes[i], method, path, body, 1);
	if (st >= 200 && st < 300) {
		printf("node %zu (%s): ok\n", i, c->nodes[i]);
		return CTL_OK;
	}
	char why[512];
	ctl_describe(c, st, why, sizeof why);
	fprintf(stderr, "raftkv-ctl: node %zu (%s): %s %s: %s\n", i, c->nodes[i], method, path,
		why);
	return st > 0 ? CTL_FAILED : CTL_UNKNOWN;
}

/* The same request to every node: 0 when all succeeded, 3 when none
 * answered, 1 otherwise. */
static int send_all(ctl *c, const char *method, const char *path, const char *body)
{
	size_t ok = 0, answered = 0;
	for (size_t i = 0; i < c->n_nodes; i++) {
		int rc = send_one(c, i, method, path, body);
		ok += rc == CTL_OK;
		answered += rc != CTL_UNKNOWN;
	}
	return ok == c->n_nodes ? CTL_OK : answered == 0 ? CTL_UNKNOWN : CTL_FAILED;
}

/* Optional trailing duration in ms ("5000" or "5000ms"): -1 when absent,
 * -2 when malformed. */
static long parse_ms(const char *s)
{
	if (s == NULL)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v < 0 || (strcmp(end, "") != 0 && strcmp(end, "ms") != 0))
		return -2;
	return v;
}

/* Adds "ms" to body when given. */
static int add_ms(cJSON *o, long ms)
{
	return ms < 0 || cJSON_AddNumberToObject(o, "ms", (double)ms) != NULL ? 0 : -1;
}

static char *print_delete(cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static int oom(void)
{
	fprintf(stderr, "raftkv-ctl: out of memory\n");
	return CTL_UNKNOWN;
}

/* A new empty array appended to parent; NULL when out of memory. */
static cJSON *new_array_in(cJSON *parent)
{
	cJSON *a = cJSON_CreateArray();
	if (a != NULL && !cJSON_AddItemToArray(parent, a)) {
		cJSON_Delete(a);
		a = NULL;
	}
	return a;
}

/* "0,1/2" → [[0,1],[2]]: at least two groups of non-negative ids. NULL
 * when malformed (or out of memory). */
static cJSON *parse_groups(const char *spec)
{
	cJSON *groups = cJSON_CreateArray();
	cJSON *g = groups ? new_array_in(groups) : NULL;
	if (g == NULL)
		goto bad;
	const char *p = spec;
	for (;;) {
		char *end;
		errno = 0;
		if (*p < '0' || *p > '9')
			goto bad;
		long id = strtol(p, &end, 10);
		if (errno != 0)
			goto bad;
		cJSON *v = cJSON_CreateNumber((double)id);
		if (v == NULL || !cJSON_AddItemToArray(g, v)) {
			cJSON_Delete(v);
			goto bad;
		}
		if (*end == '\0')
			break;
		if (*end == '/') {
			if ((g = new_array_in(groups)) == NULL)
				goto bad;
		} else if (*end != ',') {
			goto bad;
		}
		p = end + 1;
	}
	if (cJSON_GetArraySize(groups) < 2)
		goto bad;
	return groups;
bad:
	cJSON_Delete(groups);
	return NULL;
}

static int cmd_partition(ctl *c, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return ctl_usage_error("partition", "expects GROUPS [MS], e.g. 0,1/2");
	long ms = parse_ms(argc == 3 ? argv[2] : NULL);
	cJSON *groups = parse_groups(argv[1]);
	if (groups == NULL || ms == -2) {
		cJSON_Delete(groups);
		return ctl_usage_error("partition",
				       "groups are node ids: ids separated by ',' and groups by "
				       "'/', e.g. 0,1/2; then an optional duration in ms");
	}
	cJSON *o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddItemToObject(o, "groups", groups)) {
		cJSON_Delete(o);
		cJSON_Delete(groups);
		return oom();
	}
	if (add_ms(o, ms) != 0) {
		cJSON_Delete(o);
		return oom();
	}
	char *body = print_delete(o);
	if (body == NULL)
		return oom();
	int rc = send_all(c, "POST", "/admin/faults/partition", body);
	free(body);
	return rc;
}

/* The position of the leader (highest-term node claiming it, else the one
 * the others name); ids receives each node's id. -1 when none is known. */
static int find_leader(ctl *c, int *ids)
{
	int best = -1, named_id = -1;
	double best_term = -1, named_term = -1;
	for (size_t i = 0; i < c->n_nodes; i++) {
		long st;
		cJSON *s = ctl_status_of(c, i, &st);
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(s, "role");
		const cJSON *term = cJSON_GetObjectItemCaseSensitive(s, "term");
		const cJSON *leader = cJSON_GetObjectItemCaseSensitive(s, "leader");
		double t = cJSON_IsNumber(term) ? term->valuedouble : 0;
		ids[i] = cJSON_IsNumber(id) ? id->valueint : (int)i;
		if (cJSON_IsString(role) && strcmp(role->valuestring, "leader") == 0 && t > best_term) {
			best = (int)i;
			best_term = t;
		}
		if (cJSON_IsNumber(leader) && t > named_term) {
			named_id = leader->valueint;
			named_term = t;
		}
		cJSON_Delete(s);
	}
	if (best >= 0)
		return best;
	for (size_t i = 0; i < c->n_nodes; i++)
		if (named_id >= 0 && ids[i] == named_id)
			return (int)i;
	return -1;
}

static int cmd_isolate_leader(ctl *c, int argc, char **argv)
{
	if (argc > 2)
		return ctl_usage_error("isolate-leader", "expects at most a duration in ms");
	long ms = parse_ms(argc == 2 ? argv[1] : NULL);
	if (ms == -2)
		return ctl_usage_error("isolate-leader", "bad duration");
	int *ids = calloc(c->n_nodes, sizeof *ids);
	if (ids == NULL)
		return oom();
	int leader = find_leader(c, ids);
	if (leader < 0) {
		fprintf(stderr, "raftkv-ctl: no node knows a leader\n");
		free(ids);
		return CTL_FAILED;
	}
	printf("isolating node %d (id %d, %s)\n", leader, ids[leader], c->nodes[leader]);
	cJSON *o = cJSON_CreateObject();
	cJSON *groups = cJSON_AddArrayToObject(o, "groups");
	cJSON *alone = cJSON_CreateArray(), *rest = cJSON_CreateArray();
	int bad = groups == NULL || alone == NULL || rest == NULL;
	if (!bad) {
		bad |= !cJSON_AddItemToArray(groups, alone);
		bad |= !cJSON_AddItemToArray(groups, rest);
	} else {
		cJSON_Delete(alone);
		cJSON_Delete(rest);
	}
	for (size_t i = 0; !bad && i < c->n_nodes; i++) {
		cJSON *v = cJSON_CreateNumber(ids[i]);
		bad |= v == NULL || !cJSON_AddItemToArray((int)i == leader ? alone : rest, v);
	}
	bad |= bad || add_ms(o, ms) != 0;
	free(ids);
	char *body = bad ? NULL : print_delete(o);
	if (bad)
		cJSON_Delete(o);
	if (body == NULL)
		return oom();
	int rc = send_all(c, "POST", "/admin/faults/partition", body);
	free(body);
	return rc;
}

static int cmd_pause(ctl *c, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return ctl_usage_error("pause", "expects N [MS]");
	int i = ctl_index(argv[1], c->n_nodes, "node");
	long ms = parse_ms(argc == 3 ? argv[2] : NULL);
	if (i < 0)
		return CTL_USAGE;
	if (ms == -2)
		return ctl_usage_error("pause", "bad duration");
	char body[48];
	if (ms >= 0)
		snprintf(body, sizeof body, "{\"ms\":%ld}", ms);
	else
		snprintf(body, sizeof body, "{}");
	return send_one(c, (size_t)i, "POST", "/admin/faults/pause", body);
}

static int cmd_resume(ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return ctl_usage_error("resume", "expects N");
	int i = ctl_index(argv[1], c->n_nodes, "node");
	if (i < 0)
		return CTL_USAGE;
	return send_one(c, (size_t)i, "POST", "/admin/faults/resume", NULL);
}

/* A whole number of ms with an optional "ms" suffix and sign. */
static int parse_signed_ms(const char *s, const char *stop, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (strncmp(end, "ms", 2) == 0)
		end += 2;
	if (stop != NULL ? end != stop : *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* +2000ms | -500ms | freeze | rate=R | strobe=D/P → the clock fault body. */
static cJSON *clock_spec(const char *spec)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	int bad = 0;
	long a, b;
	if (strcmp(spec, "freeze") == 0) {
		bad = cJSON_AddTrueToObject(o, "freeze") == NULL;
	} else if (strncmp(spec, "rate=", 5) == 0) {
		char *end;
		errno = 0;
		double r = strtod(spec + 5, &end);
		bad = errno != 0 || end == spec + 5 || *end != '\0' || !isfinite(r) || r < 0 ||
		      cJSON_AddNumberToObject(o, "rate", r) == NULL;
	} else if (strncmp(spec, "strobe=", 7) == 0) {
		const char *slash = strchr(spec + 7, '/');
		cJSON *st = NULL;
		bad = slash == NULL || parse_signed_ms(spec + 7, slash, &a) != 0 ||
		      parse_signed_ms(slash + 1, NULL, &b) != 0 || a < 0 || b <= 0 ||
		      (st = cJSON_AddObjectToObject(o, "strobe")) == NULL ||
		      cJSON_AddNumberToObject(st, "delta_ms", (double)a) == NULL ||
		      cJSON_AddNumberToObject(st, "period_ms", (double)b) == NULL;
	} else if (spec[0] == '+' || spec[0] == '-') {
		bad = parse_signed_ms(spec, NULL, &a) != 0 ||
		      cJSON_AddNumberToObject(o, "offset_ms", (double)a) == NULL;
	} else {
		bad = 1;
	}
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int cmd_clock(ctl *c, int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		return ctl_usage_error("clock", "expects N +MSms|-MSms|freeze|rate=R|strobe=D/P [MS]");
	int i = ctl_index(argv[1], c->n_nodes, "node");
	if (i < 0)
		return CTL_USAGE;
	long ms = parse_ms(argc == 4 ? argv[3] : NULL);
	cJSON *o = clock_spec(argv[2]);
	if (o == NULL || ms == -2) {
		cJSON_Delete(o);
		return ctl_usage_error("clock", "expects +2000ms, -500ms, freeze, rate=1.5 or "
						"strobe=DELTA/PERIOD (ms), then an optional duration");
	}
	if (add_ms(o, ms) != 0) {
		cJSON_Delete(o);
		return oom();
	}
	char *body = print_delete(o);
	if (body == NULL)
		return oom();
	int rc = send_one(c, (size_t)i, "POST", "/admin/faults/clock", body);
	free(body);
	return rc;
}

static int cmd_heal(ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ctl_usage_error("heal", "takes no arguments");
	return send_all(c, "DELETE", "/admin/faults", NULL);
}

/* bugs N|all name=on|off ...; bugs N|all off clears every bug. */
static int cmd_bugs(ctl *c, int argc, char **argv)
{
	if (argc < 3)
		return ctl_usage_error("bugs", "expects N|all NAME=on|off ... (or N|all off)");
	int all = strcmp(argv[1], "all") == 0;
	int i = all ? 0 : ctl_index(argv[1], c->n_nodes, "node");
	if (i < 0)
		return CTL_USAGE;
	if (argc == 3 && strcmp(argv[2], "off") == 0)
		return all ? send_all(c, "DELETE", "/admin/bugs", NULL)
			   : send_one(c, (size_t)i, "DELETE", "/admin/bugs", NULL);
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return oom();
	for (int a = 2; a < argc; a++) {
		const char *eq = strchr(argv[a], '=');
		int on = eq && strcmp(eq + 1, "on") == 0;
		if (eq == NULL || eq == argv[a] || (!on && strcmp(eq + 1, "off") != 0)) {
			cJSON_Delete(o);
			return ctl_usage_error("bugs", "each setting is NAME=on or NAME=off, e.g. "
						       "stale_reads=on");
		}
		size_t n = (size_t)(eq - argv[a]);
		char *name = malloc(n + 1);
		if (name == NULL) {
			cJSON_Delete(o);
			return oom();
		}
		memcpy(name, argv[a], n);
		name[n] = '\0';
		int bad = cJSON_AddBoolToObject(o, name, on) == NULL;
		free(name);
		if (bad) {
			cJSON_Delete(o);
			return oom();
		}
	}
	char *body = print_delete(o);
	if (body == NULL)
		return oom();
	int rc = all ? send_all(c, "POST", "/admin/bugs", body)
		     : send_one(c, (size_t)i, "POST", "/admin/bugs", body);
	free(body);
	return rc;
}

int ctl_faults(ctl *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(ctl *, int, char **);
	} table[] = {
		{"partition", cmd_partition}, {"isolate-leader", cmd_isolate_leader},
		{"pause", cmd_pause},         {"resume", cmd_resume},
		{"clock", cmd_clock},         {"heal", cmd_heal},
		{"bugs", cmd_bugs},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(argv[0], table[i].name) == 0)
			return table[i].fn(c, argc, argv);
	return ctl_usage_error(argv[0], "unknown command");
}
