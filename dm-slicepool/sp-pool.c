// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the pool model.  Volumes and their maps are here;
 * members in sp-member.c, allocation by load ratio in sp-alloc.c, the
 * checks of online resize in sp-resize.c and slice moves in sp-move.c
 * (their shared declarations: sp-pool.h).  The metadata is format 3
 * (sp-md3pool.c, Documentation/dm-slicepool-metadata.rst): every
 * operation is one md3 transaction, and the in-memory owner arrays and
 * maps are derived from the md3 state after each (sp_md3_sync()).
 *
 * Everything in these files runs under pool->lock, except
 * sp_member_revalidate_size() (sp-member.c), which takes it itself.
 */
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

static void sp_volume_release(struct kref *kref)
{
	struct sp_volume *v = container_of(kref, struct sp_volume, kref);

	/* No table, and so no flush worker, holds it any more. */
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

/*
 * A map of @nr logical slices, all missing, with room for its holders:
 * at most one per slice and SP_MAX_MEMBERS in all, so that publishing it
 * cannot fail.  Freed with kvfree() until it is published.
 */
struct sp_vmap *sp_map_alloc(u64 nr)
{
	u64 nh = min_t(u64, nr, SP_MAX_MEMBERS);
	struct sp_vmap *map;

	map = kvzalloc(size_add(struct_size(map, e, nr),
				array_size(nh, sizeof(*map->holders))),
		       GFP_KERNEL);
	if (!map)
		return NULL;
	refcount_set(&map->ref, 1);
	map->nr = nr;
	map->holders = (struct sp_member **)&map->e[nr];
	return map;
}

static int sp_holder_cmp(const void *a, const void *b)
{
	const struct sp_member *x = *(struct sp_member * const *)a;
	const struct sp_member *y = *(struct sp_member * const *)b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Fill @map's holders: each member of e[] once (marked with a new
 * pool->mark_gen as it is met: O(nr)), sorted by index.
 */
static void sp_map_holders(struct sp_pool *pool, struct sp_vmap *map)
{
	u64 gen = ++pool->mark_gen, i;
	unsigned int nh = 0;

	for (i = 0; i < map->nr; i++) {
		struct sp_member *m = map->e[i].m;

		if (!m || m->map_mark == gen)
			continue;
		m->map_mark = gen;
		if (!WARN_ON_ONCE(nh >= min_t(u64, map->nr, SP_MAX_MEMBERS)))
			map->holders[nh++] = m;
	}
	sort(map->holders, nh, sizeof(*map->holders), sp_holder_cmp, NULL);
	map->nr_holders = nh;
}

/*
 * Publish @map (NULL: none) as @v's map and return the map it replaces,
 * whose reference the caller now holds: readers may use it until a grace
 * period has passed and a flush worker until it drops its own reference,
 * so the caller releases it with sp_vmap_put(), and does not read it
 * after.
 */
struct sp_vmap *sp_map_swap(struct sp_volume *v, struct sp_vmap *map)
{
	struct sp_vmap *old = sp_map(v);

	if (map)
		sp_map_holders(v->pool, map);
	rcu_assign_pointer(v->map, map);
	return old;
}

/* Publish @map as @v's map; the old one goes with its last reference. */
void sp_map_publish(struct sp_volume *v, struct sp_vmap *map)
{
	sp_vmap_put(sp_map_swap(v, map));
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

/*
 * Number of distinct failure domains among logical slices [0, nr): the
 * members that hold them are marked (O(nr)), then each domain is counted
 * at its first marked member, which marks every member of that domain
 * (O(members * domains counted)); no allocation.
 */
unsigned int sp_domains_used(struct sp_volume *v, u64 nr)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *map = sp_map(v);
	u64 gen = ++pool->mark_gen, i;
	struct sp_member *m, *o;
	unsigned int n = 0;

	for (i = 0; map && i < nr && i < map->nr; i++)
		if (map->e[i].m)
			map->e[i].m->map_mark = gen;
	list_for_each_entry(m, &pool->members, list) {
		if (m->map_mark != gen || m->dom_mark == gen)
			continue;
		n++;
		list_for_each_entry(o, &pool->members, list)
			if (!strcmp(o->domain, m->domain))
				o->dom_mark = gen;
	}
	return n;
}

/* Forget unbound volumes that nothing on the enabled members mentions. */
void sp_pool_gc_volumes(struct sp_pool *pool)
{
	struct sp_volume *v, *tmp;

	list_for_each_entry_safe(v, tmp, &pool->volumes, list) {
		if (v->vitem || v->live_tables)
			continue;
		if (sp_md3_has_volume(pool, v))
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
