/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool live migration: the job and its hooks in the I/O path.
 * See sp-migrate.c and "Live migration" in Documentation/dm-slicepool.rst.
 */
#ifndef DM_SLICEPOOL_MIGRATE_H
#define DM_SLICEPOOL_MIGRATE_H

#include <linux/bio.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "copyidx.h"

#define SP_NO_EPOCH	0xff

/* Per-bio data of the target. */
struct sp_pbd {
	struct sp_member *m;		/* member the bio went to, or NULL */
	struct sp_mig *mig;		/* job the write is reported to */
	unsigned long chunk;		/* first job chunk it covers */
	unsigned long nr_chunks;
	struct dm_target *ti;		/* a held bio's target */
	struct list_head mlist;		/* a mirrored write in mig->mirroring */
	sector_t msector;		/* a mirrored write's source sectors */
	u32 mlen;
	bool mirror;			/* written to both sides */
	bool overlap;			/* see sp_cpx_mirror_done() */
	u8 epoch;			/* I/O epoch counted, or SP_NO_EPOCH */
	/*
	 * A mirrored write's destination leg: a clone sharing the write's
	 * pages (bio_init_clone(), no allocation).  Last: struct bio ends
	 * in a flexible array.
	 */
	struct bio mclone;
};

/* What map() does with a write to a migrating slice. */
enum sp_mig_map {
	SP_MIG_PASS,			/* to the source, tracked */
	SP_MIG_HELD,			/* held by the switch */
	SP_MIG_MIRROR,			/* to both sides: sp_mig_mirror() */
};

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
	struct work_struct mirror_work;	/* issues deferred mirrored writes */
	wait_queue_head_t wait;		/* copies, writes, steps */
	struct completion done;		/* the job has ended */

	spinlock_t lock;		/* protects everything below */
	struct sp_cpx cpx;
	enum sp_mig_state state;
	bool stop;			/* abort requested */
	bool holding;			/* the switch holds writes */
	struct bio_list held;
	u64 held_count;
	struct bio_list mirror_queue;	/* mirrored writes for the worker */
	struct bio_list deferred;	/* mirrored writes waiting for copies */
	u64 deferred_count;		/* writes ever deferred */
	struct list_head mirroring;	/* their pbds, until completion */
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

/* sp-migrate.c */
int sp_mig_init(void);
void sp_mig_exit(void);
enum sp_mig_map sp_mig_map_write(struct sp_mig *mig, struct dm_target *ti,
				 struct bio *bio, u64 slot, u32 in,
				 struct sp_pbd *pbd);
bool sp_mig_mirror(struct sp_mig *mig, struct bio *bio);
void sp_mig_write_done(struct sp_pbd *pbd, blk_status_t status);
int sp_mig_message(struct sp_volume *v, unsigned int argc, char **argv,
		   char *result, unsigned int maxlen);
int sp_mig_extents(struct sp_volume *v, unsigned int argc, char **argv,
		   char *result, unsigned int maxlen);
void sp_mig_status(struct sp_volume *v, char *result, unsigned int maxlen,
		   unsigned int *szp);
void sp_mig_volume_gone(struct sp_volume *v);

/* sp-target.c */
int sp_map_bio_again(struct dm_target *ti, struct bio *bio);
unsigned int sp_target_lbs(struct sp_volume *v);

#endif /* DM_SLICEPOOL_MIGRATE_H */
