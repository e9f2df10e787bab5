/* history.c — JSON Lines history writer (see history.h). */
#include "history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum { HISTORY_BUF = 1 << 20 };

int history_open(wl_history *h, const char *path)
{
	memset(h, 0, sizeof *h);
	if (path == NULL)
		return 0;
	h->f = fopen(path, "w");
	if (h->f == NULL) {
		fprintf(stderr, "raftkv-workload: cannot write history %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	h->buf = malloc(HISTORY_BUF);
	if (h->buf != NULL && setvbuf(h->f, h->buf, _IOFBF, HISTORY_BUF) != 0) {
		free(h->buf);
		h->buf = NULL;
	}
	return 0;
}

int history_event(wl_history *h, int process, const char *type, int f,
		  const char *key, const cJSON *value, uint64_t time, int node,
		  const wl_result *r)
{
	if (h->f == NULL)
		return 0;
	/* cJSON escapes strings correctly; the field order follows the contract's
	 * example so that a person can read the file. */
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return -1;
	int bad = 0;
	bad |= cJSON_AddNumberToObject(o, "process", process) == NULL;
	bad |= cJSON_AddStringToObject(o, "type", type) == NULL;
	bad |= cJSON_AddStringToObject(o, "f", wl_f_name[f]) == NULL;
	bad |= cJSON_AddStringToObject(o, "key", key) == NULL;
	cJSON *v = value ? cJSON_Duplicate(value, 1) : cJSON_CreateNull();
	bad |= v == NULL || !cJSON_AddItemToObject(o, "value", v);
	/* cJSON numbers are doubles: exact up to 2^53 ns, i.e. about 104 days. */
	bad |= cJSON_AddNumberToObject(o, "time", (double)time) == NULL;
	bad |= cJSON_AddNumberToObject(o, "node", node) == NULL;
	if (r != NULL && r->error != NULL)
		bad |= cJSON_AddStringToObject(o, "error", r->error) == NULL;
	if (r != NULL && r->current != NULL) {
		cJSON *c = cJSON_Duplicate(r->current, 1);
		bad |= c == NULL || !cJSON_AddItemToObject(o, "current", c);
	}
	char *line = bad ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (line == NULL)
		return -1;
	int rc = fputs(line, h->f) < 0 || fputc('\n', h->f) == EOF ? -1 : 0;
	free(line);
	h->events++;
	return rc;
}

int history_close(wl_history *h)
{
	int rc = 0;
	if (h->f != NULL) {
		if (ferror(h->f))
			rc = -1;
		if (fclose(h->f) != 0)
			rc = -1;
	}
	free(h->buf);
	memset(h, 0, sizeof *h);
	return rc;
}
