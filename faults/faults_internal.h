/*
 * faults_internal.h — the state behind faults.h, shared by the files of
 * faults/ (one concern each: clock.c, filter.c, admin.c, parse.c, status.c,
 * faults.c). Nothing outside faults/ includes this.
 *
 * Expiry: every fault may carry an `until` (real ms; FAULT_FOREVER = no
 * expiry). It is checked lazily: every public function that receives a
 * real_ms first calls faults_expire(), which heals whatever is due. The node
 * reads its clock every tick, so a fault heals within one tick of its time.
 */
#ifndef RAFTKV_FAULTS_INTERNAL_H
#define RAFTKV_FAULTS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "faults.h"

#define FAULT_FOREVER UINT64_MAX

/* Upper bounds on numbers accepted from the admin API (about 11.5 days in
 * ms): large enough for any test, small enough that sums never overflow. */
#define FAULT_MAX_MS 1000000000ULL

typedef struct fault_idset {
	uint32_t *ids; /* malloc'd, n entries, unsorted (clusters are small) */
	size_t n;
} fault_idset;

bool idset_has(const fault_idset *s, uint32_t id);
void idset_free(fault_idset *s);

/*
 * The node clock is a piecewise-linear function of real time:
 *     node = anchor_node + rate * (real - anchor_real)   (+ strobe_delta on odd strobe periods)
 * Every change re-anchors at the current instant, so faults compose:
 * bump then skew means "jump, then run fast from there".
 */
typedef struct fault_clock {
	bool active;
	int64_t anchor_real;
	int64_t anchor_node;
	double rate;      /* node ms per real ms; 0 when frozen */
	bool frozen;
	bool strobe;
	int64_t strobe_delta;
	int64_t strobe_period;
	int64_t strobe_start; /* real ms */
	uint64_t until;
} fault_clock;

typedef struct fault_net {
	bool active;
	fault_idset drop_to;
	fault_idset drop_from;
	double drop_p;
	double dup_p;
	uint32_t delay_ms;
	uint32_t jitter_ms;
	uint64_t until;
} fault_net;

typedef struct fault_partition {
	bool active;
	fault_idset *groups; /* as given, for status */
	size_t n_groups;
	fault_idset mine;    /* the group holding self (just {self} if none does) */
	uint64_t until;
} fault_partition;

/* Read by faults_disk() from the WAL worker thread: atomics, relaxed. */
typedef struct fault_diskstate {
	bool active;
	atomic_bool fsync_off;
	atomic_uint delay_ms;
	uint64_t until;
} fault_diskstate;

struct faults {
	uint32_t self;
	uint32_t members[FAULTS_MAX_MEMBERS]; /* n_members == 0: not known, any id goes */
	size_t n_members;
	uint64_t rng;
	fault_clock clock;
	fault_net net;
	fault_partition part;
	fault_diskstate disk;
	struct {
		bool active;
		uint64_t until;
	} pause;
	struct {
		bool requested;
		bool lose_unsynced;
	} crash;
	fault_bugs bugs;
	atomic_bool bug_no_fsync; /* mirror of bugs.no_fsync for the WAL thread */
};

/* faults.c */
void faults_expire(faults *f, uint64_t real_ms);
/* Remaining ms of a fault for status: -1 = forever. */
int64_t faults_remaining(uint64_t until, uint64_t real_ms);
uint64_t faults_until(uint64_t real_ms, bool has_ms, uint64_t ms);

/* rng.c: splitmix64, deterministic from the seed given to faults_new. */
uint64_t rng_next(uint64_t *state);
double rng_unit(uint64_t *state); /* uniform in [0, 1) */

/* clock.c */
uint64_t clock_now(const fault_clock *c, uint64_t real_ms);
void clock_bump(fault_clock *c, uint64_t real_ms, int64_t offset_ms);
void clock_set_rate(fault_clock *c, uint64_t real_ms, double rate, bool frozen);
void clock_set_strobe(fault_clock *c, uint64_t real_ms, int64_t delta_ms, int64_t period_ms);
void clock_heal(fault_clock *c);
cJSON *clock_status(const fault_clock *c, uint64_t real_ms);

/* filter.c */
void net_heal(fault_net *n);
void partition_heal(fault_partition *p);
cJSON *net_status(const fault_net *n, uint64_t real_ms);
cJSON *partition_status(const fault_partition *p, uint64_t real_ms);

/* disk (faults.c) */
void disk_heal(fault_diskstate *d);

/* parse.c: typed field readers for admin bodies. Each returns 0 (with
 * *present false when the key is absent) or -1 with a sentence in err. */
int jp_parse_object(const char *body, size_t len, cJSON **out, char *err, size_t errlen);
/* 0 when every id of s is a member (faults_set_members), else -1 with err. */
int jp_check_members(const faults *f, const fault_idset *s, const char *what, char *err,
		     size_t errlen);
int jp_check_keys(const cJSON *o, const char *const *allowed, char *err, size_t errlen);
int jp_int(const cJSON *o, const char *key, int64_t min, int64_t max, bool *present,
	   int64_t *v, char *err, size_t errlen);
int jp_number(const cJSON *o, const char *key, double min, double max, bool *present,
	      double *v, char *err, size_t errlen);
int jp_bool(const cJSON *o, const char *key, bool *present, bool *v, char *err, size_t errlen);
int jp_idlist(const cJSON *item, const char *what, fault_idset *out, char *err, size_t errlen);

/* status.c */
cJSON *faults_status_obj(faults *f, uint64_t real_ms);
cJSON *faults_bugs_obj(const faults *f);
/* Adds "remaining_ms": n or null to o. 0 or -1 (ENOMEM). */
int status_add_remaining(cJSON *o, uint64_t until, uint64_t real_ms);

#endif
