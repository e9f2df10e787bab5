/*
 * test_http_fast.c — the fast request scanner (node/http/http_fast.c) against
 * http-parser itself. Whatever the scanner accepts, http-parser must accept
 * too, as one complete request ending at the same byte, with the same method,
 * target and body, keep-alive and no upgrade; whatever http-parser refuses,
 * the scanner must decline (the server then answers it through http-parser,
 * as before). Checked on hand-picked cases and on many generated and mutated
 * requests; the common forms (wrk's, curl's, libcurl's) must be taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <http_parser.h>

#include "../../node/common/splitmix.h"
#include "../../node/http/http_fast.h"

/* ------------------------------------------------------------ reference */

typedef struct ref {
	int complete;          /* messages completed */
	int method;
	char url[16384];
	size_t url_len;
	char body[16384];
	size_t body_len;
	int keep_alive, upgrade, chunked;
	unsigned major, minor;
	int overflow;
} ref;

static int r_begin(http_parser *p)
{
	ref *r = p->data;
	if (r->complete == 0) {
		r->url_len = r->body_len = 0;
	}
	return 0;
}

static int r_url(http_parser *p, const char *at, size_t len)
{
	ref *r = p->data;
	if (r->complete > 0)
		return 0;
	if (r->url_len + len > sizeof r->url) {
		r->overflow = 1;
		return 0;
	}
	memcpy(r->url + r->url_len, at, len);
	r->url_len += len;
	return 0;
}

static int r_body(http_parser *p, const char *at, size_t len)
{
	ref *r = p->data;
	if (r->complete > 0)
		return 0;
	if (r->body_len + len > sizeof r->body) {
		r->overflow = 1;
		return 0;
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	return 0;
}

static int r_headers_complete(http_parser *p)
{
	ref *r = p->data;
	if (r->complete == 0)
		r->chunked = (p->flags & F_CHUNKED) != 0;
	return 0;
}

static int r_complete(http_parser *p)
{
	ref *r = p->data;
	if (r->complete++ == 0) {
		r->method = p->method;
		r->keep_alive = http_should_keep_alive(p);
		r->upgrade = p->upgrade;
		r->major = p->http_major;
		r->minor = p->http_minor;
	}
	return 0;
}

static const http_parser_settings ref_settings = {
	.on_message_begin = r_begin,
	.on_url = r_url,
	.on_body = r_body,
	.on_headers_complete = r_headers_complete,
	.on_message_complete = r_complete,
};

/* http-parser over exactly len bytes: returns its errno (HPE_OK = all
 * taken without error). */
static enum http_errno ref_parse(const char *buf, size_t len, ref *r)
{
	http_parser p;
	http_parser_init(&p, HTTP_REQUEST);
	memset(r, 0, sizeof *r);
	p.data = r;
	size_t n = http_parser_execute(&p, &ref_settings, buf, len);
	enum http_errno e = HTTP_PARSER_ERRNO(&p);
	if (e == HPE_OK && n != len)
		e = HPE_UNKNOWN;
	return e;
}

/* ------------------------------------------------------------ comparison */

static unsigned long n_taken, n_declined;

/* The scanner's answer for buf must agree with http-parser's; returns 1 if
 * the scanner took it. */
static int check_one(const char *buf, size_t len)
{
	http_fast_req f;
	int got = http_fast_parse(buf, len, &f);
	if (got != 1) {
		assert_int_equal(got, 0);
		n_declined++;
		return 0;
	}
	n_taken++;
	assert_true(f.total <= len);
	assert_int_equal(f.total, f.head_len + f.body_len);
	assert_ptr_equal(f.body, buf + f.head_len);
	static ref r; /* large: off the stack */
	/* Exactly the request's bytes: one complete message, no error. */
	enum http_errno e = ref_parse(buf, f.total, &r);
	if (e != HPE_OK || r.complete != 1) {
		fprintf(stderr, "scanner took what http-parser refuses (%s, %d complete): [%.*s]\n",
			http_errno_name(e), r.complete, (int)len, buf);
		fail();
	}
	assert_false(r.overflow);
	assert_int_equal(r.method, f.method);
	assert_int_equal(r.url_len, f.url_len);
	assert_memory_equal(r.url, f.url, f.url_len);
	assert_int_equal(r.body_len, f.body_len);
	if (f.body_len > 0)
		assert_memory_equal(r.body, f.body, (size_t)f.body_len);
	assert_true(r.keep_alive);
	assert_false(r.upgrade);
	assert_false(r.chunked);
	assert_int_equal(r.major, 1);
	assert_int_equal(r.minor, 1);
	/* One byte less is not yet a whole request to http-parser. */
	e = ref_parse(buf, f.total - 1, &r);
	assert_int_equal(r.complete, 0);
	return 1;
}

static void expect_taken(const char *s)
{
	if (check_one(s, strlen(s)) != 1)
		fail_msg("declined: [%s]", s);
}

static void expect_declined(const char *s)
{
	if (check_one(s, strlen(s)) != 0)
		fail_msg("taken: [%s]", s);
}

/* ------------------------------------------------------------ tests */

static void test_class_table(void **state)
{
	(void)state;
	const char *url = "-._~!$&'()*+,;=:@/%?", *tok = "!#$%&'*+-.^_`|~";
	for (int c = 0; c < 256; c++) {
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		unsigned char k = http_fast_class[c];
		assert_int_equal(!!(k & HTTP_FAST_URL), alnum || (c != 0 && strchr(url, c) != NULL));
		assert_int_equal(!!(k & HTTP_FAST_TOKEN), alnum || (c != 0 && strchr(tok, c) != NULL));
		assert_int_equal(!!(k & HTTP_FAST_VALUE), (c >= 0x20 && c <= 0x7e) || c == '\t');
		assert_int_equal(!!(k & HTTP_FAST_DIGIT), c >= '0' && c <= '9');
	}
}

/* What the bench, curl and the tools send: taken. */
static void test_common_forms_taken(void **state)
{
	(void)state;
	expect_taken("PUT /kv/bench-42 HTTP/1.1\r\nHost: 127.0.0.1:2620\r\nContent-Length: 16\r\n\r\n"
		     "vvvvvvvvvvvvvvvv");
	expect_taken("GET /kv/bench-7?consistency=linearizable HTTP/1.1\r\nHost: 127.0.0.1:2620\r\n\r\n");
	expect_taken("PUT /kv/greeting HTTP/1.1\r\nHost: 127.0.0.1:2021\r\nUser-Agent: curl/7.88.1\r\n"
		     "Accept: */*\r\nContent-Length: 5\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nhello");
	expect_taken("POST /kv/x/cas HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nContent-Length: 21\r\n\r\n"
		     "{\"from\":null,\"to\":\"1\"}" /* 22 bytes: one stays behind */);
	expect_taken("DELETE /kv/x HTTP/1.1\r\nHost: a\r\n\r\n");
	expect_taken("HEAD /readyz HTTP/1.1\r\n\r\n");
	expect_taken("GET / HTTP/1.1\r\n\r\n");
	expect_taken("GET /admin/status HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv a l\t\r\ncontent-LENGTH:0\r\n\r\n");
	expect_taken("GET /a%20b?k=%41&x=1;y=(2)*'!'~@:$,/? HTTP/1.1\r\n\r\n");
	/* Two pipelined: the first is taken, ending where the second starts. */
	const char *two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
	http_fast_req f;
	assert_int_equal(http_fast_parse(two, strlen(two), &f), 1);
	assert_int_equal(f.total, strlen("GET /a HTTP/1.1\r\n\r\n"));
	assert_int_equal(http_fast_parse(two + f.total, strlen(two) - f.total, &f), 1);
	assert_int_equal(f.url_len, 2);
	assert_memory_equal(f.url, "/b", 2);
}

/* What only http-parser may judge: declined (whether it is fine or not). */
static void test_unusual_forms_declined(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"", "G", "GET", "GET /", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\r", /* incomplete */
		"PUT /k HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcd", /* body not all here */
		"GET / HTTP/1.0\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\n\n",
		"GET / HTTP/1.1\r\nHost: a\n\r\n", "get / HTTP/1.1\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n",
		"CONNECT a:1 HTTP/1.1\r\n\r\n", "PATCH /k HTTP/1.1\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
		"GET http://a/ HTTP/1.1\r\n\r\n", "GET /a#f HTTP/1.1\r\n\r\n", "GET /a\"b HTTP/1.1\r\n\r\n",
		"GET /a<b HTTP/1.1\r\n\r\n", "GET /\x80 HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n",
		"\r\nGET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nproxy-connection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
		"PUT /k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"PUT /k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n",
		"PUT /k HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		"PUT /k HTTP/1.1\r\nContent-Length: 1 \r\n\r\nx", "PUT /k HTTP/1.1\r\nContent-Length: +1\r\n\r\nx",
		"PUT /k HTTP/1.1\r\nContent-Length:\r\n\r\n", "PUT /k HTTP/1.1\r\nContent-Length: 1x\r\n\r\nx",
		"PUT /k HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n", "GET / HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n", /* folded */
		"GET / HTTP/1.1\r\nX A: b\r\n\r\n", "GET / HTTP/1.1\r\n: b\r\n\r\n", "GET / HTTP/1.1\r\nX-A b\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A : b\r\n\r\n", "GET / HTTP/1.1\r\nX-A: b\x7f\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: \xc3\xa9\r\n\r\n", "GET / HTTP/1.1\r\nX-A: b\rc\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_declined(cases[i]);
	char nul[] = "GET / HTTP/1.1\r\nX-A: b\0c\r\n\r\n";
	assert_int_equal(check_one(nul, sizeof nul - 1), 0);
	/* A request line and headers over HTTP_FAST_MAX_HEAD: declined. */
	size_t n = HTTP_FAST_MAX_HEAD + 100;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', n - 5);
	memcpy(big + n - 15, " HTTP/1.1\r\n\r\n", 13);
	big[n - 2] = '\0';
	assert_int_equal(check_one(big, strlen(big)), 0);
	free(big);
}

/* ------------------------------------------------------------ generated */

typedef struct gen {
	uint64_t rng;
	char buf[4096];
	size_t len;
} gen;

static uint64_t pick(gen *g, uint64_t n)
{
	return splitmix64_next(&g->rng) % n;
}

static void put(gen *g, const char *s, size_t n)
{
	if (g->len + n > sizeof g->buf - 1)
		n = sizeof g->buf - 1 - g->len;
	memcpy(g->buf + g->len, s, n);
	g->len += n;
}

static void puts_(gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void put_c(gen *g, char c)
{
	put(g, &c, 1);
}

/* A byte, mostly from the interesting ones. */
static char any_byte(gen *g)
{
	static const char interesting[] = " \t\r\n:/?#%\"<>{}|\\^`'()*+,;=@![]~-._0aZ\x7f";
	uint64_t k = pick(g, 4);
	if (k == 0)
		return (char)pick(g, 256);
	return interesting[pick(g, sizeof interesting - 1)];
}

/* A request, mostly well formed, with its parts drawn from what matters to
 * either parser. */
static void gen_request(gen *g)
{
	static const char *const methods[] = { "GET", "PUT", "POST", "DELETE", "HEAD", "PATCH",
					       "OPTIONS", "get", "PUTS", "CONNECT", "POS" };
	static const char *const names[] = { "Host", "Content-Length", "content-length", "CONTENT-LENGTH",
					     "Connection", "Transfer-Encoding", "Upgrade", "Expect",
					     "Authorization", "Proxy-Connection", "Content-Type", "Accept",
					     "X-A", "Content-Lengthx", "Connectio", "User-Agent", "A!#$%&'*+-.^_`|~" };
	static const char *const versions[] = { "HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2",
						"HTTP/0.9", "http/1.1", "HTTP/11" };
	g->len = 0;
	const char *m = pick(g, 4) ? methods[pick(g, 5)] : methods[pick(g, sizeof methods / sizeof *methods)];
	puts_(g, m);
	put_c(g, ' ');
	put_c(g, '/');
	size_t ulen = pick(g, 30);
	static const char urlc[] = "abcXYZ019-._~!$&'()*+,;=:@/%?";
	for (size_t i = 0; i < ulen; i++)
		put_c(g, pick(g, 12) ? urlc[pick(g, sizeof urlc - 1)] : any_byte(g));
	put_c(g, ' ');
	puts_(g, versions[pick(g, sizeof versions / sizeof *versions)]);
	puts_(g, "\r\n");
	size_t nh = pick(g, 5);
	size_t body = 0;
	for (size_t h = 0; h < nh; h++) {
		const char *name = names[pick(g, sizeof names / sizeof *names)];
		puts_(g, name);
		put_c(g, ':');
		if (pick(g, 4))
			put_c(g, pick(g, 5) ? ' ' : '\t');
		if (strcmp(name, "Content-Length") == 0 || pick(g, 6) == 0) {
			char num[32];
			body = (size_t)pick(g, 40);
			snprintf(num, sizeof num, "%zu", body);
			puts_(g, num);
		} else {
			size_t vl = pick(g, 12);
			for (size_t i = 0; i < vl; i++)
				put_c(g, pick(g, 10) ? (char)('a' + pick(g, 26)) : any_byte(g));
		}
		puts_(g, "\r\n");
	}
	puts_(g, "\r\n");
	for (size_t i = 0; i < body + pick(g, 3); i++)
		put_c(g, pick(g, 8) ? 'v' : any_byte(g));
}

static void mutate(gen *g)
{
	size_t n = pick(g, 4);
	for (size_t k = 0; k < n && g->len > 0; k++) {
		size_t at = (size_t)pick(g, g->len);
		switch (pick(g, 4)) {
		case 0: /* replace */
			g->buf[at] = any_byte(g);
			break;
		case 1: /* insert */
			if (g->len + 1 < sizeof g->buf) {
				memmove(g->buf + at + 1, g->buf + at, g->len - at);
				g->buf[at] = any_byte(g);
				g->len++;
			}
			break;
		case 2: /* delete */
			memmove(g->buf + at, g->buf + at + 1, g->len - at - 1);
			g->len--;
			break;
		default: /* cut */
			g->len = at;
			break;
		}
	}
}

static void test_generated_agree(void **state)
{
	(void)state;
	gen *g = calloc(1, sizeof *g);
	assert_non_null(g);
	g->rng = 0x5eed16u;
	n_taken = n_declined = 0;
	unsigned long taken_mutated = 0;
	for (int i = 0; i < 200000; i++) {
		gen_request(g);
		if (i % 2)
			mutate(g);
		if (check_one(g->buf, g->len) && (i % 2))
			taken_mutated++;
	}
	fprintf(stderr, "# generated: %lu taken, %lu declined, %lu of the taken mutated\n", n_taken,
		n_declined, taken_mutated);
	free(g);
	/* Not vacuous: both answers happen, on plain and mutated inputs. */
	assert_true(n_taken > 5000);
	assert_true(n_declined > 5000);
	assert_true(taken_mutated > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_table),
		cmocka_unit_test(test_common_forms_taken),
		cmocka_unit_test(test_unusual_forms_declined),
		cmocka_unit_test(test_generated_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
