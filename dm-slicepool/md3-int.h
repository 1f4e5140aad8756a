/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool pool metadata v3: what the library's files share.
 *
 * Internal to md3.c and md3-*.c (see md3.c for which holds what); the
 * users of the library include md3.h only.  Locking: none, as in md3.h.
 */
#ifndef DM_SLICEPOOL_MD3_INT_H
#define DM_SLICEPOOL_MD3_INT_H

#include "md3.h"

static inline u64 md3_min(u64 a, u64 b)
{
	return a < b ? a : b;
}

static inline u64 md3_max(u64 a, u64 b)
{
	return a > b ? a : b;
}

static inline u64 md3_div_up(u64 n, u64 d)
{
	return n / d + (n % d != 0);
}

/* Not tags (no record has tag 0 or 0x7fff): one entry of MAP and MOVE */
#define MD3_ENTRY_SLICE		0
/* and the fields of struct md3_label a struct md3_chain mirrors */
#define MD3_ENTRY_LABEL		0x7fff

#ifndef __KERNEL__
/* the kernel's, for the host builds */
#define BUILD_BUG_ON_ZERO(e)	((int)(sizeof(struct { int:(-!!(e)); })))
#define sizeof_field(t, m)	sizeof(((t) {}).m)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#endif

/* In-memory form of the records that have no struct of the state */
struct md3_op_rec {
	u32 op;			/* enum md3_opcode */
	u64 arg;
};

struct md3_map_rec {
	u64 vol;
	u64 first;
	u64 count;		/* entries (struct md3_slice) that follow */
};

/* COPIES: a volume's copies */
struct md3_copies_rec {
	u64 vol;
	u32 copies;
};

/* LEGS: leg @leg (1 .. copies - 1) of @count slices from @first */
struct md3_legs_rec {
	u64 vol;
	u64 first;
	u64 count;		/* entries (struct md3_slice) that follow */
	u32 leg;
};

/* LEG_STALE: leg @leg of slice @slice stale (1) or in sync (0) */
struct md3_stale_rec {
	u64 vol;
	u64 slice;
	u32 leg;
	u32 stale;
};

/* A payload being encoded (md3_enc() and its kin) */
struct md3_buf {
	u8 *p;
	size_t len;
	size_t cap;
	int err;
};

/* Whether the pool can be written: 0, or -EROFS */
static inline int md3_rw(struct md3_pool *p)
{
	return p->mode == MD3_MODE_RW ? 0 : -EROFS;
}

/* md3.c: the in-memory state */
void md3_bm_free(struct md3_bitmap *bm);
int md3_bm_resize(struct md3_bitmap *bm, u64 nbits);
bool md3_bm_empty(const struct md3_bitmap *bm);
u32 md3_member_idx(const struct md3_state *st, u32 id);
u32 md3_domain_idx(const struct md3_state *st, u32 id);
u64 md3_vol_idx(const struct md3_state *st, u64 id);
struct md3_move *md3_move_find(const struct md3_state *st, u64 vol,
			       u64 first);
bool md3_move_overlaps(const struct md3_state *st, u64 vol, u64 first,
		       u64 count);
int md3_grow(void **arr, u64 *cap, u64 need, size_t size);
int md3_insert(void **arr, u64 *cap, u64 nr, u64 i, size_t size);
int md3_use(struct md3_state *st, const struct md3_slice *s);
void md3_unuse(struct md3_state *st, const struct md3_slice *s);
int md3_check_new(struct md3_state *st, const struct md3_slice *s,
		  u64 n);
struct md3_clone *md3_clone_thin(const struct md3_state *st,
				 u32 thin_id);
u32 md3_member_domain(const struct md3_state *st, u32 id);
bool md3_legs_apart(const struct md3_state *st, const struct md3_volume *v,
		    u64 i);

/* md3-record.c: records and checksums */
void md3_seal(void *blk, u32 magic, u64 blocknr);
bool md3_sealed(const void *blk, u32 magic, u64 blocknr);
void md3_put(u8 *v, u16 tag, const void *src);
void md3_get(const u8 *v, u16 tag, void *dst);
void md3_enc(struct md3_buf *b, u16 tag, const void *src);
void md3_get_slices(const u8 *v, struct md3_slice *s, u64 n);
void md3_enc_op(struct md3_buf *b, u32 op, u64 arg);
void md3_enc_map(struct md3_buf *b, u64 vol, u64 first, u64 count,
		 const struct md3_slice *s);
void md3_enc_move(struct md3_buf *b, const struct md3_move *m);
void md3_enc_legrun(struct md3_buf *b, u64 vol, u64 first, u64 count,
		    u32 leg, const struct md3_slice *s, u64 stride);
void md3_enc_volume(struct md3_buf *b, const struct md3_volume *v);
void md3_enc_leg_stale(struct md3_buf *b, u64 vol, u64 slice, u32 leg,
		       bool stale);
void md3_enc_stale(struct md3_buf *b, const struct md3_member *m,
		   u32 reason, u64 seq, u64 mark);
u64 md3_state_size(const struct md3_state *st);

/* md3-apply.c: applying records */
u32 md3_rec_len(u16 tag);

/* md3-journal.c: one member's journal */
int md3_wblock(struct md3_pool *p, struct md3_dev *d, u64 nr,
	       const void *blk);
int md3_flush(struct md3_pool *p, struct md3_dev *d);
int md3_chain_state(const struct md3_dev *d, const struct md3_chain *c,
		    struct md3_state *st);
int md3_write_label(struct md3_pool *p, struct md3_pdev *pd,
		    const struct md3_state *st, u64 ckpt_pos);
int md3_write_rec(struct md3_pool *p, struct md3_pdev *pd, u32 type,
		  u64 seq, u64 hash, u64 aux, const u8 *pl, size_t len);
u64 md3_nfrag(u64 len);
int md3_ckpt_now(struct md3_pool *p, struct md3_pdev *pd, bool restart);
int md3_make_room(struct md3_pool *p, struct md3_pdev *pd, u64 n);

/* md3-commit.c: the commit rule */
struct md3_pdev *md3_dev_of(struct md3_pool *p, u32 id);
u64 md3_mark_id(struct md3_pool *p, const u32 *ids, u32 n);
int md3_mark_missing(struct md3_pool *p, u32 reason);
int md3_commit(struct md3_pool *p, struct md3_buf *b,
	       struct md3_pdev *extra, bool marks);

/* md3-member.c: pool creation and members */
bool md3_label_ok(const char *label);

#endif /* DM_SLICEPOOL_MD3_INT_H */
