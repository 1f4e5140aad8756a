// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: pool members.  Adoption of a member's metadata (its volume
 * records merged into the pool's volumes), enable, disable and growth
 * (revalidate_size).  The commit protocol and the classification rule
 * are described at the top of sp-pool.c.
 *
 * Everything here runs under pool->lock, except
 * sp_member_revalidate_size(), which takes it itself.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

/* Merge the volume records read from a member being adopted. */
static int sp_merge_records(struct sp_pool *pool, const char *path,
			    const struct sp_vol_record *recs)
{
	struct sp_fences fs;
	unsigned int s;

	/* Checked first: a refused member must leave nothing behind. */
	for (s = 0; s < SP_MAX_VOLUMES; s++) {
		if (le32_to_cpu(recs[s].state) == SP_VOL_FREE ||
		    !sp_fences_decode(&recs[s], &fs))
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
		sp_fences_decode(rec, &fs);
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
	sp_md3_member_close(m);
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
	if (pool->format == SP_FORMAT_3) {
		r = sp_md3_member_open(m);
		if (r)
			goto fail;
		return 0;
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

/*
 * Count @m in (@on) or out of the pool's enabled members: m->enabled,
 * pool->nr_enabled and m->index's bit in pool->index_mask change together.
 */
void sp_member_set_enabled(struct sp_member *m, bool on)
{
	struct sp_pool *pool = m->pool;

	m->enabled = on;
	if (on) {
		pool->nr_enabled++;
		pool->index_mask |= BIT_ULL(m->index);
	} else {
		pool->nr_enabled--;
		pool->index_mask &= ~BIT_ULL(m->index);
	}
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
	m->draining = false;
	atomic64_set(&m->io_errors, 0);
	m->index = __ffs64(~pool->index_mask);
	sp_member_set_enabled(m, true);
	sp_load_member_init(m);
	r = sp_pool_rebuild(pool);
	if (r) {
		sp_member_set_enabled(m, false);
		sp_member_release_dev(m);
		sp_pool_rebuild(pool);
	}
	return r;
}

/*
 * The first owner record of @m in @state at physical slice *@p or after:
 * *@p is moved to it and *@v set to its volume (NULL if none is known).
 * NULL, with *@p at m->nr_slices, when there is none.
 */
static struct sp_owner *sp_member_next_owner(struct sp_member *m,
					     enum sp_owner_state state,
					     u64 *p, struct sp_volume **v)
{
	for (; *p < m->nr_slices; (*p)++) {
		struct sp_owner *o = &m->owners[*p];

		if (o->state != state)
			continue;
		*v = sp_volume_find_uuid(m->pool, o->uuid);
		return o;
	}
	return NULL;
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
	struct sp_volume *v;
	struct sp_owner *o;
	u64 p;
	int r;

	if (!m->enabled)
		return 0;
	p = 0;
	if (sp_member_next_owner(m, SP_OWN_MOVING, &p, &v)) {
		sp_err("%s: refused: a migration of volume %s is copying to it (wait for it or abort it first)",
		       config_item_name(&m->item), v ? v->name : "?");
		return -EBUSY;
	}
	for (p = 0; (o = sp_member_next_owner(m, SP_OWN_VALID, &p, &v)); p++) {
		if (v && (v->vitem || v->live_tables)) {
			sp_err("%s: refused: member holds slice %llu of volume %s (its physical slice %llu)%s; migrate its slices to another member, shrink or unbind the volume first",
			       config_item_name(&m->item), o->logical, v->name,
			       p, v->live_tables ?
			       ", which a live table reaches" : "");
			return -EBUSY;
		}
	}
	sp_member_set_enabled(m, false);
	r = sp_pool_rebuild(pool);
	if (r) {
		/* Nothing was published: the maps still reach @m. */
		sp_err("%s: disable failed: %d; the member stays enabled",
		       config_item_name(&m->item), r);
		sp_member_set_enabled(m, true);
		return r;
	}
	sp_pool_drain_io(pool);
	sp_member_release_dev(m);
	sp_pool_gc_volumes(pool);
	return 0;
}

/*
 * remove: take member @m out of the pool for good.  Format 3 only
 * (format 2 keeps no member list: a member is disabled and rmdir'ed):
 * removed from the state first (one transaction, refused while it holds
 * a slice), then disabled as by "enable 0".  A disabled @m can only be a
 * member the state no longer has current (forced out: its device is
 * gone), sp_md3_member_remove_absent().
 */
int sp_member_remove(struct sp_member *m)
{
	const char *name = config_item_name(&m->item);
	int r;

	if (m->pool->format != SP_FORMAT_3) {
		sp_err("%s: remove refused: pool %s is format 2, which keeps no member list: disable the member and rmdir it",
		       name, m->pool->name);
		return -EINVAL;
	}
	if (!m->enabled)
		return sp_md3_member_remove_absent(m);
	r = sp_md3_member_remove(m);
	if (!r)
		r = sp_member_disable(m);
	return r;
}

/*
 * max_slices: format 2, what the owner table describes; format 3, the
 * whole slices the device has room for now.
 */
u64 sp_member_max_slices(struct sp_member *m)
{
	u64 dev = bdev_nr_sectors(m->bdev.bdev);

	if (m->pool->format != SP_FORMAT_3)
		return m->owner_blocks * SP_OWNERS_PER_BLOCK;
	if (dev <= m->data_offset)
		return 0;
	return div64_u64(dev - m->data_offset, sp_slice_sectors(m->pool));
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
	/* Format 3 has no owner table: the member takes all that fits. */
	*nr = m->pool->format == SP_FORMAT_3 ? *fit :
		min(*fit, m->owner_blocks * SP_OWNERS_PER_BLOCK);
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

	if (pool->format == SP_FORMAT_3) {
		/* sp_md3_sync() replaces the owner array itself. */
		mutex_lock(&pool->lock);
		r = sp_member_grow_check(m, &dev, &fit, &nr);
		if (!r)
			r = sp_md3_member_grow(m, dev, nr);
		mutex_unlock(&pool->lock);
		return r;
	}
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

/*
 * "online": an enabled member that an I/O error marked failed (or whose
 * failed metadata write made the state mark it stale) is taken back
 * without disabling it, so without unbinding any volume: once its device
 * answers again as this member (sp_md3_member_online()), it is online,
 * takes new slices and is a migration destination again, and a stale
 * member's slices are in the volumes' maps again.  A member that is
 * online already: nothing to do.  @automatic: an automatic probe
 * (sp-probe.c), whose refusals are not logged.  Under pool->lock.
 */
int sp_member_online(struct sp_member *m, bool automatic)
{
	bool failed = READ_ONCE(m->failed), stale;
	int r;

	lockdep_assert_held(&m->pool->lock);
	if (!m->enabled) {
		sp_err("%s: online refused: the member is not enabled (enable it)",
		       config_item_name(&m->item));
		return -EINVAL;
	}
	if (!m->mdev) {
		sp_err("%s: online refused: pool %s is not on metadata format 3",
		       config_item_name(&m->item), m->pool->name);
		return -EINVAL;
	}
	r = sp_md3_member_online(m, &stale, automatic);
	if (r)
		return r;
	if (!failed && !stale) {
		sp_info("%s: %s is online already", config_item_name(&m->item),
			m->path);
		return 0;
	}
	WRITE_ONCE(m->failed, false);
	m->probe_noted = false;
	sp_info("%s: %s is online again (it was %s)%s",
		config_item_name(&m->item), m->path,
		stale ? "stale after a failed metadata write" : "failed",
		automatic ? ", found by its automatic probe" : "");
	return 0;
}
