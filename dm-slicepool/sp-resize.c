// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: volume lifetime: create/expand (grow), shrink/delete and
 * size-only changes, with the commit protocol described at the top of
 * sp-pool.c.
 *
 * Everything here runs under pool->lock.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

static int sp_volume_grow(struct sp_volume *v, u64 bytes, u64 new_nr)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *old = sp_map(v), *map;
	struct sp_member **h;
	struct sp_pick *picks;
	struct sp_fences fs;
	struct sp_rec_val val;
	u64 old_nr = old ? old->nr : 0, count, i, gen;
	unsigned int n = 0, n_old;
	u32 spread;
	int r;

	/*
	 * Re-creating a deleted volume makes a new one: owner records of the
	 * old one may remain on members that are not enabled.
	 */
	if (!old_nr && v->state == SP_VOL_DELETED) {
		generate_random_uuid(v->uuid);
		v->gen = 0;
		v->started = 0;
		v->fences.nr = 0;
		v->max_owner_gen = 0;
		v->state = SP_VOL_FREE;
	}
	r = sp_pending_fences(v, &fs);
	if (r)
		return r;
	count = new_nr - old_nr;
	gen = sp_next_gen(v);

	/* Expansion keeps the min_domains rule for the whole volume. */
	spread = sp_domains_used(v, old_nr) >= pool->min_domains ?
		1 : pool->min_domains;

	h = kcalloc(SP_MAX_MEMBERS, sizeof(*h), GFP_KERNEL);
	picks = kvcalloc(count, sizeof(*picks), GFP_KERNEL);
	map = sp_map_alloc(new_nr);
	if (!h || !picks || !map) {
		r = -ENOMEM;
		goto out;
	}
	r = sp_allocate(pool, v, old_nr, count, spread, gen, picks);
	if (r)
		goto out;

	for (i = 0; i < old_nr; i++) {
		map->e[i] = old->e[i];
		sp_holders_add(h, &n, old->e[i].m);
	}
	n_old = n;
	for (i = 0; i < count; i++) {
		map->e[old_nr + i].m = picks[i].m;
		map->e[old_nr + i].start = picks[i].m->data_offset +
			picks[i].p * sp_slice_sectors(pool);
		sp_holders_add(h, &n, picks[i].m);
	}
	if (!sp_slots_available(v, h, n)) {
		r = -ENOSPC;
		goto undo;
	}

	/*
	 * Step 0: the attempt id, durable before any owner record has it:
	 * in the superblocks, and as "started" in the record on the holders
	 * of the current map, with the pending fences.
	 */
	r = sp_attempt_start(v, h, n, n_old, gen, old_nr, SP_FENCE_END, &fs);
	if (r)
		goto undo;

	/* Step 1: owner records, durable on every member that got one. */
	for (i = 0; i < count; i++) {
		r = sp_md_set_owner(picks[i].m, picks[i].p,
				    &picks[i].m->owners[picks[i].p]);
		if (r)
			goto orphan;
	}
	r = sp_commit_holders_of(h, n, 0, map->e + old_nr, count);
	if (r)
		goto orphan;
	if (sp_fail_before_commit) {
		sp_fail_before_commit = false;
		sp_warn("%s: fail_before_commit: stopping the %s of volume %s after its owner records",
			pool->name, old_nr ? "expand" : "create", v->name);
		r = -EIO;
		goto orphan;
	}

	/* Step 2: volume records of id gen: the first durable copy commits. */
	val = (struct sp_rec_val){ .size_bytes = bytes, .nr = new_nr,
		.gen = gen, .started = gen, .state = SP_VOL_LIVE,
		.fences = &fs };
	r = sp_write_records(v, h, n, &val, false);
	if (r)
		goto orphan;

	for (i = 0; i < count; i++)
		picks[i].m->owners[picks[i].p].state = SP_OWN_VALID;
	v->gen = gen;
	v->max_owner_gen = max(v->max_owner_gen, gen);
	v->state = SP_VOL_LIVE;
	v->size_bytes = bytes;
	v->nr_slices = new_nr;
	sp_map_publish(v, map);
	map = NULL;
	r = 0;
	goto out;

orphan:
	/* Records may be on disk: keep them allocated until reclaim. */
	v->max_owner_gen = max(v->max_owner_gen, gen);
	sp_err("%s: %s of volume %s failed before its commit point: %d; its new slices stay allocated until reclaim",
	       pool->name, old_nr ? "expand" : "create", v->name, r);
	goto out;
undo:
	for (i = 0; i < count; i++) {
		struct sp_owner *o = &picks[i].m->owners[picks[i].p];

		memset(o, 0, sizeof(*o));
		o->state = SP_OWN_FREE;
		sp_slice_freed(picks[i].m, picks[i].p);
	}
out:
	kvfree(map);
	kvfree(picks);
	kfree(h);
	return r;
}

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

static int sp_volume_shrink(struct sp_volume *v, u64 bytes, u64 new_nr)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *old = sp_map(v), *map = NULL, *gone = NULL;
	u64 old_nr = old ? old->nr : 0, gen, i;
	struct sp_fences keep, fs;
	struct sp_rec_val val;
	struct sp_member **h;
	unsigned int n = 0, k;
	bool cleared = true;
	int r;

	r = sp_shrink_check(v, new_nr);
	if (r)
		return r;
	r = sp_pending_fences(v, &keep);
	if (r)
		return r;
	gen = sp_next_gen(v);
	fs = keep;
	if (new_nr) {
		r = sp_volume_fence(v, &fs, new_nr, SP_FENCE_END, gen, false);
		if (r)
			return r;
	}
	h = kcalloc(SP_MAX_MEMBERS, sizeof(*h), GFP_KERNEL);
	if (new_nr)
		map = sp_map_alloc(new_nr);
	if (!h || (new_nr && !map)) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < old_nr; i++) {
		if (i < new_nr)
			map->e[i] = old->e[i];
		sp_holders_add(h, &n, old->e[i].m);
	}

	/* Step 1: volume records of id gen, with its fence (commit point). */
	val = (struct sp_rec_val){ .size_bytes = bytes, .nr = new_nr,
		.gen = gen, .started = gen,
		.state = new_nr ? SP_VOL_LIVE : SP_VOL_DELETED,
		.fences = new_nr ? &fs : &keep };
	r = sp_write_records(v, h, n, &val, false);
	if (r)
		goto out;
	v->gen = gen;
	v->started = gen;
	v->fences = new_nr ? fs : keep;
	v->max_owner_gen = max(v->max_owner_gen, gen);
	v->size_bytes = bytes;
	v->nr_slices = new_nr;
	v->state = new_nr ? SP_VOL_LIVE : SP_VOL_DELETED;
	/*
	 * Step 2 reads the released slices from the old map: keep it until
	 * the end (handing it to kvfree_rcu() here freed it under step 2).
	 */
	gone = sp_map_swap(v, map);
	map = NULL;
	/* No table reaches the released slices (checked by the caller). */
	synchronize_rcu();

	/* Step 2: clear the released owner records. */
	for (i = new_nr; i < old_nr; i++) {
		struct sp_member *m = old->e[i].m;

		if (!m)
			continue;
		r = sp_md_set_owner(m, sp_pslice(m, old->e[i].start), NULL);
		if (r)
			break;
	}
	for (k = 0; k < n; k++) {
		int rc = sp_md_commit(h[k]);

		for (i = new_nr; i < old_nr; i++) {
			struct sp_member *m = old->e[i].m;
			struct sp_owner *o;

			if (m != h[k])
				continue;
			o = &m->owners[sp_pslice(m, old->e[i].start)];
			if (!r && !rc) {
				memset(o, 0, sizeof(*o));
				o->state = SP_OWN_FREE;
				sp_slice_freed(m, o - m->owners);
			} else {
				o->state = SP_OWN_ORPHAN;
				cleared = false;
			}
		}
	}
	if (!cleared) {
		sp_err("%s: shrink of %s committed, but released slices stay allocated until reclaim: %d",
		       pool->name, v->name, r);
	} else if (new_nr) {
		/* Step 3: nothing left for the shrink's fence to exclude. */
		u64 id = sp_next_gen(v);

		val = (struct sp_rec_val){ .size_bytes = bytes, .nr = new_nr,
			.gen = id, .started = id, .state = SP_VOL_LIVE,
			.fences = &keep };
		if (!sp_write_records(v, h, n, &val, false)) {
			v->gen = id;
			v->started = id;
			v->fences = keep;
			v->max_owner_gen = max(v->max_owner_gen, id);
		}
	}
	r = 0;
out:
	kvfree(gone);
	kvfree(map);
	kfree(h);
	return r;
}

/* Size-only change within the same number of slices. */
static int sp_volume_set_bytes(struct sp_volume *v, u64 bytes)
{
	struct sp_vmap *map = sp_map(v);
	struct sp_member **h;
	struct sp_fences fs;
	struct sp_rec_val val;
	unsigned int n = 0;
	u64 gen, i;
	int r;

	r = sp_pending_fences(v, &fs);
	if (r)
		return r;
	gen = sp_next_gen(v);
	h = kcalloc(SP_MAX_MEMBERS, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	for (i = 0; map && i < map->nr; i++)
		sp_holders_add(h, &n, map->e[i].m);
	val = (struct sp_rec_val){ .size_bytes = bytes, .nr = v->nr_slices,
		.gen = gen, .started = gen, .state = SP_VOL_LIVE,
		.fences = &fs };
	r = sp_write_records(v, h, n, &val, false);
	if (!r) {
		v->gen = gen;
		v->started = gen;
		v->fences = fs;
		v->max_owner_gen = max(v->max_owner_gen, gen);
		v->size_bytes = bytes;
	}
	kfree(h);
	return r;
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
		/* A read-only format-3 pool lists no volume: @v may be one. */
		if (pool->format == SP_FORMAT_3 && pool->md3)
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
	 * Missing slices: refused while they may come back.  In format 3,
	 * slices on members the state no longer has current (forced out,
	 * say) never do: such a volume can only be deleted, which frees
	 * its other slices.
	 */
	missing = cur ? v->nr_slices - sp_volume_present(v) : 0;
	if (missing && (pool->format != SP_FORMAT_3 ||
			!sp_md3_all_lost(v, missing))) {
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
	if (pool->format == SP_FORMAT_3)
		return sp_md3_resize(v, bytes, new_nr);
	if (!cur || new_nr > v->nr_slices)
		return sp_volume_grow(v, bytes, new_nr);
	if (new_nr < v->nr_slices)
		return sp_volume_shrink(v, bytes, new_nr);
	return sp_volume_set_bytes(v, bytes);
}
