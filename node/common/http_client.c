/* http_client.c — shared libcurl request setup (see http_client.h). */
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int http_client_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_client_cleanup(void)
{
	curl_global_cleanup();
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
	bytebuf *b = user;
	size_t n = size * nmemb;
	/* Returning less than n makes curl fail the transfer (CURLE_WRITE_ERROR),
	 * which the caller sees as "no answer" rather than a truncated body. */
	if (bytebuf_append(b, p, n) != 0)
		return 0;
	return n;
}

/* Drops what the previous request on this handle left behind. */
static void call_release_request(http_call *c)
{
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	free(c->auth);
	c->auth = NULL;
	c->resp.len = 0;
	c->errbuf[0] = '\0';
}

static int add_header(http_call *c, const char *h)
{
	struct curl_slist *n = curl_slist_append(c->headers, h);
	if (n == NULL)
		return -1;
	c->headers = n;
	return 0;
}

int http_call_setup(http_call *c, const char *method, const char *url,
		    const char *token, const char *body, size_t body_len,
		    int json, long timeout_ms)
{
	call_release_request(c);
	if (c->easy == NULL) {
		c->easy = curl_easy_init();
		if (c->easy == NULL)
			return -1;
	} else {
		/* Options go, the connection cache stays. */
		curl_easy_reset(c->easy);
	}
	CURL *e = c->easy;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->resp) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) != CURLE_OK;
	/* Signals are not safe with several transfers and we never resolve
	 * names slowly (loopback), so no SIGALRM-based timeouts. */
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK;
	/* No proxy from the environment: the cluster is always direct. */
	bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
	if (bad)
		return -1;

	/* An empty "Expect:" stops curl waiting for 100-continue on bodies. */
	if (add_header(c, "Expect:") != 0)
		return -1;
	if (token != NULL && token[0] != '\0') {
		size_t n = strlen(token) + sizeof "Authorization: Bearer ";
		c->auth = malloc(n);
		if (c->auth == NULL)
			return -1;
		snprintf(c->auth, n, "Authorization: Bearer %s", token);
		if (add_header(c, c->auth) != 0)
			return -1;
	}

	if (strcmp(method, "GET") == 0) {
		bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	} else if (body != NULL || strcmp(method, "DELETE") != 0) {
		/* PUT and POST always carry a body (maybe empty) so that a
		 * Content-Length goes out; DELETE carries one only if given. */
		if (body == NULL) {
			body = "";
			body_len = 0;
		}
		if (add_header(c, json ? "Content-Type: application/json"
				       : "Content-Type: application/octet-stream") != 0)
			return -1;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t)body_len) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
	} else {
		bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
	}
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK;
	return bad ? -1 : 0;
}

long http_call_finish(http_call *c, CURLcode rc)
{
	/* Terminate the body for the JSON parser; if even that byte cannot be
	 * had, treat the answer as lost (status 0): the caller must not act on
	 * a body it could not read. */
	if (bytebuf_reserve(&c->resp, 1) != 0) {
		snprintf(c->errbuf, sizeof c->errbuf, "out of memory");
		return 0;
	}
	c->resp.data[c->resp.len] = '\0';
	if (rc != CURLE_OK) {
		if (c->errbuf[0] == '\0')
			snprintf(c->errbuf, sizeof c->errbuf, "%s", curl_easy_strerror(rc));
		return 0;
	}
	long status = 0;
	if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		return 0;
	return status;
}

const char *http_call_body(const http_call *c)
{
	return c->resp.data != NULL ? (const char *)c->resp.data : "";
}

void http_call_free(http_call *c)
{
	call_release_request(c);
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	c->easy = NULL;
	bytebuf_free(&c->resp);
}

long http_call_run(http_call *c, const char *method, const char *url,
		   const char *token, const char *body, size_t body_len,
		   int json, long timeout_ms)
{
	if (http_call_setup(c, method, url, token, body, body_len, json, timeout_ms) != 0)
		return -1;
	CURLcode rc = curl_easy_perform(c->easy);
	return http_call_finish(c, rc);
}

void http_urls_free(char **urls)
{
	if (urls == NULL)
		return;
	for (char **u = urls; *u != NULL; u++)
		free(*u);
	free(urls);
}

char **http_urls_parse(const char *list, size_t *n)
{
	*n = 0;
	if (list == NULL)
		return NULL;
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	char **urls = calloc(cap + 1, sizeof *urls);
	if (urls == NULL)
		return NULL;
	const char *p = list;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && p[len - 1] == '/')
			len--;
		if (len == 0)
			goto err;
		char *u = malloc(len + 1);
		if (u == NULL)
			goto err;
		memcpy(u, p, len);
		u[len] = '\0';
		urls[(*n)++] = u;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return urls;
err:
	http_urls_free(urls);
	*n = 0;
	return NULL;
}
