/*
 * faults.h — the fault layer every peer message, timer reading and disk
 * write of a node passes through. The node (node/server) owns one `faults`
 * and consults it at exactly these points:
 *
 *   - faults_clock_ms():   the node's clock. Every tick, timeout, lease and
 *                          timestamp is derived from it (never from uv_now or
 *                          clock_gettime directly), so bump/skew/freeze/strobe
 *                          bend all of them at once.
 *   - faults_filter_msg(): one call per peer message, outbound and inbound.
 *   - faults_disk():       before each WAL write (fsync on/off, added latency).
 *   - faults_paused():     while true the node processes no Raft or client work.
 *
 * The admin API (/admin/faults/NAME, /admin/bugs) is parsed here too, so the node
 * only routes requests. All functions are called on the event-loop thread,
 * except faults_disk() which may be called from the WAL worker (it only reads
 * plain words; a torn read of a just-changed setting is harmless).
 */
#ifndef RAFTKV_FAULTS_H
#define RAFTKV_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct faults faults;

enum fault_dir { FAULT_OUT = 0, FAULT_IN = 1 };

typedef struct fault_verdict {
	bool drop;         /* discard the message */
	uint32_t delay_ms; /* deliver after this many (node-clock-independent, real) ms */
	int copies;        /* 1 normally; 2 when duplicated */
} fault_verdict;

typedef struct fault_disk {
	bool fsync;        /* false: write without fsync (fault or no_fsync bug) */
	uint32_t delay_ms; /* added latency per write */
} fault_disk;

typedef struct fault_bugs {
	bool stale_reads;
	bool lease_reads;
	bool no_fsync;
	bool ack_before_commit;
} fault_bugs;

/* self = this node's id; seed feeds the drop/duplicate/jitter PRNG. */
faults *faults_new(uint32_t self, uint64_t seed);
/* The cluster's node ids: from then on a partition or net body naming any
 * other id is refused with 400 (a typo would otherwise be a silent no-op).
 * Until called, any id is accepted. 0, or -1 when n > FAULTS_MAX_MEMBERS. */
#define FAULTS_MAX_MEMBERS 64
int faults_set_members(faults *f, const uint32_t *ids, size_t n);
void faults_free(faults *f);

/* real_ms: a real monotonic reading in ms. Returns the node's clock in ms.
 * Without a clock fault this is real_ms itself. A bump, a strobe, and the
 * heal of any clock fault (which returns the clock to real time at once)
 * can step it backwards: callers must tolerate a clock that goes back.
 * Every function taking real_ms also heals faults whose "ms" has run out. */
uint64_t faults_clock_ms(faults *f, uint64_t real_ms);

/* Partition and drop_to (OUT) / drop_from (IN) drop; drop_probability,
 * delay (delay_ms + uniform [0, jitter_ms]) and duplication apply in both
 * directions. Random draws come from the seeded PRNG only. */
fault_verdict faults_filter_msg(faults *f, enum fault_dir dir, uint32_t peer, uint64_t real_ms);
/* Safe from the WAL thread. A disk fault whose "ms" ran out is cleared by the
 * next faults_clock_ms()/faults_paused() call on the loop (every tick). */
fault_disk faults_disk(const faults *f);
bool faults_paused(faults *f, uint64_t real_ms);
fault_bugs faults_bugs_get(const faults *f);

/* Crash request pending? (set by POST /admin/faults/crash; the node acts on it) */
bool faults_crash_requested(const faults *f, bool *lose_unsynced);

/*
 * Handles POST /admin/faults/<name>, DELETE /admin/faults, POST /admin/bugs,
 * DELETE /admin/bugs. name is the path part after /admin/faults/ (or "" for
 * the collection, "bugs" for /admin/bugs). Returns the HTTP status and a
 * malloc'd JSON body in *resp (caller frees; NULL only when out of memory,
 * with status 500). Also: GET /admin/faults and GET /admin/bugs read the
 * state, DELETE /admin/faults/<fault> heals one fault. Fault replies are
 * {"faults":{...}}, bug replies {"bugs":{...}}; errors 400/404/405 carry
 * {"error","detail"}. A rejected body changes nothing.
 */
int faults_admin(faults *f, const char *method, const char *name, const char *body,
		 size_t len, uint64_t real_ms, char **resp);

/* Malloc'd JSON objects for /admin/status: {"faults":...} and {"bugs":...} parts. */
char *faults_status_json(faults *f, uint64_t real_ms);
char *faults_bugs_json(const faults *f);

#endif
