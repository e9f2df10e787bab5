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

#include "../common/files.h"
#include "../raft/raft.h"
#include "../runtime/rt_members.h"

#define META_MAX_BYTES (1u << 20)

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* {"node","cluster"} for a bootstrap member; {"node","join":true[,"peers"]}
 * for a node started with --join (peers once it has been added). */
static int write_meta(const char *dir, uint32_t node, const char *cluster, const char *peers,
		      char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	bool ok = o != NULL && cJSON_AddNumberToObject(o, "node", node) != NULL;
	if (ok && cluster != NULL)
		ok = cJSON_AddStringToObject(o, "cluster", cluster) != NULL;
	else if (ok)
		ok = cJSON_AddTrueToObject(o, "join") != NULL &&
		     (peers == NULL || cJSON_AddStringToObject(o, "peers", peers) != NULL);
	if (!ok || (text = cJSON_PrintUnformatted(o)) == NULL) {
		cJSON_Delete(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cJSON_Delete(o);
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (line == NULL) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	char why[400];
	int rc = files_write_atomic(dir, "meta.json", line, n + 1, why, sizeof why);
	free(line);
	if (rc != 0)
		snprintf(err, errlen, "data dir %s: %s", dir, why);
	return rc;
}

/* The member ids stored at first start must be the ones of --cluster now
 * (issue 10 item 7): until membership change exists, a different list could
 * let two disjoint majorities elect leaders. */
static int check_members(const char *path, const cJSON *stored, const char *cluster, char *err,
			 size_t errlen)
{
	uint32_t a[RAFT_MAX_NODES], b[RAFT_MAX_NODES];
	int na = cJSON_IsString(stored) ? rt_members_parse(stored->valuestring, a, RAFT_MAX_NODES) : -1;
	int nb = rt_members_parse(cluster, b, RAFT_MAX_NODES);
	if (na < 0) {
		snprintf(err, errlen, "%s is damaged (no valid \"cluster\"); refusing to start", path);
		return -1;
	}
	if (nb < 0) {
		snprintf(err, errlen, "--cluster does not parse");
		return -1;
	}
	char why[400];
	if (rt_members_check(a, (size_t)na, b, (size_t)nb, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

/* Reads meta.json; -1 with err when unreadable or unparsable, or when it
 * belongs to another node or another way of starting. */
static int check_meta(const char *path, uint32_t node, const char *cluster, char **peers,
		      char *err, size_t errlen)
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
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "join")) != (cluster == NULL)) {
		snprintf(err, errlen, cluster != NULL
			 ? "%s: this node joined its cluster with --join; start it with --join, not --cluster"
			 : "%s: this node is a bootstrap member (--cluster); start it with --cluster, not --join",
			 path);
		rc = -1;
	} else if (cluster != NULL) {
		rc = check_members(path, cJSON_GetObjectItemCaseSensitive(o, "cluster"), cluster, err, errlen);
	} else {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "peers");
		if (cJSON_IsString(p) && (*peers = strdup(p->valuestring)) == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	cJSON_Delete(o);
	return rc;
}

int meta_store_peers(const char *dir, uint32_t node, const char *peers, char *err, size_t errlen)
{
	return write_meta(dir, node, NULL, peers, err, errlen);
}

int meta_prepare(const char *dir, uint32_t node, const char *cluster, char **peers, int *lock_fd,
		 char *err, size_t errlen)
{
	*lock_fd = -1;
	*peers = NULL;
	char why[400];
	if (files_mkdir_p(dir, false, why, sizeof why) != 0) {
		snprintf(err, errlen, "data dir %s: %s", dir, why);
		return -1;
	}
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
		rc = check_meta(path, node, cluster, peers, err, errlen);
	else
		rc = write_meta(dir, node, cluster, NULL, err, errlen);
out:
	free(lock);
	free(path);
	return rc;
}
