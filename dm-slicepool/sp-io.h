/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: the I/O path's interface, owned by the target
 * (sp-target.c).  It declares the target's per-bio data and the hooks
 * through which the target calls the live migration (sp-mig-*.c), which
 * registers them at module init.  The target includes no header of the
 * migration and calls none of its functions by name; the migration calls
 * the target only through the functions declared at the end of this file.
 * See "I/O path" in Documentation/dm-slicepool.rst.
 */
#ifndef DM_SLICEPOOL_IO_H
#define DM_SLICEPOOL_IO_H

#include <linux/blk_types.h>
#include <linux/device-mapper.h>
#include <linux/list.h>

struct sp_member;
struct sp_mig;
struct sp_volume;

#define SP_NO_EPOCH	0xff

/*
 * Per-bio data of the target (ti->per_io_data_size): 48 bytes on 64-bit,
 * whether a migration runs or not.  map() sets m, epoch, mig and
 * hot_start (a read's start, sp-hot.h; a write's hot_start is the mlist
 * the migration may set after it); the other fields are written and read
 * only by the migration's hooks, for a write to a migrating slice, under
 * the job's lock or before the write is visible to anyone else.  A
 * mirrored write's destination leg is not here: it is allocated from the
 * job's bio_set (sp-mig-io.c).
 */
struct sp_pbd {
	struct sp_member *m;		/* member the bio went to, or NULL */
	union {
		/* a tracked write: the job end_io reports it to, or NULL */
		struct sp_mig *mig;
		/* a held bio: its target (end_io cannot run while held) */
		struct dm_target *ti;
	};
	union {
		struct list_head mlist;	/* a mirrored write, in the job's list */
		u64 hot_start;		/* a read: see sp_hot_read_start() */
	};
	u32 chunk;			/* first job chunk the write covers */
	u32 coff;			/* its start within that chunk, sectors */
	u32 len;			/* its length in sectors, at least 1 */
	u8 epoch;			/* I/O epoch counted, or SP_NO_EPOCH */
	bool mirror;			/* written to both sides */
	bool overlap;			/* see sp_cpx_mirror_done() */
};

/* What map() does with a bio while a migration job runs on its volume. */
enum sp_io_act {
	SP_IO_PASS,			/* remap it as usual */
	SP_IO_HELD,			/* the job holds it (the switch) */
	SP_IO_MIRROR,			/* remap it, then hooks->mirror() */
};

/*
 * The migration's entry points, called by the target.  map, mirror and
 * write_done run in the I/O path and neither allocate with a blocking
 * mask nor sleep.
 *
 * @map:         map() of a bio to logical slice @idx (offset @in) of a
 *               volume whose job is @mig (read under rcu_read_lock(),
 *               still held).  May fill the migration's fields of @pbd.
 * @mirror:      map() has remapped an SP_IO_MIRROR write to the source
 *               (after rcu_read_unlock(): the write is counted by the job,
 *               which outlives it).  True if map() returns
 *               DM_MAPIO_REMAPPED, false if the job took the bio
 *               (DM_MAPIO_SUBMITTED).
 * @write_done:  end_io of a write with pbd->mig set, whatever its status.
 * @postsuspend: a table of @v was suspended: return once no work item of
 *               the migration still runs for a bio of it.
 * @message:     "migrate ..." messages (argv after "migrate").
 * @status:      the " migration ..." part of the INFO status.
 * @volume_gone: the last table of @v is being destroyed.
 */
struct sp_io_hooks {
	enum sp_io_act (*map)(struct sp_mig *mig, struct dm_target *ti,
			      struct bio *bio, u64 idx, u32 in,
			      struct sp_pbd *pbd);
	bool (*mirror)(struct sp_mig *mig, struct bio *bio);
	void (*write_done)(struct sp_pbd *pbd, blk_status_t status);
	void (*postsuspend)(struct sp_volume *v);
	int (*message)(struct sp_volume *v, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen);
	void (*status)(struct sp_volume *v, char *result, unsigned int maxlen,
		       unsigned int *szp);
	void (*volume_gone)(struct sp_volume *v);
};

/* sp-target.c */
void sp_io_set_hooks(const struct sp_io_hooks *hooks);
int sp_target_remap(struct dm_target *ti, struct bio *bio);
unsigned int sp_target_lbs(struct sp_volume *v);

#endif /* DM_SLICEPOOL_IO_H */
