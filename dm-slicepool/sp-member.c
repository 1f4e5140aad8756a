// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: pool members: enable (sp-md3pool.c creates, adds or
 * reassembles with the device), disable, remove and growth
 * (revalidate_size).
 *
 * Everything here runs under pool->lock, except
 * sp_member_revalidate_size(), which takes it itself.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

static void sp_member_release_dev(struct sp_member *m)
{
	sp_md3_member_close(m);
	if (m->bdev.bdev)
		sp_bdev_close(&m->bdev, m);
	kvfree(m->owners);
	m->owners = NULL;
}

static int sp_member_open(struct sp_member *m)
{
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
	r = sp_md3_member_open(m);
	if (r)
		sp_member_release_dev(m);
	return r;
}

/*
 * Count @m in (@on) or out of the pool's enabled members: m->enabled,
 * pool->nr_enabled and m->index's bit in pool->index_map change together.
 */
void sp_member_set_enabled(struct sp_member *m, bool on)
{
	struct sp_pool *pool = m->pool;

	m->enabled = on;
	if (on) {
		pool->nr_enabled++;
		__set_bit(m->index, pool->index_map);
	} else {
		pool->nr_enabled--;
		__clear_bit(m->index, pool->index_map);
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
		sp_err("%s: refused: pool %s already has %u enabled members, the most a pool takes",
		       config_item_name(&m->item), pool->name, SP_MAX_MEMBERS);
		return -ENOSPC;
	}
	r = sp_member_open(m);
	if (r)
		return r;
	sp_fill_dm_dev(&m->ddev, &m->bdev);
	m->failed = false;
	atomic64_set(&m->io_errors, 0);
	m->index = find_first_zero_bit(pool->index_map, SP_MAX_MEMBERS);
	sp_member_set_enabled(m, true);
	sp_load_member_init(m);
	r = sp_md3_sync(pool);
	if (r) {
		sp_member_set_enabled(m, false);
		sp_member_release_dev(m);
		sp_md3_sync(pool);
	}
	return r;
}

/*
 * The first physical slice of @m in @state at physical slice *@p or after:
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
	r = sp_md3_sync(pool);
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
 * remove: take member @m out of the pool for good: removed from the
 * state first (one transaction, refused while it holds a slice), then
 * disabled as by "enable 0".  A disabled @m can only be a
 * member the state no longer has current (forced out: its device is
 * gone), sp_md3_member_remove_absent().
 */
int sp_member_remove(struct sp_member *m)
{
	int r;

	if (!m->enabled)
		return sp_md3_member_remove_absent(m);
	r = sp_md3_member_remove(m);
	if (!r)
		r = sp_member_disable(m);
	return r;
}

/* max_slices: the whole slices the device has room for now. */
u64 sp_member_max_slices(struct sp_member *m)
{
	u64 dev = bdev_nr_sectors(m->bdev.bdev);

	if (dev <= m->data_offset)
		return 0;
	return div64_u64(dev - m->data_offset, sp_slice_sectors(m->pool));
}

/* ---- Growth (revalidate_size) ---------------------------------------- */

/*
 * The checks of revalidate_size, under pool->lock: the member must be
 * enabled and healthy, and its device must still hold the data area.
 * Sets *dev to the device size in sectors and *nr to the whole slices
 * after data_offset: the member takes all that fits.
 */
static int sp_member_grow_check(struct sp_member *m, u64 *dev, u64 *nr)
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
	*nr = div64_u64(*dev - m->data_offset, slice);
	return 0;
}

/*
 * revalidate_size: take every new whole slice of a grown device, one
 * transaction (sp_md3_member_grow(); sp_md3_sync() replaces the owner
 * array).
 */
int sp_member_revalidate_size(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	u64 dev, nr;
	int r;

	mutex_lock(&pool->lock);
	r = sp_member_grow_check(m, &dev, &nr);
	if (!r)
		r = sp_md3_member_grow(m, dev, nr);
	mutex_unlock(&pool->lock);
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
