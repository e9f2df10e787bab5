/* options.c — raftkv-workload flag parsing (see options.h). */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../node/common/http_client.h"

const char *const wl_f_name[F_COUNT] = {"read", "write", "cas", "append"};
const char *const wl_nemesis_name[NEM_COUNT] = {
	"none", "partition", "leader-isolation", "pause", "kill", "clock", "member", "mix"};

static const char usage[] =
	"usage: raftkv-workload [flags]\n"
	"Drives concurrent clients against a raftkv cluster, injects faults, and\n"
	"records a history for the linearizability checker.\n"
	"\n"
	"  --nodes URLS           client endpoints, comma-separated\n"
	"                         (default http://127.0.0.1:2020,:2021,:2022)\n"
	"  --agents URLS          fault agents in the same order (kill nemesis)\n"
	"  --admin-token T        bearer token for /admin and /agent\n"
	"  --clients N            concurrent logical clients (default 10)\n"
	"  --keys K               keys k0..k(K-1) (default 5)\n"
	"  --key-prefix P         name keys Pk0..; a run needs keys no one wrote\n"
	"                         before, so use a new prefix to reuse a cluster\n"
	"  --mix SPEC             weights (default read=50,write=30,cas=10,append=10)\n"
	"  --rate R               total ops/s, 0 = as fast as possible (default 0)\n"
	"  --duration S           seconds of workload (default 10)\n"
	"  --timeout-ms MS        request timeout (default 2000)\n"
	"  --value-bytes N        writes send N-byte values: the unique counter,\n"
	"                         '-', then padding (default: the counter alone)\n"
	"  --consistency C        linearizable|stale|log for reads (default linearizable)\n"
	"  --history FILE         JSON Lines history (contract section 5)\n"
	"  --no-history           record no history (default unless --history/--check)\n"
	"  --nemesis KIND         none|partition|leader-isolation|pause|kill|clock|member|mix\n"
	"                         (member: remove/add/replace nodes, never below a\n"
	"                         majority of the starting size; not part of mix)\n"
	"                         (default none)\n"
	"  --nemesis-interval S   seconds healthy, then seconds faulty, ... (default 5)\n"
	"  --nemesis-log FILE     one JSON line per fault and heal\n"
	"  --summary FILE         JSON summary (a human one always goes to stdout)\n"
	"  --plot FILE.svg        latency/throughput plot with faults shaded\n"
	"  --seed N               random seed (default: from the clock, printed)\n"
	"  --ready-timeout S      wait this long for every /readyz (default 30)\n"
	"  --no-final-reads       skip the final read of every key on every node\n"
	"  --check                run the checker on the history; exit by verdict\n"
	"  --check-timeout S      checker time limit, 0 = none (default 300)\n"
	"  --bench                benchmark defaults: --clients 32 --mix write=100\n"
	"                         --duration 10 --no-final-reads (flags still override)\n"
	"  --quiet                no human summary on stdout\n"
	"  --help\n"
	"\n"
	"exit: 0 ok, 1 not linearizable, 2 bad flags, 3 infrastructure failure\n";

enum {
	O_NODES = 256, O_AGENTS, O_TOKEN, O_CLIENTS, O_KEYS, O_KEY_PREFIX, O_MIX, O_RATE,
	O_DURATION, O_TIMEOUT, O_VALUE_BYTES, O_CONSISTENCY, O_HISTORY, O_NO_HISTORY, O_NEMESIS,
	O_NEM_INTERVAL, O_NEM_LOG, O_SUMMARY, O_PLOT, O_SEED, O_READY, O_NO_FINAL,
	O_CHECK, O_CHECK_TIMEOUT, O_BENCH, O_QUIET, O_HELP
};

static const struct option longopts[] = {
	{"nodes", required_argument, NULL, O_NODES},
	{"agents", required_argument, NULL, O_AGENTS},
	{"admin-token", required_argument, NULL, O_TOKEN},
	{"clients", required_argument, NULL, O_CLIENTS},
	{"keys", required_argument, NULL, O_KEYS},
	{"key-prefix", required_argument, NULL, O_KEY_PREFIX},
	{"mix", required_argument, NULL, O_MIX},
	{"rate", required_argument, NULL, O_RATE},
	{"duration", required_argument, NULL, O_DURATION},
	{"timeout-ms", required_argument, NULL, O_TIMEOUT},
	{"value-bytes", required_argument, NULL, O_VALUE_BYTES},
	{"consistency", required_argument, NULL, O_CONSISTENCY},
	{"history", required_argument, NULL, O_HISTORY},
	{"no-history", no_argument, NULL, O_NO_HISTORY},
	{"nemesis", required_argument, NULL, O_NEMESIS},
	{"nemesis-interval", required_argument, NULL, O_NEM_INTERVAL},
	{"nemesis-log", required_argument, NULL, O_NEM_LOG},
	{"summary", required_argument, NULL, O_SUMMARY},
	{"plot", required_argument, NULL, O_PLOT},
	{"seed", required_argument, NULL, O_SEED},
	{"ready-timeout", required_argument, NULL, O_READY},
	{"no-final-reads", no_argument, NULL, O_NO_FINAL},
	{"check", no_argument, NULL, O_CHECK},
	{"check-timeout", required_argument, NULL, O_CHECK_TIMEOUT},
	{"bench", no_argument, NULL, O_BENCH},
	{"quiet", no_argument, NULL, O_QUIET},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

static int bad(const char *flag, const char *arg, const char *why)
{
	fprintf(stderr, "raftkv-workload: --%s %s: %s (see --help)\n", flag, arg, why);
	return -1;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* "read=50,write=30": every name known, weights non-negative, total > 0.
 * Unnamed types get weight 0. */
static int parse_mix(const char *s, wl_options *o)
{
	unsigned mix[F_COUNT] = {0};
	const char *p = s;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		if (eq == NULL)
			return -1;
		int f = -1;
		for (int i = 0; i < F_COUNT; i++)
			if ((size_t)(eq - p) == strlen(wl_f_name[i]) &&
			    strncmp(p, wl_f_name[i], (size_t)(eq - p)) == 0)
				f = i;
		if (f < 0)
			return -1;
		unsigned long w = 0;
		const char *d = eq + 1;
		if (d == p + len)
			return -1;
		for (; d < p + len; d++) {
			if (*d < '0' || *d > '9' || w > 1000000)
				return -1;
			w = w * 10 + (unsigned long)(*d - '0');
		}
		mix[f] = (unsigned)w;
		p += len;
		if (*p == ',')
			p++;
	}
	unsigned total = 0;
	for (int i = 0; i < F_COUNT; i++)
		total += mix[i];
	if (total == 0)
		return -1;
	memcpy(o->mix, mix, sizeof mix);
	o->mix_total = total;
	return 0;
}

static int parse_urls(const char *flag, const char *arg, char ***urls, size_t *n)
{
	http_urls_free(*urls);
	*urls = http_urls_parse(arg, n);
	if (*urls == NULL)
		return bad(flag, arg, "expected comma-separated URLs");
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*urls)[i], "http://", 7) != 0)
			return bad(flag, arg, "every URL must start with http://");
	return 0;
}

int options_parse(int argc, char **argv, wl_options *o)
{
	memset(o, 0, sizeof *o);
	o->clients = 10;
	o->keys = 5;
	o->key_prefix = "";
	o->duration = 10;
	o->timeout_ms = 2000;
	o->consistency = "linearizable";
	o->nemesis_interval = 5;
	o->ready_timeout = 30;
	o->final_reads = 1;
	o->check_timeout = 300;
	o->seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
	int set_clients = 0, set_mix = 0, set_duration = 0, set_final = 0;
	int no_history = 0, bench = 0;
	long l;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_NODES:
			if (parse_urls("nodes", optarg, &o->nodes, &o->n_nodes) != 0)
				return -1;
			break;
		case O_AGENTS:
			if (parse_urls("agents", optarg, &o->agents, &o->n_agents) != 0)
				return -1;
			break;
		case O_TOKEN:
			o->token = optarg;
			break;
		case O_CLIENTS:
			if (parse_long(optarg, 1, 10000, &l) != 0)
				return bad("clients", optarg, "expected 1..10000");
			o->clients = (int)l;
			set_clients = 1;
			break;
		case O_KEYS:
			if (parse_long(optarg, 1, 100000, &l) != 0)
				return bad("keys", optarg, "expected 1..100000");
			o->keys = (int)l;
			break;
		case O_KEY_PREFIX:
			/* Goes into URL paths unescaped: keep it to safe characters. */
			if (strlen(optarg) > 200 ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789._-") != strlen(optarg))
				return bad("key-prefix", optarg,
					   "expected up to 200 of A-Z a-z 0-9 . _ -");
			o->key_prefix = optarg;
			break;
		case O_MIX:
			if (parse_mix(optarg, o) != 0)
				return bad("mix", optarg,
					   "expected e.g. read=50,write=30,cas=10,append=10");
			set_mix = 1;
			break;
		case O_RATE:
			if (parse_double(optarg, 0, 1e7, &o->rate) != 0)
				return bad("rate", optarg, "expected ops/s >= 0");
			break;
		case O_DURATION:
			if (parse_double(optarg, 0, 1e6, &o->duration) != 0)
				return bad("duration", optarg, "expected seconds >= 0");
			set_duration = 1;
			break;
		case O_TIMEOUT:
			if (parse_long(optarg, 1, 3600000, &o->timeout_ms) != 0)
				return bad("timeout-ms", optarg, "expected 1..3600000");
			break;
		case O_VALUE_BYTES:
			if (parse_long(optarg, 0, 64L << 20, &o->value_bytes) != 0)
				return bad("value-bytes", optarg, "expected 0..67108864");
			break;
		case O_CONSISTENCY:
			if (strcmp(optarg, "linearizable") != 0 && strcmp(optarg, "stale") != 0 &&
			    strcmp(optarg, "log") != 0)
				return bad("consistency", optarg, "expected linearizable|stale|log");
			o->consistency = optarg;
			break;
		case O_HISTORY:
			o->history = optarg;
			break;
		case O_NO_HISTORY:
			no_history = 1;
			break;
		case O_NEMESIS:
			o->nemesis = -1;
			for (int i = 0; i < NEM_COUNT; i++)
				if (strcmp(optarg, wl_nemesis_name[i]) == 0)
					o->nemesis = i;
			if (o->nemesis < 0)
				return bad("nemesis", optarg,
					   "expected none|partition|leader-isolation|pause|kill|clock|mix");
			break;
		case O_NEM_INTERVAL:
			if (parse_double(optarg, 0.05, 1e6, &o->nemesis_interval) != 0)
				return bad("nemesis-interval", optarg, "expected seconds >= 0.05");
			break;
		case O_NEM_LOG:
			o->nemesis_log = optarg;
			break;
		case O_SUMMARY:
			o->summary = optarg;
			break;
		case O_PLOT:
			o->plot = optarg;
			break;
		case O_SEED: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-')
				return bad("seed", optarg, "expected an unsigned integer");
			o->seed = v;
			break;
		}
		case O_READY:
			if (parse_double(optarg, 0, 1e6, &o->ready_timeout) != 0)
				return bad("ready-timeout", optarg, "expected seconds >= 0");
			break;
		case O_NO_FINAL:
			o->final_reads = 0;
			set_final = 1;
			break;
		case O_CHECK:
			o->check = 1;
			break;
		case O_CHECK_TIMEOUT:
			if (parse_double(optarg, 0, 1e7, &o->check_timeout) != 0)
				return bad("check-timeout", optarg, "expected seconds >= 0");
			break;
		case O_BENCH:
			bench = 1;
			break;
		case O_QUIET:
			o->quiet = 1;
			break;
		case O_HELP:
			fputs(usage, stdout);
			return 1;
		default:
			fprintf(stderr, "raftkv-workload: unknown or incomplete flag '%s' (see --help)\n",
				optind > 1 && optind <= argc ? argv[optind - 1] : "?");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "raftkv-workload: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	if (bench) {
		if (!set_clients)
			o->clients = 32;
		if (!set_mix) {
			memset(o->mix, 0, sizeof o->mix);
			o->mix[F_WRITE] = 100;
			o->mix_total = 100;
		}
		if (!set_duration)
			o->duration = 10;
		if (!set_final)
			o->final_reads = 0;
	}
	if (!set_mix && !bench) {
		o->mix[F_READ] = 50;
		o->mix[F_WRITE] = 30;
		o->mix[F_CAS] = 10;
		o->mix[F_APPEND] = 10;
		o->mix_total = 100;
	}
	if (no_history && o->history != NULL) {
		fprintf(stderr, "raftkv-workload: --history and --no-history conflict\n");
		return -1;
	}
	if (no_history && o->check) {
		fprintf(stderr, "raftkv-workload: --check needs a history; drop --no-history\n");
		return -1;
	}
	if (o->nodes == NULL) {
		if (parse_urls("nodes", "http://127.0.0.1:2020,http://127.0.0.1:2021,"
					"http://127.0.0.1:2022", &o->nodes, &o->n_nodes) != 0)
			return -1;
	}
	if (o->agents != NULL && o->n_agents != o->n_nodes) {
		fprintf(stderr, "raftkv-workload: --agents lists %zu URLs but --nodes %zu; "
				"they must match one to one\n", o->n_agents, o->n_nodes);
		return -1;
	}
	if (o->nemesis == NEM_KILL && o->agents == NULL) {
		fprintf(stderr, "raftkv-workload: --nemesis kill needs --agents\n");
		return -1;
	}
	if ((o->nemesis == NEM_PARTITION || o->nemesis == NEM_LEADER_ISOLATION) &&
	    o->n_nodes < 2) {
		fprintf(stderr, "raftkv-workload: --nemesis %s needs at least 2 nodes\n",
			wl_nemesis_name[o->nemesis]);
		return -1;
	}
	return 0;
}

void options_free(wl_options *o)
{
	http_urls_free(o->nodes);
	http_urls_free(o->agents);
	o->nodes = o->agents = NULL;
}
