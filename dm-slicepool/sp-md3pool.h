/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: what the three files of the pool on metadata format 3
 * share among themselves: sp-md3pool.c (the state to the model, volumes,
 * clones, settings), sp-md3member.c (member add, grow, remove, online)
 * and sp-md3asm.c (assembly, force, prefer).  The rest of the module
 * calls them through sp-pool.h.  Every function here is called under
 * pool->lock.
 */
#ifndef SP_MD3POOL_H
#define SP_MD3POOL_H

#include "sp-core.h"
#include "md3.h"

static inline const char *sp_mname(struct sp_member *m)
{
	return config_item_name(&m->item);
}

/* sp-md3pool.c */
void sp_md3_free_pool(struct md3_pool *p);
/* The enabled member whose md3 id is @id, else NULL. */
struct sp_member *sp_md3_member(struct sp_pool *pool, u32 id);
/* The member whose device is @ctx (its struct sp_mdev), else NULL. */
struct sp_member *sp_md3_member_of(struct sp_pool *pool, void *ctx);

/* sp-md3member.c */
int sp_md3_blank(struct sp_member *m, bool *blank);
int sp_md3_create(struct sp_member *m);
struct md3_attach sp_md3_attach_of(struct sp_member *m, u8 *uuid);
int sp_md3_add(struct sp_member *m);
const char *sp_md3_gone_how(const struct md3_member *sm);

#endif
