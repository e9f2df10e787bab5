/*
 * loop_stall.h — why the loop stalled (issue 15.4): a tick period much
 * longer than tick_ms is a loop that ran long (busy), one that was runnable
 * but got no CPU (starved: the machine's other work), or one that waited in
 * a system call (blocked: disk, paging). Raft needs the answer: a stall of
 * half an election timeout on a leader is how followers come to campaign.
 *
 * The loop thread's CPU time and run-queue wait come from
 * /proc/thread-self/schedstat (kernel's sched_info: "run_ns wait_ns
 * slices"), read with one pread per tick; where that file is missing the
 * CPU time comes from CLOCK_THREAD_CPUTIME_ID and the wait is unknown
 * (counted as blocked).
 */
#ifndef RAFTKV_SERVER_LOOP_STALL_H
#define RAFTKV_SERVER_LOOP_STALL_H

#include <stdbool.h>
#include <stdint.h>

enum stall_cause { STALL_BUSY, STALL_STARVED, STALL_BLOCKED };

typedef struct loop_stall {
	int fd;              /* /proc/thread-self/schedstat of the loop thread, or -1 */
	bool have;           /* run_ns/wait_ns hold the previous tick's sample */
	uint64_t run_ns, wait_ns;
	uint64_t counts[3];  /* stalls by cause (enum stall_cause) */
	uint64_t last_notice_ms;
} loop_stall;

/* Call on the loop thread (the file is that thread's). Never fails: without
 * the file it falls back as said above. */
void loop_stall_init(loop_stall *ls);
void loop_stall_close(loop_stall *ls);

/* The cause of a stall of period_ms in which the thread ran run_ms and
 * waited for a CPU wait_ms: whichever of the three took most of it. */
enum stall_cause loop_stall_classify(uint64_t period_ms, uint64_t run_ms, uint64_t wait_ms);
const char *loop_stall_cause_name(enum stall_cause c);

/* The first two numbers of a schedstat line ("run_ns wait_ns slices"):
 * true and both set, or false (not that shape, or a number over 64 bits).
 * By hand, not sscanf: this runs every tick on every node, and sscanf cost
 * ~1,800 instructions a call (callgrind: a third of an idle node's). */
bool loop_stall_parse(const char *buf, uint64_t *run_ns, uint64_t *wait_ns);

/* Once per tick, on the loop thread: takes a sample and, when period_ms is
 * at least threshold_ms, counts the stall by its cause and (at most once a
 * second, by now_ms) logs a line with the figures. */
void loop_stall_tick(loop_stall *ls, uint64_t now_ms, uint64_t period_ms, uint64_t threshold_ms);

#endif
