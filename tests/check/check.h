/*
 * check.h — linearizability checker for raftkv key-value histories (libcheck).
 *
 * A history is the record of what clients asked and heard: for each operation
 * an invoke event and at most one completion (ok, fail, info). The checker
 * decides whether some total order of the operations, consistent with real
 * time, explains every answer given a single-copy key-value store. The text
 * form is JSON Lines, contract.md section 5; this API is the same thing in
 * memory, for the simulator and the workload tool to use in-process.
 *
 * Semantics, per key (each key is an independent object, absent at first):
 *   read    ok: the value (or absent) read.  fail or info: dropped (no effect).
 *   write   sets the value.                   cas: [expected, new], expected
 *   append  appends (absent counts as "").         NULL = only if absent.
 *   ok      took effect once, between its invoke and its completion.
 *   fail    definitely did not happen: dropped. Except a cas fail marked
 *           mismatch: an observation that, at some instant between invoke and
 *           completion, the value was not the expected one.
 *   info    unknown outcome: took effect once at any time after its invoke, or
 *           never. An invoke with no completion by the end counts as info.
 *   Events with equal times are concurrent: a completion at t does not
 *   precede an invoke at t.
 *
 * Typical use:
 *
 *     check_history *h = check_history_new();
 *     check_event ev = { .process = 1, .type = CHECK_INVOKE, .f = CHECK_WRITE,
 *                        .key = check_cstr("k"), .value = check_cstr("7"), .time = t0 };
 *     if (check_history_add(h, &ev) < 0) puts(check_history_error(h));
 *     ...
 *     check_result r;
 *     check_options o = { .timeout_s = 10 };
 *     if (check_history_check(h, &o, &r) != CHECK_LINEARIZABLE) puts(r.description);
 *     check_result_free(&r);
 *     check_history_free(h);
 *
 * Memory: the search memoises (set of linearised operations, value) pairs;
 * the total is capped (check_options.max_memory) and a search that would pass
 * the cap stops with CHECK_GAVE_UP instead of exhausting memory.
 * Not thread-safe per object; distinct histories may be used from distinct
 * threads.
 */
#ifndef RAFTKV_CHECK_H
#define RAFTKV_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Verdicts double as raftkv-check's exit codes. */
typedef enum check_verdict {
	CHECK_LINEARIZABLE = 0,
	CHECK_NOT_LINEARIZABLE = 1,
	CHECK_BAD_INPUT = 2, /* only from the CLI; a check_history never holds bad events */
	CHECK_GAVE_UP = 3,   /* time or memory limit reached before a verdict */
} check_verdict;

typedef enum check_type { CHECK_INVOKE, CHECK_OK, CHECK_FAIL, CHECK_INFO } check_type;
typedef enum check_fn { CHECK_READ, CHECK_WRITE, CHECK_CAS, CHECK_APPEND } check_fn;

/* A byte string; ptr == NULL is JSON null (an absent value). Not necessarily
 * NUL-terminated; the history copies what it keeps. */
typedef struct check_str {
	const char *ptr;
	size_t len;
} check_str;

static inline check_str check_cstr(const char *s)
{
	check_str r = { s, s ? strlen(s) : 0 };
	return r;
}

/* One line of a history. Which value fields matter:
 *   read    invoke: value NULL.  ok: value = what was read (NULL = absent).
 *   write, append   invoke: value = the string. completion: value NULL (same as
 *                   the invoke) or equal to the invoke's.
 *   cas     invoke: value = expected (NULL = only if absent), value2 = new.
 *           completion: value2 NULL (same as the invoke) or both equal.
 *           fail: mismatch = true when refused because the value differed.
 */
typedef struct check_event {
	int64_t process;
	check_type type;
	check_fn f;
	check_str key;
	check_str value;
	check_str value2;
	bool mismatch;
	int64_t time; /* nanoseconds, one clock, never decreasing */
} check_event;

typedef struct check_history check_history;

check_history *check_history_new(void); /* NULL on ENOMEM */
void check_history_free(check_history *h);

/*
 * Appends one event after validating it against the events before it: time
 * not going backwards, a completion matching an outstanding invoke of the
 * same process (same f, key and values), no second invoke while one is
 * outstanding, nothing from a process after its info. 0 on success; -1 if the
 * event is refused (the history is unchanged and still usable) or memory ran
 * out; check_history_error() says which. Events are numbered from 1 in the
 * order added, so messages about event N match line N of
 * check_history_write_jsonl's output.
 */
int check_history_add(check_history *h, const check_event *ev);

/*
 * Parse JSON Lines (contract section 5) and append every event. Blank lines
 * are skipped; unknown fields are ignored. -1 on the first bad line, with
 * "line N: why" from check_history_error() (events before it stay added);
 * line numbers count from 1 within this buffer or file.
 */
int check_history_parse(check_history *h, const char *buf, size_t len);
int check_history_read_file(check_history *h, FILE *in);

/* Why the last call failed; "" if it did not. Valid until the next call. */
const char *check_history_error(const check_history *h);

size_t check_history_events(const check_history *h);

/* Writes the history as JSON Lines (contract section 5). 0, or -1 on a write error. */
int check_history_write_jsonl(const check_history *h, FILE *out);

/*
 * Writes the history as Jepsen EDN, one op map per line, keys as independent
 * tuples: {:process 3, :type :ok, :f :write, :value ["k1" "7"], :time 1512000,
 * :index 1}. An absent value is the keyword :absent, not nil (Knossos reads a
 * nil read as "any value"): give Knossos models an initial value of :absent.
 * cas values are [expected new]; a mismatch fail carries :error :mismatch.
 * 0, or -1 on a write error.
 */
int check_history_write_edn(const check_history *h, FILE *out);

typedef struct check_options {
	double timeout_s;  /* give up after this long; 0 = no limit */
	size_t max_memory; /* bytes for the search's memo and states; 0 = 512 MiB */
} check_options;

typedef struct check_result {
	check_verdict verdict;
	/* Human text: for NOT_LINEARIZABLE the key, the longest order found and
	 * the operations that could not come next; for GAVE_UP the limit hit.
	 * Malloc'd; NULL only if memory ran out while writing it. */
	char *description;
	char *key;          /* the first failing key, or NULL */
	size_t ops;         /* operations checked (after dropping fails) */
	size_t keys;        /* keys checked */
} check_result;

/*
 * Checks every key. opts may be NULL (defaults); result may be NULL when only
 * the verdict is wanted. Running out of memory outside the capped search is
 * reported as CHECK_GAVE_UP with a description saying so.
 */
check_verdict check_history_check(const check_history *h, const check_options *opts,
				  check_result *result);
void check_result_free(check_result *r);

/* Convenience: parse a buffer and check it. Returns the verdict, or
 * CHECK_BAD_INPUT with the parse error as the description. */
check_verdict check_buffer(const char *buf, size_t len, const check_options *opts,
			   check_result *result);

#endif
