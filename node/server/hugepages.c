/*
 * hugepages.c — the node's heap merged into transparent huge pages (see
 * hugepages.h).
 *
 * Why: a snapshot is written by a forked child (node/snapshot/snapshot_fork.c),
 * and fork() copies the parent's page tables while the loop waits. With a
 * 1,000,000-key map (~350 MB) that is ~90,000 page-table entries of 4 KiB
 * pages, copied in one call on the loop thread (32-112 ms measured in `make
 * bench-snapshot` at load 17-23). Mapped by 2 MiB pages the same heap is
 * ~180 entries. A write to a huge page shared with the child splits it and
 * copies only the 4 KiB touched, so the copy-on-write cost while the child
 * runs is unchanged; the split pages are merged again once it has exited.
 *
 * How: madvise(MADV_COLLAPSE) on the heap, 2 MiB at a time, on a threadpool
 * worker (server_snap.c): after each snapshot writer exits, and whenever the
 * heap has grown by a good deal since the last merge. It copies each range
 * into a fresh huge page, whatever the system's THP setting short of
 * "never". Not chosen: glibc's malloc tunable glibc.malloc.hugetlb=1 (read
 * only from the environment at start-up: a re-exec) backs every mmap'd
 * allocation with huge pages too; loading 1M keys in 600 KB transactions
 * took 19-25 s with it against 14-17 s without (3 runs each).
 */
#include "hugepages.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1; older kernels answer EINVAL */
#endif
#define HUGE ((uintptr_t)2 << 20)

/* "[never]" in the kernel's setting: no huge pages whatever we ask. */
static bool thp_never(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL)
		return true; /* no THP support in this kernel */
	char line[128];
	bool never = fgets(line, sizeof line, f) == NULL || strstr(line, "[never]") != NULL;
	(void)fclose(f);
	return never;
}

bool hugepages_enabled(void)
{
	const char *off = getenv("RAFTKV_NO_HUGEPAGES");
	if (off != NULL && off[0] != '\0')
		return false;
	return !thp_never();
}

/* The main heap's range: where the loop's allocations (the map, the log)
 * live. Other arenas (worker threads) and big mmap'd values are small or
 * few next to it. The heap shows as several [heap] lines: glibc's madvise
 * gives the parts it asked huge pages for their own mapping. */
static int heap_range(uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return -1;
	char line[512];
	int rc = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, "[heap]") == NULL)
			continue;
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx", &a, &b) != 2)
			continue;
		if (rc != 0 || (uintptr_t)a < *lo)
			*lo = (uintptr_t)a;
		if (rc != 0 || (uintptr_t)b > *hi)
			*hi = (uintptr_t)b;
		rc = 0;
	}
	(void)fclose(f);
	return rc;
}

long hugepages_collapse(const atomic_bool *stop)
{
	uintptr_t lo, hi;
	if (heap_range(&lo, &hi) != 0)
		return 0;
	lo = (lo + HUGE - 1) & ~(HUGE - 1);
	hi &= ~(HUGE - 1);
	long done = 0, steps = 0, invalid = 0;
	/* One step holds the heap's mapping lock while it copies 2 MiB, and
	 * the loop's page faults wait for it: short steps, apart. */
	const struct timespec pause = {.tv_sec = 0, .tv_nsec = 2 * 1000 * 1000};
	for (uintptr_t p = lo; p + HUGE <= hi && !atomic_load(stop); p += HUGE) {
		steps++;
		if (madvise((void *)p, HUGE, MADV_COLLAPSE) == 0)
			done++;
		else if (errno == EINVAL)
			invalid++; /* a step across two of the heap's mappings, or no MADV_COLLAPSE */
		/* other errors (ENOMEM: the heap shrank; EAGAIN): next step */
		(void)nanosleep(&pause, NULL);
	}
	return done == 0 && steps > 1 && invalid == steps ? -1 : done;
}

uintptr_t hugepages_heap_end(void)
{
	void *b = sbrk(0); /* glibc answers from its own record: no system call */
	return b == (void *)-1 ? 0 : (uintptr_t)b;
}
