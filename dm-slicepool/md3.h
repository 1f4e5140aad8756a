/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool pool metadata v3: state, journal, commit and assembly.
 *
 * Pure C shared by the kernel module, the slicepool tool and the host
 * crash simulator (selftests/crashsim).  The library does no I/O of its
 * own: members are reached through struct md3_dev_ops (read block, write
 * block, flush), backed by dm-bufio/dm-io in the kernel and by simulated
 * disks on the host.  The format, the commit rule and the winner rule are
 * documented in Documentation/dm-slicepool-metadata.rst; the winner rule
 * is implemented once, in md3_assemble().
 *
 * Locking: none.  The caller serialises every call on one struct md3_pool.
 */
#ifndef DM_SLICEPOOL_MD3_H
#define DM_SLICEPOOL_MD3_H

#include "md3-port.h"
#include "md3-format.h"

#define MD3_NAME_LEN		64	/* member, volume, domain names: NUL padded */
#define MD3_POOL_NAME_LEN	64
#define MD3_NO_MEMBER		0xffffffffU	/* a missing map entry */
#define MD3_NO_DOMAIN		0xffffffffU	/* md3_domain_find(): none */

/* Member status in the state */
enum md3_mstatus {
	MD3_CURRENT = 0,
	MD3_STALE = 1,
	MD3_REMOVED = 2,
};

/* Why a member is STALE */
enum md3_reason {
	MD3_R_NONE = 0,
	MD3_R_ABSENT = 1,
	MD3_R_FAILED = 2,
	MD3_R_FORCED = 3,
};

/* Operation codes, recorded in each delta (informational) */
enum md3_opcode {
	MD3_OP_FORMAT = 1, MD3_OP_CREATE, MD3_OP_EXPAND, MD3_OP_SHRINK,
	MD3_OP_DELETE, MD3_OP_MOVE_BEGIN, MD3_OP_MOVE_PROGRESS,
	MD3_OP_MOVE_COMMIT, MD3_OP_MOVE_ABORT, MD3_OP_MEMBER_ADD,
	MD3_OP_MEMBER_GROW, MD3_OP_MEMBER_REMOVE, MD3_OP_MEMBER_STALE,
	MD3_OP_MEMBER_REJOIN, MD3_OP_FORCE, MD3_OP_SETTINGS, MD3_OP_VOL_FLAGS,
	MD3_OP_CLONE_ADD, MD3_OP_CLONE_DEL, MD3_OP_MEMBER_FLAGS,
	MD3_OP_VOL_COPIES, MD3_OP_LEG_ADD, MD3_OP_LEG_DROP, MD3_OP_LEG_STALE,
	MD3_OP_LEG_INSYNC, MD3_OP_CLONE_MOVE,
};

/*
 * One slice of a volume's map, or one leg (copy) of a logical slice of a
 * volume with copies > 1.  @flags is in memory only (MAP and LEGS
 * entries hold member and pslice; LEG_STALE records set the mark).
 */
struct md3_slice {
	u32 member;		/* MD3_NO_MEMBER: missing */
	u32 flags;		/* MD3_LEG_* */
	u64 pslice;
};

/*
 * MD3_LEG_STALE: the leg missed writes (or was added and not yet copied):
 * it is never read as current until md3_legs_set_stale(..., false) marks
 * it in sync.  Cleared when the leg is dropped.
 */
#define MD3_LEG_STALE		0x1
#define MD3_LEG_FLAGS		MD3_LEG_STALE	/* every known flag */
#define MD3_MAX_COPIES		3

/* Chunked bitmap of a member's used physical slices (in memory only). */
struct md3_bitmap {
	u64 nbits;
	u64 nchunks;
	unsigned long **chunk;	/* NULL chunk: all bits clear */
	u32 *used;		/* set bits per chunk */
};

/* A failure domain: members with the same one may fail together. */
struct md3_domain {
	u32 id;			/* never reused; domains are never deleted */
	char label[MD3_NAME_LEN];	/* unique, non-empty */
};

struct md3_member {
	u32 id;
	u32 status;		/* enum md3_mstatus */
	u32 reason;		/* enum md3_reason, when STALE */
	u32 domain;		/* id of a struct md3_domain of the state */
	u64 stale_seq;		/* seq of the transaction that marked it */
	u64 joined_seq;		/* seq that added it or made it CURRENT again */
	u64 stale_mark;		/* identity of the STALE mark (md3_mark_id) */
	u64 nr_slices;
	u64 data_offset;
	u8 uuid[MD3_UUID_LEN];
	char name[MD3_NAME_LEN];
	u32 flags;		/* MD3_MEMBER_* */
	struct md3_bitmap used;	/* derived */
};

/*
 * Member flags (the MEMBER record's flags, appended to it: a record
 * written before reads as 0).  MD3_MEMBER_DRAIN: the member takes no new
 * slice (the module's "drain"); an operator's setting, which the pool
 * keeps until it is cleared.
 */
#define MD3_MEMBER_DRAIN	0x1
#define MD3_MEMBER_FLAGS	MD3_MEMBER_DRAIN	/* every known flag */

struct md3_volume {
	u64 id;
	u64 size_bytes;
	u64 nr_slices;
	u8 uuid[MD3_UUID_LEN];
	char name[MD3_NAME_LEN];
	u32 flags;		/* MD3_VOL_* */
	u32 copies;		/* 1 .. MD3_MAX_COPIES (COPIES record; 1 without) */
	struct md3_slice *map;	/* leg 0 of each logical slice */
	/*
	 * copies > 1: legs 1 .. copies - 1 of each logical slice, slice
	 * major (md3_leg()); NULL while copies is 1.  An empty leg
	 * (member MD3_NO_MEMBER) is a copy not placed yet (or dropped).
	 */
	struct md3_slice *legs;
};

/* Leg @k (0 .. copies - 1) of logical slice @i of volume @v */
static inline struct md3_slice *md3_leg(const struct md3_volume *v, u64 i,
					u32 k)
{
	return k ? &v->legs[i * (v->copies - 1) + k - 1] : &v->map[i];
}

/* One leg of one logical slice of a volume (md3_legs_set_stale()) */
struct md3_leg_ref {
	u64 vol;
	u64 slice;
	u32 leg;
};

/*
 * Volume flags (struct md3_volume.flags, persisted in the VOLUME record).
 * MD3_VOL_IMAGE: the volume is an image, read-only for good (set once by
 * md3_vol_set_flags(), never cleared).
 */
#define MD3_VOL_IMAGE		0x1
#define MD3_VOL_FLAGS		MD3_VOL_IMAGE	/* every known flag */

/* Move flags (struct md3_move.flags, persisted in the MOVE record) */
#define MD3_MOVE_MIRROR		0x1	/* writes go to source and destination */
#define MD3_MOVE_FLAGS		MD3_MOVE_MIRROR	/* every known flag */

struct md3_move {
	u64 vol;
	u64 first;
	u64 count;
	u64 cursor;		/* persisted copy cursor (chunk index) */
	u32 flags;		/* MD3_MOVE_* */
	struct md3_slice *dst;
};

/*
 * One STALE mark ever made on this branch of the pool's history: which
 * member, the seq of the transaction that made it, and its identity
 * (md3_mark_id).  The log is what the winner rule compares: a branch that
 * holds a mark another branch never saw has forked from it.
 */
struct md3_mark {
	u32 member;
	u64 seq;
	u64 mark;
};

/*
 * A clone of an image: a dm-thin thin device (id @thin_id in the pool's
 * thin-pool) whose external origin is image volume @image.  Names are
 * unique in the pool, and so are thin ids; the image's reference count is
 * the number of clones naming it (md3_clone_count()).
 */
#define MD3_THIN_ID_MAX		0xffffffU	/* dm-thin's 24-bit device ids */

struct md3_clone {
	u64 image;		/* id of a volume with MD3_VOL_IMAGE */
	u32 thin_id;
	u64 sectors;		/* the thin device's length, not 0 */
	char name[MD3_NAME_LEN];	/* non-empty, unique */
};

struct md3_pool_rec {
	u8 uuid[MD3_UUID_LEN];
	char name[MD3_POOL_NAME_LEN];
	u64 slice_sectors;
	u64 next_volume_id;
	u32 next_member_id;
	u32 w_space;
	u32 w_load;
	u32 min_domains;
};

/* The whole pool metadata: the result of transactions 1 .. seq. */
struct md3_state {
	u64 seq;
	u64 hash;
	struct md3_pool_rec pool;
	u32 nr_domains;			/* sorted by id */
	struct md3_domain *domains;
	u32 nr_members;			/* sorted by id */
	struct md3_member *members;
	u64 nr_volumes;			/* sorted by id */
	struct md3_volume *vols;
	u64 nr_moves;
	struct md3_move *moves;
	u64 nr_marks;			/* in the order they were made */
	struct md3_mark *marks;
	u64 nr_clones;			/* in the order they were added */
	struct md3_clone *clones;
	u32 cap_members;
	u64 cap_domains;
	u64 cap_volumes;
	u64 cap_moves;
	u64 cap_marks;
	u64 cap_clones;
};

/* Access to one member device. Blocks are MD3_BLOCK_SIZE bytes. */
struct md3_dev_ops {
	int (*read)(void *ctx, u64 block, void *buf);
	int (*write)(void *ctx, u64 block, const void *buf);
	int (*flush)(void *ctx);	/* REQ_PREFLUSH | REQ_FUA semantics */
};

struct md3_dev {
	const struct md3_dev_ops *ops;
	void *ctx;
	const char *name;		/* for messages */
	u64 dev_sectors;
};

/* One (seq, hash) of a chain */
struct md3_link {
	u64 seq;
	u64 hash;
};

/* What a member's journal holds (md3_read_member). */
enum md3_chain_kind {
	MD3_CHAIN_OK = 0,
	MD3_CHAIN_BLANK,	/* no v3 label: not a member */
	MD3_CHAIN_V2,		/* format 2: refused, run slicepool upgrade */
	MD3_CHAIN_FOREIGN,	/* another pool */
	MD3_CHAIN_DAMAGED,	/* label valid, journal unreadable */
	MD3_CHAIN_ORPHAN,	/* its own journal does not list it */
};

struct md3_chain {
	int kind;
	u8 pool_uuid[MD3_UUID_LEN];
	u8 member_uuid[MD3_UUID_LEN];
	u32 member_id;
	u32 epoch;
	u64 label_seq;
	u64 journal_start;
	u64 journal_blocks;
	u64 data_offset;
	u64 hint_block;		/* protected checkpoint (label hint) */
	u64 head_block;		/* next ring index to write */
	u64 used_blocks;	/* hint_block .. head_block */
	u64 base_pos;		/* ring index of the base checkpoint */
	u64 nlinks;		/* links[0] is the base checkpoint */
	struct md3_link *links;
	u64 bad_block;		/* DAMAGED: the block that failed */
	const char *why;	/* DAMAGED / refusal reason */
	/*
	 * A label block that is not blank and not valid beside the valid
	 * one read (block + 1; 0: none), and why: reported, not fatal.
	 */
	u64 bad_label;
	const char *bad_label_why;
};

/* Assembly result per member device */
enum md3_dev_role {
	MD3_ROLE_INSYNC = 0,	/* on the winning chain, caught up */
	MD3_ROLE_LAGGING,	/* compatible prefix; caught up when read-write */
	MD3_ROLE_DIVERGED,	/* on a dominated branch; ignored */
	MD3_ROLE_NOT_MEMBER,	/* not a member of the winning state */
	MD3_ROLE_UNUSABLE,	/* blank, format 2, foreign or damaged */
	MD3_ROLE_STALE,		/* a STALE member's copy: ignored until rejoin */
};

struct md3_pdev {
	struct md3_dev dev;
	struct md3_chain chain;
	int role;		/* enum md3_dev_role */
	bool failed;		/* an I/O error since assembly */
	u64 fork_seq;		/* DIVERGED: last common seq (0: unknown) */
	/*
	 * ORPHAN of an add that never committed, safe to format again
	 * (md3_readd()): its head is on the winning chain (it holds no
	 * newer state), the winning state does not know its member, and
	 * the winner was decided with every CURRENT member present, not
	 * forced nor preferred.
	 */
	bool readd;
};

enum md3_mode {
	MD3_MODE_REFUSED = 0,
	MD3_MODE_RO,
	MD3_MODE_RW,
};

/* Test-only protocol mutants (host builds; see selftests/crashsim). */
#define MD3_FAULT_NOFLUSH	0x01	/* acknowledge without flushing */
#define MD3_FAULT_AROUND	0x02	/* write around absent/failed members */
#define MD3_FAULT_NODOMINATE	0x04	/* at a fork pick the longest chain */
#define MD3_FAULT_OVERWRITE	0x08	/* ignore the protected checkpoint */
#define MD3_FAULT_REUSE_IDS	0x10	/* reuse removed member ids */
#define MD3_FAULT_UNNEEDED	0x20	/* 4a: count devices @k never needed */
#define MD3_FAULT_HOLE		0x40	/* rejoin at our head, past a hole */
#define MD3_FAULT_NOSTALE	0x80	/* a leg's stale mark kept in memory only */

struct md3_pool {
	struct md3_state st;
	int mode;			/* enum md3_mode */
	/*
	 * Assembly: the mode the winner rule gave, before the assembly
	 * wrote anything (catch-up, marks): what a writing assembly does,
	 * also in nowrite mode (where @mode is never MD3_MODE_RW).
	 */
	int verdict;
	struct md3_link winner;		/* the winning head (seq 0: none) */
	u32 nr_devs;
	struct md3_pdev *devs;
	u64 bytes_written;		/* metadata bytes, all members */
	u64 blocks_written;
	char msg[1024];			/* assembly / refusal report */
	unsigned int faults;		/* MD3_FAULT_*, host tests only */
	/* called after each transaction is durable (host tests) */
	void (*on_commit)(void *arg, const struct md3_state *st);
	void *on_commit_arg;
};

struct md3_assemble_opts {
	bool force;		/* mark absent CURRENT members STALE(forced) */
	bool prefer;		/* resolve a fork in favour of prefer_member */
	u32 prefer_member;
	/*
	 * Read only: never write or flush a device (no catch-up, no FORCE
	 * or STALE transaction); the pool comes up at most read-only, with
	 * the winner and the verdict a writing assembly would reach.  For
	 * inspection (the tool) and read-only activation.
	 */
	bool nowrite;
	bool have_uuid;		/* else: the pool of the first v3 member */
	u8 pool_uuid[MD3_UUID_LEN];
	unsigned int faults;
};

/*
 * Geometry for formatting a member; a zero field takes the default.  A
 * converted format-2 member keeps its data where it is: @data_offset and
 * @nr_slices from its superblock, the journal in the room before the data.
 */
struct md3_geom {
	u64 journal_blocks;	/* 0: the default, or the room before a
				 * given @data_offset if less
				 */
	u64 data_offset;	/* sectors, 1 MiB aligned; 0: after the journal */
	u64 nr_slices;		/* 0: as many as fit on the device */
	u64 slice_sectors;	/* 0 or the pool's (one slice size per pool) */
};

#define MD3_MIN_JOURNAL		8	/* blocks: smaller rings are refused */

/* Library */
u64 md3_hash(u64 prev, u64 seq, const void *p, size_t len);
u64 md3_default_journal_blocks(u64 dev_sectors);

void md3_state_init(struct md3_state *st);
void md3_state_free(struct md3_state *st);
int md3_state_encode(const struct md3_state *st, u8 **buf, size_t *len);
int md3_state_apply(struct md3_state *st, const u8 *p, size_t len);
int md3_state_check(const struct md3_state *st);
struct md3_member *md3_member_find(const struct md3_state *st, u32 id);
struct md3_volume *md3_vol_find(const struct md3_state *st, u64 id);
/* The label of domain @id, or NULL if the state has no such domain */
const char *md3_domain_label(const struct md3_state *st, u32 id);
/* The id of the domain labelled @label, or MD3_NO_DOMAIN */
u32 md3_domain_find(const struct md3_state *st, const char *label);
bool md3_slice_used(const struct md3_state *st, u32 member, u64 pslice);
/* The clone named @name, or NULL */
struct md3_clone *md3_clone_find(const struct md3_state *st, const char *name);
/* The number of clones of volume @image: its reference count */
u64 md3_clone_count(const struct md3_state *st, u64 image);
/*
 * Physical slices of @member in use: named by a volume map or reserved as
 * a pending move's destination (0 for an unknown or removed member).
 */
u64 md3_member_used(const struct md3_state *st, u32 member);
int md3_alloc_free(const struct md3_state *st, u32 member, u64 from,
		   u64 *pslice);

int md3_read_member(const struct md3_dev *dev, struct md3_chain *c);
int md3_read_own(const struct md3_dev *d, const struct md3_state *st,
		 u32 id, struct md3_chain *c);
void md3_chain_free(struct md3_chain *c);

/*
 * @domains: the failure domain label of each member (domains with the
 * same label are one); NULL: each member in a domain of its own,
 * labelled with its id.
 */
int md3_create_pool(struct md3_pool *p, const struct md3_pool_rec *rec,
		    struct md3_dev *devs, const u8 *uuids,
		    const char *const *domains, u32 nr,
		    const struct md3_geom *g, const struct md3_state *init);
/*
 * md3_create_pool() with a geometry per member: @g[i] for devs[i] if
 * @each, else @g (or NULL) for all.  -EINVAL/-ENOSPC for a geometry that
 * does not fit its device (see struct md3_geom), before anything is
 * written.
 */
int md3_create_pool_geoms(struct md3_pool *p, const struct md3_pool_rec *rec,
			  struct md3_dev *devs, const u8 *uuids,
			  const char *const *domains, u32 nr,
			  const struct md3_geom *g, bool each,
			  const struct md3_state *init);
int md3_assemble(struct md3_pool *p, struct md3_dev *devs, u32 nr,
		 const struct md3_assemble_opts *o);
void md3_pool_free(struct md3_pool *p);

/* Operations: each is one transaction (one commit point). */
int md3_vol_create(struct md3_pool *p, u64 *id, const u8 *uuid,
		   const char *name, u64 size_bytes,
		   const struct md3_slice *map, u64 nr);
/*
 * A volume of @copies (1 .. MD3_MAX_COPIES) legs per logical slice:
 * @legs holds @nr * @copies entries, slice major (leg k of slice i at
 * @legs[i * @copies + k]), every one placed, with MD3_LEG_STALE in its
 * flags for a leg that starts stale (others: in sync).  Refused before
 * anything is written: copies 0 or above MD3_MAX_COPIES, an empty leg,
 * unknown leg flags or two legs of a slice in one failure domain
 * (-EINVAL); a leg on a used physical slice, or two legs naming the same
 * one (-EEXIST); a leg on a member that is not CURRENT (-ENODEV).
 * md3_vol_create() is this with copies 1 (flags ignored).
 */
int md3_vol_create_copies(struct md3_pool *p, u64 *id, const u8 *uuid,
			  const char *name, u64 size_bytes, u32 copies,
			  const struct md3_slice *legs, u64 nr);
/* -EINVAL for a volume with copies > 1: md3_vol_expand_legs() */
int md3_vol_expand(struct md3_pool *p, u64 id, u64 size_bytes,
		   const struct md3_slice *add, u64 nr);
/* Expand by @nr slices of the volume's copies legs each, as at create */
int md3_vol_expand_legs(struct md3_pool *p, u64 id, u64 size_bytes,
			const struct md3_slice *legs, u64 nr);
/*
 * Set volume @id's copies (1 .. MD3_MAX_COPIES), one transaction (none if
 * it already has them).  Raising adds empty legs (md3_leg_add() places
 * them); lowering needs the legs it takes away empty (-EBUSY: drop them
 * first).  -EINVAL: copies 0 or above MD3_MAX_COPIES.
 */
int md3_vol_set_copies(struct md3_pool *p, u64 id, u32 copies);
/*
 * Place leg @leg of logical slice @slice of volume @vol on @s (one
 * transaction).  The leg starts stale: it holds nothing until copied,
 * then md3_legs_set_stale(..., false).  -ENOENT: no such volume or slice;
 * -EINVAL: @leg not below the volume's copies, or @s in the failure
 * domain of another leg of the slice; -EBUSY: the leg is placed, or a
 * pending move covers the slice; -EEXIST: @s is used; -ENODEV: its member
 * is not CURRENT.
 */
int md3_leg_add(struct md3_pool *p, u64 vol, u64 slice, u32 leg,
		const struct md3_slice *s);
/*
 * Drop leg @leg of logical slice @slice of volume @vol (one transaction):
 * its physical slice is free.  -ENOENT: no such volume, slice or placed
 * leg; -EBUSY: a pending move covers the slice, or the leg is in sync
 * and the slice has no other leg in sync (it holds the only current
 * copy).
 */
int md3_leg_drop(struct md3_pool *p, u64 vol, u64 slice, u32 leg);
/*
 * Mark the @n legs @r stale (@stale) or in sync, one transaction (none
 * if every one already is so).  -ENOENT: a volume, slice or placed leg
 * that does not exist; -EINVAL: a leg not below its volume's copies.
 */
int md3_legs_set_stale(struct md3_pool *p, const struct md3_leg_ref *r,
		       u32 n, bool stale);
int md3_vol_shrink(struct md3_pool *p, u64 id, u64 size_bytes, u64 nr);
/* -EBUSY: a pending move or clones (md3_clone_count()) */
int md3_vol_delete(struct md3_pool *p, u64 id);
int md3_vol_set_flags(struct md3_pool *p, u64 id, u32 flags);
/*
 * Record clone @name of image @image, thin id @thin_id, @sectors long
 * (one transaction).  -ENOENT: no volume @image; -EINVAL: it is not an
 * image, an empty or too long name, a thin id above MD3_THIN_ID_MAX, 0
 * sectors; -EEXIST: the name or the thin id is taken.
 */
int md3_clone_add(struct md3_pool *p, u64 image, const char *name,
		  u32 thin_id, u64 sectors);
/* End the record of clone @name (one transaction); -ENOENT: none */
int md3_clone_remove(struct md3_pool *p, const char *name);
/*
 * Make clone @name a clone of image @image (one transaction: its CLONE
 * record again, naming @image; thin id and size unchanged), so that a
 * crash leaves it recorded for the old image or the new one, never for
 * none.  -ENOENT: no clone @name or no volume @image; -EINVAL: @image is
 * not an image, or already the clone's.
 */
int md3_clone_move(struct md3_pool *p, const char *name, u64 image);
int md3_move_begin(struct md3_pool *p, u64 vol, u64 first, u64 count,
		   const struct md3_slice *dst);
/* md3_move_begin() with MD3_MOVE_* @flags; unknown flags: -EINVAL */
int md3_move_begin_flags(struct md3_pool *p, u64 vol, u64 first, u64 count,
			 const struct md3_slice *dst, u32 flags);
int md3_move_progress(struct md3_pool *p, u64 vol, u64 first, u64 cursor);
int md3_move_commit(struct md3_pool *p, u64 vol, u64 first);
int md3_move_abort(struct md3_pool *p, u64 vol, u64 first);
/* @domain: a label; a new one creates the domain in the same transaction */
int md3_member_add(struct md3_pool *p, struct md3_dev *dev, const u8 *uuid,
		   const char *name, const char *domain, u64 nr_slices,
		   const struct md3_geom *g, u32 *id);
/* What md3_attach() makes of a blank device */
struct md3_attach {
	const u8 *uuid;		/* the new member's uuid */
	const char *name;
	const char *domain;	/* a label, as for md3_member_add() */
	struct md3_geom geom;
};

/*
 * Hand device @dev to an assembled pool.  A blank device (no v3 label)
 * becomes a new member as @a says: md3_member_add(), one transaction.
 * A device of a STALE member of the state that the pool has no device
 * for is taken as that member's device, nothing written: rejoin it with
 * md3_member_rejoin().  *@id is the member either way.  Refused: a
 * CURRENT member's device (-EBUSY: reassemble), a member that already
 * has its device (-EBUSY), a device of format 2, of another pool, of a
 * member this state does not have (another branch's add, a removed
 * member) or with an unreadable journal (-EEXIST: wipe it first).
 */
int md3_attach(struct md3_pool *p, struct md3_dev *dev,
	       const struct md3_attach *a, u32 *id);
/*
 * Format @pd, a device of the assembly with ->readd set (an add that did
 * not commit), again as a new member as @a says: md3_member_add() on the
 * same device, one transaction.  -EEXIST if @pd is not such a device,
 * -EROFS if the pool is not read-write.
 */
int md3_readd(struct md3_pool *p, struct md3_pdev *pd,
	      const struct md3_attach *a, u32 *id);
int md3_member_grow(struct md3_pool *p, u32 id, u64 nr_slices);
int md3_member_remove(struct md3_pool *p, u32 id);
/*
 * Set member @id's flags to @flags (MD3_MEMBER_*), one transaction (none
 * if they are already so).  -ENOENT: no such member or a removed one;
 * -EINVAL: an unknown flag.
 */
int md3_member_set_flags(struct md3_pool *p, u32 id, u32 flags);
int md3_member_stale(struct md3_pool *p, u32 id, u32 reason);
int md3_member_rejoin(struct md3_pool *p, u32 id);
int md3_checkpoint(struct md3_pool *p);
int md3_settings(struct md3_pool *p, u32 w_space, u32 w_load,
		 u32 min_domains);

#endif /* DM_SLICEPOOL_MD3_H */
