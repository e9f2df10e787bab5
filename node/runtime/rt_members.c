/* rt_members.c — the restart check of the member list (see rt_members.h). */
#include "rt_members.h"
#include "rt_planted.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* "0,1,2" into buf (truncated with "..." if it does not fit). */
static void list(const uint32_t *ids, size_t n, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++) {
		int w = snprintf(buf + k, len - k, "%s%u", i ? "," : "", ids[i]);
		if (w < 0 || (size_t)w >= len - k) {
			if (len >= 4)
				memcpy(buf + len - 4, "...", 4);
			return;
		}
		k += (size_t)w;
	}
}

#ifdef RAFT_PLANTED_BUGS
int rt_members_planted_bug;
#endif

int rt_members_check(const uint32_t *stored, size_t n_stored, const uint32_t *given, size_t n_given,
		     char *err, size_t errlen)
{
#ifdef RAFT_PLANTED_BUGS
	if (rt_members_planted_bug == RT_BUG_MEMBERS_UNCHECKED)
		return 0; /* planted: the list is stored but not checked */
#endif
	bool same = n_stored == n_given;
	for (size_t i = 0; same && i < n_given; i++)
		same = has(stored, n_stored, given[i]);
	if (same)
		return 0;
	char a[160], b[160];
	list(stored, n_stored, a, sizeof a);
	list(given, n_given, b, sizeof b);
	snprintf(err, errlen,
		 "the data dir was created for members %s but --cluster names %s; refusing to start "
		 "(a different member list could elect two leaders)", a, b);
	return -1;
}

int rt_members_parse(const char *cluster, uint32_t *ids, size_t max)
{
	size_t n = 0;
	const char *p = cluster;
	while (*p != '\0') {
		char *end;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || errno != 0 || v > UINT32_MAX || *end != ',' || n == max)
			return -1;
		ids[n++] = (uint32_t)v;
		p = strchr(end, ';');
		if (p == NULL)
			break;
		p++;
	}
	return (int)n;
}
