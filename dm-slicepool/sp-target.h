/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: the target's own state, shared by its files: sp-target.c
 * (the table and the I/O path), sp-flush.c (the flush fan-out) and
 * sp-status.c (status and messages).  Nothing else includes it.
 */
#ifndef DM_SLICEPOOL_TARGET_H
#define DM_SLICEPOOL_TARGET_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "sp-core.h"
#include "sp-io.h"

/* One per table (ti->private). */
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

/*
 * The migration's hooks (sp_io_set_hooks()).  Set before the target is
 * registered and cleared after it is unregistered (module init and exit),
 * so no table exists while it changes: read without a lock.
 */
extern const struct sp_io_hooks *sp_hooks;

/*
 * The I/O epoch of a bio about to be counted, read before the map (under
 * rcu_read_lock()): if it is the epoch a drain flipped to, the acquire
 * pairs with the drain's release, and the map read after it is the one
 * published before the flip or a newer one; if it is the old epoch, the
 * drain waits for the count.  Either way no bio goes to a member after
 * the drain that followed its removal from the maps.
 */
static inline u8 sp_io_epoch(struct sp_volume *v)
{
	/* Pairs with the drains' smp_store_release(). */
	return smp_load_acquire(&v->io_epoch);
}

void sp_member_io_error(struct sp_volume *v, struct sp_member *m,
			blk_status_t err);

/* sp-flush.c */
int sp_map_flush(struct sp_target *t, struct bio *bio, struct sp_pbd *pbd);
void sp_flush_work(struct work_struct *work);
int sp_flush_init(void);
void sp_flush_exit(void);

/* sp-status.c */
void sp_target_status(struct dm_target *ti, status_type_t type,
		      unsigned int status_flags, char *result,
		      unsigned int maxlen);
int sp_target_message(struct dm_target *ti, unsigned int argc, char **argv,
		      char *result, unsigned int maxlen);

#endif
