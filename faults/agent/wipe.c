/*
 * wipe.c — POST /agent/wipe: empty the stopped node's data dir, so the node
 * starts blank and must catch up from its peers. The directory itself stays
 * (the node expects to be able to create files in it), and so does the log
 * file when it lives inside (it is the record of what happened, and the
 * agent holds it open).
 */
#include "agent.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw passes no user pointer, so the walk's state is a file-level static;
 * the agent is single-threaded and runs one wipe at a time. */
static struct {
	bool have_log;
	dev_t log_dev;
	ino_t log_ino;
	size_t removed;
	int err;
	char err_path[256];
} W;

static int wipe_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	if (ftw->level == 0)
		return 0;
	if (W.have_log && type == FTW_F && sb->st_dev == W.log_dev && sb->st_ino == W.log_ino)
		return 0;
	int rc = (type == FTW_DP || type == FTW_DNR) ? rmdir(path) : unlink(path);
	if (rc != 0) {
		/* A directory that still holds the log file is expected to stay. */
		if (type == FTW_DP && (errno == ENOTEMPTY || errno == EEXIST) && W.have_log)
			return 0;
		if (W.err == 0) {
			W.err = errno;
			snprintf(W.err_path, sizeof W.err_path, "%s", path);
		}
		return 0; /* keep going: remove as much as possible */
	}
	W.removed++;
	return 0;
}

int agent_wipe(agent *a, char **out)
{
	memset(&W, 0, sizeof W);
	struct stat st;
	if (a->log_fd >= 0 && fstat(a->log_fd, &st) == 0) {
		W.have_log = true;
		W.log_dev = st.st_dev;
		W.log_ino = st.st_ino;
	}
	if (nftw(a->data_dir, wipe_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0 &&
	    errno != ENOENT) {
		*out = error_json("wipe failed", "walking %s: %s", a->data_dir, strerror(errno));
		return 500;
	}
	char err[512];
	if (files_mkdir_p(a->data_dir, false, err, sizeof err) != 0) {
		*out = error_json("wipe failed", "%s", err);
		return 500;
	}
	if (W.err != 0) {
		*out = error_json("wipe failed", "removing %s: %s (%zu entries removed)", W.err_path,
				  strerror(W.err), W.removed);
		return 500;
	}
	agent_log(a, "wiped %s (%zu entries removed)", a->data_dir, W.removed);
	cJSON *o = cJSON_CreateObject();
	if (cJSON_AddStringToObject(o, "data_dir", a->data_dir) == NULL ||
	    cJSON_AddNumberToObject(o, "removed", (double)W.removed) == NULL) {
		cJSON_Delete(o);
		*out = NULL;
		return 500;
	}
	*out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return 200;
}
