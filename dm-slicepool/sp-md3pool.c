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
 * device of theirs that comes back is refused).  A blank device enabled in a
 * read-write pool becomes a new member (md3_attach()), and so does a
 * device of an add to this pool that did not commit, when a read-write
 * assembly finds it safe (md3_readd(), sp_md3_readd()).  Disabling a
 * member takes its device out of the assembled pool: the state stays the
 * newest, so the maps stay, but md3 refuses every transaction (-EROFS)
 * while a current member has no device.
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

/* Why md3 refused a transaction with -EROFS, for the log. */
const char sp_md3_rofs[] =
	" (no metadata write while a current member is disabled or failed: enable it)";

static const char *sp_mname(struct sp_member *m)
{
	return config_item_name(&m->item);
}

static void sp_md3_free_pool(struct md3_pool *p)
{
	if (!p)
		return;
	md3_pool_free(p);
	kfree(p);
}

/* The enabled member whose md3 id is @id, else NULL. */
static struct sp_member *sp_md3_member(struct sp_pool *pool, u32 id)
{
	struct sp_member *m;

	list_for_each_entry(m, &pool->members, list)
		if (m->enabled && m->mdev && m->md3_id == id)
			return m;
	return NULL;
}

/* The member whose device is @ctx (its struct sp_mdev), else NULL. */
static struct sp_member *sp_md3_member_of(struct sp_pool *pool, void *ctx)
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
	if (sm)
		m->data_offset = sm->data_offset;
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

		/* A stale member's copy may be old: missing until rejoined. */
		if (!m || !sm || sm->status != MD3_CURRENT)
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

/* Does the state name @v (sp_pool_gc_volumes())? */
bool sp_md3_has_volume(struct sp_pool *pool, struct sp_volume *v)
{
	return pool->md3 && v->md3_id && md3_vol_find(&pool->md3->st, v->md3_id);
}

/* ---- Members ------------------------------------------------------ */

/*
 * Take @m's device out of the assembled pool and free its md3 access;
 * the pool goes with its last device.
 */
void sp_md3_member_close(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	struct md3_pool *p = pool->md3;
	u32 i;

	if (!m->mdev)
		return;
	for (i = 0; p && i < p->nr_devs; i++) {
		if (p->devs[i].dev.ctx != m->mdev)
			continue;
		md3_chain_free(&p->devs[i].chain);
		memmove(&p->devs[i], &p->devs[i + 1],
			(p->nr_devs - i - 1) * sizeof(p->devs[0]));
		p->nr_devs--;
		break;
	}
	if (p && !p->nr_devs) {
		/* Every member was drained before its device closed. */
		sp_md3_hold_drop_all(pool);
		sp_md3_free_pool(p);
		pool->md3 = NULL;
		pool->md3_rw = false;
	}
	sp_mdev_exit(m->mdev);
	kfree(m->mdev);
	m->mdev = NULL;
	m->md3_id = 0;
}

/* Blocks 0 and 1 (the labels) all zero: a device md3 may format. */
static int sp_md3_blank(struct sp_member *m, bool *blank)
{
	u8 *blk = kmalloc(MD3_BLOCK_SIZE, GFP_KERNEL);
	u64 b;
	int r = 0;

	if (!blk)
		return -ENOMEM;
	*blank = true;
	for (b = MD3_LABEL_A; b <= MD3_LABEL_B && *blank && !r; b++) {
		r = m->mdev->md.ops->read(m->mdev, b, blk);
		if (!r && memchr_inv(blk, 0, MD3_BLOCK_SIZE))
			*blank = false;
	}
	kfree(blk);
	return r;
}

/* The first member of a new pool: md3_create_pool() on @m alone. */
static int sp_md3_create(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	struct md3_pool_rec rec = {
		.slice_sectors = sp_slice_sectors(pool),
		.next_volume_id = 1,
		.w_space = pool->weight_space,
		.w_load = pool->weight_load,
		.min_domains = pool->min_domains,
	};
	const char *dom = m->domain;
	struct md3_pool *p;
	u8 uuid[MD3_UUID_LEN];
	int r;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	memcpy(rec.uuid, pool->uuid, MD3_UUID_LEN);
	strscpy(rec.name, pool->name, sizeof(rec.name));
	generate_random_uuid(uuid);
	r = md3_create_pool(p, &rec, &m->mdev->md, uuid, &dom, 1, NULL, NULL);
	if (r) {
		sp_err("%s: cannot create format-3 pool %s on %s: %d",
		       sp_mname(m), pool->name, m->path, r);
		sp_md3_free_pool(p);
		return r;
	}
	pool->md3 = p;
	pool->md3_rw = true;
	m->md3_id = p->devs[0].chain.member_id;
	sp_info("%s: %s formatted (metadata format 3) for new pool %s: member %u, %llu slices",
		sp_mname(m), m->path, pool->name, m->md3_id,
		md3_member_find(&p->st, m->md3_id)->nr_slices);
	return 0;
}

/* What a new member @m is added with: its name, domain and a new @uuid. */
static struct md3_attach sp_md3_attach_of(struct sp_member *m, u8 *uuid)
{
	generate_random_uuid(uuid);
	return (struct md3_attach){
		.uuid = uuid,
		.name = sp_mname(m),
		.domain = m->domain,
	};
}

/*
 * The smallest device of @dev_sectors' geometry that a member of @pool
 * fits on: its labels and default journal, up to the 1 MiB boundary of
 * the data area (md3_default_journal_blocks() is 4 MiB on such a
 * device), and one slice.
 */
static u64 sp_md3_min_sectors(struct sp_pool *pool, u64 dev_sectors)
{
	u64 meta = (MD3_JOURNAL_START + md3_default_journal_blocks(dev_sectors)) *
		   (MD3_BLOCK_SIZE >> SECTOR_SHIFT);

	return round_up(meta, MD3_DATA_ALIGN_SECTORS) + sp_slice_sectors(pool);
}

/* A blank device into a read-write pool: a new member, one transaction. */
static int sp_md3_add(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	u8 uuid[MD3_UUID_LEN];
	struct md3_attach a = sp_md3_attach_of(m, uuid);
	u64 need;
	u32 id;
	int r;

	r = md3_attach(pool->md3, &m->mdev->md, &a, &id);
	need = sp_md3_min_sectors(pool, m->mdev->md.dev_sectors);
	if (r == -ENOSPC && m->mdev->md.dev_sectors < need) {
		sp_err("%s: refused: %s is too small (%llu sectors): it needs at least %llu sectors, for the metadata and one slice",
		       sp_mname(m), m->path, m->mdev->md.dev_sectors, need);
		return r;
	}
	if (r) {
		sp_err("%s: adding %s to pool %s failed: %d%s", sp_mname(m),
		       m->path, pool->name, r, r == -EROFS ? sp_md3_rofs : "");
		return r;
	}
	m->md3_id = id;
	sp_info("%s: %s added to pool %s (metadata format 3): member %u, %llu slices",
		sp_mname(m), m->path, pool->name, id,
		md3_member_find(&pool->md3->st, id)->nr_slices);
	return 0;
}

/* Log md3's assembly report, line by line. */
static void sp_md3_report(struct sp_pool *pool, struct md3_pool *p, bool err)
{
	char *s = p->msg, *line;

	while ((line = strsep(&s, "\n")))
		if (*line) {
			if (err)
				sp_err("%s: %s", pool->name, line);
			else
				sp_info("%s: %s", pool->name, line);
		}
}

/*
 * Assemble the pool from every enabled member's device and @extra's
 * (NULL: none) with @o: *@pp is the new assembly, for the caller to take
 * or free.
 */
static int sp_md3_assemble(struct sp_pool *pool, struct sp_member *extra,
			   const struct md3_assemble_opts *o,
			   struct md3_pool **pp)
{
	struct md3_dev *devs;
	struct md3_pool *p;
	struct sp_member *m;
	unsigned int n = 0;
	int r;

	devs = kvcalloc(SP_MAX_MEMBERS + 1, sizeof(*devs), GFP_KERNEL);
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!devs || !p) {
		kvfree(devs);
		kfree(p);
		return -ENOMEM;
	}
	list_for_each_entry(m, &pool->members, list)
		if ((m->enabled || m == extra) && m->mdev &&
		    n < SP_MAX_MEMBERS + 1)
			devs[n++] = m->mdev->md;
	r = md3_assemble(p, devs, n, o);
	kvfree(devs);
	if (r) {
		sp_md3_free_pool(p);
		return r;
	}
	*pp = p;
	return 0;
}

/*
 * Is @pd, a device of assembly @p, the copy of a member that a forced
 * activation marked stale (STALE(forced) in @p's state)?  Its chain is
 * then older than the pool's (a prefix, or a branch the force dominates):
 * it is never used again.
 */
static const struct md3_member *sp_md3_forced_dev(const struct md3_pool *p,
						  const struct md3_pdev *pd)
{
	const struct md3_member *sm;

	if (pd->chain.kind != MD3_CHAIN_OK ||
	    (pd->role != MD3_ROLE_STALE && pd->role != MD3_ROLE_DIVERGED))
		return NULL;
	sm = md3_member_find(&p->st, pd->chain.member_id);
	if (!sm || sm->status != MD3_STALE || sm->reason != MD3_R_FORCED ||
	    memcmp(sm->uuid, pd->chain.member_uuid, MD3_UUID_LEN))
		return NULL;
	return sm;
}

/*
 * A member forced out (configfs force) comes back: enabling its device
 * @m is refused (-EBUSY), so the pool never goes back to the copy it
 * holds, nor takes it into the forced state (its data would be used
 * again).  @p is the assembly with @m's device.
 */
static int sp_md3_refuse_forced(struct sp_member *m, const struct md3_pool *p)
{
	const struct md3_member *sm = NULL;
	u32 i;

	for (i = 0; i < p->nr_devs && !sm; i++)
		if (p->devs[i].dev.ctx == m->mdev)
			sm = sp_md3_forced_dev(p, &p->devs[i]);
	if (!sm)
		return 0;
	sp_err("%s: refused: %s is member %u of pool %s, forced out at seq %llu: its copy is stale and never used; leave it out, or wipe its labels (blocks 0 and 1) and enable it to add the device as a new member",
	       sp_mname(m), m->path, sm->id, m->pool->name, sm->stale_seq);
	return -EBUSY;
}

/* Other enabled devices that the assembly @p finds forced out stay stale. */
static void sp_md3_report_forced(struct sp_pool *pool, const struct md3_pool *p)
{
	const struct md3_member *sm;
	struct sp_member *m;
	u32 i;

	for (i = 0; i < p->nr_devs; i++) {
		sm = sp_md3_forced_dev(p, &p->devs[i]);
		m = sm ? sp_md3_member_of(pool, p->devs[i].dev.ctx) : NULL;
		if (m)
			sp_warn("%s: %s stays stale: member %u was forced out of pool %s at seq %llu; its copy is never used (disable it)",
				sp_mname(m), m->path, sm->id, pool->name,
				sm->stale_seq);
	}
}

/*
 * @m's device, @pd of the read-write assembly @p, holds an add to this
 * pool that did not commit (md3_find_readds()): a new member again, one
 * transaction on @p (md3_readd()), as if the device were blank.
 */
static int sp_md3_readd(struct sp_member *m, struct md3_pool *p,
			struct md3_pdev *pd)
{
	u8 uuid[MD3_UUID_LEN];
	struct md3_attach a = sp_md3_attach_of(m, uuid);
	u32 id;
	int r;

	sp_info("%s: %s held an add to pool %s that did not commit; formatting it again",
		sp_mname(m), m->path, m->pool->name);
	r = md3_readd(p, pd, &a, &id);
	if (r)
		sp_err("%s: adding %s to pool %s again failed: %d; nothing changed",
		       sp_mname(m), m->path, m->pool->name, r);
	return r;
}

/*
 * The refusal of @m's device (@pd of assembly @p, NULL if unknown), not
 * a usable member: for a device that is no member in its own journal,
 * what to do next.
 */
static void sp_md3_refuse_orphan(struct sp_member *m, const struct md3_pool *p,
				 const struct md3_pdev *pd)
{
	if (!pd || pd->chain.kind != MD3_CHAIN_ORPHAN) {
		sp_err("%s: refused: %s is not a usable member of pool %s (see above); nothing changed",
		       sp_mname(m), m->path, m->pool->name);
	} else if (p->verdict != MD3_MODE_RW) {
		sp_err("%s: refused: %s holds an add to pool %s that did not commit, or a removed member; enable the pool's other members first (it is then formatted again if it holds nothing newer than the pool); nothing changed",
		       sp_mname(m), m->path, m->pool->name);
	} else {
		sp_err("%s: refused: %s is no member of pool %s (member %u removed, or an add that did not commit) and is not safe to format again; if its data is not needed, wipe its labels ('dd if=/dev/zero of=%s bs=4096 count=2 oflag=direct') and enable it again to add it as a new member; nothing changed",
		       sp_mname(m), m->path, m->pool->name,
		       pd->chain.member_id, m->path);
	}
}

/*
 * @m's device holds a v3 journal (@c): assemble the pool again from
 * every enabled member's device and this one.  The new assembly replaces
 * the old one only if it takes @m; a pool that was read-write stays so
 * (a current member disabled in between is enabled first).
 */
static int sp_md3_reassemble(struct sp_member *m, const struct md3_chain *c)
{
	struct md3_assemble_opts o = { .have_uuid = m->pool->nr_enabled > 0 };
	struct sp_pool *pool = m->pool;
	struct md3_pool *p;
	struct sp_member *o_m;
	struct md3_pdev *pd = NULL;
	int role = MD3_ROLE_UNUSABLE;
	u32 i;
	int r;

	if (o.have_uuid && memcmp(c->pool_uuid, pool->uuid, MD3_UUID_LEN)) {
		sp_err("%s: refused: %s belongs to another pool (uuid %pUb), not to this pool '%s' (uuid %pUb)",
		       sp_mname(m), m->path, c->pool_uuid, pool->name,
		       pool->uuid);
		return -EEXIST;
	}
	memcpy(o.pool_uuid, c->pool_uuid, MD3_UUID_LEN);
	o.have_uuid = true;
	r = sp_md3_assemble(pool, m, &o, &p);
	if (r) {
		sp_err("%s: assembling pool %s with %s failed: %d",
		       sp_mname(m), pool->name, m->path, r);
		return r;
	}
	for (i = 0; i < p->nr_devs; i++)
		if (p->devs[i].dev.ctx == m->mdev) {
			pd = &p->devs[i];
			role = pd->role;
		}
	r = sp_md3_refuse_forced(m, p);
	if (r)
		goto fail;
	if (p->mode == MD3_MODE_RW && pd && pd->readd) {
		r = sp_md3_readd(m, p, pd);
		if (r)
			goto fail;
		role = MD3_ROLE_INSYNC;
	}
	if (p->mode == MD3_MODE_REFUSED || (role != MD3_ROLE_INSYNC &&
					    role != MD3_ROLE_LAGGING &&
					    role != MD3_ROLE_STALE)) {
		sp_md3_report(pool, p, true);
		sp_md3_refuse_orphan(m, p, pd);
		r = -EEXIST;
		goto fail;
	}
	if (pool->md3_rw && p->mode != MD3_MODE_RW) {
		sp_md3_report(pool, p, true);
		sp_err("%s: refused: with %s the pool would come up read-only; enable the pool's disabled members first",
		       sp_mname(m), m->path);
		r = -EBUSY;
		goto fail;
	}
	sp_md3_report(pool, p, false);
	/* The devices' member ids, as the assembly read them. */
	for (i = 0; i < p->nr_devs; i++) {
		o_m = sp_md3_member_of(pool, p->devs[i].dev.ctx);
		if (o_m)
			o_m->md3_id = p->devs[i].chain.member_id;
	}
	if (!pool->nr_enabled) {
		memcpy(pool->uuid, p->st.pool.uuid, SP_UUID_LEN);
		pool->slice_mb = p->st.pool.slice_sectors >> (20 - SECTOR_SHIFT);
		sp_info("%s: adopting pool uuid %pUb, slice %u MiB from %s (metadata format 3)",
			pool->name, pool->uuid, pool->slice_mb, m->path);
		/* The state's settings (sp_md3_settings()), if valid. */
		if (p->st.pool.w_space <= 100 && p->st.pool.w_load <= 100 &&
		    p->st.pool.w_space + p->st.pool.w_load &&
		    p->st.pool.min_domains >= 1 &&
		    p->st.pool.min_domains <= SP_MAX_MEMBERS) {
			pool->weight_space = p->st.pool.w_space;
			pool->weight_load = p->st.pool.w_load;
			pool->min_domains = p->st.pool.min_domains;
			sp_info("%s: weight_space %u, weight_load %u, min_domains %u, as the pool's metadata says",
				pool->name, pool->weight_space,
				pool->weight_load, pool->min_domains);
		}
	}
	sp_md3_free_pool(pool->md3);
	pool->md3 = p;
	pool->md3_rw = p->mode == MD3_MODE_RW;
	if (role == MD3_ROLE_STALE && pool->md3_rw) {
		r = md3_member_rejoin(p, m->md3_id);
		if (r)
			sp_warn("%s: %s stays stale: rejoin failed: %d",
				sp_mname(m), m->path, r);
		else
			sp_info("%s: %s rejoined pool %s", sp_mname(m),
				m->path, pool->name);
	}
	sp_md3_report_forced(pool, p);
	sp_info("%s: %s adopted into pool %s: member %u; the pool is %s",
		sp_mname(m), m->path, pool->name, m->md3_id,
		pool->md3_rw ? "read-write" :
		"read-only until every current member is enabled");
	if (!pool->md3_rw)
		sp_info("%s: to go on without the absent members named above, force the pool read-write: write 1 to its force attribute ('slicepool pool force %s'); they are then marked stale and never used again",
			pool->name, pool->name);
	if (pool->md3_rw)
		sp_md3_rollback_moves(pool);
	return 0;
fail:
	md3_pool_free(p);
	kfree(p);
	return r;
}

/*
 * Enable @m's device (open by the caller) in a format-3 pool: create the
 * pool, add the device as a new member, or reassemble with it.  On
 * failure nothing of @m stays in the pool (the caller closes the device).
 */
int sp_md3_member_open(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	struct md3_chain c;
	unsigned int noio;
	bool blank;
	int r;

	m->mdev = kzalloc(sizeof(*m->mdev), GFP_KERNEL);
	if (!m->mdev)
		return -ENOMEM;
	r = sp_mdev_init(m->mdev, m->bdev.bdev, m->path);
	if (r) {
		kfree(m->mdev);
		m->mdev = NULL;
		return r;
	}
	/* The state names members by their configfs names. */
	m->mdev->md.name = sp_mname(m);
	noio = sp_md3_enter();
	r = md3_read_member(&m->mdev->md, &c);
	if (r) {
		sp_err("%s: cannot read the metadata of %s: %d", sp_mname(m),
		       m->path, r);
		goto out;
	}
	switch (c.kind) {
	case MD3_CHAIN_BLANK:
		r = sp_md3_blank(m, &blank);
		if (r)
			break;
		if (!blank) {
			sp_err("%s: refused: %s is neither blank nor a slicepool member (blocks 0-1 hold other data; wipe the device first)",
			       sp_mname(m), m->path);
			r = -EILSEQ;
		} else if (!pool->md3) {
			r = sp_md3_create(m);
		} else if (!pool->md3_rw) {
			sp_err("%s: refused: pool %s is read-only until every current member is enabled; enable them before adding %s",
			       sp_mname(m), pool->name, m->path);
			r = -EROFS;
		} else {
			r = sp_md3_add(m);
		}
		break;
	case MD3_CHAIN_V2:
		sp_err("%s: refused: %s holds metadata format 2, which is no longer supported: convert its pool offline with 'slicepool upgrade' (every member of it at once); nothing changed",
		       sp_mname(m), m->path);
		r = -EMEDIUMTYPE;
		break;
	case MD3_CHAIN_OK:
		r = sp_md3_reassemble(m, &c);
		break;
	default:
		sp_err("%s: refused: metadata of %s is unreadable: block %llu: %s",
		       sp_mname(m), m->path, c.bad_block,
		       c.why ? c.why : "damaged");
		r = -EIO;
		break;
	}
	md3_chain_free(&c);
out:
	sp_md3_exit(noio);
	if (r)
		sp_md3_member_close(m);
	return r;
}

/*
 * revalidate_size: @m takes @nr slices (all that fit on its device of
 * @dev sectors), one transaction (md3_member_grow()).
 */
int sp_md3_member_grow(struct sp_member *m, u64 dev, u64 nr)
{
	struct sp_pool *pool = m->pool;
	u64 old_nr = m->nr_slices;
	unsigned int noio;
	int r;

	if (nr <= old_nr) {
		sp_info("%s: %s is %llu sectors: no new whole slice, %llu slices as before",
			sp_mname(m), m->path, dev, old_nr);
		return 0;
	}
	noio = sp_md3_enter();
	r = md3_member_grow(pool->md3, m->md3_id, nr);
	sp_md3_exit(noio);
	if (r) {
		sp_err("%s: growing %s from %llu to %llu slices failed: %d%s; the member keeps %llu slices",
		       sp_mname(m), m->path, old_nr, nr, r,
		       r == -EROFS ? sp_md3_rofs : "", old_nr);
		return r;
	}
	r = sp_md3_sync(pool);
	sp_info("%s: %s grew from %llu to %llu slices (%llu sectors)",
		sp_mname(m), m->path, old_nr, nr, dev);
	return r;
}

/*
 * The volumes of @st with a slice on member @id, for a refusal: their
 * names in @buf (the first SP_MD3_NAMES, then "..."), how many in *@nvol;
 * returns how many slices they hold there.
 */
#define SP_MD3_NAMES	4
#define SP_MD3_NAMES_LEN	(SP_MD3_NAMES * (MD3_NAME_LEN + 2) + 8)
static u64 sp_md3_vols_on(const struct md3_state *st, u32 id, char *buf,
			  u64 *nvol)
{
	u64 i, j, n, slices = 0;
	size_t len = 0;

	buf[0] = '\0';
	*nvol = 0;
	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *vol = &st->vols[i];

		for (j = 0, n = 0; j < vol->nr_slices; j++)
			n += vol->map[j].member == id;
		if (!n)
			continue;
		slices += n;
		if (*nvol < SP_MD3_NAMES)
			len += scnprintf(buf + len, SP_MD3_NAMES_LEN - len,
					 "%s%.*s", *nvol ? ", " : "",
					 MD3_NAME_LEN, vol->name);
		else if (*nvol == SP_MD3_NAMES)
			len += scnprintf(buf + len, SP_MD3_NAMES_LEN - len,
					 ", ...");
		(*nvol)++;
	}
	return slices;
}

/*
 * Is member @id (of the state, configfs name @name) free to be removed?
 * Else -EBUSY, logged with the volumes that hold slices on it: for a
 * member the state no longer has current (@gone), one line that says to
 * delete them; else the line of old and one that names them.
 */
static int sp_md3_remove_busy(struct sp_pool *pool, const char *name, u32 id,
			      bool gone)
{
	const struct md3_state *st = &pool->md3->st;
	char *vols;
	u64 used, on_vols, nvol;

	used = md3_member_used(st, id) + sp_md3_hold_fill(pool, id, NULL, 0);
	if (!used)
		return 0;
	vols = kmalloc(SP_MD3_NAMES_LEN, GFP_KERNEL);
	if (!vols)
		return -ENOMEM;
	on_vols = sp_md3_vols_on(st, id, vols, &nvol);
	if (gone && nvol) {
		sp_err("%s: remove refused: the member holds %llu slice(s) of %llu volume(s): %s%s; the member is gone: delete those volumes (size 0), whose data on it is lost, first",
		       name, on_vols, nvol, vols,
		       used > on_vols ? ", and slices of a migration" : "");
	} else {
		sp_err("%s: remove refused: the member holds %llu slice(s) of volumes (or of a migration); migrate them away or shrink the volumes first",
		       name, used);
		if (nvol)
			sp_err("%s: remove refused: %llu of its slices are of %llu volume(s): %s",
			       name, on_vols, nvol, vols);
	}
	kfree(vols);
	return -EBUSY;
}

/* Log a failed md3_member_remove() of member @id; md3 changed nothing. */
static int sp_md3_remove_failed(struct sp_pool *pool, const char *name,
				u32 id, int r)
{
	sp_err("%s: removing member %u from pool %s failed: %d%s; nothing changed",
	       name, id, pool->name, r, r == -EROFS ? sp_md3_rofs : "");
	return r;
}

/*
 * Remove enabled member @m from the state (md3_member_remove(), one
 * transaction): refused while it holds a slice or a move's destination.
 * The caller then disables it; its device keeps labels of a removed
 * member, which no pool takes again until they are wiped.
 */
int sp_md3_member_remove(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	const struct md3_member *sm = md3_member_find(&pool->md3->st,
						      m->md3_id);
	unsigned int noio;
	int r;

	r = sp_md3_remove_busy(pool, sp_mname(m), m->md3_id,
			       sm && sm->status != MD3_CURRENT);
	if (r)
		return r;
	noio = sp_md3_enter();
	r = md3_member_remove(pool->md3, m->md3_id);
	sp_md3_exit(noio);
	if (r)
		return sp_md3_remove_failed(pool, sp_mname(m), m->md3_id, r);
	sp_info("%s: member %u (%s) removed from pool %s", sp_mname(m),
		m->md3_id, m->path, pool->name);
	return sp_md3_sync(pool);
}

/* How member @sm, which the state no longer has current, left it. */
static const char *sp_md3_gone_how(const struct md3_member *sm)
{
	if (sm->status == MD3_REMOVED)
		return "removed";
	if (sm->reason == MD3_R_FORCED)
		return "forced out";
	if (sm->reason == MD3_R_FAILED)
		return "stale after a failed metadata write";
	return "stale";
}

/*
 * remove of @m while it is disabled (sp_member_remove()): the member of
 * the state named as @m (the state names members by their configfs
 * names) can go without its device when the state no longer has it
 * current (forced out, or stale): one transaction (md3_member_remove()),
 * refused while a volume still has a slice on it (delete the volume: its
 * data there is gone).  A current member must be enabled to be removed.
 */
int sp_md3_member_remove_absent(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	const struct md3_member *sm = NULL;
	const char *name = sp_mname(m), *how;
	u32 i, id, removed = MD3_NO_MEMBER;
	unsigned int noio, n = 0, cur = 0;
	struct sp_member *o;
	int r;

	for (i = 0; pool->md3 && i < pool->md3->st.nr_members; i++) {
		const struct md3_member *s = &pool->md3->st.members[i];

		if (strncmp(s->name, name, MD3_NAME_LEN))
			continue;
		if (s->status == MD3_STALE) {
			sm = s;
			n++;
		} else if (s->status == MD3_CURRENT) {
			cur++;
		} else {
			removed = s->id;
		}
	}
	if (!n && !cur && removed != MD3_NO_MEMBER) {
		sp_err("%s: remove refused: member %u of that name was removed from pool %s already; rmdir it",
		       name, removed, pool->name);
		return -EINVAL;
	}
	if (!n) {
		sp_err("%s: remove refused: the member is not enabled (enable it first: remove writes the pool's metadata)",
		       name);
		return -EINVAL;
	}
	if (n > 1) {
		sp_err("%s: remove refused: the metadata of pool %s has %u stale members named %s; nothing changed",
		       name, pool->name, n, name);
		return -EINVAL;
	}
	id = sm->id;
	how = sp_md3_gone_how(sm);
	o = sp_md3_member(pool, id);
	if (o) {
		sp_err("%s: remove refused: the device of member %u is enabled as member %s: remove it there",
		       name, id, sp_mname(o));
		return -EBUSY;
	}
	r = sp_md3_remove_busy(pool, name, id, true);
	if (r)
		return r;
	noio = sp_md3_enter();
	r = md3_member_remove(pool->md3, id);
	sp_md3_exit(noio);
	if (r)
		return sp_md3_remove_failed(pool, name, id, r);
	sp_info("%s: member %u (%s, no device) removed from pool %s",
		name, id, how, pool->name);
	return sp_md3_sync(pool);
}

/*
 * configfs force (under pool->lock): a read-only format-3 pool goes on
 * without its absent current members.  The enabled members' devices are
 * assembled again with md3's force (md3_assemble_opts.force): the same
 * winner rule, then one FORCE transaction marks the absent current
 * members STALE(forced), and the pool is read-write.  Such a member's
 * device is refused when it comes back (sp_md3_refuse_forced()): the
 * pool never goes back to its copy.
 */
int sp_md3_force(struct sp_pool *pool)
{
	struct md3_assemble_opts o = { .force = true, .have_uuid = true };
	const struct md3_state *old;
	struct md3_pool *p;
	unsigned int noio;
	u32 i, n = 0;
	int r;

	if (!pool->md3) {
		sp_err("%s: force refused: no member is enabled; enable the members that are present first",
		       pool->name);
		return -EINVAL;
	}
	if (pool->md3_rw) {
		sp_err("%s: force refused: the pool is already read-write (nothing to force)",
		       pool->name);
		return -EBUSY;
	}
	memcpy(o.pool_uuid, pool->uuid, MD3_UUID_LEN);
	noio = sp_md3_enter();
	r = sp_md3_assemble(pool, NULL, &o, &p);
	sp_md3_exit(noio);
	if (r) {
		sp_err("%s: force failed: assembling the enabled members failed: %d; the pool stays read-only",
		       pool->name, r);
		return r;
	}
	if (p->mode != MD3_MODE_RW) {
		sp_md3_report(pool, p, true);
		sp_err("%s: force failed: the enabled members do not come up read-write (see above); the pool stays read-only",
		       pool->name);
		sp_md3_free_pool(p);
		return -EIO;
	}
	/* One line per member the FORCE transaction marked. */
	old = &pool->md3->st;
	for (i = 0; i < p->st.nr_members; i++) {
		const struct md3_member *sm = &p->st.members[i];
		const struct md3_member *om = md3_member_find(old, sm->id);

		if (sm->status != MD3_STALE || !om || om->status != MD3_CURRENT)
			continue;
		sp_warn("%s: member %u (%s) forced out: marked stale (%s) at seq %llu; its device is refused if it comes back",
			pool->name, sm->id, sm->name,
			sm->reason == MD3_R_FORCED ? "forced" : "failed",
			sm->stale_seq);
		n++;
	}
	sp_md3_free_pool(pool->md3);
	pool->md3 = p;
	pool->md3_rw = true;
	sp_info("%s: forced read-write at seq %llu without %u absent member(s)",
		pool->name, p->st.seq, n);
	sp_md3_rollback_moves(pool);
	return sp_md3_sync(pool);
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

/*
 * Is @m, an enabled member, stale in the state after a failed metadata
 * write (so "online" would rejoin it)?  Under pool->lock.
 */
bool sp_md3_member_stale_failed(struct sp_member *m)
{
	const struct md3_member *sm;

	if (!m->pool->md3 || !m->mdev)
		return false;
	sm = md3_member_find(&m->pool->md3->st, m->md3_id);
	return sm && sm->status == MD3_STALE && sm->reason != MD3_R_FORCED;
}

/* A refusal of "online", logged unless @quiet (an automatic probe's) */
#define sp_online_err(quiet, fmt, ...)			\
	do {						\
		if (!(quiet))				\
			sp_err(fmt, ##__VA_ARGS__);	\
	} while (0)

/*
 * The format-3 part of "online" (sp_member_online()), for an enabled
 * member: its device must answer again as this member of this pool.  A
 * member the state marked stale after a failed metadata write rejoins, one
 * transaction (md3_member_rejoin() reads the device again, checks it is
 * this member's, and catches its journal up), and its slices are in the
 * volumes' maps again.  A current member's device is read again
 * (md3_read_member()) and checked the same way; nothing is written.
 * *@was_stale says which.  Every refusal logs why, unless @quiet.
 */
int sp_md3_member_online(struct sp_member *m, bool *was_stale, bool quiet)
{
	struct sp_pool *pool = m->pool;
	const struct md3_member *sm;
	struct md3_chain c;
	unsigned int noio;
	int r;

	*was_stale = false;
	sm = pool->md3 ? md3_member_find(&pool->md3->st, m->md3_id) : NULL;
	if (!sm || !m->mdev || sm->status == MD3_REMOVED) {
		sp_online_err(quiet, "%s: online refused: pool %s has no member %u current or stale (see its log)",
			      sp_mname(m), pool->name, m->md3_id);
		return -EINVAL;
	}
	if (sm->status == MD3_STALE && sm->reason == MD3_R_FORCED) {
		sp_online_err(quiet, "%s: online refused: member %u of pool %s is %s at seq %llu: its copy is never used again",
			      sp_mname(m), m->md3_id, pool->name, sp_md3_gone_how(sm),
		       sm->stale_seq);
		return -EINVAL;
	}
	if (sm->status == MD3_STALE) {
		*was_stale = true;
		if (!pool->md3_rw) {
			sp_online_err(quiet, "%s: online refused: pool %s is read-only for its metadata; enable its other members first",
				      sp_mname(m), pool->name);
			return -EROFS;
		}
		noio = sp_md3_enter();
		r = md3_member_rejoin(pool->md3, m->md3_id);
		sp_md3_exit(noio);
		if (r) {
			sp_online_err(quiet, "%s: online refused: %s does not answer as member %u of pool %s (rejoin: %d); it stays failed",
				      sp_mname(m), m->path, m->md3_id, pool->name, r);
			sp_md3_sync(pool);
			return -EIO;
		}
		sp_info("%s: %s rejoined pool %s", sp_mname(m), m->path,
			pool->name);
		return sp_md3_sync(pool);
	}
	noio = sp_md3_enter();
	r = md3_read_own(&m->mdev->md, &pool->md3->st, m->md3_id, &c);
	sp_md3_exit(noio);
	if (!r)
		md3_chain_free(&c);
	if (r == -EILSEQ)
		sp_online_err(quiet, "%s: online refused: %s no longer holds member %u of pool %s; nothing changed",
			      sp_mname(m), m->path, m->md3_id, pool->name);
	else if (r)
		sp_online_err(quiet, "%s: online refused: %s does not answer: reading its metadata failed: %d; nothing changed",
			      sp_mname(m), m->path, r);
	return r ? (r == -EILSEQ ? r : -EIO) : 0;
}
