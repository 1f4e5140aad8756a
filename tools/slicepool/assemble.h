/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slicepool - assemble: the pools found on the members and what
 * assembling them does.  assemble.c scans (refusing format-2 devices)
 * and runs the configfs and device-mapper steps; assemble_md3.c decodes
 * the pools (a nowrite md3_assemble(), the winner rule the module runs)
 * into these structures; assemble_out.c prints the report.
 */
#ifndef SLICEPOOL_ASSEMBLE_H
#define SLICEPOOL_ASSEMBLE_H

#include "md3dev.h"

struct asm_refused {
	char device[256];
	char reason[640];
};

/* When a member's device is enabled (asm_member.pass) */
#define ASM_PASS_NEVER		(-1)	/* absent, forced out, or a bad name */
#define ASM_PASS_CURRENT	0	/* a current member: first */
#define ASM_PASS_STALE		1	/* a stale member: once the pool is rw */

struct asm_member {
	char name[MD3_NAME_LEN];	/* as recorded */
	char domain[MD3_NAME_LEN];	/* as recorded */
	char uuid[SPT_UUID_STR_LEN];
	const char *device;		/* the device found; NULL: none */
	u64 slices;
	u64 used;			/* slices in use */
	u32 id;				/* member id */
	int status;			/* enum md3_mstatus */
	int pass;			/* ASM_PASS_* */
	/*
	 * enabled, present, planned, failed, absent (no device found),
	 * stale (a stale member without device), forced-out (a device
	 * the module refuses: left alone) and diverged (its device is on
	 * a branch --prefer does not choose: left alone).
	 */
	const char *result;
};

#define ASM_MISSING_LIST	64

struct asm_vol {
	struct spt_disk_vol rec;	/* name, uuid, size, nr_slices */
	u64 found;
	u64 missing;
	u64 *missing_list;	/* up to ASM_MISSING_LIST entries */
	size_t nr_missing_list;
	s64 kernel_missing;	/* from the map after binding, -1 unknown */
	u64 id;			/* volume id */
	char dm_name[2 * SPT_NAME_MAX + 2];
	/* bound, present, planned, failed, read-only */
	const char *result;
};

struct asm_pool {
	char uuid[SPT_UUID_STR_LEN];
	char name[SPT_NAME_MAX + 1];
	u64 slice_sectors;
	struct asm_member *members;	/* by name */
	size_t nr_members;
	struct asm_vol *vols;
	size_t nr_vols;
	bool degraded;		/* slices missing, or read-only */
	bool readonly;		/* a current member is absent */
	/*
	 * force the pool read-write once its members are enabled: --force
	 * with current members absent, or --prefer giving up the current
	 * members whose devices are on a branch it does not choose
	 */
	bool force;
	/*
	 * every device found is a removed member's (skipped): the pool is
	 * not assembled, nor reported
	 */
	bool removed_only;
	struct md3_pool *md3;	/* the nowrite assembly */
	struct spt_md_probe **devs;	/* its devices (not owned) */
	size_t nr_devs;
	size_t actions;		/* steps taken (or planned) */
	char **errors;
	size_t nr_errors;
};

struct asm_state {
	bool dry_run;
	bool force;		/* --force */
	bool prefer;		/* --prefer MEMBER */
	u32 prefer_member;
	/* format-2 devices (refused), to name an interrupted upgrade */
	struct spt_disk_member *found;
	size_t nr_found;
	struct spt_md_probe **v3;	/* v3 devices, open */
	size_t nr_v3;
	struct asm_refused *refused;
	size_t nr_refused;
	struct asm_refused *dups;
	size_t nr_dups;
	/* devices of members removed from their pool (skipped) */
	struct asm_refused *removed;
	size_t nr_removed;
	/* devices on a branch --prefer does not choose (left out) */
	struct asm_refused *diverged;
	size_t nr_diverged;
	struct asm_pool *pools;
	size_t nr_pools;
	size_t actions;		/* asm_say() calls */
};

void asm_pool_err(struct asm_pool *p, const char *fmt, ...) __printf(2, 3);
void asm_add_refused(struct asm_refused **v, size_t *n, const char *dev,
		     const char *reason);
/* The pool of uuid @uuid, a new one if none. */
struct asm_pool *asm_pool_get(struct asm_state *s, const char *uuid);

/* assemble_out.c: the report */
void asm_print_text(const struct asm_state *s);
void asm_print_json(const struct asm_state *s);

/* assemble_md3.c */
/* Groups s->v3 by pool uuid into pools (duplicates dropped). */
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
 * The members, volumes and mode of pool @p; sets p->removed_only
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
