/* notice.c — one line per event on stderr (see notice.h). */
#include "notice.h"

#include <stdarg.h>
#include <stdio.h>

static uint32_t node_id;
static int node_known;

void notice_set_node(uint32_t id)
{
	node_id = id;
	node_known = 1;
}

void notice(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	/* vsnprintf truncates a long line rather than overflow: a line is
	 * for people, losing its tail is acceptable. */
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (node_known)
		fprintf(stderr, "raftkv[%u]: %s\n", node_id, line);
	else
		fprintf(stderr, "raftkv: %s\n", line);
}
