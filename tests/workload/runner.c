/* runner.c — logical clients on one epoll loop (see runner.h). */
#include "runner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

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
	wh_init(&c->http);
	c->process = process;
	c->node = node;
}

static void client_free(wl_client *c)
{
	wh_free(&c->http);
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
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->clients = calloc((size_t)o->clients, sizeof *w->clients);
	w->keys = calloc((size_t)o->keys, sizeof *w->keys);
	w->recent = calloc((size_t)o->keys * WL_RECENT, sizeof *w->recent);
	w->recent_pos = calloc((size_t)o->keys, sizeof *w->recent_pos);
	w->targets = calloc(o->n_nodes, sizeof *w->targets);
	if (w->epfd < 0 || w->clients == NULL || w->keys == NULL || w->recent == NULL ||
	    w->recent_pos == NULL || w->targets == NULL)
		return -1;
	for (size_t i = 0; i < o->n_nodes; i++) {
		char err[300];
		if (wh_target_parse(&w->targets[i], o->nodes[i], err, sizeof err) != 0) {
			fprintf(stderr, "raftkv-workload: %s\n", err);
			return -1;
		}
	}
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
	for (int i = 0; i < w->n_clients; i++)
		client_free(&w->clients[i]);
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
	if (w->targets != NULL)
		for (size_t i = 0; i < w->o->n_nodes; i++)
			wh_target_free(&w->targets[i]);
	free(w->targets);
	if (w->epfd >= 0)
		close(w->epfd);
	memset(w, 0, sizeof *w);
	w->epfd = -1;
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
	(void)c;
	const char *cons = final ? "linearizable" : w->o->consistency;
	size_t need = strlen(w->keys[key]) + strlen(cons) + 32;
	if (need > w->url_cap) {
		char *u = realloc(w->url, need);
		if (u == NULL)
			return -1;
		w->url = u;
		w->url_cap = need;
	}
	if (f == F_READ)
		snprintf(w->url, w->url_cap, "/kv/%s?consistency=%s", w->keys[key], cons);
	else
		snprintf(w->url, w->url_cap, "/kv/%s%s", w->keys[key], suffix[f]);
	return 0;
}

static int complete(wl_runner *w, wl_client *c);

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
		send = val;
		if (w->o->value_bytes > 0 && (size_t)w->o->value_bytes > strlen(val) + 1) {
			/* Large values (the flood test): still unique, by the counter. */
			size_t n = (size_t)w->o->value_bytes, head = strlen(val);
			body = malloc(n + 1);
			if (body == NULL)
				return -1;
			memcpy(body, val, head);
			body[head] = '-';
			memset(body + head + 1, 'v', n - head - 1);
			body[n] = '\0';
			send = body;
		}
		value = cJSON_CreateString(send);
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
	if (value == NULL || build_url(w, c, f, key, final) != 0)
		goto out;
	c->f = f;
	c->key = key;
	c->value = value;
	value = NULL;
	c->invoked = wl_now();
	c->deadline = c->invoked + (uint64_t)w->o->timeout_ms * 1000000ULL;
	if (history_event(w->hist, c->process, "invoke", f, w->keys[key], c->value, c->invoked,
			  c->node, NULL) != 0)
		goto out;
	/* The invoke is recorded before the first byte can leave. */
	int st = wh_start(&c->http, w->epfd, &w->targets[c->node], c, method[f], w->url,
			  send == NULL ? NULL
			  : f == F_CAS ? "application/json" : "application/octet-stream",
			  send, send ? strlen(send) : 0);
	if (st < 0)
		goto out;
	c->busy = 1;
	rc = st == 1 ? complete(w, c) : 0;
out:
	free(body);
	cJSON_Delete(value);
	return rc;
}

/* A request ended: classify, record, and ready the client for the next. */
static int complete(wl_runner *w, wl_client *c)
{
	uint64_t t = wl_now();
	c->busy = 0;
	long st = c->http.status;
	/* not_sent is set only when a brand-new connection was refused (or its
	 * address did not resolve): the client never retries, so no byte of the
	 * request can have reached a node. After any transport error the
	 * connection is gone and the next request opens its own. */
	wl_result r;
	if (wl_classify(c->f, st, wh_body(&c->http), c->http.err, c->http.not_sent, &r) != 0)
		return -1;

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

/* Waits up to ms for socket events and completes what they finish. */
static int wait_events(wl_runner *w, int ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(w->epfd, ev, 64, ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		wl_client *c = ev[i].data.ptr;
		if (wh_on_event(&c->http, ev[i].events) == 1 && c->busy) {
			if (complete(w, c) != 0)
				return -1;
		}
	}
	return 0;
}

/* Requests past their deadline end without an answer, as curl's total
 * timeout did ("timed out" classifies as timeout). */
static int expire(wl_runner *w, uint64_t now)
{
	for (int i = 0; i < w->n_clients; i++) {
		wl_client *c = &w->clients[i];
		if (!c->busy || now < c->deadline)
			continue;
		char why[80];
		snprintf(why, sizeof why, "Operation timed out after %ld milliseconds",
			 w->o->timeout_ms);
		wh_abort(&c->http, why);
		if (complete(w, c) != 0)
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
		uint64_t now = wl_now();
		if (expire(w, now) != 0)
			return -1;
		if (wl_stop && !final)
			end = now;
		if (nem != NULL && now < end && now >= nemesis_due(nem)) {
			if (nemesis_step(nem, now, end) != 0)
				return -1;
			continue; /* the calls took time: collect what finished */
		}
		int busy = 0;
		uint64_t backoff = UINT64_MAX; /* earliest end of a client's backoff */
		uint64_t deadline = UINT64_MAX; /* earliest request deadline */
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
			if (c->busy && c->deadline < deadline)
				deadline = c->deadline;
		}
		if (busy == 0 && (final || now >= end) && (!final || backoff == UINT64_MAX))
			return 0;

		uint64_t wake = now + LOOP_TICK_MS * 1000000ULL;
		if (backoff < wake)
			wake = backoff;
		if (deadline < wake)
			wake = deadline;
		if (!final && now < end) {
			if (end < wake)
				wake = end;
			if (w->o->rate > 0 && w->next_issue > now && w->next_issue < wake)
				wake = w->next_issue;
			if (nem != NULL && nemesis_due(nem) < wake)
				wake = nemesis_due(nem);
		}
		int ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		if (wait_events(w, ms) != 0)
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
