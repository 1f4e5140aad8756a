// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool live migration: the switch.  It holds new writes to the
 * migrating slices only, waits for the ones in flight, copies what is
 * left (sp_mig_copy_rest()), flushes the destinations, commits the move
 * (sp_md3_move_commit()), publishes the new map, releases the held writes
 * (they now go to the destination), waits until no I/O reaches the
 * sources and frees them (sp_md3_move_release()).  It runs on
 * sp_mig_wq.
 *
 * Locking: mig->lock protects holding, the held list and hold times;
 * pool->lock is taken for the commit, the unreserve and the release.  A
 * held bio is in flight for dm core, so its table (pbd->ti) stays until
 * it is released and completes.
 */
#include <linux/blkdev.h>

#include "sp-core.h"
#include "sp-mig.h"

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

		switch (sp_target_remap(pbd->ti, bio)) {
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

void sp_mig_switch_work(struct work_struct *w)
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
		r = sp_md3_move_commit(v, mig->first, mig->count, mig->dst);
		if (r)
			sp_md3_move_abort(v, mig->first);
		mutex_unlock(&pool->lock);
	} else {
		sp_err("%s: migration of volume %s failed before its commit: %d",
		       pool->name, v->name, r);
		mutex_lock(&pool->lock);
		sp_md3_move_abort(v, mig->first);
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
		sp_md3_move_release(v, mig->first);
		mutex_unlock(&pool->lock);
		sp_info("%s: volume %s slices %llu..%llu moved to %s: %llu bytes copied in %u passes, writes held %lld us, %llu mirrored (%llu deferred, %llu fell back to the worker, %llu failed on a side)",
			pool->name, v->name, mig->first,
			mig->first + mig->count - 1, mig->dest,
			mig->bytes_copied, mig->passes, mig->hold_us,
			mig->cpx.mirrored, mig->deferred_count,
			mig->nowait_fallbacks, mig->mirror_errors);
	}
	sp_mig_finish(mig, r ? SP_MIG_FAILED : SP_MIG_DONE, r);
}

void sp_mig_start_switch(struct sp_mig *mig)
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
