/*
 * test_rt_stubs.h — the parts of a fixture I/O table (node/runtime/rt_io.h)
 * that the runtime unit tests do not look at: sends dropped, no deferred
 * work, no kick, and a fatal error fails the test. Each test keeps its own
 * write, clock and outcome callbacks, which are what it asserts on.
 * Include after <cmocka.h> and rt.h.
 */
#ifndef TEST_RT_STUBS_H
#define TEST_RT_STUBS_H

static inline void rt_stub_send_drop(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	(void)ud;
	(void)to;
	(void)len;
	free(frame);
}

/* -1: the runtime then does the work at once (no timer in the fixture). */
static inline int rt_stub_defer(void *ud, uint32_t ms, rt_deferred *d)
{
	(void)ud;
	(void)ms;
	(void)d;
	return -1;
}

static inline void rt_stub_kick(void *ud)
{
	(void)ud;
}

static inline void rt_stub_fatal(void *ud, const char *what)
{
	(void)ud;
	fail_msg("runtime fatal: %s", what);
}

#endif
