/* rt_incarnation_file.c — DIR/INCARNATION (see rt_incarnation_file.h). */
#include "rt_incarnation_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/files.h"

int inc_file_load(const char *dir, bool *found, uint64_t *inc, char *err, size_t errlen)
{
	size_t n = strlen(dir) + sizeof "/INCARNATION";
	char *path = malloc(n);
	if (path == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(path, n, "%s/INCARNATION", dir);
	*found = false;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;
		if (e == ENOENT) {
			free(path);
			return 0;
		}
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		free(path);
		return -1;
	}
	char buf[32] = "";
	size_t got = fread(buf, 1, sizeof buf - 1, f);
	int bad = ferror(f);
	fclose(f);
	buf[got] = '\0';
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (bad || got == 0 || buf[0] < '0' || buf[0] > '9' || errno != 0 ||
	    (*end != '\n' && *end != '\0')) {
		snprintf(err, errlen, "%s is damaged (not an incarnation); refusing to start", path);
		free(path);
		return -1;
	}
	free(path);
	*found = true;
	*inc = v;
	return 0;
}

int inc_file_store(const char *dir, uint64_t inc, char *err, size_t errlen)
{
	char line[32];
	int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)inc);
	char why[400];
	if (files_write_atomic(dir, "INCARNATION", line, (size_t)len, why, sizeof why) != 0) {
		snprintf(err, errlen, "incarnation: %s", why);
		return -1;
	}
	return 0;
}
