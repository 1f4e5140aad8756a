// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the dm-slicepool migration copy index (copyidx.c).
 *
 * Build from the repository root:
 *   cc -O2 -g -Wall -Wextra -Werror -std=gnu11 -I dm-slicepool \
 *      -I selftests/copyidx -I selftests/lib -o build/copyidx_test \
 *      <this file> dm-slicepool/copyidx.c
 *
 * Prints KTAP and exits 0 only if every case passes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copyidx.h"
#include "ktap-unit.h"

static const char *mode_name(enum sp_cpx_mode mode)
{
	switch (mode) {
	case SP_CPX_FILTER:
		return "filter";
	case SP_CPX_CLEAR:
		return "clear";
	case SP_CPX_NONE:
		return "none";
	}
	return "?";
}

/* A job on exactly sp_cpx_mem_bytes() of heap, filled with garbage. */
static unsigned long *new_job(struct sp_cpx *j, unsigned long n,
			      enum sp_cpx_mode mode)
{
	size_t bytes = sp_cpx_mem_bytes(n);
	unsigned long *mem = malloc(bytes);
	int rc;

	if (!mem) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memset(mem, 0xa5, bytes);
	rc = sp_cpx_init(j, n, mode, mem);
	CHECK(rc == 0, "init(%lu, %s) = %d", n, mode_name(mode), rc);
	return mem;
}

static const unsigned long *active(const struct sp_cpx *j)
{
	return j->dirty[j->active];
}

/* Set bits of @map as a range list, "0-2,9" ("-" if empty). */
static const char *fmt_bits(const unsigned long *map, unsigned long n)
{
	static char buf[4096];
	size_t len = 0;
	unsigned long s, e;

	buf[0] = 0;
	for (s = 0; s < n; s = e) {
		if (!test_bit(s, map)) {
			e = s + 1;
			continue;
		}
		for (e = s + 1; e < n && test_bit(e, map); e++)
			;
		if (len + 48 >= sizeof(buf))
			break;
		if (e - s == 1)
			len += sprintf(buf + len, "%s%lu", len ? "," : "", s);
		else
			len += sprintf(buf + len, "%s%lu-%lu", len ? "," : "",
				       s, e - 1);
	}
	return len ? buf : "-";
}

static void expect_bits(int line, const unsigned long *map, unsigned long n,
			const char *want)
{
	const char *got = fmt_bits(map, n);

	if (strcmp(got, want))
		fail("line %d: bits %s, want %s", line, got, want);
}

#define EXPECT_BITS(map, n, want)	expect_bits(__LINE__, map, n, want)

/*
 * Dirty bookkeeping must agree with the active bitmap, and no bit may be
 * set at or beyond nr_chunks in any bitmap.
 */
static void check_counts(const struct sp_cpx *j)
{
	unsigned long w = bitmap_weight(active(j), j->nr_chunks);
	unsigned long words = BITS_TO_LONGS(j->nr_chunks);
	unsigned long tail = j->nr_chunks % BITS_PER_LONG ?
			     ~BITMAP_LAST_WORD_MASK(j->nr_chunks) : 0;

	CHECK(w == j->nr_dirty, "weight %lu, nr_dirty %lu", w, j->nr_dirty);
	CHECK(!(j->plan[words - 1] & tail) &&
	      !(j->dirty[0][words - 1] & tail) &&
	      !(j->dirty[1][words - 1] & tail), "bits set beyond nr_chunks");
}

/* Step the copy: claim and complete up to @n chunks, one at a time. */
static unsigned long copy_n(struct sp_cpx *j, unsigned long n)
{
	unsigned long done = 0, c;
	int rc;

	while (done < n && sp_cpx_claim_next(j, &c)) {
		rc = sp_cpx_copy_done(j, c);
		CHECK(rc == 0, "copy_done(%lu) = %d", c, rc);
		done++;
	}
	return done;
}

/*
 * Test 1: the worked example.  12 chunks, 9-11 not planned.  The copy has
 * claimed and completed chunks 0-2, nothing in flight; then a write covers
 * chunks 0-9.
 */
static void example12(enum sp_cpx_mode mode, const char *mid,
		      const char *end, unsigned long long filtered, long left)
{
	struct sp_cpx j;
	unsigned long *mem = new_job(&j, 12, mode);
	long next;

	CHECK(sp_cpx_plan_range(&j, 0, 9) == 0, "plan");
	CHECK(j.nr_planned == 9, "planned %lu", j.nr_planned);
	CHECK(copy_n(&j, 3) == 3, "copy 0-2");
	CHECK(j.cursor == 3 && !j.nr_inflight && j.copied == 3,
	      "cursor %lu inflight %lu copied %llu", j.cursor, j.nr_inflight,
	      ull(j.copied));
	sp_cpx_write_done(&j, 0, 10);
	EXPECT_BITS(active(&j), 12, mid);
	CHECK(j.writes_seen == 1, "writes_seen %llu", ull(j.writes_seen));

	/* the rest of the pass: chunks 3-8 */
	CHECK(copy_n(&j, 100) == 6, "rest of the pass");
	CHECK(sp_cpx_remaining(&j) == 0, "remaining %lu",
	      sp_cpx_remaining(&j));
	EXPECT_BITS(active(&j), 12, end);
	CHECK(j.filtered == filtered, "filtered %llu, want %llu",
	      ull(j.filtered), filtered);
	check_counts(&j);

	next = sp_cpx_end_pass(&j);
	CHECK(next == left && j.pass == 2, "end_pass %ld, want %ld", next,
	      left);
	EXPECT_BITS(sp_cpx_passive(&j), 12, end);
	EXPECT_BITS(j.plan, 12, end);
	EXPECT_BITS(active(&j), 12, "-");
	free(mem);
}

static void t_example12_filter(void)
{
	/* 3-8 are planned and unclaimed: 6 chunk writes filtered */
	example12(SP_CPX_FILTER, "0-2,9", "0-2,9", 6, 4);
}

static void t_example12_none(void)
{
	example12(SP_CPX_NONE, "0-9", "0-9", 0, 10);
}

static void t_example12_clear(void)
{
	struct sp_cpx j;
	unsigned long *mem;

	/* 10 in the middle of the pass; claims of 3-8 clear 6 bits */
	example12(SP_CPX_CLEAR, "0-9", "0-2,9", 0, 4);

	mem = new_job(&j, 12, SP_CPX_CLEAR);
	sp_cpx_plan_range(&j, 0, 9);
	copy_n(&j, 3);
	sp_cpx_write_done(&j, 0, 10);
	CHECK(j.nr_dirty == 10, "mid-pass %lu bits", j.nr_dirty);
	copy_n(&j, 100);
	CHECK(j.nr_dirty == 4 && j.cleared == 6 && j.dirty_set == 10,
	      "end %lu bits, cleared %llu, set %llu", j.nr_dirty,
	      ull(j.cleared), ull(j.dirty_set));
	free(mem);
}

/*
 * Test 2: 50 chunks, all planned, copied pipelined: when chunk k has
 * completed, chunk k+1 is already claimed and in flight.  Writes to 0-9
 * land after chunk 2 is copied, 10-19 after chunk 15, 20-29 after 28.
 *
 * Filter mode sets 21 bits, not 18 (3 + 6 + 9, the copied chunks only):
 * each write also covers the chunk in flight (3, 16 and 29).  That chunk
 * has been claimed, so its read may already have happened and returned the
 * old data; the write completes after the claim and must set the bit.
 * So 0-3 (4), 10-16 (7) and 20-29 (10): 21, against 30 in none mode.
 */
static unsigned long pipeline50(enum sp_cpx_mode mode, int pipelined)
{
	struct sp_cpx j;
	unsigned long *mem = new_job(&j, 50, mode);
	unsigned long k, c, n;

	sp_cpx_plan_all(&j);
	if (pipelined)
		CHECK(sp_cpx_claim_next(&j, &c) && c == 0, "claim 0");
	for (k = 0; k < 50; k++) {
		if (pipelined) {
			if (k + 1 < 50)
				CHECK(sp_cpx_claim_next(&j, &c) && c == k + 1,
				      "claim %lu", k + 1);
		} else {
			CHECK(sp_cpx_claim_next(&j, &c) && c == k,
			      "claim %lu", k);
		}
		CHECK(sp_cpx_copy_done(&j, k) == 0, "copy_done %lu", k);
		CHECK(j.nr_inflight == (pipelined && k + 1 < 50),
		      "in flight %lu after %lu", j.nr_inflight, k);
		if (k == 2)
			sp_cpx_write_done(&j, 0, 10);
		else if (k == 15)
			sp_cpx_write_done(&j, 10, 10);
		else if (k == 28)
			sp_cpx_write_done(&j, 20, 10);
	}
	CHECK(!sp_cpx_claim_next(&j, &c), "plan exhausted");
	CHECK(sp_cpx_remaining(&j) == 0 && j.copied == 50,
	      "remaining %lu copied %llu", sp_cpx_remaining(&j),
	      ull(j.copied));
	check_counts(&j);
	if (mode != SP_CPX_NONE && pipelined)
		EXPECT_BITS(active(&j), 50, "0-3,10-16,20-29");
	if (mode == SP_CPX_FILTER)
		CHECK(j.filtered == (pipelined ? 9 : 12), "filtered %llu",
		      ull(j.filtered));
	n = j.nr_dirty;
	free(mem);
	return n;
}

static void t_pipeline50(void)
{
	unsigned long f = pipeline50(SP_CPX_FILTER, 1);
	unsigned long c = pipeline50(SP_CPX_CLEAR, 1);
	unsigned long n = pipeline50(SP_CPX_NONE, 1);
	unsigned long f1 = pipeline50(SP_CPX_FILTER, 0);

	CHECK(f == 21, "filter %lu bits, want 21", f);
	CHECK(c == 21, "clear %lu bits, want 21", c);
	CHECK(n == 30, "none %lu bits, want 30", n);
	/* without a chunk in flight only the copied chunks are dirty */
	CHECK(f1 == 18, "filter, one at a time: %lu bits, want 18", f1);
}

/*
 * Test 3: pass 2 copies the chunks dirtied in pass 1, and the filter
 * applies against pass 2's plan: a write to a planned, unclaimed chunk of
 * pass 2 is filtered; writes to chunks outside pass 2's plan (copied in
 * pass 1 and clean since) set their bits.
 */
static void pass2(enum sp_cpx_mode mode, const char *mid, const char *end,
		  unsigned long long filtered)
{
	struct sp_cpx j;
	unsigned long *mem = new_job(&j, 16, mode);
	unsigned long c;
	long next;

	sp_cpx_plan_all(&j);
	CHECK(copy_n(&j, 16) == 16, "pass 1");
	sp_cpx_write_done(&j, 2, 2);
	sp_cpx_write_done(&j, 7, 1);
	sp_cpx_write_done(&j, 12, 2);
	CHECK(sp_cpx_end_pass(&j) == 5, "pass 1 leaves 5");
	CHECK(j.pass == 2 && j.cursor == 0 && j.nr_planned == 5 &&
	      j.nr_dirty == 0, "pass %u cursor %lu planned %lu dirty %lu",
	      j.pass, j.cursor, j.nr_planned, j.nr_dirty);
	EXPECT_BITS(j.plan, 16, "2-3,7,12-13");
	EXPECT_BITS(sp_cpx_passive(&j), 16, "2-3,7,12-13");
	EXPECT_BITS(active(&j), 16, "-");

	/* pass 2: 2 copied, 3 in flight, 7, 12 and 13 unclaimed */
	CHECK(copy_n(&j, 1) == 1, "copy 2");
	CHECK(sp_cpx_claim_next(&j, &c) && c == 3, "claim 3");
	sp_cpx_write_done(&j, 0, 16);
	EXPECT_BITS(active(&j), 16, mid);
	CHECK(j.filtered == filtered, "filtered %llu, want %llu",
	      ull(j.filtered), filtered);
	CHECK(sp_cpx_copy_done(&j, 3) == 0, "copy_done 3");
	CHECK(copy_n(&j, 16) == 3, "rest of pass 2");
	EXPECT_BITS(active(&j), 16, end);
	CHECK(j.copied == 21 && j.recopied == 5, "copied %llu recopied %llu",
	      ull(j.copied), ull(j.recopied));
	check_counts(&j);
	next = sp_cpx_end_pass(&j);
	CHECK(next == (long)j.nr_planned && j.pass == 3,
	      "end_pass %ld, pass %u", next, j.pass);
	EXPECT_BITS(j.plan, 16, end);
	free(mem);
}

static void t_pass2(void)
{
	pass2(SP_CPX_FILTER, "0-6,8-11,14-15", "0-6,8-11,14-15", 3);
	pass2(SP_CPX_CLEAR, "0-15", "0-6,8-11,14-15", 0);
	pass2(SP_CPX_NONE, "0-15", "0-15", 0);
}

/*
 * Test 4: the lost-write race.  A write that completes after the claim of
 * its chunk (between the claim and the read, during the read, or after
 * the copy) sets the bit in every mode.
 */
static void t_claim_race(void)
{
	static const enum sp_cpx_mode modes[] = {
		SP_CPX_FILTER, SP_CPX_CLEAR, SP_CPX_NONE
	};
	struct sp_cpx j;
	unsigned long *mem, c;
	unsigned int m;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		mem = new_job(&j, 8, modes[m]);
		sp_cpx_plan_all(&j);
		/* written before its claim: clear mode clears it on claim */
		sp_cpx_write_done(&j, 0, 1);
		CHECK(sp_cpx_claim_next(&j, &c) && c == 0, "claim 0");
		CHECK(test_bit(0, active(&j)) == (modes[m] == SP_CPX_NONE),
		      "%s: bit 0 after claim %d", mode_name(modes[m]),
		      test_bit(0, active(&j)));
		/* claimed, not read yet / being read */
		sp_cpx_write_done(&j, 0, 1);
		CHECK(test_bit(0, active(&j)), "%s: write after claim lost",
		      mode_name(modes[m]));
		/* claimed with the chunk after it (pipeline) */
		CHECK(sp_cpx_claim_next(&j, &c) && c == 1, "claim 1");
		sp_cpx_write_done(&j, 1, 2);
		CHECK(test_bit(1, active(&j)), "%s: in-flight write lost",
		      mode_name(modes[m]));
		CHECK(test_bit(2, active(&j)) == (modes[m] != SP_CPX_FILTER),
		      "%s: unclaimed chunk 2", mode_name(modes[m]));
		CHECK(sp_cpx_copy_done(&j, 1) == 0, "done 1");
		CHECK(sp_cpx_copy_done(&j, 0) == 0, "done 0 (out of order)");
		/* after the copy */
		sp_cpx_write_done(&j, 0, 2);
		CHECK(test_bit(0, active(&j)) && test_bit(1, active(&j)),
		      "%s: write after copy lost", mode_name(modes[m]));
		check_counts(&j);
		free(mem);
	}
}

/* Build a map of @n bits from a range list like "0,3-5" */
static void set_ranges(unsigned long *map, unsigned long n, const char *s)
{
	unsigned long a, b;
	char *e;

	bitmap_zero(map, n);
	while (*s) {
		a = strtoul(s, &e, 10);
		b = a;
		if (*e == '-')
			b = strtoul(e + 1, &e, 10);
		for (; a <= b; a++)
			__set_bit(a, map);
		s = *e == ',' ? e + 1 : e;
	}
}

/* Fetch the passive bitmap @max runs at a time and print it. */
static const char *fetch(const struct sp_cpx *j, unsigned long from,
			 unsigned int max, unsigned int *calls)
{
	static char buf[4096];
	struct sp_cpx_extent ex[64];
	size_t len = 0;
	unsigned long next, prev_end = 0;
	unsigned int i, n;

	buf[0] = 0;
	*calls = 0;
	while (from < j->nr_chunks && *calls < 1000) {
		memset(ex, 0xa5, sizeof(ex));
		n = sp_cpx_next_extents(j, from, ex, max, &next);
		(*calls)++;
		CHECK(n <= max, "%u runs for max %u", n, max);
		CHECK(next > from || (!n && next == j->nr_chunks),
		      "no progress from %lu: next %lu", from, next);
		CHECK(n < max || next == ex[n - 1].start + ex[n - 1].len,
		      "next %lu after a full page", next);
		for (i = 0; i < n; i++) {
			CHECK(ex[i].len && ex[i].start >= from &&
			      ex[i].start + ex[i].len <= j->nr_chunks &&
			      (!len || ex[i].start > prev_end),
			      "bad run %lu+%lu", ex[i].start, ex[i].len);
			prev_end = ex[i].start + ex[i].len;
			if (len + 48 >= sizeof(buf))
				continue;
			if (ex[i].len == 1)
				len += sprintf(buf + len, "%s%lu",
					       len ? "," : "", ex[i].start);
			else
				len += sprintf(buf + len, "%s%lu-%lu",
					       len ? "," : "", ex[i].start,
					       prev_end - 1);
		}
		from = next;
	}
	return len ? buf : "-";
}

/*
 * Test 5: extents of the passive bitmap, paged with a small max, resuming
 * where the last page ended, across word boundaries.
 */
static void t_extents(void)
{
	static const char *const maps[] = {
		/* 200 chunks: runs across 64 and 128, one to the end */
		"0,3-5,60-70,100,127-128,130-191,195-199",
		"63-64",
		"-",
		"0-199",
		"1,3,5,7,63,65,127,129,191,193,199",
	};
	unsigned long src[BITS_TO_LONGS(256)];
	struct sp_cpx_extent ex[4];
	struct sp_cpx j;
	unsigned long *mem, next;
	unsigned int i, calls, n;
	const char *got;

	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		mem = new_job(&j, 200, SP_CPX_FILTER);
		set_ranges(src, 256, strcmp(maps[i], "-") ? maps[i] : "");
		/* garbage beyond nr_chunks must be ignored */
		src[BITS_TO_LONGS(200) - 1] |= ~BITMAP_LAST_WORD_MASK(200);
		CHECK(sp_cpx_plan_bitmap(&j, src) == 0, "plan_bitmap");
		check_counts(&j);

		got = fetch(&j, 0, 64, &calls);
		CHECK(!strcmp(got, maps[i]) && calls == 1,
		      "whole: %s in %u calls, want %s", got, calls, maps[i]);
		got = fetch(&j, 0, 1, &calls);
		CHECK(!strcmp(got, maps[i]), "max 1: %s, want %s", got,
		      maps[i]);
		got = fetch(&j, 0, 2, &calls);
		CHECK(!strcmp(got, maps[i]), "max 2: %s, want %s", got,
		      maps[i]);
		free(mem);
	}

	/* exact runs, resuming inside a run, and past the end */
	mem = new_job(&j, 200, SP_CPX_FILTER);
	set_ranges(src, 200, maps[0]);
	sp_cpx_plan_bitmap(&j, src);
	n = sp_cpx_next_extents(&j, 0, ex, 3, &next);
	CHECK(n == 3 && ex[0].start == 0 && ex[0].len == 1 &&
	      ex[1].start == 3 && ex[1].len == 3 && ex[2].start == 60 &&
	      ex[2].len == 11 && next == 71, "page 1: %u runs, next %lu", n,
	      next);
	n = sp_cpx_next_extents(&j, next, ex, 3, &next);
	CHECK(n == 3 && ex[0].start == 100 && ex[0].len == 1 &&
	      ex[1].start == 127 && ex[1].len == 2 && ex[2].start == 130 &&
	      ex[2].len == 62 && next == 192, "page 2: %u runs, next %lu", n,
	      next);
	n = sp_cpx_next_extents(&j, next, ex, 3, &next);
	CHECK(n == 1 && ex[0].start == 195 && ex[0].len == 5 && next == 200,
	      "page 3: %u runs, next %lu", n, next);
	n = sp_cpx_next_extents(&j, next, ex, 3, &next);
	CHECK(n == 0 && next == 200, "page 4: %u runs, next %lu", n, next);
	got = fetch(&j, 65, 2, &calls);
	CHECK(!strcmp(got, "65-70,100,127-128,130-191,195-199"),
	      "from 65: %s", got);
	n = sp_cpx_next_extents(&j, 1000, ex, 3, &next);
	CHECK(n == 0 && next == 200, "from 1000: %u runs, next %lu", n, next);
	n = sp_cpx_next_extents(&j, 3, ex, 0, &next);
	CHECK(n == 0 && next == 3, "max 0: %u runs, next %lu", n, next);

	/* after a pass the passive bitmap is what the pass dirtied */
	copy_n(&j, 200);
	sp_cpx_write_done(&j, 62, 5);
	sp_cpx_write_done(&j, 199, 10);
	CHECK(sp_cpx_end_pass(&j) == 6, "end_pass");
	got = fetch(&j, 0, 1, &calls);
	CHECK(!strcmp(got, "62-66,199") && calls == 2, "pass 2: %s, %u calls",
	      got, calls);
	free(mem);

	/* a whole number of words, last bit set */
	mem = new_job(&j, 128, SP_CPX_FILTER);
	sp_cpx_plan_range(&j, 64, 64);
	got = fetch(&j, 0, 1, &calls);
	CHECK(!strcmp(got, "64-127"), "128: %s", got);
	free(mem);
}

/* Deterministic PRNG (xorshift64*), the same on every host. */
static u64 rng_state;

static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned long rnd_below(unsigned long n)
{
	return n ? (unsigned long)((rnd() >> 11) % n) : 0;
}

#define SIM_MAX_N	320
#define SIM_MAX_Q	8
#define SIM_MAX_W	8
#define SIM_MAX_LEN	16

/*
 * Reference model.  Each chunk of the source carries a version, bumped when
 * a write's data lands on it.  A copy reads the source version at a point
 * after its claim and stores it on the destination at completion.  need[c]
 * is the newest version of c written by a completed write: the destination
 * is current for c when dst[c] >= need[c].  Up to three jobs, one per
 * mode, see the same events in lockstep.
 */
struct sim {
	unsigned long n;
	unsigned int nj;
	struct sp_cpx j[3];
	unsigned long *mem[3];
	u64 src[SIM_MAX_N], dst[SIM_MAX_N], need[SIM_MAX_N];
	unsigned long planned[BITS_TO_LONGS(SIM_MAX_N)];
	unsigned long claimed[BITS_TO_LONGS(SIM_MAX_N)];
	struct {
		unsigned long c;
		int read;
		u64 snap;
	} cp[SIM_MAX_Q];
	unsigned int ncp, qd;
	struct {
		unsigned long first, len;
		int landed;
		int mirror;	/* also written to the destination */
		int dlanded;	/* its destination leg has landed */
		int overlap;	/* the kernel's overlap flag */
		u64 ver[SIM_MAX_LEN];
	} wr[SIM_MAX_W];
	unsigned int nwr, wd;
	u64 chunk_writes;
	/*
	 * Mirror model (sp-mig-io.c): writes not ahead of the cursor go to
	 * both sides, in any order; versions are given at issue, and no two
	 * writes to one chunk are in flight at once.
	 */
	int mirror;
	u64 vnext[SIM_MAX_N];
	int bad;
};

/*
 * For every chunk: its bit is set, or it is planned and unclaimed (the copy
 * will read it), or it is in flight and not read yet, or the data the copy
 * read or wrote holds every completed write.
 */
static void sim_check(struct sim *s, const char *when)
{
	unsigned long c;
	unsigned int k, q;

	for (k = 0; k < s->nj && !s->bad; k++) {
		const struct sp_cpx *j = &s->j[k];

		for (c = 0; c < s->n; c++) {
			u64 have = s->dst[c];
			int fresh = 0;

			if (test_bit(c, active(j)))
				continue;
			if (test_bit(c, s->planned) && !test_bit(c, s->claimed))
				continue;
			for (q = 0; q < s->ncp; q++) {
				if (s->cp[q].c != c)
					continue;
				fresh = !s->cp[q].read;
				have = s->cp[q].snap;
			}
			if (fresh || have >= s->need[c])
				continue;
			fail("%s: %s pass %u: write to chunk %lu lost (has v%llu, needs v%llu)",
			     when, mode_name(j->mode), j->pass, c, ull(have),
			     ull(s->need[c]));
			s->bad = 1;
			break;
		}
		check_counts(j);
		CHECK(j->dirty_set + j->filtered <= s->chunk_writes,
		      "set %llu + filtered %llu > %llu chunk writes",
		      ull(j->dirty_set), ull(j->filtered),
		      ull(s->chunk_writes));
	}
}

static void sim_claim(struct sim *s)
{
	unsigned long c = 0, c2;
	unsigned int k;
	bool got = sp_cpx_claim_next(&s->j[0], &c);

	for (k = 1; k < s->nj; k++) {
		c2 = ~0UL;
		CHECK(sp_cpx_claim_next(&s->j[k], &c2) == got &&
		      (!got || c2 == c), "lockstep claim %lu vs %lu", c, c2);
	}
	if (!got)
		return;
	CHECK(c < s->n && test_bit(c, s->planned) && !test_bit(c, s->claimed),
	      "claimed %lu: not planned or claimed twice", c);
	__set_bit(c, s->claimed);
	/* sp_mig_mark_overlaps(): mirrored writes in flight over @c */
	for (k = 0; k < s->nwr; k++)
		if (s->wr[k].mirror && c - s->wr[k].first < s->wr[k].len)
			s->wr[k].overlap = 1;
	s->cp[s->ncp].c = c;
	s->cp[s->ncp].read = 0;
	s->ncp++;
}

static void sim_copy_done(struct sim *s, unsigned int q)
{
	unsigned int k;
	int rc;

	s->dst[s->cp[q].c] = s->cp[q].snap;
	for (k = 0; k < s->nj; k++) {
		rc = sp_cpx_copy_done(&s->j[k], s->cp[q].c);
		CHECK(rc == 0, "copy_done(%lu) = %d", s->cp[q].c, rc);
	}
	s->cp[q] = s->cp[--s->ncp];
}

static void sim_land(struct sim *s, unsigned int w)
{
	unsigned long i;

	for (i = 0; i < s->wr[w].len; i++) {
		if (s->mirror)
			s->src[s->wr[w].first + i] = s->wr[w].ver[i];
		else
			s->wr[w].ver[i] = ++s->src[s->wr[w].first + i];
	}
	s->wr[w].landed = 1;
}

/* A mirrored write's destination leg lands. */
static void sim_land_dst(struct sim *s, unsigned int w)
{
	unsigned long i;

	for (i = 0; i < s->wr[w].len; i++)
		s->dst[s->wr[w].first + i] = s->wr[w].ver[i];
	s->wr[w].dlanded = 1;
}

/* Mirror model: is [@first, @first + @len) free of writes in flight? */
static int sim_chunks_idle(const struct sim *s, unsigned long first,
			   unsigned long len)
{
	unsigned int w;

	for (w = 0; w < s->nwr; w++)
		if (s->wr[w].first < first + len &&
		    first < s->wr[w].first + s->wr[w].len)
			return 0;
	return 1;
}

/* A write is issued: the map() side of sp-mig-io.c in the mirror model. */
static void sim_issue(struct sim *s, unsigned long first, unsigned long len)
{
	unsigned int w = s->nwr, q;
	unsigned long i;

	if (s->mirror && !sim_chunks_idle(s, first, len))
		return;
	s->nwr++;
	s->wr[w].first = first;
	s->wr[w].len = len;
	s->wr[w].landed = 0;
	s->wr[w].mirror = 0;
	s->wr[w].dlanded = 0;
	s->wr[w].overlap = 0;
	if (!s->mirror)
		return;
	for (i = 0; i < len; i++)
		s->wr[w].ver[i] = ++s->vnext[first + i];
	if (sp_cpx_ahead(&s->j[0], first, len))
		return;
	/*
	 * sp_mig_mirror(): while a copy of one of its chunks is in flight
	 * the write is deferred; the model issues it later instead.
	 */
	for (q = 0; q < s->ncp; q++) {
		if (s->cp[q].c - first < len) {
			s->nwr--;
			return;
		}
	}
	s->wr[w].mirror = 1;
}

static void sim_complete(struct sim *s, unsigned int w)
{
	unsigned long i, c;
	unsigned int k;

	for (i = 0; i < s->wr[w].len; i++) {
		c = s->wr[w].first + i;
		if (s->need[c] < s->wr[w].ver[i])
			s->need[c] = s->wr[w].ver[i];
	}
	for (k = 0; k < s->nj; k++) {
		if (s->wr[w].mirror)
			sp_cpx_mirror_done(&s->j[k], s->wr[w].first,
					   s->wr[w].len, s->wr[w].overlap);
		else
			sp_cpx_write_done(&s->j[k], s->wr[w].first,
					  s->wr[w].len);
	}
	s->chunk_writes += s->wr[w].len;
	s->wr[w] = s->wr[--s->nwr];
}

/*
 * One random event.  Returns 0 when nothing is left to do: the plan is
 * exhausted, no copy is in flight and (if !@writing) no write is pending.
 */
static int sim_step(struct sim *s, int writing)
{
	unsigned int q, w;
	unsigned long len;

	switch (rnd_below(s->mirror ? 7 : 6)) {
	case 0:		/* claim */
		if (s->ncp < s->qd && s->j[0].nr_pending)
			sim_claim(s);
		break;
	case 1:		/* a claimed chunk is read */
		if (s->ncp) {
			q = rnd_below(s->ncp);
			if (!s->cp[q].read) {
				s->cp[q].read = 1;
				s->cp[q].snap = s->src[s->cp[q].c];
			}
		}
		break;
	case 2:		/* a read chunk is written to the destination */
		if (s->ncp) {
			q = rnd_below(s->ncp);
			if (s->cp[q].read)
				sim_copy_done(s, q);
		}
		break;
	case 3:		/* a user write is issued */
		if (writing && s->nwr < s->wd) {
			len = 1 + (rnd_below(4) ? rnd_below(4) :
				   rnd_below(SIM_MAX_LEN));
			if (len > s->n)
				len = s->n;
			sim_issue(s, rnd_below(s->n - len + 1), len);
		}
		break;
	case 6:		/* a mirrored write lands on the destination */
		if (s->nwr) {
			w = rnd_below(s->nwr);
			if (s->wr[w].mirror && !s->wr[w].dlanded)
				sim_land_dst(s, w);
		}
		break;
	case 4:		/* its data lands on the source */
		if (s->nwr) {
			w = rnd_below(s->nwr);
			if (!s->wr[w].landed)
				sim_land(s, w);
		}
		break;
	case 5:		/* it completes: the end_io hook */
		if (s->nwr) {
			w = rnd_below(s->nwr);
			if (s->wr[w].landed &&
			    (!s->wr[w].mirror || s->wr[w].dlanded))
				sim_complete(s, w);
		}
		break;
	}
	return s->j[0].nr_pending || s->ncp || (!writing && s->nwr);
}

/* The model's plan of a pass: the passive bitmap at its start. */
static void sim_new_pass(struct sim *s)
{
	bitmap_copy(s->planned, sp_cpx_passive(&s->j[0]), s->n);
	bitmap_zero(s->claimed, s->n);
}

static void sim_init(struct sim *s, unsigned long n, unsigned int nj,
		     const enum sp_cpx_mode *modes, int mirror)
{
	unsigned long plan[BITS_TO_LONGS(SIM_MAX_N)];
	unsigned long c, density = rnd_below(5);
	unsigned int k;

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->nj = nj;
	s->mirror = mirror;
	s->qd = 1 + rnd_below(SIM_MAX_Q);
	s->wd = 1 + rnd_below(SIM_MAX_W);
	bitmap_zero(plan, SIM_MAX_N);
	for (c = 0; c < n; c++)
		if (!density || rnd_below(5) >= density - 1)
			__set_bit(c, plan);
	for (k = 0; k < nj; k++) {
		s->mem[k] = new_job(&s->j[k], n, modes[k]);
		CHECK(sp_cpx_plan_bitmap(&s->j[k], plan) == 0, "plan");
	}
	sim_new_pass(s);
	CHECK(!memcmp(s->planned, plan, BITS_TO_LONGS(n) * sizeof(long)),
	      "passive %s", fmt_bits(s->planned, n));
}

static void sim_free(struct sim *s)
{
	unsigned int k;

	for (k = 0; k < s->nj; k++)
		free(s->mem[k]);
}

/* Run the rest of a pass; check the model after every event. */
static void sim_pass(struct sim *s, int writing)
{
	unsigned long steps = 0;

	while (sim_step(s, writing) && !s->bad && ++steps < 1000000)
		sim_check(s, "mid-pass");
	sim_check(s, "end of pass");
	CHECK(steps < 1000000, "pass does not end");
	if (s->bad)
		return;
	/* every planned chunk claimed, once */
	CHECK(bitmap_weight(s->claimed, s->n) == s->j[0].nr_planned &&
	      !memcmp(s->claimed, s->planned,
		      BITS_TO_LONGS(s->n) * sizeof(long)),
	      "pass %u: claimed %s", s->j[0].pass, fmt_bits(s->claimed, s->n));
}

static void sim_end_pass(struct sim *s)
{
	unsigned int k;
	long r;

	for (k = 0; k < s->nj; k++) {
		r = sp_cpx_end_pass(&s->j[k]);
		CHECK(r >= 0 && (unsigned long)r == s->j[k].nr_planned,
		      "end_pass %ld", r);
	}
	sim_new_pass(s);
}

/*
 * The switch: hold new writes, drain the issued ones, finish the current
 * pass, then one last pass; the destination must equal the source.
 */
static void sim_switch(struct sim *s, u64 seed)
{
	unsigned long c;

	while (s->nwr && !s->bad) {
		if (!s->wr[0].landed)
			sim_land(s, 0);
		if (s->wr[0].mirror && !s->wr[0].dlanded)
			sim_land_dst(s, 0);
		sim_complete(s, 0);
	}
	sim_check(s, "switch");
	sim_pass(s, 0);
	sim_end_pass(s);
	sim_pass(s, 0);
	for (c = 0; c < s->n && !s->bad; c++)
		if (s->dst[c] != s->src[c]) {
			fail("%s%s seed %llx: chunk %lu: dst v%llu, src v%llu",
			     mode_name(s->j[0].mode), s->mirror ? "+mirror" : "",
			     ull(seed), c, ull(s->dst[c]), ull(s->src[c]));
			s->bad = 1;
		}
	CHECK(!s->j[0].nr_dirty, "%s: %lu dirty after the switch",
	      mode_name(s->j[0].mode), s->j[0].nr_dirty);
}

/*
 * Test 6: randomized property test with a fixed seed.  Claims, reads,
 * copy completions (in any order), write issues, landings and completions
 * interleave at random.  After every event and at the end of each pass no
 * write may be lost: each chunk's destination is current or its bit is
 * set (or the copy is still going to read it).  Pass 1 runs the three
 * modes in lockstep on the same events: filter's and clear's dirty bits
 * must be subsets of none's.  Then each mode runs passes with writes going
 * on (some completing after the pass ends), then the switch: writes are
 * held and drained, one last pass must leave source and destination equal
 * and nothing dirty.
 */
static void t_random(void)
{
	static const enum sp_cpx_mode modes[] = {
		SP_CPX_FILTER, SP_CPX_CLEAR, SP_CPX_NONE
	};
	static struct sim s;
	unsigned long n, c, less = 0, nf = 0, nn = 0;
	unsigned int round, k, pass, npass;
	u64 seed;

	for (round = 0; round < 150 && case_ok; round++) {
		seed = 0x9e3779b97f4a7c15ULL * (round + 1);
		rng_state = seed;
		n = 1 + rnd_below(round % 3 ? 200 : SIM_MAX_N);

		/* pass 1, three modes in lockstep */
		sim_init(&s, n, 3, modes, 0);
		sim_pass(&s, 1);
		for (c = 0; c < n; c++) {
			CHECK(!test_bit(c, active(&s.j[0])) ||
			      test_bit(c, active(&s.j[2])),
			      "seed %llx: filter bit %lu not in none", ull(seed),
			      c);
			CHECK(!test_bit(c, active(&s.j[1])) ||
			      test_bit(c, active(&s.j[2])),
			      "seed %llx: clear bit %lu not in none", ull(seed),
			      c);
		}
		CHECK(s.j[0].nr_dirty <= s.j[2].nr_dirty,
		      "seed %llx: filter %lu bits > none %lu", ull(seed),
		      s.j[0].nr_dirty, s.j[2].nr_dirty);
		for (k = 0; k < 3; k++)
			CHECK(s.j[k].dirty_set - s.j[k].cleared ==
			      s.j[k].nr_dirty, "%s: set %llu cleared %llu dirty %lu",
			      mode_name(modes[k]), ull(s.j[k].dirty_set),
			      ull(s.j[k].cleared), s.j[k].nr_dirty);
		less += s.j[0].nr_dirty < s.j[2].nr_dirty;
		nf += s.j[0].nr_dirty;
		nn += s.j[2].nr_dirty;
		sim_free(&s);
		if (s.bad)
			fail("seed %llx, n %lu", ull(seed), n);

		/* each mode alone: several passes, then the switch */
		for (k = 0; k < ARRAY_SIZE(modes) && !s.bad; k++) {
			sim_init(&s, n, 1, &modes[k], 0);
			npass = 1 + rnd_below(4);
			for (pass = 1; pass <= npass && !s.bad; pass++) {
				sim_pass(&s, 1);
				sim_end_pass(&s);
			}
			/*
			 * Switch: hold new writes, drain the issued ones,
			 * finish the current pass, then one last pass.
			 */
			sim_switch(&s, seed);
			sim_free(&s);
		}
		if (s.bad)
			case_ok = 0;
	}
	/* the filter must also be worth something */
	CHECK(less > 0 && nf < nn, "filter never helped: %lu vs %lu bits",
	      nf, nn);
	printf("# random: %u rounds, pass 1 dirty bits filter %lu, none %lu\n",
	       round, nf, nn);
}

/*
 * Test 8: the randomized property test with mirrored writes (the model of
 * sp-mig-io.c: a write not ahead of the cursor goes to both sides, its
 * two legs landing in any order; it starts only when no copy of its
 * chunks is in flight (deferred), and it is flagged overlapped if a copy
 * of one of them is issued before it completes).  No write may be lost in
 * any interleaving, and the passes must shrink: with the same seeds,
 * mirrored jobs leave fewer chunks to copy after pass 1 than jobs without
 * mirroring.
 */
static void t_mirror(void)
{
	static const enum sp_cpx_mode modes[] = {
		SP_CPX_FILTER, SP_CPX_CLEAR, SP_CPX_NONE
	};
	static struct sim s;
	unsigned long n, left[2] = { 0, 0 };
	unsigned int round, k, pass, npass, m;
	u64 seed, mirrored = 0;

	for (round = 0; round < 150 && case_ok; round++) {
		seed = 0x5851f42d4c957f2dULL * (round + 1);
		for (k = 0; k < ARRAY_SIZE(modes) && !s.bad; k++) {
			for (m = 0; m < 2 && !s.bad; m++) {
				rng_state = seed + k;
				n = 1 + rnd_below(200);
				sim_init(&s, n, 1, &modes[k], m);
				npass = 1 + rnd_below(4);
				for (pass = 1; pass <= npass && !s.bad;
				     pass++) {
					sim_pass(&s, 1);
					sim_end_pass(&s);
					if (pass == 1)
						left[m] += s.j[0].nr_planned;
				}
				mirrored += s.j[0].mirrored;
				sim_switch(&s, seed);
				sim_free(&s);
			}
		}
		if (s.bad)
			case_ok = 0;
	}
	CHECK(mirrored > 0, "no write was mirrored");
	CHECK(left[1] < left[0],
	      "mirroring did not shrink pass 2: %lu vs %lu chunks", left[1],
	      left[0]);
	printf("# mirror: %u rounds, %llu mirrored, pass 2 chunks %lu vs %lu\n",
	       round, ull(mirrored), left[1], left[0]);
}

/*
 * Test 9: sp_cpx_ahead() and sp_cpx_mirror_done() on the 12-chunk example.
 */
static void t_mirror_rules(void)
{
	struct sp_cpx j;
	unsigned long *mem = new_job(&j, 12, SP_CPX_FILTER), c;

	sp_cpx_plan_range(&j, 0, 9);
	copy_n(&j, 3);			/* 0-2 copied */
	CHECK(!sp_cpx_ahead(&j, 0, 1), "chunk 0 is copied, not ahead");
	CHECK(!sp_cpx_ahead(&j, 2, 2), "2-3 is not all ahead");
	CHECK(sp_cpx_ahead(&j, 3, 6), "3-8 is ahead");
	CHECK(!sp_cpx_ahead(&j, 8, 2), "chunk 9 is not planned");
	CHECK(!sp_cpx_ahead(&j, 11, 2), "beyond the job");
	sp_cpx_mirror_done(&j, 0, 3, false);
	CHECK(j.nr_dirty == 0 && j.mirrored == 1 && j.writes_seen == 1,
	      "a mirrored write without overlap sets no bit: %lu dirty",
	      j.nr_dirty);
	CHECK(sp_cpx_claim_next(&j, &c) && c == 3, "claim 3");
	sp_cpx_mirror_done(&j, 2, 3, true);	/* 2-4, overlapped */
	EXPECT_BITS(active(&j), 12, "2-3");
	CHECK(j.filtered == 1 && j.mirrored == 1 && j.writes_seen == 2,
	      "overlapped: recorded as a plain write (chunk 4 filtered)");
	sp_cpx_mirror_done(&j, 12, 1, false);
	CHECK(j.writes_seen == 2, "a write beyond the job is not counted");
	j.mode = SP_CPX_NONE;
	CHECK(!sp_cpx_ahead(&j, 5, 1), "only the filter has writes ahead");
	free(mem);
}

/* Bad calls change nothing and return errors. */
static void t_errors(void)
{
	struct sp_cpx j, save;
	unsigned long *mem, map[1] = { 0x5 }, c;

	CHECK(sp_cpx_mem_bytes(0) == 0, "mem_bytes(0)");
	CHECK(sp_cpx_mem_bytes(SP_CPX_MAX_CHUNKS + 1) == 0, "mem_bytes(max+1)");
	CHECK(sp_cpx_mem_bytes(1) == 3 * sizeof(long), "mem_bytes(1)");
	CHECK(sp_cpx_mem_bytes(BITS_PER_LONG + 1) == 6 * sizeof(long),
	      "mem_bytes(65)");
	CHECK(sp_cpx_init(&j, 0, SP_CPX_FILTER, map) == -EINVAL, "init 0");
	CHECK(sp_cpx_init(&j, 10, (enum sp_cpx_mode)3, map) == -EINVAL,
	      "init bad mode");

	mem = new_job(&j, 10, SP_CPX_FILTER);
	CHECK(j.pass == 1 && !j.nr_planned && !sp_cpx_claim_next(&j, &c),
	      "empty plan");
	CHECK(sp_cpx_plan_range(&j, 5, 6) == -EINVAL, "plan past the end");
	CHECK(sp_cpx_plan_range(&j, 11, 0) == -EINVAL, "plan beyond");
	CHECK(sp_cpx_plan_range(&j, 2, ~0UL) == -EINVAL, "plan overflow");
	CHECK(sp_cpx_plan_range(&j, 0, 2) == 0 &&
	      sp_cpx_plan_range(&j, 8, 2) == 0 && j.nr_planned == 4,
	      "plan adds up: %lu", j.nr_planned);
	EXPECT_BITS(sp_cpx_passive(&j), 10, "0-1,8-9");
	CHECK(sp_cpx_plan_bitmap(&j, map) == 0 && j.nr_planned == 2,
	      "plan_bitmap replaces: %lu", j.nr_planned);
	CHECK(sp_cpx_end_pass(&j) == -EBUSY, "end_pass with a plan");
	CHECK(sp_cpx_copy_done(&j, 0) == -EINVAL, "done before claim");
	CHECK(sp_cpx_claim_next(&j, &c) && c == 0, "claim 0");
	CHECK(sp_cpx_plan_range(&j, 4, 1) == -EBUSY, "plan after claim");
	CHECK(sp_cpx_plan_bitmap(&j, map) == -EBUSY, "plan after claim");
	save = j;
	CHECK(sp_cpx_end_pass(&j) == -EBUSY, "end_pass in flight");
	CHECK(sp_cpx_copy_done(&j, 2) == -EINVAL, "done, unclaimed");
	CHECK(sp_cpx_copy_done(&j, 1) == -EINVAL, "done, not planned");
	CHECK(sp_cpx_copy_done(&j, 99) == -EINVAL, "done, out of range");
	CHECK(sp_cpx_copy_failed(&j, 2) == -EINVAL, "failed, unclaimed");
	CHECK(!memcmp(&save, &j, sizeof(j)), "state changed");
	CHECK(sp_cpx_copy_done(&j, 0) == 0, "done 0");
	CHECK(sp_cpx_copy_done(&j, 0) == -EINVAL, "done twice");

	/* writes are clipped to the job, empty ones ignored */
	sp_cpx_write_done(&j, 10, 5);
	sp_cpx_write_done(&j, 3, 0);
	CHECK(!j.writes_seen && !j.nr_dirty, "empty writes counted");
	sp_cpx_write_done(&j, 8, ~0UL);
	CHECK(j.writes_seen == 1 && j.dirty_set == 2, "clipped write");
	EXPECT_BITS(active(&j), 10, "8-9");
	sp_cpx_write_done(&j, 0, 10);
	CHECK(j.filtered == 1 && j.dirty_set == 9 && j.nr_dirty == 9,
	      "filtered %llu set %llu dirty %lu", ull(j.filtered),
	      ull(j.dirty_set), j.nr_dirty);
	check_counts(&j);

	/* a failed copy is dirty for the next pass, in any mode */
	CHECK(sp_cpx_claim_next(&j, &c) && c == 2, "claim 2");
	CHECK(!sp_cpx_claim_next(&j, &c), "exhausted");
	CHECK(sp_cpx_copy_failed(&j, 2) == 0 && j.failed == 1 &&
	      j.copied == 1 && test_bit(2, active(&j)) && j.nr_dirty == 10,
	      "copy_failed");
	CHECK(sp_cpx_end_pass(&j) == 10 && j.pass == 2, "end_pass");
	CHECK(copy_n(&j, 100) == 10 && j.recopied == 10, "pass 2");
	CHECK(sp_cpx_end_pass(&j) == 0 && j.pass == 3, "converged");
	CHECK(!sp_cpx_claim_next(&j, &c), "nothing in pass 3");
	free(mem);
}

static const struct ktap_case cases[] = {
	{ "example12_filter", t_example12_filter },
	{ "example12_none", t_example12_none },
	{ "example12_clear", t_example12_clear },
	{ "pipeline50", t_pipeline50 },
	{ "pass2", t_pass2 },
	{ "claim_race", t_claim_race },
	{ "extents", t_extents },
	{ "random", t_random },
	{ "mirror", t_mirror },
	{ "mirror_rules", t_mirror_rules },
	{ "errors", t_errors },
};

int main(void)
{
	return ktap_run(cases, ARRAY_SIZE(cases));
}
