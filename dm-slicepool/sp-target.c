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
 * Flushes.  dm core sends one empty REQ_PREFLUSH bio per flush
 * (num_flush_bios = 1); it must reach every member that holds a slice of
 * the volume when it is mapped: the holders of the volume's current map,
 * any number up to SP_MAX_MEMBERS, members enabled after the table was
 * loaded included.  With no holder map() completes it; with one it remaps
 * it there, like data; with more it queues it to the table's flush work
 * on sp_flush_wq (WQ_MEM_RECLAIM), which fans it out: one child flush per
 * holder from sp_flush_bs, each allocated (GFP_NOIO) only after the one
 * before was submitted, so that the bio_set's reserve always suffices,
 * and the flush completes when every child has, with the first error.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/log2.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "sp-core.h"
#include "sp-io.h"

DEFINE_MUTEX(sp_pools_lock);	/* protects sp_pools */
LIST_HEAD(sp_pools);

/*
 * Serialises I/O epoch flips (v->io_epoch), of one volume or of every
 * volume of a pool at once.  Order: pool->lock before it.
 */
static DEFINE_MUTEX(sp_drain_lock);

/* The flush fan-out (see the top of this file). */
static struct workqueue_struct *sp_flush_wq;
static struct bio_set sp_flush_bs;

/* A child flush: the bio is last, sp_flush_bs's front_pad before it. */
struct sp_flush_child {
	struct sp_volume *v;
	struct sp_member *m;		/* open while the parent is counted */
	struct bio bio;
};

static void sp_flush_work(struct work_struct *work);

/*
 * The migration's hooks.  Set before the target is registered and
 * cleared after it is unregistered (module init and exit), so no table
 * exists while it changes: read without a lock.
 */
static const struct sp_io_hooks *sp_hooks;

void sp_io_set_hooks(const struct sp_io_hooks *hooks)
{
	sp_hooks = hooks;
}

struct sp_target {
	struct list_head list;		/* in vol->targets, pool->lock */
	struct sp_pool *pool;
	struct sp_volume *vol;
	struct sp_vol_item *vi;		/* pinned with configfs_depend_item */
	sector_t len;			/* ti->len */
	u32 slice_sectors;
	int slice_shift;		/* log2(slice_sectors), or -1 */
	u64 nr_slices;			/* logical slices the table covers */
	unsigned int nr_features;	/* as given, for the table line */
	bool features_given;
	bool ignore_discard;
	bool rw;			/* the table is read-write (FMODE_WRITE) */
	/*
	 * The logical block size the table's queue limits were stacked with
	 * (io_hints, WRITE_ONCE()), 0 before; read under pool->lock by
	 * sp_target_lbs().  The table holds no member pointer: it reaches
	 * members only through the volume's map (see "Member lifetime" in
	 * sp-core.h).
	 */
	unsigned int lbs;
	/* Flushes to more than one member, for flush_work (sp_flush_wq). */
	spinlock_t flush_lock;		/* protects flush_bios */
	struct bio_list flush_bios;
	struct work_struct flush_work;	/* sp_flush_work() */
};

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
	 * is mapped (see the top of this file).  flush_supported: the device
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

/*
 * The I/O epoch of a bio about to be counted, read before the map (under
 * rcu_read_lock()): if it is the epoch a drain flipped to, the acquire
 * pairs with the drain's release, and the map read after it is the one
 * published before the flip or a newer one; if it is the old epoch, the
 * drain waits for the count.  Either way no bio goes to a member after
 * the drain that followed its removal from the maps.
 */
static u8 sp_io_epoch(struct sp_volume *v)
{
	/* Pairs with the drains' smp_store_release(). */
	return smp_load_acquire(&v->io_epoch);
}

/* I/O error @err on member @m (a data bio or a child flush). */
static void sp_member_io_error(struct sp_volume *v, struct sp_member *m,
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

static void sp_flush_child_end(struct bio *c)
{
	struct sp_flush_child *fc = container_of(c, struct sp_flush_child,
						 bio);
	struct bio *parent = c->bi_private;
	blk_status_t err = c->bi_status;

	sp_member_io_error(fc->v, fc->m, err);
	/* As bio_chain_endio(): some child's error is the parent's. */
	if (err && !READ_ONCE(parent->bi_status))
		WRITE_ONCE(parent->bi_status, err);
	bio_put(c);
	bio_endio(parent);
}

/*
 * Send the flush @bio on to every holder of @t's volume's map, and
 * complete it when they all have.  Counted in the I/O epoch (the holders
 * stay open until it completes), with a reference on the map (its
 * holders[] stays while the children are allocated, which may sleep).
 */
static void sp_flush_fan_out(struct sp_target *t, struct bio *bio)
{
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	struct sp_volume *v = t->vol;
	struct sp_vmap *map;
	struct blk_plug plug;
	unsigned int k;

	rcu_read_lock();
	pbd->epoch = sp_io_epoch(v);
	this_cpu_inc(v->inflight->n[pbd->epoch]);
	/* A map whose last reference went is replaced already: read again. */
	do {
		map = rcu_dereference(v->map);
	} while (map && !sp_vmap_get(map));
	rcu_read_unlock();
	if (!map) {
		bio_endio(bio);
		return;
	}
	blk_start_plug(&plug);
	for (k = 0; k < map->nr_holders; k++) {
		struct sp_member *m = map->holders[k];
		struct sp_flush_child *fc;
		struct bio *c;

		c = bio_alloc_bioset(m->bdev.bdev, 0, bio->bi_opf, GFP_NOIO,
				     &sp_flush_bs);
		fc = container_of(c, struct sp_flush_child, bio);
		fc->v = v;
		fc->m = m;
		bio_clone_blkg_association(c, bio);
		c->bi_end_io = sp_flush_child_end;
		c->bi_private = bio;
		bio_inc_remaining(bio);
		submit_bio_noacct(c);
	}
	blk_finish_plug(&plug);
	sp_vmap_put(map);
	bio_endio(bio);
}

static void sp_flush_work(struct work_struct *work)
{
	struct sp_target *t = container_of(work, struct sp_target,
					   flush_work);
	struct bio_list bios;
	struct bio *bio;

	spin_lock_irq(&t->flush_lock);
	bios = t->flush_bios;
	bio_list_init(&t->flush_bios);
	spin_unlock_irq(&t->flush_lock);
	while ((bio = bio_list_pop(&bios)))
		sp_flush_fan_out(t, bio);
}

/*
 * map() of an empty flush: completed (no holder), remapped to the one
 * holder, or queued for sp_flush_work() (more than one).
 */
static int sp_map_flush(struct sp_target *t, struct bio *bio,
			struct sp_pbd *pbd)
{
	struct sp_volume *v = t->vol;
	struct sp_member *m = NULL;
	struct sp_vmap *map;
	unsigned long flags;
	unsigned int nh;
	u8 epoch;

	rcu_read_lock();
	epoch = sp_io_epoch(v);
	map = rcu_dereference(v->map);
	nh = map ? map->nr_holders : 0;
	if (nh == 1) {
		/* Counted: @m stays open until it completes (drain). */
		m = map->holders[0];
		pbd->epoch = epoch;
		this_cpu_inc(v->inflight->n[epoch]);
	}
	rcu_read_unlock();
	if (m) {
		pbd->m = m;
		bio_set_dev(bio, m->bdev.bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (!nh) {
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	spin_lock_irqsave(&t->flush_lock, flags);
	bio_list_add(&t->flush_bios, bio);
	spin_unlock_irqrestore(&t->flush_lock, flags);
	queue_work(sp_flush_wq, &t->flush_work);
	return DM_MAPIO_SUBMITTED;
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

static void sp_sum_stats(struct sp_volume *v, struct sp_stats *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct sp_stats *s = per_cpu_ptr(v->stats, cpu);

		sum->reads += READ_ONCE(s->reads);
		sum->writes += READ_ONCE(s->writes);
		sum->read_sectors += READ_ONCE(s->read_sectors);
		sum->write_sectors += READ_ONCE(s->write_sectors);
	}
}

/* The position of @m in @map's holders (sorted by index), or nr_holders. */
static unsigned int sp_holder_pos(const struct sp_vmap *map,
				  const struct sp_member *m)
{
	unsigned int lo = 0, hi = map->nr_holders, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (map->holders[mid]->index < m->index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < map->nr_holders && map->holders[lo] == m ?
		lo : map->nr_holders;
}

/*
 * INFO: <reads> <writes> <read_sectors> <write_sectors> <io_errors>
 *       <missing_slices> <#members> {<member>:<slices>:<online|failed>}...
 *       migration <none | job fields (the migration's status hook)>
 * The members listed are those holding slices within the table, by
 * index.  Their counts are in an array of one u32 per holder, allocated
 * here (not in I/O; GFP_NOIO, as the table may be suspended): if it
 * cannot be, none is listed.
 */
static void sp_status(struct dm_target *ti, status_type_t type,
		      unsigned int status_flags, char *result,
		      unsigned int maxlen)
{
	struct sp_target *t = ti->private;
	unsigned int sz = 0, k, listed = 0, nh, cap = 0, noio;
	u32 *n = NULL;
	u64 i, missing = 0;
	struct sp_stats s;
	struct sp_vmap *map;

	switch (type) {
	case STATUSTYPE_INFO:
		sp_sum_stats(t->vol, &s);
		/* The members from one map (valid under RCU). */
		rcu_read_lock();
		map = rcu_dereference(t->vol->map);
		nh = map ? map->nr_holders : 0;
		/* Room for the counts of the map read last (a retry is rare). */
		while (nh > cap) {
			rcu_read_unlock();
			kvfree(n);
			noio = memalloc_noio_save();
			n = kvcalloc(nh, sizeof(*n), GFP_KERNEL);
			memalloc_noio_restore(noio);
			cap = n ? nh : 0;
			rcu_read_lock();
			map = rcu_dereference(t->vol->map);
			nh = map ? map->nr_holders : 0;
			if (!n)
				break;
		}
		/* Here n, if set, has room for nh counts. */
		for (i = 0; i < t->nr_slices; i++) {
			if (!map || i >= map->nr || !map->e[i].m) {
				missing++;
				continue;
			}
			k = n ? sp_holder_pos(map, map->e[i].m) : nh;
			if (k < nh)
				n[k]++;
		}
		for (k = 0; n && k < nh; k++)
			if (n[k])
				listed++;
		DMEMIT("%llu %llu %llu %llu %lld %llu %u", s.reads, s.writes,
		       s.read_sectors, s.write_sectors,
		       (long long)atomic64_read(&t->vol->io_errors), missing,
		       listed);
		for (k = 0; n && k < nh; k++) {
			struct sp_member *m = map->holders[k];

			if (!n[k])
				continue;
			DMEMIT(" %s:%u:%s", config_item_name(&m->item), n[k],
			       READ_ONCE(m->failed) ? "failed" : "online");
		}
		rcu_read_unlock();
		kvfree(n);
		/* An image (read-only tables only): clones, hot detection */
		if (!t->rw && READ_ONCE(t->vol->image)) {
			DMEMIT(" image %llu", READ_ONCE(t->vol->clones));
			sp_hot_status(t->vol, result, maxlen, &sz);
		}
		if (sp_hooks)
			sp_hooks->status(t->vol, result, maxlen, &sz);
		else
			DMEMIT(" migration none");
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", t->pool->name, t->vol->name);
		if (t->features_given) {
			DMEMIT(" %u", t->nr_features);
			if (t->ignore_discard)
				DMEMIT(" ignore_discard");
		}
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",pool_name=%s,volume_name=%s,ignore_discard=%c;",
		       t->pool->name, t->vol->name,
		       t->ignore_discard ? 'y' : 'n');
		break;
	}
}

static int sp_message(struct dm_target *ti, unsigned int argc, char **argv,
		      char *result, unsigned int maxlen)
{
	struct sp_target *t = ti->private;
	int cpu;

	if (argc >= 1 && !strcasecmp(argv[0], "migrate") && sp_hooks)
		return sp_hooks->message(t->vol, argc - 1, argv + 1, result,
					 maxlen);
	if (argc == 1 && !strcasecmp(argv[0], "stats_reset")) {
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr(t->vol->stats, cpu), 0,
			       sizeof(struct sp_stats));
		atomic64_set(&t->vol->io_errors, 0);
		return 0;
	}
	if (argc >= 1 && !strcasecmp(argv[0], "stats_reset"))
		sp_err("message stats_reset takes no arguments, got %u",
		       argc - 1);
	else
		sp_err("unknown message '%s'", argc ? argv[0] : "");
	return -EINVAL;
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
	.status = sp_status,
	.message = sp_message,
	.iterate_devices = sp_iterate_devices,
	.io_hints = sp_io_hints,
};

int sp_target_init(void)
{
	int r;

	/* Every bio carries it: see "I/O path" in dm-slicepool.rst. */
	BUILD_BUG_ON(BITS_PER_LONG == 64 && sizeof(struct sp_pbd) > 48);
	sp_flush_wq = alloc_workqueue("slicepool_flush", WQ_MEM_RECLAIM, 0);
	if (!sp_flush_wq)
		return -ENOMEM;
	r = bioset_init(&sp_flush_bs, BIO_POOL_SIZE,
			offsetof(struct sp_flush_child, bio), 0);
	if (r)
		goto wq;
	r = dm_register_target(&sp_target);
	if (r)
		goto bs;
	return 0;
bs:
	bioset_exit(&sp_flush_bs);
wq:
	destroy_workqueue(sp_flush_wq);
	return r;
}

void sp_target_exit(void)
{
	dm_unregister_target(&sp_target);
	bioset_exit(&sp_flush_bs);
	destroy_workqueue(sp_flush_wq);
}
