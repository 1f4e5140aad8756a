// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: pool creation and member operations.
 *
 * A new member's geometry (md3_geometry()) and its first checkpoint and
 * labels (md3_format_dev()); creating a pool (md3_create_pool()); and the
 * member operations, each one transaction: add (on a new device or again
 * on one of an add that did not commit), attach, grow, remove, mark
 * STALE and rejoin.
 */
#include "md3-int.h"

/* ---- pool creation ---- */
u64 md3_default_journal_blocks(u64 dev_sectors)
{
	u64 bytes = (dev_sectors << 9) / 512;

	bytes = md3_max(bytes, 4ULL << 20);
	bytes = md3_min(bytes, 1ULL << 30);
	return bytes / MD3_BLOCK_SIZE;
}

/*
 * A new member's layout on a device of @dev_sectors in a pool of
 * @slice_sectors slices, from @g (NULL or zero fields: the defaults):
 * the journal after the labels, the data area after it (or at
 * g->data_offset, the journal then filling the room before it unless
 * g->journal_blocks says less), and *@nr_slices (g->nr_slices, or as many
 * as fit).  -EINVAL for a data offset off the 1 MiB grid or another
 * slice size than the pool's, -ENOSPC if the journal or the slices do
 * not fit.
 */
static int md3_geometry(struct md3_chain *c, u64 dev_sectors,
			const struct md3_geom *g, u64 slice_sectors,
			u64 *nr_slices)
{
	const u64 bs = MD3_BLOCK_SIZE >> 9;
	u64 room, nr;

	c->journal_start = MD3_JOURNAL_START;
	c->journal_blocks = g && g->journal_blocks ? g->journal_blocks :
			    md3_default_journal_blocks(dev_sectors);
	if (g && g->slice_sectors && g->slice_sectors != slice_sectors)
		return -EINVAL;
	if (g && g->data_offset) {
		if (g->data_offset % MD3_DATA_ALIGN_SECTORS)
			return -EINVAL;
		room = g->data_offset / bs - c->journal_start;
		if (!g->journal_blocks)
			c->journal_blocks = md3_min(c->journal_blocks, room);
		if (c->journal_blocks > room)
			return -ENOSPC;
		c->data_offset = g->data_offset;
	} else {
		c->data_offset = (c->journal_start + c->journal_blocks) * bs;
		c->data_offset = md3_div_up(c->data_offset, MD3_DATA_ALIGN_SECTORS) *
				 MD3_DATA_ALIGN_SECTORS;
	}
	if (c->journal_blocks < MD3_MIN_JOURNAL || c->data_offset > dev_sectors)
		return -ENOSPC;
	nr = slice_sectors ? (dev_sectors - c->data_offset) / slice_sectors : 0;
	if (g && g->nr_slices) {
		if (g->nr_slices > nr)
			return -ENOSPC;
		nr = g->nr_slices;
	}
	*nr_slices = nr;
	c->epoch = 1;
	c->kind = MD3_CHAIN_OK;
	return 0;
}

/*
 * Write a new member's first checkpoint (the current state) and then both
 * labels.  A crash before the labels are durable leaves a blank device.
 */
static int md3_format_dev(struct md3_pool *p, struct md3_pdev *pd)
{
	u8 *zero = md3_zalloc(MD3_BLOCK_SIZE);
	int r;

	if (!zero)
		return -ENOMEM;
	/* an old label must not name blocks the new journal overwrites */
	r = md3_wblock(p, &pd->dev, MD3_LABEL_A, zero);
	if (!r)
		r = md3_wblock(p, &pd->dev, MD3_LABEL_B, zero);
	if (!r)
		r = md3_flush(p, &pd->dev);
	md3_free(zero);
	if (!r)
		r = md3_ckpt_now(p, pd, false);
	if (!r)
		r = md3_write_label(p, pd, &p->st, pd->chain.hint_block);
	if (!r)
		r = md3_flush(p, &pd->dev);
	return r;
}

/* Whether @label can name a domain: 1 .. MD3_NAME_LEN - 1 bytes */
bool md3_label_ok(const char *label)
{
	return label && label[0] && strnlen(label, MD3_NAME_LEN) < MD3_NAME_LEN;
}

/* The id a new domain gets: domains are never deleted, ids never reused */
static u32 md3_next_domain(const struct md3_state *st)
{
	return st->nr_domains ? st->domains[st->nr_domains - 1].id + 1 : 0;
}

int md3_create_pool(struct md3_pool *p, const struct md3_pool_rec *rec,
		    struct md3_dev *devs, const u8 *uuids,
		    const char *const *domains, u32 nr,
		    const struct md3_geom *g, const struct md3_state *init)
{
	return md3_create_pool_geoms(p, rec, devs, uuids, domains, nr, g, false,
				     init);
}

int md3_create_pool_geoms(struct md3_pool *p, const struct md3_pool_rec *rec,
			  struct md3_dev *devs, const u8 *uuids,
			  const char *const *domains, u32 nr,
			  const struct md3_geom *g, bool each,
			  const struct md3_state *init)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_pool_rec pr = *rec;
	unsigned int faults = p->faults;
	struct md3_domain dom;
	u32 i, j, *dids;
	int r;

	memset(p, 0, sizeof(*p));
	p->faults = faults;
	md3_state_init(&p->st);
	for (i = 0; domains && i < nr; i++)
		if (!md3_label_ok(domains[i]))
			return -EINVAL;
	p->devs = md3_calloc(nr, sizeof(*p->devs));
	dids = md3_calloc(nr, sizeof(*dids));
	if (!p->devs || !dids) {
		md3_free(dids);
		return -ENOMEM;
	}
	p->nr_devs = nr;
	pr.next_member_id = nr;
	if (!pr.next_volume_id)
		pr.next_volume_id = 1;
	md3_enc_op(&b, MD3_OP_FORMAT, nr);
	md3_enc(&b, MD3_TAG_POOL, &pr);
	/* one DOMAIN record per distinct label, ids in order of first use */
	for (i = 0, dom.id = 0; i < nr; i++) {
		for (j = 0; domains && j < i; j++)
			if (!strcmp(domains[j], domains[i]))
				break;
		if (domains && j < i) {
			dids[i] = dids[j];
			continue;
		}
		memset(dom.label, 0, sizeof(dom.label));
		if (domains)
			strscpy(dom.label, domains[i], sizeof(dom.label));
		else
			snprintf(dom.label, sizeof(dom.label), "%u", i);
		dids[i] = dom.id;
		md3_enc(&b, MD3_TAG_DOMAIN, &dom);
		dom.id++;
	}
	for (i = 0; i < nr; i++) {
		struct md3_pdev *pd = &p->devs[i];
		struct md3_member m = { 0 };

		pd->dev = devs[i];
		r = md3_geometry(&pd->chain, devs[i].dev_sectors,
				 g && each ? &g[i] : g, pr.slice_sectors, &m.nr_slices);
		if (r) {
			md3_free(b.p);
			md3_free(dids);
			return r;
		}
		pd->chain.member_id = i;
		memcpy(pd->chain.member_uuid, uuids + i * MD3_UUID_LEN, MD3_UUID_LEN);
		m.id = i;
		m.joined_seq = 1;
		m.domain = dids[i];
		m.data_offset = pd->chain.data_offset;
		memcpy(m.uuid, uuids + i * MD3_UUID_LEN, MD3_UUID_LEN);
		if (devs[i].name)
			strscpy(m.name, devs[i].name, sizeof(m.name));
		md3_enc(&b, MD3_TAG_MEMBER, &m);
	}
	/* the volumes of a converted pool (slicepool upgrade) */
	for (i = 0; init && i < init->nr_volumes; i++)
		md3_enc_volume(&b, &init->vols[i]);
	for (i = 0; init && i < init->nr_moves; i++)
		md3_enc_move(&b, &init->moves[i]);
	r = b.err;
	if (!r)
		r = md3_state_apply(&p->st, b.p, b.len);
	if (!r) {
		p->st.seq = 1;
		p->st.hash = md3_hash(0, 1, b.p, b.len);
	}
	md3_free(b.p);
	md3_free(dids);
	for (i = 0; i < nr && !r; i++)
		r = md3_format_dev(p, &p->devs[i]);
	if (!r)
		p->mode = MD3_MODE_RW;
	return r;
}

void md3_pool_free(struct md3_pool *p)
{
	u32 i;

	for (i = 0; i < p->nr_devs; i++)
		md3_chain_free(&p->devs[i].chain);
	md3_free(p->devs);
	p->devs = NULL;
	p->nr_devs = 0;
	md3_state_free(&p->st);
}

static int md3_member_update(struct md3_pool *p, const struct md3_member *m,
			     u32 op, struct md3_pdev *extra, bool marks)
{
	struct md3_buf b = { NULL, 0, 0, 0 };

	md3_enc_op(&b, op, m->id);
	md3_enc(&b, MD3_TAG_MEMBER, m);
	return md3_commit(p, &b, extra, marks);
}

/* The lowest removed id (only for the MD3_FAULT_REUSE_IDS mutant) */
static u32 md3_reused_id(struct md3_pool *p)
{
	u32 i;

	for (i = 0; i < p->st.nr_members; i++)
		if (p->st.members[i].status == MD3_REMOVED)
			return p->st.members[i].id;
	return p->st.pool.next_member_id;
}

/* Give the pool device @dev, with @role and chain @c (NULL: no memory) */
static struct md3_pdev *md3_add_pdev(struct md3_pool *p,
				     const struct md3_dev *dev, int role,
				     const struct md3_chain *c)
{
	struct md3_pdev *devs, *pd;

	devs = md3_realloc(p->devs, p->nr_devs * sizeof(*devs),
			   (p->nr_devs + 1) * sizeof(*devs));
	if (!devs)
		return NULL;
	p->devs = devs;
	pd = &p->devs[p->nr_devs++];
	memset(pd, 0, sizeof(*pd));
	pd->dev = *dev;
	pd->role = role;
	pd->chain = *c;
	return pd;
}

/* md3_member_add() on a new device, or on device @re of the assembly */
static int md3_add_dev(struct md3_pool *p, struct md3_pdev *re,
		       struct md3_dev *dev, const u8 *uuid, const char *name,
		       const char *domain, u64 nr_slices,
		       const struct md3_geom *g, u32 *id)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_pool_rec pr = p->st.pool;
	struct md3_pdev *pd;
	struct md3_domain dom;
	struct md3_member m;
	int r = md3_rw(p);

	struct md3_chain geo = { 0 };
	struct md3_geom gg = g ? *g : (struct md3_geom){ 0 };
	u64 nr;

	if (!r && domain && !md3_label_ok(domain))
		r = -EINVAL;
	if (nr_slices)
		gg.nr_slices = nr_slices;
	if (!r)
		r = md3_geometry(&geo, dev->dev_sectors, &gg,
				 p->st.pool.slice_sectors, &nr);
	if (r)
		return r;
	if (re) {
		/* the old journal goes: md3_format_dev() wipes its labels */
		md3_chain_free(&re->chain);
		re->chain = geo;
		re->role = MD3_ROLE_LAGGING;
		re->failed = false;
		re->readd = false;
		pd = re;
	} else {
		pd = md3_add_pdev(p, dev, MD3_ROLE_LAGGING, &geo);
	}
	if (!pd)
		return -ENOMEM;
	memset(&m, 0, sizeof(m));
	m.id = pr.next_member_id++;
	if (p->faults & MD3_FAULT_REUSE_IDS) {
		m.id = md3_reused_id(p);
		pr.next_member_id = md3_max(pr.next_member_id, m.id + 1ULL);
	}
	memset(&dom, 0, sizeof(dom));
	if (domain)
		strscpy(dom.label, domain, sizeof(dom.label));
	else
		snprintf(dom.label, sizeof(dom.label), "%u", m.id);
	m.domain = md3_domain_find(&p->st, dom.label);
	dom.id = md3_next_domain(&p->st);
	m.joined_seq = p->st.seq + 1;
	m.nr_slices = nr;
	m.data_offset = pd->chain.data_offset;
	memcpy(m.uuid, uuid, MD3_UUID_LEN);
	if (name)
		strscpy(m.name, name, sizeof(m.name));
	pd->chain.member_id = m.id;
	memcpy(pd->chain.member_uuid, uuid, MD3_UUID_LEN);
	r = md3_format_dev(p, pd);
	if (r) {
		pd->failed = true;
		return r;
	}
	if (p->faults & MD3_FAULT_REUSE_IDS) {
		struct md3_member *old = md3_member_find(&p->st, m.id);

		if (old && old->status == MD3_REMOVED) {
			/* the mutant revives the removed record in place */
			old->status = MD3_STALE;
			md3_bm_resize(&old->used, 0);
		}
	}
	md3_enc_op(&b, MD3_OP_MEMBER_ADD, m.id);
	md3_enc(&b, MD3_TAG_POOL, &pr);
	if (m.domain == MD3_NO_DOMAIN) {
		/* a new domain: in the same transaction, before the member */
		m.domain = dom.id;
		md3_enc(&b, MD3_TAG_DOMAIN, &dom);
	}
	md3_enc(&b, MD3_TAG_MEMBER, &m);
	r = md3_commit(p, &b, pd, false);
	if (!r) {
		pd->role = MD3_ROLE_INSYNC;
		if (id)
			*id = m.id;
	}
	return r;
}

int md3_member_add(struct md3_pool *p, struct md3_dev *dev, const u8 *uuid,
		   const char *name, const char *domain, u64 nr_slices,
		   const struct md3_geom *g, u32 *id)
{
	return md3_add_dev(p, NULL, dev, uuid, name, domain, nr_slices, g, id);
}

int md3_readd(struct md3_pool *p, struct md3_pdev *pd,
	      const struct md3_attach *a, u32 *id)
{
	int r = md3_rw(p);

	if (!r && (pd < p->devs || pd >= p->devs + p->nr_devs || !pd->readd))
		r = -EEXIST;
	if (r)
		return r;
	return md3_add_dev(p, pd, &pd->dev, a->uuid, a->name, a->domain, 0,
			   &a->geom, id);
}

int md3_attach(struct md3_pool *p, struct md3_dev *dev,
	       const struct md3_attach *a, u32 *id)
{
	const struct md3_member *m;
	struct md3_chain c;
	int r = md3_rw(p);

	if (!r)
		r = md3_read_member(dev, &c);
	if (r)
		return r;
	if (c.kind == MD3_CHAIN_BLANK)
		return md3_member_add(p, dev, a->uuid, a->name, a->domain, 0,
				      &a->geom, id);
	m = md3_member_find(&p->st, c.member_id);
	if (c.kind != MD3_CHAIN_OK || memcmp(c.pool_uuid, p->st.pool.uuid, MD3_UUID_LEN) ||
	    !m || m->status == MD3_REMOVED || memcmp(m->uuid, c.member_uuid, MD3_UUID_LEN)) {
		r = -EEXIST;
	} else if (m->status == MD3_CURRENT || md3_dev_of(p, m->id)) {
		r = -EBUSY;
	} else {
		r = md3_add_pdev(p, dev, MD3_ROLE_STALE, &c) ? 0 : -ENOMEM;
	}
	if (r) {
		md3_chain_free(&c);
		return r;
	}
	if (id)
		*id = m->id;
	return 0;
}

int md3_member_grow(struct md3_pool *p, u32 id, u64 nr_slices)
{
	struct md3_member *m = md3_member_find(&p->st, id), n;
	int r = md3_rw(p);

	if (!r && (!m || m->status == MD3_REMOVED))
		r = -ENOENT;
	if (!r && nr_slices < m->nr_slices)
		r = -EINVAL;
	if (r)
		return r;
	n = *m;
	n.nr_slices = nr_slices;
	return md3_member_update(p, &n, MD3_OP_MEMBER_GROW, NULL, false);
}

int md3_member_remove(struct md3_pool *p, u32 id)
{
	struct md3_member *m = md3_member_find(&p->st, id), n;
	int r = md3_rw(p);

	if (!r && (!m || m->status == MD3_REMOVED))
		r = -ENOENT;
	if (!r && md3_member_used(&p->st, id))
		r = -EBUSY;
	if (r)
		return r;
	n = *m;
	n.status = MD3_REMOVED;
	n.reason = MD3_R_NONE;
	return md3_member_update(p, &n, MD3_OP_MEMBER_REMOVE, NULL,
				 m->status != MD3_CURRENT || !md3_dev_of(p, id));
}

int md3_member_set_flags(struct md3_pool *p, u32 id, u32 flags)
{
	struct md3_member *m = md3_member_find(&p->st, id), n;
	int r = md3_rw(p);

	if (!r && (!m || m->status == MD3_REMOVED))
		r = -ENOENT;
	if (!r && (flags & ~MD3_MEMBER_FLAGS))
		r = -EINVAL;
	if (r)
		return r;
	if (m->flags == flags)
		return 0;
	n = *m;
	n.flags = flags;
	return md3_member_update(p, &n, MD3_OP_MEMBER_FLAGS, NULL, false);
}

int md3_member_stale(struct md3_pool *p, u32 id, u32 reason)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_member *m = md3_member_find(&p->st, id);
	int r = md3_rw(p);

	if (!r && (!m || m->status != MD3_CURRENT))
		r = -ENOENT;
	if (r)
		return r;
	md3_enc_op(&b, MD3_OP_MEMBER_STALE, id);
	md3_enc_stale(&b, m, reason, p->st.seq + 1, md3_mark_id(p, &id, 1));
	return md3_commit(p, &b, NULL, true);
}

/*
 * Read @d (md3_read_member()) and check that it still holds member @id of
 * the pool of @st: a valid chain with that member's id and uuid and the
 * pool's uuid.  0 with *@c filled (the caller frees it), -EILSEQ for a
 * device that holds something else, or the read's error; *@c is freed on
 * any error.
 */
int md3_read_own(const struct md3_dev *d, const struct md3_state *st,
		 u32 id, struct md3_chain *c)
{
	const struct md3_member *m = md3_member_find(st, id);
	int r = md3_read_member(d, c);

	if (!r && (c->kind != MD3_CHAIN_OK || !m || c->member_id != id ||
		   memcmp(c->member_uuid, m->uuid, MD3_UUID_LEN) ||
		   memcmp(c->pool_uuid, st->pool.uuid, MD3_UUID_LEN)))
		r = -EILSEQ;
	if (r)
		md3_chain_free(c);
	return r;
}

int md3_member_rejoin(struct md3_pool *p, u32 id)
{
	struct md3_member *m = md3_member_find(&p->st, id), n;
	struct md3_pdev *pd = md3_dev_of(p, id);
	int r = md3_rw(p);

	if (!r && (!m || m->status != MD3_STALE || !pd))
		r = -ENOENT;
	if (r)
		return r;
	pd->failed = false;
	pd->role = MD3_ROLE_LAGGING;
	/*
	 * Restart from what the device holds, not from our view of it: a
	 * write that failed (or was lost with its flush) still moved our
	 * head, so the new checkpoint would land past a hole.  Its label
	 * may then be lost; the chain on the device ends at the hole, a
	 * later write fills it, and the walk runs on into that newer-epoch
	 * checkpoint: a state of another branch (a forced activation from
	 * this device flipped back).  Written at the durable head, the
	 * checkpoint is either on the chain or overwritten by what follows.
	 */
	if (!(p->faults & MD3_FAULT_HOLE)) {
		struct md3_chain c;

		r = md3_read_own(&pd->dev, &p->st, id, &c);
		if (r) {
			pd->failed = true;
			return r == -EILSEQ ? -EIO : r;
		}
		c.epoch = md3_max(c.epoch, pd->chain.epoch);
		md3_chain_free(&pd->chain);
		pd->chain = c;
	}
	/* catch up: a new journal epoch holding the current state */
	r = md3_ckpt_now(p, pd, true);
	if (r) {
		pd->failed = true;
		return r;
	}
	n = *m;
	n.status = MD3_CURRENT;
	n.reason = MD3_R_NONE;
	n.joined_seq = p->st.seq + 1;	/* stale_seq stays: history */
	r = md3_member_update(p, &n, MD3_OP_MEMBER_REJOIN, pd, false);
	if (!r)
		pd->role = MD3_ROLE_INSYNC;
	return r;
}
