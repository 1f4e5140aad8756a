// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: assembly of a pool on metadata format 3 (see
 * sp-md3pool.c for the whole picture): every member enable reassembles
 * the pool from the enabled members' devices (md3_assemble(),
 * sp_md3_member_open()); a device of a member forced out is refused, a
 * device of an add that did not commit is formatted again when safe
 * (sp_md3_readd()), a fork of the members' journals is resolved by the
 * pool's prefer attribute (sp_md3_prefer_plan(), sp_md3_set_prefer()),
 * and the operator's force marks absent current members stale
 * (sp_md3_force()).  Everything here runs under pool->lock, which
 * serialises every md3 call on pool->md3.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"
#include "sp-md3io.h"
#include "sp-md3pool.h"

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

/* ---- prefer: a fork resolved in favour of a member ---------------- */

/*
 * Do @p's devices fork?  A device on a branch that lost (diverged), or a
 * refusal although a device holds a journal of the pool (md3 refuses only
 * at a fork that no branch wins, prefer's included).
 */
static bool sp_md3_forked(const struct md3_pool *p)
{
	bool any = false;
	u32 i;

	for (i = 0; i < p->nr_devs; i++) {
		if (p->devs[i].role == MD3_ROLE_DIVERGED)
			return true;
		any |= p->devs[i].chain.kind == MD3_CHAIN_OK;
	}
	return p->mode == MD3_MODE_REFUSED && any;
}

/* Does a device of @p hold the journal of member @id? */
static bool sp_md3_has_dev(const struct md3_pool *p, u32 id)
{
	u32 i;

	for (i = 0; i < p->nr_devs; i++)
		if (p->devs[i].chain.kind == MD3_CHAIN_OK &&
		    p->devs[i].chain.member_id == id)
			return true;
	return false;
}

/*
 * The CURRENT members of @p's state with no device at all among @p's: a
 * device on a branch that lost counts as present (choosing a branch
 * gives it up), one never enabled does not.
 */
static u32 sp_md3_no_dev(const struct md3_pool *p)
{
	u32 i, k, n = 0;

	for (i = 0; i < p->st.nr_members; i++) {
		const struct md3_member *sm = &p->st.members[i];

		if (sm->status != MD3_CURRENT)
			continue;
		for (k = 0; k < p->nr_devs; k++)
			if (p->devs[k].chain.kind == MD3_CHAIN_OK &&
			    p->devs[k].chain.member_id == sm->id &&
			    !memcmp(p->devs[k].chain.member_uuid, sm->uuid,
				    MD3_UUID_LEN))
				break;
		n += k == p->nr_devs;
	}
	return n;
}

/* Is the device @ctx in sync or lagging in assembly @p (NULL: no)? */
static bool sp_md3_on_winner(const struct md3_pool *p, void *ctx)
{
	u32 i;

	for (i = 0; p && i < p->nr_devs; i++)
		if (p->devs[i].dev.ctx == ctx)
			return p->devs[i].role == MD3_ROLE_INSYNC ||
			       p->devs[i].role == MD3_ROLE_LAGGING;
	return false;
}

static const char sp_md3_wait_absent[] =
	"; read-only until the chosen branch's absent current members are enabled, or forced";

/*
 * pool->prefer is set: how the assembly with @m's device runs (*@o),
 * decided from the same assembly with md3's prefer, without writing
 * (Documentation/dm-slicepool.rst, "Resolving a fork: prefer"):
 *  - the devices do not fork: as without prefer, except that a pool not
 *    read-write stays read-only (nowrite) until the device of the
 *    preferred member is enabled: a subset of the devices cannot show a
 *    fork, and must not bring up the branch prefer does not choose;
 *  - they fork: the branch of the preferred member's device wins
 *    (md3_assemble_opts.prefer).  @m's device on another branch is
 *    refused, as is a choice that would take a read-write pool to
 *    another branch.  While a CURRENT member of the chosen branch has no
 *    device enabled at all the pool stays read-only (nowrite; force goes
 *    on without it); a member whose device is on a branch that lost is
 *    given up by the choice (marked STALE(forced) by the assembly).
 * Nothing is written here.  Returns 0, or the refusal (logged).
 */
static int sp_md3_prefer_plan(struct sp_member *m,
			      struct md3_assemble_opts *o)
{
	struct md3_assemble_opts t = *o;
	struct sp_pool *pool = m->pool;
	const u32 id = pool->prefer_id;
	struct sp_member *om;
	struct md3_pool *p;
	bool present;
	u32 i, absent;
	int r;

	t.nowrite = true;
	t.prefer = true;
	t.prefer_member = id;
	r = sp_md3_assemble(pool, m, &t, &p);
	if (r)
		return r;
	present = sp_md3_has_dev(p, id);
	if (!sp_md3_forked(p)) {
		if (!present && !pool->md3_rw) {
			o->nowrite = true;
			sp_info("%s: pool %s stays read-only until the device of member %u, which its prefer attribute names, is enabled",
				sp_mname(m), pool->name, id);
		}
		goto out;
	}
	if (p->mode == MD3_MODE_REFUSED) {
		sp_md3_report(pool, p, true);
		sp_err("%s: refused: the members' journals have forked, and member %u (prefer) %s; nothing changed",
		       sp_mname(m), id, present ?
		       "holds no single branch of them (its journal ends before the fork)" :
		       "has no device enabled: enable it first");
		r = -EEXIST;
		goto out;
	}
	for (i = 0; i < p->nr_devs; i++) {
		const struct md3_pdev *pd = &p->devs[i];

		if (pd->role != MD3_ROLE_DIVERGED)
			continue;
		if (pd->dev.ctx == m->mdev) {
			sp_md3_report(pool, p, false);
			sp_err("%s: refused: %s is member %u of pool %s on a branch that prefer (member %u) does not choose (diverged at seq %llu): its copy is never used; leave it out, or wipe its labels (blocks 0 and 1) and enable it to add the device as a new member; nothing changed",
			       sp_mname(m), m->path, pd->chain.member_id,
			       pool->name, id, pd->fork_seq);
			r = -EBUSY;
			goto out;
		}
		om = sp_md3_member_of(pool, pd->dev.ctx);
		if (om && pool->md3_rw && sp_md3_on_winner(pool->md3, om->mdev)) {
			sp_err("%s: refused: prefer (member %u) chooses another branch than the one read-write pool %s is on (member %s diverged at seq %llu); disable the pool's members and enable them again to change branch; nothing changed",
			       sp_mname(m), id, pool->name, sp_mname(om),
			       pd->fork_seq);
			r = -EBUSY;
			goto out;
		}
	}
	for (i = 0; i < p->nr_devs; i++)
		if (p->devs[i].dev.ctx == m->mdev &&
		    p->devs[i].role != MD3_ROLE_INSYNC &&
		    p->devs[i].role != MD3_ROLE_LAGGING &&
		    p->devs[i].role != MD3_ROLE_STALE)
			o->nowrite = true;	/* refused below, nothing written */
	absent = sp_md3_no_dev(p);
	o->prefer = true;
	o->prefer_member = id;
	if (absent)
		o->nowrite = true;
	sp_warn("%s: the members' journals have forked: prefer chooses the branch of member %u (seq %llu); devices on the other branches are never used%s",
		pool->name, id, p->winner.seq, absent ? sp_md3_wait_absent : "");
out:
	sp_md3_free_pool(p);
	return r;
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
	r = pool->prefer ? sp_md3_prefer_plan(m, &o) : 0;
	if (r == -EEXIST || r == -EBUSY)
		return r;
	if (!r)
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
		if (p->mode == MD3_MODE_REFUSED && sp_md3_forked(p) &&
		    !pool->prefer)
			sp_err("%s: to go on with one branch, write the id of a member on it to the pool's prefer attribute ('slicepool assemble --prefer MEMBER'); the other branches' devices are then never used",
			       pool->name);
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
	if (!pool->md3_rw && pool->prefer &&
	    !sp_md3_member(pool, pool->prefer_id))
		sp_info("%s: waiting for member %u (prefer): enable its device, or clear prefer (write none)",
			pool->name, pool->prefer_id);
	else if (!pool->md3_rw)
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
	if (pool->prefer) {
		/* Else the branch prefer does not choose could be forced. */
		if (!sp_md3_member(pool, pool->prefer_id)) {
			sp_err("%s: force refused: prefer names member %u, whose device is not enabled; enable it, or clear prefer (write none)",
			       pool->name, pool->prefer_id);
			return -EINVAL;
		}
		o.prefer = true;
		o.prefer_member = pool->prefer_id;
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

/*
 * configfs prefer (under pool->lock): set (@on, member @id) or clear the
 * member whose branch wins at a fork of the members' journals
 * (sp_md3_prefer_plan(), sp_md3_force()).  A read-write pool holds no
 * fork among its enabled members: there @id must be one of its enabled
 * current members (kept for the devices enabled later); choosing another
 * branch takes disabling the members first.
 */
int sp_md3_set_prefer(struct sp_pool *pool, bool on, u32 id)
{
	const struct md3_member *sm;

	if (!on) {
		if (pool->prefer)
			sp_info("%s: prefer cleared (was member %u)",
				pool->name, pool->prefer_id);
		pool->prefer = false;
		return 0;
	}
	if (pool->md3_rw) {
		sm = md3_member_find(&pool->md3->st, id);
		if (!sm || sm->status != MD3_CURRENT ||
		    !sp_md3_member(pool, id)) {
			sp_err("%s: prefer %u refused: the pool is read-write and member %u is not one of its enabled current members: no fork to resolve in its favour (to assemble another branch, disable the members first)",
			       pool->name, id, id);
			return -EINVAL;
		}
	}
	pool->prefer = true;
	pool->prefer_id = id;
	sp_info("%s: prefer member %u: at a fork of the members' journals its branch wins, and the other branches' devices are never used",
		pool->name, id);
	return 0;
}
