// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the "slicepool" device-mapper target and its I/O path.
 *
 * Table line: <start> <len> slicepool <pool> <volume> [<#feature args> <args>]
 * Feature args: ignore_discard.
 *
 * The I/O path does one RCU-protected array lookup per bio (logical slice
 * -> member, physical start), never allocates with a blocking mask and
 * never blocks.  Bios are split by dm core at slice boundaries
 * (max_io_len = slice size); discards and write-zeroes that still cross a
 * boundary are cut with dm_accept_partial_bio().  While a migration runs
 * on the volume, map() and end_io call it through the hooks it registered
 * (sp-io.h); otherwise they cost one RCU pointer test.
 *
 * Flushes: sp-flush.c.  Status and messages: sp-status.c.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/log2.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "sp-target.h"

DEFINE_MUTEX(sp_pools_lock);	/* protects sp_pools */
LIST_HEAD(sp_pools);

/*
 * Serialises I/O epoch flips (v->io_epoch), of one volume or of every
 * volume of a pool at once.  Order: pool->lock before it.
 */
static DEFINE_MUTEX(sp_drain_lock);

/* The migration's hooks (sp-target.h). */
const struct sp_io_hooks *sp_hooks;

void sp_io_set_hooks(const struct sp_io_hooks *hooks)
{
	sp_hooks = hooks;
}

static struct sp_pool *sp_pool_find(const char *name)
{
	struct sp_pool *pool;

	list_for_each_entry(pool, &sp_pools, list)
		if (!strcmp(pool->name, name))
			return pool;
	return NULL;
}

static void sp_update_max_len(struct sp_volume *v)
{
	struct sp_target *t;

	v->max_table_len = 0;
	list_for_each_entry(t, &v->targets, list)
		v->max_table_len = max(v->max_table_len, t->len);
}

static int sp_parse_features(struct dm_target *ti, struct sp_target *t,
			     unsigned int argc, char **argv)
{
	unsigned int i, n;

	if (!argc)
		return 0;
	if (kstrtouint(argv[0], 10, &n) || n != argc - 1) {
		ti->error = "Invalid number of feature arguments";
		sp_err("feature argument count '%s' does not match %u arguments",
		       argv[0], argc - 1);
		return -EINVAL;
	}
	t->features_given = true;
	t->nr_features = n;
	for (i = 1; i < argc; i++) {
		if (!strcasecmp(argv[i], "ignore_discard")) {
			t->ignore_discard = true;
		} else {
			ti->error = "Unknown feature argument";
			sp_err("unknown feature argument '%s'", argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Undo what a constructed table holds on its volume: its place in the
 * volume's table list (and the max I/O length derived from it), the
 * configfs dependency (if taken), the item and the volume references.
 */
static void sp_target_unlink(struct sp_target *t, bool depended)
{
	struct sp_volume *v = t->vol;

	bool last;

	mutex_lock(&t->pool->lock);
	list_del(&t->list);
	v->live_tables--;
	last = !v->live_tables;
	sp_update_max_len(v);
	mutex_unlock(&t->pool->lock);
	if (last && sp_hooks)
		sp_hooks->volume_gone(v);
	if (depended)
		configfs_undepend_item(&t->vi->item);
	config_item_put(&t->vi->item);
	sp_volume_put(v);
}

static int sp_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct sp_target *t;
	struct sp_pool *pool;
	struct sp_volume *v;
	sector_t size;
	int r;

	if (argc < 2) {
		ti->error = "Expected <pool> <volume> [<#features> <features>]";
		return -EINVAL;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t) {
		ti->error = "Out of memory";
		return -ENOMEM;
	}
	INIT_LIST_HEAD(&t->list);
	spin_lock_init(&t->flush_lock);
	bio_list_init(&t->flush_bios);
	INIT_WORK(&t->flush_work, sp_flush_work);
	r = sp_parse_features(ti, t, argc - 2, argv + 2);
	if (r)
		goto bad;

	mutex_lock(&sp_pools_lock);
	pool = sp_pool_find(argv[0]);
	if (!pool) {
		mutex_unlock(&sp_pools_lock);
		ti->error = "Unknown pool";
		sp_err("unknown pool '%s'", argv[0]);
		r = -ENODEV;
		goto bad;
	}
	mutex_lock(&pool->lock);
	v = sp_volume_find_name(pool, argv[1]);
	if (!v || !v->vitem || v->state != SP_VOL_LIVE) {
		ti->error = "Unknown volume";
		sp_err("pool %s has no volume '%s' (mkdir it in configfs and set its size)",
		       pool->name, argv[1]);
		r = -ENODEV;
		goto unlock;
	}
	/* An image is read-only for good: no read-write table of it. */
	t->rw = !!(dm_table_get_mode(ti->table) & FMODE_WRITE);
	if (t->rw && sp_md3_vol_image(v)) {
		ti->error = "Volume is an image: read-only tables only";
		sp_err("%s: volume %s is an image: a read-write table of it is refused; load it read-only",
		       pool->name, v->name);
		r = -EROFS;
		goto unlock;
	}
	/*
	 * The length normally equals the volume size; a shorter table is
	 * the first step of an online shrink (reload, then write the size).
	 */
	size = v->size_bytes >> SECTOR_SHIFT;
	if (ti->len > size) {
		ti->error = "Length does not match the volume size";
		sp_err("table length %llu sectors does not match volume %s size %llu sectors (longer)",
		       (u64)ti->len, v->name, (u64)size);
		r = -EINVAL;
		goto unlock;
	}
	t->pool = pool;
	t->vol = v;
	t->vi = v->vitem;
	t->len = ti->len;
	t->slice_sectors = sp_slice_sectors(pool);
	t->slice_shift = is_power_of_2(t->slice_sectors) ?
		ilog2(t->slice_sectors) : -1;
	t->nr_slices = DIV_ROUND_UP_ULL(ti->len, t->slice_sectors);
	config_item_get(&t->vi->item);
	kref_get(&v->kref);
	list_add(&t->list, &v->targets);
	v->live_tables++;
	sp_update_max_len(v);
	mutex_unlock(&pool->lock);
	mutex_unlock(&sp_pools_lock);

	/* Pin the volume item: rmdir of a volume in use fails with EBUSY. */
	r = configfs_depend_item(&sp_subsys, &t->vi->item);
	if (r) {
		ti->error = "Volume is being removed";
		sp_target_unlink(t, false);
		goto bad;
	}

	r = dm_set_target_max_io_len(ti, t->slice_sectors);
	if (r) {
		sp_target_unlink(t, true);
		goto bad;
	}
	/*
	 * One flush bio, sent on to every holder of the volume's map when it
	 * is mapped (see the top of sp-flush.c).  flush_supported: the device
	 * takes flushes even if no member enabled now has a write cache, as
	 * a later one may.
	 */
	ti->num_flush_bios = 1;
	ti->flush_supported = true;
	ti->num_discard_bios = t->ignore_discard ? 0 : 1;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct sp_pbd);
	ti->private = t;
	return 0;

unlock:
	mutex_unlock(&pool->lock);
	mutex_unlock(&sp_pools_lock);
bad:
	kfree(t);
	return r;
}

static void sp_dtr(struct dm_target *ti)
{
	struct sp_target *t = ti->private;

	/* No flush is queued (none is in flight); the work may still run. */
	cancel_work_sync(&t->flush_work);
	sp_target_unlink(t, true);
	kfree(t);
}

/* ---- I/O epochs ------------------------------------------------------- */

static long sp_inflight_sum(struct sp_volume *v, unsigned int e)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(v->inflight, cpu)->n[e]);
	return sum;
}

/*
 * Wait until every bio with data that map() sent to a member before this
 * call has completed.  map() counts each such bio in the current epoch
 * under rcu_read_lock(); after the flip and a grace period the old epoch
 * only goes down.  Its per-cpu counts are read one after the other while
 * they only decrease, so a zero sum means zero.
 */
void sp_volume_drain_io(struct sp_volume *v)
{
	unsigned int old;

	mutex_lock(&sp_drain_lock);
	old = READ_ONCE(v->io_epoch);
	/* After the maps published before (see sp_io_epoch()). */
	smp_store_release(&v->io_epoch, !old);
	synchronize_rcu();
	while (sp_inflight_sum(v, old) > 0)
		usleep_range(500, 1000);
	mutex_unlock(&sp_drain_lock);
}

/*
 * The same for every volume of @pool at once (one grace period), with
 * pool->lock held (so the volume list cannot change; order: pool->lock
 * before sp_drain_lock): after it, no map() reads a map published before
 * the call and no bio map() sent before it is in flight.  Waiting under
 * pool->lock is safe: a counted bio has been sent to a member and
 * completes without the lock.  Used before a member's device is closed.
 */
void sp_pool_drain_io(struct sp_pool *pool)
{
	struct sp_volume *v;

	lockdep_assert_held(&pool->lock);
	mutex_lock(&sp_drain_lock);
	list_for_each_entry(v, &pool->volumes, list) {
		u8 e = !READ_ONCE(v->io_epoch);

		/* After the maps published before (see sp_io_epoch()). */
		smp_store_release(&v->io_epoch, e);
	}
	synchronize_rcu();
	list_for_each_entry(v, &pool->volumes, list)
		while (sp_inflight_sum(v, !READ_ONCE(v->io_epoch)) > 0)
			usleep_range(500, 1000);
	mutex_unlock(&sp_drain_lock);
}

/* ---- I/O path ------------------------------------------------------------ */

/* I/O error @err on member @m (a data bio or a child flush). */
void sp_member_io_error(struct sp_volume *v, struct sp_member *m,
			blk_status_t err)
{
	if (!err || err == BLK_STS_NOTSUPP || err == BLK_STS_AGAIN)
		return;
	atomic64_inc(&m->io_errors);
	atomic64_inc(&v->io_errors);
	/* m->failed is only ever set here, without pool->lock. */
	if (!READ_ONCE(m->failed)) {
		WRITE_ONCE(m->failed, true);
		sp_err("pool %s: member %s (%s) failed: I/O error %d",
		       m->pool->name, config_item_name(&m->item), m->path,
		       blk_status_to_errno(err));
	}
}

static int sp_map_bio(struct dm_target *ti, struct bio *bio)
{
	struct sp_target *t = ti->private;
	struct sp_volume *v = t->vol;
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	struct sp_vmap *map;
	enum sp_io_act act = SP_IO_PASS;
	struct sp_mig *mig;
	struct sp_extent e;
	sector_t off;
	u8 epoch;
	u32 in;
	u64 idx;

	pbd->m = NULL;
	pbd->mig = NULL;
	pbd->epoch = SP_NO_EPOCH;
	/* A read of an image is timed (sp-hot.c); hot_start is 0 for others. */
	pbd->hot_start = sp_hot_read_start(bio, READ_ONCE(v->image));

	if (unlikely((bio->bi_opf & REQ_PREFLUSH) && !bio_sectors(bio)))
		return sp_map_flush(t, bio, pbd);

	off = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (likely(t->slice_shift >= 0)) {
		idx = off >> t->slice_shift;
		in = off & (t->slice_sectors - 1);
	} else {
		idx = div_u64_rem(off, t->slice_sectors, &in);
	}
	if (unlikely(bio_sectors(bio) > t->slice_sectors - in))
		dm_accept_partial_bio(bio, t->slice_sectors - in);

	rcu_read_lock();
	epoch = sp_io_epoch(v);
	map = rcu_dereference(v->map);
	if (unlikely(!map || idx >= map->nr || !map->e[idx].m)) {
		rcu_read_unlock();
		atomic64_inc(&v->io_errors);
		return DM_MAPIO_KILL;
	}
	e = map->e[idx];
	/* A job is published only while the hooks are set (sp_io_set_hooks()). */
	mig = rcu_dereference(v->mig);
	if (unlikely(mig)) {
		act = sp_hooks->map(mig, ti, bio, idx, in, pbd);
		if (act == SP_IO_HELD) {
			rcu_read_unlock();
			return DM_MAPIO_SUBMITTED; /* held by the switch */
		}
	}
	/*
	 * Counted in the I/O epoch under RCU (sp_volume_drain_io(),
	 * sp_pool_drain_io()): e.m stays open until the bio completes.
	 */
	pbd->epoch = epoch;
	this_cpu_inc(v->inflight->n[epoch]);
	rcu_read_unlock();

	pbd->m = e.m;
	bio_set_dev(bio, e.m->bdev.bdev);
	bio->bi_iter.bi_sector = e.start + in;

	/*
	 * Per-CPU adds, each one instruction on x86-64 with no preemption
	 * toggle: the two may land on two CPUs, and only sums are read.
	 */
	if (bio_op(bio) == REQ_OP_READ) {
		this_cpu_inc(v->stats->reads);
		this_cpu_add(v->stats->read_sectors, bio_sectors(bio));
	} else if (bio_op(bio) == REQ_OP_WRITE) {
		this_cpu_inc(v->stats->writes);
		this_cpu_add(v->stats->write_sectors, bio_sectors(bio));
	}
	/*
	 * A mirrored write: counted in flight by the job, which outlives it.
	 * Its destination leg is issued now, or it is deferred.
	 */
	if (unlikely(act == SP_IO_MIRROR) && !sp_hooks->mirror(mig, bio))
		return DM_MAPIO_SUBMITTED;
	return DM_MAPIO_REMAPPED;
}

/*
 * A bio the migration switch held, mapped again after the switch.  @ti is
 * valid: the held bio is in flight for dm core, so the table it was
 * mapped by is neither suspended nor destroyed before it completes.
 */
int sp_target_remap(struct dm_target *ti, struct bio *bio)
{
	return sp_map_bio(ti, bio);
}

/*
 * How many of the tables constructed on @v are read-write (pool->lock
 * held: the table list); an image may have none.
 */
unsigned int sp_target_rw_tables(struct sp_volume *v)
{
	struct sp_target *t;
	unsigned int n = 0;

	lockdep_assert_held(&v->pool->lock);
	list_for_each_entry(t, &v->targets, list)
		n += t->rw;
	return n;
}

/*
 * The smallest logical block size the live tables of @v were stacked
 * with, 0 if none was yet (pool->lock held: the table list).  A table
 * not resumed yet stacks the members enabled when it is.
 */
unsigned int sp_target_lbs(struct sp_volume *v)
{
	unsigned int lbs = 0, l;
	struct sp_target *t;

	lockdep_assert_held(&v->pool->lock);
	list_for_each_entry(t, &v->targets, list) {
		l = READ_ONCE(t->lbs);
		if (l && (!lbs || l < lbs))
			lbs = l;
	}
	return lbs;
}

static int sp_end_io(struct dm_target *ti, struct bio *bio,
		     blk_status_t *error)
{
	struct sp_target *t = ti->private;
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	struct sp_member *m = pbd->m;

	/* Reported whatever its status: a failed write may change data. */
	if (pbd->mig)
		sp_hooks->write_done(pbd, *error);
	if (pbd->epoch != SP_NO_EPOCH)
		this_cpu_dec(t->vol->inflight->n[pbd->epoch]);
	if (bio_op(bio) == REQ_OP_READ && pbd->hot_start && !*error)
		sp_hot_read_done(&t->vol->hot, pbd->hot_start);
	/* A fanned out flush has no member: its children reported theirs. */
	if (unlikely(*error) && m)
		sp_member_io_error(t->vol, m, *error);
	return DM_ENDIO_DONE;
}

/*
 * dm core has suspended the table: every bio it mapped has completed,
 * held and mirrored writes included (they count as in flight for dm
 * core).  Drain what the migration may still run on their behalf: once
 * this returns, no work item of the module touches a bio of this table,
 * and the table may be destroyed.  The job itself goes on: it belongs to
 * the volume, and copies between the members, not through the device.
 */
static void sp_postsuspend(struct dm_target *ti)
{
	struct sp_target *t = ti->private;

	if (sp_hooks)
		sp_hooks->postsuspend(t->vol);
}

/*
 * The pool's enabled members, under pool->lock (a member stays open while
 * it is held): the table's queue limits are stacked from all of them, as
 * a migration may move slices to any.  Called by dm core at table load
 * and resume, never with pool->lock held.
 */
static int sp_iterate_devices(struct dm_target *ti,
			      iterate_devices_callout_fn fn, void *data)
{
	struct sp_target *t = ti->private;
	struct sp_member *m;
	int r = 0;

	mutex_lock(&t->pool->lock);
	list_for_each_entry(m, &t->pool->members, list) {
		if (!m->enabled)
			continue;
		r = fn(ti, &m->ddev, m->data_offset,
		       m->nr_slices * t->slice_sectors, data);
		if (r)
			break;
	}
	mutex_unlock(&t->pool->lock);
	return r;
}

static void sp_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct sp_target *t = ti->private;

	/* Stacked from the members: see sp_target_lbs(). */
	WRITE_ONCE(t->lbs, limits->logical_block_size);
	/*
	 * Let the block layer cut discards and write-zeroes per slice; a
	 * limit of 0 (the members do not support it) stays 0.
	 */
	if (limits->max_discard_sectors)
		limits->max_discard_sectors =
			min(limits->max_discard_sectors, t->slice_sectors);
	if (limits->max_hw_discard_sectors)
		limits->max_hw_discard_sectors =
			min(limits->max_hw_discard_sectors, t->slice_sectors);
	if (limits->max_write_zeroes_sectors)
		limits->max_write_zeroes_sectors =
			min(limits->max_write_zeroes_sectors, t->slice_sectors);
}

static struct target_type sp_target = {
	.name = "slicepool",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = sp_ctr,
	.dtr = sp_dtr,
	.map = sp_map_bio,
	.end_io = sp_end_io,
	.postsuspend = sp_postsuspend,
	.status = sp_target_status,
	.message = sp_target_message,
	.iterate_devices = sp_iterate_devices,
	.io_hints = sp_io_hints,
};

int sp_target_init(void)
{
	int r;

	/* Every bio carries it: see "I/O path" in dm-slicepool.rst. */
	BUILD_BUG_ON(BITS_PER_LONG == 64 && sizeof(struct sp_pbd) > 48);
	r = sp_flush_init();
	if (r)
		return r;
	r = dm_register_target(&sp_target);
	if (r)
		sp_flush_exit();
	return r;
}

void sp_target_exit(void)
{
	dm_unregister_target(&sp_target);
	sp_flush_exit();
}
