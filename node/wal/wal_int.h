/*
 * wal_int.h — what the files of node/wal share and nobody else may use.
 *
 * The on-disk layout these constants describe is written down in FORMAT.md;
 * change both together (and bump WAL_VERSION when old files would be misread).
 */
#ifndef RAFTKV_WAL_INT_H
#define RAFTKV_WAL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../common/le.h"
#include "wal.h"

/* ------------------------------------------------------------ planted bugs */

/* Deliberate bugs, compiled only with -DWAL_PLANTED_BUGS (tests/unit/
 * test_wal_bugs.c, and the simulator's build, where they are bugs 41 and 42
 * that `make test-sim` must find), to prove the tests of issue 10 item 6
 * catch them:
 *   1  open fsyncs only the last segment;
 *   2  the torn-tail check takes a valid record at any later byte offset as
 *      proof of damage in the middle (client data inside a torn record can
 *      look exactly like one: a torn node refuses to start). */
#ifdef WAL_PLANTED_BUGS
extern int wal_planted_bug;
#define WAL_PLANTED_BUG(n) (wal_planted_bug == (n))
#else
#define WAL_PLANTED_BUG(n) 0
#endif

/* ------------------------------------------------------------ layout */

#define WAL_MAGIC "RKVWAL\r\n" /* 8 bytes; \r\n catches text-mode mangling */
#define WAL_VERSION 1u
#define WAL_HDR_SIZE 32u    /* segment header */
#define WAL_REC_HDR 12u     /* record header: len, crc, type, 3 reserved */
#define WAL_SUFFIX ".wal"
#define WAL_SEQ_DIGITS 16   /* file name = 16 decimal digits + ".wal" */

enum wal_rec_type {
	WAL_REC_ENTRIES = 1,
	WAL_REC_HARD_STATE = 2,
	WAL_REC_SEGMENT_START = 3, /* first record of every segment */
	WAL_REC_RESET = 4,         /* the log is now empty after (index, term): a snapshot installed */
};

#define WAL_HS_PAYLOAD 20u        /* term u64, vote u32, commit u64 */
#define WAL_START_PAYLOAD 36u     /* hard state, then last index u64, last term u64 */
#define WAL_ENTRIES_FIXED 12u     /* first index u64, count u32 */
#define WAL_ENTRY_FIXED 13u       /* term u64, type u8, len u32 */
#define WAL_RESET_PAYLOAD 16u     /* index u64, term u64 */
/* One record's payload never exceeds this: a bigger batch of entries is split
 * into several records, so replay never needs more than this in one piece and
 * a length field that a bit flip made huge is rejected before any use. */
#define WAL_MAX_PAYLOAD (64u << 20)

#define WAL_DEFAULT_SEGMENT_BYTES ((size_t)64 << 20)

/* Little-endian stores and loads: the project's one codec (common/le.h). */
#define wal_put32 le_put32
#define wal_put64 le_put64
#define wal_get32 le_get32
#define wal_get64 le_get64

/* ------------------------------------------------------------ records (wal_record.c) */

/* Fills the 12-byte header in front of a payload already at hdr + 12. */
void wal_record_seal(uint8_t *hdr, uint8_t type, uint32_t payload_len);

/* Encodes a whole HARD_STATE record (WAL_REC_HDR + WAL_HS_PAYLOAD bytes). */
void wal_record_hard_state(uint8_t *out, const raft_hard_state *hs);
/* Encodes a whole SEGMENT_START record (WAL_REC_HDR + WAL_START_PAYLOAD). */
void wal_record_segment_start(uint8_t *out, const raft_hard_state *hs, uint64_t last_index,
			      uint64_t last_term);

/* A record that passed its checksum. */
typedef struct wal_rec {
	uint8_t type;
	const uint8_t *payload;
	uint32_t len;
	size_t size; /* header + payload: where the next record starts */
} wal_rec;

/* Checks the record at buf[off..n): 1 and *rec when whole and its checksum
 * holds, 0 otherwise (torn, zeroed, flipped). Never reads past n. */
int wal_record_check(const uint8_t *buf, size_t n, size_t off, wal_rec *rec);

/* The first offset >= from where a whole, checksum-valid record starts, or
 * n if none. Only for places where none of our records' payload can be
 * (after a header we never wrote): a client value inside a payload may look
 * exactly like a record. */
size_t wal_record_find_valid(const uint8_t *buf, size_t n, size_t from);

/* 1 when the 12-byte header at off could be one we wrote (type, reserved
 * bytes, length within the limit), whatever the checksum says. */
int wal_record_header_plausible(const uint8_t *buf, size_t n, size_t off);

/* A record at off that is valid once one bit of its length field is flipped
 * back, and that is not the file's last record: returns where the record
 * after it starts (> 0), else 0. A torn write cannot produce that (it leaves
 * a prefix of what we wrote, so an intact header is the real one), a
 * flipped bit can. */
size_t wal_record_length_flip(const uint8_t *buf, size_t n, size_t off);

/* ------------------------------------------------------------ batches (wal_batch.c) */

struct wal_batch {
	uint8_t *buf;
	size_t len, cap;
	bool has_hs;        /* the batch carries a hard state ... */
	raft_hard_state hs; /* ... and this is the last one added */
	bool has_entries;   /* the batch carries entries, */
	uint64_t first_index; /* its first record starts here (checked against the log on write) */
	uint64_t last_index, last_term; /* and the log will end here (entries or reset) */
	bool has_reset;     /* the batch resets the log (wal_compact.c); then */
	bool entries_first; /* entries came before its first reset (first_index is checked) */
};

/* ------------------------------------------------------------ segments (wal_segment.c) */

/* "<dir>/<seq as 16 digits>.wal", malloc'd; NULL on ENOMEM. */
char *wal_segment_path(const char *dir, uint64_t seq);
void wal_segment_header(uint8_t out[WAL_HDR_SIZE], uint64_t seq);
/* 1 valid, 0 torn (short or bad checksum), -1 not ours / wrong version /
 * wrong sequence (err says which). */
int wal_segment_header_check(const uint8_t *buf, size_t n, uint64_t seq, char *err,
			     size_t errlen);
/* Sorted sequence numbers of every segment file in dir (malloc'd in *out). */
int wal_segment_list(const char *dir, uint64_t **out, size_t *n, char *err, size_t errlen);
/* Reads the whole file; *buf malloc'd (NULL when empty). */
int wal_read_file(int dirfd, const char *name, uint8_t **buf, size_t *n);
/* Creates dir and missing parents, fsyncing each parent that gained an entry. */
int wal_mkdirs(const char *dir, char *err, size_t errlen);
/* write(2)/pwrite(2) loops that finish short writes; 0 or -1 with errno. */
int wal_pwritev_all(int fd, struct iovec *iov, int iovcnt, uint64_t off);

/* ------------------------------------------------------------ replay (wal_replay.c) */

/* Where replay left the files, for the writer to continue from. */
typedef struct wal_replay_end {
	uint64_t first_seq, last_seq; /* last_seq = 0: no segment left */
	uint64_t last_size;           /* size of the last segment after any cut */
} wal_replay_end;

int wal_replay(const char *dir, int dirfd, wal_recovered *rec, wal_replay_end *end,
	       char *err, size_t errlen);

/* ------------------------------------------------------------ the log (wal_open.c, wal_write.c) */

struct wal {
	char *dir;
	int dirfd;
	int fd;          /* the segment being appended to */
	uint64_t seq;    /* its sequence number */
	uint64_t off;    /* its size */
	size_t segment_bytes;

	/* What the last successful fsync covered: drop_unsynced returns here. */
	uint64_t synced_seq, synced_off;
	raft_hard_state synced_hs;
	raft_hard_state hs; /* the latest hard state written: each new segment starts with it */
	uint64_t last_index, last_term; /* the log's end, recorded in each new segment */
	uint64_t synced_last_index, synced_last_term;
	bool dir_dirty;     /* a segment was created since the directory was last fsynced */

	/* A failed write or fsync leaves the file in an unknown state (and after
	 * a failed fsync Linux may have dropped the dirty pages), so the log
	 * refuses all further writes: the node must restart and replay. */
	bool broken;

	pthread_mutex_t mu;          /* wal_write vs wal_drop_unsynced */
	_Atomic uint64_t unsynced;   /* read by metrics on another thread */
};

/* Appends a new segment seq holding header + current hard state + extra,
 * written with one pwritev. The caller fsyncs. */
int wal_segment_create(struct wal *w, uint64_t seq, const uint8_t *extra, size_t extra_len,
		       int *fd_out, uint64_t *size_out);

void wal_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
