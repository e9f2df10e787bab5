/* rt_boot.c — the durable boot counter (see rt_boot.h). */
#include "rt_boot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/files.h"

int rt_boot_next(const char *dir, uint64_t *nonce, char *err, size_t errlen)
{
	return rt_boot_raise(dir, 0, nonce, err, errlen);
}

int rt_boot_raise(const char *dir, uint64_t at_least, uint64_t *nonce, char *err, size_t errlen)
{
	size_t n = strlen(dir) + 6;
	char *path = malloc(n);
	if (path == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(path, n, "%s/BOOT", dir);
	uint64_t last = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL && errno != ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (f != NULL) {
		char buf[32] = "";
		size_t got = fread(buf, 1, sizeof buf - 1, f);
		int bad = ferror(f);
		fclose(f);
		buf[got] = '\0';
		char *end;
		errno = 0;
		unsigned long long v = strtoull(buf, &end, 10);
		bool digits = got > 0 && buf[0] >= '0' && buf[0] <= '9'; /* strtoull takes "-3" */
		if (bad || !digits || end == buf || errno != 0 || (*end != '\n' && *end != '\0') ||
		    v == UINT64_MAX) {
			snprintf(err, errlen, "%s is damaged (not a boot count); refusing to start", path);
			free(path);
			return -1;
		}
		last = v;
	}
	free(path);
	uint64_t next = last + 1 > at_least ? last + 1 : at_least;
	char line[32];
	int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)next);
	char why[400];
	if (files_write_atomic(dir, "BOOT", line, (size_t)len, why, sizeof why) != 0) {
		snprintf(err, errlen, "boot counter: %s", why);
		return -1;
	}
	*nonce = next;
	return 0;
}
