/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: internal interface of the pool model (sp-pool.c,
 * sp-member.c, sp-alloc.c, sp-resize.c, sp-move.c, sp-md3pool.c,
 * sp-md3move.c).  Everything declared here runs under pool->lock.
 */
#ifndef DM_SLICEPOOL_POOL_H
#define DM_SLICEPOOL_POOL_H

#include "sp-core.h"

static inline struct sp_vmap *sp_map(struct sp_volume *v)
{
	return rcu_dereference_protected(v->map,
					 lockdep_is_held(&v->pool->lock));
}

static inline u64 sp_pslice(struct sp_member *m, sector_t start)
{
	return div64_u64(start - m->data_offset, sp_slice_sectors(m->pool));
}

/* sp-pool.c */
struct sp_vmap *sp_map_alloc(u64 nr);
struct sp_vmap *sp_map_swap(struct sp_volume *v, struct sp_vmap *map);
void sp_map_publish(struct sp_volume *v, struct sp_vmap *map);
unsigned int sp_domains_used(struct sp_volume *v, u64 nr);
void sp_pool_gc_volumes(struct sp_pool *pool);

/* sp-alloc.c */
struct sp_pick {
	struct sp_member *m;
	u64 p;
};

u64 sp_first_free(struct sp_member *m);
void sp_slice_freed(struct sp_member *m, u64 p);
int sp_allocate(struct sp_pool *pool, struct sp_volume *v, u64 first,
		u64 count, u32 min_spread, struct sp_pick *picks);
int sp_allocate_skip(struct sp_pool *pool, struct sp_volume *v, u64 first,
		     u64 count, u32 min_spread, const unsigned long *skip,
		     struct sp_pick *picks);

/* sp-member.c */
void sp_member_set_enabled(struct sp_member *m, bool on);

/* sp-resize.c */
int sp_shrink_check(struct sp_volume *v, u64 new_nr);

/*
 * The pool on metadata format 3: sp-md3asm.c (assembly at member
 * enable), sp-md3member.c (members), sp-md3pool.c (the rest)
 */
int sp_md3_member_open(struct sp_member *m);
void sp_md3_member_close(struct sp_member *m);
int sp_md3_sync(struct sp_pool *pool);
bool sp_md3_has_volume(struct sp_pool *pool, struct sp_volume *v);
int sp_md3_resize(struct sp_volume *v, u64 bytes, u64 new_nr);
int sp_md3_member_grow(struct sp_member *m, u64 dev, u64 nr);
int sp_md3_member_remove(struct sp_member *m);
int sp_md3_member_drain(struct sp_member *m, bool on);
int sp_md3_member_remove_absent(struct sp_member *m);
int sp_md3_member_online(struct sp_member *m, bool *was_stale, bool quiet);
bool sp_md3_member_stale_failed(struct sp_member *m);
int sp_md3_writable(struct sp_volume *v);
bool sp_md3_all_lost(struct sp_volume *v, u64 missing);
int sp_md3_lost_refused(struct sp_volume *v, u64 missing);
extern const char sp_md3_rofs[];
int sp_md3_vol_failed(struct sp_volume *v, const char *what, int r);

/* sp-md3move.c: moves */
u64 sp_md3_hold_fill(struct sp_pool *pool, u32 id, struct sp_owner *owners,
		     u64 nr);
void sp_md3_hold_drop_all(struct sp_pool *pool);
void sp_md3_rollback_moves(struct sp_pool *pool);
/* (and the moves' transactions, declared in sp-core.h) */

#endif /* DM_SLICEPOOL_POOL_H */
