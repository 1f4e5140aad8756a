// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: a pool on metadata format 3 (metadata_format 3), through
 * the md3 library (md3.c, Documentation/dm-slicepool-metadata.rst).
 *
 * The pool model's entry points come here: member enable
 * (sp_member_open()), member release, volume resize (sp_volume_resize()),
 * reclaim (nothing to do: no orphans) and the moves of live migration
 * (sp-move.c, on to sp-md3move.c).  The rest of the model works on what
 * this file derives from the md3 state after every operation
 * (sp_md3_sync()): each enabled member's owner array (which slices are
 * used, by which volume), nr_slices and nr_free, and each volume's size
 * and published map.  So allocation (sp-alloc.c), the disable checks and
 * the I/O path need no metadata code of their own: every operation is
 * exactly one md3 transaction, whose success or failure the sync then
 * reflects (a failed transaction leaves the state as it was).
 *
 * Format 2 is no longer supported: a device that holds format-2
 * metadata is refused (-EMEDIUMTYPE) with a line that says to convert
 * its pool with 'slicepool upgrade' (tools/slicepool/cmd_upgrade.c).
 *
 * Assembly: the pool's first enabled member either creates the pool (a
 * blank device: md3_create_pool()) or brings its identity (a v3 member).
 * Every enable of a v3 member reassembles the pool from all enabled
 * members' devices (md3_assemble(), which writes only when it comes up
 * read-write); until every current member is enabled the pool is
 * read-only and publishes no volume, unless the operator forces it
 * (sp_md3_force(): the absent members are marked STALE(forced), and a
 * device of theirs that comes back is refused).  At a fork of the
 * members' journals the pool's prefer attribute chooses the branch
 * (sp_md3_prefer_plan(), md3_assemble_opts.prefer).  A blank device enabled in a
 * read-write pool becomes a new member (md3_attach()), and so does a
 * device of an add to this pool that did not commit, when a read-write
 * assembly finds it safe (md3_readd(), sp_md3_readd()).  Disabling a
 * member takes its device out of the assembled pool: the state stays the
 * newest, so the maps stay, but md3 refuses every transaction (-EROFS)
 * while a current member has no device.
 *
 * This file holds the state-to-model sync, settings, volumes and clones;
 * sp-md3member.c the members (add, grow, remove, online) and sp-md3asm.c
 * assembly, force and prefer; sp-md3pool.h what the three share.
 *
 * Everything here runs under pool->lock, which serialises every md3 call
 * on pool->md3, as md3.h requires; each md3 call runs inside
 * sp_md3_enter()/sp_md3_exit() (no allocation recursing into I/O).
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"
#include "sp-md3io.h"
#include "sp-md3pool.h"

/* Why md3 refused a transaction with -EROFS, for the log. */
const char sp_md3_rofs[] =
	" (no metadata write while a current member is disabled or failed: enable it)";

void sp_md3_free_pool(struct md3_pool *p)
{
	if (!p)
		return;
	md3_pool_free(p);
	kfree(p);
}

/* The enabled member whose md3 id is @id, else NULL. */
struct sp_member *sp_md3_member(struct sp_pool *pool, u32 id)
{
	struct sp_member *m;

	list_for_each_entry(m, &pool->members, list)
		if (m->enabled && m->mdev && m->md3_id == id)
			return m;
	return NULL;
}

/* The member whose device is @ctx (its struct sp_mdev), else NULL. */
struct sp_member *sp_md3_member_of(struct sp_pool *pool, void *ctx)
{
	struct sp_member *m;

	list_for_each_entry(m, &pool->members, list)
		if (m->mdev && m->mdev == ctx)
			return m;
	return NULL;
}

/* ---- From the state to the model ---------------------------------- */

/*
 * Set @m's geometry and owner array from the state: @owners (nr entries,
 * zeroed) becomes m->owners, the old array goes to *@old for the caller
 * to free.
 */
static void sp_md3_fill_member(struct sp_pool *pool, struct sp_member *m,
			       const struct md3_member *sm,
			       struct sp_owner *owners, u64 nr,
			       struct sp_owner **old)
{
	const struct md3_state *st = &pool->md3->st;
	u64 i, j, used = 0;

	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *vol = &st->vols[i];

		for (j = 0; j < vol->nr_slices; j++) {
			struct sp_owner *o;

			if (vol->map[j].member != m->md3_id ||
			    vol->map[j].pslice >= nr)
				continue;
			o = &owners[vol->map[j].pslice];
			memcpy(o->uuid, vol->uuid, SP_UUID_LEN);
			o->logical = j;
			o->state = SP_OWN_VALID;
			used++;
		}
	}
	/*
	 * The further legs of a redundant volume (copies > 1, which this
	 * module does not bind yet, sp_md3_vol_bindable()): used, in no
	 * map the module serves.
	 */
	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *vol = &st->vols[i];
		u32 k;

		for (j = 0; j < vol->nr_slices; j++)
			for (k = 1; k < vol->copies; k++) {
				const struct md3_slice *l = md3_leg(vol, j, k);

				if (l->member != m->md3_id || l->pslice >= nr)
					continue;
				owners[l->pslice].state = SP_OWN_ORPHAN;
				used++;
			}
	}
	for (i = 0; i < st->nr_moves; i++)
		for (j = 0; j < st->moves[i].count; j++)
			if (st->moves[i].dst[j].member == m->md3_id &&
			    st->moves[i].dst[j].pslice < nr) {
				owners[st->moves[i].dst[j].pslice].state =
					SP_OWN_MOVING;
				used++;
			}
	used += sp_md3_hold_fill(pool, m->md3_id, owners, nr);
	*old = m->owners;
	m->owners = owners;
	WRITE_ONCE(m->nr_slices, nr);
	/* Only a current member takes new slices. */
	m->nr_free = sm && sm->status == MD3_CURRENT ? nr - used : 0;
	m->free_hint = 0;
	if (sm) {
		m->data_offset = sm->data_offset;
		WRITE_ONCE(m->draining, !!(sm->flags & MD3_MEMBER_DRAIN));
	}
	m->dev_sectors = bdev_nr_sectors(m->bdev.bdev);
}

/* Publish @v's map from the state's volume @vol. */
static int sp_md3_fill_volume(struct sp_pool *pool, struct sp_volume *v,
			      const struct md3_volume *vol)
{
	const struct md3_state *st = &pool->md3->st;
	struct sp_vmap *map = NULL;
	u64 i;

	if (vol->nr_slices) {
		map = sp_map_alloc(vol->nr_slices);
		if (!map)
			return -ENOMEM;
	}
	for (i = 0; i < vol->nr_slices; i++) {
		const struct md3_slice *s = &vol->map[i];
		const struct md3_member *sm = md3_member_find(st, s->member);
		struct sp_member *m = sp_md3_member(pool, s->member);

		/*
		 * A stale member's copy may be old: missing until rejoined;
		 * so is a slice marked stale (a leg that missed writes).
		 */
		if (!m || !sm || sm->status != MD3_CURRENT ||
		    (s->flags & MD3_LEG_STALE))
			continue;
		map->e[i].m = m;
		map->e[i].start = sm->data_offset +
			s->pslice * sp_slice_sectors(pool);
	}
	v->md3_id = vol->id;
	WRITE_ONCE(v->image, !!(vol->flags & MD3_VOL_IMAGE));
	WRITE_ONCE(v->clones, md3_clone_count(&pool->md3->st, vol->id));
	v->state = SP_VOL_LIVE;
	v->size_bytes = vol->size_bytes;
	v->nr_slices = vol->nr_slices;
	if (!v->vitem)
		strscpy(v->name, vol->name, sizeof(v->name));
	sp_map_publish(v, map);
	return 0;
}

/*
 * Derive the model from pool->md3's state (see the top of this file):
 * the enabled members' owner arrays and counts, then, if the pool came
 * up read-write, every volume of the state (found by uuid, else new and
 * unbound, listed in "discovered") with its map; a volume the state no
 * longer has is deleted.  Called after every md3 operation, failed ones
 * included, and for every enable and disable (sp_member_enable(),
 * sp_member_disable()).
 */
int sp_md3_sync(struct sp_pool *pool)
{
	/* An enabled member, its record in the state and its new owners. */
	struct {
		struct sp_member *m;
		const struct md3_member *sm;
		struct sp_owner *owners;
	} *arr;
	const struct md3_state *st;
	struct sp_owner *old;
	struct sp_volume *v;
	struct sp_member *m;
	unsigned int n = 0, k;
	u64 i;
	int r = 0;

	if (!pool->md3)
		return 0;
	st = &pool->md3->st;
	list_for_each_entry(m, &pool->members, list)
		n += !!m->mdev;
	arr = kcalloc(max(n, 1U), sizeof(*arr), GFP_KERNEL);
	if (!arr)
		return -ENOMEM;
	/* Every allocation first: nothing changes unless all succeed. */
	k = 0;
	list_for_each_entry(m, &pool->members, list) {
		const struct md3_member *sm;

		if (!m->mdev)
			continue;
		sm = md3_member_find(st, m->md3_id);
		arr[k].m = m;
		arr[k].sm = sm;
		arr[k].owners = kvcalloc(sm ? max(sm->nr_slices, 1ULL) : 1,
					 sizeof(struct sp_owner), GFP_KERNEL);
		if (!arr[k++].owners) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (k = 0; k < n; k++) {
		const struct md3_member *sm = arr[k].sm;
		const char *label = sm ? md3_domain_label(st, sm->domain) : NULL;

		m = arr[k].m;
		sp_md3_fill_member(pool, m, sm, arr[k].owners,
				   sm ? sm->nr_slices : 0, &old);
		arr[k].owners = old;
		if (label && strcmp(m->domain, label)) {
			sp_info("%s: domain %s, as the pool's metadata says (was %s)",
				sp_mname(m), label, m->domain);
			strscpy(m->domain, label, sizeof(m->domain));
		}
	}
	if (!pool->md3_rw)
		goto out;
	list_for_each_entry(v, &pool->volumes, list)
		if (v->md3_id && !md3_vol_find(st, v->md3_id)) {
			v->md3_id = 0;
			WRITE_ONCE(v->image, false);
			WRITE_ONCE(v->clones, 0);
			v->state = SP_VOL_DELETED;
			v->size_bytes = 0;
			v->nr_slices = 0;
			sp_map_publish(v, NULL);
		}
	for (i = 0; i < st->nr_volumes && !r; i++) {
		const struct md3_volume *vol = &st->vols[i];

		v = sp_volume_find_uuid(pool, vol->uuid);
		if (!v)
			v = sp_volume_new(pool, vol->name, vol->uuid);
		r = v ? sp_md3_fill_volume(pool, v, vol) : -ENOMEM;
	}
out:
	for (k = 0; k < n; k++)
		kvfree(arr[k].owners);
	kfree(arr);
	if (r)
		sp_err("%s: cannot build the maps from the metadata: %d",
		       pool->name, r);
	return r;
}

/*
 * May @v be bound (mkdir volumes/<name>, under pool->lock)?  Not a volume
 * whose record says copies > 1 (-EOPNOTSUPP, logged with its name): this
 * module serves one copy, and a write to one leg only would leave the
 * others stale without a mark (Documentation/dm-slicepool-metadata.rst,
 * "Redundant volumes").
 */
int sp_md3_vol_bindable(struct sp_volume *v)
{
	struct sp_pool *pool = v->pool;
	const struct md3_volume *vol;

	if (!pool->md3 || !v->md3_id)
		return 0;
	vol = md3_vol_find(&pool->md3->st, v->md3_id);
	if (!vol || vol->copies <= 1)
		return 0;
	sp_err("%s: refused: volume %s has copies %u in the pool's metadata; this module does not serve redundant volumes yet; volume %s not bound",
	       pool->name, v->name, vol->copies, v->name);
	return -EOPNOTSUPP;
}

/* Does the state name @v (sp_pool_gc_volumes())? */
bool sp_md3_has_volume(struct sp_pool *pool, struct sp_volume *v)
{
	return pool->md3 && v->md3_id && md3_vol_find(&pool->md3->st, v->md3_id);
}

/* ---- Settings ----------------------------------------------------- */

/*
 * configfs changed weight_space, weight_load or min_domains (under
 * pool->lock): in an assembled format-3 pool they are persisted, one
 * transaction (md3_settings()); on failure the caller restores the old
 * values.  Before the first member is enabled they are only kept in
 * memory: they go into the state when that member creates the pool, and
 * are replaced by the state's when it assembles one.
 */
int sp_md3_settings(struct sp_pool *pool)
{
	unsigned int noio;
	int r;

	if (!pool->md3)
		return 0;
	if (!pool->md3_rw) {
		sp_err("%s: refused: the pool is read-only until every current member is enabled; its settings stay as they are",
		       pool->name);
		return -EROFS;
	}
	noio = sp_md3_enter();
	r = md3_settings(pool->md3, pool->weight_space, pool->weight_load,
			 pool->min_domains);
	sp_md3_exit(noio);
	if (r)
		sp_err("%s: settings (weight_space %u, weight_load %u, min_domains %u) not recorded: %d%s; they stay as they were",
		       pool->name, pool->weight_space, pool->weight_load,
		       pool->min_domains, r, r == -EROFS ? sp_md3_rofs : "");
	return r;
}

/* ---- Volumes ------------------------------------------------------ */

/* Log a failed volume operation; md3 leaves the state as it was. */
int sp_md3_vol_failed(struct sp_volume *v, const char *what, int r)
{
	sp_err("%s: %s of volume %s failed: %d%s; nothing changed",
	       v->pool->name, what, v->name, r, r == -EROFS ? sp_md3_rofs : "");
	return r;
}

/*
 * Is @v an image (MD3_VOL_IMAGE in the state's record of it)?  pool->lock
 * held.
 */
bool sp_md3_vol_image(struct sp_volume *v)
{
	struct sp_pool *pool = v->pool;
	const struct md3_volume *vol;

	if (!pool->md3 || !v->md3_id)
		return false;
	vol = md3_vol_find(&pool->md3->st, v->md3_id);
	return vol && (vol->flags & MD3_VOL_IMAGE);
}

/*
 * Make live volume @v an image for good: one md3 transaction setting
 * MD3_VOL_IMAGE in its record (pool->lock held; the caller has checked
 * that no read-write table uses it).  Logged on failure.
 */
int sp_md3_vol_make_image(struct sp_volume *v)
{
	struct sp_pool *pool = v->pool;
	unsigned int noio;
	int r;

	if (!pool->md3 || !pool->md3_rw || !v->md3_id)
		return sp_md3_vol_failed(v, "image", -EROFS);
	noio = sp_md3_enter();
	r = md3_vol_set_flags(pool->md3, v->md3_id, MD3_VOL_IMAGE);
	sp_md3_exit(noio);
	if (r)
		return sp_md3_vol_failed(v, "image", r);
	WRITE_ONCE(v->image, true);
	sp_info("%s: volume %s is an image: read-only from now on",
		pool->name, v->name);
	return 0;
}

/* ---- Clones of images (Documentation/dm-slicepool-images.rst) ---- */

/* The number of clones of image @v in the state (pool->lock held) */
u64 sp_md3_vol_clones(struct sp_volume *v)
{
	struct sp_pool *pool = v->pool;

	if (!pool->md3 || !v->md3_id)
		return 0;
	return md3_clone_count(&pool->md3->st, v->md3_id);
}

/* Log a refused or failed clone add or remove; nothing changed. */
static int sp_md3_clone_failed(struct sp_volume *v, const char *what,
			       const char *name, int r)
{
	sp_err("%s: volume %s: %s of clone %s failed: %d%s; nothing changed",
	       v->pool->name, v->name, what, name, r,
	       r == -EROFS ? sp_md3_rofs : "");
	return r;
}

/*
 * Record clone @name (dm-thin device @thin_id, @sectors long) of image @v: one md3
 * transaction (pool->lock held; the caller has checked the name's
 * characters and that @v is an image).  Logged on failure.
 */
int sp_md3_clone_add(struct sp_volume *v, const char *name, u32 thin_id,
		     u64 sectors)
{
	struct sp_pool *pool = v->pool;
	const struct md3_clone *c;
	unsigned int noio;
	int r;

	if (!pool->md3 || !pool->md3_rw || !v->md3_id)
		return sp_md3_clone_failed(v, "add", name, -EROFS);
	c = md3_clone_find(&pool->md3->st, name);
	if (c) {
		const struct md3_volume *img = md3_vol_find(&pool->md3->st,
							    c->image);

		sp_err("%s: volume %s: clone %s refused: the pool has a clone of that name (of image %s, thin id %u)",
		       pool->name, v->name, name, img ? img->name : "?",
		       c->thin_id);
		return -EEXIST;
	}
	noio = sp_md3_enter();
	r = md3_clone_add(pool->md3, v->md3_id, name, thin_id, sectors);
	sp_md3_exit(noio);
	if (r == -EEXIST)
		sp_err("%s: volume %s: clone %s refused: thin id %u is another clone's",
		       pool->name, v->name, name, thin_id);
	else if (r)
		sp_md3_clone_failed(v, "add", name, r);
	else
		sp_info("%s: image %s: clone %s (thin id %u, %llu sectors) recorded",
			pool->name, v->name, name, thin_id, sectors);
	return r ?: sp_md3_sync(pool);
}

/* End the record of clone @name of image @v (pool->lock held). */
int sp_md3_clone_remove(struct sp_volume *v, const char *name)
{
	struct sp_pool *pool = v->pool;
	const struct md3_clone *c;
	unsigned int noio;
	int r;

	if (!pool->md3 || !pool->md3_rw || !v->md3_id)
		return sp_md3_clone_failed(v, "remove", name, -EROFS);
	c = md3_clone_find(&pool->md3->st, name);
	if (!c || c->image != v->md3_id) {
		sp_err("%s: volume %s: clone %s refused: the image has no clone of that name",
		       pool->name, v->name, name);
		return -ENOENT;
	}
	noio = sp_md3_enter();
	r = md3_clone_remove(pool->md3, name);
	sp_md3_exit(noio);
	if (r)
		return sp_md3_clone_failed(v, "remove", name, r);
	sp_info("%s: image %s: clone %s removed from the pool's records",
		pool->name, v->name, name);
	return sp_md3_sync(pool);
}

/*
 * Make clone @name (of another image) a clone of image @v: one md3
 * transaction, so a crash leaves it recorded for one of the two images
 * (pool->lock held).
 */
int sp_md3_clone_move(struct sp_volume *v, const char *name)
{
	struct sp_pool *pool = v->pool;
	const struct md3_volume *from;
	const struct md3_clone *c;
	char from_name[SP_NAME_MAX + 1];
	unsigned int noio;
	int r;

	if (!pool->md3 || !pool->md3_rw || !v->md3_id)
		return sp_md3_clone_failed(v, "move", name, -EROFS);
	if (!sp_md3_vol_image(v)) {
		sp_err("%s: volume %s: move of clone %s refused: the volume is not an image",
		       pool->name, v->name, name);
		return -EINVAL;
	}
	c = md3_clone_find(&pool->md3->st, name);
	if (!c) {
		sp_err("%s: volume %s: move of clone %s refused: the pool has no clone of that name",
		       pool->name, v->name, name);
		return -ENOENT;
	}
	if (c->image == v->md3_id) {
		sp_err("%s: volume %s: move of clone %s refused: it is a clone of this image already",
		       pool->name, v->name, name);
		return -EINVAL;
	}
	from = md3_vol_find(&pool->md3->st, c->image);
	strscpy(from_name, from ? from->name : "?", sizeof(from_name));
	noio = sp_md3_enter();
	r = md3_clone_move(pool->md3, name, v->md3_id);
	sp_md3_exit(noio);
	if (r)
		return sp_md3_clone_failed(v, "move", name, r);
	sp_info("%s: clone %s moved from image %s to image %s",
		pool->name, name, from_name, v->name);
	return sp_md3_sync(pool);
}

/*
 * @fn for each clone of image @v, in the order they were added (the
 * configfs clone_list, which has no page limit).  Under pool->lock.
 */
void sp_md3_for_each_clone(struct sp_volume *v,
			   void (*fn)(void *arg, const char *name, u32 thin_id,
				      u64 sectors),
			   void *arg)
{
	struct sp_pool *pool = v->pool;
	const struct md3_state *st;
	u64 i;

	if (!pool->md3 || !v->md3_id)
		return;
	st = &pool->md3->st;
	for (i = 0; i < st->nr_clones; i++)
		if (st->clones[i].image == v->md3_id)
			fn(arg, st->clones[i].name, st->clones[i].thin_id,
			   st->clones[i].sectors);
}

/*
 * May @v change size?  Not while the pool is read-only (-EROFS, logged):
 * it publishes no volume then, but @v may be one of its volumes all the
 * same, so not even a size that looks unchanged is taken as done.
 */
int sp_md3_writable(struct sp_volume *v)
{
	struct sp_pool *pool = v->pool;

	if (pool->md3 && pool->md3_rw)
		return 0;
	sp_err("%s: refused: the pool is read-only until every current member is enabled; volume %s not resized",
	       pool->name, v->name);
	return -EROFS;
}

/*
 * Is every one of the @missing slices of live volume @v that no enabled
 * member serves lost for good: on a member that the state of the
 * read-write pool no longer has current (forced out, stale, removed), or
 * on none?  Then the volume can be deleted (sp_volume_resize()); a slice
 * on a current member that is only not enabled may still come back.
 */
bool sp_md3_all_lost(struct sp_volume *v, u64 missing)
{
	struct sp_pool *pool = v->pool;
	const struct md3_volume *vol;
	const struct md3_member *sm;
	u64 i, lost = 0;

	if (!pool->md3 || !pool->md3_rw || !v->md3_id)
		return false;
	vol = md3_vol_find(&pool->md3->st, v->md3_id);
	for (i = 0; vol && i < vol->nr_slices; i++) {
		sm = md3_member_find(&pool->md3->st, vol->map[i].member);
		lost += !sm || sm->status != MD3_CURRENT;
	}
	return missing && lost == missing;
}

/*
 * A size other than 0 for @v, whose missing slices are all lost
 * (sp_md3_all_lost()): refused (-EIO), naming the first member that held
 * them and what it takes instead (delete the volume).  A member stale
 * only after a failed write may still rejoin: enabling it again brings
 * its slices back.
 */
int sp_md3_lost_refused(struct sp_volume *v, u64 missing)
{
	struct sp_pool *pool = v->pool;
	const struct md3_state *st = &pool->md3->st;
	const struct md3_member *sm, *first = NULL;
	const struct md3_volume *vol = md3_vol_find(st, v->md3_id);
	u64 i, on_first = 0;

	for (i = 0; vol && i < vol->nr_slices; i++) {
		sm = md3_member_find(st, vol->map[i].member);
		if (!sm || sm->status == MD3_CURRENT)
			continue;
		if (!first)
			first = sm;
		on_first += sm == first;
	}
	if (!first) {
		sp_err("%s: refused: %llu slice(s) of volume %s are on no member: its data there is lost; the only way out is deleting the volume (size 0); volume %s not resized",
		       pool->name, missing, v->name, v->name);
	} else if (first->status == MD3_STALE &&
		   first->reason != MD3_R_FORCED) {
		sp_err("%s: refused: volume %s has %llu slice(s) on member %u (%.*s), %s at seq %llu: enable its device again to rejoin it, or delete the volume (size 0); volume %s not resized",
		       pool->name, v->name, on_first, first->id,
		       MD3_NAME_LEN, first->name, sp_md3_gone_how(first),
		       first->stale_seq, v->name);
	} else {
		sp_err("%s: refused: volume %s has %llu slice(s) on member %u (%.*s), %s%s: the volume's data there is lost; the only way out is deleting the volume (size 0), then removing the member; volume %s not resized",
		       pool->name, v->name, on_first, first->id,
		       MD3_NAME_LEN, first->name, sp_md3_gone_how(first),
		       missing > on_first ?
		       ", and slices on other members no longer in the pool" :
		       "",
		       v->name);
	}
	return -EIO;
}

/* Create (@old_nr 0) or expand @v to @new_nr slices: one transaction. */
static int sp_md3_grow(struct sp_volume *v, u64 bytes, u64 old_nr, u64 new_nr)
{
	struct sp_pool *pool = v->pool;
	u64 count = new_nr - old_nr, i, id;
	struct md3_slice *add;
	struct sp_pick *picks;
	unsigned int noio;
	u32 spread;
	int r;

	if (!old_nr && v->state == SP_VOL_DELETED)
		generate_random_uuid(v->uuid);	/* a new volume */
	spread = sp_domains_used(v, old_nr) >= pool->min_domains ?
		1 : pool->min_domains;
	picks = kvcalloc(count, sizeof(*picks), GFP_KERNEL);
	add = kvcalloc(count, sizeof(*add), GFP_KERNEL);
	if (!picks || !add) {
		r = -ENOMEM;
		goto out;
	}
	r = sp_allocate(pool, v, old_nr, count, spread, picks);
	if (r)
		goto out;
	for (i = 0; i < count; i++) {
		add[i].member = picks[i].m->md3_id;
		add[i].pslice = picks[i].p;
	}
	noio = sp_md3_enter();
	if (old_nr)
		r = md3_vol_expand(pool->md3, v->md3_id, bytes, add, count);
	else
		r = md3_vol_create(pool->md3, &id, v->uuid, v->name, bytes,
				   add, count);
	sp_md3_exit(noio);
	if (r)
		sp_md3_vol_failed(v, old_nr ? "expand" : "create", r);
out:
	kvfree(add);
	kvfree(picks);
	return r;
}

/*
 * Resize @v to @bytes (@new_nr slices) in a format-3 pool, after
 * sp_volume_resize()'s checks: create, expand, shrink, delete or a
 * size-only change, each one md3 transaction; then the model is synced
 * from the state, whatever the outcome.
 */
int sp_md3_resize(struct sp_volume *v, u64 bytes, u64 new_nr)
{
	struct sp_pool *pool = v->pool;
	bool live = v->state == SP_VOL_LIVE && v->md3_id;
	u64 old_nr = live ? v->nr_slices : 0;
	unsigned int noio;
	int r, rs;

	r = sp_md3_writable(v);
	if (r)
		return r;
	if (!live || new_nr > old_nr) {
		r = sp_md3_grow(v, bytes, old_nr, new_nr);
	} else {
		r = new_nr < old_nr ? sp_shrink_check(v, new_nr) : 0;
		if (r)
			return r;
		noio = sp_md3_enter();
		if (!new_nr)
			r = md3_vol_delete(pool->md3, v->md3_id);
		else if (new_nr < old_nr || bytes < v->size_bytes)
			r = md3_vol_shrink(pool->md3, v->md3_id, bytes, new_nr);
		else
			r = md3_vol_expand(pool->md3, v->md3_id, bytes, NULL, 0);
		sp_md3_exit(noio);
		if (r)
			sp_md3_vol_failed(v, !new_nr ? "delete" : "shrink", r);
	}
	rs = sp_md3_sync(pool);
	if (!r && !live && !rs && !v->md3_id)
		r = -EIO;	/* committed, but the volume is not in the state */
	return r ? r : rs;
}
