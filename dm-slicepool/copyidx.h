/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool migration copy index: which chunks are dirty.
 *
 * Pure C shared by the kernel module and the host unit tests
 * (selftests/copyidx).  The semantics and the ordering rule that makes
 * them safe are documented at the top of copyidx.c.  No function locks,
 * sleeps or allocates: the caller serialises all calls on one job (the
 * per-job spinlock in the kernel) and provides the bitmap memory.
 */
#ifndef DM_SLICEPOOL_COPYIDX_H
#define DM_SLICEPOOL_COPYIDX_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/bitops.h>
#include <linux/bitmap.h>
#else
#include "bitmap-user.h"
#endif

/* Largest number of chunks in one job (bitmap sizes are unsigned int). */
#define SP_CPX_MAX_CHUNKS	0x7fffffffUL

/**
 * enum sp_cpx_mode - how completed user writes are recorded
 * @SP_CPX_FILTER: no bit for a chunk that is planned in this pass and not
 *                 yet claimed by the copy (the default)
 * @SP_CPX_CLEAR:  every write sets its bits; a claim clears the bit of the
 *                 chunk it claims
 * @SP_CPX_NONE:   every write sets its bits (baseline)
 */
enum sp_cpx_mode {
	SP_CPX_FILTER = 0,
	SP_CPX_CLEAR,
	SP_CPX_NONE,
};

/**
 * struct sp_cpx_extent - a run of set bits
 * @start: first chunk of the run
 * @len:   number of chunks in the run, at least 1
 */
struct sp_cpx_extent {
	unsigned long start;
	unsigned long len;
};

/**
 * struct sp_cpx - copy index of one migration job
 * @plan:        chunks planned in this pass and not yet copied; a set bit
 *               below @cursor is a chunk in flight
 * @dirty:       the two dirty bitmaps; @dirty[@active] records this pass,
 *               the other one (passive) holds this pass's plan as made at
 *               its start
 * @active:      index of the active dirty bitmap, 0 or 1
 * @mode:        enum sp_cpx_mode
 * @nr_chunks:   chunks in the job, 1..SP_CPX_MAX_CHUNKS
 * @cursor:      claims continue at this chunk
 * @pass:        pass number, from 1
 * @nr_planned:  chunks planned for this pass
 * @nr_pending:  planned chunks not yet claimed
 * @nr_inflight: claimed chunks whose copy is not done
 * @nr_dirty:    bits set in the active dirty bitmap
 * @writes_seen: completed user writes reported (sp_cpx_write_done() calls
 *               that cover at least one chunk of the job)
 * @dirty_set:   dirty bits newly set (0 -> 1) by writes or failed copies
 * @filtered:    chunk writes not recorded because of the filter
 * @cleared:     dirty bits cleared by a claim (SP_CPX_CLEAR only)
 * @copied:      copies completed, all passes
 * @recopied:    copies completed in passes >= 2
 * @failed:      copies reported failed (their chunks are marked dirty)
 * @mirrored:    mirrored writes that needed no bit (no copy of their
 *               chunks overlapped them; sp_cpx_mirror_done())
 *
 * All fields may be read by the caller under its lock (status); only the
 * functions below change them.
 */
struct sp_cpx {
	unsigned long *plan;
	unsigned long *dirty[2];
	unsigned int active;
	enum sp_cpx_mode mode;
	unsigned long nr_chunks;
	unsigned long cursor;
	unsigned int pass;
	unsigned long nr_planned;
	unsigned long nr_pending;
	unsigned long nr_inflight;
	unsigned long nr_dirty;
	u64 writes_seen;
	u64 dirty_set;
	u64 filtered;
	u64 cleared;
	u64 copied;
	u64 recopied;
	u64 failed;
	u64 mirrored;
};

size_t sp_cpx_mem_bytes(unsigned long nr_chunks);
int sp_cpx_init(struct sp_cpx *j, unsigned long nr_chunks,
		enum sp_cpx_mode mode, unsigned long *mem);
int sp_cpx_plan_range(struct sp_cpx *j, unsigned long first,
		      unsigned long count);
int sp_cpx_plan_bitmap(struct sp_cpx *j, const unsigned long *map);
bool sp_cpx_claim_next(struct sp_cpx *j, unsigned long *chunk);
int sp_cpx_copy_done(struct sp_cpx *j, unsigned long chunk);
int sp_cpx_copy_failed(struct sp_cpx *j, unsigned long chunk);
void sp_cpx_write_done(struct sp_cpx *j, unsigned long first,
		       unsigned long count);
void sp_cpx_mirror_done(struct sp_cpx *j, unsigned long first,
			unsigned long count, bool overlapped);
bool sp_cpx_ahead(const struct sp_cpx *j, unsigned long first,
		  unsigned long count);
long sp_cpx_end_pass(struct sp_cpx *j);
unsigned int sp_cpx_next_extents(const struct sp_cpx *j, unsigned long from,
				 struct sp_cpx_extent *out, unsigned int max,
				 unsigned long *next);

/* Plan every chunk of the job (pass 1). */
static inline int sp_cpx_plan_all(struct sp_cpx *j)
{
	return sp_cpx_plan_range(j, 0, j->nr_chunks);
}

/* Chunks of this pass not yet copied: unclaimed plus in flight. */
static inline unsigned long sp_cpx_remaining(const struct sp_cpx *j)
{
	return j->nr_pending + j->nr_inflight;
}

/* The passive dirty bitmap: this pass's plan as made at its start. */
static inline const unsigned long *sp_cpx_passive(const struct sp_cpx *j)
{
	return j->dirty[!j->active];
}

#endif /* DM_SLICEPOOL_COPYIDX_H */
