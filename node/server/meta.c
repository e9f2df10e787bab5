/* meta.c — data directory preparation: mkdir -p, lock, meta.json (see meta.h). */
#include "meta.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAX_BYTES (1u << 20)

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char *path = strdup(dir);
	if (path == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "data dir %s: cannot create %s: %s", dir, path, strerror(errno));
			rc = -1;
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(path);
	return rc;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	if (close(fd) != 0 && rc == 0)
		return -1;
	errno = saved;
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_meta(const char *dir, const char *path, uint32_t node, const char *cluster,
		      char *err, size_t errlen)
{
	int rc = -1;
	char *tmp = join(dir, "meta.json.tmp");
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (tmp == NULL || o == NULL || cJSON_AddNumberToObject(o, "node", node) == NULL ||
	    cJSON_AddStringToObject(o, "cluster", cluster) == NULL ||
	    (text = cJSON_PrintUnformatted(o)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "data dir %s is not writable: %s", dir, strerror(errno));
		goto out;
	}
	int wrc = write_all(fd, text, strlen(text));
	if (wrc == 0)
		wrc = write_all(fd, "\n", 1);
	if (wrc == 0)
		wrc = fsync(fd);
	int saved = errno;
	if (close(fd) != 0 && wrc == 0) {
		wrc = -1;
		saved = errno;
	}
	if (wrc != 0) {
		snprintf(err, errlen, "data dir %s: writing meta.json: %s", dir, strerror(saved));
		goto out;
	}
	if (rename(tmp, path) != 0 || fsync_path(dir, O_RDONLY | O_DIRECTORY) != 0) {
		snprintf(err, errlen, "data dir %s: installing meta.json: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(text);
	cJSON_Delete(o);
	free(tmp);
	return rc;
}

/* Reads meta.json; -1 with err when unreadable or unparsable. */
static int check_meta(const char *path, uint32_t node, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(META_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, META_MAX_BYTES, fp) : 0;
	int rerr = ferror(fp);
	if (fclose(fp) != 0)
		rerr = 1;
	if (buf == NULL || rerr) {
		free(buf);
		snprintf(err, errlen, "cannot read %s", path);
		return -1;
	}
	buf[n] = '\0';
	cJSON *o = cJSON_ParseWithLength(buf, n);
	free(buf);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "node");
	int rc = 0;
	if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= 4294967295.0) {
		snprintf(err, errlen, "%s is damaged (no valid \"node\"); refusing to start", path);
		rc = -1;
	} else if ((uint32_t)id->valuedouble != node) {
		snprintf(err, errlen, "%s belongs to node %u, not --node %u; refusing to start",
			 path, (uint32_t)id->valuedouble, node);
		rc = -1;
	}
	cJSON_Delete(o);
	return rc;
}

int meta_prepare(const char *dir, uint32_t node, const char *cluster, int *lock_fd,
		 char *err, size_t errlen)
{
	*lock_fd = -1;
	if (mkdir_p(dir, err, errlen) != 0)
		return -1;
	char *lock = join(dir, "LOCK");
	char *path = join(dir, "meta.json");
	int rc = -1;
	if (lock == NULL || path == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "data dir %s is not writable: %s", dir, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "data dir %s is in use by another process", dir);
		(void)close(fd); /* already failing; nothing more to report */
		goto out;
	}
	*lock_fd = fd;
	if (access(path, F_OK) == 0)
		rc = check_meta(path, node, err, errlen);
	else
		rc = write_meta(dir, path, node, cluster, err, errlen);
out:
	free(lock);
	free(path);
	return rc;
}
