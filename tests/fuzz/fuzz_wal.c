/*
 * fuzz_wal.c — WAL replay (node/wal) on a hostile segment: the input is the
 * content of the only segment file; opening must either refuse with a
 * message or recover a log that is contiguous, never crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../node/wal/wal.h"
#include "fuzz.h"

static char dir[64];
static char seg[128];

static void cleanup(void)
{
	(void)unlink(seg);
	(void)rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0') {
		/* tmpfs when there is one: replay fsyncs on every repair */
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof dir, "%s/raftkv-fuzz-wal-XXXXXX", base);
		FUZZ_CHECK(mkdtemp(dir) != NULL);
		snprintf(seg, sizeof seg, "%s/0000000000000001.wal", dir);
		FUZZ_CHECK(atexit(cleanup) == 0);
	}
	FILE *f = fopen(seg, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
	wal *w = NULL;
	wal_recovered rec;
	memset(&rec, 0, sizeof rec);
	char err[256] = "";
	wal_options opts = { .segment_bytes = 1 << 20 };
	if (wal_open(dir, &opts, &w, &rec, err, sizeof err) == 0) {
		for (size_t i = 0; i < rec.n_entries; i++)
			FUZZ_CHECK(rec.entries[i].index == rec.snap_index + 1 + i);
		wal_recovered_free(&rec);
		wal_close(w);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	/* a refused or repaired log may have left other segments behind */
	char extra[160];
	for (int i = 2; i < 4; i++) {
		snprintf(extra, sizeof extra, "%s/%016d.wal", dir, i);
		(void)unlink(extra);
	}
	return 0;
}
