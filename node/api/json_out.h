/*
 * json_out.h — writing JSON responses straight into a byte buffer. The hot
 * paths (GET and PUT answers) are small fixed shapes, so they are written by
 * hand rather than through a DOM, which would cost several allocations each.
 */
#ifndef RAFTKV_JSON_OUT_H
#define RAFTKV_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/bytebuf.h"

/* Each returns 0, or -1 on ENOMEM (the buffer then holds a partial answer
 * that the caller discards). */
/* A string literal, its length known at compile time. */
#define json_lit(b, lit) bytebuf_append((b), (lit), sizeof(lit) - 1)
int json_raw(bytebuf *b, const char *s);
/* A JSON string: quotes added, ", \ and control bytes escaped; the bytes are
 * expected to be valid UTF-8 and are copied as they are. */
int json_str(bytebuf *b, const void *p, size_t len);
int json_cstr(bytebuf *b, const char *s);
int json_u64(bytebuf *b, uint64_t v);

/* True when a JSON text (as received) holds a NUL byte or a string escape
 * for U+0000 ("\u0000"). cJSON ends its strings at the first NUL byte, so
 * such a string would silently lose its tail: callers refuse the body. */
bool json_has_nul_escape(const char *text, size_t len);

/* Parses a request body that must be exactly one JSON value, optionally
 * surrounded by whitespace: cJSON alone stops after the first value and
 * ignores what follows, so '{"to":"x"}}garbage' would be accepted. NULL when
 * the body is not valid JSON or has trailing bytes. Free with cJSON_Delete. */
struct cJSON;
struct cJSON *json_parse_whole(const char *body, size_t len);

/* Adds name: v as a JSON integer, every digit kept: cJSON numbers are
 * doubles, which print a value past 2^53 rounded and in exponent form.
 * The new item, or NULL on ENOMEM. */
struct cJSON *json_add_u64(struct cJSON *o, const char *name, uint64_t v);

#endif
