// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: live migration on a format-3 pool (metadata_format 3),
 * the md3 side of sp-move.c: each step of a move is one md3 transaction
 * (md3_move_begin_flags(), md3_move_commit(), md3_move_abort()), and the
 * sources of a committed move are held in memory until the switch has
 * drained the I/O that may still reach them.  The pool model is synced
 * from the state after each step (sp_md3_sync(), sp-md3pool.c).  See
 * "Live migration on format 3" in Documentation/dm-slicepool-metadata.rst.
 *
 * Everything here runs under pool->lock, which serialises every md3 call
 * on pool->md3 (md3.h); each md3 call runs inside sp_md3_enter()/
 * sp_md3_exit().
 */
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"
#include "sp-md3io.h"

/* ---- Held sources of committed moves ------------------------------ */

/*
 * md3_move_commit() makes a move's destinations the volume's map and
 * frees its sources in the state, in one transaction.  But bios mapped
 * through the old map may still be in flight to the sources: the switch
 * holds and waits for writes to the range only, so reads (of any table of
 * the volume) go on to the sources until the new map is published and a
 * while after.  The switch waits for them after the commit
 * (sp_volume_drain_io(): every bio mapped before it has completed), then
 * calls sp_md3_move_release().  Until then a source slice must not be
 * handed out again: a volume created or expanded onto it, or another move's
 * destination, would get its data overwritten by the late bios (and a
 * late read would return the new owner's data).  So the sources stay
 * held, in memory only: each sync (sp_md3_fill_member()) marks them used
 * in their member's owner array, as the volume's until release, which is
 * what every allocation (sp_allocate(), sp_move_reserve()) and the
 * disable check look at, and member remove counts them too.  Nothing is
 * written for this: after a crash or a reload no bio of the old table
 * exists any more, and the state's free sources are simply free.  A
 * hold is made before the commit (so a failed allocation fails the
 * move, not the hold) and dropped at release, or when the pool's last
 * device closes (every member is drained before its device closes).
 */
struct sp_md3_hold {
	struct list_head node;		/* in pool->md3_holds */
	const struct sp_volume *v;	/* the key, never dereferenced */
	u8 uuid[SP_UUID_LEN];		/* the volume's, for the owners */
	u64 first, count;
	struct md3_slice src[];		/* count entries */
};

/*
 * The held slices of member @id: marked in @owners (nr entries, from the
 * state; NULL: only counted) as slices of their volume; returns how many
 * were free in @owners (all of them: the state has them free).
 */
u64 sp_md3_hold_fill(struct sp_pool *pool, u32 id, struct sp_owner *owners,
		     u64 nr)
{
	struct sp_md3_hold *h;
	u64 i, n = 0;

	list_for_each_entry(h, &pool->md3_holds, node)
		for (i = 0; i < h->count; i++) {
			struct sp_owner *o;

			if (h->src[i].member != id)
				continue;
			if (!owners) {
				n++;
				continue;
			}
			if (h->src[i].pslice >= nr)
				continue;
			o = &owners[h->src[i].pslice];
			if (o->state != SP_OWN_FREE)
				continue;
			memcpy(o->uuid, h->uuid, SP_UUID_LEN);
			o->logical = h->first + i;
			o->state = SP_OWN_VALID;
			n++;
		}
	return n;
}

void sp_md3_hold_drop_all(struct sp_pool *pool)
{
	struct sp_md3_hold *h, *n;

	list_for_each_entry_safe(h, n, &pool->md3_holds, node) {
		list_del(&h->node);
		kvfree(h);
	}
}

/*
 * After an assembly that came up read-write: a move of the state that no
 * job of this module runs was interrupted (a crash, a reload, or an abort
 * that could not be recorded).  Its copy is lost with the job, so it is
 * rolled back (md3_move_abort(), one transaction each): the volume stays
 * on its sources, the destinations become free, and the log says so.
 */
void sp_md3_rollback_moves(struct sp_pool *pool)
{
	struct md3_state *st = &pool->md3->st;
	u64 i = st->nr_moves;

	while (i--) {
		const struct md3_move mv = st->moves[i];
		const struct md3_volume *vol = md3_vol_find(st, mv.vol);
		struct sp_volume *v = vol ?
			sp_volume_find_uuid(pool, vol->uuid) : NULL;
		unsigned int noio;
		int r;

		if (v && rcu_access_pointer(v->mig))
			continue;
		noio = sp_md3_enter();
		r = md3_move_abort(pool->md3, mv.vol, mv.first);
		sp_md3_exit(noio);
		if (r)
			sp_err("%s: volume %s: rolling back an interrupted migration of slices %llu..%llu failed: %d; its destinations stay reserved",
			       pool->name, vol ? vol->name : "?", mv.first,
			       mv.first + mv.count - 1, r);
		else
			sp_info("%s: volume %s: an interrupted migration of slices %llu..%llu (copy cursor %llu) rolled back: the volume stays on its source; start it again",
				pool->name, vol ? vol->name : "?", mv.first,
				mv.first + mv.count - 1, mv.cursor);
		/* A removed move took the last one's place: seen already. */
	}
}

/* ---- Moves (live migration: sp-move.c, sp-mig-*.c) ---------------- */

/* Has the state a pending move of volume @vol at @first? */
static bool sp_md3_has_move(struct sp_pool *pool, u64 vol, u64 first)
{
	const struct md3_state *st = &pool->md3->st;
	u64 i;

	for (i = 0; i < st->nr_moves; i++)
		if (st->moves[i].vol == vol && st->moves[i].first == first)
			return true;
	return false;
}

/* The md3 slices of @n extents. */
static void sp_md3_slices(struct md3_slice *out, const struct sp_extent *e,
			  u64 n)
{
	u64 i;

	for (i = 0; i < n; i++) {
		out[i].member = e[i].m->md3_id;
		out[i].pslice = sp_pslice(e[i].m, e[i].start);
	}
}

/*
 * The start of a migration: the destinations @dst (reserved in memory by
 * sp_move_reserve()) become the pending move of [first, first + count)
 * of @v, one transaction (md3_move_begin_flags()); a mirrored job says
 * so (MD3_MOVE_MIRROR).  Nothing else changes in the state.
 */
int sp_md3_move_begin(struct sp_volume *v, u64 first, u64 count,
		      const struct sp_extent *dst, bool mirror)
{
	struct sp_pool *pool = v->pool;
	struct md3_slice *s;
	unsigned int noio;
	int r;

	if (!pool->md3 || !pool->md3_rw || !v->md3_id) {
		sp_err("%s: refused: the pool is read-only until every current member is enabled; volume %s not migrated",
		       pool->name, v->name);
		return -EROFS;
	}
	s = kvcalloc(count, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	sp_md3_slices(s, dst, count);
	noio = sp_md3_enter();
	r = md3_move_begin_flags(pool->md3, v->md3_id, first, count, s,
				 mirror ? MD3_MOVE_MIRROR : 0);
	sp_md3_exit(noio);
	kvfree(s);
	if (r)
		return sp_md3_vol_failed(v, "migration start", r);
	return sp_md3_sync(pool);
}

/*
 * The end of a migration that did not switch (abort, a failure before
 * the commit): its pending move is dropped, one transaction
 * (md3_move_abort()), and the model synced, which also drops
 * sp_move_reserve()'s in-memory marks.  If the transaction fails (the
 * pool went read-only), the move stays in the state with its
 * destinations reserved until the next read-write assembly rolls it back
 * (sp_md3_rollback_moves()).
 */
void sp_md3_move_abort(struct sp_volume *v, u64 first)
{
	struct sp_pool *pool = v->pool;
	unsigned int noio;
	int r = 0;

	if (pool->md3 && v->md3_id && sp_md3_has_move(pool, v->md3_id, first)) {
		noio = sp_md3_enter();
		r = md3_move_abort(pool->md3, v->md3_id, first);
		sp_md3_exit(noio);
	}
	if (r)
		sp_err("%s: the end of the migration of volume %s is not recorded: %d%s; its destinations stay reserved until the pool is assembled again",
		       pool->name, v->name, r, r == -EROFS ? sp_md3_rofs : "");
	sp_md3_sync(pool);
}

/*
 * The switch's commit: the pending move of @v at @first becomes the map,
 * one transaction (md3_move_commit()), and the new map (@dst in place of
 * the sources) is published.  The map is built and the sources' hold is
 * made before the commit, so that once it is durable neither can fail:
 * the held writes must never be released to the old map.
 */
int sp_md3_move_commit(struct sp_volume *v, u64 first, u64 count,
		       const struct sp_extent *dst)
{
	struct sp_pool *pool = v->pool;
	struct sp_vmap *old = sp_map(v), *map;
	struct sp_md3_hold *h;
	unsigned int noio;
	u64 i;
	int r;

	if (!pool->md3 || !v->md3_id || !old || first + count > old->nr)
		return -EINVAL;
	h = kvzalloc(struct_size(h, src, count), GFP_KERNEL);
	map = sp_map_alloc(old->nr);
	if (!h || !map) {
		kvfree(h);
		kvfree(map);
		return -ENOMEM;
	}
	h->v = v;
	memcpy(h->uuid, v->uuid, SP_UUID_LEN);
	h->first = first;
	h->count = count;
	sp_md3_slices(h->src, &old->e[first], count);
	for (i = 0; i < old->nr; i++)
		map->e[i] = old->e[i];
	for (i = 0; i < count; i++)
		map->e[first + i] = dst[i];
	list_add(&h->node, &pool->md3_holds);
	noio = sp_md3_enter();
	r = md3_move_commit(pool->md3, v->md3_id, first);
	sp_md3_exit(noio);
	if (r) {
		list_del(&h->node);
		kvfree(h);
		kvfree(map);
		sp_err("%s: move of volume %s slices %llu..%llu not committed: %d%s",
		       pool->name, v->name, first, first + count - 1, r,
		       r == -EROFS ? sp_md3_rofs : "");
		return r;
	}
	sp_map_publish(v, map);
	/* The same map again, and the sources held in the owner arrays. */
	sp_md3_sync(pool);
	return 0;
}

/*
 * No bio reaches the sources of @v's move at @first any more (the switch
 * drained the volume): drop their hold; the sync makes them free.
 */
void sp_md3_move_release(struct sp_volume *v, u64 first)
{
	struct sp_pool *pool = v->pool;
	struct sp_md3_hold *h;

	list_for_each_entry(h, &pool->md3_holds, node)
		if (h->v == v && h->first == first) {
			list_del(&h->node);
			kvfree(h);
			sp_md3_sync(pool);
			return;
		}
}
