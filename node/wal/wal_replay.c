/*
 * wal_replay.c — rebuilds the log and hard state from the segments on open.
 *
 * Segments are replayed in sequence order, records in file order. An ENTRIES
 * record starting at index i first drops every entry >= i (that is how Raft's
 * conflicting suffixes were cut) and must otherwise continue the log exactly;
 * the last HARD_STATE record wins.
 *
 * Damage is judged by where it is, because a crash can only tear the end of
 * what was being written:
 *   - a bad record in the last segment that a torn write can explain is a
 *     torn tail: the file is cut there and the bytes counted (middle_damage
 *     below has the exact rule; client data inside a torn record is never
 *     mistaken for a record);
 *   - a bad record that a tear cannot explain (an intact record on its chain
 *     of boundaries, a flipped length bit), or any damage in an earlier
 *     segment: open fails and names file and offset, because serving a log
 *     with a hole in it would be serving wrong data.
 * A record whose checksum holds but whose content makes no sense (a gap in
 * the indexes, terms going backwards, a bad size) is refused as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wal_compact.h"
#include "wal_int.h"

typedef struct replay {
	const char *dir;
	int dirfd;
	wal_recovered *rec;
	size_t cap; /* allocated slots in rec->entries */
	bool compacted; /* the log starts at a base (wal_compact.c), not at index 1 */
	char *err;
	size_t errlen;
} replay;

void wal_recovered_free(wal_recovered *rec)
{
	if (!rec)
		return;
	for (size_t i = 0; i < rec->n_entries; i++)
		free(rec->entries[i].data);
	free(rec->entries);
	rec->entries = NULL;
	rec->n_entries = 0;
}

static void truncate_entries(wal_recovered *rec, size_t keep)
{
	for (size_t i = keep; i < rec->n_entries; i++)
		free(rec->entries[i].data);
	rec->n_entries = keep;
}

/* "...; refusing to start" errors all name the file and the byte offset, so
 * an operator can look at the damage with a hex dump. */
static int refuse(replay *rp, const char *name, size_t off, const char *what)
{
	wal_errf(rp->err, rp->errlen, "wal: %s at %s/%s offset %zu; refusing to start", what,
		 rp->dir, name, off);
	return -1;
}

static int apply_entries(replay *rp, const wal_rec *r, const char *name, size_t off)
{
	wal_recovered *rec = rp->rec;
	if (r->len < WAL_ENTRIES_FIXED)
		return refuse(rp, name, off, "malformed entries record (too short)");
	uint64_t first = wal_get64(r->payload);
	uint32_t count = wal_get32(r->payload + 8);
	uint64_t last = rec->snap_index + rec->n_entries;
	if (first <= rec->snap_index && !rp->compacted)
		return refuse(rp, name, off, "entries record starts at or before the snapshot");
	if (first > last + 1)
		return refuse(rp, name, off, "gap in the log (entries record starts past the last entry + 1)");

	/* Walk the payload once to check every size before touching the log. */
	const uint8_t *p = r->payload + WAL_ENTRIES_FIXED;
	const uint8_t *end = r->payload + r->len;
	for (uint32_t k = 0; k < count; k++) {
		if ((size_t)(end - p) < WAL_ENTRY_FIXED)
			return refuse(rp, name, off, "malformed entries record (count overruns payload)");
		uint32_t len = wal_get32(p + 9);
		if ((size_t)(end - p) - WAL_ENTRY_FIXED < len)
			return refuse(rp, name, off, "malformed entries record (entry overruns payload)");
		p += WAL_ENTRY_FIXED + len;
	}
	if (p != end)
		return refuse(rp, name, off, "malformed entries record (trailing bytes)");

	/* After compaction a record may rewrite entries at or before the base
	 * (they were uncommitted when written, and rewritten before the commit
	 * the compaction relies on): those are skipped, the base's term taken. */
	uint64_t skip = first <= rec->snap_index ? rec->snap_index - first + 1 : 0;
	truncate_entries(rec, skip ? 0 : (size_t)(first - rec->snap_index - 1));
	if (count > rp->cap - rec->n_entries) {
		size_t nc = rp->cap ? rp->cap : 1024;
		while (nc - rec->n_entries < count)
			nc *= 2;
		raft_entry *ne = realloc(rec->entries, nc * sizeof(*ne));
		if (!ne) {
			wal_errf(rp->err, rp->errlen, "wal: out of memory replaying %s/%s", rp->dir, name);
			return -1;
		}
		rec->entries = ne;
		rp->cap = nc;
	}
	uint64_t prev_term = rec->n_entries ? rec->entries[rec->n_entries - 1].term : rec->snap_term;
	if (skip)
		prev_term = 0;
	p = r->payload + WAL_ENTRIES_FIXED;
	for (uint32_t k = 0; k < count; k++) {
		if (k < skip) {
			uint64_t t = wal_get64(p);
			if (t < prev_term)
				return refuse(rp, name, off, "entry terms go backwards");
			prev_term = t;
			if (first + k == rec->snap_index)
				rec->snap_term = t;
			p += WAL_ENTRY_FIXED + wal_get32(p + 9);
			continue;
		}
		raft_entry e = {
			.term = wal_get64(p),
			.index = first + k,
			.type = p[8],
			.len = wal_get32(p + 9),
			.data = NULL,
		};
		if (e.term < prev_term)
			return refuse(rp, name, off, "entry terms go backwards");
		prev_term = e.term;
		p += WAL_ENTRY_FIXED;
		if (e.len) {
			e.data = malloc(e.len);
			if (!e.data) {
				wal_errf(rp->err, rp->errlen, "wal: out of memory replaying %s/%s", rp->dir, name);
				return -1;
			}
			memcpy(e.data, p, e.len);
			p += e.len;
		}
		rec->entries[rec->n_entries++] = e;
	}
	return 0;
}

static void read_hs(const uint8_t *p, raft_hard_state *hs)
{
	hs->term = wal_get64(p);
	hs->vote = wal_get32(p + 8);
	hs->commit = wal_get64(p + 12);
}

/* The start record says where the log ended when this segment was begun: if
 * the log replayed so far ends elsewhere, records were lost from the end of
 * an earlier segment (a truncation that happens to fall on a record
 * boundary would otherwise go unnoticed). */
static int apply_start(replay *rp, const wal_rec *r, const char *name, size_t off)
{
	wal_recovered *rec = rp->rec;
	if (r->len != WAL_START_PAYLOAD)
		return refuse(rp, name, off, "malformed segment start record");
	uint64_t want_index = wal_get64(r->payload + 20);
	uint64_t want_term = wal_get64(r->payload + 28);
	uint64_t have_index = rec->snap_index + rec->n_entries;
	uint64_t have_term = rec->n_entries ? rec->entries[rec->n_entries - 1].term : rec->snap_term;
	if (want_index != have_index || want_term != have_term) {
		char what[200];
		snprintf(what, sizeof(what),
			 "segment begins after entry %" PRIu64 " (term %" PRIu64
			 ") but the log before it ends at %" PRIu64 " (term %" PRIu64
			 "): records are missing from an earlier segment",
			 want_index, want_term, have_index, have_term);
		return refuse(rp, name, off, what);
	}
	read_hs(r->payload, &rec->hs);
	return 0;
}

/* A snapshot was installed (wal_compact.c): the log is now empty after
 * (index, term), whatever it held before. */
static int apply_reset(replay *rp, const wal_rec *r, const char *name, size_t off)
{
	if (r->len != WAL_RESET_PAYLOAD)
		return refuse(rp, name, off, "malformed reset record");
	uint64_t index = wal_get64(r->payload), term = wal_get64(r->payload + 8);
	if ((index == 0) != (term == 0))
		return refuse(rp, name, off, "reset record with an impossible point");
	truncate_entries(rp->rec, 0);
	rp->rec->snap_index = index;
	rp->rec->snap_term = term;
	return 0;
}

static int apply_record(replay *rp, const wal_rec *r, bool first, const char *name, size_t off)
{
	if (first != (r->type == WAL_REC_SEGMENT_START))
		return refuse(rp, name, off, first ? "segment does not begin with a start record"
						   : "start record in the middle of a segment");
	if (r->type == WAL_REC_SEGMENT_START)
		return apply_start(rp, r, name, off);
	if (r->type == WAL_REC_ENTRIES)
		return apply_entries(rp, r, name, off);
	if (r->type == WAL_REC_RESET)
		return apply_reset(rp, r, name, off);
	if (r->len != WAL_HS_PAYLOAD)
		return refuse(rp, name, off, "malformed hard state record");
	read_hs(r->payload, &rp->rec->hs);
	return 0;
}

/*
 * The torn-tail rule, for a bad record at off in the last segment: is it a
 * torn tail (cut) or damage in the middle (refuse)? A crash tears only the
 * last write, and a torn write leaves a prefix of what we wrote, so:
 *
 *   - fewer than 12 bytes left: a torn header;
 *   - a record that becomes valid when one bit of its length is flipped back,
 *     and is not the last one: a flipped bit, never a tear;
 *   - a header we could have written (plausible type, reserved bytes and
 *     length) whose record runs past the end of the file: the write was torn
 *     inside it, and every byte after it is its own payload (client data,
 *     which may look exactly like a record), so nothing there is looked at;
 *   - such a header whose record ends inside the file: follow the chain of
 *     record boundaries from it (skipping records whose header is plausible);
 *     an intact record on that chain proves the damage is in the middle;
 *   - a header we never wrote (zero fill, garbage, a damaged header): what
 *     follows is not the payload of a record we wrote, so any valid record
 *     at any later offset proves damage in the middle.
 *
 * Returns true (with the reason in what) for damage in the middle.
 */
static bool middle_damage(const uint8_t *buf, size_t n, size_t off, char *what, size_t whatlen)
{
	if (n - off < WAL_REC_HDR)
		return false;
	if (WAL_PLANTED_BUG(2)) {
		size_t v = wal_record_find_valid(buf, n, off + 1);
		snprintf(what, whatlen,
			 "corrupt record in the middle of the log (a valid record follows at offset %zu)", v);
		return v < n;
	}
	size_t next = wal_record_length_flip(buf, n, off);
	if (next > 0) {
		snprintf(what, whatlen,
			 "corrupt record in the middle of the log (a bit of its length is flipped; "
			 "the next record starts at offset %zu)", next);
		return true;
	}
	wal_rec r;
	if (wal_record_header_plausible(buf, n, off)) {
		size_t p = off;
		while (wal_record_header_plausible(buf, n, p) &&
		       n - p - WAL_REC_HDR >= wal_get32(buf + p)) {
			p += WAL_REC_HDR + wal_get32(buf + p);
			if (p < n && wal_record_check(buf, n, p, &r)) {
				snprintf(what, whatlen,
					 "corrupt record in the middle of the log (a valid record follows at offset %zu)",
					 p);
				return true;
			}
		}
		return false;
	}
	size_t v = wal_record_find_valid(buf, n, off + 1);
	if (v < n) {
		snprintf(what, whatlen,
			 "corrupt record in the middle of the log (a valid record follows at offset %zu)", v);
		return true;
	}
	return false;
}

/* Cuts the last segment at off and makes the cut durable before anything is
 * appended after it. */
static int cut_tail(replay *rp, const char *name, size_t off)
{
	int fd = openat(rp->dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)off) != 0 || fdatasync(fd) != 0) {
		wal_errf(rp->err, rp->errlen, "wal: cannot cut the torn tail of %s/%s at offset %zu: %s",
			 rp->dir, name, off, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Replays one segment. *size_out = its size after any cut; *gone = it was a
 * torn, never-completed last segment and has been deleted. */
static int replay_segment(replay *rp, uint64_t seq, bool last, uint64_t *size_out, bool *gone)
{
	char name[32]; /* 20 digits at most + ".wal" */
	snprintf(name, sizeof(name), "%016" PRIu64 "%s", seq, WAL_SUFFIX);
	*gone = false;

	uint8_t *buf;
	size_t n;
	if (wal_read_file(rp->dirfd, name, &buf, &n) != 0) {
		wal_errf(rp->err, rp->errlen, "wal: cannot read %s/%s: %s", rp->dir, name,
			 strerror(errno));
		return -1;
	}
	int rc = -1;
	char why[160];
	int hc = wal_segment_header_check(buf, n, seq, why, sizeof(why));
	if (hc < 0) {
		wal_errf(rp->err, rp->errlen, "wal: %s/%s: %s; refusing to start", rp->dir, name, why);
		goto out;
	}
	size_t off = WAL_HDR_SIZE;
	if (hc == 0) {
		if (!last) {
			refuse(rp, name, 0, "corrupt segment header in a segment that is not the last");
			goto out;
		}
		/* A torn creation leaves fewer than 32 bytes (one pwritev wrote
		 * header, start record and batch): with a whole but damaged
		 * header nothing after it can be a torn write's payload. */
		size_t v = wal_record_find_valid(buf, n, 0);
		if (v < n) {
			refuse(rp, name, 0, "corrupt segment header with valid records after it");
			goto out;
		}
		off = 0; /* the whole file is a torn creation */
	}
	while (off < n && hc == 1) {
		wal_rec r;
		if (wal_record_check(buf, n, off, &r)) {
			if (apply_record(rp, &r, off == WAL_HDR_SIZE, name, off) != 0)
				goto out;
			off += r.size;
			continue;
		}
		if (!last) {
			refuse(rp, name, off, "corrupt record in the middle of the log (not the last segment)");
			goto out;
		}
		char what[160];
		if (middle_damage(buf, n, off, what, sizeof(what))) {
			refuse(rp, name, off, what);
			goto out;
		}
		break;
	}
	if (off <= WAL_HDR_SIZE) {
		if (!last) {
			refuse(rp, name, off, "segment has no records (not the last segment)");
			goto out;
		}
		/* The last segment's creation was torn (no start record survived):
		 * it holds nothing that is not also in the segment before it, so
		 * it goes, and the writer creates it again when it needs it. */
		if (unlinkat(rp->dirfd, name, 0) != 0 || fsync(rp->dirfd) != 0) {
			wal_errf(rp->err, rp->errlen, "wal: cannot remove torn segment %s/%s: %s",
				 rp->dir, name, strerror(errno));
			goto out;
		}
		rp->rec->torn_bytes_cut += n;
		*gone = true;
		*size_out = 0;
		rc = 0;
		goto out;
	}
	if (off < n) {
		if (cut_tail(rp, name, off) != 0)
			goto out;
		rp->rec->torn_bytes_cut += n - off;
	}
	*size_out = off;
	rc = 0;
out:
	free(buf);
	return rc;
}

int wal_replay(const char *dir, int dirfd, wal_recovered *rec, wal_replay_end *end,
	       char *err, size_t errlen)
{
	memset(rec, 0, sizeof(*rec));
	rec->hs.vote = RAFT_NONE;
	memset(end, 0, sizeof(*end));
	replay rp = { .dir = dir, .dirfd = dirfd, .rec = rec, .err = err, .errlen = errlen };

	uint64_t *seqs;
	size_t n;
	if (wal_segment_list(dir, &seqs, &n, err, errlen) != 0)
		return -1;
	int based = wal_base_apply(dir, dirfd, &seqs, &n, rec, err, errlen);
	if (based < 0)
		goto fail;
	rp.compacted = based > 0;
	for (size_t i = 1; i < n; i++) {
		if (seqs[i] != seqs[i - 1] + 1) {
			wal_errf(err, errlen,
				 "wal: segment(s) missing between %016" PRIu64 "%s and %016" PRIu64
				 "%s in %s; refusing to start",
				 seqs[i - 1], WAL_SUFFIX, seqs[i], WAL_SUFFIX, dir);
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t size;
		bool gone;
		if (replay_segment(&rp, seqs[i], i + 1 == n, &size, &gone) != 0)
			goto fail;
		if (!gone) {
			end->last_seq = seqs[i];
			end->last_size = size;
		}
	}
	/* With no segment left, the writer starts one where the last one was. */
	end->first_seq = n ? seqs[0] : 1;
	free(seqs);
	return 0;
fail:
	free(seqs);
	wal_recovered_free(rec);
	return -1;
}
