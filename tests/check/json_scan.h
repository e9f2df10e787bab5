/*
 * json_scan.h — a strict JSON cursor over one line, enough to read history
 * events without building a tree: strings (escapes decoded, UTF-8 checked),
 * exact 64-bit integers (a double would round nanosecond times past 2^53),
 * and skipping any other value. On error a function returns -1 and leaves a
 * short static reason in err.
 */
#ifndef RAFTKV_CHECK_JSON_SCAN_H
#define RAFTKV_CHECK_JSON_SCAN_H

#include "util.h"

typedef struct jscan {
	const char *p, *end;
	const char *err;
} jscan;

void js_ws(jscan *s);
/* Skips blanks, then consumes c if it is next. */
bool js_eat(jscan *s, char c);
/* Skips blanks; the next byte, or 0 at the end. */
char js_peek(jscan *s);
/* A string into out (reset first). */
int js_string(jscan *s, strbuf *out);
/* An integer without fraction or exponent that fits int64. */
int js_int64(jscan *s, int64_t *out);
/* The literal null. */
int js_null(jscan *s);
/* Any value, nested at most 64 deep. */
int js_skip(jscan *s);

#endif
