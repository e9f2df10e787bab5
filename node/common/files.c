/* files.c — shared file helpers (see files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int files_fsync_path(const char *path, int flags)
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

/* fsyncs the directory holding path p (which is modified and restored). */
static int fsync_parent(char *p)
{
	char *slash = strrchr(p, '/');
	if (slash == NULL)
		return files_fsync_path(".", O_RDONLY | O_DIRECTORY);
	if (slash == p)
		return files_fsync_path("/", O_RDONLY | O_DIRECTORY);
	*slash = '\0';
	int rc = files_fsync_path(p, O_RDONLY | O_DIRECTORY);
	*slash = '/';
	return rc;
}

int files_mkdir_p(const char *dir, bool durable, char *err, size_t errlen)
{
	if (dir[0] == '\0') {
		snprintf(err, errlen, "empty directory name");
		return -1;
	}
	char *p = strdup(dir);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t len = strlen(p);
	/* Each component in turn: "a", "a/b", "a/b/c". */
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		if (p[i - 1] == '/')
			continue; /* "//" */
		char saved = p[i];
		p[i] = '\0';
		if (mkdir(p, 0755) == 0) {
			if (durable && fsync_parent(p) != 0) {
				snprintf(err, errlen, "cannot fsync the parent of %s: %s", p, strerror(errno));
				free(p);
				return -1;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		p[i] = saved;
	}
	free(p);
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	return 0;
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

static char *join(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s%s", dir, name, suffix);
	return p;
}

int files_write_atomic(const char *dir, const char *name, const void *data, size_t len,
		       char *err, size_t errlen)
{
	int rc = -1;
	char *tmp = join(dir, name, ".tmp"), *path = join(dir, name, "");
	if (tmp == NULL || path == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	int wrc = write_all(fd, data, len);
	if (wrc == 0)
		wrc = fsync(fd);
	int saved = errno;
	if (close(fd) != 0 && wrc == 0) {
		wrc = -1;
		saved = errno;
	}
	if (wrc != 0) {
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(saved));
		goto out;
	}
	if (rename(tmp, path) != 0 || files_fsync_path(dir, O_RDONLY | O_DIRECTORY) != 0) {
		snprintf(err, errlen, "installing %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}
