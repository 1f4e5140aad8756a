// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the pool model.  Members and volumes, adoption of member
 * metadata, classification of owner records, allocation by load ratio,
 * online resize and reclaim, with the cross-member commit protocol:
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
 * Everything here runs under pool->lock, except
 * sp_member_revalidate_size(), which takes it itself.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "sp-core.h"
#include "placement.h"

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

static struct sp_vmap *sp_map(struct sp_volume *v)
{
	return rcu_dereference_protected(v->map,
					 lockdep_is_held(&v->pool->lock));
}

static struct sp_vmap *sp_map_alloc(u64 nr)
{
	struct sp_vmap *map;

	map = kvzalloc(struct_size(map, e, nr), GFP_KERNEL);
	if (map)
		map->nr = nr;
	return map;
}

static void sp_map_publish(struct sp_volume *v, struct sp_vmap *map)
{
	struct sp_vmap *old = sp_map(v);
	u64 i;

	for (i = 0; map && i < map->nr; i++)
		if (map->e[i].m)
			map->holders[map->e[i].m->index] = map->e[i].m;
	rcu_assign_pointer(v->map, map);
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

static u64 sp_pslice(struct sp_member *m, sector_t start)
{
	return div64_u64(start - m->data_offset, sp_slice_sectors(m->pool));
}

/* Number of distinct failure domains among logical slices [0, nr). */
static unsigned int sp_domains_used(struct sp_volume *v, u64 nr)
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
static int sp_pool_rebuild(struct sp_pool *pool)
{
	struct sp_volume *v;
	struct sp_member *m;
	struct sp_claim *claims;
	int r = 0;

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
static void sp_pool_gc_volumes(struct sp_pool *pool)
{
	struct sp_volume *v, *tmp;

	list_for_each_entry_safe(v, tmp, &pool->volumes, list) {
		if (v->vitem || v->live_tables || sp_volume_referenced(v))
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

/* The fences of @rec; -EILSEQ if they are not a valid set. */
static int sp_rec_fences(const struct sp_vol_record *rec,
			 struct sp_fences *fs)
{
	unsigned int i;

	fs->nr = le32_to_cpu(rec->nr_fences);
	if (fs->nr > SP_MAX_FENCES)
		return -EILSEQ;
	for (i = 0; i < fs->nr; i++) {
		u32 from = le32_to_cpu(rec->fences[i].from);

		fs->f[i].from = from & ~SP_FENCE_EXACT;
		fs->f[i].exact = from & SP_FENCE_EXACT;
		fs->f[i].to = le32_to_cpu(rec->fences[i].to);
		fs->f[i].id = le64_to_cpu(rec->fences[i].id);
	}
	if (sp_fences_check(fs) ||
	    (fs->nr && fs->f[fs->nr - 1].id > le64_to_cpu(rec->generation)))
		return -EILSEQ;
	if (le64_to_cpu(rec->started) > le64_to_cpu(rec->generation) &&
	    (le32_to_cpu(rec->started_from) & ~SP_FENCE_EXACT) >=
	    le32_to_cpu(rec->started_to))
		return -EILSEQ;
	return 0;
}

/* Merge the volume records read from a member being adopted. */
static int sp_merge_records(struct sp_pool *pool, const char *path,
			    const struct sp_vol_record *recs)
{
	struct sp_fences fs;
	unsigned int s;

	/* Checked first: a refused member must leave nothing behind. */
	for (s = 0; s < SP_MAX_VOLUMES; s++) {
		if (le32_to_cpu(recs[s].state) == SP_VOL_FREE ||
		    !sp_rec_fences(&recs[s], &fs))
			continue;
		sp_err("refused: %s: volume record %u (%.32s) has invalid fences",
		       path, s, recs[s].name);
		return -EILSEQ;
	}

	for (s = 0; s < SP_MAX_VOLUMES; s++) {
		const struct sp_vol_record *rec = &recs[s];
		u32 state = le32_to_cpu(rec->state);
		u64 gen = le64_to_cpu(rec->generation);
		u64 started = le64_to_cpu(rec->started);
		struct sp_volume *v;
		char name[SP_NAME_MAX + 1];

		if (state == SP_VOL_FREE)
			continue;
		sp_rec_fences(rec, &fs);
		strscpy(name, rec->name, sizeof(name));
		v = sp_volume_find_uuid(pool, rec->uuid);
		if (!v) {
			v = sp_volume_new(pool, name, rec->uuid);
			if (!v)
				return -ENOMEM;
		}
		if (gen > v->gen || (gen == v->gen && started > v->started)) {
			if (!v->vitem)
				strscpy(v->name, name, sizeof(v->name));
			v->gen = gen;
			v->started = started;
			v->started_from = le32_to_cpu(rec->started_from);
			v->started_to = le32_to_cpu(rec->started_to);
			v->fences = fs;
			v->state = state;
			v->size_bytes = le64_to_cpu(rec->size_bytes);
			v->nr_slices = le64_to_cpu(rec->nr_slices);
		}
	}
	return 0;
}

/* ---- Members ---------------------------------------------------------- */

static void sp_member_release_dev(struct sp_member *m)
{
	sp_md_close(m);
	if (m->bdev.bdev)
		sp_bdev_close(&m->bdev, m);
	kvfree(m->owners);
	m->owners = NULL;
	kfree(m->slots);
	m->slots = NULL;
}

static int sp_member_open(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	struct sp_vol_record *recs = NULL;
	struct sp_superblock sb;
	struct sp_member *o;
	bool blank;
	int r;

	m->free_hint = 0;
	r = sp_bdev_open(&m->bdev, m->path, m);
	if (r) {
		if (r == -EBUSY)
			sp_err("%s: refused: device %s is busy (already a member of a pool, or held by another user)",
			       config_item_name(&m->item), m->path);
		else
			sp_err("%s: cannot open %s: %d",
			       config_item_name(&m->item), m->path, r);
		m->bdev.bdev = NULL;
		return r;
	}
	r = sp_md_open(m);
	if (r)
		goto fail;
	m->slots = kcalloc(SP_MAX_VOLUMES, sizeof(*m->slots), GFP_KERNEL);
	if (!m->slots) {
		r = -ENOMEM;
		goto fail;
	}
	r = sp_md_read_sb(m, &sb, &blank);
	if (r)
		goto fail;

	if (blank) {
		r = sp_md_format(m);
		if (r)
			goto fail;
		m->owners = kvcalloc(m->nr_slices, sizeof(*m->owners),
				     GFP_KERNEL);
		if (!m->owners) {
			r = -ENOMEM;
			goto fail;
		}
		m->nr_free = m->nr_slices;
		sp_info("%s: %s formatted for pool %s: %llu slices",
			config_item_name(&m->item), m->path, pool->name,
			m->nr_slices);
		return 0;
	}

	if (memcmp(sb.pool_uuid, pool->uuid, SP_UUID_LEN)) {
		if (pool->nr_enabled) {
			sp_err("%s: refused: %s belongs to pool '%.32s' (uuid %pUb), not to this pool '%s' (uuid %pUb)",
			       config_item_name(&m->item), m->path,
			       sb.pool_name, sb.pool_uuid, pool->name,
			       pool->uuid);
			r = -EEXIST;
			goto fail;
		}
		/* Reassembly: the first member brings the pool identity. */
		memcpy(pool->uuid, sb.pool_uuid, SP_UUID_LEN);
		pool->slice_mb = le64_to_cpu(sb.slice_sectors) >>
			(20 - SECTOR_SHIFT);
		sp_info("%s: adopting pool uuid %pUb, slice %u MiB from %s",
			pool->name, pool->uuid, pool->slice_mb, m->path);
	} else if (le64_to_cpu(sb.slice_sectors) != sp_slice_sectors(pool)) {
		sp_err("%s: refused: %s has slice size %llu sectors, pool has %llu",
		       config_item_name(&m->item), m->path,
		       le64_to_cpu(sb.slice_sectors),
		       (u64)sp_slice_sectors(pool));
		r = -EINVAL;
		goto fail;
	}
	list_for_each_entry(o, &pool->members, list) {
		if (o->enabled &&
		    !memcmp(o->member_uuid, sb.member_uuid, SP_UUID_LEN)) {
			sp_err("%s: refused: %s carries the same member uuid as enabled member %s",
			       config_item_name(&m->item), m->path,
			       config_item_name(&o->item));
			r = -EBUSY;
			goto fail;
		}
	}

	m->owners = kvcalloc(le64_to_cpu(sb.nr_slices), sizeof(*m->owners),
			     GFP_KERNEL);
	recs = kvcalloc(SP_MAX_VOLUMES, sizeof(*recs), GFP_KERNEL);
	if (!m->owners || !recs) {
		r = -ENOMEM;
		goto fail;
	}
	r = sp_md_load(m, &sb, recs);
	if (r) {
		sp_err("%s: refused: metadata of %s is corrupt",
		       config_item_name(&m->item), m->path);
		goto fail;
	}
	pool->attempt = max(pool->attempt, le64_to_cpu(sb.attempt));
	r = sp_merge_records(pool, m->path, recs);
	if (r)
		goto fail;
	kvfree(recs);
	sp_info("%s: %s adopted into pool %s: %llu slices",
		config_item_name(&m->item), m->path, pool->name, m->nr_slices);
	return 0;
fail:
	kvfree(recs);
	sp_member_release_dev(m);
	return r;
}

int sp_member_enable(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	int r;

	if (m->enabled)
		return 0;
	if (!m->path) {
		sp_err("%s: set path before enabling", config_item_name(&m->item));
		return -EINVAL;
	}
	if (!m->domain[0]) {
		sp_err("%s: set domain before enabling",
		       config_item_name(&m->item));
		return -EINVAL;
	}
	if (pool->nr_enabled >= SP_MAX_MEMBERS) {
		sp_err("%s: pool %s already has %u members",
		       config_item_name(&m->item), pool->name, SP_MAX_MEMBERS);
		return -ENOSPC;
	}
	r = sp_member_open(m);
	if (r)
		return r;
	sp_fill_dm_dev(&m->ddev, &m->bdev);
	m->failed = false;
	atomic64_set(&m->io_errors, 0);
	m->index = __ffs64(~pool->index_mask);
	pool->index_mask |= BIT_ULL(m->index);
	m->enabled = true;
	pool->nr_enabled++;
	sp_load_member_init(m);
	r = sp_pool_rebuild(pool);
	if (r) {
		m->enabled = false;
		pool->nr_enabled--;
		pool->index_mask &= ~BIT_ULL(m->index);
		sp_member_release_dev(m);
		sp_pool_rebuild(pool);
	}
	return r;
}

/*
 * Disable @m.  Refused (EBUSY, nothing changed) while a migration copies to
 * it or it holds a slice of a volume that is bound or has a table: those
 * maps, and so the tables' I/O and flushes, reach it.  Otherwise the maps
 * are published again without it, and its device is closed only after no
 * bio map() sent to it is in flight (see "Member lifetime" in sp-core.h):
 * a table that reached it before, by a flush or an old map, never does
 * after this returns.
 */
int sp_member_disable(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	u64 p;
	int r;

	if (!m->enabled)
		return 0;
	for (p = 0; p < m->nr_slices; p++) {
		struct sp_owner *o = &m->owners[p];
		struct sp_volume *v;

		if (o->state != SP_OWN_MOVING)
			continue;
		v = sp_volume_find_uuid(pool, o->uuid);
		sp_err("%s: refused: a migration of volume %s is copying to it (wait for it or abort it first)",
		       config_item_name(&m->item), v ? v->name : "?");
		return -EBUSY;
	}
	for (p = 0; p < m->nr_slices; p++) {
		struct sp_owner *o = &m->owners[p];
		struct sp_volume *v;

		if (o->state != SP_OWN_VALID)
			continue;
		v = sp_volume_find_uuid(pool, o->uuid);
		if (v && (v->vitem || v->live_tables)) {
			sp_err("%s: refused: member holds slice %llu of volume %s (its physical slice %llu)%s; migrate its slices to another member, shrink or unbind the volume first",
			       config_item_name(&m->item), o->logical, v->name,
			       p, v->live_tables ?
			       ", which a live table reaches" : "");
			return -EBUSY;
		}
	}
	m->enabled = false;
	pool->nr_enabled--;
	pool->index_mask &= ~BIT_ULL(m->index);
	r = sp_pool_rebuild(pool);
	if (r) {
		/* Nothing was published: the maps still reach @m. */
		sp_err("%s: disable failed: %d; the member stays enabled",
		       config_item_name(&m->item), r);
		m->enabled = true;
		pool->nr_enabled++;
		pool->index_mask |= BIT_ULL(m->index);
		return r;
	}
	sp_pool_drain_io(pool);
	sp_member_release_dev(m);
	sp_pool_gc_volumes(pool);
	return 0;
}

/* ---- Growth (revalidate_size) ---------------------------------------- */

/*
 * The checks of revalidate_size, under pool->lock: the member must be
 * enabled and healthy, and its device must still hold the data area.
 * Sets *dev to the device size in sectors, *fit to the whole slices after
 * data_offset and *nr to the slices the member takes: *fit, capped at
 * what its owner table describes (owner_blocks * SP_OWNERS_PER_BLOCK).
 */
static int sp_member_grow_check(struct sp_member *m, u64 *dev, u64 *fit,
				u64 *nr)
{
	const char *name = config_item_name(&m->item);
	u64 slice = sp_slice_sectors(m->pool);
	u64 area;

	if (!m->enabled) {
		sp_err("%s: revalidate_size refused: the member is not enabled",
		       name);
		return -EINVAL;
	}
	if (READ_ONCE(m->failed)) {
		sp_err("%s: revalidate_size refused: the member has failed (I/O errors on %s); nothing changed",
		       name, m->path);
		return -EIO;
	}
	*dev = bdev_nr_sectors(m->bdev.bdev);
	area = m->data_offset + m->nr_slices * slice;
	if (*dev < area) {
		sp_err("%s: revalidate_size refused: %s is now %llu sectors, smaller than the member's data area of %llu sectors (%llu slices); nothing changed",
		       name, m->path, *dev, area, m->nr_slices);
		return -EINVAL;
	}
	*fit = div64_u64(*dev - m->data_offset, slice);
	*nr = min(*fit, m->owner_blocks * SP_OWNERS_PER_BLOCK);
	return 0;
}

/*
 * revalidate_size: take every new whole slice of a grown device, up to
 * what the owner table describes.  Called without pool->lock: the larger
 * owner array is allocated (GFP_KERNEL) before the lock is taken; if the
 * size changed in between, it is allocated again.  Under the lock the
 * metadata commit (sp_md_grow()) comes first; only when it succeeded the
 * array is copied and swapped and the new slices counted free, so every
 * reader of owners, nr_slices, nr_free and free_hint (all under
 * pool->lock) sees either the old geometry or the new one.  free_hint stays valid:
 * every new slice is above it.  The old array is freed after the unlock.
 */
int sp_member_revalidate_size(struct sp_member *m)
{
	const char *name = config_item_name(&m->item);
	struct sp_pool *pool = m->pool;
	struct sp_owner *owners = NULL;
	u64 dev, fit, nr, old_nr, alloc_nr = 0;
	unsigned int tries = 0;
	int r;

	for (;;) {
		mutex_lock(&pool->lock);
		r = sp_member_grow_check(m, &dev, &fit, &nr);
		if (r || nr <= m->nr_slices || nr == alloc_nr)
			break;
		mutex_unlock(&pool->lock);
		kvfree(owners);
		owners = NULL;
		if (++tries > 3) {
			sp_err("%s: revalidate_size: the device size keeps changing; try again",
			       name);
			return -EAGAIN;
		}
		alloc_nr = nr;
		owners = kvcalloc(nr, sizeof(*owners), GFP_KERNEL);
		if (!owners)
			return -ENOMEM;
	}
	old_nr = m->nr_slices;
	if (r || nr <= old_nr) {
		if (!r && fit > nr)
			sp_info("%s: %s has room for %llu slices, but the member already holds its maximum of %llu (max_slices); nothing changed",
				name, m->path, fit, nr);
		else if (!r)
			sp_info("%s: %s is %llu sectors: no new whole slice, %llu slices as before",
				name, m->path, dev, old_nr);
		goto out;
	}
	r = sp_md_grow(m, nr, dev);
	if (r) {
		sp_err("%s: growing %s from %llu to %llu slices failed: %d; the member keeps %llu slices",
		       name, m->path, old_nr, nr, r, old_nr);
		goto out;
	}
	memcpy(owners, m->owners, old_nr * sizeof(*owners));
	swap(m->owners, owners);
	m->nr_free += nr - old_nr;
	WRITE_ONCE(m->nr_slices, nr);
	m->dev_sectors = dev;
	sp_info("%s: %s grew from %llu to %llu slices (%llu sectors)",
		name, m->path, old_nr, nr, dev);
	if (fit > nr)
		sp_info("%s: %s has room for %llu slices; its owner table describes at most %llu (max_slices)",
			name, m->path, fit, nr);
out:
	mutex_unlock(&pool->lock);
	kvfree(owners);
	return r;
}

/* ---- Allocation ------------------------------------------------------- */

struct sp_dom {
	const char *name;
	unsigned int nr;
	struct sp_member *mem[SP_MAX_MEMBERS];
};

/*
 * Group the usable (enabled, not failed) members into domains.  Domains
 * are sorted by label and members by name, and the index in that order is
 * the placement id, so ties break by label/name order.
 */
static unsigned int sp_domains(struct sp_pool *pool, struct sp_dom *dom)
{
	struct sp_member *m;
	unsigned int nd = 0, d, k;

	list_for_each_entry(m, &pool->members, list) {
		if (!m->enabled || m->failed)
			continue;
		for (d = 0; d < nd; d++)
			if (!strcmp(dom[d].name, m->domain))
				break;
		if (d == nd) {
			for (d = 0; d < nd && strcmp(dom[d].name, m->domain) < 0;
			     d++)
				;
			memmove(&dom[d + 1], &dom[d], (nd - d) * sizeof(*dom));
			dom[d].name = m->domain;
			dom[d].nr = 0;
			nd++;
		}
		for (k = 0; k < dom[d].nr &&
		     strcmp(config_item_name(&dom[d].mem[k]->item),
			    config_item_name(&m->item)) < 0; k++)
			;
		memmove(&dom[d].mem[k + 1], &dom[d].mem[k],
			(dom[d].nr - k) * sizeof(dom[d].mem[0]));
		dom[d].mem[k] = m;
		dom[d].nr++;
	}
	return nd;
}

static void sp_member_cand(struct sp_member *m, u32 id,
			   struct sp_place_cand *c)
{
	c->id = id;
	c->free = m->nr_free;
	c->total = m->nr_slices;
	c->load = sp_member_load(m);
}

/* Domain candidate: summed space, mean member load. */
static void sp_domain_cand(struct sp_dom *d, u32 id, struct sp_place_cand *c)
{
	unsigned int k;
	u64 load = 0;

	c->id = id;
	c->free = 0;
	c->total = 0;
	for (k = 0; k < d->nr; k++) {
		c->free += d->mem[k]->nr_free;
		c->total += d->mem[k]->nr_slices;
		load += sp_member_load(d->mem[k]);
	}
	c->load = d->nr ? div_u64(load, d->nr) : 0;
}

struct sp_pick {
	struct sp_member *m;
	u64 p;
};

/* Lowest free physical slice; m->free_hint is a lower bound for it. */
static u64 sp_first_free(struct sp_member *m)
{
	u64 p;

	for (p = m->free_hint; p < m->nr_slices; p++) {
		if (m->owners[p].state == SP_OWN_FREE) {
			m->free_hint = p + 1;
			return p;
		}
	}
	m->free_hint = m->nr_slices;
	return U64_MAX;
}

static void sp_slice_freed(struct sp_member *m, u64 p)
{
	m->nr_free++;
	m->free_hint = min(m->free_hint, p);
}

/*
 * Choose @count physical slices by the placement rule (domain level with
 * @min_spread, then member level with 1) and reserve them in memory as
 * orphans of @v.  picks[i] receives logical slice first + i.
 */
static int sp_allocate(struct sp_pool *pool, struct sp_volume *v, u64 first,
		       u64 count, u32 min_spread, u64 gen,
		       struct sp_pick *picks)
{
	struct sp_place_params dp = {
		.w_space = pool->weight_space,
		.w_load = pool->weight_load,
		.min_spread = min_spread,
	};
	struct sp_place_params mp = dp;
	struct sp_place_cand *dc = NULL, *mc = NULL;
	u64 *dshare = NULL, *mshare = NULL;
	u32 *dorder = NULL, **morder = NULL;
	u64 *mnext = NULL;
	struct sp_dom *dom;
	unsigned int nd, d, k;
	u64 i;
	int r = -ENOMEM;

	mp.min_spread = 1;
	dom = kcalloc(SP_MAX_MEMBERS, sizeof(*dom), GFP_KERNEL);
	dc = kcalloc(SP_MAX_MEMBERS, sizeof(*dc), GFP_KERNEL);
	mc = kcalloc(SP_MAX_MEMBERS, sizeof(*mc), GFP_KERNEL);
	dshare = kcalloc(SP_MAX_MEMBERS, sizeof(*dshare), GFP_KERNEL);
	mshare = kcalloc(SP_MAX_MEMBERS, sizeof(*mshare), GFP_KERNEL);
	morder = kcalloc(SP_MAX_MEMBERS, sizeof(*morder), GFP_KERNEL);
	mnext = kcalloc(SP_MAX_MEMBERS, sizeof(*mnext), GFP_KERNEL);
	dorder = kvcalloc(count, sizeof(*dorder), GFP_KERNEL);
	if (!dom || !dc || !mc || !dshare || !mshare || !morder || !mnext ||
	    !dorder)
		goto out;

	nd = sp_domains(pool, dom);
	for (d = 0; d < nd; d++)
		sp_domain_cand(&dom[d], d, &dc[d]);
	r = sp_place(dc, nd, count, &dp, dshare);
	if (r) {
		sp_err("%s: cannot place %llu slices for volume %s: %d%s",
		       pool->name, count, v->name, r,
		       r == -ENOSPC ? " (not enough free slices in the pool)" : "");
		goto out;
	}
	r = sp_place_order(dc, dshare, nd, count, dorder);
	if (r)
		goto out;

	for (d = 0; d < nd; d++) {
		if (!dshare[d])
			continue;
		for (k = 0; k < dom[d].nr; k++)
			sp_member_cand(dom[d].mem[k], k, &mc[k]);
		r = sp_place(mc, dom[d].nr, dshare[d], &mp, mshare);
		if (r)
			goto out;
		morder[d] = kvcalloc(dshare[d], sizeof(u32), GFP_KERNEL);
		if (!morder[d]) {
			r = -ENOMEM;
			goto out;
		}
		r = sp_place_order(mc, mshare, dom[d].nr, dshare[d], morder[d]);
		if (r)
			goto out;
	}

	for (i = 0; i < count; i++) {
		struct sp_member *m;
		struct sp_owner *o;
		u64 p;

		d = dorder[i];
		m = dom[d].mem[morder[d][mnext[d]++]];
		p = sp_first_free(m);
		if (WARN_ON(p == U64_MAX)) {
			r = -ENOSPC;
			goto out;
		}
		o = &m->owners[p];
		memcpy(o->uuid, v->uuid, SP_UUID_LEN);
		o->logical = first + i;
		o->gen = gen;
		o->state = SP_OWN_ORPHAN;
		m->nr_free--;
		picks[i].m = m;
		picks[i].p = p;
	}
	r = 0;
out:
	if (morder)
		for (d = 0; d < SP_MAX_MEMBERS; d++)
			kvfree(morder[d]);
	kvfree(dorder);
	kfree(mnext);
	kfree(morder);
	kfree(mshare);
	kfree(dshare);
	kfree(mc);
	kfree(dc);
	kfree(dom);
	return r;
}

/* ---- Volume records --------------------------------------------------- */

static int sp_find_slot(struct sp_member *m, const u8 *uuid)
{
	int s, free = -1;

	for (s = 0; s < SP_MAX_VOLUMES; s++) {
		if (m->slots[s].state != SP_VOL_FREE &&
		    !memcmp(m->slots[s].uuid, uuid, SP_UUID_LEN))
			return s;
		if (free < 0 && m->slots[s].state == SP_VOL_FREE)
			free = s;
	}
	return free;
}

static void sp_holders_add(struct sp_member **h, unsigned int *n,
			   struct sp_member *m)
{
	unsigned int k;

	if (!m)
		return;
	for (k = 0; k < *n; k++)
		if (h[k] == m)
			return;
	if (*n < SP_MAX_MEMBERS)
		h[(*n)++] = m;
}

/* The fields of a volume record to write (struct sp_vol_record). */
struct sp_rec_val {
	u64 size_bytes;
	u64 nr;
	u64 gen;
	u64 started;
	u32 state;
	const struct sp_fences *fences;
};

/*
 * Write the volume record @val of @v to every holder in @h, one member at
 * a time, each flushed.  With @all, every copy must be durable (step 0 of
 * create/expand); else one durable copy commits.  Returns 0 or the first
 * error.
 */
static int sp_write_records(struct sp_volume *v, struct sp_member **h,
			    unsigned int n, const struct sp_rec_val *val,
			    bool all)
{
	struct sp_vol_record rec;
	unsigned int k, i, ok = 0;
	int r, first_err = 0;

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.uuid, v->uuid, SP_UUID_LEN);
	strscpy(rec.name, v->name, sizeof(rec.name));
	rec.size_bytes = cpu_to_le64(val->size_bytes);
	rec.nr_slices = cpu_to_le64(val->nr);
	rec.generation = cpu_to_le64(val->gen);
	rec.started = cpu_to_le64(val->started);
	rec.started_from = cpu_to_le32(v->started_from);
	rec.started_to = cpu_to_le32(v->started_to);
	rec.state = cpu_to_le32(val->state);
	rec.nr_fences = cpu_to_le32(val->fences->nr);
	for (i = 0; i < val->fences->nr; i++) {
		rec.fences[i].from = cpu_to_le32(val->fences->f[i].from |
			(val->fences->f[i].exact ? SP_FENCE_EXACT : 0));
		rec.fences[i].to = cpu_to_le32(val->fences->f[i].to);
		rec.fences[i].id = cpu_to_le64(val->fences->f[i].id);
	}

	for (k = 0; k < n; k++) {
		int s = sp_find_slot(h[k], v->uuid);

		if (s < 0) {
			r = -ENOSPC;
		} else {
			r = sp_md_set_vol(h[k], s, &rec);
			if (!r)
				r = sp_md_commit(h[k]);
		}
		if (r) {
			sp_err("%s: volume record of %s not written to %s: %d",
			       v->pool->name, v->name,
			       config_item_name(&h[k]->item), r);
			if (!first_err)
				first_err = r;
		} else {
			ok++;
		}
	}
	if (all || !ok)
		return first_err;
	return 0;
}

/* sp_fence_add() to @fs of @v, with the refusal logged when it is full. */
static int sp_volume_fence(struct sp_volume *v, struct sp_fences *fs,
			   u32 from, u32 to, u64 id, bool exact)
{
	int r = sp_fence_add(fs, from, to, id, exact);

	if (r)
		sp_err("%s: refused: volume %s already has %u fences of interrupted operations; enable every member of the pool, then write 'all' to reclaim",
		       v->pool->name, v->name, fs->nr);
	return r;
}

/*
 * The fences the next record of @v must carry: the committed ones, plus
 * one for a create/expand that started after the last commit and did not
 * commit (its orphans may sit on members that are not enabled now).
 */
static int sp_pending_fences(struct sp_volume *v, struct sp_fences *fs)
{
	*fs = v->fences;
	if (v->started <= v->gen)
		return 0;
	return sp_volume_fence(v, fs, v->started_from & ~SP_FENCE_EXACT,
			       v->started_to, v->started,
			       v->started_from & SP_FENCE_EXACT);
}

static bool sp_slots_available(struct sp_volume *v, struct sp_member **h,
			       unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		if (sp_find_slot(h[k], v->uuid) < 0) {
			sp_err("%s: member %s has no free volume record slot (max %u volumes)",
			       v->pool->name, config_item_name(&h[k]->item),
			       SP_MAX_VOLUMES);
			return false;
		}
	}
	return true;
}

/*
 * A new attempt/commit id for @v: above every id this pool has seen on a
 * superblock, a volume record or an owner record, or has handed out since
 * it was assembled.  Create and expand make it durable with
 * sp_attempt_persist() before any owner record carries it.
 */
static u64 sp_next_gen(struct sp_volume *v)
{
	struct sp_pool *pool = v->pool;

	pool->attempt = max3(pool->attempt, v->gen, v->max_owner_gen) + 1;
	return pool->attempt;
}

static bool sp_holds(struct sp_member **h, unsigned int n,
		     struct sp_member *m)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		if (h[k] == m)
			return true;
	return false;
}

/*
 * Step 0 of create/expand: raise the superblock attempt counter to @id on
 * every enabled member and flush it.  It must be durable on every member
 * in @h (the holders of the current map and the members receiving a new
 * slice) before the first owner record stamped @id is written; elsewhere
 * it is best effort.  Nothing of the attempt is on disk yet if it fails.
 */
static int sp_attempt_persist(struct sp_pool *pool, struct sp_member **h,
			      unsigned int n, u64 id)
{
	struct sp_member *m;
	int r;

	list_for_each_entry(m, &pool->members, list) {
		if (!m->enabled)
			continue;
		r = sp_md_set_attempt(m, id);
		if (!r)
			r = sp_md_commit(m);
		if (!r)
			continue;
		sp_err("%s: attempt id %llu not written to %s: %d",
		       pool->name, id, config_item_name(&m->item), r);
		if (sp_holds(h, n, m))
			return r;
	}
	return 0;
}

/* ---- Resize ----------------------------------------------------------- */

static int sp_volume_grow(struct sp_volume *v, u64 bytes, u64 new_nr)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *old = sp_map(v), *map;
	struct sp_member **h;
	struct sp_pick *picks;
	struct sp_fences fs;
	struct sp_rec_val val;
	u64 old_nr = old ? old->nr : 0, count, i, gen;
	unsigned int n = 0, n_old, k;
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
	v->started = gen;
	v->started_from = old_nr;
	v->started_to = SP_FENCE_END;
	r = sp_attempt_persist(pool, h, n, gen);
	if (r)
		goto undo;
	val = (struct sp_rec_val){ .size_bytes = v->size_bytes,
		.nr = v->nr_slices, .gen = v->gen, .started = gen,
		.state = v->state, .fences = &fs };
	if (n_old) {
		r = sp_write_records(v, h, n_old, &val, true);
		if (r)
			goto undo;
	}
	v->fences = fs;

	/* Step 1: owner records, durable on every member that got one. */
	for (i = 0; i < count; i++) {
		r = sp_md_set_owner(picks[i].m, picks[i].p,
				    &picks[i].m->owners[picks[i].p]);
		if (r)
			goto orphan;
	}
	for (k = 0; k < n; k++) {
		for (i = 0; i < count; i++)
			if (picks[i].m == h[k])
				break;
		if (i < count) {
			r = sp_md_commit(h[k]);
			if (r)
				goto orphan;
		}
	}
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

static int sp_volume_shrink(struct sp_volume *v, u64 bytes, u64 new_nr)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *old = sp_map(v), *map = NULL;
	u64 old_nr = old ? old->nr : 0, gen, i;
	struct sp_fences keep, fs;
	struct sp_rec_val val;
	struct sp_member **h;
	unsigned int n = 0, k, before, after;
	bool cleared = true;
	int r;

	if (new_nr) {
		before = sp_domains_used(v, old_nr);
		after = sp_domains_used(v, new_nr);
		if (after < min(pool->min_domains, before)) {
			sp_err("%s: refused: shrinking volume %s to %llu slices leaves it on %u failure domain(s); min_domains is %u",
			       pool->name, v->name, new_nr, after,
			       pool->min_domains);
			return -EINVAL;
		}
	}
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
	sp_map_publish(v, map);
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

	if (bytes & (SECTOR_SIZE - 1)) {
		sp_err("%s: volume %s: size %llu is not a multiple of 512",
		       pool->name, v->name, bytes);
		return -EINVAL;
	}
	if (bytes == cur)
		return 0;
	if (rcu_access_pointer(v->mig)) {
		sp_err("%s: refused: volume %s is migrating; wait for it or abort it first",
		       pool->name, v->name);
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
	if (cur && sp_volume_present(v) < v->nr_slices) {
		sp_err("%s: refused: volume %s has %llu missing slices; enable the missing members first",
		       pool->name, v->name,
		       v->nr_slices - sp_volume_present(v));
		return -EIO;
	}
	new_nr = div64_u64(bytes + slice_bytes - 1, slice_bytes);
	if (new_nr > SP_MAX_VOL_SLICES) {
		sp_err("%s: volume %s: size %llu is too large: %llu slices, at most %u",
		       pool->name, v->name, bytes, new_nr, SP_MAX_VOL_SLICES);
		return -EINVAL;
	}
	if (!cur || new_nr > v->nr_slices)
		return sp_volume_grow(v, bytes, new_nr);
	if (new_nr < v->nr_slices)
		return sp_volume_shrink(v, bytes, new_nr);
	return sp_volume_set_bytes(v, bytes);
}

/* ---- Slice moves (the metadata side of live migration) -------------- */

static struct sp_member *sp_member_by_name(struct sp_pool *pool,
					   const char *name)
{
	struct sp_member *m;

	list_for_each_entry(m, &pool->members, list)
		if (!strcmp(config_item_name(&m->item), name))
			return m;
	return NULL;
}

/*
 * Reserve a destination slice for each of the logical slices
 * [first, first + count) of @v on @dest: a member name, or
 * "domain:<label>" for the members of that domain, the one with the most
 * free slices first (ties by name).  The reserved owner records are
 * SP_OWN_MOVING, in memory only, so nothing else takes them.  @src gets
 * the current extents.  Every refusal logs why.
 */
int sp_move_reserve(struct sp_volume *v, u64 first, u64 count,
		    const char *dest, struct sp_extent *src,
		    struct sp_extent *dst)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *map = sp_map(v);
	struct sp_member *cand[SP_MAX_MEMBERS], *m;
	unsigned int nc = 0, k;
	u64 i, avail = 0;

	if (v->state != SP_VOL_LIVE || !map || first >= map->nr ||
	    count > map->nr - first || !count) {
		sp_err("%s: volume %s has no slices %llu..%llu (it has %llu)",
		       pool->name, v->name, first, first + count - 1,
		       map ? map->nr : 0);
		return -EINVAL;
	}
	if (!strncmp(dest, "domain:", 7)) {
		list_for_each_entry(m, &pool->members, list)
			if (m->enabled && !m->failed &&
			    !strcmp(m->domain, dest + 7))
				cand[nc++] = m;
	} else {
		m = sp_member_by_name(pool, dest);
		if (m && m->enabled && !m->failed)
			cand[nc++] = m;
	}
	if (!nc) {
		sp_err("%s: migration destination '%s' is not an enabled, healthy member or domain:<label> of the pool",
		       pool->name, dest);
		return -ENODEV;
	}
	for (i = 0; i < count; i++) {
		src[i] = map->e[first + i];
		if (!src[i].m) {
			sp_err("%s: volume %s slice %llu is missing; it cannot be moved",
			       pool->name, v->name, first + i);
			return -EIO;
		}
		for (k = 0; k < nc; k++)
			if (cand[k] == src[i].m)
				break;
		if (k < nc && nc == 1) {
			sp_err("%s: volume %s slice %llu is already on %s",
			       pool->name, v->name, first + i,
			       config_item_name(&src[i].m->item));
			return -EINVAL;
		}
	}
	for (k = 0; k < nc; k++)
		avail += cand[k]->nr_free;
	if (avail < count) {
		sp_err("%s: migration destination %s has %llu free slices, %llu needed",
		       pool->name, dest, avail, count);
		return -ENOSPC;
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
			sp_move_unreserve(v, i, dst);
			return -ENOSPC;
		}
		o = &best->owners[p];
		memcpy(o->uuid, v->uuid, SP_UUID_LEN);
		o->logical = first + i;
		o->gen = 0;
		o->state = SP_OWN_MOVING;
		best->nr_free--;
		dst[i].m = best;
		dst[i].start = best->data_offset + p * sp_slice_sectors(pool);
	}
	return 0;
}

void sp_move_unreserve(struct sp_volume *v, u64 count, struct sp_extent *dst)
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
 * Commit the move of [first, first + count) to @dst and publish the new
 * map (steps 0-2 of "Slice moves" in the rst):
 *  0. a new attempt id a, durable in the superblocks, and as started
 *     (with the exact range) in the record on every holder;
 *  1. owner records {L, a} on the destinations, flushed;
 *  2. the record of generation a with the fence {first, first + count,
 *     a - 1} on every holder: the commit point.  The destinations' claims
 *     win, the sources' are fenced.
 * On failure before the commit the destinations stay reserved (the
 * caller unreserves them); owner records already written are orphans
 * that "started" fences at the next operation.
 */
int sp_move_commit(struct sp_volume *v, u64 first, u64 count,
		   const struct sp_extent *dst)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *old = sp_map(v), *map;
	struct sp_fences fs, fs2;
	struct sp_rec_val val;
	struct sp_member **h;
	unsigned int n = 0, n_old, k;
	u64 gen, i;
	int r;

	r = sp_pending_fences(v, &fs);
	if (r)
		return r;
	fs2 = fs;
	gen = sp_next_gen(v);
	r = sp_volume_fence(v, &fs2, first, first + count, gen - 1, false);
	if (r)
		return r;
	h = kcalloc(SP_MAX_MEMBERS, sizeof(*h), GFP_KERNEL);
	map = sp_map_alloc(old->nr);
	if (!h || !map) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < old->nr; i++) {
		map->e[i] = old->e[i];
		sp_holders_add(h, &n, old->e[i].m);
	}
	n_old = n;
	for (i = 0; i < count; i++) {
		map->e[first + i] = dst[i];
		sp_holders_add(h, &n, dst[i].m);
	}
	if (!sp_slots_available(v, h, n)) {
		r = -ENOSPC;
		goto out;
	}

	/* Step 0. */
	v->started = gen;
	v->started_from = first | SP_FENCE_EXACT;
	v->started_to = first + count;
	r = sp_attempt_persist(pool, h, n, gen);
	if (r)
		goto out;
	val = (struct sp_rec_val){ .size_bytes = v->size_bytes,
		.nr = v->nr_slices, .gen = v->gen, .started = gen,
		.state = v->state, .fences = &fs };
	r = sp_write_records(v, h, n_old, &val, true);
	if (r)
		goto out;
	v->fences = fs;

	/* Step 1. */
	for (i = 0; i < count; i++) {
		struct sp_owner o = {
			.logical = first + i,
			.gen = gen,
		};

		memcpy(o.uuid, v->uuid, SP_UUID_LEN);
		r = sp_md_set_owner(dst[i].m, sp_pslice(dst[i].m,
							dst[i].start), &o);
		if (r)
			goto out;
	}
	for (k = n_old; k < n; k++) {
		r = sp_md_commit(h[k]);
		if (r)
			goto out;
	}
	for (k = 0; k < n_old; k++) {
		for (i = 0; i < count; i++)
			if (dst[i].m == h[k])
				break;
		if (i < count) {
			r = sp_md_commit(h[k]);
			if (r)
				goto out;
		}
	}

	/* Step 2: the commit point. */
	val = (struct sp_rec_val){ .size_bytes = v->size_bytes,
		.nr = v->nr_slices, .gen = gen, .started = gen,
		.state = SP_VOL_LIVE, .fences = &fs2 };
	r = sp_write_records(v, h, n, &val, false);
	if (r)
		goto out;
	for (i = 0; i < count; i++) {
		struct sp_owner *o = &dst[i].m->owners[sp_pslice(dst[i].m,
								 dst[i].start)];

		o->gen = gen;
		o->state = SP_OWN_VALID;
	}
	v->gen = gen;
	v->fences = fs2;
	v->max_owner_gen = max(v->max_owner_gen, gen);
	sp_map_publish(v, map);
	map = NULL;
out:
	if (r)
		sp_err("%s: move of volume %s slices %llu..%llu not committed: %d",
		       pool->name, v->name, first, first + count - 1, r);
	kvfree(map);
	kfree(h);
	return r;
}

/*
 * After a committed move, once no I/O reaches the sources any more:
 *  3. clear the sources' owner records, flushed;
 *  4. if all were cleared, write the record again with a new id and
 *     without the move's fence.
 */
void sp_move_release(struct sp_volume *v, u64 first, u64 count,
		     const struct sp_extent *src)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *map = sp_map(v);
	struct sp_member **h;
	struct sp_fences keep;
	struct sp_rec_val val;
	unsigned int n = 0, k;
	bool cleared = true;
	u64 i, id;
	int r = 0;

	h = kcalloc(SP_MAX_MEMBERS, sizeof(*h), GFP_KERNEL);
	if (!h)
		return;
	for (i = 0; i < count; i++) {
		sp_holders_add(h, &n, src[i].m);
		if (!r)
			r = sp_md_set_owner(src[i].m,
					    sp_pslice(src[i].m, src[i].start),
					    NULL);
	}
	for (k = 0; k < n; k++) {
		int rc = r ? r : sp_md_commit(h[k]);

		for (i = 0; i < count; i++) {
			struct sp_member *m = src[i].m;
			u64 p = sp_pslice(m, src[i].start);

			if (m != h[k])
				continue;
			if (!rc) {
				memset(&m->owners[p], 0, sizeof(m->owners[p]));
				m->owners[p].state = SP_OWN_FREE;
				sp_slice_freed(m, p);
			} else {
				m->owners[p].state = SP_OWN_ORPHAN;
				cleared = false;
			}
		}
	}
	if (!cleared) {
		sp_err("%s: volume %s moved, but the source slices stay allocated until reclaim",
		       pool->name, v->name);
		goto out;
	}
	/* Step 4: drop the move's fence (the last one, it is the newest). */
	keep = v->fences;
	if (keep.nr && keep.f[keep.nr - 1].from == first &&
	    keep.f[keep.nr - 1].to == first + count)
		keep.nr--;
	n = 0;
	for (i = 0; map && i < map->nr; i++)
		sp_holders_add(h, &n, map->e[i].m);
	id = sp_next_gen(v);
	val = (struct sp_rec_val){ .size_bytes = v->size_bytes,
		.nr = v->nr_slices, .gen = id, .started = id,
		.state = SP_VOL_LIVE, .fences = &keep };
	if (!sp_write_records(v, h, n, &val, false)) {
		v->gen = id;
		v->started = id;
		v->fences = keep;
		v->max_owner_gen = max(v->max_owner_gen, id);
	}
out:
	kfree(h);
}

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
