/*
 * sim_disk.c — the page cache between the WAL and the simulated disk.
 *
 * The WAL knows what it wrote since its own last fsync (wal_drop_unsynced
 * cuts exactly that at a simulated power cut). It cannot know what an
 * earlier process wrote with fsync off and left in the page cache when it
 * was killed (kill -9 loses nothing by itself): that is why wal_open fsyncs
 * every segment (node/wal/wal_open.c). To let the simulator see whether it
 * did, the simulator links with --wrap=fdatasync,--wrap=fsync (Makefile):
 * every successful fsync of a file records the file's size then, and a
 * power cut (sim_disk_power_loss) cuts each segment back to its last fsynced
 * size and deletes those never fsynced. A WAL that left a segment unsynced
 * then finds records missing from an earlier segment and refuses to open,
 * which the simulator reports (planted WAL bug 1, the simulator's bug 41).
 *
 * Sizes are kept by path (read back through /proc/self/fd). A stale record
 * (a file deleted and made again under the same name) only makes the model
 * keep more than a real disk might: it never invents a loss.
 */
#include "sim_internal.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int __real_fdatasync(int fd);
int __real_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_fsync(int fd);

typedef struct synced_file {
	char *path;
	uint64_t size;
} synced_file;

static synced_file *files;
static size_t n_files, cap_files;

static synced_file *find(const char *path)
{
	for (size_t i = 0; i < n_files; i++)
		if (strcmp(files[i].path, path) == 0)
			return &files[i];
	return NULL;
}

/* Records fd's file as durable up to its current size. Out of memory: not
 * recorded, which only makes a later power cut cut more (reported then). */
static void note(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t l = readlink(link, path, sizeof path - 1);
	if (l <= 0)
		return;
	path[l] = '\0';
	size_t pl = (size_t)l;
	if (pl < 4 || strcmp(path + pl - 4, ".wal") != 0)
		return;
	synced_file *f = find(path);
	if (f == NULL) {
		if (n_files == cap_files) {
			size_t c = cap_files ? cap_files * 2 : 64;
			synced_file *t = realloc(files, c * sizeof *t);
			if (t == NULL)
				return;
			files = t;
			cap_files = c;
		}
		char *p = strdup(path);
		if (p == NULL)
			return;
		f = &files[n_files++];
		f->path = p;
	}
	f->size = (uint64_t)st.st_size;
}

int __wrap_fdatasync(int fd)
{
	int r = __real_fdatasync(fd);
	if (r == 0)
		note(fd);
	return r;
}

int __wrap_fsync(int fd)
{
	int r = __real_fsync(fd);
	if (r == 0)
		note(fd);
	return r;
}

void sim_disk_reset(void)
{
	for (size_t i = 0; i < n_files; i++)
		free(files[i].path);
	free(files);
	files = NULL;
	n_files = cap_files = 0;
}

int sim_disk_power_loss(sim *s, const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0; /* a wiped node: nothing there */
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".wal") != 0)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		const synced_file *f = find(path);
		if (f == NULL) {
			sim_trace(s, "power cut: %s was never fsynced: gone", de->d_name);
			if (unlink(path) != 0)
				rc = -1;
		} else if (f->size < (uint64_t)st.st_size) {
			sim_trace(s, "power cut: %s back to its fsynced %llu of %llu bytes", de->d_name,
				  (unsigned long long)f->size, (unsigned long long)st.st_size);
			if (truncate(path, (off_t)f->size) != 0)
				rc = -1;
		}
	}
	closedir(d);
	return rc;
}
