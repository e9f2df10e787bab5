/* loop_stall.c — stall attribution for the loop thread (see loop_stall.h). */
#include "loop_stall.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "notice.h"

void loop_stall_init(loop_stall *ls)
{
	*ls = (loop_stall){ .fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC) };
}

void loop_stall_close(loop_stall *ls)
{
	if (ls->fd >= 0)
		(void)close(ls->fd); /* read-only proc file: nothing to lose */
	ls->fd = -1;
	ls->have = false;
}

/* One decimal u64 at *p, moved past it; false if none or over UINT64_MAX. */
static bool parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

bool loop_stall_parse(const char *buf, uint64_t *run_ns, uint64_t *wait_ns)
{
	const char *p = buf;
	uint64_t run, wait;
	if (!parse_u64(&p, &run) || (*p != ' ' && *p != '\t'))
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!parse_u64(&p, &wait))
		return false;
	*run_ns = run;
	*wait_ns = wait;
	return true;
}

/* run and wait of the loop thread so far, in ns; false if unknown. */
static bool sample(loop_stall *ls, uint64_t *run_ns, uint64_t *wait_ns)
{
	if (ls->fd >= 0) {
		char buf[128];
		ssize_t n = pread(ls->fd, buf, sizeof buf - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			if (loop_stall_parse(buf, run_ns, wait_ns))
				return true;
		}
	}
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return false;
	*run_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	*wait_ns = 0;
	return true;
}

enum stall_cause loop_stall_classify(uint64_t period_ms, uint64_t run_ms, uint64_t wait_ms)
{
	uint64_t rest = period_ms > run_ms + wait_ms ? period_ms - run_ms - wait_ms : 0;
	if (wait_ms >= run_ms && wait_ms >= rest)
		return STALL_STARVED;
	if (run_ms >= rest)
		return STALL_BUSY;
	return STALL_BLOCKED;
}

const char *loop_stall_cause_name(enum stall_cause c)
{
	switch (c) {
	case STALL_BUSY:
		return "busy";
	case STALL_STARVED:
		return "starved";
	default:
		return "blocked";
	}
}

void loop_stall_tick(loop_stall *ls, uint64_t now_ms, uint64_t period_ms, uint64_t threshold_ms)
{
	uint64_t run = 0, wait = 0;
	bool ok = sample(ls, &run, &wait);
	if (ok && ls->have && period_ms >= threshold_ms) {
		uint64_t run_ms = run >= ls->run_ns ? (run - ls->run_ns) / 1000000u : 0;
		uint64_t wait_ms = wait >= ls->wait_ns ? (wait - ls->wait_ns) / 1000000u : 0;
		enum stall_cause c = loop_stall_classify(period_ms, run_ms, wait_ms);
		ls->counts[c]++;
		if (ls->last_notice_ms == 0 || now_ms - ls->last_notice_ms >= 1000) {
			ls->last_notice_ms = now_ms;
			notice("loop stalled %" PRIu64 " ms (%s): ran %" PRIu64 " ms, waited for a CPU %" PRIu64
			       " ms%s",
			       period_ms, loop_stall_cause_name(c), run_ms, wait_ms,
			       ls->fd >= 0 ? "" : " (no schedstat: wait unknown)");
		}
	}
	ls->have = ok;
	if (ok) {
		ls->run_ns = run;
		ls->wait_ns = wait;
	}
}
