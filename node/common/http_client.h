/*
 * http_client.h — the few libcurl helpers that the command-line tools share
 * (raftkv-ctl, raftkv-workload): one way to set up a request, a blocking
 * call built on it, and the "URL,URL,..." list that both take on the command
 * line. The workload drives the same setup through a curl multi handle.
 */
#ifndef RAFTKV_HTTP_CLIENT_H
#define RAFTKV_HTTP_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>

#include "bytebuf.h"

/* One request's resources, kept together so they live exactly as long as
 * the transfer (curl does not copy the header list or the request body). */
typedef struct http_call {
	CURL *easy;
	struct curl_slist *headers;
	char *auth;              /* "Authorization: Bearer ..." (owned) */
	bytebuf resp;            /* response body, NUL-terminated after completion */
	char errbuf[CURL_ERROR_SIZE];
} http_call;

/* curl_global_init; call once from main before any other function here. */
int http_client_init(void);
void http_client_cleanup(void);

/* Prepares c for one request: method ("GET", "PUT", "POST", "DELETE"), url,
 * optional bearer token, optional body (copied by curl, may be NULL; sent as
 * JSON when json is true, raw bytes otherwise), total timeout. Reuses
 * c->easy when it already exists. 0, or -1 when out of memory. */
int http_call_setup(http_call *c, const char *method, const char *url,
		    const char *token, const char *body, size_t body_len,
		    int json, long timeout_ms);

/* After the transfer: the HTTP status, or 0 when no response arrived
 * (c->errbuf then says why). */
long http_call_finish(http_call *c, CURLcode rc);

/* The response body, NUL-terminated; "" when there was none. */
const char *http_call_body(const http_call *c);

/* Frees everything, including the easy handle. */
void http_call_free(http_call *c);

/* Blocking request: setup + perform + finish. Returns the status (0 = no
 * answer: connection refused, timeout, ...; c->errbuf says why), or -1 when
 * out of memory. */
long http_call_run(http_call *c, const char *method, const char *url,
		   const char *token, const char *body, size_t body_len,
		   int json, long timeout_ms);

/* Splits "http://a:1,http://b:2" into a NULL-terminated array of strings
 * with trailing '/' removed. *n receives the count. NULL on empty entries or
 * ENOMEM. Free with http_urls_free. */
char **http_urls_parse(const char *list, size_t *n);
void http_urls_free(char **urls);

#endif
