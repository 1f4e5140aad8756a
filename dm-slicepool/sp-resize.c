// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: volume lifetime: the checks of create/expand (grow),
 * shrink/delete and size-only changes; the change itself is one md3
 * transaction (sp_md3_resize(), sp-md3pool.c).
 *
 * Everything here runs under pool->lock.
 */
#include "sp-core.h"
#include "sp-pool.h"

/*
 * A shrink to @new_nr slices (0: a delete) must keep the volume on
 * min_domains failure domains, or on as many as it had.
 */
int sp_shrink_check(struct sp_volume *v, u64 new_nr)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *map = sp_map(v);
	unsigned int before, after;

	if (!new_nr)
		return 0;
	before = sp_domains_used(v, map ? map->nr : 0);
	after = sp_domains_used(v, new_nr);
	if (after < min(pool->min_domains, before)) {
		sp_err("%s: refused: shrinking volume %s to %llu slices leaves it on %u failure domain(s); min_domains is %u",
		       pool->name, v->name, new_nr, after, pool->min_domains);
		return -EINVAL;
	}
	return 0;
}

int sp_volume_resize(struct sp_volume *v, u64 bytes)
{
	struct sp_pool *pool = v->pool;
	u64 slice_bytes = (u64)pool->slice_mb << 20;
	u64 new_nr, cur = v->state == SP_VOL_LIVE ? v->size_bytes : 0;
	u64 missing;

	if (bytes & (SECTOR_SIZE - 1)) {
		sp_err("%s: volume %s: size %llu is not a multiple of 512",
		       pool->name, v->name, bytes);
		return -EINVAL;
	}
	if (bytes == cur) {
		/* A read-only pool lists no volume: @v may be one. */
		if (pool->md3)
			return sp_md3_writable(v);
		return 0;
	}
	if (rcu_access_pointer(v->mig)) {
		sp_err("%s: refused: volume %s is migrating; wait for it or abort it first",
		       pool->name, v->name);
		return -EBUSY;
	}
	/* An image keeps its size; it may only be deleted (size 0). */
	if (bytes && sp_md3_vol_image(v)) {
		sp_err("%s: refused: volume %s is an image: its size stays %llu (size %llu refused; only 0, a delete, is allowed)",
		       pool->name, v->name, cur, bytes);
		return -EROFS;
	}
	if (!bytes && sp_md3_vol_clones(v)) {
		sp_err("%s: refused: volume %s is an image with %llu clone(s): it is not deleted; remove them first (slicepool image remove-clone)",
		       pool->name, v->name, sp_md3_vol_clones(v));
		return -EBUSY;
	}
	if (v->live_tables && (bytes >> SECTOR_SHIFT) < v->max_table_len) {
		sp_err("%s: refused: volume %s is in use by a table of %llu sectors; reload the table first",
		       pool->name, v->name, (u64)v->max_table_len);
		return -EBUSY;
	}
	if (!pool->nr_enabled) {
		sp_err("%s: no enabled members", pool->name);
		return -ENODEV;
	}
	/*
	 * Missing slices: refused while they may come back.  Slices on
	 * members the state no longer has current (forced out, say) never
	 * do: such a volume can only be deleted, which frees its other
	 * slices.
	 */
	missing = cur ? v->nr_slices - sp_volume_present(v) : 0;
	if (missing && !sp_md3_all_lost(v, missing)) {
		sp_err("%s: refused: volume %s has %llu missing slices; enable the missing members first",
		       pool->name, v->name, missing);
		return -EIO;
	}
	if (missing && bytes)
		return sp_md3_lost_refused(v, missing);
	new_nr = div64_u64(bytes + slice_bytes - 1, slice_bytes);
	if (new_nr > SP_MAX_VOL_SLICES) {
		sp_err("%s: volume %s: size %llu is too large: %llu slices, at most %u",
		       pool->name, v->name, bytes, new_nr, SP_MAX_VOL_SLICES);
		return -EINVAL;
	}
	return sp_md3_resize(v, bytes, new_nr);
}
