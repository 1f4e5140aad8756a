/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool live migration: the job, shared by the files that run it:
 *   sp-mig-ctl.c     messages, parsing, start, abort, the job's end,
 *                    status, module init (hooks registration)
 *   sp-mig-io.c      the I/O hooks: write tracking, held writes,
 *                    mirrored writes and their destination legs
 *   sp-mig-copy.c    the copy engine: passes of dm-kcopyd chunk copies,
 *                    throttle and pacing
 *   sp-mig-switch.c  the switch: hold, copy the rest, commit, release
 * The target reaches the migration only through struct sp_io_hooks
 * (sp-io.h).  See "Live migration" in Documentation/dm-slicepool.rst.
 */
#ifndef DM_SLICEPOOL_MIG_H
#define DM_SLICEPOOL_MIG_H

#include <linux/bio.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "copyidx.h"
#include "sp-io.h"

enum sp_mig_state {
	SP_MIG_COPYING,
	SP_MIG_SWITCHING,
	SP_MIG_DONE,
	SP_MIG_ABORTED,
	SP_MIG_FAILED,
};

struct sp_mig_copy {
	struct sp_mig *mig;
	unsigned long chunk;
	unsigned long issued_j;		/* jiffies when issued */
	ktime_t issued;
	ktime_t ready;			/* pacing: no new copy before */
};

#define SP_MIG_SLOTS	8
#define SP_MIG_MIRROR_POOL	16	/* bios reserved for mirror legs */

/*
 * A migration job.  Lifetime: published in v->mig (RCU) while it copies
 * and switches; unpublished, then kept as v->mig_last for status until
 * the next job of the volume starts (freed with kfree_rcu() after it is
 * replaced) or the volume is freed.  The I/O path reaches it only under
 * rcu_read_lock() from v->mig, or through a tracked write (pbd->mig),
 * which the job counts in inflight_writes and waits for before it frees
 * anything (sp_mig_unpublish(), the switch).
 */
struct sp_mig {
	struct rcu_head rcu;
	struct sp_volume *vol;
	u64 first, count;		/* logical slices [first, first+count) */
	struct sp_extent *src, *dst;	/* count entries each */
	u32 chunk_sectors;
	u32 chunks_per_slice;
	bool manual;			/* copies only on "migrate step" */
	bool pipeline;			/* manual: keep the next one claimed */
	bool mirror;			/* mirror writes to copied chunks */
	u32 threshold, max_passes;
	u32 depth;			/* copies in flight, 1..SP_MIG_SLOTS */
	u32 busy_share;			/* pacing, percent (100: none) */
	/*
	 * jiffies of the volume's latest bio seen by map(): no lock, a hint
	 * for pacing (WRITE_ONCE() in map(), READ_ONCE() at copy ends).
	 */
	unsigned long fg_stamp;
	char dest[SP_NAME_MAX + 8];
	struct dm_kcopyd_client *kc;
	unsigned long *bits;		/* the copy index's memory */
	struct delayed_work work;	/* copy worker */
	struct work_struct switch_work;
	struct work_struct mirror_work;	/* issues queued mirrored writes */
	/*
	 * The destination legs of mirrored writes: bios without vecs
	 * (bio_alloc_clone() shares the write's pages), from a mempool of
	 * SP_MIG_MIRROR_POOL reserved bios.  Set up when the job starts,
	 * freed when it ends (every leg has been put by then).
	 */
	struct bio_set bs;
	wait_queue_head_t wait;		/* copies, writes, steps */
	struct completion done;		/* the job has ended */

	spinlock_t lock;		/* protects everything below */
	struct sp_cpx cpx;
	enum sp_mig_state state;
	bool stop;			/* abort requested */
	bool holding;			/* the switch holds writes */
	struct bio_list held;
	u64 held_count;
	/* started mirrored writes whose legs the worker issues */
	struct bio_list mirror_queue;
	struct bio_list deferred;	/* mirrored writes waiting for copies */
	u64 deferred_count;		/* writes ever deferred */
	u64 nowait_fallbacks;		/* legs left to the worker (no bio) */
	struct list_head mirroring;	/* started ones' pbds, to completion */
	u64 mirror_errors;		/* legs that failed, on either side */
	unsigned long inflight_writes;	/* tracked, not completed */
	unsigned int copies;		/* kcopyd jobs in flight */
	unsigned int slot_busy;		/* bits of slots[] in use */
	struct sp_mig_copy slots[SP_MIG_SLOTS];
	unsigned long step_budget;	/* manual: chunks still to copy */
	unsigned long next_claim;	/* pipeline: claimed, not issued */
	bool has_next_claim;
	u32 rate;			/* MiB/s, 0: unlimited */
	u64 tokens;			/* throttle: sectors allowed */
	unsigned long refill;		/* throttle: jiffies of last refill */
	u64 bytes_copied;
	u64 paced_ns;			/* pauses pacing scheduled */
	u64 copy_errors;
	ktime_t hold_start;
	s64 hold_us;			/* how long writes were held */
	unsigned int passes;		/* ended passes that copied chunks */
	int error;
};

/*
 * map(): the volume has I/O while a job runs (pacing).  At most one store
 * per jiffy and CPU, so the line is mostly read.
 */
static inline void sp_mig_note_io(struct sp_mig *mig)
{
	unsigned long now = jiffies;

	if (READ_ONCE(mig->fg_stamp) != now)
		WRITE_ONCE(mig->fg_stamp, now);
}

/* The number of job chunks a tracked write covers. */
static inline u32 sp_pbd_nr_chunks(const struct sp_mig *mig,
				   const struct sp_pbd *pbd)
{
	return (pbd->coff + pbd->len - 1) / mig->chunk_sectors + 1;
}

/*
 * Workqueues (sp-mig-ctl.c), both WQ_MEM_RECLAIM: held and mirrored
 * writes depend on them.  sp_mig_wq runs the copy worker and the switch
 * (long: the switch waits for copies and writes); sp_mig_io_wq runs only
 * the mirror worker, which never waits for anything but a bio from the
 * job's bio_set, so that its rescuer always makes progress.
 */
extern struct workqueue_struct *sp_mig_wq;
extern struct workqueue_struct *sp_mig_io_wq;

/* sp-mig-io.c */
enum sp_io_act sp_mig_map(struct sp_mig *mig, struct dm_target *ti,
			  struct bio *bio, u64 idx, u32 in, struct sp_pbd *pbd);
bool sp_mig_mirror(struct sp_mig *mig, struct bio *bio);
void sp_mig_write_done(struct sp_pbd *pbd, blk_status_t status);
void sp_mig_postsuspend(struct sp_volume *v);
void sp_mig_mirror_work(struct work_struct *w);
void sp_mig_mark_overlaps(struct sp_mig *mig, unsigned long chunk);
bool sp_mig_undefer(struct sp_mig *mig);

/* sp-mig-copy.c */
void sp_mig_kick(struct sp_mig *mig, unsigned long delay);
void sp_mig_work(struct work_struct *w);
int sp_mig_copy_rest(struct sp_mig *mig);

/* sp-mig-switch.c */
void sp_mig_start_switch(struct sp_mig *mig);
void sp_mig_switch_work(struct work_struct *w);

/* sp-mig-ctl.c */
void sp_mig_unpublish(struct sp_mig *mig);
void sp_mig_finish(struct sp_mig *mig, enum sp_mig_state state, int error);

#endif /* DM_SLICEPOOL_MIG_H */
