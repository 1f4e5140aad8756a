// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool live migration: its hooks in the I/O path (struct
 * sp_io_hooks, sp-io.h).  A write to a migrating slice is tracked (its
 * chunks reported to the copy index when it completes), held (while the
 * switch holds writes) or mirrored (written to both sides).
 *
 * What the I/O path costs: nothing but a NULL test of v->mig while no
 * job runs; while one does, the target's 48-byte per-bio data carries the
 * tracking state, and a mirrored write's destination leg is a bio
 * allocated from the job's bio_set (sp_mig_mirror_leg()).
 *
 * Never blocking in map(): the leg is allocated with GFP_NOWAIT, which
 * takes a bio from the slab or from the bio_set's reserve
 * (SP_MIG_MIRROR_POOL) and never sleeps.  If both are exhausted the write
 * is already started (linked on mig->mirroring) and map() hands it to the
 * mirror worker on sp_mig_io_wq (DM_MAPIO_SUBMITTED), which allocates
 * with GFP_NOIO: from a mempool-backed bio_set that waits for a reserved
 * bio to come back and cannot fail.  It cannot deadlock: a reserved bio
 * is held only by a leg that has been submitted to a member (both the
 * map() path and the worker submit a leg as soon as it is allocated, and
 * a deferred write holds none), so it comes back when that leg completes,
 * which waits for nothing of the job; and nothing else runs on
 * sp_mig_io_wq, so its rescuer is never behind a long item such as the
 * switch.  (The clone may also allocate an integrity payload; if that
 * fails even in the worker, the write goes to the source alone and its
 * chunks are dirty.)  The job counts the writes that fell back to the
 * worker (mig->nowait_fallbacks, in the log line of a finished move).
 * That path needs memory pressure to run; the test hook
 * mig_nowait_fail_every runs it on demand (below).
 *
 * Lifetime: the job is reached from map() under rcu_read_lock() (v->mig);
 * a tracked write is counted in mig->inflight_writes before
 * rcu_read_unlock(), and the job waits for that count to reach zero after
 * it is unpublished and before it frees anything (its bitmaps, its
 * bio_set), so the job outlives every write that points to it (pbd->mig),
 * every mirror leg (put before its write completes), and every item of
 * the mirror worker (flushed before the job is freed).
 *
 * Locking: mig->lock (spinlock, irq-safe: end_io may run in interrupt
 * context) protects the copy index, the held, deferred and queued lists,
 * the list of mirrored writes in flight and the migration's fields of
 * their per-bio data, and the counters (see struct sp_mig).
 */
#include <linux/atomic.h>
#include <linux/blkdev.h>
#include <linux/moduleparam.h>

#include "sp-core.h"
#include "sp-mig.h"

/*
 * Test hook: treat every Nth GFP_NOWAIT allocation of a mirror leg as
 * failed, so that the fallback to the mirror worker runs without memory
 * pressure ("Test hooks" in Documentation/dm-slicepool.rst).  The
 * kernel's fault injection framework (CONFIG_FAULT_INJECTION) is off in
 * the kernels the bench runs, so this is a parameter.  0 (the default):
 * off, and map() pays one read of it.
 */
static unsigned int sp_mig_nowait_fail_every;
module_param_named(mig_nowait_fail_every, sp_mig_nowait_fail_every, uint,
		   0644);
MODULE_PARM_DESC(mig_nowait_fail_every,
		 "Test hook: every Nth GFP_NOWAIT mirror leg allocation of a migration fails (0: never)");

static atomic_t sp_mig_nowait_tries = ATOMIC_INIT(0);

/* The hook: should this GFP_NOWAIT allocation be taken as failed? */
static bool sp_mig_nowait_fail(void)
{
	unsigned int every = READ_ONCE(sp_mig_nowait_fail_every);

	if (likely(!every))
		return false;
	return !((unsigned int)atomic_inc_return(&sp_mig_nowait_tries) %
		 every);
}

/* Does [@first, @first + @n) meet a copy in flight?  (lock held) */
static bool sp_mig_copy_overlaps(struct sp_mig *mig, unsigned long first,
				 unsigned long n)
{
	unsigned long busy = mig->slot_busy;
	unsigned int i;

	for_each_set_bit(i, &busy, SP_MIG_SLOTS)
		if (mig->slots[i].chunk - first < n)
			return true;
	return false;
}

/*
 * A copy of @chunk is issued (lock held): every mirrored write in flight
 * that covers it may have its new data overwritten on the destination by
 * the old data the copy reads.
 */
void sp_mig_mark_overlaps(struct sp_mig *mig, unsigned long chunk)
{
	struct sp_pbd *p;

	list_for_each_entry(p, &mig->mirroring, mlist)
		if (chunk - p->chunk < sp_pbd_nr_chunks(mig, p))
			p->overlap = true;
}

/* A tracked write's first sector, counted from the job's first slice. */
static u64 sp_pbd_pos(const struct sp_mig *mig, const struct sp_pbd *pbd)
{
	return (u64)pbd->chunk * mig->chunk_sectors + pbd->coff;
}

/*
 * A mirrored write starts (lock held; no copy of its chunks is in flight:
 * it was deferred until then).  It overlaps if another mirrored write to
 * one of its sectors is in flight (the two sides may see the two writes
 * in different orders: the chunk is copied again), or later if a copy of
 * one of its chunks is issued before it completes (sp_mig_mark_overlaps()).
 * The caller issues its legs after this.
 */
static void sp_mig_mirror_start(struct sp_mig *mig, struct sp_pbd *pbd)
{
	u64 pos = sp_pbd_pos(mig, pbd), p_pos;
	struct sp_pbd *p;

	pbd->overlap = false;
	list_for_each_entry(p, &mig->mirroring, mlist) {
		/*
		 * The same sectors?  Job positions map one to one onto the
		 * sources' sectors.
		 */
		p_pos = sp_pbd_pos(mig, p);
		if (p_pos < pos + pbd->len && pos < p_pos + p->len) {
			p->overlap = true;
			pbd->overlap = true;
		}
	}
	list_add_tail(&pbd->mlist, &mig->mirroring);
}

/*
 * A copy has completed (lock held): start the deferred mirrored writes
 * that no copy in flight covers any more, and queue them for the mirror
 * worker (a copy completion may run in interrupt context, where bios are
 * not submitted).  Returns true if it queued one.
 */
bool sp_mig_undefer(struct sp_mig *mig)
{
	struct bio_list still;
	struct bio *bio;
	bool started = false;

	bio_list_init(&still);
	while ((bio = bio_list_pop(&mig->deferred))) {
		struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));

		if (sp_mig_copy_overlaps(mig, pbd->chunk,
					 sp_pbd_nr_chunks(mig, pbd))) {
			bio_list_add(&still, bio);
		} else {
			sp_mig_mirror_start(mig, pbd);
			bio_list_add(&mig->mirror_queue, bio);
			started = true;
		}
	}
	mig->deferred = still;
	return started;
}

/*
 * A write to slot @slot of @mig (offset @in within the slice).  Holds
 * the bio while the switch is on (SP_IO_HELD).  Otherwise records in
 * @pbd the chunks to report at completion; a plain write to a chunk the
 * copy has claimed already is written to both sides (SP_IO_MIRROR: the
 * caller remaps it to the source, then calls sp_mig_mirror()).
 */
static enum sp_io_act sp_mig_map_write(struct sp_mig *mig,
				       struct dm_target *ti, struct bio *bio,
				       u64 slot, u32 in, struct sp_pbd *pbd)
{
	enum sp_io_act act = SP_IO_PASS;
	unsigned long flags;

	/* u32: chunks below SP_CPX_MAX_CHUNKS, sectors within a slice. */
	pbd->chunk = slot * mig->chunks_per_slice + in / mig->chunk_sectors;
	pbd->coff = in % mig->chunk_sectors;
	pbd->len = max(bio_sectors(bio), 1U);
	pbd->mirror = false;
	spin_lock_irqsave(&mig->lock, flags);
	if (mig->holding) {
		pbd->ti = ti;
		bio_list_add(&mig->held, bio);
		mig->held_count++;
		spin_unlock_irqrestore(&mig->lock, flags);
		return SP_IO_HELD;
	}
	if (mig->mirror && bio_op(bio) == REQ_OP_WRITE &&
	    !sp_cpx_ahead(&mig->cpx, pbd->chunk, sp_pbd_nr_chunks(mig, pbd))) {
		pbd->mirror = true;
		act = SP_IO_MIRROR;
	}
	mig->inflight_writes++;
	spin_unlock_irqrestore(&mig->lock, flags);
	pbd->mig = mig;
	return act;
}

/* The map hook (RCU read lock held: @mig is valid). */
enum sp_io_act sp_mig_map(struct sp_mig *mig, struct dm_target *ti,
			  struct bio *bio, u64 idx, u32 in, struct sp_pbd *pbd)
{
	sp_mig_note_io(mig);
	if (!op_is_write(bio_op(bio)) || idx - mig->first >= mig->count)
		return SP_IO_PASS;
	return sp_mig_map_write(mig, ti, bio, idx - mig->first, in, pbd);
}

/*
 * end_io() of a tracked write: report it (ordering rule 2).  @status is
 * the source's (a mirrored write's destination leg never sets it): if the
 * source failed, the two sides may differ, and a mirrored write's chunks
 * are copied again.
 */
void sp_mig_write_done(struct sp_pbd *pbd, blk_status_t status)
{
	struct sp_mig *mig = pbd->mig;
	unsigned long flags;
	u32 n = sp_pbd_nr_chunks(mig, pbd);
	bool wake;

	spin_lock_irqsave(&mig->lock, flags);
	if (pbd->mirror) {
		if (unlikely(status)) {
			pbd->overlap = true;
			mig->mirror_errors++;
		}
		list_del(&pbd->mlist);
		sp_cpx_mirror_done(&mig->cpx, pbd->chunk, n, pbd->overlap);
	} else {
		sp_cpx_write_done(&mig->cpx, pbd->chunk, n);
	}
	mig->inflight_writes--;
	wake = !mig->inflight_writes;
	spin_unlock_irqrestore(&mig->lock, flags);
	if (wake)
		wake_up_all(&mig->wait);
}

/*
 * The destination leg of a mirrored write has completed.  An error there
 * does not fail the write (the source is the truth until the switch) but
 * the two sides may differ: its chunks are copied again.  The leg is put
 * before the write can complete, so the job's bio_set outlives it.
 */
static void sp_mig_mirror_endio(struct bio *c)
{
	struct bio *bio = c->bi_private;
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	struct sp_mig *mig = pbd->mig;
	blk_status_t status = c->bi_status;
	unsigned long flags;

	bio_put(c);
	if (unlikely(status)) {
		spin_lock_irqsave(&mig->lock, flags);
		pbd->overlap = true;
		mig->mirror_errors++;
		spin_unlock_irqrestore(&mig->lock, flags);
	}
	/* @bio completes once both legs have. */
	bio_endio(bio);
}

/*
 * Issue the destination leg of mirrored write @bio (started, remapped to
 * the source): a clone of @bio from the job's bio_set that shares its
 * pages and holds it open (bio_inc_remaining()), so @bio's own
 * completion, on the source, ends it only when both legs have.  FUA and
 * the other flags are kept.  False if the clone could not be allocated
 * with @gfp.
 */
static bool sp_mig_mirror_leg(struct sp_mig *mig, struct bio *bio, gfp_t gfp)
{
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	u64 slot = pbd->chunk / mig->chunks_per_slice;
	struct bio *c;

	c = bio_alloc_clone(mig->dst[slot].m->bdev.bdev, bio, gfp, &mig->bs);
	if (unlikely(!c))
		return false;
	c->bi_iter.bi_sector = mig->dst[slot].start +
		(bio->bi_iter.bi_sector - mig->src[slot].start);
	c->bi_end_io = sp_mig_mirror_endio;
	c->bi_private = bio;
	bio_inc_remaining(bio);
	submit_bio_noacct(c);
	return true;
}

/*
 * map() has remapped a mirrored write to the source.  Usually it starts
 * at once: its destination leg is issued here and true is returned (map()
 * returns DM_MAPIO_REMAPPED, and dm core issues the source leg).  While a
 * copy of one of its chunks is in flight, it is deferred until that copy
 * has completed (as dm-raid1 delays writes to a region it is recovering);
 * a leg that cannot be allocated without waiting is left to the worker
 * (see the top of the file); false then, and map() returns
 * DM_MAPIO_SUBMITTED.  @mig stays allocated: the write is counted in
 * flight.
 */
bool sp_mig_mirror(struct sp_mig *mig, struct bio *bio)
{
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	unsigned long flags;
	bool deferred;

	spin_lock_irqsave(&mig->lock, flags);
	deferred = sp_mig_copy_overlaps(mig, pbd->chunk,
					sp_pbd_nr_chunks(mig, pbd));
	if (deferred) {
		bio_list_add(&mig->deferred, bio);
		mig->deferred_count++;
	} else {
		sp_mig_mirror_start(mig, pbd);
	}
	spin_unlock_irqrestore(&mig->lock, flags);
	if (deferred)
		return false;
	if (likely(!sp_mig_nowait_fail() &&
		   sp_mig_mirror_leg(mig, bio, GFP_NOWAIT)))
		return true;
	spin_lock_irqsave(&mig->lock, flags);
	bio_list_add(&mig->mirror_queue, bio);
	mig->nowait_fallbacks++;
	spin_unlock_irqrestore(&mig->lock, flags);
	queue_work(sp_mig_io_wq, &mig->mirror_work);
	return false;
}

/*
 * Issue the started mirrored writes left to the worker: both legs, each
 * leg as soon as it is allocated.  If even a blocking clone fails, the
 * write goes to the source alone and its chunks are copied again.
 */
void sp_mig_mirror_work(struct work_struct *w)
{
	struct sp_mig *mig = container_of(w, struct sp_mig, mirror_work);
	struct bio_list q;
	struct bio *bio;

	spin_lock_irq(&mig->lock);
	q = mig->mirror_queue;
	bio_list_init(&mig->mirror_queue);
	spin_unlock_irq(&mig->lock);

	while ((bio = bio_list_pop(&q))) {
		if (!sp_mig_mirror_leg(mig, bio, GFP_NOIO)) {
			struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));

			spin_lock_irq(&mig->lock);
			pbd->overlap = true;
			mig->mirror_errors++;
			spin_unlock_irq(&mig->lock);
		}
		dm_submit_bio_remap(bio, NULL);
	}
}

/*
 * The postsuspend hook: every bio of the suspended table has completed
 * (dm core waited for them, held and queued mirrored writes included).
 * Wait for the mirror worker, which may still be returning from the
 * last of them; it is short (it waits only for a reserved bio), so this
 * waits for every job at once rather than look one up.  The copy worker
 * and the switch go on: they copy between the members, not through the
 * device, and a held write, the only bio they touch, is in flight for dm
 * core until they have released it.
 */
void sp_mig_postsuspend(struct sp_volume *v)
{
	flush_workqueue(sp_mig_io_wq);
}
