/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slicepool - member devices for the metadata v3 library (md3.c), and
 * the format-2 pool as the tool decodes it (fmt2.c).
 *
 * Kept apart from slicepool.h so that only the files that use md3 see
 * its headers.
 */
#ifndef SLICEPOOL_MD3DEV_H
#define SLICEPOOL_MD3DEV_H

#include <limits.h>

#include "slicepool.h"
#include "md3.h"

/* ---- md3dev.c: an md3_dev_ops over a file descriptor ---- */

/* spt_md3dev_open() flags */
#define SPT_MD3DEV_RW		0x1	/* else read only: writes fail -EROFS */
#define SPT_MD3DEV_EXCL		0x2	/* O_EXCL on a block device, flock on a file */

/*
 * One member device or image file.  md.ctx points back at the struct, so
 * it must not move while md is in use.
 */
struct spt_md3dev {
	struct md3_dev md;	/* ops, ctx, name (the path), dev_sectors */
	int fd;
	int oflags;		/* open(2) flags, for the reopen without O_DIRECT */
	bool direct;		/* O_DIRECT */
	bool blockdev;
	bool readonly;
	char path[PATH_MAX];
	void *bounce;		/* MD3_BLOCK_SIZE, aligned for O_DIRECT */
};

int spt_md3dev_open(struct spt_md3dev *d, const char *path, unsigned int flags,
		    char *why, size_t whylen);
void spt_md3dev_close(struct spt_md3dev *d);
/* Whole 4 KiB blocks at byte offset @off (a multiple of 4096). */
int spt_md3dev_pread(struct spt_md3dev *d, u64 off, void *buf, size_t len);
int spt_md3dev_pwrite(struct spt_md3dev *d, u64 off, const void *buf,
		      size_t len);
int spt_md3dev_flush(struct spt_md3dev *d);
/*
 * Test knob (the host tests only): after the @n-th successful block write
 * through any spt_md3dev of this process, _exit(SPT_MD3DEV_STOPPED) at
 * once, as a power cut after that write would leave the devices (every
 * write before it durable).  0 disarms it.  "slicepool upgrade" arms it
 * from $SLICEPOOL_TEST_STOP_AFTER_WRITES.
 */
#define SPT_MD3DEV_STOPPED	99
void spt_md3dev_stop_after(u64 n);

/* ---- md3dev.c: what a device holds (inspect and assemble) ---- */

enum spt_md_kind {
	SPT_MD_ERROR,	/* cannot be read, or refused: @err and @why */
	SPT_MD_NONE,	/* no slicepool metadata: @why */
	SPT_MD_FMT2,	/* a format-2 member: @m */
	SPT_MD_V3,	/* v3 labels: @d open, @pool_uuid, @member_uuid */
};

struct spt_md_probe {
	char path[PATH_MAX];
	int kind;		/* enum spt_md_kind */
	int err;		/* SPT_MD_ERROR: -errno; -EINVAL: refused */
	char why[640];
	struct spt_disk_member m;	/* SPT_MD_FMT2 */
	struct spt_md3dev d;		/* SPT_MD_V3: open until _close() */
	u8 pool_uuid[MD3_UUID_LEN];	/* SPT_MD_V3 */
	u8 member_uuid[MD3_UUID_LEN];	/* SPT_MD_V3 */
	u64 head_seq;			/* SPT_MD_V3: its newest link, or 0 */
};

/*
 * Reads what @path holds, without writing: format 2's superblock and
 * tables (sb.c), else the v3 labels and journal (md3_read_member()), the
 * device staying open read only for md3_assemble().  A device whose
 * format-2 metadata fails a check, or that an interrupted upgrade marked,
 * is SPT_MD_ERROR with -EINVAL.  @x must not move while @x->d is open
 * (md.ctx points at it).
 */
void spt_md_probe(struct spt_md_probe *x, const char *path);
void spt_md_probe_close(struct spt_md_probe *x);

/*
 * Block 0 of a member during an upgrade's phase A (cmd_upgrade.c): not
 * blank, not a format-2 superblock, not a v3 label.
 */
#define SPT_UPGRADE_MARK_MAGIC	0x50555053	/* "SPUP" */

/* ---- fmt2.c: a format-2 pool decoded from its members ---- */

/* One logical slice: member index into spt_fmt2_pool.members, or -1 */
struct spt_fmt2_slice {
	s64 member;
	u64 physical;
};

struct spt_fmt2_vol {
	struct spt_disk_vol rec;	/* the winning record; first */
	struct spt_fmt2_slice *map;	/* rec.nr_slices entries */
	u64 missing;			/* logical slices on no member given */
	u64 twice;			/* claimed twice by one attempt */
};

struct spt_fmt2_pool {
	char uuid[SPT_UUID_STR_LEN];
	char name[SPT_NAME_MAX + 1];
	u64 slice_sectors;
	struct spt_disk_member *members;	/* sorted by member name */
	size_t nr_members;
	struct spt_fmt2_vol *vols;		/* live volumes, by name */
	size_t nr_vols;
	u64 orphans;	/* owner records that are no claim, or lost */
};

/* The format-2 rules of fmt2.c (assemble.c uses them too). */
bool spt_fmt2_rec_newer(const struct spt_disk_vol *a,
			const struct spt_disk_vol *b);
bool spt_fmt2_is_claim(const struct spt_disk_vol *v,
		       const struct spt_disk_owner *o);
/*
 * The map of volume record @rec from the owner records of the @n members
 * @ms[i]: per logical slice the claim with the highest attempt id, the
 * first of a tie (member -1: none).  Counts the logical slices missing,
 * and claimed twice by one attempt, in @missing and @twice.  Returns the
 * map (@rec->nr_slices entries, to free).
 */
struct spt_fmt2_slice *spt_fmt2_map(const struct spt_disk_vol *rec,
				    const struct spt_disk_member *const *ms,
				    size_t n, u64 *missing, u64 *twice);
/*
 * Whether owner record @o of member @i is an orphan: @rec, the winning
 * live record of its volume (NULL: none), does not count it as a claim,
 * or @map (spt_fmt2_map() of @rec) keeps another claim of its slice.
 */
bool spt_fmt2_is_orphan(const struct spt_disk_vol *rec,
			const struct spt_fmt2_slice *map, size_t i,
			const struct spt_disk_owner *o);
/*
 * The index of the volume of uuid @uuid among the @n objects at @vols,
 * @stride bytes apart, each beginning with its winning record (struct
 * spt_disk_vol); @n if none.
 */
size_t spt_fmt2_vol_index(const void *vols, size_t n, size_t stride,
			  const char *uuid);
/*
 * Volume record @r into the @*n objects at @vols laid out the same way:
 * if none has its uuid, a new last one, zero but for @r (@*n grows);
 * else @r replaces its record if newer (spt_fmt2_rec_newer()). Returns
 * @vols, reallocated.
 */
void *spt_fmt2_vol_merge(void *vols, size_t *n, size_t stride,
			 const struct spt_disk_vol *r);
/*
 * Builds the pool of the @n members @ms (taken over: freed with the
 * pool), which must share one pool uuid and slice size: -EINVAL with
 * @why otherwise.
 */
int spt_fmt2_build(struct spt_disk_member *ms, size_t n,
		   struct spt_fmt2_pool *p, char *why, size_t whylen);
void spt_fmt2_free(struct spt_fmt2_pool *p);

/* A pending v3 move's fields (volume, first, count, cursor, mirror) */
void spt_md3_move_json(const struct md3_state *st, const struct md3_move *mv);

/*
 * One text line of pending move @mv of @st, for inspect and assemble:
 * "<lead><volume>, slices <first>-<last><cursor><copy cursor><tail>";
 * a NULL @tail is ", mirror" when the move mirrors, else "".
 */
void spt_md3_move_text(const struct md3_state *st, const struct md3_move *mv,
		       const char *lead, const char *cursor, const char *tail);

#endif /* SLICEPOOL_MD3DEV_H */
