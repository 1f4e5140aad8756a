// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: reclaim: free the orphan owner records of the enabled
 * members, then (on request) drop the volumes' fences.
 *
 * Everything here runs under pool->lock.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

/*
 * Drop the fences of every live volume whose slices are all present: the
 * caller asserts that every member of the pool is enabled and that its
 * orphans were just cleared, so no owner record a fence excludes is left.
 */
static int sp_pool_drop_fences(struct sp_pool *pool)
{
	static const struct sp_fences none;
	struct sp_member **h;
	struct sp_volume *v;
	struct sp_rec_val val;
	int r, ret = 0;

	h = kcalloc(SP_MAX_MEMBERS, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	list_for_each_entry(v, &pool->volumes, list) {
		struct sp_vmap *map = sp_map(v);
		unsigned int n = 0;
		u64 i, id;

		if (v->state != SP_VOL_LIVE || !map ||
		    (!v->fences.nr && v->started <= v->gen))
			continue;
		if (sp_volume_present(v) < v->nr_slices) {
			sp_warn("%s: volume %s keeps its fences: it has missing slices",
				pool->name, v->name);
			continue;
		}
		for (i = 0; i < map->nr; i++)
			sp_holders_add(h, &n, map->e[i].m);
		id = sp_next_gen(v);
		val = (struct sp_rec_val){ .size_bytes = v->size_bytes,
			.nr = v->nr_slices, .gen = id, .started = id,
			.state = SP_VOL_LIVE, .fences = &none };
		r = sp_write_records(v, h, n, &val, false);
		if (r) {
			ret = r;
			continue;
		}
		v->gen = id;
		v->started = id;
		v->fences.nr = 0;
		v->max_owner_gen = max(v->max_owner_gen, id);
	}
	kfree(h);
	return ret;
}

/*
 * Free every orphan owner record on the enabled members; with @fences,
 * then drop the volumes' fences (see sp_pool_drop_fences()).
 */
int sp_pool_reclaim(struct sp_pool *pool, bool fences)
{
	struct sp_member *m;
	u64 p, freed = 0;
	int r, ret = 0;

	if (pool->format == SP_FORMAT_3) {
		/* A slice is used iff the state names it: no orphans. */
		pool->reclaimed = 0;
		sp_info("%s: reclaim: nothing to reclaim in metadata format 3 (no orphan records)",
			pool->name);
		return 0;
	}
	list_for_each_entry(m, &pool->members, list) {
		u64 n = 0;

		if (!m->enabled)
			continue;
		r = 0;
		for (p = 0; !r && p < m->nr_slices; p++) {
			if (m->owners[p].state != SP_OWN_ORPHAN)
				continue;
			r = sp_md_set_owner(m, p, NULL);
			n++;
		}
		if (!n)
			continue;
		if (!r)
			r = sp_md_commit(m);
		if (r) {
			ret = r;
			continue;
		}
		for (p = 0; p < m->nr_slices; p++) {
			struct sp_owner *o = &m->owners[p];

			if (o->state != SP_OWN_ORPHAN)
				continue;
			memset(o, 0, sizeof(*o));
			o->state = SP_OWN_FREE;
			sp_slice_freed(m, p);
			freed++;
		}
	}
	pool->reclaimed = freed;
	sp_pool_gc_volumes(pool);
	if (freed)
		sp_info("%s: reclaimed %llu orphaned slices", pool->name, freed);
	if (!ret && fences)
		ret = sp_pool_drop_fences(pool);
	return ret;
}
