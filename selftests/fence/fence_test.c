// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the dm-slicepool claim fences (fence.c).
 *
 * Prints KTAP and exits 0 only if every case passes.
 */
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "fence.h"
#include "ktap-unit.h"

static struct sp_fences fs;

static void reset(void)
{
	memset(&fs, 0, sizeof(fs));
}

/* No fence: every claim within the record counts. */
static void test_empty(void)
{
	reset();
	CHECK(sp_fence_claim_ok(&fs, 0, 1), "empty set excludes a claim");
	CHECK(sp_fence_claim_ok(&fs, 1000, 1), "empty set excludes a claim");
	CHECK(!sp_fences_check(&fs), "empty set is invalid");
}

/*
 * The crash_absent case: v had 2 slices, attempt 7 to grow it failed and
 * left orphans at 2..9 stamped 7; attempt 9 committed 2..9 elsewhere.
 */
static void test_interrupted_expand(void)
{
	reset();
	CHECK(!sp_fence_add(&fs, 2, SP_FENCE_END, 7, false), "add");
	CHECK(sp_fence_claim_ok(&fs, 0, 3), "slice 0 of attempt 3 is a claim");
	CHECK(sp_fence_claim_ok(&fs, 1, 3), "slice 1 of attempt 3 is a claim");
	CHECK(!sp_fence_claim_ok(&fs, 2, 7), "orphan 2/7 taken as a claim");
	CHECK(!sp_fence_claim_ok(&fs, 9, 7), "orphan 9/7 taken as a claim");
	CHECK(!sp_fence_claim_ok(&fs, 5, 6), "older orphan 5/6 taken");
	CHECK(sp_fence_claim_ok(&fs, 2, 9), "committed 2/9 excluded");
	CHECK(sp_fence_claim_ok(&fs, 9, 9), "committed 9/9 excluded");
}

/* A newer fence makes older ones from the same or a higher slice moot. */
static void test_dominance(void)
{
	reset();
	CHECK(!sp_fence_add(&fs, 10, SP_FENCE_END, 3, false), "add 10/3");
	CHECK(!sp_fence_add(&fs, 20, SP_FENCE_END, 5, false), "add 20/5");
	CHECK(!sp_fence_add(&fs, 30, SP_FENCE_END, 8, false), "add 30/8");
	CHECK(fs.nr == 3, "nr %u, want 3", fs.nr);
	CHECK(!sp_fence_add(&fs, 15, SP_FENCE_END, 11, false), "add 15/11");
	CHECK(fs.nr == 2, "nr %u, want 2", fs.nr);
	CHECK(fs.f[0].from == 10 && fs.f[0].id == 3, "first kept");
	CHECK(fs.f[1].from == 15 && fs.f[1].id == 11, "new one last");
	CHECK(!sp_fences_check(&fs), "result invalid");
	/* Exactly as strict as the three it replaced, and more. */
	CHECK(!sp_fence_claim_ok(&fs, 25, 5), "25/5 allowed");
	CHECK(!sp_fence_claim_ok(&fs, 15, 11), "15/11 allowed");
	CHECK(sp_fence_claim_ok(&fs, 15, 12), "15/12 refused");
	CHECK(sp_fence_claim_ok(&fs, 12, 4), "12/4 refused (only 10/3 applies)");
	CHECK(!sp_fence_add(&fs, 0, SP_FENCE_END, 12, false), "add 0/12");
	CHECK(fs.nr == 1 && fs.f[0].from == 0, "0/12 replaces all");
}

/* A shrink's fence: released records below its id never come back. */
static void test_shrink(void)
{
	reset();
	CHECK(!sp_fence_add(&fs, 4, SP_FENCE_END, 20, false), "add");
	CHECK(sp_fence_claim_ok(&fs, 3, 19), "kept slice 3/19 excluded");
	CHECK(!sp_fence_claim_ok(&fs, 4, 19), "released 4/19 allowed");
	CHECK(sp_fence_claim_ok(&fs, 4, 21), "re-grown 4/21 excluded");
}

/* Ids must grow; the set is bounded and unchanged when full. */
static void test_bounds(void)
{
	struct sp_fences before;
	unsigned int i;

	reset();
	for (i = 0; i < SP_MAX_FENCES; i++)
		CHECK(!sp_fence_add(&fs, i * 10, SP_FENCE_END, i + 1, false), "add %u", i);
	CHECK(fs.nr == SP_MAX_FENCES, "nr %u", fs.nr);
	before = fs;
	CHECK(sp_fence_add(&fs, 1000, SP_FENCE_END, 100, false) == -EBUSY, "full set grew");
	CHECK(!memcmp(&before, &fs, sizeof(fs)), "refused add changed the set");
	CHECK(sp_fence_add(&fs, 5, SP_FENCE_END, 2, false) == -EINVAL, "an old id was accepted");
	/* A full set still takes a fence that makes one moot. */
	CHECK(!sp_fence_add(&fs, 70, SP_FENCE_END, 101, false), "dominating add refused");
	CHECK(fs.nr == SP_MAX_FENCES, "nr %u", fs.nr);
}

/*
 * A move of slices 3..5 committed as attempt 9: their source records
 * (older ids) are fenced, the slices around them are not.
 */
static void test_move(void)
{
	reset();
	CHECK(!sp_fence_add(&fs, 3, 6, 8, false), "add");
	CHECK(sp_fence_claim_ok(&fs, 2, 1), "slice 2/1 before the range excluded");
	CHECK(!sp_fence_claim_ok(&fs, 3, 1), "moved source 3/1 allowed");
	CHECK(!sp_fence_claim_ok(&fs, 5, 4), "moved source 5/4 allowed");
	CHECK(sp_fence_claim_ok(&fs, 5, 9), "destination 5/9 excluded");
	CHECK(sp_fence_claim_ok(&fs, 6, 1), "slice 6/1 after the range excluded");
	/* A second move inside it replaces it; one around it does not. */
	CHECK(!sp_fence_add(&fs, 0, 10, 12, false), "add 0..10");
	CHECK(fs.nr == 1 && fs.f[0].from == 0 && fs.f[0].to == 10,
	      "covered fence kept");
	CHECK(!sp_fence_add(&fs, 4, 5, 13, false), "add 4..5");
	CHECK(fs.nr == 2, "covering fence dropped");
	CHECK(!sp_fence_claim_ok(&fs, 4, 12), "4/12 allowed");
	CHECK(sp_fence_claim_ok(&fs, 3, 13), "3/13 excluded");
	CHECK(sp_fence_add(&fs, 5, 5, 14, false) == -EINVAL,
	      "empty range accepted");
}

/*
 * An interrupted move of 3..5 (attempt 20): its destination records are
 * excluded, the sources' older claims are not; a later fence does not
 * replace it.
 */
static void test_exact(void)
{
	reset();
	CHECK(!sp_fence_add(&fs, 3, 6, 20, true), "add exact");
	CHECK(!sp_fence_claim_ok(&fs, 4, 20), "interrupted 4/20 allowed");
	CHECK(sp_fence_claim_ok(&fs, 4, 7), "source 4/7 excluded");
	CHECK(sp_fence_claim_ok(&fs, 4, 21), "later 4/21 excluded");
	CHECK(!sp_fence_add(&fs, 0, SP_FENCE_END, 25, false), "add 0..");
	CHECK(fs.nr == 1 && !fs.f[0].exact, "an exact fence outlived a covering one");
	CHECK(!sp_fence_add(&fs, 2, 8, 30, true), "add exact 2..8");
	CHECK(fs.nr == 2, "an exact fence replaced another");
	CHECK(sp_fence_add(&fs, SP_FENCE_EXACT, SP_FENCE_END, 31, false) ==
	      -EINVAL, "a from with the exact bit accepted");
}

static void test_check(void)
{
	reset();
	fs.nr = 2;
	fs.f[0].from = 5;
	fs.f[0].to = SP_FENCE_END;
	fs.f[0].id = 3;
	fs.f[1].from = 6;
	fs.f[1].to = SP_FENCE_END;
	fs.f[1].id = 3;
	CHECK(sp_fences_check(&fs) == -EINVAL, "equal id accepted");
	fs.f[1].id = 4;
	CHECK(!sp_fences_check(&fs), "valid set refused");
	fs.f[1].to = 6;
	CHECK(sp_fences_check(&fs) == -EINVAL, "empty range accepted");
	fs.f[1].to = 7;
	fs.nr = SP_MAX_FENCES + 1;
	CHECK(sp_fences_check(&fs) == -EINVAL, "too many accepted");
}

/*
 * A stored record's fences as the module and the tool read them: decoded
 * (the exact bit of from), bounded by the generation, and the range of a
 * last attempt that did not commit must be a valid fence.
 */
static void test_decode(void)
{
	struct sp_vol_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.generation = htole64(10);
	rec.started = htole64(10);
	rec.nr_fences = htole32(2);
	rec.fences[0].from = htole32(4);
	rec.fences[0].to = htole32(SP_FENCE_END);
	rec.fences[0].id = htole64(3);
	rec.fences[1].from = htole32(2 | SP_FENCE_EXACT);
	rec.fences[1].to = htole32(3);
	rec.fences[1].id = htole64(7);
	reset();
	CHECK(!sp_fences_decode(&rec, &fs), "valid record refused");
	CHECK(fs.nr == 2, "nr %u, want 2", fs.nr);
	CHECK(fs.f[0].from == 4 && !fs.f[0].exact && fs.f[0].id == 3,
	      "fence 0 misread");
	CHECK(fs.f[1].from == 2 && fs.f[1].exact && fs.f[1].to == 3 &&
	      fs.f[1].id == 7, "fence 1 (exact) misread");
	rec.fences[1].id = htole64(11);
	CHECK(sp_fences_decode(&rec, &fs) == -EINVAL,
	      "a fence id above the generation accepted");
	rec.fences[1].id = htole64(7);
	rec.nr_fences = htole32(SP_MAX_FENCES + 1);
	CHECK(sp_fences_decode(&rec, &fs) == -EINVAL, "too many accepted");
	rec.nr_fences = htole32(2);

	/* An attempt 12 that did not commit: its range is checked. */
	rec.started = htole64(12);
	rec.started_from = htole32(5);
	rec.started_to = htole32(SP_FENCE_END);
	CHECK(!sp_fences_decode(&rec, &fs), "uncommitted expand refused");
	rec.started_from = htole32(5 | SP_FENCE_EXACT);
	rec.started_to = htole32(6);
	CHECK(!sp_fences_decode(&rec, &fs), "uncommitted move refused");
	rec.started_to = htole32(5);
	CHECK(sp_fences_decode(&rec, &fs) == -EINVAL,
	      "an uncommitted move of no slice accepted");
	rec.started_from = htole32(9);
	rec.started_to = htole32(6);
	CHECK(sp_fences_decode(&rec, &fs) == -EINVAL,
	      "an uncommitted attempt with from > to accepted");
	/* Committed (started == generation): the range is not used. */
	rec.started = htole64(10);
	CHECK(!sp_fences_decode(&rec, &fs),
	      "a committed record refused for its stale range");
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "no fence excludes nothing", test_empty },
		{ "an interrupted expand's orphans are excluded", test_interrupted_expand },
		{ "a newer fence replaces the ones it covers", test_dominance },
		{ "a shrink fence excludes the released records", test_shrink },
		{ "a move fence excludes only the moved slices' sources", test_move },
		{ "an exact fence excludes one attempt only", test_exact },
		{ "the set is bounded and ids only grow", test_bounds },
		{ "stored sets are validated", test_check },
		{ "stored records are decoded and validated", test_decode },
	};

	return ktap_run(cases, ARRAY_SIZE(cases));
}
