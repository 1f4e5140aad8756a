// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: allocation of new slices by the load-ratio placement rule
 * (placement.c), domain level first, then member level.
 *
 * Everything here runs under pool->lock.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"
#include "placement.h"

/* A failure domain: mem[first..first + nr) of the sorted members. */
struct sp_dom {
	const char *name;
	unsigned int first;
	unsigned int nr;
};

/* Members by domain label, then by name. */
static int sp_member_cmp(const void *a, const void *b)
{
	struct sp_member *x = *(struct sp_member * const *)a;
	struct sp_member *y = *(struct sp_member * const *)b;
	int c = strcmp(x->domain, y->domain);

	return c ? c : strcmp(config_item_name(&x->item),
			      config_item_name(&y->item));
}

/*
 * Group the usable members (enabled, not failed, not draining, and not in
 * the bitmap @skip of member indexes, if given) into domains: @mem
 * (pool->nr_enabled entries) gets them sorted by domain label, then by
 * name, and @dom the runs of one label.  The index in that order is the
 * placement id, so ties break by label/name order.  Returns the number
 * of domains.
 */
static unsigned int sp_domains(struct sp_pool *pool, struct sp_member **mem,
			       struct sp_dom *dom, const unsigned long *skip)
{
	struct sp_member *m;
	unsigned int n = 0, nd = 0, k;

	list_for_each_entry(m, &pool->members, list) {
		if (!m->enabled || m->failed || m->draining ||
		    (skip && test_bit(m->index, skip)))
			continue;
		if (WARN_ON_ONCE(n >= pool->nr_enabled))
			break;
		mem[n++] = m;
	}
	sort(mem, n, sizeof(*mem), sp_member_cmp, NULL);
	for (k = 0; k < n; k++) {
		if (!nd || strcmp(dom[nd - 1].name, mem[k]->domain)) {
			dom[nd].name = mem[k]->domain;
			dom[nd].first = k;
			dom[nd].nr = 0;
			nd++;
		}
		dom[nd - 1].nr++;
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
static void sp_domain_cand(struct sp_member **mem, struct sp_dom *d, u32 id,
			   struct sp_place_cand *c)
{
	unsigned int k;
	u64 load = 0;

	c->id = id;
	c->free = 0;
	c->total = 0;
	for (k = d->first; k < d->first + d->nr; k++) {
		c->free += mem[k]->nr_free;
		c->total += mem[k]->nr_slices;
		load += sp_member_load(mem[k]);
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
 * slices, but those whose index is set in the bitmap @skip (if given),
 * and reserve them in memory as orphans of @v.  picks[i] receives logical
 * slice first + i.  The arrays are sized by the enabled members and
 * allocated (kvcalloc): none is on the stack.
 */
int sp_allocate_skip(struct sp_pool *pool, struct sp_volume *v, u64 first,
		     u64 count, u32 min_spread, const unsigned long *skip,
		     struct sp_pick *picks)
{
	struct sp_place_params dp = {
		.w_space = pool->weight_space,
		.w_load = pool->weight_load,
		.min_spread = min_spread,
	};
	unsigned int ne = max(pool->nr_enabled, 1U), nd = 0, d, k;
	struct sp_place_params mp = dp;
	struct sp_place_cand *dc, *mc;
	struct sp_place_work *ws;
	struct sp_member **mem;
	u64 *dshare, *mshare;
	u32 *dorder = NULL, **morder;
	u64 *mnext;
	struct sp_dom *dom;
	u64 i;
	int r = -ENOMEM;

	mp.min_spread = 1;
	mem = kvcalloc(ne, sizeof(*mem), GFP_KERNEL);
	dom = kvcalloc(ne, sizeof(*dom), GFP_KERNEL);
	dc = kvcalloc(ne, sizeof(*dc), GFP_KERNEL);
	mc = kvcalloc(ne, sizeof(*mc), GFP_KERNEL);
	dshare = kvcalloc(ne, sizeof(*dshare), GFP_KERNEL);
	mshare = kvcalloc(ne, sizeof(*mshare), GFP_KERNEL);
	morder = kvcalloc(ne, sizeof(*morder), GFP_KERNEL);
	mnext = kvcalloc(ne, sizeof(*mnext), GFP_KERNEL);
	ws = kvmalloc(sizeof(*ws), GFP_KERNEL);
	dorder = kvcalloc(count, sizeof(*dorder), GFP_KERNEL);
	if (!mem || !dom || !dc || !mc || !dshare || !mshare || !morder ||
	    !mnext || !ws || !dorder)
		goto out;

	nd = sp_domains(pool, mem, dom, skip);
	for (d = 0; d < nd; d++)
		sp_domain_cand(mem, &dom[d], d, &dc[d]);
	r = sp_place(dc, nd, count, &dp, dshare, ws);
	if (r) {
		sp_err("%s: cannot place %llu slices for volume %s: %d%s",
		       pool->name, count, v->name, r,
		       r == -ENOSPC ? " (not enough free slices in the pool)" : "");
		goto out;
	}
	r = sp_place_order(dc, dshare, nd, count, dorder, ws);
	if (r)
		goto out;

	for (d = 0; d < nd; d++) {
		struct sp_member **dm = &mem[dom[d].first];

		if (!dshare[d])
			continue;
		for (k = 0; k < dom[d].nr; k++)
			sp_member_cand(dm[k], k, &mc[k]);
		r = sp_place(mc, dom[d].nr, dshare[d], &mp, mshare, ws);
		if (r)
			goto out;
		morder[d] = kvcalloc(dshare[d], sizeof(u32), GFP_KERNEL);
		if (!morder[d]) {
			r = -ENOMEM;
			goto out;
		}
		r = sp_place_order(mc, mshare, dom[d].nr, dshare[d], morder[d],
				   ws);
		if (r)
			goto out;
	}

	for (i = 0; i < count; i++) {
		struct sp_member *m;
		struct sp_owner *o;
		u64 p;

		d = dorder[i];
		m = mem[dom[d].first + morder[d][mnext[d]++]];
		p = sp_first_free(m);
		if (WARN_ON(p == U64_MAX)) {
			r = -ENOSPC;
			goto out;
		}
		o = &m->owners[p];
		memcpy(o->uuid, v->uuid, SP_UUID_LEN);
		o->logical = first + i;
		o->state = SP_OWN_ORPHAN;
		m->nr_free--;
		picks[i].m = m;
		picks[i].p = p;
	}
	r = 0;
out:
	if (morder)
		for (d = 0; d < nd; d++)
			kvfree(morder[d]);
	kvfree(dorder);
	kvfree(ws);
	kvfree(mnext);
	kvfree(morder);
	kvfree(mshare);
	kvfree(dshare);
	kvfree(mc);
	kvfree(dc);
	kvfree(dom);
	kvfree(mem);
	return r;
}

/* sp_allocate_skip() over every member that takes new slices. */
int sp_allocate(struct sp_pool *pool, struct sp_volume *v, u64 first,
		u64 count, u32 min_spread, struct sp_pick *picks)
{
	return sp_allocate_skip(pool, v, first, count, min_spread, NULL,
				picks);
}
