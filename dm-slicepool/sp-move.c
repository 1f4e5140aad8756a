// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: slice moves, the metadata side of live migration
 * (sp-mig-*.c): the reservation of destinations, on the owner arrays
 * that sp_md3_sync() derives from the md3 state.  The rest is in
 * sp-md3move.c, which the migration calls directly, one md3 transaction
 * each: begin (the reserved destinations become the state's pending
 * move), commit, abort; the release only drops the in-memory hold of the
 * sources ("Moves" there).
 *
 * Everything here runs under pool->lock.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

static struct sp_member *sp_member_by_name(struct sp_pool *pool,
					   const char *name)
{
	struct sp_member *m;

	list_for_each_entry(m, &pool->members, list)
		if (!strcmp(config_item_name(&m->item), name))
			return m;
	return NULL;
}

/* Drop the in-memory reservations of @dst (count entries). */
static void sp_move_unreserve_mem(struct sp_volume *v, u64 count,
				  struct sp_extent *dst)
{
	u64 i;

	for (i = 0; i < count; i++) {
		struct sp_member *m = dst[i].m;
		u64 p = sp_pslice(m, dst[i].start);

		if (m->owners[p].state != SP_OWN_MOVING)
			continue;
		memset(&m->owners[p], 0, sizeof(m->owners[p]));
		m->owners[p].state = SP_OWN_FREE;
		sp_slice_freed(m, p);
	}
}

/*
 * Reserve the destinations of a move to "auto": the placement rule
 * (sp_allocate_skip(), the domain level with the pool's min_domains)
 * among the members that take new slices, without the members that hold
 * slices of the range (so every slice leaves its member).
 */
static int sp_move_reserve_auto(struct sp_volume *v, u64 first, u64 count,
				const struct sp_extent *src,
				struct sp_extent *dst)
{
	struct sp_pool *pool = v->pool;
	struct sp_pick *picks;
	unsigned long *skip;
	u64 i;
	int r;

	skip = bitmap_zalloc(SP_MAX_MEMBERS, GFP_KERNEL);
	picks = kvcalloc(count, sizeof(*picks), GFP_KERNEL);
	if (!skip || !picks) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++)
		__set_bit(src[i].m->index, skip);
	r = sp_allocate_skip(pool, v, first, count, pool->min_domains, skip,
			     picks);
	if (r) {
		sp_err("%s: migration of volume %s slices %llu..%llu to auto: no placement on the members that take new slices but the range's own (%d)",
		       pool->name, v->name, first, first + count - 1, r);
		goto out;
	}
	for (i = 0; i < count; i++) {
		struct sp_owner *o = &picks[i].m->owners[picks[i].p];

		/* Reserved as an orphan by the allocation: now a move's. */
		o->state = SP_OWN_MOVING;
		dst[i].m = picks[i].m;
		dst[i].start = picks[i].m->data_offset +
			picks[i].p * sp_slice_sectors(pool);
	}
out:
	kvfree(picks);
	bitmap_free(skip);
	return r;
}

/* A member that can be a migration destination. */
static bool sp_move_dest_ok(struct sp_member *m)
{
	return m->enabled && !m->failed && !m->draining;
}

/*
 * Reserve a destination slice for each of the logical slices
 * [first, first + count) of @v on @dest: a member name, "domain:<label>"
 * for the members of that domain, the one with the most free slices first
 * (ties by name), or "auto" (sp_move_reserve_auto()).  A draining member
 * is no destination.  The reserved slices are SP_OWN_MOVING, in
 * memory only, so nothing else takes them.  @src gets the current
 * extents.  Every refusal logs why.
 */
int sp_move_reserve(struct sp_volume *v, u64 first, u64 count,
		    const char *dest, struct sp_extent *src,
		    struct sp_extent *dst)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *map = sp_map(v);
	struct sp_member **cand, *m;
	unsigned int nc = 0, k;
	bool draining = false;
	u64 i, avail = 0;
	int r;

	if (v->state != SP_VOL_LIVE || !map || first >= map->nr ||
	    count > map->nr - first || !count) {
		sp_err("%s: volume %s has no slices %llu..%llu (it has %llu)",
		       pool->name, v->name, first, first + count - 1,
		       map ? map->nr : 0);
		return -EINVAL;
	}
	/* Clones read an image through a table that stays: it stays put. */
	if (sp_md3_vol_image(v)) {
		sp_err("%s: refused: volume %s is an image: it is not migrated (its clones read it where it is)",
		       pool->name, v->name);
		return -EROFS;
	}
	for (i = 0; i < count; i++) {
		src[i] = map->e[first + i];
		if (!src[i].m) {
			sp_err("%s: volume %s slice %llu is missing; it cannot be moved",
			       pool->name, v->name, first + i);
			return -EIO;
		}
	}
	if (!strcmp(dest, "auto"))
		return sp_move_reserve_auto(v, first, count, src, dst);
	/* The candidates are enabled: at most pool->nr_enabled of them. */
	cand = kvcalloc(max(pool->nr_enabled, 1U), sizeof(*cand), GFP_KERNEL);
	if (!cand)
		return -ENOMEM;
	if (!strncmp(dest, "domain:", 7)) {
		list_for_each_entry(m, &pool->members, list)
			if (sp_move_dest_ok(m) && !strcmp(m->domain, dest + 7) &&
			    !WARN_ON_ONCE(nc >= pool->nr_enabled))
				cand[nc++] = m;
	} else {
		m = sp_member_by_name(pool, dest);
		if (m && sp_move_dest_ok(m))
			cand[nc++] = m;
		draining = m && m->draining;
	}
	if (!nc) {
		sp_err("%s: migration destination '%s' is not an enabled, healthy member or domain:<label> of the pool%s",
		       pool->name, dest,
		       draining ? " (the member is draining: it takes no new slice)" : "");
		r = -ENODEV;
		goto out;
	}
	for (i = 0; i < count && nc == 1; i++) {
		if (src[i].m == cand[0]) {
			sp_err("%s: volume %s slice %llu is already on %s",
			       pool->name, v->name, first + i,
			       config_item_name(&src[i].m->item));
			r = -EINVAL;
			goto out;
		}
	}
	for (k = 0; k < nc; k++)
		avail += cand[k]->nr_free;
	if (avail < count) {
		sp_err("%s: migration destination %s has %llu free slices, %llu needed",
		       pool->name, dest, avail, count);
		r = -ENOSPC;
		goto out;
	}
	for (i = 0; i < count; i++) {
		struct sp_member *best = NULL;
		struct sp_owner *o;
		u64 p;

		for (k = 0; k < nc; k++) {
			m = cand[k];
			if (m == src[i].m || !m->nr_free)
				continue;
			if (!best || m->nr_free > best->nr_free ||
			    (m->nr_free == best->nr_free &&
			     strcmp(config_item_name(&m->item),
				    config_item_name(&best->item)) < 0))
				best = m;
		}
		p = best ? sp_first_free(best) : U64_MAX;
		if (p == U64_MAX) {
			sp_err("%s: no free slice for volume %s slice %llu on %s but its current member",
			       pool->name, v->name, first + i, dest);
			sp_move_unreserve_mem(v, i, dst);
			r = -ENOSPC;
			goto out;
		}
		o = &best->owners[p];
		memcpy(o->uuid, v->uuid, SP_UUID_LEN);
		o->logical = first + i;
		o->state = SP_OWN_MOVING;
		best->nr_free--;
		dst[i].m = best;
		dst[i].start = best->data_offset + p * sp_slice_sectors(pool);
	}
	r = 0;
out:
	kvfree(cand);
	return r;
}
