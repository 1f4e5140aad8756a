// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool live migration: the copy engine.  A job copies its slices
 * chunk by chunk with dm-kcopyd, in passes driven by the copy index
 * (copyidx.c: the plan, the cursor, the ping-pong dirty bitmaps and the
 * copy-index filter), up to mig->depth copies at a time, within the
 * throttle (rate=) and pacing (busy_share=).  The worker runs on
 * sp_mig_wq; when a pass leaves few dirty chunks, or after the last
 * allowed pass, it starts the switch (sp-mig-switch.c), which copies the
 * rest with sp_mig_copy_rest() while it holds writes.
 *
 * Ordering rule (why no write is lost; the proof is at the top of
 * copyidx.c): the copy claims a chunk before it reads it (the kcopyd read
 * is issued after sp_cpx_claim_next() returned the chunk); a write is
 * reported when it completes (sp-mig-io.c); both happen under mig->lock.
 *
 * Locking: mig->lock protects the copy index, the slots, the throttle and
 * pacing state and the counters; it is dropped around dm_kcopyd_copy().
 * mig->fg_stamp is a lockless hint written by map().
 */
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>

#include "sp-core.h"
#include "sp-mig.h"

void sp_mig_kick(struct sp_mig *mig, unsigned long delay)
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
		queue_work(sp_mig_io_wq, &mig->mirror_work);
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
void sp_mig_work(struct work_struct *w)
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

/*
 * With writes held: copy everything planned, in passes, until a pass
 * plans nothing.  Failed copies are retried for 3 more passes.
 */
int sp_mig_copy_rest(struct sp_mig *mig)
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
