/* log.c — one line per event on stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static uint32_t node_id;
static int node_known;

void log_set_node(uint32_t id)
{
	node_id = id;
	node_known = 1;
}

void log_info(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	/* vsnprintf truncates a long line rather than overflow: a log line is
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
