/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool slice placement.
 *
 * Pure integer code shared by the kernel module (linked into
 * dm-slicepool.ko) and the host unit tests (selftests/placement).  The rule
 * itself is documented at the top of placement.c.
 */
#ifndef DM_SLICEPOOL_PLACEMENT_H
#define DM_SLICEPOOL_PLACEMENT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/math64.h>
#include <linux/errno.h>
#else
#include <errno.h>

/* Same definitions as the kernel (asm-generic/int-ll64.h) */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}
#endif

/* Workload fixed point: SP_W_ONE is one percentage point. */
#define SP_W_ONE	1000U
/* Workload of a fully used / fully loaded candidate (100 %). */
#define SP_W_MAX	(100U * SP_W_ONE)
/*
 * Largest candidate array sp_place() and sp_place_order() accept: the
 * module's SP_MAX_MEMBERS (a pool's members, and so its domains).
 */
#define SP_PLACE_MAX	4096U

/**
 * struct sp_place_work - scratch space of sp_place() and sp_place_order()
 * @w:      workload by candidate index
 * @ord:    participants, lightest first (sp_place()), or the candidates
 *          with share left, by id (sp_place_order())
 * @rem:    remainder of each participant's ideal share (sp_place())
 *
 * Given by the caller (56 KiB: the kernel allocates it, never on the
 * stack); its content on return means nothing.  One at a time per call.
 */
struct sp_place_work {
	u32 w[SP_PLACE_MAX];
	u16 ord[SP_PLACE_MAX];
	u64 rem[SP_PLACE_MAX];
};

/**
 * struct sp_place_cand - one placement candidate (a domain or a member)
 * @id:    stable identifier, unique within one call; breaks ties
 * @free:  free slices
 * @total: total slices
 * @load:  measured access load in percent, 0..100 (larger is clamped)
 */
struct sp_place_cand {
	u32 id;
	u64 free;
	u64 total;
	u32 load;
};

/**
 * struct sp_place_params - pool placement policy
 * @w_space:    weight of space usage, 0..100
 * @w_load:     weight of access load, 0..100 (not both zero)
 * @min_spread: minimum number of candidates that receive slices
 *              (min_domains at domain level, 1 at member level)
 */
struct sp_place_params {
	u32 w_space;
	u32 w_load;
	u32 min_spread;
};

/* Most copies of a logical slice (md3.h's MD3_MAX_COPIES) */
#define SP_MAX_COPIES	3U

u32 sp_workload(const struct sp_place_cand *c,
		const struct sp_place_params *p);
int sp_place(const struct sp_place_cand *cand, unsigned int nr, u64 want,
	     const struct sp_place_params *p, u64 *share,
	     struct sp_place_work *ws);
int sp_place_order(const struct sp_place_cand *cand, const u64 *share,
		   unsigned int nr, u64 want, u32 *out_idx,
		   struct sp_place_work *ws);
unsigned int sp_place_domains(const struct sp_place_cand *cand,
			      unsigned int nr);
int sp_place_copies(const struct sp_place_cand *cand, unsigned int nr,
		    u64 want, u32 copies, const struct sp_place_params *p,
		    u64 *share, u32 *out_idx, struct sp_place_work *ws);

#endif /* DM_SLICEPOOL_PLACEMENT_H */
