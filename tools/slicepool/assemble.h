/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slicepool - assemble: the pools found on the members and what
 * assembling them does, for both metadata formats.  assemble.c scans,
 * decodes format 2 and runs the configfs and device-mapper steps;
 * assemble_md3.c decodes format 3 (a nowrite md3_assemble(), the winner
 * rule the module runs) into the same structures; assemble_out.c prints
 * the report.
 */
#ifndef SLICEPOOL_ASSEMBLE_H
#define SLICEPOOL_ASSEMBLE_H

#include "md3dev.h"

struct asm_refused {
	char device[256];
	char reason[640];
};

/* Format 3: when a member's device is enabled (asm_member.pass) */
#define ASM_PASS_NEVER		(-1)	/* absent, forced out, or a bad name */
#define ASM_PASS_CURRENT	0	/* a current member: first */
#define ASM_PASS_STALE		1	/* a stale member: once the pool is rw */

struct asm_member {
	char name[MD3_NAME_LEN];	/* as recorded */
	char domain[MD3_NAME_LEN];	/* as recorded */
	char uuid[SPT_UUID_STR_LEN];
	const char *device;		/* the device found; NULL: none */
	u64 slices;
	u64 used;			/* format 3: slices in use */
	const struct spt_disk_member *d;	/* format 2: its metadata */
	u32 id;				/* format 3: member id */
	int status;			/* format 3: enum md3_mstatus */
	int pass;			/* format 3: ASM_PASS_* */
	/*
	 * enabled, present, planned, failed; format 3 also absent (no
	 * device found), stale (a stale member without device) and
	 * forced-out (a device the module refuses: left alone).
	 */
	const char *result;
};

#define ASM_MISSING_LIST	64

struct asm_vol {
	struct spt_disk_vol rec;	/* winning record; first (vol_by_uuid) */
	u64 found;
	u64 missing;
	u64 twice;		/* logical slices claimed twice by one attempt */
	struct spt_fmt2_slice *map;	/* format 2: the claims kept */
	u64 *missing_list;	/* up to ASM_MISSING_LIST entries */
	size_t nr_missing_list;
	s64 kernel_missing;	/* from the map after binding, -1 unknown */
	u64 id;			/* format 3: volume id */
	char dm_name[2 * SPT_NAME_MAX + 2];
	/* bound, present, planned, failed; format 3 also read-only */
	const char *result;
};

struct asm_pool {
	int format;			/* 2 or 3 */
	char uuid[SPT_UUID_STR_LEN];
	char name[SPT_NAME_MAX + 1];
	u64 slice_sectors;
	u64 best_gen;
	struct asm_member *members;	/* by name */
	size_t nr_members;
	struct asm_vol *vols;
	size_t nr_vols;
	u64 orphans;
	const char *reclaim;	/* done, skipped, planned, failed; NULL: v3 */
	s64 reclaimed;		/* slices the module freed, -1 unknown */
	bool degraded;		/* slices missing, or read-only */
	bool readonly;		/* format 3: a current member is absent */
	/*
	 * format 3: every device found is a removed member's (skipped): the
	 * pool is not assembled, nor reported
	 */
	bool removed_only;
	struct md3_pool *md3;	/* format 3: the nowrite assembly */
	struct spt_md_probe **devs;	/* format 3: its devices (not owned) */
	size_t nr_devs;
	size_t actions;		/* steps taken (or planned) */
	char **errors;
	size_t nr_errors;
};

struct asm_state {
	bool dry_run;
	struct spt_disk_member *found;	/* format 2 */
	size_t nr_found;
	struct spt_md_probe **v3;	/* format 3 devices, open */
	size_t nr_v3;
	struct asm_refused *refused;
	size_t nr_refused;
	struct asm_refused *dups;
	size_t nr_dups;
	/* format 3: devices of members removed from their pool (skipped) */
	struct asm_refused *removed;
	size_t nr_removed;
	struct asm_pool *pools;
	size_t nr_pools;
	size_t actions;		/* asm_say() calls */
};

void asm_pool_err(struct asm_pool *p, const char *fmt, ...) __printf(2, 3);
void asm_add_refused(struct asm_refused **v, size_t *n, const char *dev,
		     const char *reason);
/* The pool of uuid @uuid (format @format), a new one if none. */
struct asm_pool *asm_pool_get(struct asm_state *s, int format,
			      const char *uuid);

/* assemble_out.c: the report */
void asm_print_text(const struct asm_state *s);
void asm_print_json(const struct asm_state *s);

/* assemble_md3.c */
/* Groups s->v3 by pool uuid into pools of format 3 (duplicates dropped). */
void asm_md3_group(struct asm_state *s);
/*
 * The member of winning state @st that device @pd held, when @pd is a
 * member removed from its pool: the winner rule does not take it (its own
 * journal does not list it as a member, or the winning state does not),
 * and @st records that member, by id and uuid, as removed.  NULL
 * otherwise (an interrupted add, whose member id the winning state does
 * not hold with its uuid, a diverged copy, damaged metadata).
 */
const struct md3_member *asm_md3_removed(const struct md3_state *st,
					 const struct md3_pdev *pd);
/*
 * The members, volumes and mode of format-3 pool @p; sets p->removed_only
 * when every device of @p is a removed member's.
 */
void asm_md3_analyse(struct asm_state *s, struct asm_pool *p);
void asm_md3_print_text(const struct asm_pool *p);
void asm_md3_json_member(const struct asm_member *m);
void asm_md3_json_pool(const struct asm_pool *p);
void asm_md3_free(struct asm_pool *p);

/* cmd_image.c: re-create a format-3 pool's thin-pool and recorded clones */
void spt_image_assemble(struct asm_pool *p, bool dry_run);

#endif /* SLICEPOOL_ASSEMBLE_H */
