/*
 * test_snapshot_xfer.c — streaming a snapshot file to a follower: the whole
 * state machine arrives and is installed as a durable snapshot file; the
 * window bounds what is in flight; a dropped connection resumes from the
 * acknowledged offset; another sender of the same snapshot continues where
 * the first stopped; a damaged source is refused (the sender gives up after
 * a few restarts) and nothing is installed; chunks of another snapshot or a
 * lost DONE are answered sensibly; with deferred I/O (the node's worker),
 * no chunk touches the disk until the I/O step, chunks arriving while it
 * runs wait for the next one, every ACK follows the bytes written and DONE
 * only the durable file, and a refusal while a step runs drops the transfer
 * when it ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../node/snapshot/snapshot_xfer.h"

#define CHUNK 8192
#define WINDOW 3

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

typedef struct fx {
	char root[64], lead[96], foll[96];
	char path[256];
	kv_machine m;
	uint64_t index, term;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->root, sizeof f->root, "/tmp/raftkv-xfer-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->lead, sizeof f->lead, "%s/lead", f->root);
	snprintf(f->foll, sizeof f->foll, "%s/foll", f->root);
	assert_int_equal(kv_machine_init(&f->m), 0);
	char k[32], v[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof k, "k%d", i);
		snprintf(v, sizeof v, "value %d of the leader's state", i);
		assert_int_equal(kv_store_put(f->m.store, (uint8_t *)k, strlen(k), (uint8_t *)v, strlen(v)), 0);
	}
	kv_command cmd = {.op = KV_OP_PUT, .origin = 2, .nonce = 9, .req_id = 77,
			  .key = {(const uint8_t *)"d", 1}, .value = {(const uint8_t *)"x", 1}};
	assert_int_equal(kv_machine_apply(&f->m, &cmd, NULL), 0);
	f->index = 500;
	f->term = 4;
	kv_snap_meta meta = {.index = f->index, .term = f->term, .n_voters = 3, .voters = {1, 2, 3}};
	char err[300];
	assert_int_equal(snapshot_save(f->lead, &f->m, &meta, NULL, err, sizeof err), 0);
	char *p = snapshot_path(f->lead, f->index, f->term);
	snprintf(f->path, sizeof f->path, "%s", p);
	free(p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	kv_machine_destroy(&f->m);
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int same_in(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	const uint8_t *v;
	size_t n;
	return !kv_store_get(ctx, key, klen, &v, &n) || n != vlen || memcmp(v, val, n) != 0;
}

/* One round trip: a chunk frame through the receiver, its ack back through
 * the wire codec to the sender. Returns the sender's verdict. */
static int pass(snap_send *s, snap_recv *r, uint8_t *frame, size_t len, int *recv_rc)
{
	wire_snap_chunk c;
	const char *why;
	assert_int_equal(wire_decode_snap_chunk(frame, len, &c, &why), 0);
	wire_snap_ack a;
	char err[300];
	*recv_rc = snap_recv_chunk(r, &c, &a, err, sizeof err);
	if (*recv_rc < 0)
		print_message("receiver refused: %s\n", err);
	uint8_t af[WIRE_SNAP_ACK_LEN];
	wire_encode_snap_ack(&a, af);
	wire_snap_ack b;
	assert_int_equal(wire_decode_snap_ack(af, sizeof af, &b, &why), 0);
	return snap_send_ack(s, &b);
}

static void check_installed(fx *f, snap_recv *r)
{
	kv_machine got;
	kv_snap_meta meta;
	char path[512];
	assert_int_equal(snap_recv_take(r, &got, &meta, path, sizeof path), 0);
	assert_int_equal(meta.index, f->index);
	assert_int_equal(meta.term, f->term);
	assert_int_equal(kv_store_count(got.store), kv_store_count(f->m.store));
	assert_int_equal(kv_store_foreach(f->m.store, same_in, got.store), 0);
	/* the dedup record came along: the applied request is a duplicate */
	kv_command cmd = {.op = KV_OP_PUT, .origin = 2, .nonce = 9, .req_id = 77,
			  .key = {(const uint8_t *)"d", 1}, .value = {(const uint8_t *)"y", 1}};
	kv_result res;
	assert_int_equal(kv_machine_apply(&got, &cmd, &res), 0);
	assert_int_equal(res.status, KV_DUPLICATE);
	kv_result_release(&res);
	kv_machine_destroy(&got);
	assert_non_null(strstr(path, "/foll/snapshot-00000000000000000500-00000000000000000004.snap"));
	/* durable under its snapshot name: a restart loads it */
	kv_machine back;
	snapshot_loaded lr;
	char err[600];
	assert_int_equal(snapshot_load(f->foll, 0, &back, &lr, err, sizeof err), 0);
	assert_true(lr.found);
	assert_int_equal(lr.meta.index, f->index);
	kv_machine_destroy(&back);
	assert_int_equal(snap_recv_take(r, &back, &lr.meta, NULL, 0), -1); /* only once */
}

static void test_whole_transfer_within_window(void **state)
{
	fx *f = *state;
	char err[300];
	snap_send *s = snap_send_open(f->path, f->index, f->term, 1, 3, 9, CHUNK, WINDOW, err, sizeof err);
	assert_non_null(s);
	snap_recv *r = snap_recv_new(f->foll);
	assert_non_null(r);
	/* Send as much as the window allows, then deliver one, repeat. */
	uint8_t *q[WINDOW + 1];
	size_t ql[WINDOW + 1];
	size_t nq = 0;
	int verdict = 0, rrc = 0;
	for (int guard = 0; verdict == 0 && guard < 10000; guard++) {
		uint8_t *fr;
		size_t fl;
		while (snap_send_next(s, &fr, &fl, err, sizeof err) == 1) {
			assert_true(nq < WINDOW); /* never more than the window in flight */
			q[nq] = fr;
			ql[nq++] = fl;
		}
		assert_true(nq > 0);
		verdict = pass(s, r, q[0], ql[0], &rrc);
		free(q[0]);
		memmove(q, q + 1, (--nq) * sizeof q[0]);
		memmove(ql, ql + 1, nq * sizeof ql[0]);
	}
	assert_int_equal(verdict, 1);
	assert_int_equal(rrc, 1);
	assert_int_equal(nq, 0);
	assert_int_equal(snap_send_acked(s), snap_send_total(s));
	assert_int_equal(snap_send_chunks_sent(s), (snap_send_total(s) + CHUNK - 1) / CHUNK);
	check_installed(f, r);
	snap_send_free(s);
	snap_recv_free(r);
}

/* Every 4th frame the connection breaks: that frame and everything behind
 * it in flight is lost, and the sender rewinds to the acknowledged offset. */
static void test_dropped_connection_resumes(void **state)
{
	fx *f = *state;
	char err[300];
	snap_send *s = snap_send_open(f->path, f->index, f->term, 1, 3, 9, CHUNK, WINDOW, err, sizeof err);
	snap_recv *r = snap_recv_new(f->foll);
	int verdict = 0, rrc = 0, n = 0, breaks = 0;
	for (int guard = 0; verdict == 0 && guard < 10000; guard++) {
		uint8_t *fr;
		size_t fl;
		if (snap_send_next(s, &fr, &fl, err, sizeof err) != 1) {
			fail_msg("sender stalled at %llu", (unsigned long long)snap_send_acked(s));
		}
		if (++n % 4 == 0) {
			free(fr);
			snap_send_rewind(s);
			breaks++;
			continue;
		}
		verdict = pass(s, r, fr, fl, &rrc);
		free(fr);
	}
	assert_int_equal(verdict, 1);
	assert_true(breaks > 2);
	/* nothing was received twice: resume, not restart */
	assert_int_equal(snap_recv_chunks(r), (snap_send_total(s) + CHUNK - 1) / CHUNK);
	check_installed(f, r);
	snap_send_free(s);
	snap_recv_free(r);
}

/* A second sender (a new leader) of the same snapshot continues from what
 * the follower already holds. */
static void test_another_sender_continues(void **state)
{
	fx *f = *state;
	char err[300];
	snap_send *a = snap_send_open(f->path, f->index, f->term, 1, 3, 9, CHUNK, WINDOW, err, sizeof err);
	snap_recv *r = snap_recv_new(f->foll);
	int rrc;
	for (int k = 0; k < 4; k++) {
		uint8_t *fr;
		size_t fl;
		assert_int_equal(snap_send_next(a, &fr, &fl, err, sizeof err), 1);
		assert_int_equal(pass(a, r, fr, fl, &rrc), 0);
		free(fr);
	}
	uint64_t held = snap_send_acked(a);
	assert_int_equal(held, 4 * CHUNK);
	snap_send_free(a);
	snap_send *b = snap_send_open(f->path, f->index, f->term, 2, 3, 10, CHUNK, WINDOW, err, sizeof err);
	int verdict = 0;
	for (int guard = 0; verdict == 0 && guard < 10000; guard++) {
		uint8_t *fr;
		size_t fl;
		assert_int_equal(snap_send_next(b, &fr, &fl, err, sizeof err), 1);
		verdict = pass(b, r, fr, fl, &rrc);
		free(fr);
	}
	assert_int_equal(verdict, 1);
	/* b sent its first chunk, learnt the offset, then only the rest */
	assert_int_equal(snap_send_chunks_sent(b),
			 1 + (snap_send_total(b) - held + CHUNK - 1) / CHUNK);
	check_installed(f, r);
	snap_send_free(b);
	snap_recv_free(r);
}

static void test_damaged_source_is_refused(void **state)
{
	fx *f = *state;
	int fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, 20000), 1);
	b ^= 0x04;
	assert_int_equal(pwrite(fd, &b, 1, 20000), 1);
	close(fd);
	char err[300];
	snap_send *s = snap_send_open(f->path, f->index, f->term, 1, 3, 9, CHUNK, WINDOW, err, sizeof err);
	snap_recv *r = snap_recv_new(f->foll);
	int verdict = 0, rrc = 0, refusals = 0;
	for (int guard = 0; verdict == 0 && guard < 10000; guard++) {
		uint8_t *fr;
		size_t fl;
		assert_int_equal(snap_send_next(s, &fr, &fl, err, sizeof err), 1);
		verdict = pass(s, r, fr, fl, &rrc);
		if (rrc < 0)
			refusals++;
		free(fr);
	}
	assert_int_equal(verdict, -1);
	assert_int_equal(refusals, 4);
	kv_machine m;
	kv_snap_meta meta;
	assert_int_equal(snap_recv_take(r, &m, &meta, NULL, 0), -1);
	snapshot_file *files;
	size_t n;
	assert_int_equal(snapshot_list(f->foll, &files, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	free(files);
	char tmp[200];
	snprintf(tmp, sizeof tmp, "%s/snapshot-00000000000000000500-recv.tmp", f->foll);
	assert_int_equal(access(tmp, F_OK), -1); /* no leftover */
	snap_send_free(s);
	snap_recv_free(r);
}

static void test_foreign_chunks_and_lost_done(void **state)
{
	fx *f = *state;
	char err[300];
	snap_recv *r = snap_recv_new(f->foll);
	uint8_t data[16] = {0};
	wire_snap_chunk c = {.from = 1, .to = 3, .term = 9, .index = 700, .snap_term = 5,
			     .total = 1000, .offset = 16, .stream_crc = 1, .data = data, .len = 16};
	wire_snap_ack a;
	/* the middle of a snapshot we never saw the start of */
	assert_int_equal(snap_recv_chunk(r, &c, &a, err, sizeof err), 0);
	assert_int_equal(a.status, WIRE_SNAP_RESTART);
	assert_int_equal(a.to, 1);
	assert_int_equal(a.index, 700);
	/* a stream that is not a snapshot at all is refused at its header */
	c.offset = 0;
	c.len = 16;
	memset(data, 0x55, sizeof data);
	c.total = 16;
	c.last = true;
	assert_int_equal(snap_recv_chunk(r, &c, &a, err, sizeof err), -1);
	assert_int_equal(a.status, WIRE_SNAP_RESTART);
	assert_non_null(strstr(err, "snapshot"));

	/* a full transfer, then its last chunk again: DONE again */
	snap_send *s = snap_send_open(f->path, f->index, f->term, 1, 3, 9, 1 << 20, 1, err, sizeof err);
	uint8_t *fr;
	size_t fl;
	int rrc;
	assert_int_equal(snap_send_next(s, &fr, &fl, err, sizeof err), 1);
	assert_int_equal(pass(s, r, fr, fl, &rrc), 1);
	wire_snap_chunk again;
	const char *why;
	assert_int_equal(wire_decode_snap_chunk(fr, fl, &again, &why), 0);
	assert_int_equal(snap_recv_chunk(r, &again, &a, err, sizeof err), 0);
	assert_int_equal(a.status, WIRE_SNAP_DONE);
	free(fr);
	check_installed(f, r);
	assert_int_equal(snap_recv_chunk(r, &again, &a, err, sizeof err), 0);
	assert_int_equal(a.status, WIRE_SNAP_DONE); /* also after it was taken */
	snap_send_free(s);
	snap_recv_free(r);
}

/* One chunk into a deferred receiver: its return code, *a its answer. */
static int feed_deferred(snap_recv *r, uint8_t *frame, size_t len, wire_snap_ack *a)
{
	wire_snap_chunk c;
	const char *why;
	char err[300];
	assert_int_equal(wire_decode_snap_chunk(frame, len, &c, &why), 0);
	int rc = snap_recv_chunk(r, &c, a, err, sizeof err);
	free(frame);
	return rc;
}

static void test_deferred_io(void **state)
{
	fx *f = *state;
	char err[300];
	snap_recv *r = snap_recv_new(f->foll);
	snap_recv_set_deferred(r, true);
	snap_recv_set_ahead(r, CHUNK); /* acks run one chunk ahead of the disk */
	snap_send *s = snap_send_open(f->path, f->index, f->term, 1, 3, 9, CHUNK, WINDOW, err,
				      sizeof err);
	assert_non_null(s);
	uint64_t total = snap_send_total(s);
	assert_true(total > 4 * CHUNK);
	uint8_t *fr;
	size_t fl;
	wire_snap_ack a;
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s/snapshot-%020d-recv.tmp", f->foll, 500);
	struct stat st;
	/* The first chunk is acknowledged at once (within the bound), the
	 * second is not (it would run two chunks ahead); nothing is written. */
	assert_int_equal(snap_send_next(s, &fr, &fl, err, sizeof err), 1);
	assert_int_equal(feed_deferred(r, fr, fl, &a), 0);
	assert_int_equal(a.status, WIRE_SNAP_CONTINUE);
	assert_int_equal(a.offset, CHUNK);
	assert_int_equal(snap_send_ack(s, &a), 0);
	assert_int_equal(snap_send_next(s, &fr, &fl, err, sizeof err), 1);
	assert_int_equal(feed_deferred(r, fr, fl, &a), SNAP_RECV_QUEUED);
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_true(snap_recv_io_wanted(r));
	snap_recv_io_begin(r);
	assert_false(snap_recv_io_final(r));
	assert_false(snap_recv_io_wanted(r)); /* one step at a time */
	/* A third chunk arrives while the step runs: it waits for the next. */
	assert_int_equal(snap_send_next(s, &fr, &fl, err, sizeof err), 1);
	assert_int_equal(feed_deferred(r, fr, fl, &a), SNAP_RECV_QUEUED);
	snap_recv_io_run(r);
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal(st.st_size, 2 * CHUNK);
	/* The step's end: two chunks written, so the third is within the bound. */
	assert_int_equal(snap_recv_io_end(r, &a, err, sizeof err), 0);
	assert_int_equal(a.status, WIRE_SNAP_CONTINUE);
	assert_int_equal(a.offset, 3 * CHUNK);
	assert_int_equal(a.to, 1);
	assert_int_equal(a.from, 3);
	assert_int_equal(snap_send_ack(s, &a), 0);
	assert_true(snap_recv_io_wanted(r));
	/* The rest, one step per round; the final one also fsyncs and renames,
	 * and only it answers DONE. */
	char *final = snapshot_path(f->foll, f->index, f->term);
	int rc = 0;
	while (rc != 1) {
		while (snap_send_next(s, &fr, &fl, err, sizeof err) == 1) {
			int crc = feed_deferred(r, fr, fl, &a);
			assert_true(crc == 0 || crc == SNAP_RECV_QUEUED);
			if (crc == 0) {
				assert_int_equal(a.status, WIRE_SNAP_CONTINUE);
				assert_int_equal(snap_send_ack(s, &a), 0);
			}
		}
		assert_true(snap_recv_io_wanted(r));
		snap_recv_io_begin(r);
		bool final_step = snap_recv_io_final(r);
		assert_int_equal(access(final, F_OK), -1); /* not durable before the final step */
		snap_recv_io_run(r);
		rc = snap_recv_io_end(r, &a, err, sizeof err);
		if (final_step) {
			assert_int_equal(rc, 1);
			assert_int_equal(a.status, WIRE_SNAP_DONE);
			assert_int_equal(snap_send_ack(s, &a), 1);
		} else if (rc == 0) {
			assert_int_equal(a.status, WIRE_SNAP_CONTINUE);
			assert_int_equal(snap_send_ack(s, &a), 0);
		} else {
			assert_int_equal(rc, SNAP_RECV_NO_ACK); /* acknowledged already */
		}
	}
	assert_int_equal(access(final, F_OK), 0);
	free(final);
	check_installed(f, r);
	snap_send_free(s);
	snap_recv_free(r);
}

static void test_deferred_refusal_while_writing(void **state)
{
	fx *f = *state;
	char err[300];
	snap_recv *r = snap_recv_new(f->foll);
	snap_recv_set_deferred(r, true);
	snap_send *s = snap_send_open(f->path, f->index, f->term, 1, 3, 9, CHUNK, 1000, err,
				      sizeof err);
	uint8_t *fr, *last = NULL;
	size_t fl, last_len = 0;
	while (snap_send_next(s, &fr, &fl, err, sizeof err) == 1) {
		if (last != NULL) {
			wire_snap_ack qa;
			int qrc = feed_deferred(r, last, last_len, &qa);
			assert_true(qrc == 0 || qrc == SNAP_RECV_QUEUED);
		}
		last = fr;
		last_len = fl;
	}
	snap_recv_io_begin(r);
	/* The last chunk, its stream checksum damaged, while the step runs:
	 * RESTART at once ... */
	wire_snap_chunk c;
	const char *why;
	assert_int_equal(wire_decode_snap_chunk(last, last_len, &c, &why), 0);
	uint8_t *bad = malloc(c.len);
	assert_non_null(bad);
	memcpy(bad, c.data, c.len);
	bad[c.len - 1] ^= 0x40;
	c.data = bad;
	wire_snap_ack a;
	assert_int_equal(snap_recv_chunk(r, &c, &a, err, sizeof err), -1);
	assert_int_equal(a.status, WIRE_SNAP_RESTART);
	/* ... another snapshot's first chunk is not taken meanwhile (the step
	 * still owns the file) ... */
	wire_snap_chunk other = c;
	other.index = 900;
	other.offset = 0;
	assert_int_equal(snap_recv_chunk(r, &other, &a, err, sizeof err), SNAP_RECV_NO_ACK);
	/* ... and the step's end drops the transfer without a second answer. */
	snap_recv_io_run(r);
	assert_int_equal(snap_recv_io_end(r, &a, err, sizeof err), SNAP_RECV_NO_ACK);
	assert_false(snap_recv_io_wanted(r));
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s/snapshot-%020d-recv.tmp", f->foll, 500);
	assert_int_equal(access(tmp, F_OK), -1);
	char *final = snapshot_path(f->foll, f->index, f->term);
	assert_int_equal(access(final, F_OK), -1);
	free(final);
	/* Now the other snapshot may start. */
	other.index = 900;
	assert_int_equal(snap_recv_chunk(r, &other, &a, err, sizeof err), -1); /* not a snapshot */
	free(bad);
	free(last);
	snap_send_free(s);
	snap_recv_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_transfer_within_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_connection_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_sender_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_source_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_chunks_and_lost_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_refusal_while_writing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
