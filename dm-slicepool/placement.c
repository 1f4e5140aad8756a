// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool slice placement rule.
 *
 * The same rule places a request at both levels: over the failure domains
 * of a pool, then over the members inside each chosen domain.  Input is a
 * set of candidates, each with a stable unique id, its free and total
 * slices and its measured access load (0..100 percent), the pool weights
 * w_space and w_load (each 0..100, not both 0), min_spread (min_domains at
 * domain level, 1 at member level) and the number of slices wanted.
 *
 *  1. Workload.  The workload W of a candidate is
 *     W = (w_space * used_pct + w_load * load) / (w_space + w_load),
 *     where used_pct = 100 * (total - free) / total (0 if total is 0 or
 *     free exceeds total) and load is clamped to 100.  W ranges from 0 to
 *     100 and is kept in fixed point with 1000 units per percentage point
 *     (0..100000); each division rounds down.
 *  2. Participation.  Candidates with no free slice take no part and get
 *     no slice.  If want is 0, every share is 0.  If the free slices of all
 *     candidates add up to less than want, the request fails with ENOSPC
 *     and nothing is placed.
 *  3. Weight.  The weight of a participant is 100 - W (in the same fixed
 *     point).  If every participant has weight 0 (all have W = 100), each
 *     gets weight 1 instead, which splits the request equally.
 *  4. Proportional share.  The ideal share of a participant is
 *     want * weight / (sum of all weights).  Each participant first gets its
 *     ideal share rounded down; the slices left over are then handed out
 *     one at a time, at most one per participant, in order of largest
 *     remainder of that division.  Equal remainders go to the lower W,
 *     then to the lower id.
 *  5. Capacity.  A share larger than the free slices of its candidate is
 *     cut down to them.  The slices cut off go to the lightest participant
 *     (lowest W, then lowest id) that still has free slices beyond its
 *     share, up to that limit; what does not fit goes to the next lightest,
 *     and so on until every slice is placed.
 *  6. Spread.  Let k be the smallest of min_spread, the number of
 *     participants and want.  While fewer than k participants have a share
 *     above 0, one slice moves from the participant with the largest share
 *     (equal shares: the higher W, then the higher id) to the lightest
 *     participant (lowest W, then lowest id) whose share is 0.
 *  7. Determinism.  Every choice above is made by share, remainder, W and
 *     id only, so the result depends on the candidates, not on their order
 *     in the input.  Ids must therefore be unique within one call.  At most
 *     SP_PLACE_MAX (4096) candidates are accepted per call.
 *
 * The picks of a volume are ordered by sp_place_order(): in rounds, each
 * round taking one slice from every candidate that still has share left,
 * in ascending id order, until all shares are used up.  Logical slice i of
 * the request is placed on the i-th pick.  Two consecutive picks land on
 * the same candidate only when it is the last one with share left.
 *
 * Copies.  A volume of copies > 1 (up to SP_MAX_COPIES) places a leg per
 * copy of each logical slice over the failure domains, by
 * sp_place_copies():
 *  8. Leg 0 of every logical slice is placed by rules 1 to 7 (sp_place()
 *     and sp_place_order()).
 *  9. Then, leg 1 of every slice in order, then leg 2: each goes to the
 *     lightest eligible candidate, lowest W then lowest id, where a
 *     candidate is eligible if it has a free slice left (its free slices
 *     less the legs this call gave it) and holds no other leg of that
 *     slice; W (rule 1) is that of its free slices left, so a candidate
 *     gets heavier with each leg it takes.
 * 10. Refusals, before anything is placed: copies 0 or above
 *     SP_MAX_COPIES (-EINVAL); copies above the number of candidates
 *     with a free slice (-EXDEV: sp_place_domains() says how many, for
 *     the caller's message); fewer free slices than the legs need, at
 *     most want per candidate since a candidate holds at most one leg of
 *     each slice (-ENOSPC).  Rule 9 is greedy: when it still finds no
 *     eligible candidate for a leg, the call fails with -ENOSPC.
 *
 * Implementation notes.  No floating point and no allocation: both
 * functions keep their workloads and indices in the caller's struct
 * sp_place_work (56 KiB for SP_PLACE_MAX candidates, too much for a
 * kernel stack).  sp_place() takes O(nr^2) steps for the sort and tie
 * breaks; sp_place_order() takes O(nr^2 + want): both together some 0.2 s
 * for 4,096 candidates (measured on a loaded build host), paid when a
 * volume is created or grows on a pool that large, never in I/O.
 * Errors: -E2BIG if nr > SP_PLACE_MAX, -EINVAL for weights above 100,
 * both weights 0 or duplicate ids, -ENOSPC as in rule 2.  share[] and
 * out_idx[] are left untouched on any error.
 *
 * Overflow.  All arithmetic is in u64 and cannot overflow for any input:
 *  - sp_workload() scales total down below 2^46 (only totals beyond 2^46
 *    slices are touched, and then by at most a relative 2^-45), so
 *    used * SP_W_MAX < 2^46 * 2^17 = 2^63; the weighted sum is at most
 *    2 * 2^32 * 2^17 = 2^50 even for out of range weights.
 *  - A weight is at most SP_W_MAX < 2^17, so the weight sum S of up to
 *    4096 participants is below 2^29.
 *  - want * weight / S is computed as q * weight + r * weight / S with
 *    q = want / S and r = want % S: r * weight < 2^29 * 2^17 = 2^46 and
 *    q * weight <= want, so no product overflows even for want near 2^64
 *    (realistic wants are below 4096 * 2^32 = 2^44 slices).
 *  - The sum of the free slices saturates at U64_MAX; every other sum is
 *    bounded by want.
 */
#include "placement.h"

#define SP_U64_MAX	(~(u64)0)

u32 sp_workload(const struct sp_place_cand *c, const struct sp_place_params *p)
{
	u64 wsum = (u64)p->w_space + p->w_load;
	u64 total = c->total;
	u64 used = c->free < total ? total - c->free : 0;
	u64 used_w = 0;
	u64 load_w;

	if (!wsum)
		return 0;
	if (total) {
		while (total >> 46) {
			total >>= 1;
			used >>= 1;
		}
		used_w = div64_u64(used * SP_W_MAX, total);
	}
	load_w = (u64)(c->load < 100 ? c->load : 100) * SP_W_ONE;

	return (u32)div64_u64(p->w_space * used_w + p->w_load * load_w, wsum);
}

/* Is candidate @a lighter than @b: lower W, then lower id? */
static int sp_lighter(const struct sp_place_cand *cand, const u32 *w,
		      unsigned int a, unsigned int b)
{
	if (w[a] != w[b])
		return w[a] < w[b];
	return cand[a].id < cand[b].id;
}

static int sp_dup_ids(const struct sp_place_cand *cand, unsigned int nr)
{
	unsigned int i, j;

	for (i = 1; i < nr; i++)
		for (j = 0; j < i; j++)
			if (cand[i].id == cand[j].id)
				return 1;
	return 0;
}

static u64 sp_weight(const u32 *w, unsigned int i, int equal)
{
	return equal ? 1 : SP_W_MAX - w[i];
}

/**
 * sp_place() - split a request over candidates
 * @cand:  candidates, in any order
 * @nr:    number of candidates, at most SP_PLACE_MAX
 * @want:  slices to place
 * @p:     pool parameters
 * @share: output, nr entries: slices placed on cand[i]
 * @ws:    scratch space
 *
 * Applies the placement rule documented at the top of this file.
 *
 * Return: 0 on success, -E2BIG, -EINVAL or -ENOSPC (share untouched).
 */
int sp_place(const struct sp_place_cand *cand, unsigned int nr, u64 want,
	     const struct sp_place_params *p, u64 *share,
	     struct sp_place_work *ws)
{
	u32 *w = ws->w;		/* workload by candidate index */
	u16 *ord = ws->ord;	/* participants, lightest first */
	u64 *rems = ws->rem;	/* by place in ord, SP_U64_MAX once picked */
	unsigned int np = 0, i, j, k, n, nz, best, donor, recv;
	u64 avail = 0, sum_wt = 0, given = 0;
	u64 q, r, wt, rem, best_rem, over, room;
	int equal;

	if (nr > SP_PLACE_MAX)
		return -E2BIG;
	if (p->w_space > 100 || p->w_load > 100 ||
	    (!p->w_space && !p->w_load))
		return -EINVAL;
	if (sp_dup_ids(cand, nr))
		return -EINVAL;

	for (i = 0; i < nr; i++) {
		if (!cand[i].free)
			continue;
		w[i] = sp_workload(&cand[i], p);
		avail += cand[i].free;
		if (avail < cand[i].free)
			avail = SP_U64_MAX;
		for (j = np; j > 0 && sp_lighter(cand, w, i, ord[j - 1]); j--)
			ord[j] = ord[j - 1];
		ord[j] = i;
		np++;
	}

	/* Rule 2 */
	if (avail < want)
		return -ENOSPC;
	for (i = 0; i < nr; i++)
		share[i] = 0;
	if (!want)
		return 0;

	/* Rule 3 */
	for (j = 0; j < np; j++)
		sum_wt += SP_W_MAX - w[ord[j]];
	equal = !sum_wt;
	if (equal)
		sum_wt = np;

	/* Rule 4: floors, then largest remainder (lightest first on ties) */
	q = div64_u64(want, sum_wt);
	r = want - q * sum_wt;
	for (j = 0; j < np; j++) {
		i = ord[j];
		wt = sp_weight(w, i, equal);
		rem = div64_u64(r * wt, sum_wt);
		share[i] = q * wt + rem;
		rems[j] = r * wt - rem * sum_wt;	/* below sum_wt */
		given += share[i];
	}
	/* given > want - np, so at most np rounds; bounded all the same */
	for (n = 0; given < want && n < np; n++, given++) {
		best = np;
		best_rem = 0;
		for (j = 0; j < np; j++) {
			if (rems[j] == SP_U64_MAX)
				continue;
			if (best == np || rems[j] > best_rem) {
				best = j;
				best_rem = rems[j];
			}
		}
		rems[best] = SP_U64_MAX;
		share[ord[best]]++;
	}

	/* Rule 5 */
	over = 0;
	for (j = 0; j < np; j++) {
		i = ord[j];
		if (share[i] > cand[i].free) {
			over += share[i] - cand[i].free;
			share[i] = cand[i].free;
		}
	}
	for (j = 0; over && j < np; j++) {
		i = ord[j];
		room = cand[i].free - share[i];
		if (room > over)
			room = over;
		share[i] += room;
		over -= room;
	}

	/* Rule 6 */
	k = np;
	if (p->min_spread < k)
		k = p->min_spread;
	if (want < k)
		k = (unsigned int)want;
	nz = 0;
	for (j = 0; j < np; j++)
		if (share[ord[j]])
			nz++;
	while (nz < k) {
		/*
		 * nz < k <= want, so some share is at least 2 and the donor
		 * keeps a slice; a participant with share 0 exists as
		 * nz < k <= np.
		 */
		donor = ord[0];
		recv = nr;
		for (j = 0; j < np; j++) {
			i = ord[j];
			if (share[i] >= share[donor])
				donor = i;
			if (!share[i] && recv == nr)
				recv = i;
		}
		share[donor]--;
		share[recv] = 1;
		nz++;
	}
	return 0;
}

/**
 * sp_place_order() - turn shares into an ordered list of picks
 * @cand:    the candidates passed to sp_place()
 * @share:   shares from sp_place(), nr entries
 * @nr:      number of candidates, at most SP_PLACE_MAX
 * @want:    number of picks, must equal the sum of @share
 * @out_idx: output, @want entries: candidate index for logical slice i
 * @ws:      scratch space
 *
 * Round robin in ascending id order over the candidates that still have
 * share left, as documented at the top of this file.
 *
 * Return: 0 on success, -E2BIG, or -EINVAL for duplicate ids or if the
 * shares do not add up to @want (out_idx untouched).
 */
int sp_place_order(const struct sp_place_cand *cand, const u64 *share,
		   unsigned int nr, u64 want, u32 *out_idx,
		   struct sp_place_work *ws)
{
	u16 *ring = ws->ord;	/* candidates with share left, by id */
	unsigned int n = 0, m, i, j;
	u64 sum = 0, round, pos = 0;

	if (nr > SP_PLACE_MAX)
		return -E2BIG;
	if (sp_dup_ids(cand, nr))
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (!share[i])
			continue;
		sum += share[i];
		if (sum < share[i])
			return -EINVAL;
		for (j = n; j > 0 && cand[i].id < cand[ring[j - 1]].id; j--)
			ring[j] = ring[j - 1];
		ring[j] = i;
		n++;
	}
	if (sum != want)
		return -EINVAL;

	for (round = 0; n; round++) {
		m = 0;
		for (j = 0; j < n; j++) {
			i = ring[j];
			out_idx[pos++] = i;
			if (share[i] > round + 1)
				ring[m++] = i;
		}
		n = m;
	}
	return 0;
}

/**
 * sp_place_domains() - how many candidates have a free slice
 * @cand: candidates
 * @nr:   number of candidates
 *
 * Return: the most copies sp_place_copies() can place apart (rule 10).
 */
unsigned int sp_place_domains(const struct sp_place_cand *cand,
			      unsigned int nr)
{
	unsigned int i, n = 0;

	for (i = 0; i < nr; i++)
		n += cand[i].free != 0;
	return n;
}

/* W of candidate @c with the @taken slices this call gave it used (rule 9) */
static u32 sp_workload_left(const struct sp_place_cand *c, u64 taken,
			    const struct sp_place_params *p)
{
	struct sp_place_cand t = *c;

	t.free -= taken;
	return sp_workload(&t, p);
}

/**
 * sp_place_copies() - place @copies legs of each logical slice apart
 * @cand:    candidates (failure domains), in any order
 * @nr:      number of candidates, at most SP_PLACE_MAX
 * @want:    logical slices to place
 * @copies:  legs per logical slice, 1 .. SP_MAX_COPIES
 * @p:       pool parameters
 * @share:   output, nr entries: the legs placed on cand[i], all copies
 * @out_idx: output, @want * @copies entries, slice major: the candidate
 *           index of leg k of logical slice i at out_idx[i * copies + k]
 * @ws:      scratch space
 *
 * Rules 8 to 10 at the top of this file; with @copies 1 the result is
 * sp_place() and sp_place_order()'s.
 *
 * Return: 0, or -E2BIG, -EINVAL, -EXDEV or -ENOSPC (rule 10); on an
 * error @share and @out_idx hold nothing meaningful.
 */
int sp_place_copies(const struct sp_place_cand *cand, unsigned int nr,
		    u64 want, u32 copies, const struct sp_place_params *p,
		    u64 *share, u32 *out_idx, struct sp_place_work *ws)
{
	u32 *w = ws->w;
	u64 room = 0, i, legs;
	unsigned int c, best;
	u32 k, j;
	int r;

	if (nr > SP_PLACE_MAX)
		return -E2BIG;
	if (!copies || copies > SP_MAX_COPIES)
		return -EINVAL;
	if (copies > sp_place_domains(cand, nr))
		return -EXDEV;
	for (c = 0; c < nr; c++)
		room += cand[c].free < want ? cand[c].free : want;
	if (want > SP_U64_MAX / copies)
		return -ENOSPC;
	legs = want * copies;
	if (room < legs)
		return -ENOSPC;
	r = sp_place(cand, nr, want, p, share, ws);
	if (r)
		return r;
	/* leg 0 of slice i first in a scratch of want entries: out_idx's tail */
	r = sp_place_order(cand, share, nr, want, out_idx + legs - want, ws);
	if (r)
		return r;
	for (i = 0; i < want; i++)
		out_idx[i * copies] = out_idx[legs - want + i];
	for (c = 0; c < nr; c++)
		w[c] = sp_workload_left(&cand[c], share[c], p);
	for (k = 1; k < copies; k++) {
		for (i = 0; i < want; i++) {
			best = nr;
			for (c = 0; c < nr; c++) {
				if (cand[c].free <= share[c])
					continue;
				for (j = 0; j < k && out_idx[i * copies + j] != c; j++)
					;
				if (j < k)
					continue;
				if (best == nr || sp_lighter(cand, w, c, best))
					best = c;
			}
			if (best == nr)
				return -ENOSPC;
			out_idx[i * copies + k] = best;
			share[best]++;
			w[best] = sp_workload_left(&cand[best], share[best], p);
		}
	}
	return 0;
}
