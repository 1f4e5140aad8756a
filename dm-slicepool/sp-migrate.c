// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: live migration of a run of logical slices of a volume to
 * other members while I/O continues.
 *
 * A job copies the slices chunk by chunk with dm-kcopyd, in passes driven
 * by the copy index (copyidx.c: the plan, the cursor, the ping-pong dirty
 * bitmaps and the copy-index filter).  User writes keep going to the
 * source; each write to a migrating slice is reported to the copy index
 * when it completes (end_io).  When a pass leaves few dirty chunks, or
 * after the last allowed pass, the job switches: it holds new writes to
 * the migrating slices only, waits for the ones in flight, copies what is
 * left, flushes the destinations, commits the move (sp_move_commit()),
 * publishes the new map, releases the held writes (they now go to the
 * destination), waits until no I/O reaches the sources and frees them
 * (sp_move_release()).  "Live migration" in Documentation/dm-slicepool.rst
 * describes the messages, the status fields and the ordering rule.
 *
 * Ordering rule (why no write is lost; the proof is at the top of
 * copyidx.c): the copy claims a chunk before it reads it (the kcopyd read
 * is issued after sp_cpx_claim_next() returned the chunk); a write is
 * reported when it completes; both happen under mig->lock.  Writes mapped
 * before the job was published are waited for (sp_volume_drain_io())
 * before the first claim.
 *
 * Locking:
 *  - v->mig_lock (mutex) serialises job control: start, step, switch
 *    request, abort, and the replacement of v->mig_last (read under RCU
 *    by status; an ended job is freed with kfree_rcu()).
 *  - mig->lock (spinlock, irq-safe: end_io may run in interrupt context)
 *    protects the copy index, the held bio list, the in-flight write and
 *    copy counts, the step budget, the throttle and pacing state, the job
 *    state and its counters.  mig->fg_stamp is a lockless hint.
 *  - v->mig is published with rcu_assign_pointer() and read in map()
 *    under rcu_read_lock(); a job stays allocated (as v->mig_last) after
 *    it is unpublished, and its tracked writes are waited for before its
 *    bitmaps are freed.
 *  - sp_drain_lock (mutex) serialises I/O epoch flips.
 */
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "sp-core.h"
#include "sp-migrate.h"

#define SP_MIG_DEPTH		2	/* default copies in flight (bench) */
#define SP_MIG_CHUNK_KB		512	/* default chunk size */
#define SP_MIG_THRESHOLD	8	/* default: switch below this many */
#define SP_MIG_MAX_PASSES	5
#define SP_MIG_BUSY_SHARE	50	/* default pacing, percent */

static struct workqueue_struct *sp_mig_wq;
static DEFINE_MUTEX(sp_drain_lock);	/* serialises epoch flips */

static const char * const sp_mig_state_names[] = {
	[SP_MIG_COPYING] = "copying",
	[SP_MIG_SWITCHING] = "switching",
	[SP_MIG_DONE] = "done",
	[SP_MIG_ABORTED] = "aborted",
	[SP_MIG_FAILED] = "failed",
};

static const char * const sp_mig_mode_names[] = {
	[SP_CPX_FILTER] = "filter",
	[SP_CPX_CLEAR] = "clear",
	[SP_CPX_NONE] = "none",
};

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
	WRITE_ONCE(v->io_epoch, !old);
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
	list_for_each_entry(v, &pool->volumes, list)
		WRITE_ONCE(v->io_epoch, !READ_ONCE(v->io_epoch));
	synchronize_rcu();
	list_for_each_entry(v, &pool->volumes, list)
		while (sp_inflight_sum(v, !READ_ONCE(v->io_epoch)) > 0)
			usleep_range(500, 1000);
	mutex_unlock(&sp_drain_lock);
}

/* ---- I/O path ------------------------------------------------------------ */

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
static void sp_mig_mark_overlaps(struct sp_mig *mig, unsigned long chunk)
{
	struct sp_pbd *p;

	list_for_each_entry(p, &mig->mirroring, mlist)
		if (chunk - p->chunk < p->nr_chunks)
			p->overlap = true;
}

/*
 * A mirrored write starts (lock held; no copy of its chunks is in flight:
 * it was deferred until then).  It overlaps if another mirrored write to
 * one of its sectors is in flight (the two sides may see the two writes
 * in different orders: the chunk is copied again), or later if a copy of one
 * of its chunks is issued before it completes (sp_mig_mark_overlaps()).
 * The caller issues its legs after this.
 */
static void sp_mig_mirror_start(struct sp_mig *mig, struct bio *bio)
{
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	struct sp_pbd *p;

	pbd->overlap = false;
	pbd->msector = bio->bi_iter.bi_sector;
	pbd->mlen = bio_sectors(bio);
	list_for_each_entry(p, &mig->mirroring, mlist) {
		/* Same chunks, same source member: same sectors? */
		if (p->chunk < pbd->chunk + pbd->nr_chunks &&
		    pbd->chunk < p->chunk + p->nr_chunks &&
		    p->msector < pbd->msector + pbd->mlen &&
		    pbd->msector < p->msector + p->mlen) {
			p->overlap = true;
			pbd->overlap = true;
		}
	}
	list_add_tail(&pbd->mlist, &mig->mirroring);
}

/*
 * A copy has completed (lock held): start the deferred mirrored writes
 * that no copy in flight covers any more.  Returns true if it started one.
 */
static bool sp_mig_undefer(struct sp_mig *mig)
{
	struct bio_list still;
	struct bio *bio;
	bool started = false;

	bio_list_init(&still);
	while ((bio = bio_list_pop(&mig->deferred))) {
		struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));

		if (sp_mig_copy_overlaps(mig, pbd->chunk, pbd->nr_chunks)) {
			bio_list_add(&still, bio);
		} else {
			sp_mig_mirror_start(mig, bio);
			bio_list_add(&mig->mirror_queue, bio);
			started = true;
		}
	}
	mig->deferred = still;
	return started;
}

/*
 * map(): a write to slot @slot of @mig (offset @in within the slice).
 * Holds the bio while the switch is on (SP_MIG_HELD).  Otherwise records
 * in @pbd the chunks to report at completion; a plain write to a chunk
 * the copy has claimed already is written to both sides (SP_MIG_MIRROR:
 * the caller remaps it to the source, then calls sp_mig_mirror()).
 */
enum sp_mig_map sp_mig_map_write(struct sp_mig *mig, struct dm_target *ti,
				 struct bio *bio, u64 slot, u32 in,
				 struct sp_pbd *pbd)
{
	enum sp_mig_map act = SP_MIG_PASS;
	unsigned long flags;
	sector_t end = in + max(bio_sectors(bio), 1U);

	pbd->chunk = slot * mig->chunks_per_slice + in / mig->chunk_sectors;
	pbd->nr_chunks = (end - 1) / mig->chunk_sectors -
		in / mig->chunk_sectors + 1;
	pbd->mirror = false;
	spin_lock_irqsave(&mig->lock, flags);
	if (mig->holding) {
		pbd->ti = ti;
		bio_list_add(&mig->held, bio);
		mig->held_count++;
		spin_unlock_irqrestore(&mig->lock, flags);
		return SP_MIG_HELD;
	}
	if (mig->mirror && bio_op(bio) == REQ_OP_WRITE &&
	    !sp_cpx_ahead(&mig->cpx, pbd->chunk, pbd->nr_chunks)) {
		pbd->mirror = true;
		act = SP_MIG_MIRROR;
	}
	mig->inflight_writes++;
	spin_unlock_irqrestore(&mig->lock, flags);
	pbd->mig = mig;
	return act;
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
	bool wake;

	spin_lock_irqsave(&mig->lock, flags);
	if (pbd->mirror) {
		if (unlikely(status)) {
			pbd->overlap = true;
			mig->mirror_errors++;
		}
		list_del(&pbd->mlist);
		sp_cpx_mirror_done(&mig->cpx, pbd->chunk, pbd->nr_chunks,
				   pbd->overlap);
	} else {
		sp_cpx_write_done(&mig->cpx, pbd->chunk, pbd->nr_chunks);
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
 * the two sides may differ: its chunks are copied again.
 */
static void sp_mig_mirror_endio(struct bio *c)
{
	struct sp_pbd *pbd = container_of(c, struct sp_pbd, mclone);
	struct bio *bio = dm_bio_from_per_bio_data(pbd, sizeof(*pbd));
	struct sp_mig *mig = pbd->mig;
	unsigned long flags;

	if (unlikely(c->bi_status)) {
		spin_lock_irqsave(&mig->lock, flags);
		pbd->overlap = true;
		mig->mirror_errors++;
		spin_unlock_irqrestore(&mig->lock, flags);
	}
	/* bio_endio() has released @c; @bio completes once both legs have. */
	bio_endio(bio);
}

/*
 * Issue the destination leg of mirrored write @bio (started, remapped to
 * the source) from its per-bio data: a clone of @bio that shares its pages
 * and holds it open (bio_inc_remaining()), so @bio's own completion, on
 * the source, ends it only when both legs have.  FUA and the other flags
 * are kept.  @gfp matters only for inline encryption or integrity data,
 * the one case in which the clone allocates; false if that failed.
 */
static bool sp_mig_mirror_leg(struct sp_mig *mig, struct bio *bio, gfp_t gfp)
{
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	u64 slot = pbd->chunk / mig->chunks_per_slice;
	struct bio *c = &pbd->mclone;

	if (bio_init_clone(mig->dst[slot].m->bdev.bdev, c, bio, gfp))
		return false;
	c->bi_iter.bi_sector = mig->dst[slot].start +
		(bio->bi_iter.bi_sector - mig->src[slot].start);
	c->bi_end_io = sp_mig_mirror_endio;
	bio_inc_remaining(bio);
	submit_bio_noacct(c);
	return true;
}

/*
 * map() has remapped a mirrored write to the source.  Usually it starts
 * at once: its destination leg is issued here and true is returned (map()
 * returns DM_MAPIO_REMAPPED, and dm core issues the source leg).  While a
 * copy of one of its chunks is in flight, it is deferred until that copy
 * has completed (as dm-raid1 delays writes to a region it is recovering),
 * and a clone that would need memory is left to the worker; false then,
 * and map() returns DM_MAPIO_SUBMITTED.  @mig stays allocated: the write
 * is counted in flight.
 */
bool sp_mig_mirror(struct sp_mig *mig, struct bio *bio)
{
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	unsigned long flags;
	bool deferred;

	spin_lock_irqsave(&mig->lock, flags);
	deferred = sp_mig_copy_overlaps(mig, pbd->chunk, pbd->nr_chunks);
	if (deferred) {
		bio_list_add(&mig->deferred, bio);
		mig->deferred_count++;
	} else {
		sp_mig_mirror_start(mig, bio);
	}
	spin_unlock_irqrestore(&mig->lock, flags);
	if (deferred)
		return false;
	if (likely(sp_mig_mirror_leg(mig, bio, GFP_NOWAIT)))
		return true;
	spin_lock_irqsave(&mig->lock, flags);
	bio_list_add(&mig->mirror_queue, bio);
	spin_unlock_irqrestore(&mig->lock, flags);
	queue_work(sp_mig_wq, &mig->mirror_work);
	return false;
}

/*
 * Issue the started mirrored writes map() left to the worker: both legs.
 * If even a blocking clone fails, the write goes to the source alone and
 * its chunks are copied again.
 */
static void sp_mig_mirror_work(struct work_struct *w)
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

/* ---- Copying ----------------------------------------------------------- */

static void sp_mig_kick(struct sp_mig *mig, unsigned long delay)
{
	mod_delayed_work(sp_mig_wq, &mig->work, delay);
}

/*
 * Pacing (lock held, at the end of the copy in slot @c): if the volume had
 * I/O while the chunk was copied, the slot rests for the copy's time times
 * (100 - busy_share) / busy_share, so that under I/O the copy keeps about
 * busy_share percent of its speed and leaves the rest to the volume.
 */
static void sp_mig_pace(struct sp_mig *mig, struct sp_mig_copy *c)
{
	ktime_t now;
	u64 rest;

	c->ready = 0;
	if (mig->manual || mig->state != SP_MIG_COPYING ||
	    mig->busy_share >= 100 ||
	    time_before(READ_ONCE(mig->fg_stamp), c->issued_j))
		return;
	now = ktime_get();
	rest = div_u64(ktime_to_ns(ktime_sub(now, c->issued)) *
		       (100 - mig->busy_share), mig->busy_share);
	c->ready = ktime_add_ns(now, rest);
	mig->paced_ns += rest;
}

static void sp_mig_copied(int read_err, unsigned long write_err, void *ctx)
{
	struct sp_mig_copy *c = ctx;
	struct sp_mig *mig = c->mig;
	unsigned long flags;
	bool undefer;

	spin_lock_irqsave(&mig->lock, flags);
	sp_mig_pace(mig, c);
	if (read_err || write_err) {
		sp_cpx_copy_failed(&mig->cpx, c->chunk);
		mig->copy_errors++;
	} else {
		sp_cpx_copy_done(&mig->cpx, c->chunk);
		mig->bytes_copied += (u64)mig->chunk_sectors << SECTOR_SHIFT;
	}
	mig->copies--;
	mig->slot_busy &= ~BIT(c - mig->slots);
	undefer = !bio_list_empty(&mig->deferred) && sp_mig_undefer(mig);
	spin_unlock_irqrestore(&mig->lock, flags);
	if (undefer)
		queue_work(sp_mig_wq, &mig->mirror_work);
	wake_up_all(&mig->wait);
	if (!READ_ONCE(mig->stop))
		sp_mig_kick(mig, 0);
}

/*
 * Copy @chunk from the source to the destination in free slot @i (claimed,
 * lock held).
 */
static void sp_mig_issue(struct sp_mig *mig, unsigned int i,
			 unsigned long chunk)
	__releases(&mig->lock) __acquires(&mig->lock)
{
	u64 slot = chunk / mig->chunks_per_slice;
	sector_t off = (sector_t)(chunk % mig->chunks_per_slice) *
		mig->chunk_sectors;
	struct sp_mig_copy *c = &mig->slots[i];
	struct dm_io_region from, to;

	mig->slot_busy |= BIT(i);
	c->chunk = chunk;
	c->issued_j = jiffies;
	c->issued = ktime_get();
	mig->copies++;
	sp_mig_mark_overlaps(mig, chunk);
	spin_unlock_irq(&mig->lock);

	from.bdev = mig->src[slot].m->bdev.bdev;
	from.sector = mig->src[slot].start + off;
	from.count = mig->chunk_sectors;
	to.bdev = mig->dst[slot].m->bdev.bdev;
	to.sector = mig->dst[slot].start + off;
	to.count = mig->chunk_sectors;
	dm_kcopyd_copy(mig->kc, &from, 1, &to, 0, sp_mig_copied, c);

	spin_lock_irq(&mig->lock);
}

/*
 * A free slot among the first depth that pacing lets copy now (lock held;
 * copies < depth), else -1 and the delay until one may.
 */
static int sp_mig_ready_slot(struct sp_mig *mig, unsigned long *delay)
{
	ktime_t now = ktime_get(), soonest = KTIME_MAX;
	unsigned int i;
	u64 wait;

	for (i = 0; i < mig->depth; i++) {
		if (mig->slot_busy & BIT(i))
			continue;
		if (ktime_compare(mig->slots[i].ready, now) <= 0)
			return i;
		soonest = min(soonest, mig->slots[i].ready);
	}
	wait = DIV_ROUND_UP_ULL(ktime_to_ns(ktime_sub(soonest, now)),
				NSEC_PER_USEC);
	*delay = max(usecs_to_jiffies(min_t(u64, wait, UINT_MAX)), 1UL);
	return -1;
}

/* Throttle: may a chunk be claimed now?  Else the delay to wait. */
static bool sp_mig_throttle(struct sp_mig *mig, unsigned long *delay)
{
	u64 per_sec, need = mig->chunk_sectors;
	unsigned long now = jiffies, d;

	if (!mig->rate)
		return true;
	per_sec = (u64)mig->rate << (20 - SECTOR_SHIFT);
	mig->tokens += div_u64(per_sec * (now - mig->refill), HZ);
	mig->refill = now;
	mig->tokens = min(mig->tokens, max(per_sec, need));
	if (mig->tokens >= need) {
		mig->tokens -= need;
		return true;
	}
	d = div64_u64((need - mig->tokens) * HZ + per_sec - 1, per_sec);
	*delay = max(d, 1UL);
	return false;
}

static void sp_mig_start_switch(struct sp_mig *mig);

/* End a pass (lock held); count it if it copied anything. */
static long sp_mig_end_pass(struct sp_mig *mig)
{
	if (mig->cpx.nr_planned)
		mig->passes++;
	return sp_cpx_end_pass(&mig->cpx);
}

/*
 * The copy worker (pass 1..n; the switch copies by itself).  Claims and
 * issues copies up to SP_MIG_DEPTH, within the throttle and, in manual
 * mode, the step budget; ends a pass when all of it is copied and then
 * either plans the next or starts the switch.
 */
static void sp_mig_work(struct work_struct *w)
{
	struct sp_mig *mig = container_of(to_delayed_work(w), struct sp_mig,
					  work);
	unsigned long chunk, delay = 0;
	bool do_switch = false;
	long planned;
	int slot;

	spin_lock_irq(&mig->lock);
	while (mig->state == SP_MIG_COPYING && !mig->stop) {
		while (mig->copies < mig->depth &&
		       (!mig->manual || mig->step_budget)) {
			slot = ffz(mig->slot_busy);
			if (mig->has_next_claim) {
				mig->has_next_claim = false;
				chunk = mig->next_claim;
			} else {
				if (!mig->cpx.nr_pending)
					break;
				if (!mig->manual) {
					slot = sp_mig_ready_slot(mig, &delay);
					if (slot < 0 ||
					    !sp_mig_throttle(mig, &delay))
						break;
				}
				if (!sp_cpx_claim_next(&mig->cpx, &chunk))
					break;
			}
			if (mig->manual)
				mig->step_budget--;
			sp_mig_issue(mig, slot, chunk);
		}
		/* Pipelined steps: the next chunk is claimed meanwhile. */
		if (mig->pipeline && !mig->step_budget &&
		    !mig->has_next_claim &&
		    sp_cpx_claim_next(&mig->cpx, &mig->next_claim))
			mig->has_next_claim = true;
		if (delay || sp_cpx_remaining(&mig->cpx))
			break;
		/* The pass is complete. */
		planned = sp_mig_end_pass(mig);
		if (!mig->manual &&
		    (planned <= mig->threshold ||
		     mig->cpx.pass > mig->max_passes)) {
			do_switch = true;
			break;
		}
		if (!planned) {
			mig->step_budget = 0;
			break;
		}
	}
	spin_unlock_irq(&mig->lock);
	wake_up_all(&mig->wait);
	if (delay)
		sp_mig_kick(mig, delay);
	if (do_switch)
		sp_mig_start_switch(mig);
}

/* ---- Switch ------------------------------------------------------------- */

/*
 * With writes held: copy everything planned, in passes, until a pass
 * plans nothing.  Failed copies are retried for 3 more passes.
 */
static int sp_mig_copy_rest(struct sp_mig *mig)
{
	unsigned long chunk;
	unsigned int passes = 0, cur;
	u64 errors;
	int r = 0;

	spin_lock_irq(&mig->lock);
	errors = mig->copy_errors;
	if (mig->has_next_claim) {
		mig->has_next_claim = false;
		sp_mig_issue(mig, ffz(mig->slot_busy), mig->next_claim);
	}
	for (;;) {
		while (mig->copies < SP_MIG_SLOTS &&
		       sp_cpx_claim_next(&mig->cpx, &chunk))
			sp_mig_issue(mig, ffz(mig->slot_busy), chunk);
		if (sp_cpx_remaining(&mig->cpx)) {
			cur = mig->copies;
			spin_unlock_irq(&mig->lock);
			wait_event(mig->wait, READ_ONCE(mig->copies) < cur);
			spin_lock_irq(&mig->lock);
			continue;
		}
		if (!sp_mig_end_pass(mig))
			break;
		if (mig->copy_errors != errors && ++passes > 3) {
			r = -EIO;
			break;
		}
	}
	spin_unlock_irq(&mig->lock);
	return r;
}

/* Resubmit the held writes through the (new) map. */
static void sp_mig_release_held(struct sp_mig *mig)
{
	struct bio_list held;
	struct bio *bio;

	spin_lock_irq(&mig->lock);
	held = mig->held;
	bio_list_init(&mig->held);
	mig->holding = false;
	mig->hold_us = ktime_us_delta(ktime_get(), mig->hold_start);
	spin_unlock_irq(&mig->lock);

	while ((bio = bio_list_pop(&held))) {
		struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));

		switch (sp_map_bio_again(pbd->ti, bio)) {
		case DM_MAPIO_REMAPPED:
			submit_bio_noacct(bio);
			break;
		case DM_MAPIO_KILL:
			bio->bi_status = BLK_STS_IOERR;
			bio_endio(bio);
			break;
		default:
			break;
		}
	}
}

/* Unpublish @mig and wait for the writes it tracks. */
static void sp_mig_unpublish(struct sp_mig *mig)
{
	struct sp_volume *v = mig->vol;

	rcu_assign_pointer(v->mig, NULL);
	synchronize_rcu();
	wait_event(mig->wait, !READ_ONCE(mig->inflight_writes));
}

static void sp_mig_free_job(struct sp_mig *mig)
{
	/* Every mirrored write has completed: the worker has returned. */
	flush_work(&mig->mirror_work);
	if (mig->kc)
		dm_kcopyd_client_destroy(mig->kc);
	mig->kc = NULL;
	kvfree(mig->bits);
	mig->bits = NULL;
	mig->cpx.plan = NULL;
	mig->cpx.dirty[0] = NULL;
	mig->cpx.dirty[1] = NULL;
	kvfree(mig->src);
	kvfree(mig->dst);
	mig->src = NULL;
	mig->dst = NULL;
}

static void sp_mig_finish(struct sp_mig *mig, enum sp_mig_state state,
			  int error)
{
	spin_lock_irq(&mig->lock);
	mig->state = state;
	mig->error = error;
	spin_unlock_irq(&mig->lock);
	/* Destroying the kcopyd client waits for its callbacks to return. */
	sp_mig_free_job(mig);
	cancel_delayed_work_sync(&mig->work);
	complete_all(&mig->done);
	wake_up_all(&mig->wait);
}

/* Free a job that has ended, once its switch work has returned too. */
static void sp_mig_free_ended(struct sp_mig *mig)
{
	if (!mig)
		return;
	flush_work(&mig->switch_work);
	kfree_rcu(mig, rcu);
}

static void sp_mig_switch_work(struct work_struct *w)
{
	struct sp_mig *mig = container_of(w, struct sp_mig, switch_work);
	struct sp_volume *v = mig->vol;
	struct sp_pool *pool = v->pool;
	u64 i;
	int r;

	cancel_delayed_work_sync(&mig->work);
	wait_event(mig->wait, !READ_ONCE(mig->copies));

	/* Hold new writes to the migrating slices; wait for the others. */
	spin_lock_irq(&mig->lock);
	mig->holding = true;
	mig->hold_start = ktime_get();
	spin_unlock_irq(&mig->lock);
	wait_event(mig->wait, !READ_ONCE(mig->inflight_writes));

	r = sp_mig_copy_rest(mig);
	for (i = 0; !r && i < mig->count; i++)
		if (i == 0 || mig->dst[i].m != mig->dst[i - 1].m)
			r = blkdev_issue_flush(mig->dst[i].m->bdev.bdev);
	if (!r) {
		mutex_lock(&pool->lock);
		r = sp_move_commit(v, mig->first, mig->count, mig->dst);
		if (r)
			sp_move_unreserve(v, mig->count, mig->dst);
		mutex_unlock(&pool->lock);
	} else {
		sp_err("%s: migration of volume %s failed before its commit: %d",
		       pool->name, v->name, r);
		mutex_lock(&pool->lock);
		sp_move_unreserve(v, mig->count, mig->dst);
		mutex_unlock(&pool->lock);
	}

	/* New writes now map to the destination (or stay on the source). */
	rcu_assign_pointer(v->mig, NULL);
	synchronize_rcu();
	sp_mig_release_held(mig);
	wait_event(mig->wait, !READ_ONCE(mig->inflight_writes));
	if (!r) {
		sp_volume_drain_io(v);
		mutex_lock(&pool->lock);
		sp_move_release(v, mig->first, mig->count, mig->src);
		mutex_unlock(&pool->lock);
		sp_info("%s: volume %s slices %llu..%llu moved to %s: %llu bytes copied in %u passes, writes held %lld us, %llu mirrored (%llu deferred, %llu failed on a side)",
			pool->name, v->name, mig->first,
			mig->first + mig->count - 1, mig->dest,
			mig->bytes_copied, mig->passes, mig->hold_us,
			mig->cpx.mirrored, mig->deferred_count,
			mig->mirror_errors);
	}
	sp_mig_finish(mig, r ? SP_MIG_FAILED : SP_MIG_DONE, r);
}

static void sp_mig_start_switch(struct sp_mig *mig)
{
	spin_lock_irq(&mig->lock);
	if (mig->state != SP_MIG_COPYING || mig->stop) {
		spin_unlock_irq(&mig->lock);
		return;
	}
	mig->state = SP_MIG_SWITCHING;
	spin_unlock_irq(&mig->lock);
	queue_work(sp_mig_wq, &mig->switch_work);
}

/* ---- Control ------------------------------------------------------------ */

static int sp_parse_range(const char *s, u64 *first, u64 *last)
{
	char buf[48];
	char *dash;

	if (strscpy(buf, s, sizeof(buf)) < 0)
		return -EINVAL;
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	if (kstrtou64(buf, 10, first))
		return -EINVAL;
	*last = *first;
	if (dash && kstrtou64(dash, 10, last))
		return -EINVAL;
	return *last < *first ? -EINVAL : 0;
}

struct sp_mig_args {
	u64 first, count;
	const char *dest;
	enum sp_cpx_mode mode;
	u32 rate, chunk_kb, threshold, max_passes, depth, busy_share;
	bool manual, pipeline;
	int mirror;			/* -1: default (on unless manual) */
	const char *plan;
};

static int sp_mig_parse(struct sp_volume *v, unsigned int argc, char **argv,
			struct sp_mig_args *a)
{
	u64 last;
	unsigned int i;

	memset(a, 0, sizeof(*a));
	a->mirror = -1;
	a->chunk_kb = SP_MIG_CHUNK_KB;
	a->threshold = SP_MIG_THRESHOLD;
	a->max_passes = SP_MIG_MAX_PASSES;
	a->depth = SP_MIG_DEPTH;
	a->busy_share = SP_MIG_BUSY_SHARE;
	if (argc < 2) {
		sp_err("migrate start: expected <first>[-<last>]|all <member|domain:<label>> [<key>=<value>...]");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "all")) {
		a->first = 0;
		a->count = v->nr_slices;
	} else {
		if (sp_parse_range(argv[0], &a->first, &last)) {
			sp_err("migrate start: bad slice range '%s' (<first>[-<last>] or all)",
			       argv[0]);
			return -EINVAL;
		}
		a->count = last - a->first + 1;
	}
	a->dest = argv[1];
	for (i = 2; i < argc; i++) {
		char *val = strchr(argv[i], '=');
		u32 *u = NULL;
		u32 max = 0;

		if (!strcmp(argv[i], "manual")) {
			a->manual = true;
			continue;
		}
		if (!strcmp(argv[i], "pipeline")) {
			a->pipeline = true;
			continue;
		}
		if (!val) {
			sp_err("migrate start: bad option '%s' (<key>=<value> or manual)",
			       argv[i]);
			return -EINVAL;
		}
		*val++ = '\0';
		if (!strcmp(argv[i], "mode")) {
			if (!strcmp(val, "filter")) {
				a->mode = SP_CPX_FILTER;
			} else if (!strcmp(val, "clear")) {
				a->mode = SP_CPX_CLEAR;
			} else if (!strcmp(val, "none")) {
				a->mode = SP_CPX_NONE;
			} else {
				sp_err("migrate start: unknown mode '%s' (filter, clear or none)",
				       val);
				return -EINVAL;
			}
			continue;
		}
		if (!strcmp(argv[i], "mirror")) {
			if (!strcmp(val, "on")) {
				a->mirror = 1;
			} else if (!strcmp(val, "off")) {
				a->mirror = 0;
			} else {
				sp_err("migrate start: mirror=%s is not on or off",
				       val);
				return -EINVAL;
			}
			continue;
		}
		if (!strcmp(argv[i], "plan")) {
			a->plan = val;
			continue;
		}
		if (!strcmp(argv[i], "rate")) {
			u = &a->rate;
			max = 1 << 20;
		} else if (!strcmp(argv[i], "chunk_kb")) {
			u = &a->chunk_kb;
			max = 1 << 20;
		} else if (!strcmp(argv[i], "threshold")) {
			u = &a->threshold;
			max = U32_MAX;
		} else if (!strcmp(argv[i], "max_passes")) {
			u = &a->max_passes;
			max = 1000;
		} else if (!strcmp(argv[i], "depth")) {
			u = &a->depth;
			max = SP_MIG_SLOTS;
		} else if (!strcmp(argv[i], "busy_share")) {
			u = &a->busy_share;
			max = 100;
		}
		if (!u) {
			sp_err("migrate start: unknown option '%s'", argv[i]);
			return -EINVAL;
		}
		if (kstrtou32(val, 10, u) || *u > max) {
			sp_err("migrate start: %s=%s is not a number in 0..%u",
			       argv[i], val, max);
			return -EINVAL;
		}
	}
	if (a->pipeline && !a->manual) {
		sp_err("migrate start: pipeline needs manual");
		return -EINVAL;
	}
	if (!a->max_passes) {
		sp_err("migrate start: max_passes must be at least 1");
		return -EINVAL;
	}
	if (!a->depth) {
		sp_err("migrate start: depth=0 is below 1");
		return -EINVAL;
	}
	if (!a->busy_share) {
		sp_err("migrate start: busy_share=0 is below 1 (100: no pacing)");
		return -EINVAL;
	}
	return 0;
}

/* plan=<a>[-<b>][,...]: the chunks of pass 1 (default: all). */
static int sp_mig_plan(struct sp_mig *mig, const char *plan)
{
	char buf[128], *p = buf, *tok;
	u64 a, b;
	int r;

	if (!plan)
		return sp_cpx_plan_all(&mig->cpx);
	if (strscpy(buf, plan, sizeof(buf)) < 0)
		goto bad;
	while ((tok = strsep(&p, ","))) {
		if (sp_parse_range(tok, &a, &b) || b >= mig->cpx.nr_chunks)
			goto bad;
		r = sp_cpx_plan_range(&mig->cpx, a, b - a + 1);
		if (r)
			return r;
	}
	return 0;
bad:
	sp_err("migrate start: bad plan '%s' (chunk ranges <a>[-<b>],... below %lu)",
	       plan, mig->cpx.nr_chunks);
	return -EINVAL;
}

/*
 * Every table of @v reaches every member through the map, so any enabled
 * member can be a destination without a table reload, unless its logical
 * block size is above what a table's queue limits were stacked with: I/O
 * of that size would fail there.  Logs the refusal (pool->lock held).
 */
static bool sp_tables_take(struct sp_volume *v, struct sp_extent *dst,
			   u64 count)
{
	unsigned int lbs, tl = sp_target_lbs(v);
	u64 i;

	for (i = 0; i < count; i++) {
		lbs = bdev_logical_block_size(dst[i].m->bdev.bdev);
		if (tl && lbs > tl) {
			sp_err("%s: migration destination %s has a logical block size of %u bytes, above the %u of a table of volume %s; reload that table first",
			       v->pool->name, config_item_name(&dst[i].m->item),
			       lbs, tl, v->name);
			return false;
		}
	}
	return true;
}

static int sp_mig_start(struct sp_volume *v, unsigned int argc, char **argv)
{
	struct sp_pool *pool = v->pool;
	u64 slice_sectors = sp_slice_sectors(pool);
	struct sp_mig_args a;
	struct sp_mig *mig, *last;
	unsigned long nr_chunks;
	int r;

	r = sp_mig_parse(v, argc, argv, &a);
	if (r)
		return r;
	if (rcu_access_pointer(v->mig)) {
		sp_err("%s: volume %s is already migrating", pool->name,
		       v->name);
		return -EBUSY;
	}
	if (!a.chunk_kb || (a.chunk_kb & 3) ||
	    slice_sectors % ((u64)a.chunk_kb * 2)) {
		sp_err("migrate start: chunk_kb=%u must be a multiple of 4 that divides the slice size (%u MiB)",
		       a.chunk_kb, pool->slice_mb);
		return -EINVAL;
	}
	mig = kzalloc(sizeof(*mig), GFP_KERNEL);
	if (!mig)
		return -ENOMEM;
	mig->vol = v;
	spin_lock_init(&mig->lock);
	bio_list_init(&mig->held);
	bio_list_init(&mig->mirror_queue);
	bio_list_init(&mig->deferred);
	INIT_LIST_HEAD(&mig->mirroring);
	INIT_WORK(&mig->mirror_work, sp_mig_mirror_work);
	init_waitqueue_head(&mig->wait);
	init_completion(&mig->done);
	INIT_DELAYED_WORK(&mig->work, sp_mig_work);
	INIT_WORK(&mig->switch_work, sp_mig_switch_work);
	for (r = 0; r < SP_MIG_SLOTS; r++)
		mig->slots[r].mig = mig;
	mig->first = a.first;
	mig->count = a.count;
	mig->chunk_sectors = a.chunk_kb * 2;
	mig->chunks_per_slice = div_u64(slice_sectors, mig->chunk_sectors);
	mig->manual = a.manual;
	mig->pipeline = a.pipeline;
	mig->mirror = a.mirror < 0 ? !a.manual : a.mirror;
	mig->rate = a.rate;
	mig->refill = jiffies;
	mig->threshold = a.threshold;
	mig->max_passes = a.max_passes;
	mig->depth = a.depth;
	mig->busy_share = a.busy_share;
	mig->fg_stamp = jiffies - 1;
	strscpy(mig->dest, a.dest, sizeof(mig->dest));

	r = -EINVAL;
	if (!a.count || a.count > SP_CPX_MAX_CHUNKS / mig->chunks_per_slice) {
		sp_err("%s: volume %s: cannot migrate %llu slices", pool->name,
		       v->name, a.count);
		goto free;
	}
	nr_chunks = a.count * mig->chunks_per_slice;
	r = -ENOMEM;
	mig->src = kvcalloc(a.count, sizeof(*mig->src), GFP_KERNEL);
	mig->dst = kvcalloc(a.count, sizeof(*mig->dst), GFP_KERNEL);
	mig->bits = kvzalloc(sp_cpx_mem_bytes(nr_chunks), GFP_KERNEL);
	if (!mig->src || !mig->dst || !mig->bits)
		goto free;
	mig->kc = dm_kcopyd_client_create(NULL);
	if (IS_ERR(mig->kc)) {
		r = PTR_ERR(mig->kc);
		mig->kc = NULL;
		goto free;
	}
	r = sp_cpx_init(&mig->cpx, nr_chunks, a.mode, mig->bits);
	if (!r)
		r = sp_mig_plan(mig, a.plan);
	if (r)
		goto free;

	mutex_lock(&pool->lock);
	r = sp_move_reserve(v, a.first, a.count, a.dest, mig->src, mig->dst);
	if (!r && !sp_tables_take(v, mig->dst, a.count)) {
		sp_move_unreserve(v, a.count, mig->dst);
		r = -EINVAL;
	}
	/* Published under pool->lock: resize checks it there. */
	if (!r)
		rcu_assign_pointer(v->mig, mig);
	mutex_unlock(&pool->lock);
	if (r)
		goto free;

	/* Wait for the writes mapped before the job existed (contract). */
	sp_volume_drain_io(v);
	last = rcu_dereference_protected(v->mig_last,
					 lockdep_is_held(&v->mig_lock));
	sp_mig_free_ended(last);
	rcu_assign_pointer(v->mig_last, mig);
	sp_info("%s: migrating volume %s slices %llu..%llu to %s: %lu chunks of %u KiB, mode %s, mirror %s, depth %u%s",
		pool->name, v->name, a.first, a.first + a.count - 1, a.dest,
		nr_chunks, a.chunk_kb, sp_mig_mode_names[a.mode],
		mig->mirror ? "on" : "off", mig->depth,
		a.manual ? ", manual" : "");
	if (!mig->manual)
		sp_mig_kick(mig, 0);
	return 0;
free:
	sp_mig_free_job(mig);
	kfree(mig);
	return r;
}

static struct sp_mig *sp_mig_running(struct sp_volume *v, const char *what)
{
	struct sp_mig *mig = rcu_dereference_protected(v->mig,
					lockdep_is_held(&v->mig_lock));

	if (!mig)
		sp_err("%s: migrate %s: volume %s is not migrating",
		       v->pool->name, what, v->name);
	return mig;
}

static int sp_mig_step(struct sp_volume *v, unsigned int argc, char **argv)
{
	struct sp_mig *mig;
	u32 n;

	if (argc != 1 || kstrtou32(argv[0], 10, &n) || !n) {
		sp_err("migrate step: expected a number of chunks >= 1");
		return -EINVAL;
	}
	mig = sp_mig_running(v, "step");
	if (!mig)
		return -EINVAL;
	if (!mig->manual) {
		sp_err("%s: migrate step: the migration of %s is not manual",
		       v->pool->name, v->name);
		return -EINVAL;
	}
	spin_lock_irq(&mig->lock);
	mig->step_budget += n;
	spin_unlock_irq(&mig->lock);
	sp_mig_kick(mig, 0);
	wait_event(mig->wait, ({
		bool idle;

		spin_lock_irq(&mig->lock);
		idle = mig->state != SP_MIG_COPYING ||
			(!mig->step_budget && !mig->copies);
		spin_unlock_irq(&mig->lock);
		idle; }));
	return 0;
}

static int sp_mig_abort_locked(struct sp_volume *v)
{
	struct sp_mig *mig = sp_mig_running(v, "abort");
	struct sp_pool *pool = v->pool;

	if (!mig)
		return -EINVAL;
	spin_lock_irq(&mig->lock);
	if (mig->state != SP_MIG_COPYING) {
		spin_unlock_irq(&mig->lock);
		sp_err("%s: migrate abort: volume %s is switching already",
		       pool->name, v->name);
		return -EBUSY;
	}
	WRITE_ONCE(mig->stop, true);
	spin_unlock_irq(&mig->lock);
	cancel_delayed_work_sync(&mig->work);
	wait_event(mig->wait, !READ_ONCE(mig->copies));
	sp_mig_unpublish(mig);
	mutex_lock(&pool->lock);
	sp_move_unreserve(v, mig->count, mig->dst);
	mutex_unlock(&pool->lock);
	sp_info("%s: migration of volume %s aborted; it stays on its source",
		pool->name, v->name);
	sp_mig_finish(mig, SP_MIG_ABORTED, 0);
	return 0;
}

/* The last table of @v went away: a migration cannot go on. */
void sp_mig_volume_gone(struct sp_volume *v)
{
	struct sp_mig *mig;

	mutex_lock(&v->mig_lock);
	mig = rcu_dereference_protected(v->mig, lockdep_is_held(&v->mig_lock));
	if (mig && READ_ONCE(mig->state) == SP_MIG_COPYING)
		sp_mig_abort_locked(v);
	mig = rcu_dereference_protected(v->mig_last,
					lockdep_is_held(&v->mig_lock));
	mutex_unlock(&v->mig_lock);
	if (mig) {
		wait_for_completion(&mig->done);
		flush_work(&mig->switch_work);
	}
}

int sp_mig_message(struct sp_volume *v, unsigned int argc, char **argv,
		   char *result, unsigned int maxlen)
{
	struct sp_mig *mig;
	int r = -EINVAL;
	u32 rate;

	if (!argc) {
		sp_err("migrate: expected start, step, rate, switch, abort or extents");
		return -EINVAL;
	}
	mutex_lock(&v->mig_lock);
	if (!strcmp(argv[0], "start")) {
		r = sp_mig_start(v, argc - 1, argv + 1);
	} else if (!strcmp(argv[0], "step")) {
		r = sp_mig_step(v, argc - 1, argv + 1);
	} else if (!strcmp(argv[0], "abort") && argc == 1) {
		r = sp_mig_abort_locked(v);
	} else if (!strcmp(argv[0], "switch") && argc == 1) {
		mig = sp_mig_running(v, "switch");
		if (mig) {
			sp_mig_start_switch(mig);
			wait_for_completion(&mig->done);
			r = mig->error;
		}
	} else if (!strcmp(argv[0], "rate") && argc == 2) {
		mig = sp_mig_running(v, "rate");
		if (kstrtou32(argv[1], 10, &rate) || rate > (1 << 20)) {
			sp_err("migrate rate: '%s' is not a number of MiB/s in 0..%u",
			       argv[1], 1 << 20);
		} else if (mig) {
			spin_lock_irq(&mig->lock);
			mig->rate = rate;
			mig->tokens = 0;
			mig->refill = jiffies;
			spin_unlock_irq(&mig->lock);
			sp_mig_kick(mig, 0);
			r = 0;
		}
	} else if (!strcmp(argv[0], "extents") && argc >= 2 && argc <= 3) {
		r = sp_mig_extents(v, argc - 1, argv + 1, result, maxlen);
	} else {
		sp_err("migrate: unknown subcommand '%s' or wrong argument count",
		       argv[0]);
	}
	mutex_unlock(&v->mig_lock);
	return r;
}

/*
 * "migrate extents <from> [<max>]": runs of the passive dirty bitmap (this
 * pass's plan), from chunk <from>, at most <max> (default 64) of them:
 * "<pass> <next> <start>+<len>...", <next> being "-" at the end.
 * Returns 1 (the message result is set) or an error.
 */
int sp_mig_extents(struct sp_volume *v, unsigned int argc, char **argv,
		   char *result, unsigned int maxlen)
{
	struct sp_cpx_extent ext[64];
	struct sp_mig *mig;
	unsigned long from, next;
	unsigned int max = 64, n, i, sz = 0, pass;

	if (kstrtoul(argv[0], 10, &from) ||
	    (argc == 2 && (kstrtouint(argv[1], 10, &max) || !max ||
			   max > 64))) {
		sp_err("migrate extents: expected <from chunk> [<max runs> 1..64]");
		return -EINVAL;
	}
	mig = sp_mig_running(v, "extents");
	if (!mig)
		return -EINVAL;
	spin_lock_irq(&mig->lock);
	if (from >= mig->cpx.nr_chunks) {
		spin_unlock_irq(&mig->lock);
		sp_err("migrate extents: chunk %lu is beyond the job's %lu",
		       from, mig->cpx.nr_chunks);
		return -EINVAL;
	}
	n = sp_cpx_next_extents(&mig->cpx, from, ext, max, &next);
	pass = mig->cpx.pass;
	spin_unlock_irq(&mig->lock);
	DMEMIT("%u ", pass);
	if (next >= mig->cpx.nr_chunks)
		DMEMIT("-");
	else
		DMEMIT("%lu", next);
	for (i = 0; i < n; i++)
		DMEMIT(" %lu+%lu", ext[i].start, ext[i].len);
	return 1;	/* dm: the result is set */
}

/*
 * Status fields (see "Live migration" in the rst):
 *  migration none
 *  migration <state> <mode> <first>-<last> <dest> <pass> <cursor>
 *    <planned> <remaining> <dirty> <writes_seen> <dirty_set> <filtered>
 *    <cleared> <copied> <recopied> <bytes_copied> <rate> <hold_us> <error>
 *    <mirror> <mirrored> <busy_share> <paced_ms>
 */
void sp_mig_status(struct sp_volume *v, char *result, unsigned int maxlen,
		   unsigned int *szp)
{
	unsigned int sz = *szp, pass;
	struct sp_mig *mig;
	struct sp_cpx c;
	enum sp_mig_state state;
	u64 bytes, rate, paced;
	s64 hold;
	int error;

	/* No mutex: status must not wait for a step, a drain or a switch. */
	rcu_read_lock();
	mig = rcu_dereference(v->mig_last);
	if (!mig) {
		rcu_read_unlock();
		DMEMIT(" migration none");
		*szp = sz;
		return;
	}
	spin_lock_irq(&mig->lock);
	c = mig->cpx;
	state = mig->state;
	pass = state == SP_MIG_COPYING || state == SP_MIG_SWITCHING ?
		c.pass : mig->passes;
	bytes = mig->bytes_copied;
	rate = mig->rate;
	hold = mig->hold_us;
	error = mig->error;
	paced = div_u64(mig->paced_ns, NSEC_PER_MSEC);
	spin_unlock_irq(&mig->lock);
	DMEMIT(" migration %s %s %llu-%llu %s %u %lu %lu %lu %lu",
	       sp_mig_state_names[state], sp_mig_mode_names[c.mode],
	       mig->first, mig->first + mig->count - 1, mig->dest, pass,
	       c.cursor, c.nr_planned, sp_cpx_remaining(&c), c.nr_dirty);
	DMEMIT(" %llu %llu %llu %llu %llu %llu %llu %llu %lld %d %s %llu %u %llu",
	       c.writes_seen, c.dirty_set, c.filtered, c.cleared, c.copied,
	       c.recopied, bytes, rate, hold, error,
	       mig->mirror ? "on" : "off", c.mirrored, mig->busy_share, paced);
	rcu_read_unlock();
	*szp = sz;
}

int sp_mig_init(void)
{
	sp_mig_wq = alloc_workqueue("slicepool_mig", WQ_MEM_RECLAIM, 0);
	return sp_mig_wq ? 0 : -ENOMEM;
}

void sp_mig_exit(void)
{
	destroy_workqueue(sp_mig_wq);
}
