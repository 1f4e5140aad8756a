/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool claim fences of metadata format 2.
 *
 * The module no longer reads format 2 (a format-2 member is refused);
 * this pure integer code stays for the slicepool tool, whose "inspect"
 * and "upgrade" decode a format-2 pool with its claim rule, and for its
 * host unit tests (selftests/fence).  The on-disk form is struct
 * sp_fence in sp-format.h; the rule is described at the top of fence.c
 * and in "Format 2" in Documentation/dm-slicepool-metadata.rst.
 */
#ifndef DM_SLICEPOOL_FENCE_H
#define DM_SLICEPOOL_FENCE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#else
#include <errno.h>
#include <stdbool.h>
#endif

#include "sp-format.h"

/*
 * One fence in host byte order: slices [from, to), attempt ids up to id
 * (exact: id only).
 */
struct sp_fence_cpu {
	__u32 from;
	__u32 to;
	__u64 id;
	bool exact;
};

/* The fences of one volume, ids increasing. */
struct sp_fences {
	unsigned int nr;
	struct sp_fence_cpu f[SP_MAX_FENCES];
};

bool sp_fence_claim_ok(const struct sp_fences *fs, __u64 logical,
		       __u64 attempt);
int sp_fence_add(struct sp_fences *fs, __u32 from, __u32 to, __u64 id,
		 bool exact);
int sp_fences_check(const struct sp_fences *fs);
int sp_fences_decode(const struct sp_vol_record *rec, struct sp_fences *fs);

#endif /* DM_SLICEPOOL_FENCE_H */
