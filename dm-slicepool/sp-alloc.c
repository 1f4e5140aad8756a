// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: allocation of new slices by the load-ratio placement rule
 * (placement.c), domain level first, then member level.
 *
 * Everything here runs under pool->lock.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"
#include "placement.h"

struct sp_dom {
	const char *name;
	unsigned int nr;
	struct sp_member *mem[SP_MAX_MEMBERS];
};

/*
 * Group the usable members (enabled, not failed, not draining, and not in
 * @skip, a mask of member indexes) into domains.  Domains are sorted by
 * label and members by name, and the index in that order is the placement
 * id, so ties break by label/name order.
 */
static unsigned int sp_domains(struct sp_pool *pool, struct sp_dom *dom,
			       u64 skip)
{
	struct sp_member *m;
	unsigned int nd = 0, d, k;

	list_for_each_entry(m, &pool->members, list) {
		if (!m->enabled || m->failed || m->draining ||
		    (skip & BIT_ULL(m->index)))
			continue;
		for (d = 0; d < nd; d++)
			if (!strcmp(dom[d].name, m->domain))
				break;
		if (d == nd) {
			for (d = 0; d < nd && strcmp(dom[d].name, m->domain) < 0;
			     d++)
				;
			memmove(&dom[d + 1], &dom[d], (nd - d) * sizeof(*dom));
			dom[d].name = m->domain;
			dom[d].nr = 0;
			nd++;
		}
		for (k = 0; k < dom[d].nr &&
		     strcmp(config_item_name(&dom[d].mem[k]->item),
			    config_item_name(&m->item)) < 0; k++)
			;
		memmove(&dom[d].mem[k + 1], &dom[d].mem[k],
			(dom[d].nr - k) * sizeof(dom[d].mem[0]));
		dom[d].mem[k] = m;
		dom[d].nr++;
	}
	return nd;
}

static void sp_member_cand(struct sp_member *m, u32 id,
			   struct sp_place_cand *c)
{
	c->id = id;
	c->free = m->nr_free;
	c->total = m->nr_slices;
	c->load = sp_member_load(m);
}

/* Domain candidate: summed space, mean member load. */
static void sp_domain_cand(struct sp_dom *d, u32 id, struct sp_place_cand *c)
{
	unsigned int k;
	u64 load = 0;

	c->id = id;
	c->free = 0;
	c->total = 0;
	for (k = 0; k < d->nr; k++) {
		c->free += d->mem[k]->nr_free;
		c->total += d->mem[k]->nr_slices;
		load += sp_member_load(d->mem[k]);
	}
	c->load = d->nr ? div_u64(load, d->nr) : 0;
}

/* Lowest free physical slice; m->free_hint is a lower bound for it. */
u64 sp_first_free(struct sp_member *m)
{
	u64 p;

	for (p = m->free_hint; p < m->nr_slices; p++) {
		if (m->owners[p].state == SP_OWN_FREE) {
			m->free_hint = p + 1;
			return p;
		}
	}
	m->free_hint = m->nr_slices;
	return U64_MAX;
}

void sp_slice_freed(struct sp_member *m, u64 p)
{
	m->nr_free++;
	m->free_hint = min(m->free_hint, p);
}

/*
 * Choose @count physical slices by the placement rule (domain level with
 * @min_spread, then member level with 1) among the members that take new
 * slices, but those whose index is in the mask @skip, and reserve them in
 * memory as orphans of @v.  picks[i] receives logical slice first + i.
 */
int sp_allocate_skip(struct sp_pool *pool, struct sp_volume *v, u64 first,
		     u64 count, u32 min_spread, u64 gen, u64 skip,
		     struct sp_pick *picks)
{
	struct sp_place_params dp = {
		.w_space = pool->weight_space,
		.w_load = pool->weight_load,
		.min_spread = min_spread,
	};
	struct sp_place_params mp = dp;
	struct sp_place_cand *dc = NULL, *mc = NULL;
	u64 *dshare = NULL, *mshare = NULL;
	u32 *dorder = NULL, **morder = NULL;
	u64 *mnext = NULL;
	struct sp_dom *dom;
	unsigned int nd, d, k;
	u64 i;
	int r = -ENOMEM;

	mp.min_spread = 1;
	dom = kcalloc(SP_MAX_MEMBERS, sizeof(*dom), GFP_KERNEL);
	dc = kcalloc(SP_MAX_MEMBERS, sizeof(*dc), GFP_KERNEL);
	mc = kcalloc(SP_MAX_MEMBERS, sizeof(*mc), GFP_KERNEL);
	dshare = kcalloc(SP_MAX_MEMBERS, sizeof(*dshare), GFP_KERNEL);
	mshare = kcalloc(SP_MAX_MEMBERS, sizeof(*mshare), GFP_KERNEL);
	morder = kcalloc(SP_MAX_MEMBERS, sizeof(*morder), GFP_KERNEL);
	mnext = kcalloc(SP_MAX_MEMBERS, sizeof(*mnext), GFP_KERNEL);
	dorder = kvcalloc(count, sizeof(*dorder), GFP_KERNEL);
	if (!dom || !dc || !mc || !dshare || !mshare || !morder || !mnext ||
	    !dorder)
		goto out;

	nd = sp_domains(pool, dom, skip);
	for (d = 0; d < nd; d++)
		sp_domain_cand(&dom[d], d, &dc[d]);
	r = sp_place(dc, nd, count, &dp, dshare);
	if (r) {
		sp_err("%s: cannot place %llu slices for volume %s: %d%s",
		       pool->name, count, v->name, r,
		       r == -ENOSPC ? " (not enough free slices in the pool)" : "");
		goto out;
	}
	r = sp_place_order(dc, dshare, nd, count, dorder);
	if (r)
		goto out;

	for (d = 0; d < nd; d++) {
		if (!dshare[d])
			continue;
		for (k = 0; k < dom[d].nr; k++)
			sp_member_cand(dom[d].mem[k], k, &mc[k]);
		r = sp_place(mc, dom[d].nr, dshare[d], &mp, mshare);
		if (r)
			goto out;
		morder[d] = kvcalloc(dshare[d], sizeof(u32), GFP_KERNEL);
		if (!morder[d]) {
			r = -ENOMEM;
			goto out;
		}
		r = sp_place_order(mc, mshare, dom[d].nr, dshare[d], morder[d]);
		if (r)
			goto out;
	}

	for (i = 0; i < count; i++) {
		struct sp_member *m;
		struct sp_owner *o;
		u64 p;

		d = dorder[i];
		m = dom[d].mem[morder[d][mnext[d]++]];
		p = sp_first_free(m);
		if (WARN_ON(p == U64_MAX)) {
			r = -ENOSPC;
			goto out;
		}
		o = &m->owners[p];
		memcpy(o->uuid, v->uuid, SP_UUID_LEN);
		o->logical = first + i;
		o->gen = gen;
		o->state = SP_OWN_ORPHAN;
		m->nr_free--;
		picks[i].m = m;
		picks[i].p = p;
	}
	r = 0;
out:
	if (morder)
		for (d = 0; d < SP_MAX_MEMBERS; d++)
			kvfree(morder[d]);
	kvfree(dorder);
	kfree(mnext);
	kfree(morder);
	kfree(mshare);
	kfree(dshare);
	kfree(mc);
	kfree(dc);
	kfree(dom);
	return r;
}

/* sp_allocate_skip() over every member that takes new slices. */
int sp_allocate(struct sp_pool *pool, struct sp_volume *v, u64 first,
		u64 count, u32 min_spread, u64 gen,
		struct sp_pick *picks)
{
	return sp_allocate_skip(pool, v, first, count, min_spread, gen, 0,
				picks);
}
