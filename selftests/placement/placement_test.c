// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the dm-slicepool placement rule (placement.c).
 *
 * Build from the repository root:
 *   cc -O2 -Wall -Wextra -Werror -I dm-slicepool -I selftests/lib \
 *      -o build/placement_test \
 *      <this file> dm-slicepool/placement.c
 *
 * Prints KTAP and exits 0 only if every case passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "ktap-unit.h"

#define U64_ALL		(~(u64)0)
#define SENTINEL	0x5a5a5a5a5a5a5a5aULL

/* Candidate with plenty of free space and the given load. */
#define LCAND(i, l)	{ .id = (i), .free = 1000000, .total = 1000000, \
			  .load = (l) }

/* The scratch space of every call (too large for a kernel stack). */
static struct sp_place_work ws;

static struct sp_place_cand lcand(u32 id, u32 load)
{
	struct sp_place_cand c = LCAND(id, load);

	return c;
}

/*
 * Run sp_place() and compare against the expected return code and, on
 * success, the expected shares.  On failure share[] must be untouched.
 */
static void expect_place(const struct sp_place_cand *cand, unsigned int nr,
			 u64 want, const struct sp_place_params *p,
			 int exp_ret, const u64 *exp)
{
	u64 share[SP_PLACE_MAX + 1];
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(share); i++)
		share[i] = SENTINEL;
	ret = sp_place(cand, nr, want, p, share, &ws);
	if (ret != exp_ret) {
		fail("sp_place returned %d, expected %d", ret, exp_ret);
		return;
	}
	for (i = 0; i < nr && i < ARRAY_SIZE(share); i++) {
		u64 e = exp_ret ? SENTINEL : exp[i];

		if (share[i] != e)
			fail("share[%u] (id %u) = %llu, expected %llu", i,
			     cand[i].id, ull(share[i]), ull(e));
	}
}

/* Rule reference example: W 75 and 25, want 4 -> 1 and 3. */
static void t_reference_75_25(void)
{
	struct sp_place_params p = { .w_space = 0, .w_load = 100,
				     .min_spread = 1 };
	struct sp_place_cand c[] = { lcand(1, 75), lcand(2, 25) };
	const u64 exp[] = { 1, 3 };

	CHECK(sp_workload(&c[0], &p) == 75 * SP_W_ONE, "W0 %u",
	      sp_workload(&c[0], &p));
	CHECK(sp_workload(&c[1], &p) == 25 * SP_W_ONE, "W1 %u",
	      sp_workload(&c[1], &p));
	expect_place(c, 2, 4, &p, 0, exp);
	/* min_spread 2 changes nothing: both already have slices */
	p.min_spread = 2;
	expect_place(c, 2, 4, &p, 0, exp);
}

/*
 * sp_workload() of one candidate: each row sets the weights and the
 * candidate's free, total and load, and gives the W it must have.
 */
static const struct {
	const char *what;
	u32 w_space, w_load;
	u64 free, total;
	u32 load;
	u32 w;
} workloads[] = {
	{ "(50 * 40 % + 50 * 20 %) / 100 = 30 %", 50, 50, 600, 1000, 20, 30000 },
	{ "(1 * 50 % + 3 * 10 %) / 4 = 20 %", 1, 3, 500, 1000, 10, 20000 },
	{ "(2 * 100 % + 1 * 1 %) / 3 = 67 % exactly in milli-percent",
	  2, 1, 0, 10, 1, 67000 },
	{ "rounding down: 1 slice used of 3 = 33333.33 -> 33333",
	  100, 0, 2, 3, 1, 33333 },
	{ "small differences survive: 10 used of 10^6 = 0.001 %",
	  100, 0, 999990, 1000000, 1, 1 },
	{ "total 0 counts as empty", 100, 0, 5, 0, 1, 0 },
	{ "free > total counts as empty", 100, 0, 5, 4, 1, 0 },
	{ "load is clamped to 100", 0, 100, 5, 4, 250, SP_W_MAX },
	{ "huge totals: 3/4 used of 2^62",
	  100, 0, 1ULL << 60, 1ULL << 62, 250, 75000 },
	{ "all used of 2^64 - 1", 100, 0, 0, U64_ALL, 250, SP_W_MAX },
};

static void t_workload_fixed_point(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(workloads); i++) {
		struct sp_place_params p = { .w_space = workloads[i].w_space,
					     .w_load = workloads[i].w_load };
		struct sp_place_cand c = { .id = 1, .free = workloads[i].free,
					   .total = workloads[i].total,
					   .load = workloads[i].load };
		u32 w = sp_workload(&c, &p);

		CHECK(w == workloads[i].w, "%s: W %u, expected %u",
		      workloads[i].what, w, workloads[i].w);
	}
}

/* A candidate: id, free and total slices, load. */
#define CAND(i, f, t, l)	{ .id = (i), .free = (f), .total = (t), .load = (l) }
#define PARAMS(s, l, m)	{ .w_space = (s), .w_load = (l), .min_spread = (m) }

/* The candidates of the calls below. */
/* 10 % and 60 % used; loads must be ignored with w_load 0 */
static const struct sp_place_cand space2[] = {
	CAND(1, 900, 1000, 95), CAND(2, 400, 1000, 0)
};

static const struct sp_place_cand full2[] = { LCAND(1, 100), LCAND(2, 0) };

static const struct sp_place_cand near2[] = { LCAND(1, 99), LCAND(2, 0) };

static const struct sp_place_cand loads3[] = {
	LCAND(1, 10), LCAND(2, 40), LCAND(3, 70)
};

static const struct sp_place_cand loads4[] = {
	LCAND(4, 0), LCAND(3, 25), LCAND(2, 50), LCAND(1, 100)
};

/* equal W: the donor among equal shares is the higher id */
static const struct sp_place_cand donor_eq[] = {
	LCAND(1, 0), LCAND(2, 0), LCAND(3, 100)
};

/*
 * weights 90 and 80, want 4: 2.12 and 1.88 -> 2 and 2; the donor is
 * the heavier one (load 20) although it has the lower id.
 */
static const struct sp_place_cand donor_w[] = {
	LCAND(9, 10), LCAND(1, 20), LCAND(5, 100)
};

/*
 * Weights 100, 80, 50, 40 over 270, want 27: ideal 10, 8, 5, 4.
 * id 1 is capped at 2 and id 4 at 1: 11 slices overflow.  The
 * lightest with room is id 2 (fills up to 12), the rest goes to id 3.
 */
static const struct sp_place_cand capped4[] = {
	CAND(1, 2, 100, 0), CAND(2, 12, 100, 20), CAND(3, 100, 100, 50),
	CAND(4, 1, 100, 60)
};

/* everything fits exactly */
static const struct sp_place_cand fit2[] = {
	CAND(1, 3, 10, 0), CAND(2, 4, 10, 90)
};

static const struct sp_place_cand short3[] = {
	CAND(1, 3, 10, 0), CAND(2, 4, 10, 90), CAND(3, 0, 10, 0)
};

static const struct sp_place_cand zero3[] = {
	LCAND(1, 0), LCAND(2, 50), LCAND(3, 100)
};

static const struct sp_place_cand zero3_full[] = {
	CAND(1, 0, 1000000, 0), CAND(2, 0, 1000000, 50),
	CAND(3, 0, 1000000, 100)
};

/* the lightest has no free slice: it neither gets nor counts */
static const struct sp_place_cand lightest_full3[] = {
	CAND(1, 0, 10, 0), CAND(2, 10, 10, 50), CAND(3, 10, 10, 50)
};

/*
 * Weights 25 (id 1) and 75 (id 2), want 2: 0.5 and 1.5, equal
 * remainders; the lower W (id 2) wins although its id is higher.
 */
static const struct sp_place_cand ties_w[] = { LCAND(1, 75), LCAND(2, 25) };

/* equal W, want 2 over three: 2/3 each, the two lowest ids win */
static const struct sp_place_cand ties_id[] = {
	LCAND(9, 30), LCAND(5, 30), LCAND(7, 30)
};

/* weight 1 each: 7 / 3 = 2 each, the extra slice to id 1 */
static const struct sp_place_cand w100[] = {
	LCAND(3, 100), LCAND(1, 100), LCAND(2, 100)
};

/* full on space too */
static const struct sp_place_cand w100_full[] = {
	CAND(1, 0, 8, 0), CAND(2, 5, 5, 100), CAND(3, 5, 5, 100)
};

/* weights 100, 10, 5, want 2: 1.74, 0.17, 0.09 -> 2, 0, 0 -> 1, 1, 0 */
static const struct sp_place_cand below3[] = {
	LCAND(1, 0), LCAND(2, 90), LCAND(3, 95)
};

/*
 * Calls of sp_place() and what each must give (expect_place()), by the
 * KTAP case that makes them: ret, or with ret 0 the shares exp[].
 */
static const struct place_call {
	const char *ktap_case;
	struct sp_place_params p;
	const struct sp_place_cand *c;
	unsigned int nr;
	u64 want;
	int ret;
	u64 exp[4];
} place_calls[] = {
	/* weights 90 and 40: 13 * 90 / 130 = 9, 13 * 40 / 130 = 4 */
	{ "free_space_only", PARAMS(100, 0, 1), space2, 2, 13, 0, { 9, 4 } },
	/* 6.92 and 3.08: floors 6 and 3, larger remainder to the first */
	{ "free_space_only", PARAMS(100, 0, 1), space2, 2, 10, 0, { 7, 3 } },
	{ "heavy_gets_nothing", PARAMS(0, 100, 1), full2, 2, 10, 0, { 0, 10 } },
	/* weights 1 and 100: 0.099 and 9.90 -> remainder goes to id 2 */
	{ "heavy_gets_nothing", PARAMS(0, 100, 1), near2, 2, 10, 0, { 0, 10 } },
	{ "heavy_min_spread_2", PARAMS(0, 100, 2), full2, 2, 10, 0, { 1, 9 } },
	{ "heavy_min_spread_2", PARAMS(0, 100, 2), near2, 2, 10, 0, { 1, 9 } },
	{ "heavy_min_spread_2", PARAMS(0, 100, 2), full2, 2, 2, 0, { 1, 1 } },
	/* want 1 < min_spread: the single slice goes to the lighter one */
	{ "heavy_min_spread_2", PARAMS(0, 100, 2), full2, 2, 1, 0, { 0, 1 } },
	/* weights 90, 60, 30: 5, 3.33, 1.67 -> 5, 3, 2 */
	{ "three_domains", PARAMS(0, 100, 1), loads3, 3, 10, 0, { 5, 3, 2 } },
	/* weights 100, 75, 50, 0 over 225: exactly 4, 3, 2, 0 */
	{ "four_domains", PARAMS(0, 100, 1), loads4, 4, 9, 0, { 4, 3, 2, 0 } },
	/* min_spread 4: the largest share (id 4) gives one to id 1 */
	{ "four_domains", PARAMS(0, 100, 4), loads4, 4, 9, 0, { 3, 3, 2, 1 } },
	{ "spread_donor_ties", PARAMS(0, 100, 3), donor_eq, 3, 4, 0, { 2, 1, 1 } },
	{ "spread_donor_ties", PARAMS(0, 100, 3), donor_w, 3, 4, 0, { 2, 1, 1 } },
	{ "cap_overflow_next_lightest", PARAMS(0, 100, 1), capped4, 4, 27, 0,
	  { 2, 12, 12, 1 } },
	{ "cap_overflow_next_lightest", PARAMS(0, 100, 1), fit2, 2, 7, 0, { 3, 4 } },
	{ "enospc_writes_nothing", PARAMS(50, 50, 2), short3, 3, 8, -ENOSPC, { 0 } },
	{ "enospc_writes_nothing", PARAMS(50, 50, 2), short3, 3, U64_ALL, -ENOSPC,
	  { 0 } },
	{ "enospc_writes_nothing", PARAMS(50, 50, 2), short3, 0, 1, -ENOSPC, { 0 } },
	{ "enospc_writes_nothing", PARAMS(50, 50, 2), &short3[2], 1, 1, -ENOSPC, { 0 } },
	{ "want_zero", PARAMS(50, 50, 3), zero3, 3, 0, 0, { 0, 0, 0 } },
	{ "want_zero", PARAMS(50, 50, 3), zero3_full, 3, 0, 0, { 0, 0, 0 } },
	{ "want_zero", PARAMS(50, 50, 3), zero3_full, 0, 0, 0, { 0 } },
	{ "zero_free_excluded", PARAMS(0, 100, 3), lightest_full3, 3, 4, 0, { 0, 2, 2 } },
	{ "remainder_ties", PARAMS(0, 100, 1), ties_w, 2, 2, 0, { 0, 2 } },
	{ "remainder_ties", PARAMS(0, 100, 2), ties_w, 2, 2, 0, { 1, 1 } },
	{ "remainder_ties", PARAMS(0, 100, 1), ties_id, 3, 2, 0, { 0, 1, 1 } },
	{ "all_w100_equal_split", PARAMS(0, 100, 1), w100, 3, 7, 0, { 2, 3, 2 } },
	{ "all_w100_equal_split", PARAMS(0, 100, 1), w100_full, 3, 6, 0, { 0, 3, 3 } },
	{ "want_below_min_spread", PARAMS(0, 100, 3), below3, 3, 2, 0, { 1, 1, 0 } },
	{ "want_below_min_spread", PARAMS(0, 100, 3), below3, 3, 1, 0, { 1, 0, 0 } },
	/* min_spread above the number of candidates */
	{ "want_below_min_spread", PARAMS(0, 100, 10), below3, 3, 3, 0, { 1, 1, 1 } },
};

/* The calls of place_calls[] that belong to the KTAP case now running. */
static void t_place_calls(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(place_calls); i++) {
		const struct place_call *pc = &place_calls[i];

		if (strcmp(pc->ktap_case, ktap_case_name))
			continue;
		expect_place(pc->c, pc->nr, pc->want, &pc->p, pc->ret, pc->exp);
		n++;
	}
	CHECK(n, "no call of sp_place() for %s", ktap_case_name);
}

static void t_invalid_args(void)
{
	struct sp_place_params p = { .w_space = 50, .w_load = 50,
				     .min_spread = 1 };
	struct sp_place_cand c[SP_PLACE_MAX + 1];
	const u64 exp1[] = { 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		c[i] = lcand(i, 0);
	expect_place(c, SP_PLACE_MAX + 1, 1, &p, -E2BIG, NULL);
	p.w_space = 0;
	p.w_load = 0;
	expect_place(c, 1, 1, &p, -EINVAL, NULL);
	p.w_space = 101;
	expect_place(c, 1, 1, &p, -EINVAL, NULL);
	p.w_space = 50;
	p.w_load = 101;
	expect_place(c, 1, 1, &p, -EINVAL, NULL);
	p.w_load = 0;
	expect_place(c, 1, 1, &p, 0, exp1);
	c[1].id = c[0].id;
	expect_place(c, 2, 1, &p, -EINVAL, NULL);
}

static void t_large_values(void)
{
	struct sp_place_params p = { .w_space = 100, .w_load = 100,
				     .min_spread = 64 };
	static struct sp_place_cand c[SP_PLACE_MAX];
	static u64 exp[SP_PLACE_MAX];
	unsigned int i;

	/*
	 * 64 empty domains of 2^32 slices, want 2^38 - 5: 2^32 - 5/64 each,
	 * so 59 get 2^32 (lowest ids) and 5 get 2^32 - 1.
	 */
	for (i = 0; i < 64; i++) {
		c[i].id = 1000 - i;
		c[i].free = 1ULL << 32;
		c[i].total = 1ULL << 32;
		c[i].load = 0;
		exp[i] = c[i].id < 1000 - 63 + 59 ? 1ULL << 32 :
			 (1ULL << 32) - 1;
	}
	expect_place(c, 64, (1ULL << 38) - 5, &p, 0, exp);

	/*
	 * Two domains of 2^63 free slices, W 25 and 75, want 2^64 - 1: the
	 * ideal 3/4 share is capped at 2^63, the rest goes to the other.
	 */
	p.w_space = 0;
	p.min_spread = 1;
	c[0].id = 1;
	c[0].free = 1ULL << 63;
	c[0].total = U64_ALL;
	c[0].load = 25;
	c[1].id = 2;
	c[1].free = 1ULL << 63;
	c[1].total = U64_ALL;
	c[1].load = 75;
	exp[0] = 1ULL << 63;
	exp[1] = (1ULL << 63) - 1;
	expect_place(c, 2, U64_ALL, &p, 0, exp);

	/* same, no cap: want 2^62 + 3 -> 3/4 and 1/4, remainder 0.25/0.75 */
	exp[0] = (3ULL << 60) + 2;
	exp[1] = (1ULL << 60) + 1;
	expect_place(c, 2, (1ULL << 62) + 3, &p, 0, exp);
}

/*
 * More candidates than the old limit of 64: SP_PLACE_MAX (4096) empty
 * members of 2^32 slices, want 2^44 - 5: 2^32 - 5/4096 each, so the 4091
 * lowest ids get 2^32 and the 5 highest 2^32 - 1; 300 members of 2 free
 * slices each, want 299: one each, but the highest id, and min_spread
 * 300 cannot give more spread than 299 slices; a pool's worth of 4096
 * single-slice volumes' order is one pick per candidate in id order; and
 * SP_PLACE_MAX + 1 is refused.
 */
static void t_many_candidates(void)
{
	struct sp_place_params p = { .w_space = 100, .w_load = 0,
				     .min_spread = SP_PLACE_MAX };
	static struct sp_place_cand c[SP_PLACE_MAX + 1];
	static u64 exp[SP_PLACE_MAX + 1], share[SP_PLACE_MAX];
	static u32 out[SP_PLACE_MAX];
	unsigned int i, ok;
	int ret;

	for (i = 0; i < SP_PLACE_MAX; i++) {
		c[i].id = 10000 - i;
		c[i].free = 1ULL << 32;
		c[i].total = 1ULL << 32;
		c[i].load = 0;
		exp[i] = c[i].id < 10000 - (SP_PLACE_MAX - 1) + (SP_PLACE_MAX - 5) ?
			 1ULL << 32 : (1ULL << 32) - 1;
	}
	expect_place(c, SP_PLACE_MAX, (1ULL << 44) - 5, &p, 0, exp);

	p.min_spread = 300;
	for (i = 0; i < 300; i++) {
		c[i].id = i;
		c[i].free = 2;
		c[i].total = 2;
		exp[i] = i < 299;
	}
	expect_place(c, 300, 299, &p, 0, exp);

	p.min_spread = 1;
	for (i = 0; i < SP_PLACE_MAX; i++) {
		c[i].id = SP_PLACE_MAX - i;
		c[i].free = 7;
		c[i].total = 7;
	}
	ret = sp_place(c, SP_PLACE_MAX, SP_PLACE_MAX, &p, share, &ws);
	CHECK(ret == 0, "sp_place of %u over %u: %d", SP_PLACE_MAX,
	      SP_PLACE_MAX, ret);
	if (!ret)
		ret = sp_place_order(c, share, SP_PLACE_MAX, SP_PLACE_MAX, out,
				     &ws);
	CHECK(ret == 0, "sp_place_order: %d", ret);
	/* id order is index SP_PLACE_MAX - 1 down to 0 */
	for (i = 0, ok = 1; !ret && i < SP_PLACE_MAX; i++)
		ok &= out[i] == SP_PLACE_MAX - 1 - i;
	CHECK(ret || ok, "not one pick per candidate in id order");

	c[SP_PLACE_MAX] = lcand(0, 0);
	expect_place(c, SP_PLACE_MAX + 1, 1, &p, -E2BIG, NULL);
}

static void t_permutation_invariance(void)
{
	struct sp_place_params p = { .w_space = 40, .w_load = 60,
				     .min_spread = 4 };
	/* some W ties, a cap and a zero-free one */
	const struct sp_place_cand base[] = {
		{ .id = 11, .free = 3, .total = 50, .load = 10 },
		{ .id = 4, .free = 40, .total = 50, .load = 10 },
		{ .id = 7, .free = 40, .total = 50, .load = 10 },
		{ .id = 2, .free = 10, .total = 50, .load = 70 },
		{ .id = 30, .free = 0, .total = 50, .load = 0 },
		{ .id = 5, .free = 25, .total = 50, .load = 100 },
	};
	enum { N = ARRAY_SIZE(base) };
	struct sp_place_cand c[N];
	u64 ref[N], share[N];
	unsigned int perm[N], cnt[N], i, j, tmp, n_perm = 0, bad = 0;
	u64 sum = 0;

	if (sp_place(base, N, 23, &p, ref, &ws)) {
		fail("base placement failed");
		return;
	}
	for (i = 0; i < N; i++)
		sum += ref[i];
	CHECK(sum == 23, "sum %llu", ull(sum));

	/* all N! orders, generated by Heap's algorithm */
	for (i = 0; i < N; i++) {
		perm[i] = i;
		cnt[i] = 0;
	}
	i = 0;
	for (;;) {
		for (j = 0; j < N; j++)
			c[j] = base[perm[j]];
		if (sp_place(c, N, 23, &p, share, &ws))
			bad++;
		for (j = 0; j < N; j++)
			if (share[j] != ref[perm[j]])
				bad++;
		n_perm++;
		while (i < N && cnt[i] >= i) {
			cnt[i] = 0;
			i++;
		}
		if (i >= N)
			break;
		j = (i % 2) ? cnt[i] : 0;
		tmp = perm[j];
		perm[j] = perm[i];
		perm[i] = tmp;
		cnt[i]++;
		i = 0;
	}
	CHECK(n_perm == 720, "ran %u permutations", n_perm);
	CHECK(!bad, "%u mismatches over %u permutations", bad, n_perm);
}

/* ---- randomised property test against an independent model ---- */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

struct model {
	const struct sp_place_cand *c;
	u32 w[SP_PLACE_MAX];
	u64 rem[SP_PLACE_MAX];
};

static const struct model *cmp_model;

/* Straight from the rule text, in 128-bit arithmetic. */
static u32 model_workload(const struct sp_place_cand *c,
			  const struct sp_place_params *p)
{
	unsigned __int128 used_pct = 0;
	u64 load = c->load > 100 ? 100 : c->load;

	if (c->total && c->free < c->total)
		used_pct = (unsigned __int128)(c->total - c->free) *
			   100000 / c->total;
	return (u32)(((unsigned __int128)p->w_space * used_pct +
		      (unsigned __int128)p->w_load * load * 1000) /
		     (p->w_space + p->w_load));
}

static int cmp_light(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a;
	unsigned int y = *(const unsigned int *)b;
	const struct model *m = cmp_model;

	if (m->w[x] != m->w[y])
		return m->w[x] < m->w[y] ? -1 : 1;
	return m->c[x].id < m->c[y].id ? -1 : 1;
}

static int cmp_rem(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a;
	unsigned int y = *(const unsigned int *)b;
	const struct model *m = cmp_model;

	if (m->rem[x] != m->rem[y])
		return m->rem[x] > m->rem[y] ? -1 : 1;
	return cmp_light(a, b);
}

static int model_place(const struct sp_place_cand *c, unsigned int nr,
		       u64 want, const struct sp_place_params *p, u64 *share)
{
	struct model m = { .c = c };
	unsigned int ord[SP_PLACE_MAX], np = 0, i, j, k, nz;
	unsigned __int128 avail = 0, sum_wt = 0, given = 0, over = 0;
	int equal;

	for (i = 0; i < nr; i++) {
		share[i] = 0;
		if (!c[i].free)
			continue;
		m.w[i] = model_workload(&c[i], p);
		avail += c[i].free;
		ord[np++] = i;
	}
	if (avail < want)
		return -ENOSPC;
	if (!want)
		return 0;
	for (j = 0; j < np; j++)
		sum_wt += SP_W_MAX - m.w[ord[j]];
	equal = sum_wt == 0;
	if (equal)
		sum_wt = np;
	for (j = 0; j < np; j++) {
		unsigned __int128 wt = equal ? 1 : SP_W_MAX - m.w[ord[j]];

		share[ord[j]] = (u64)((unsigned __int128)want * wt / sum_wt);
		m.rem[ord[j]] = (u64)((unsigned __int128)want * wt % sum_wt);
		given += share[ord[j]];
	}
	cmp_model = &m;
	qsort(ord, np, sizeof(ord[0]), cmp_rem);
	for (j = 0; given < want; j++, given++)
		share[ord[j]]++;
	qsort(ord, np, sizeof(ord[0]), cmp_light);
	for (j = 0; j < np; j++) {
		i = ord[j];
		if (share[i] > c[i].free) {
			over += share[i] - c[i].free;
			share[i] = c[i].free;
		}
	}
	for (j = 0; j < np; j++) {
		i = ord[j];
		while (over && share[i] < c[i].free) {
			u64 step = c[i].free - share[i];

			if (step > over)
				step = (u64)over;
			share[i] += step;
			over -= step;
		}
	}
	k = p->min_spread;
	if (k > np)
		k = np;
	if (k > want)
		k = (unsigned int)want;
	for (;;) {
		unsigned int donor = ord[0], recv = nr;

		nz = 0;
		for (j = 0; j < np; j++)
			nz += share[ord[j]] != 0;
		if (nz >= k)
			break;
		for (j = 0; j < np; j++) {
			i = ord[j];
			if (share[i] > share[donor] ||
			    (share[i] == share[donor] &&
			     cmp_light(&donor, &i) < 0))
				donor = i;
		}
		for (j = np; j-- > 0;)
			if (!share[ord[j]])
				recv = ord[j];
		share[donor]--;
		share[recv]++;
	}
	return 0;
}

static void random_cand(struct sp_place_cand *c, unsigned int nr, int big)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		do {
			c[i].id = (u32)rnd_below(big ? 1ULL << 32 : 3 * nr);
			for (j = 0; j < i; j++)
				if (c[j].id == c[i].id)
					break;
		} while (j < i);
		c[i].total = big ? rnd_below(1ULL << 32) + 1 : rnd_below(30);
		switch (rnd_below(8)) {
		case 0:
			c[i].free = 0;
			break;
		case 1:
			c[i].free = c[i].total;
			break;
		case 2:
			c[i].free = c[i].total + rnd_below(5);
			break;
		default:
			c[i].free = rnd_below(c[i].total + 1);
		}
		c[i].load = rnd_below(8) ? (u32)rnd_below(101) :
			    (u32)(rnd_below(2) ? 100 : 100 + rnd_below(50));
	}
}

static void t_random_property(void)
{
	struct sp_place_cand c[SP_PLACE_MAX], s[SP_PLACE_MAX];
	u64 share[SP_PLACE_MAX], again[SP_PLACE_MAX], model[SP_PLACE_MAX];
	u64 perm_share[SP_PLACE_MAX];
	unsigned int iter, i, nr, pos[SP_PLACE_MAX], errors = 0, placed = 0;
	unsigned int spread_used = 0, capped = 0;

	for (iter = 0; iter < 20000 && errors < 10; iter++) {
		struct sp_place_params p, p1;
		int big = !(iter % 5);
		u64 avail = 0, sum = 0, want;
		unsigned int np = 0, nz = 0, k;
		int ret, mret;

		/* Mostly small; some up to 64, a few up to SP_PLACE_MAX. */
		if (iter % 97)
			nr = (unsigned int)rnd_below(9) + 1;
		else if (iter % (97 * 7))
			nr = (unsigned int)rnd_below(64) + 1;
		else
			nr = (unsigned int)rnd_below(SP_PLACE_MAX) + 1;
		random_cand(c, nr, big);
		do {
			p.w_space = rnd_below(3) ? (u32)rnd_below(101) : 0;
			p.w_load = rnd_below(3) ? (u32)rnd_below(101) : 100;
		} while (!p.w_space && !p.w_load);
		p.min_spread = (u32)rnd_below(nr + 3);
		for (i = 0; i < nr; i++) {
			avail += c[i].free;
			np += c[i].free != 0;
		}
		want = rnd_below(avail + 2);
		if (!rnd_below(10))
			want = avail;

		for (i = 0; i < nr; i++)
			share[i] = SENTINEL;
		ret = sp_place(c, nr, want, &p, share, &ws);
		mret = model_place(c, nr, want, &p, model);
		if (ret != mret) {
			fail("iter %u: ret %d model %d", iter, ret, mret);
			errors++;
			continue;
		}
		if (ret) {
			if (ret != -ENOSPC || avail >= want) {
				fail("iter %u: ret %d avail %llu want %llu",
				     iter, ret, ull(avail), ull(want));
				errors++;
			}
			for (i = 0; i < nr; i++)
				if (share[i] != SENTINEL) {
					fail("iter %u: share written on error",
					     iter);
					errors++;
					break;
				}
			continue;
		}
		placed++;
		k = p.min_spread < np ? p.min_spread : np;
		if (want < k)
			k = (unsigned int)want;
		for (i = 0; i < nr; i++) {
			sum += share[i];
			nz += share[i] != 0;
			if (share[i] > c[i].free) {
				fail("iter %u: share %llu > free %llu", iter,
				     ull(share[i]), ull(c[i].free));
				errors++;
			}
			if (share[i] == c[i].free && share[i])
				capped++;
			if (share[i] != model[i]) {
				fail("iter %u: share[%u] %llu, model %llu",
				     iter, i, ull(share[i]), ull(model[i]));
				errors++;
			}
		}
		if (sum != want) {
			fail("iter %u: sum %llu want %llu", iter, ull(sum),
			     ull(want));
			errors++;
		}
		if (nz < k) {
			fail("iter %u: %u non-zero, k %u", iter, nz, k);
			errors++;
		}
		/* count the cases where rule 6 actually moved slices */
		p1 = p;
		p1.min_spread = 1;
		model_place(c, nr, want, &p1, again);
		if (memcmp(again, share, nr * sizeof(share[0])))
			spread_used++;

		/* determinism: same call again */
		if (sp_place(c, nr, want, &p, again, &ws) ||
		    memcmp(again, share, nr * sizeof(share[0]))) {
			fail("iter %u: second call differs", iter);
			errors++;
		}

		/* order independence: Fisher-Yates shuffle */
		for (i = 0; i < nr; i++)
			pos[i] = i;
		for (i = nr; i > 1; i--) {
			unsigned int j = (unsigned int)rnd_below(i);
			unsigned int t = pos[i - 1];

			pos[i - 1] = pos[j];
			pos[j] = t;
		}
		for (i = 0; i < nr; i++)
			s[i] = c[pos[i]];
		if (sp_place(s, nr, want, &p, perm_share, &ws)) {
			fail("iter %u: shuffled call failed", iter);
			errors++;
			continue;
		}
		for (i = 0; i < nr; i++)
			if (perm_share[i] != share[pos[i]]) {
				fail("iter %u: shuffled share differs", iter);
				errors++;
				break;
			}
	}
	/* make sure the generator reaches the interesting paths */
	CHECK(placed > 10000, "only %u placements", placed);
	CHECK(capped > 1000, "only %u capped shares", capped);
	CHECK(spread_used > 1000, "only %u spread cases", spread_used);
	CHECK(!errors, "%u errors", errors);
}

/* ---- sp_place_order() ---- */

static void t_order_alternates(void)
{
	struct sp_place_cand c[] = { lcand(10, 0), lcand(5, 0), lcand(7, 0) };
	const u64 share[] = { 3, 1, 2 };
	/* id order 5, 7, 10 = index 1, 2, 0; rounds {1,2,0} {2,0} {0} */
	const u32 exp[] = { 1, 2, 0, 2, 0, 0 };
	u32 out[8];
	unsigned int i;
	int ret;

	ret = sp_place_order(c, share, 3, 6, out, &ws);
	CHECK(ret == 0, "ret %d", ret);
	for (i = 0; !ret && i < ARRAY_SIZE(exp); i++)
		CHECK(out[i] == exp[i], "out[%u] = %u, expected %u", i,
		      out[i], exp[i]);

	/* wrong sums and too many candidates leave out_idx alone */
	memset(out, 0xff, sizeof(out));
	ret = sp_place_order(c, share, 3, 5, out, &ws);
	CHECK(ret == -EINVAL, "ret %d for sum 6 want 5", ret);
	ret = sp_place_order(c, share, 3, 7, out, &ws);
	CHECK(ret == -EINVAL, "ret %d for sum 6 want 7", ret);
	ret = sp_place_order(c, share, SP_PLACE_MAX + 1, 6, out, &ws);
	CHECK(ret == -E2BIG, "ret %d for nr %u", ret, SP_PLACE_MAX + 1);
	c[2].id = 5;
	ret = sp_place_order(c, share, 3, 6, out, &ws);
	CHECK(ret == -EINVAL, "ret %d for duplicate ids", ret);
	for (i = 0; i < ARRAY_SIZE(out); i++)
		CHECK(out[i] == 0xffffffffU, "out[%u] written on error", i);
}

static void t_order_property(void)
{
	struct sp_place_cand c[SP_PLACE_MAX], s[SP_PLACE_MAX];
	u64 share[SP_PLACE_MAX], sshare[SP_PLACE_MAX], cnt[SP_PLACE_MAX];
	static u32 out[4096], sout[4096];
	unsigned int iter, i, j, nr, pos[SP_PLACE_MAX], errors = 0;

	for (iter = 0; iter < 3000 && errors < 10; iter++) {
		struct sp_place_params p = { .w_space = 50, .w_load = 50 };
		u64 avail = 0, want, left;

		nr = (unsigned int)rnd_below(12) + 1;
		random_cand(c, nr, 0);
		p.min_spread = (u32)rnd_below(nr + 1);
		for (i = 0; i < nr; i++)
			avail += c[i].free;
		want = rnd_below(avail + 1);
		if (sp_place(c, nr, want, &p, share, &ws) ||
		    sp_place_order(c, share, nr, want, out, &ws)) {
			fail("iter %u: placement failed", iter);
			errors++;
			continue;
		}
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < want; i++) {
			if (out[i] >= nr) {
				fail("iter %u: bad index %u", iter, out[i]);
				errors++;
				break;
			}
			cnt[out[i]]++;
			/* a repeat only when it is the last one with share */
			left = 0;
			for (j = 0; j < nr; j++)
				if (j != out[i] && cnt[j] < share[j])
					left++;
			if (i && out[i] == out[i - 1] && left) {
				fail("iter %u: repeat at %u", iter, i);
				errors++;
				break;
			}
			/*
			 * Within a round (same pick count) ids ascend; a new
			 * round (one more pick) restarts at a lower id.
			 */
			if (i && out[i] != out[i - 1] &&
			    !((cnt[out[i]] == cnt[out[i - 1]] &&
			       c[out[i]].id > c[out[i - 1]].id) ||
			      (cnt[out[i]] == cnt[out[i - 1]] + 1 &&
			       c[out[i]].id < c[out[i - 1]].id))) {
				fail("iter %u: round order broken at %u",
				     iter, i);
				errors++;
				break;
			}
		}
		for (i = 0; i < nr; i++)
			if (cnt[i] != share[i]) {
				fail("iter %u: idx %u picked %llu times, share %llu",
				     iter, i, ull(cnt[i]), ull(share[i]));
				errors++;
				break;
			}

		/* shuffled input: same sequence of ids */
		for (i = 0; i < nr; i++)
			pos[i] = i;
		for (i = nr; i > 1; i--) {
			unsigned int t;

			j = (unsigned int)rnd_below(i);
			t = pos[i - 1];
			pos[i - 1] = pos[j];
			pos[j] = t;
		}
		for (i = 0; i < nr; i++) {
			s[i] = c[pos[i]];
			sshare[i] = share[pos[i]];
		}
		if (sp_place_order(s, sshare, nr, want, sout, &ws)) {
			fail("iter %u: shuffled order failed", iter);
			errors++;
			continue;
		}
		for (i = 0; i < want; i++)
			if (s[sout[i]].id != c[out[i]].id) {
				fail("iter %u: shuffled order differs at %u",
				     iter, i);
				errors++;
				break;
			}
	}
	CHECK(!errors, "%u errors", errors);
}

/* ---- copies (rules 8 to 10) ---- */

/*
 * Check one result of sp_place_copies(): every leg on a candidate with
 * room, the legs of each slice on distinct candidates, shares that count
 * the legs and fit the free slices.  Returns the number of faults.
 */
static unsigned int check_copies(const struct sp_place_cand *c, unsigned int nr,
				 u64 want, u32 copies, const u64 *share,
				 const u32 *out)
{
	u64 cnt[SP_PLACE_MAX] = { 0 }, i;
	unsigned int bad = 0, k, j;

	for (i = 0; i < want; i++)
		for (k = 0; k < copies; k++) {
			u32 x = out[i * copies + k];

			if (x >= nr) {
				fail("slice %llu leg %u: candidate %u of %u", ull(i), k, x, nr);
				return bad + 1;
			}
			cnt[x]++;
			for (j = 0; j < k; j++)
				if (out[i * copies + j] == x) {
					fail("slice %llu: legs %u and %u both on id %u",
					     ull(i), j, k, c[x].id);
					bad++;
				}
		}
	for (k = 0; k < nr; k++)
		if (cnt[k] != share[k] || share[k] > c[k].free) {
			fail("id %u: %llu legs, share %llu, free %llu", c[k].id,
			     ull(cnt[k]), ull(share[k]), ull(c[k].free));
			bad++;
		}
	return bad;
}

/* copies 1 is rules 1 to 7: sp_place() and sp_place_order() */
static void t_copies_one(void)
{
	struct sp_place_params p = { .w_space = 50, .w_load = 50, .min_spread = 2 };
	struct sp_place_cand c[] = { lcand(4, 30), lcand(2, 60), lcand(9, 10) };
	u64 share[3], share1[3];
	u32 out[10], out1[10];
	unsigned int i;

	CHECK(!sp_place(c, 3, 10, &p, share, &ws) &&
	      !sp_place_order(c, share, 3, 10, out, &ws), "sp_place");
	CHECK(!sp_place_copies(c, 3, 10, 1, &p, share1, out1, &ws), "copies 1");
	for (i = 0; i < 3; i++)
		CHECK(share[i] == share1[i], "share[%u] %llu, not %llu", i,
		      ull(share1[i]), ull(share[i]));
	for (i = 0; i < 10; i++)
		CHECK(out[i] == out1[i], "pick %u: %u, not %u", i, out1[i], out[i]);
}

/*
 * Leg 0 by the load ratio, each further leg in the lightest domain that
 * holds no leg of its slice: loads 10, 50, 90 %, one slice, copies 2:
 * leg 0 to the 10 % domain (the lightest takes the one slice), leg 1 to
 * the 50 % one; copies 3: leg 2 to the 90 % one.
 */
static void t_copies_lightest(void)
{
	struct sp_place_params p = { .w_space = 0, .w_load = 100, .min_spread = 1 };
	struct sp_place_cand c[] = { lcand(7, 90), lcand(5, 10), lcand(6, 50) };
	u64 share[3];
	u32 out[3];

	CHECK(!sp_place_copies(c, 3, 1, 2, &p, share, out, &ws), "copies 2");
	CHECK(out[0] == 1 && out[1] == 2, "legs on ids %u, %u; not 5, 6",
	      c[out[0]].id, c[out[1]].id);
	CHECK(!sp_place_copies(c, 3, 1, 3, &p, share, out, &ws), "copies 3");
	CHECK(out[0] == 1 && out[1] == 2 && out[2] == 0, "legs on ids %u, %u, %u",
	      c[out[0]].id, c[out[1]].id, c[out[2]].id);
	CHECK(!check_copies(c, 3, 1, 3, share, out), "result");
}

/*
 * A domain fills as it takes legs: two empty domains of 4 slices and one
 * of 100, space only, 4 slices of copies 2: every leg 1 avoids its
 * slice's leg 0, and no domain takes more than it has.
 */
static void t_copies_fill(void)
{
	struct sp_place_params p = { .w_space = 100, .w_load = 0, .min_spread = 1 };
	struct sp_place_cand c[] = {
		{ .id = 1, .free = 4, .total = 4 },
		{ .id = 2, .free = 4, .total = 4 },
		{ .id = 3, .free = 100, .total = 100 },
	};
	u64 share[3];
	u32 out[8];

	CHECK(!sp_place_copies(c, 3, 4, 2, &p, share, out, &ws), "copies 2");
	CHECK(!check_copies(c, 3, 4, 2, share, out), "result");
	CHECK(share[0] + share[1] + share[2] == 8, "%llu legs",
	      ull(share[0] + share[1] + share[2]));
}

/*
 * Refusals (rule 10): copies 0 or 4 (-EINVAL), copies above the domains
 * with a free slice (-EXDEV, sp_place_domains() counts them), too few
 * free slices apart (-ENOSPC).
 */
static void t_copies_refused(void)
{
	struct sp_place_params p = { .w_space = 50, .w_load = 50, .min_spread = 1 };
	struct sp_place_cand c[] = {
		{ .id = 1, .free = 1, .total = 4 },
		{ .id = 2, .free = 1, .total = 4 },
		{ .id = 3, .free = 0, .total = 4 },
	};
	u64 share[3];
	u32 out[12];

	CHECK(sp_place_copies(c, 3, 1, 0, &p, share, out, &ws) == -EINVAL, "copies 0");
	CHECK(sp_place_copies(c, 3, 1, SP_MAX_COPIES + 1, &p, share, out, &ws) ==
	      -EINVAL, "copies 4");
	CHECK(sp_place_domains(c, 3) == 2, "%u domains with space",
	      sp_place_domains(c, 3));
	CHECK(sp_place_copies(c, 3, 1, 3, &p, share, out, &ws) == -EXDEV,
	      "copies 3 over 2 domains with space");
	CHECK(sp_place_copies(c, 3, 2, 2, &p, share, out, &ws) == -ENOSPC,
	      "2 slices of 2 copies in 2 free slices");
	CHECK(!sp_place_copies(c, 3, 1, 2, &p, share, out, &ws) &&
	      !check_copies(c, 3, 1, 2, share, out), "1 slice of 2 copies");
}

/*
 * Random pools: every result that succeeds keeps the legs of each slice
 * apart and within the free slices; refusals only as rule 10 says; the
 * result depends on the candidates, not their order (by id).
 */
static void t_copies_property(void)
{
	static struct sp_place_cand c[64], s[64];
	static u64 share[64], sshare[64];
	static u32 out[3 * 200], sout[3 * 200];
	unsigned int iter, nr, i, errors = 0, placed = 0, pos[64];

	for (iter = 0; iter < 2000 && errors < 5; iter++) {
		struct sp_place_params p = { .w_space = 1 + (u32)rnd_below(100),
					     .w_load = (u32)rnd_below(101),
					     .min_spread = 1 + (u32)rnd_below(3) };
		u32 copies = 1 + (u32)rnd_below(3);
		u64 want = (u32)rnd_below(200), k;
		int r;

		nr = 1 + (u32)rnd_below(64);
		for (i = 0; i < nr; i++) {
			c[i].id = i * 7 + 3;
			c[i].total = 1 + (u32)rnd_below(50);
			c[i].free = (u32)rnd_below((c[i].total + 1));
			c[i].load = (u32)rnd_below(101);
		}
		r = sp_place_copies(c, nr, want, copies, &p, share, out, &ws);
		if (r == -EXDEV && copies <= sp_place_domains(c, nr)) {
			fail("iter %u: -EXDEV with %u domains", iter,
			     sp_place_domains(c, nr));
			errors++;
		}
		if (r == -EXDEV || r == -ENOSPC)
			continue;
		if (r) {
			fail("iter %u: %d", iter, r);
			errors++;
			continue;
		}
		placed++;
		errors += check_copies(c, nr, want, copies, share, out);
		for (i = 0; i < nr; i++)
			pos[i] = i;
		for (i = nr; i > 1; i--) {
			unsigned int j = (u32)rnd_below(i), t = pos[i - 1];

			pos[i - 1] = pos[j];
			pos[j] = t;
		}
		for (i = 0; i < nr; i++)
			s[i] = c[pos[i]];
		if (sp_place_copies(s, nr, want, copies, &p, sshare, sout, &ws)) {
			fail("iter %u: shuffled copies failed", iter);
			errors++;
			continue;
		}
		for (k = 0; k < want * copies; k++)
			if (s[sout[k]].id != c[out[k]].id) {
				fail("iter %u: shuffled leg %llu differs", iter, ull(k));
				errors++;
				break;
			}
	}
	CHECK(!errors, "%u errors", errors);
	CHECK(placed > 500, "only %u of 2000 placed", placed);
}

static const struct ktap_case cases[] = {
	{ "reference_75_25", t_reference_75_25 },
	{ "workload_fixed_point", t_workload_fixed_point },
	{ "free_space_only", t_place_calls },
	{ "heavy_gets_nothing", t_place_calls },
	{ "heavy_min_spread_2", t_place_calls },
	{ "three_domains", t_place_calls },
	{ "four_domains", t_place_calls },
	{ "spread_donor_ties", t_place_calls },
	{ "cap_overflow_next_lightest", t_place_calls },
	{ "enospc_writes_nothing", t_place_calls },
	{ "want_zero", t_place_calls },
	{ "zero_free_excluded", t_place_calls },
	{ "remainder_ties", t_place_calls },
	{ "all_w100_equal_split", t_place_calls },
	{ "want_below_min_spread", t_place_calls },
	{ "invalid_args", t_invalid_args },
	{ "large_values", t_large_values },
	{ "many_candidates", t_many_candidates },
	{ "permutation_invariance", t_permutation_invariance },
	{ "random_property", t_random_property },
	{ "order_alternates", t_order_alternates },
	{ "order_property", t_order_property },
	{ "copies_one_is_load_ratio", t_copies_one },
	{ "copies_lightest_eligible", t_copies_lightest },
	{ "copies_domain_fills", t_copies_fill },
	{ "copies_refused", t_copies_refused },
	{ "copies_property", t_copies_property },
};

int main(void)
{
	return ktap_run(cases, ARRAY_SIZE(cases));
}
