/*
 * corrupt.c — POST /agent/corrupt: damage the stopped node's files so a test
 * can prove that checksums catch it.
 *
 *   {"target":"wal"|"snapshot"|"meta", "mode":"bitflip"|"truncate",
 *    "count":n, "where":"middle"|"tail"|"random", "seed":s}
 *
 * bitflip flips n distinct bits (default 1). In the WAL it only touches
 * record bytes, never a segment header (node/wal/FORMAT.md: 32-byte segment
 * header, then records [len u32][crc u32][type u8][3 reserved][payload]):
 *   middle (default)  inside the payload of a record in the middle of the
 *                     whole log, followed by valid records: the node must
 *                     refuse to start;
 *   tail              inside the payload of the very last record: a torn
 *                     tail, which the node must cut;
 *   random            anywhere in any record, header included.
 * For meta.json and snapshot files "middle"/"tail"/"random" place the bits at
 * the file's midpoint, end, or anywhere.
 * truncate cuts n bytes (default 1) off the end of the newest file (for the
 * WAL the newest segment, never into its header); only "tail" makes sense.
 * The reply lists every change made, so a failing test can say what it did.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAL_SEG_HDR 32
#define WAL_REC_HDR 12
#define MAX_BITS 4096

typedef struct strlist {
	char **v;
	size_t n, cap;
} strlist;

static void strlist_free(strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int strlist_push(strlist *l, char *s)
{
	if (s == NULL)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof *v);
		if (v == NULL) {
			free(s);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Regular files in dir accepted by keep(name), full paths, sorted.
 * Directories accepted by keep are searched one level down (snapshots may
 * live in a directory of their own). 0, or -1 on ENOMEM. A missing dir is
 * an empty list. */
static int list_files(const char *dir, bool (*keep)(const char *name), bool descend,
		      strlist *out)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !keep(e->d_name))
			continue;
		char *p = path_join(dir, e->d_name);
		if (p == NULL) {
			rc = -1;
			break;
		}
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && descend) {
			rc = list_files(p, keep, false, out);
			free(p);
		} else if (is_regular(p)) {
			rc = strlist_push(out, p);
		} else {
			free(p);
		}
	}
	closedir(d);
	if (rc == 0 && out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_str);
	return rc;
}

static bool keep_wal(const char *name) { return ends_with(name, ".wal"); }
static bool keep_snapshot(const char *name)
{
	return strncmp(name, "snapshot", 8) == 0 && !ends_with(name, ".tmp");
}

/* ------------------------------------------------------------ WAL records */

typedef struct wal_rec {
	size_t file;  /* index into the file list */
	off_t off;    /* of the record header */
	uint32_t len; /* payload bytes */
} wal_rec;

typedef struct rec_list {
	wal_rec *v;
	size_t n, cap;
} rec_list;

static int rec_push(rec_list *l, wal_rec r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		wal_rec *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = r;
	return 0;
}

static int pread_all(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Walks the record headers of one segment, stopping at the first that does
 * not fit (a torn tail) or at zero fill. */
static int scan_segment(const char *path, size_t file, rec_list *out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	off_t off = WAL_SEG_HDR;
	while (off + WAL_REC_HDR <= st.st_size) {
		unsigned char h[WAL_REC_HDR];
		if (pread_all(fd, h, sizeof h, off) != 0)
			break;
		uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
			       (uint32_t)h[3] << 24;
		bool zero = true;
		for (size_t i = 0; i < sizeof h; i++)
			zero = zero && h[i] == 0;
		if (zero || (off_t)len > st.st_size - off - WAL_REC_HDR)
			break;
		if (rec_push(out, (wal_rec){ file, off, len }) != 0) {
			close(fd);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		off += WAL_REC_HDR + (off_t)len;
	}
	close(fd);
	return 0;
}

/* ------------------------------------------------------------ damage */

typedef enum { WHERE_MIDDLE, WHERE_TAIL, WHERE_RANDOM } where_t;

static bool chosen(const uint64_t *bits, size_t n, uint64_t b)
{
	for (size_t i = 0; i < n; i++)
		if (bits[i] == b)
			return true;
	return false;
}

/* Flips `count` distinct bits of [off, off+len) of path, appending
 * {"file","offset","bit"} objects to changes. rel = path shown in replies. */
static int flip_bits(agent *a, const char *path, const char *rel, off_t off, uint64_t len,
		     int count, where_t where, cJSON *changes, char *err, size_t errlen)
{
	uint64_t nbits = len * 8;
	if (nbits == 0) {
		snprintf(err, errlen, "%s: nothing to flip (empty region)", rel);
		return -1;
	}
	if ((uint64_t)count > nbits)
		count = (int)nbits;
	uint64_t *bits = calloc((size_t)count, sizeof *bits);
	if (bits == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t start = where == WHERE_TAIL ? nbits - (uint64_t)count
					     : (len / 2) * 8 + agent_rand(a) % 8;
	if (where == WHERE_MIDDLE && start + (uint64_t)count > nbits)
		start = nbits - (uint64_t)count;
	for (int i = 0; i < count; i++) {
		if (where == WHERE_RANDOM) {
			uint64_t b;
			do
				b = agent_rand(a) % nbits;
			while (chosen(bits, (size_t)i, b));
			bits[i] = b;
		} else {
			bits[i] = start + (uint64_t)i;
		}
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", rel, strerror(errno));
		free(bits);
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < count && rc == 0; i++) {
		off_t at = off + (off_t)(bits[i] / 8);
		unsigned char c;
		if (pread_all(fd, &c, 1, at) != 0) {
			snprintf(err, errlen, "%s: reading byte %lld failed", rel, (long long)at);
			rc = -1;
			break;
		}
		c ^= (unsigned char)(1u << (bits[i] % 8));
		if (pwrite(fd, &c, 1, at) != 1) {
			snprintf(err, errlen, "%s: writing byte %lld: %s", rel, (long long)at,
				 strerror(errno));
			rc = -1;
			break;
		}
		cJSON *ch = cJSON_CreateObject();
		if (cJSON_AddStringToObject(ch, "file", rel) == NULL ||
		    cJSON_AddNumberToObject(ch, "offset", (double)at) == NULL ||
		    cJSON_AddNumberToObject(ch, "bit", (double)(bits[i] % 8)) == NULL ||
		    !cJSON_AddItemToArray(changes, ch)) {
			cJSON_Delete(ch);
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	/* The damage must survive the node's own next crash too. */
	if (rc == 0 && fsync(fd) != 0) {
		snprintf(err, errlen, "%s: fsync: %s", rel, strerror(errno));
		rc = -1;
	}
	close(fd);
	free(bits);
	return rc;
}

static int truncate_tail(const char *path, const char *rel, off_t floor_size, int64_t count,
			 cJSON *changes, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", rel, strerror(errno));
		return -1;
	}
	if (st.st_size <= floor_size) {
		snprintf(err, errlen, "%s has nothing to truncate (%lld bytes)", rel,
			 (long long)st.st_size);
		return -2;
	}
	off_t to = st.st_size - (off_t)count;
	if (to < floor_size)
		to = floor_size;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, to) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: truncate: %s", rel, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	cJSON *ch = cJSON_CreateObject();
	if (cJSON_AddStringToObject(ch, "file", rel) == NULL ||
	    cJSON_AddNumberToObject(ch, "old_size", (double)st.st_size) == NULL ||
	    cJSON_AddNumberToObject(ch, "new_size", (double)to) == NULL ||
	    !cJSON_AddItemToArray(changes, ch)) {
		cJSON_Delete(ch);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Path relative to the data dir, for replies. */
static const char *rel_path(const agent *a, const char *p)
{
	size_t n = strlen(a->data_dir);
	if (strncmp(p, a->data_dir, n) == 0 && p[n] == '/')
		return p + n + 1;
	return p;
}

typedef struct corrupt_req {
	const char *target;
	bool truncate;
	int count;
	where_t where;
	const char *where_name;
} corrupt_req;

/* WAL bit flips: pick a record per `where`, flip inside it. */
static int corrupt_wal_bits(agent *a, const strlist *files, const corrupt_req *r, cJSON *reply,
			    cJSON *changes, char *err, size_t errlen)
{
	rec_list recs = { NULL, 0, 0 };
	int rc = 0;
	for (size_t i = 0; i < files->n && rc == 0; i++)
		rc = scan_segment(files->v[i], i, &recs, err, errlen);
	if (rc != 0)
		goto out;
	if (recs.n == 0) {
		snprintf(err, errlen, "the WAL holds no complete record to damage");
		rc = -2;
		goto out;
	}
	if (r->where == WHERE_RANDOM) {
		/* Any byte of any record, weighted by size. */
		uint64_t total = 0;
		for (size_t i = 0; i < recs.n; i++)
			total += WAL_REC_HDR + (uint64_t)recs.v[i].len;
		for (int k = 0; k < r->count && rc == 0; k++) {
			uint64_t pick = agent_rand(a) % total;
			size_t i = 0;
			while (pick >= WAL_REC_HDR + (uint64_t)recs.v[i].len) {
				pick -= WAL_REC_HDR + (uint64_t)recs.v[i].len;
				i++;
			}
			const char *p = files->v[recs.v[i].file];
			/* One bit per draw; a repeated byte is unlikely and harmless. */
			rc = flip_bits(a, p, rel_path(a, p), recs.v[i].off + (off_t)pick, 1, 1,
				       WHERE_RANDOM, changes, err, errlen);
		}
		goto out;
	}
	/* middle: a record with valid ones after it; tail: the last one. */
	size_t k = r->where == WHERE_TAIL ? recs.n - 1 : (recs.n >= 2 ? (recs.n - 1) / 2 : 0);
	const wal_rec *rec = &recs.v[k];
	const char *p = files->v[rec->file];
	/* The payload if there is one, else the checksum field. */
	off_t off = rec->len > 0 ? rec->off + WAL_REC_HDR : rec->off + 4;
	uint64_t len = rec->len > 0 ? rec->len : 4;
	rc = flip_bits(a, p, rel_path(a, p), off, len, r->count,
		       r->where == WHERE_TAIL ? WHERE_TAIL : WHERE_MIDDLE, changes, err, errlen);
	if (rc == 0) {
		cJSON *ri = cJSON_AddObjectToObject(reply, "record");
		if (ri == NULL || cJSON_AddNumberToObject(ri, "number", (double)k) == NULL ||
		    cJSON_AddNumberToObject(ri, "of", (double)recs.n) == NULL ||
		    cJSON_AddNumberToObject(ri, "offset", (double)rec->off) == NULL ||
		    cJSON_AddNumberToObject(ri, "payload_bytes", rec->len) == NULL ||
		    cJSON_AddBoolToObject(ri, "followed_by_valid_records", k + 1 < recs.n) == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
out:
	free(recs.v);
	return rc;
}

static int parse_req(const cJSON *o, corrupt_req *r, char *err, size_t errlen)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, o) {
		const char *k = it->string ? it->string : "";
		if (strcmp(k, "target") && strcmp(k, "mode") && strcmp(k, "count") &&
		    strcmp(k, "where") && strcmp(k, "seed")) {
			snprintf(err, errlen, "unknown field \"%.40s\"; allowed: target, mode, "
				 "count, where, seed", k);
			return -1;
		}
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "target");
	if (!cJSON_IsString(t) || (strcmp(t->valuestring, "wal") != 0 &&
				   strcmp(t->valuestring, "snapshot") != 0 &&
				   strcmp(t->valuestring, "meta") != 0)) {
		snprintf(err, errlen, "target must be \"wal\", \"snapshot\" or \"meta\"");
		return -1;
	}
	r->target = t->valuestring;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "mode");
	if (m != NULL && (!cJSON_IsString(m) || (strcmp(m->valuestring, "bitflip") != 0 &&
						 strcmp(m->valuestring, "truncate") != 0))) {
		snprintf(err, errlen, "mode must be \"bitflip\" or \"truncate\"");
		return -1;
	}
	r->truncate = m != NULL && strcmp(m->valuestring, "truncate") == 0;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "count");
	r->count = 1;
	if (c != NULL) {
		double d = c->valuedouble;
		double max = r->truncate ? 1e9 : MAX_BITS;
		if (!cJSON_IsNumber(c) || !isfinite(d) || d != floor(d) || d < 1 || d > max) {
			snprintf(err, errlen, "count must be an integer from 1 to %.0f (%s)", max,
				 r->truncate ? "bytes cut" : "bits flipped");
			return -1;
		}
		r->count = (int)d;
	}
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "where");
	r->where = r->truncate ? WHERE_TAIL : WHERE_MIDDLE;
	if (w != NULL) {
		if (!cJSON_IsString(w)) {
			snprintf(err, errlen, "where must be \"middle\", \"tail\" or \"random\"");
			return -1;
		}
		if (strcmp(w->valuestring, "middle") == 0)
			r->where = WHERE_MIDDLE;
		else if (strcmp(w->valuestring, "tail") == 0)
			r->where = WHERE_TAIL;
		else if (strcmp(w->valuestring, "random") == 0)
			r->where = WHERE_RANDOM;
		else {
			snprintf(err, errlen, "where must be \"middle\", \"tail\" or \"random\"");
			return -1;
		}
		if (r->truncate && r->where != WHERE_TAIL) {
			snprintf(err, errlen, "truncate always cuts the end of the newest file; "
				 "where can only be \"tail\"");
			return -1;
		}
	}
	static const char *const names[] = { "middle", "tail", "random" };
	r->where_name = names[r->where];
	return 0;
}

/* The body must be one JSON value with nothing but whitespace after it:
 * cJSON alone would ignore trailing bytes. NULL otherwise. */
static cJSON *parse_whole(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (o == NULL)
		return NULL;
	for (size_t i = end >= body ? (size_t)(end - body) : len; i < len; i++) {
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n') {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

int agent_corrupt(agent *a, const char *body, size_t len, char **out)
{
	char err[512] = "";
	int code = 200;
	corrupt_req r;
	strlist files = { NULL, 0, 0 };
	cJSON *reply = NULL, *changes = NULL;
	cJSON *o = body != NULL && len > 0 ? parse_whole(body, len) : NULL;

	if (!cJSON_IsObject(o)) {
		snprintf(err, sizeof err, "body must be a JSON object such as "
			 "{\"target\":\"wal\",\"mode\":\"bitflip\",\"count\":1}");
		code = 400;
		goto out;
	}
	const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed");
	if (seed != NULL && (!cJSON_IsNumber(seed) || seed->valuedouble < 0)) {
		snprintf(err, sizeof err, "seed must be a non-negative number");
		code = 400;
		goto out;
	}
	if (parse_req(o, &r, err, sizeof err) != 0) {
		code = 400;
		goto out;
	}
	if (seed != NULL)
		a->rng = (uint64_t)seed->valuedouble;

	int lrc = 0;
	char *dir = NULL;
	if (strcmp(r.target, "wal") == 0) {
		dir = path_join(a->data_dir, "wal");
		lrc = dir ? list_files(dir, keep_wal, false, &files) : -1;
	} else if (strcmp(r.target, "snapshot") == 0) {
		lrc = list_files(a->data_dir, keep_snapshot, true, &files);
	} else {
		char *p = path_join(a->data_dir, "meta.json");
		if (p != NULL && is_regular(p))
			lrc = strlist_push(&files, p);
		else
			free(p);
	}
	free(dir);
	if (lrc != 0) {
		snprintf(err, sizeof err, "listing %s files in %s: %s", r.target, a->data_dir,
			 strerror(errno));
		code = 500;
		goto out;
	}
	if (files.n == 0) {
		snprintf(err, sizeof err, "no %s file to corrupt in %s%s", r.target, a->data_dir,
			 strcmp(r.target, "wal") == 0	   ? "/wal (*.wal)"
			 : strcmp(r.target, "meta") == 0 ? " (meta.json)"
							 : " (snapshot*)");
		code = 409;
		goto out;
	}

	reply = cJSON_CreateObject();
	if (cJSON_AddStringToObject(reply, "target", r.target) == NULL ||
	    cJSON_AddStringToObject(reply, "mode", r.truncate ? "truncate" : "bitflip") == NULL ||
	    cJSON_AddStringToObject(reply, "where", r.where_name) == NULL ||
	    (changes = cJSON_AddArrayToObject(reply, "changes")) == NULL) {
		snprintf(err, sizeof err, "out of memory");
		code = 500;
		goto out;
	}
	const char *newest = files.v[files.n - 1];
	bool wal = strcmp(r.target, "wal") == 0;
	int rc;
	if (r.truncate) {
		rc = truncate_tail(newest, rel_path(a, newest), wal ? WAL_SEG_HDR : 0, r.count,
				   changes, err, sizeof err);
	} else if (wal) {
		rc = corrupt_wal_bits(a, &files, &r, reply, changes, err, sizeof err);
	} else {
		struct stat st;
		rc = stat(newest, &st);
		if (rc != 0)
			snprintf(err, sizeof err, "%s: %s", newest, strerror(errno));
		else if (st.st_size == 0) {
			snprintf(err, sizeof err, "%s is empty", rel_path(a, newest));
			rc = -2;
		} else
			rc = flip_bits(a, newest, rel_path(a, newest), 0, (uint64_t)st.st_size,
				       r.count, r.where, changes, err, sizeof err);
	}
	if (rc != 0) {
		code = rc == -2 ? 409 : 500;
		goto out;
	}
	agent_log(a, "corrupted %s (%s, %s, count %d)", r.target, r.truncate ? "truncate" : "bitflip",
		  r.where_name, r.count);
out:
	cJSON_Delete(o);
	strlist_free(&files);
	if (code != 200) {
		cJSON_Delete(reply);
		*out = error_json(code == 400 ? "bad request" : code == 409 ? "conflict"
									: "corrupt failed",
				  "%s", err);
		return code;
	}
	*out = cJSON_PrintUnformatted(reply);
	cJSON_Delete(reply);
	return 200;
}
