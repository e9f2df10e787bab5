/*
 * test_wal_fuzz.c — random logs, random damage, exact expectations.
 *
 * Each iteration writes a random log (appends, hard states, conflicting
 * rewrites in a higher term, several small segments), remembers where every
 * record landed and the log's state after each record, damages the files and
 * reopens. For a single bit flip or a single truncation the outcome is
 * computed exactly (which prefix must come back, or that open must refuse);
 * for several flips, open must either refuse or return the state after some
 * prefix of the records. Never a crash (ASan/valgrind watch), never data that
 * was not written. A failing iteration prints its seed.
 */
#include "test_wal_util.h"

#define MAX_RECS 64
#define MAX_LOG 512

typedef struct model {
	uint64_t terms[MAX_LOG + 1]; /* terms[i] of entry i */
	size_t n;
	raft_hard_state hs;
} model;

typedef struct rec_pos {
	uint64_t seq;
	int64_t start, end;
	bool entries;
} rec_pos;

typedef struct fz {
	model states[MAX_RECS + 1]; /* states[k] = after the first k records */
	rec_pos pos[MAX_RECS];
	size_t nrec;
	uint64_t last_seq;
	char dir[128];
} fz;

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the printed seed on any libc */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ull;
}
static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void build(fz *f, size_t seg_bytes)
{
	wal_recovered rec;
	wal *w = tw_open(f->dir, seg_bytes, &rec);
	wal_recovered_free(&rec);
	model m = { .n = 0, .hs = { .term = 0, .vote = RAFT_NONE, .commit = 0 } };
	uint64_t term = 1;
	f->states[0] = m;
	f->last_seq = 1;
	char p[256];
	int64_t end = tw_file_size(tw_seg_path(f->dir, 1, p, sizeof(p)));
	f->nrec = 20 + rnd_below(MAX_RECS - 20);
	for (size_t k = 0; k < f->nrec; k++) {
		bool entries = rnd_below(4) != 0;
		if (entries) {
			uint64_t first = m.n + 1;
			if (m.n > 0 && rnd_below(6) == 0) {
				first = 1 + rnd_below(m.n); /* a conflicting suffix */
				term++;
			}
			size_t cnt = 1 + rnd_below(8);
			if (first + cnt - 1 > MAX_LOG)
				cnt = 1;
			if (first + cnt - 1 > MAX_LOG)
				first = m.n, cnt = 1, term++;
			tw_write_entries(w, first, cnt, term, false);
			for (size_t i = 0; i < cnt; i++)
				m.terms[first + i] = term;
			m.n = first + cnt - 1;
		} else {
			m.hs.term = term;
			m.hs.vote = (uint32_t)rnd_below(3);
			m.hs.commit = rnd_below(m.n + 1);
			tw_write_hs(w, m.hs.term, m.hs.vote, m.hs.commit, false);
		}
		f->states[k + 1] = m;
		int64_t start = end;
		if (tw_file_size(tw_seg_path(f->dir, f->last_seq + 1, p, sizeof(p))) >= 0) {
			f->last_seq++;
			start = 32 + 12 + 36; /* after header and start record */
		}
		end = tw_file_size(tw_seg_path(f->dir, f->last_seq, p, sizeof(p)));
		f->pos[k] = (rec_pos){ .seq = f->last_seq, .start = start, .end = end,
				       .entries = entries };
	}
	wal_close(w);
}

/* Index of the state that a cut of segment seq at byte x must leave: every
 * record that ends at or before x (and every record of earlier segments). */
static size_t prefix_before(const fz *f, uint64_t seq, int64_t x)
{
	size_t k = 0;
	while (k < f->nrec && (f->pos[k].seq < seq || (f->pos[k].seq == seq && f->pos[k].end <= x)))
		k++;
	return k;
}

static bool same_state(const wal_recovered *r, const model *m)
{
	if (r->n_entries != m->n || r->hs.term != m->hs.term || r->hs.vote != m->hs.vote ||
	    r->hs.commit != m->hs.commit)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const raft_entry *e = &r->entries[i];
		char buf[64];
		size_t len = tw_data(i + 1, m->terms[i + 1], buf, sizeof(buf));
		if (e->index != i + 1 || e->term != m->terms[i + 1] || e->len != len ||
		    memcmp(e->data, buf, len) != 0)
			return false;
	}
	return true;
}

/* expect: -1 refuse, >= 0 that exact state, -2 refuse or any prefix state. */
static void check_open(const fz *f, long expect, uint64_t seed, const char *what)
{
	wal *w = NULL;
	wal_recovered rec;
	char err[512] = "";
	wal_options o = { .segment_bytes = 1024 };
	int r = wal_open(f->dir, &o, &w, &rec, err, sizeof(err));
	if (r != 0) {
		if (expect >= 0)
			fail_msg("seed %llu (%s): open refused, expected state %ld: %s",
				 (unsigned long long)seed, what, expect, err);
		if (strlen(err) == 0 || strchr(err, '\n'))
			fail_msg("seed %llu: refusal without a one-line reason", (unsigned long long)seed);
		assert_null(w);
		return;
	}
	if (expect == -1)
		fail_msg("seed %llu (%s): open accepted a log damaged in the middle",
			 (unsigned long long)seed, what);
	bool ok = false;
	if (expect >= 0) {
		ok = same_state(&rec, &f->states[expect]);
	} else {
		for (size_t k = 0; k <= f->nrec && !ok; k++)
			ok = same_state(&rec, &f->states[k]);
	}
	if (!ok)
		fail_msg("seed %llu (%s): recovered %zu entries (term %llu), not the expected state %ld",
			 (unsigned long long)seed, what, rec.n_entries,
			 (unsigned long long)rec.hs.term, expect);
	wal_recovered_free(&rec);
	/* What open repaired must take writes and replay them. */
	uint64_t next = rec.n_entries + 1;
	tw_write_entries(w, next, 2, 1000, true);
	wal_close(w);
	w = tw_open(f->dir, 1024, &rec);
	assert_int_equal(rec.n_entries, next + 1);
	assert_int_equal(rec.torn_bytes_cut, 0);
	tw_check_entry(&rec.entries[next], next + 1, 1000);
	wal_close(w);
	wal_recovered_free(&rec);
}

static void one_iteration(uint64_t seed)
{
	rnd_state = seed * 0x9E3779B97F4A7C15ull + 1;
	static fz f;
	memset(&f, 0, sizeof(f));
	tw_dir d;
	tw_dir_make(&d);
	snprintf(f.dir, sizeof(f.dir), "%s", d.wal);
	build(&f, 1024);

	char p[256];
	uint64_t seq = 1 + rnd_below(f.last_seq);
	tw_seg_path(f.dir, seq, p, sizeof(p));
	int64_t size = tw_file_size(p);
	assert_true(size > 0);
	bool is_last = seq == f.last_seq;
	int mode = (int)rnd_below(5);
	if (mode == 0 || mode == 1) {
		/* One bit flip. Refused unless it hits the last record of the
		 * last segment (or the start record of a last segment that holds
		 * nothing else). */
		int64_t x = (int64_t)rnd_below((uint64_t)size);
		tw_xor_byte(p, x, (uint8_t)(1u << rnd_below(8)));
		long expect = -1;
		size_t k = prefix_before(&f, seq, x);
		bool in_last_record = k + 1 == f.nrec && f.pos[k].seq == seq && x >= f.pos[k].start;
		bool in_lone_start = x >= 32 && (k == f.nrec || f.pos[k].seq != seq);
		if (is_last && (in_last_record || in_lone_start))
			expect = (long)k;
		check_open(&f, expect, seed, "bit flip");
	} else if (mode == 2) {
		/* One truncation. In the last segment: the whole records before
		 * the cut survive. Elsewhere: refused, unless the cut falls on a
		 * record boundary and removes only hard states (which the next
		 * segment's start record carries anyway). */
		int64_t x = (int64_t)rnd_below((uint64_t)size);
		if (rnd_below(2) == 0) {
			size_t k = rnd_below(f.nrec);
			if (f.pos[k].seq == seq)
				x = f.pos[k].start; /* exactly on a boundary */
		}
		tw_truncate(p, x);
		size_t k = prefix_before(&f, seq, x);
		long expect = (long)k;
		if (!is_last) {
			bool boundary = x >= 80 && (x == 80 || (k > 0 && f.pos[k - 1].seq == seq &&
								f.pos[k - 1].end == x));
			bool only_hs = true;
			for (size_t j = k; j < f.nrec && f.pos[j].seq == seq; j++)
				only_hs = only_hs && !f.pos[j].entries;
			expect = boundary && only_hs ? (long)f.nrec : -1;
		}
		check_open(&f, expect, seed, "truncate");
	} else if (mode == 3) {
		/* Garbage or zeros after the end of the log: a torn tail. */
		tw_seg_path(f.dir, f.last_seq, p, sizeof(p));
		size_t n = 1 + rnd_below(3000);
		uint8_t *junk = calloc(1, n);
		assert_non_null(junk);
		if (rnd_below(2))
			for (size_t i = 0; i < n; i++)
				junk[i] = (uint8_t)rnd();
		tw_append_bytes(p, junk, n);
		free(junk);
		check_open(&f, (long)f.nrec, seed, "garbage tail");
	} else {
		/* Several flips anywhere, the fault agent's "bitflip count=n". */
		int flips = 2 + (int)rnd_below(4);
		for (int i = 0; i < flips; i++) {
			uint64_t s = 1 + rnd_below(f.last_seq);
			tw_seg_path(f.dir, s, p, sizeof(p));
			int64_t sz = tw_file_size(p);
			tw_xor_byte(p, (int64_t)rnd_below((uint64_t)sz), (uint8_t)(1 + rnd_below(255)));
		}
		check_open(&f, -2, seed, "several flips");
	}
	tw_dir_remove(&d);
}

static void test_fuzz(void **state)
{
	(void)state;
	uint64_t iters = 300, first = 1;
	const char *e = getenv("WAL_FUZZ_ITERS");
	if (e)
		iters = strtoull(e, NULL, 10);
	e = getenv("WAL_FUZZ_SEED"); /* replay one failing seed */
	if (e) {
		first = strtoull(e, NULL, 10);
		iters = 1;
	}
	for (uint64_t s = first; s < first + iters; s++)
		one_iteration(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
