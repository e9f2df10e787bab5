/* runner.c — logical clients on one curl multi loop (see runner.h). */
#include "runner.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "clock.h"

volatile sig_atomic_t wl_stop;

/* The loop wakes at least this often to check the clock and the nemesis. */
enum { LOOP_TICK_MS = 50 };

/* After a failure or unknown outcome a client waits this long: a node in a
 * minority answers 503 in microseconds, and without a pause its clients
 * would fill the history with thousands of identical failures a second. */
#define FAIL_BACKOFF_NS (10 * 1000000ULL)

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static void client_init(wl_client *c, int process, int node)
{
	memset(c, 0, sizeof *c);
	c->process = process;
	c->node = node;
}

static void client_free(wl_client *c)
{
	http_call_free(&c->call);
	cJSON_Delete(c->value);
	c->value = NULL;
}

int runner_init(wl_runner *w, const wl_options *o, wl_history *h, wl_stats *s)
{
	memset(w, 0, sizeof *w);
	w->o = o;
	w->hist = h;
	w->stats = s;
	w->rng.s = o->seed;
	w->multi = curl_multi_init();
	w->clients = calloc((size_t)o->clients, sizeof *w->clients);
	w->keys = calloc((size_t)o->keys, sizeof *w->keys);
	w->recent = calloc((size_t)o->keys * WL_RECENT, sizeof *w->recent);
	w->recent_pos = calloc((size_t)o->keys, sizeof *w->recent_pos);
	if (w->multi == NULL || w->clients == NULL || w->keys == NULL || w->recent == NULL ||
	    w->recent_pos == NULL)
		return -1;
	/* Every client keeps its connection open between operations. */
	if (curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)o->clients + 16) != CURLM_OK)
		return -1;
	for (int k = 0; k < o->keys; k++) {
		size_t n = strlen(o->key_prefix) + 16;
		if ((w->keys[k] = malloc(n)) == NULL)
			return -1;
		snprintf(w->keys[k], n, "%sk%d", o->key_prefix, k);
	}
	w->n_clients = o->clients;
	for (int i = 0; i < o->clients; i++)
		client_init(&w->clients[i], i, i % (int)o->n_nodes);
	w->next_process = o->clients;
	return 0;
}

void runner_free(wl_runner *w)
{
	for (int i = 0; i < w->n_clients; i++) {
		if (w->clients[i].busy && w->clients[i].call.easy != NULL)
			curl_multi_remove_handle(w->multi, w->clients[i].call.easy);
		client_free(&w->clients[i]);
	}
	free(w->clients);
	if (w->keys != NULL)
		for (int k = 0; k < w->o->keys; k++)
			free(w->keys[k]);
	free(w->keys);
	if (w->recent != NULL)
		for (int i = 0; i < w->o->keys * WL_RECENT; i++)
			free(w->recent[i]);
	free(w->recent);
	free(w->recent_pos);
	free(w->url);
	if (w->multi != NULL)
		curl_multi_cleanup(w->multi);
	memset(w, 0, sizeof *w);
}

/* Remembers a value that the key held at some point, as a cas expectation
 * with a fair chance of matching. Failure to remember is harmless. */
static void remember(wl_runner *w, int key, const char *v)
{
	char *d = dup_str(v);
	if (d == NULL)
		return;
	char **slot = &w->recent[key * WL_RECENT + w->recent_pos[key]];
	free(*slot);
	*slot = d;
	w->recent_pos[key] = (w->recent_pos[key] + 1) % WL_RECENT;
}

/* A cas's expected value: usually a recent one, sometimes "absent". */
static const char *pick_expected(wl_runner *w, int key)
{
	char **r = &w->recent[key * WL_RECENT];
	int have = 0;
	for (int i = 0; i < WL_RECENT; i++)
		have += r[i] != NULL;
	if (have == 0 || rng_below(&w->rng, 8) == 0)
		return NULL;
	uint64_t pick = rng_below(&w->rng, (uint64_t)have);
	for (int i = 0; i < WL_RECENT; i++)
		if (r[i] != NULL && pick-- == 0)
			return r[i];
	return NULL;
}

static int choose_f(wl_runner *w)
{
	uint64_t x = rng_below(&w->rng, w->o->mix_total);
	for (int f = 0; f < F_COUNT; f++) {
		if (x < w->o->mix[f])
			return f;
		x -= w->o->mix[f];
	}
	return F_READ;
}

static int build_url(wl_runner *w, const wl_client *c, int f, int key, int final)
{
	static const char *const suffix[F_COUNT] = {"", "", "/cas", "/append"};
	const char *base = w->o->nodes[c->node];
	const char *cons = final ? "linearizable" : w->o->consistency;
	size_t need = strlen(base) + strlen(w->keys[key]) + strlen(cons) + 32;
	if (need > w->url_cap) {
		char *u = realloc(w->url, need);
		if (u == NULL)
			return -1;
		w->url = u;
		w->url_cap = need;
	}
	if (f == F_READ)
		snprintf(w->url, w->url_cap, "%s/kv/%s?consistency=%s", base, w->keys[key], cons);
	else
		snprintf(w->url, w->url_cap, "%s/kv/%s%s", base, w->keys[key], suffix[f]);
	return 0;
}

/* Starts operation f on key for client c: invoke event, then the request. */
static int issue(wl_runner *w, wl_client *c, int f, int key, int final)
{
	char val[32];
	char *body = NULL;   /* owned JSON body for cas */
	const char *send = NULL;
	cJSON *value = NULL;

	switch (f) {
	case F_READ:
		value = cJSON_CreateNull();
		break;
	case F_WRITE:
		snprintf(val, sizeof val, "%" PRIu64, ++w->counter);
		value = cJSON_CreateString(val);
		send = val;
		break;
	case F_APPEND:
		/* Space-separated unique tokens, so a reader can split them. */
		snprintf(val, sizeof val, "%" PRIu64 " ", ++w->counter);
		value = cJSON_CreateString(val);
		send = val;
		break;
	case F_CAS: {
		snprintf(val, sizeof val, "%" PRIu64, ++w->counter);
		const char *exp = pick_expected(w, key);
		value = cJSON_CreateArray();
		cJSON *req = cJSON_CreateObject();
		cJSON *e = exp ? cJSON_CreateString(exp) : cJSON_CreateNull();
		cJSON *n = cJSON_CreateString(val);
		int bad = value == NULL || req == NULL || e == NULL || n == NULL;
		if (!bad) {
			bad |= !cJSON_AddItemToArray(value, e);
			bad |= !cJSON_AddItemToArray(value, n);
			e = n = NULL;
			bad |= cJSON_AddItemReferenceToObject(req, "from",
							      cJSON_GetArrayItem(value, 0)) == 0;
			bad |= cJSON_AddItemReferenceToObject(req, "to",
							      cJSON_GetArrayItem(value, 1)) == 0;
		}
		body = bad ? NULL : cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		cJSON_Delete(e);
		cJSON_Delete(n);
		if (body == NULL) {
			cJSON_Delete(value);
			return -1;
		}
		send = body;
		break;
	}
	default:
		return -1;
	}
	static const char *const method[F_COUNT] = {"GET", "PUT", "POST", "POST"};
	int rc = -1;
	if (value == NULL || build_url(w, c, f, key, final) != 0 ||
	    http_call_setup(&c->call, method[f], w->url, NULL, send, send ? strlen(send) : 0,
			    f == F_CAS, w->o->timeout_ms) != 0 ||
	    curl_easy_setopt(c->call.easy, CURLOPT_PRIVATE, (void *)c) != CURLE_OK ||
	    curl_easy_setopt(c->call.easy, CURLOPT_FRESH_CONNECT, (long)c->fresh) != CURLE_OK)
		goto out;
	c->f = f;
	c->key = key;
	c->value = value;
	value = NULL;
	c->invoked = wl_now();
	if (history_event(w->hist, c->process, "invoke", f, w->keys[key], c->value, c->invoked,
			  c->node, NULL) != 0)
		goto out;
	if (curl_multi_add_handle(w->multi, c->call.easy) != CURLM_OK)
		goto out;
	c->busy = 1;
	rc = 0;
out:
	free(body);
	cJSON_Delete(value);
	return rc;
}

/* A request ended: classify, record, and ready the client for the next. */
static int complete(wl_runner *w, wl_client *c, CURLcode res)
{
	uint64_t t = wl_now();
	if (curl_multi_remove_handle(w->multi, c->call.easy) != CURLM_OK)
		return -1;
	c->busy = 0;
	long st = http_call_finish(&c->call, res);
	/* A refused connect proves nothing was sent only on a fresh connection:
	 * on a reused one, curl may have written the request into a socket the
	 * node read before dying, then retried, and only the retry was refused. */
	int not_sent = c->fresh && res == CURLE_COULDNT_CONNECT;
	wl_result r;
	if (wl_classify(c->f, st, http_call_body(&c->call), c->call.errbuf, not_sent, &r) != 0)
		return -1;
	/* After a transport error the node may be down: the next request opens
	 * its own connection, so that a refusal can count as a definite fail
	 * rather than filling the history with unknown outcomes. */
	c->fresh = st == 0;

	int rc = 0;
	cJSON *readv = NULL;
	const cJSON *v = c->value;
	if (c->f == F_READ && r.type == OUT_OK) {
		readv = r.value ? cJSON_CreateString(r.value) : cJSON_CreateNull();
		if (readv == NULL)
			rc = -1;
		v = readv;
	}
	if (rc == 0)
		rc = history_event(w->hist, c->process, wl_outcome_name[r.type], c->f,
				   w->keys[c->key], v, t, c->node, &r);
	if (rc == 0)
		rc = stats_add(w->stats, c->invoked, t, c->f, r.type, wl_result_mismatch(&r),
			       c->final);

	if (r.type == OUT_OK) {
		if (c->f == F_READ && r.value != NULL)
			remember(w, c->key, r.value);
		else if (c->f == F_WRITE)
			remember(w, c->key, c->value->valuestring);
		else if (c->f == F_CAS)
			remember(w, c->key, cJSON_GetArrayItem(c->value, 1)->valuestring);
	} else if (r.type == OUT_INFO) {
		/* The process may still be "executing" that op forever: the same
		 * logical client goes on as someone new. */
		c->process = w->next_process++;
	}
	if (r.type != OUT_OK && !wl_result_mismatch(&r))
		c->ready_at = t + FAIL_BACKOFF_NS;
	if (c->final)
		c->final_next++;
	cJSON_Delete(readv);
	cJSON_Delete(c->value);
	c->value = NULL;
	wl_result_free(&r);
	return rc;
}

static int drain(wl_runner *w)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		char *priv = NULL;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
		    priv == NULL)
			return -1;
		wl_client *c = (wl_client *)(void *)priv;
		if (complete(w, c, m->data.result) != 0)
			return -1;
	}
	return 0;
}

/* May one more operation start now? Spaces invokes 1/rate apart overall,
 * letting a short stall catch up by at most one interval. */
static int rate_allows(wl_runner *w, uint64_t now)
{
	if (w->o->rate <= 0)
		return 1;
	if (now < w->next_issue)
		return 0;
	uint64_t gap = (uint64_t)(1e9 / w->o->rate);
	if (gap == 0)
		gap = 1;
	if (w->next_issue + gap < now)
		w->next_issue = now - gap;
	w->next_issue += gap;
	return 1;
}

static int loop(wl_runner *w, wl_nemesis *nem, uint64_t end, int final)
{
	for (;;) {
		int running;
		if (curl_multi_perform(w->multi, &running) != CURLM_OK)
			return -1;
		if (drain(w) != 0)
			return -1;

		uint64_t now = wl_now();
		if (wl_stop && !final)
			end = now;
		if (nem != NULL && now < end && now >= nemesis_due(nem)) {
			if (nemesis_step(nem, now, end) != 0)
				return -1;
			continue; /* the calls took time: collect what finished */
		}
		int busy = 0;
		uint64_t backoff = UINT64_MAX; /* earliest end of a client's backoff */
		for (int i = 0; i < w->n_clients; i++) {
			wl_client *c = &w->clients[i];
			if (!c->busy && c->ready_at > now) {
				if (c->ready_at < backoff)
					backoff = c->ready_at;
			} else if (!c->busy) {
				if (final && c->final_next < w->o->keys) {
					if (issue(w, c, F_READ, c->final_next, 1) != 0)
						return -1;
				} else if (!final && now < end && rate_allows(w, now)) {
					int key = (int)rng_below(&w->rng, (uint64_t)w->o->keys);
					if (issue(w, c, choose_f(w), key, 0) != 0)
						return -1;
				}
			}
			busy += c->busy;
		}
		if (busy == 0 && (final || now >= end) && (!final || backoff == UINT64_MAX))
			return 0;

		uint64_t wake = now + LOOP_TICK_MS * 1000000ULL;
		if (backoff < wake)
			wake = backoff;
		if (!final && now < end) {
			if (end < wake)
				wake = end;
			if (w->o->rate > 0 && w->next_issue > now && w->next_issue < wake)
				wake = w->next_issue;
			if (nem != NULL && nemesis_due(nem) < wake)
				wake = nemesis_due(nem);
		}
		int ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		if (curl_multi_poll(w->multi, NULL, 0, ms, NULL) != CURLM_OK)
			return -1;
	}
}

int runner_workload(wl_runner *w, wl_nemesis *nem, uint64_t end)
{
	return loop(w, nem, end, 0);
}

int runner_final_reads(wl_runner *w)
{
	/* The workload clients are all idle here; replace them by one reader
	 * per node, each a new process. */
	for (int i = 0; i < w->n_clients; i++)
		client_free(&w->clients[i]);
	int n = (int)w->o->n_nodes;
	if (n > w->o->clients) {
		wl_client *c = realloc(w->clients, (size_t)n * sizeof *c);
		if (c == NULL) {
			w->n_clients = 0;
			return -1;
		}
		w->clients = c;
	}
	w->n_clients = n;
	for (int i = 0; i < n; i++) {
		client_init(&w->clients[i], w->next_process++, i);
		w->clients[i].final = 1;
	}
	return loop(w, NULL, 0, 1);
}
