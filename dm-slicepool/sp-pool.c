// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the pool model.  Volumes and their maps and the
 * classification of owner records are here; members and the adoption of
 * their metadata are in sp-member.c, allocation by load ratio in
 * sp-alloc.c, volume records and the commit steps in sp-commit.c, online
 * resize in sp-resize.c, slice moves in sp-move.c and reclaim in
 * sp-reclaim.c (their shared declarations: sp-pool.h).  All of them
 * follow the cross-member commit protocol:
 *
 *  create/expand: 0. a new attempt id a (above every id seen) is written
 *                    to the superblock of every enabled member and flushed,
 *                    and the volume record, still of the old generation,
 *                    is rewritten with started = a (and a fence for an
 *                    earlier attempt that did not commit) on every holder
 *                    of the current map;
 *                 1. owner records of the new slices (generation a) are
 *                    written and flushed on every member that receives one;
 *                 2. the volume record (generation a) is written and
 *                    flushed on each member holding a slice of the volume,
 *                    one member after the other.
 *                 The first volume record of a that is durable on any
 *                 member is the commit point.
 *  shrink/delete: 1. the volume record of a new id s (smaller size, or
 *                    deleted), with a fence {new size, s}, is written and
 *                    flushed on every holder (commit point as above);
 *                 2. the owner records of the released slices are cleared
 *                    and flushed;
 *                 3. if all were cleared, the record is written again with
 *                    a new id, without that fence.
 *
 * On adoption the highest volume record generation (then the highest
 * started) found on any member wins.  An owner record counts only if the
 * winning record is live, its logical index is below the record's size,
 * its generation is not above the record's and no fence of the record
 * excludes it (fence.c); of several such claims of one logical slice the
 * highest attempt id wins.  Attempt ids are unique (step 0), so a
 * committed claim beats any orphan of an older attempt in any enable
 * order.  Everything else is an orphan, kept allocated until
 * "reclaim".  New slices are taken only from owner records that are free
 * in memory, which implies free on disk, so a slice is never owned twice.
 *
 * Everything in these files runs under pool->lock, except
 * sp_member_revalidate_size() (sp-member.c), which takes it itself.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

static void sp_volume_release(struct kref *kref)
{
	struct sp_volume *v = container_of(kref, struct sp_volume, kref);

	kvfree(rcu_dereference_protected(v->map, true));
	kfree(rcu_dereference_protected(v->mig_last, true));
	free_percpu(v->inflight);
	free_percpu(v->stats);
	kfree(v);
}

void sp_volume_put(struct sp_volume *v)
{
	kref_put(&v->kref, sp_volume_release);
}

struct sp_volume *sp_volume_new(struct sp_pool *pool, const char *name,
				const u8 *uuid)
{
	struct sp_volume *v;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return NULL;
	v->stats = alloc_percpu(struct sp_stats);
	v->inflight = alloc_percpu(struct sp_inflight);
	if (!v->stats || !v->inflight) {
		free_percpu(v->stats);
		free_percpu(v->inflight);
		kfree(v);
		return NULL;
	}
	mutex_init(&v->mig_lock);
	kref_init(&v->kref);
	INIT_LIST_HEAD(&v->targets);
	v->pool = pool;
	strscpy(v->name, name, sizeof(v->name));
	if (uuid)
		memcpy(v->uuid, uuid, SP_UUID_LEN);
	else
		generate_random_uuid(v->uuid);
	atomic64_set(&v->io_errors, 0);
	list_add_tail(&v->list, &pool->volumes);
	return v;
}

struct sp_volume *sp_volume_find_uuid(struct sp_pool *pool, const u8 *uuid)
{
	struct sp_volume *v;

	list_for_each_entry(v, &pool->volumes, list)
		if (!memcmp(v->uuid, uuid, SP_UUID_LEN))
			return v;
	return NULL;
}

/* Bound volume of that name, else an unbound live one, else NULL. */
struct sp_volume *sp_volume_find_name(struct sp_pool *pool, const char *name)
{
	struct sp_volume *v, *found = NULL;

	list_for_each_entry(v, &pool->volumes, list) {
		if (strcmp(v->name, name))
			continue;
		if (v->vitem)
			return v;
		if (v->state == SP_VOL_LIVE && !found)
			found = v;
	}
	return found;
}

u32 sp_member_load(struct sp_member *m)
{
	int o = READ_ONCE(m->load_override);

	if (o != SP_LOAD_AUTO)
		return o;
	return (READ_ONCE(m->load_fp) + (1U << (SP_LOAD_SHIFT - 1))) >>
		SP_LOAD_SHIFT;
}

struct sp_vmap *sp_map_alloc(u64 nr)
{
	struct sp_vmap *map;

	map = kvzalloc(struct_size(map, e, nr), GFP_KERNEL);
	if (map)
		map->nr = nr;
	return map;
}

/*
 * Publish @map (NULL: none) as @v's map and return the map it replaces.
 * Readers may hold the old map until a grace period has passed: the
 * caller frees it, with kvfree_rcu() or with kvfree() after
 * synchronize_rcu(), and does not read it after handing it to
 * kvfree_rcu().
 */
struct sp_vmap *sp_map_swap(struct sp_volume *v, struct sp_vmap *map)
{
	struct sp_vmap *old = sp_map(v);
	u64 i;

	for (i = 0; map && i < map->nr; i++)
		if (map->e[i].m)
			map->holders[map->e[i].m->index] = map->e[i].m;
	rcu_assign_pointer(v->map, map);
	return old;
}

/* Publish @map as @v's map; the old one is freed after a grace period. */
void sp_map_publish(struct sp_volume *v, struct sp_vmap *map)
{
	struct sp_vmap *old = sp_map_swap(v, map);

	if (old)
		kvfree_rcu(old, rcu);
}

/* Present (not missing) logical slices of @v. */
u64 sp_volume_present(struct sp_volume *v)
{
	struct sp_vmap *map = sp_map(v);
	u64 i, n = 0;

	for (i = 0; map && i < map->nr; i++)
		if (map->e[i].m)
			n++;
	return n;
}

/* Number of distinct failure domains among logical slices [0, nr). */
unsigned int sp_domains_used(struct sp_volume *v, u64 nr)
{
	struct sp_vmap *map = sp_map(v);
	const char *seen[SP_MAX_MEMBERS];
	unsigned int n = 0, k;
	u64 i;

	for (i = 0; map && i < nr && i < map->nr; i++) {
		struct sp_member *m = map->e[i].m;

		if (!m)
			continue;
		for (k = 0; k < n; k++)
			if (!strcmp(seen[k], m->domain))
				break;
		if (k == n && n < SP_MAX_MEMBERS)
			seen[n++] = m->domain;
	}
	return n;
}

/* ---- Classification of owner records ------------------------------- */

struct sp_claim {
	struct sp_member *m;
	u64 p;
};

/*
 * Rebuild every volume map from the owner records of the enabled members
 * (see the rule at the top of this file).  Duplicate claims on one logical
 * slice: the highest attempt id wins (then, for equal ids, which only a
 * copied or corrupt member can produce, the member listed first).
 */
int sp_pool_rebuild(struct sp_pool *pool)
{
	struct sp_volume *v;
	struct sp_member *m;
	struct sp_claim *claims;
	int r = 0;

	if (pool->format == SP_FORMAT_3)
		return sp_md3_sync(pool);
	list_for_each_entry(v, &pool->volumes, list) {
		v->max_owner_gen = 0;
		v->claims_tmp = NULL;
	}

	list_for_each_entry(v, &pool->volumes, list) {
		struct sp_vmap *map;

		if (v->state != SP_VOL_LIVE || !v->nr_slices)
			continue;
		map = sp_map_alloc(v->nr_slices);
		claims = kvcalloc(v->nr_slices, sizeof(*claims), GFP_KERNEL);
		if (!map || !claims) {
			kvfree(map);
			kvfree(claims);
			r = -ENOMEM;
			goto out;
		}
		v->new_map_tmp = map;
		v->claims_tmp = claims;
	}

	list_for_each_entry(m, &pool->members, list) {
		u64 p;

		if (!m->enabled)
			continue;
		for (p = 0; p < m->nr_slices; p++) {
			struct sp_owner *o = &m->owners[p];
			struct sp_claim *c;

			if (o->state == SP_OWN_FREE || o->state == SP_OWN_MOVING)
				continue;
			o->state = SP_OWN_ORPHAN;
			v = sp_volume_find_uuid(pool, o->uuid);
			if (!v)
				continue;
			v->max_owner_gen = max(v->max_owner_gen, o->gen);
			if (!v->claims_tmp || o->logical >= v->nr_slices ||
			    o->gen > v->gen ||
			    !sp_fence_claim_ok(&v->fences, o->logical, o->gen))
				continue;
			c = &v->claims_tmp[o->logical];
			if (c->m) {
				struct sp_owner *prev = &c->m->owners[c->p];

				/*
				 * An older attempt's claim is an orphan.  Ids
				 * are unique, so equal ones mean a copied or
				 * corrupt member.
				 */
				if (prev->gen == o->gen)
					sp_warn("%s: volume %s slice %llu claimed twice by attempt %llu, keeping %s/%llu",
						pool->name, v->name, o->logical,
						o->gen,
						config_item_name(&c->m->item),
						c->p);
				if (prev->gen >= o->gen)
					continue;
				prev->state = SP_OWN_ORPHAN;
			}
			c->m = m;
			c->p = p;
			o->state = SP_OWN_VALID;
		}
	}

	list_for_each_entry(v, &pool->volumes, list) {
		struct sp_vmap *map = v->new_map_tmp;
		u64 i;

		if (!v->claims_tmp) {
			sp_map_publish(v, NULL);
			continue;
		}
		for (i = 0; i < map->nr; i++) {
			struct sp_claim *c = &v->claims_tmp[i];

			if (!c->m)
				continue;
			map->e[i].m = c->m;
			map->e[i].start = c->m->data_offset +
				c->p * sp_slice_sectors(pool);
		}
		sp_map_publish(v, map);
		v->new_map_tmp = NULL;
	}
out:
	list_for_each_entry(v, &pool->volumes, list) {
		kvfree(v->claims_tmp);
		v->claims_tmp = NULL;
		kvfree(v->new_map_tmp);
		v->new_map_tmp = NULL;
	}
	return r;
}

/* Is any enabled member still carrying a record of @v? */
static bool sp_volume_referenced(struct sp_volume *v)
{
	struct sp_member *m;
	unsigned int s;
	u64 p;

	list_for_each_entry(m, &v->pool->members, list) {
		if (!m->enabled)
			continue;
		for (s = 0; s < SP_MAX_VOLUMES; s++)
			if (m->slots[s].state != SP_VOL_FREE &&
			    !memcmp(m->slots[s].uuid, v->uuid, SP_UUID_LEN))
				return true;
		for (p = 0; p < m->nr_slices; p++)
			if (m->owners[p].state != SP_OWN_FREE &&
			    !memcmp(m->owners[p].uuid, v->uuid, SP_UUID_LEN))
				return true;
	}
	return false;
}

/* Forget unbound volumes that nothing on the enabled members mentions. */
void sp_pool_gc_volumes(struct sp_pool *pool)
{
	struct sp_volume *v, *tmp;

	list_for_each_entry_safe(v, tmp, &pool->volumes, list) {
		if (v->vitem || v->live_tables)
			continue;
		if (pool->format == SP_FORMAT_3 ? sp_md3_has_volume(pool, v) :
		    sp_volume_referenced(v))
			continue;
		list_del(&v->list);
		sp_volume_put(v);
	}
}

void sp_pool_free_volumes(struct sp_pool *pool)
{
	struct sp_volume *v, *tmp;

	list_for_each_entry_safe(v, tmp, &pool->volumes, list) {
		list_del(&v->list);
		sp_volume_put(v);
	}
}
