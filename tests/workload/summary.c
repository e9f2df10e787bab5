/* summary.c — run summary, JSON and text (see summary.h). */
#include "summary.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>

#include "classify.h"

static double secs(const wl_stats *s)
{
	double d = (double)(s->run_end - s->run_start) / 1e9;
	return d > 0 ? d : 1e-9;
}

static uint64_t total(const wl_stats *s, int f, int type)
{
	uint64_t n = 0;
	for (int i = 0; i < F_COUNT; i++)
		for (int t = 0; t < OUT_COUNT; t++)
			if ((f < 0 || f == i) && (type < 0 || type == t))
				n += s->count[i][t];
	return n;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* {"p50":..,"p99":..,"p999":..,"max":..} in ms for answered ops of type f
 * (-1 all). */
static cJSON *latency(const wl_stats *s, int f)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	int bad = 0;
	bad |= cJSON_AddNumberToObject(o, "p50", ms(stats_percentile(s, f, 0.50))) == NULL;
	bad |= cJSON_AddNumberToObject(o, "p99", ms(stats_percentile(s, f, 0.99))) == NULL;
	bad |= cJSON_AddNumberToObject(o, "p999", ms(stats_percentile(s, f, 0.999))) == NULL;
	bad |= cJSON_AddNumberToObject(o, "max", ms(stats_percentile(s, f, 1.0))) == NULL;
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *summary_json(const wl_options *o, const wl_stats *s, const wl_outcome_info *x)
{
	cJSON *j = cJSON_CreateObject();
	cJSON *ops = cJSON_AddObjectToObject(j, "ops");
	cJSON *lat = cJSON_AddObjectToObject(j, "latency_ms");
	int bad = j == NULL || ops == NULL || lat == NULL;
	uint64_t all = total(s, -1, -1), ok = total(s, -1, OUT_OK);
	uint64_t answered = ok + s->mismatches;
	char seed[24];
	snprintf(seed, sizeof seed, "%" PRIu64, o->seed);
	bad |= cJSON_AddStringToObject(j, "seed", seed) == NULL;
	bad |= cJSON_AddNumberToObject(j, "duration_s", secs(s)) == NULL;
	bad |= cJSON_AddNumberToObject(j, "clients", o->clients) == NULL;
	bad |= cJSON_AddNumberToObject(j, "keys", o->keys) == NULL;
	bad |= cJSON_AddStringToObject(j, "nemesis", wl_nemesis_name[o->nemesis]) == NULL;
	bad |= cJSON_AddStringToObject(j, "consistency", o->consistency) == NULL;
	for (int f = 0; !bad && f < F_COUNT; f++) {
		if (o->mix[f] == 0)
			continue;
		cJSON *t = cJSON_AddObjectToObject(ops, wl_f_name[f]);
		bad |= t == NULL;
		for (int r = 0; !bad && r < OUT_COUNT; r++)
			bad |= cJSON_AddNumberToObject(t, wl_outcome_name[r],
						       (double)s->count[f][r]) == NULL;
		if (!bad && f == F_CAS)
			bad |= cJSON_AddNumberToObject(t, "mismatch", (double)s->mismatches) == NULL;
		cJSON *l = bad ? NULL : latency(s, f);
		bad |= l == NULL || !cJSON_AddItemToObject(lat, wl_f_name[f], l);
	}
	cJSON *l = bad ? NULL : latency(s, -1);
	bad |= l == NULL || !cJSON_AddItemToObject(lat, "all", l);
	bad |= cJSON_AddNumberToObject(j, "total", (double)all) == NULL;
	bad |= cJSON_AddNumberToObject(j, "ok", (double)ok) == NULL;
	bad |= cJSON_AddNumberToObject(j, "answered", (double)answered) == NULL;
	bad |= cJSON_AddNumberToObject(j, "throughput_per_s", (double)answered / secs(s)) == NULL;
	bad |= cJSON_AddNumberToObject(j, "attempted_per_s", (double)all / secs(s)) == NULL;
	bad |= cJSON_AddNumberToObject(j, "availability",
				       all ? (double)answered / (double)all : 0) == NULL;
	bad |= cJSON_AddNumberToObject(j, "ok_fraction", all ? (double)ok / (double)all : 0) == NULL;
	bad |= cJSON_AddNumberToObject(j, "nemesis_events", x->nemesis_events) == NULL;
	bad |= cJSON_AddBoolToObject(j, "recovered", x->recovered) == NULL;
	bad |= cJSON_AddBoolToObject(j, "interrupted", x->interrupted) == NULL;
	if (x->verdict != NULL)
		bad |= cJSON_AddStringToObject(j, "verdict", x->verdict) == NULL;
	char *text = bad ? NULL : cJSON_Print(j);
	cJSON_Delete(j);
	return text;
}

void summary_print(FILE *out, const wl_options *o, const wl_stats *s,
		   const wl_outcome_info *x)
{
	uint64_t all = total(s, -1, -1), ok = total(s, -1, OUT_OK);
	uint64_t answered = ok + s->mismatches;
	fprintf(out, "raftkv-workload: %.1f s, %d clients, %d keys, %zu nodes, nemesis %s, "
		     "seed %" PRIu64 "\n",
		secs(s), o->clients, o->keys, o->n_nodes, wl_nemesis_name[o->nemesis], o->seed);
	if (x->interrupted)
		fprintf(out, "  (interrupted: the workload ended early)\n");
	fprintf(out, "  %-7s %9s %9s %9s %9s %9s %9s\n", "op", "ok", "fail", "info",
		"p50 ms", "p99 ms", "p99.9 ms");
	for (int f = -1; f < F_COUNT; f++) {
		if (f >= 0 && o->mix[f] == 0)
			continue;
		fprintf(out, "  %-7s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9.2f %9.2f %9.2f\n",
			f < 0 ? "all" : wl_f_name[f], total(s, f, OUT_OK), total(s, f, OUT_FAIL),
			total(s, f, OUT_INFO), ms(stats_percentile(s, f, 0.5)),
			ms(stats_percentile(s, f, 0.99)), ms(stats_percentile(s, f, 0.999)));
	}
	if (o->mix[F_CAS] != 0)
		fprintf(out, "  cas refused on mismatch: %" PRIu64 " (of the cas fails; answers, "
			     "counted as available)\n", s->mismatches);
	fprintf(out, "  throughput %.1f answered ops/s (%.1f attempted/s), availability %.2f%%\n",
		(double)answered / secs(s), (double)all / secs(s),
		all ? 100.0 * (double)answered / (double)all : 0.0);
	if (o->nemesis != NEM_NONE)
		fprintf(out, "  faults injected: %u; cluster %s after the final heal\n",
			x->nemesis_events, x->recovered ? "recovered" : "did NOT recover");
	if (x->verdict != NULL)
		fprintf(out, "  checker: %s\n", x->verdict);
}
