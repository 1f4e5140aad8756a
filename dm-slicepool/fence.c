// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool claim fences: which owner records may count as claims.
 *
 * An owner record (logical slice L, attempt id a) of a volume is a claim
 * only if no fence {from, to, id} of the volume's winning record has
 * from <= L < to and a <= id.  A fence is added for an operation that may
 * have left owner records of the volume behind on members that are not
 * enabled at a later time:
 *
 *  - an interrupted create/expand with id b that started at n slices
 *    leaves orphans at L >= n stamped b: fence {n, END, b}; every later
 *    committed claim of such an L comes from a later attempt, with an id
 *    above b;
 *  - a shrink with id s to n slices leaves the released owner records
 *    (L >= n, ids below s) until they are cleared: fence {n, END, s};
 *  - a move of logical slices [f, t) committed with id m leaves their
 *    source owner records (ids below m) until they are cleared:
 *    fence {f, t, m - 1};
 *  - an interrupted move of [f, t) with id b leaves records stamped b on
 *    the destinations, while the sources' older claims stay valid: an
 *    exact fence {f, t, b}, which excludes attempt b only.
 *
 * A new fence has the highest id of all (ids only grow), so a new fence
 * that is not exact makes every older fence whose range lies within its
 * own redundant; those are dropped.  When all SP_MAX_FENCES entries are still in use, adding one
 * fails with -EBUSY and the set is unchanged.
 */
#include "fence.h"

#ifdef __KERNEL__
#include <asm/byteorder.h>
#define sp_le32(x)	le32_to_cpu(x)
#define sp_le64(x)	le64_to_cpu(x)
#else
#include <endian.h>
#define sp_le32(x)	le32toh(x)
#define sp_le64(x)	le64toh(x)
#endif

bool sp_fence_claim_ok(const struct sp_fences *fs, __u64 logical,
		       __u64 attempt)
{
	unsigned int i;

	for (i = 0; i < fs->nr; i++) {
		const struct sp_fence_cpu *f = &fs->f[i];

		if (f->from <= logical && logical < f->to &&
		    (f->exact ? attempt == f->id : attempt <= f->id))
			return false;
	}
	return true;
}

/* Whether a new fence {from, to, <newer id>, exact} makes @f redundant. */
static bool sp_fence_covers(const struct sp_fence_cpu *f, __u32 from,
			    __u32 to, bool exact)
{
	return !exact && f->from >= from && f->to <= to;
}

int sp_fence_add(struct sp_fences *fs, __u32 from, __u32 to, __u64 id,
		 bool exact)
{
	unsigned int i, keep = 0;

	if (from >= to || from >= SP_FENCE_EXACT ||
	    (fs->nr && id <= fs->f[fs->nr - 1].id))
		return -EINVAL;
	for (i = 0; i < fs->nr; i++)
		if (!sp_fence_covers(&fs->f[i], from, to, exact))
			keep++;
	if (keep == SP_MAX_FENCES)
		return -EBUSY;
	for (i = 0, keep = 0; i < fs->nr; i++)
		if (!sp_fence_covers(&fs->f[i], from, to, exact))
			fs->f[keep++] = fs->f[i];
	fs->f[keep].from = from;
	fs->f[keep].to = to;
	fs->f[keep].id = id;
	fs->f[keep].exact = exact;
	fs->nr = keep + 1;
	return 0;
}

/* 0 if @fs is a set sp_fence_add() can produce, else -EINVAL. */
int sp_fences_check(const struct sp_fences *fs)
{
	unsigned int i;

	if (fs->nr > SP_MAX_FENCES)
		return -EINVAL;
	for (i = 0; i < fs->nr; i++)
		if (fs->f[i].from >= fs->f[i].to ||
		    fs->f[i].from >= SP_FENCE_EXACT ||
		    (i && fs->f[i].id <= fs->f[i - 1].id))
			return -EINVAL;
	return 0;
}

/*
 * Decode the fences of the volume record @rec into @fs and check them:
 * -EINVAL unless they are a set sp_fence_add() can produce with no id above
 * the record's generation, and, when the record's last attempt did not
 * commit (started above generation), its slices [started_from, started_to)
 * are a valid fence range (the fence that attempt gets).
 */
int sp_fences_decode(const struct sp_vol_record *rec, struct sp_fences *fs)
{
	unsigned int i;

	fs->nr = sp_le32(rec->nr_fences);
	if (fs->nr > SP_MAX_FENCES)
		return -EINVAL;
	for (i = 0; i < fs->nr; i++) {
		__u32 from = sp_le32(rec->fences[i].from);

		fs->f[i].from = from & ~SP_FENCE_EXACT;
		fs->f[i].exact = from & SP_FENCE_EXACT;
		fs->f[i].to = sp_le32(rec->fences[i].to);
		fs->f[i].id = sp_le64(rec->fences[i].id);
	}
	if (sp_fences_check(fs) ||
	    (fs->nr && fs->f[fs->nr - 1].id > sp_le64(rec->generation)))
		return -EINVAL;
	if (sp_le64(rec->started) > sp_le64(rec->generation) &&
	    (sp_le32(rec->started_from) & ~SP_FENCE_EXACT) >=
	    sp_le32(rec->started_to))
		return -EINVAL;
	return 0;
}
