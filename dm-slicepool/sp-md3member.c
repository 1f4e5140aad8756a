// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the members of a pool on metadata format 3 (see
 * sp-md3pool.c for the whole picture): a member's device closed, a
 * blank device formatted or added as a new member (one md3 transaction
 * each), a member grown or removed (present or absent), and a failed or
 * stale member taken back online (sp_md3_member_online()).  Assembly,
 * force and prefer are in sp-md3asm.c.  Everything here runs under
 * pool->lock, which serialises every md3 call on pool->md3.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"
#include "sp-md3io.h"
#include "sp-md3pool.h"

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
int sp_md3_blank(struct sp_member *m, bool *blank)
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
int sp_md3_create(struct sp_member *m)
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
struct md3_attach sp_md3_attach_of(struct sp_member *m, u8 *uuid)
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
int sp_md3_add(struct sp_member *m)
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
 * configfs drain (under pool->lock): @m takes no new slice (@on) or takes
 * them again, kept in the pool metadata (MD3_MEMBER_DRAIN, one
 * transaction) so that a reassembly keeps it; the sync then sets
 * m->draining from the state.
 */
int sp_md3_member_drain(struct sp_member *m, bool on)
{
	struct sp_pool *pool = m->pool;
	const struct md3_member *sm;
	unsigned int noio;
	u32 flags;
	int r;

	sm = pool->md3 ? md3_member_find(&pool->md3->st, m->md3_id) : NULL;
	if (!sm) {
		sp_err("%s: drain %d refused: the member is not in the pool's metadata",
		       sp_mname(m), on);
		return -ENODEV;
	}
	flags = on ? sm->flags | MD3_MEMBER_DRAIN : sm->flags & ~MD3_MEMBER_DRAIN;
	noio = sp_md3_enter();
	r = md3_member_set_flags(pool->md3, m->md3_id, flags);
	sp_md3_exit(noio);
	if (r) {
		sp_err("%s: drain %d refused: writing the pool metadata failed: %d%s; nothing changed",
		       sp_mname(m), on, r, r == -EROFS ? sp_md3_rofs : "");
		return r;
	}
	return sp_md3_sync(pool);
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
const char *sp_md3_gone_how(const struct md3_member *sm)
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
