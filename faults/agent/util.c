/* util.c — the agent's logging, JSON replies and small path helpers. */
#include "agent.h"
#include "../../node/common/splitmix.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Writes all of buf, retrying short writes and EINTR. */
static void write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report a failing log */
		}
		buf += w;
		n -= (size_t)w;
	}
}

/* One line, to the agent's stderr and into the node log, so whoever reads
 * the node's log sees the kills and restarts between its lines. */
void agent_log(agent *a, const char *fmt, ...)
{
	char *msg = NULL, *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	struct timespec ts;
	struct tm tm;
	char when[32] = "";
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	n = asprintf(&line, "%s.%03ldZ raftkv-agent: %s\n", when, ts.tv_nsec / 1000000, msg);
	free(msg);
	if (n < 0)
		return;
	write_all(STDERR_FILENO, line, (size_t)n);
	if (a->log_fd >= 0)
		write_all(a->log_fd, line, (size_t)n);
	free(line);
}

void reply_json(http_request *req, int code, cJSON *obj)
{
	char *s = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	if (s == NULL) {
		static const char oom[] = "{\"error\":\"internal error\",\"detail\":\"out of memory\"}";
		http_respond(req, 500, NULL, oom, sizeof oom - 1);
		return;
	}
	http_respond(req, code, NULL, s, strlen(s));
	free(s);
}

static char *verror_json(const char *error, const char *fmt, va_list ap)
{
	char *detail = NULL;
	if (vasprintf(&detail, fmt, ap) < 0)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	if (cJSON_AddStringToObject(o, "error", error) != NULL &&
	    cJSON_AddStringToObject(o, "detail", detail) != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(detail);
	return s;
}

char *error_json(const char *error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = verror_json(error, fmt, ap);
	va_end(ap);
	return s;
}

void reply_error(http_request *req, int code, const char *error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = verror_json(error, fmt, ap);
	va_end(ap);
	if (s == NULL) {
		static const char oom[] = "{\"error\":\"internal error\",\"detail\":\"out of memory\"}";
		http_respond(req, 500, NULL, oom, sizeof oom - 1);
		return;
	}
	http_respond(req, code, NULL, s, strlen(s));
	free(s);
}

char *path_join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* splitmix64; seeded from the clock and pid at start-up. Only chooses
 * where a bit flip lands, so quality needs are modest. */
uint64_t agent_rand(agent *a)
{
	return splitmix64_next(&a->rng);
}
