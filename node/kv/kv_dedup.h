/*
 * kv_dedup.h — remembers which commands have been applied, so that a command
 * reaching the log twice (a forwarded proposal duplicated by the network or
 * re-sent) takes effect once.
 *
 * A command is named by (origin node, origin boot nonce, request id). Per
 * origin node the record keeps the newest boot nonce seen and a sliding window
 * of the last KV_DEDUP_WINDOW request ids of that boot. Everything depends only
 * on the order of the log, so every replica reaches the same verdicts.
 *
 * Verdicts for an id that cannot be proven new are conservative: a command of
 * an older boot (that process is gone, nobody waits for it) or older than the
 * window is refused rather than risk applying it twice. Its proposer, if still
 * waiting, answers "unknown outcome" (504), which stays true.
 */
#ifndef RAFTKV_KV_DEDUP_H
#define RAFTKV_KV_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define KV_DEDUP_WINDOW 65536u /* request ids remembered per origin */
#define KV_DEDUP_MAX_ORIGINS 64u

enum kv_dedup_verdict {
	KV_DEDUP_NEW = 0,   /* first time: apply it (now recorded) */
	KV_DEDUP_SEEN = 1,  /* already applied: skip */
	KV_DEDUP_STALE = 2, /* too old to tell: skip */
};

typedef struct kv_dedup kv_dedup;

kv_dedup *kv_dedup_new(void);
void kv_dedup_free(kv_dedup *d);

/* Checks (origin, nonce, id) and records it when new. Returns a verdict, or
 * -1 on ENOMEM (nothing recorded). */
int kv_dedup_check(kv_dedup *d, uint32_t origin, uint64_t nonce, uint64_t id);

/* Snapshot support (kv_snapshot.c): the record is saved and restored window
 * by window, with the log-order stamps, so that a replica restored from a
 * snapshot reaches the same verdicts and evictions as one that replayed. */
#define KV_DEDUP_WORDS (KV_DEDUP_WINDOW / 64u)
typedef struct kv_dedup_window_state {
	uint32_t origin;
	uint64_t nonce;
	uint64_t high;
	uint64_t last_use;
	const uint64_t *bits; /* KV_DEDUP_WORDS words */
} kv_dedup_window_state;

uint64_t kv_dedup_stamp(const kv_dedup *d);
/* The newest boot nonce recorded for origin (0 = none): a node that lost its
 * data dir takes its next nonce above it (RT_NONCE_GENERATION in node/runtime/rt.h). */
uint64_t kv_dedup_newest_nonce(const kv_dedup *d, uint32_t origin);
size_t kv_dedup_window_count(const kv_dedup *d);
void kv_dedup_window_get(const kv_dedup *d, size_t i, kv_dedup_window_state *out);
/* On a fresh record: sets the stamp, then adds windows one by one. -1 when
 * the input cannot come from a real record (too many windows, an origin
 * twice, a use stamp after the record's stamp) or on ENOMEM. */
void kv_dedup_set_stamp(kv_dedup *d, uint64_t stamp);
int kv_dedup_window_add(kv_dedup *d, const kv_dedup_window_state *w);

#endif
