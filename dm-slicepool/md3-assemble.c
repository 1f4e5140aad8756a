// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: assembly and the winner rule.
 *
 * md3_assemble() reads every device given, finds the distinct chain heads
 * and their states, picks the winning head by the one winner rule
 * (md3_winner(): domination, --prefer, a fork's common base;
 * Documentation/dm-slicepool-metadata.rst, "Winner rule"), gives each
 * device its role, and, read-write, catches up the lagging members and
 * marks the absent ones STALE (forced).  Its report is built in p->msg
 * (md3_msg()).
 */
#include "md3-int.h"

static void md3_msg(struct md3_pool *p, const char *fmt, ...)
{
	size_t n = strlen(p->msg);
	va_list ap;

	if (n + 1 >= sizeof(p->msg))
		return;
	va_start(ap, fmt);
	vsnprintf(p->msg + n, sizeof(p->msg) - n, fmt, ap);
	va_end(ap);
}

/* Whether @st's mark log holds the mark (@member, @seq, @mark). */
static bool md3_saw_mark(const struct md3_state *st, u32 member, u64 seq,
			 u64 mark)
{
	u64 i;

	for (i = 0; i < st->nr_marks; i++)
		if (st->marks[i].member == member && st->marks[i].seq == seq &&
		    st->marks[i].mark == mark)
			return true;
	return false;
}

/* ---- the winner rule ---- */
struct md3_head {
	struct md3_link head;
	u32 rep;		/* device whose chain reaches furthest back */
	bool leaf;
	bool ro;		/* won only as a fork's common base: read-only */
	struct md3_state st;
};

static struct md3_link *md3_head_of(struct md3_chain *c)
{
	return &c->links[c->nlinks - 1];
}

/* Hash of chain @c at @seq, or false if @c does not cover @seq. */
static bool md3_chain_at(const struct md3_chain *c, u64 seq, u64 *hash)
{
	if (seq < c->links[0].seq || seq - c->links[0].seq >= c->nlinks)
		return false;
	*hash = c->links[seq - c->links[0].seq].hash;
	return true;
}

/* Whether member (@id, @uuid) is CURRENT in @st. */
static bool md3_is_current(const struct md3_state *st, u32 id, const u8 *uuid)
{
	const struct md3_member *m = md3_member_find(st, id);

	return m && m->status == MD3_CURRENT &&
	       !memcmp(m->uuid, uuid, MD3_UUID_LEN);
}

/*
 * Whether head @a is a prefix of (or equal to) head @b: @b's chain has
 * @a's hash at @a's seq.  When @b's chain starts after @a's head (its
 * older records were checkpointed away) the hashes cannot be compared;
 * then @a counts as a prefix unless @a's mark log holds a STALE mark that
 * @b's never saw.  A branch can only write without a CURRENT member after
 * marking it, so a fork leaves such a mark on a branch that wrote; a head
 * without one is at most a transaction in flight that never committed.
 */
static bool md3_prefix(struct md3_pool *p, struct md3_head *h, u32 a, u32 b)
{
	const struct md3_chain *cb = &p->devs[h[b].rep].chain;
	const struct md3_state *sa = &h[a].st;
	u64 hash, i;

	if (h[a].head.seq > h[b].head.seq)
		return false;
	if (md3_chain_at(cb, h[a].head.seq, &hash))
		return hash == h[a].head.hash;
	if (h[a].head.seq >= cb->links[0].seq)
		return false;
	for (i = 0; i < sa->nr_marks; i++)
		if (!md3_saw_mark(&h[b].st, sa->marks[i].member, sa->marks[i].seq,
				  sa->marks[i].mark))
			return false;
	return true;
}

static u32 md3_head_idx(struct md3_pool *p, struct md3_head *h, u32 nh, u32 dev)
{
	struct md3_link *l = md3_head_of(&p->devs[dev].chain);
	u32 i;

	for (i = 0; i < nh; i++)
		if (h[i].head.seq == l->seq && h[i].head.hash == l->hash)
			return i;
	return nh;
}

/* Whether device @d's chain is on the branch that ends at leaf @w */
static bool md3_on(struct md3_pool *p, struct md3_head *h, u32 nh, u32 d, u32 w)
{
	u32 k = md3_head_idx(p, h, nh, d);

	return k == w || md3_prefix(p, h, k, w);
}

/* Last seq at which two chains agree, 0 if none is known */
static u64 md3_fork_seq(const struct md3_chain *a, const struct md3_chain *b)
{
	u64 s, ha, hb, best = 0;

	for (s = a->links[0].seq; s <= md3_head_of((struct md3_chain *)a)->seq; s++)
		if (md3_chain_at(b, s, &hb) && md3_chain_at(a, s, &ha) && ha == hb)
			best = s;
	return best;
}

/*
 * What @l's state says of the member of device @pd, which @k's state
 * counts as CURRENT:
 *   1  @l marks it not CURRENT (STALE or REMOVED), a decision @k never saw;
 *   0  @l counts it CURRENT too;
 *  -1  no evidence either way: @l never heard of it (added on @k after the
 *      fork, or @l gave its id to another device), or @l's STALE mark is
 *      one @k saw and overcame (the member rejoined on @k after the fork).
 */
static int md3_marks(const struct md3_state *l, const struct md3_state *k,
		     const struct md3_pdev *pd)
{
	const struct md3_member *ml = md3_member_find(l, pd->chain.member_id);
	const struct md3_member *mk = md3_member_find(k, pd->chain.member_id);

	if (!ml)
		return pd->chain.member_id < l->pool.next_member_id ? 1 : -1;
	if (memcmp(ml->uuid, pd->chain.member_uuid, MD3_UUID_LEN))
		return -1;
	if (ml->status == MD3_CURRENT)
		return 0;
	if (ml->status == MD3_STALE && mk &&
	    md3_saw_mark(k, ml->id, ml->stale_seq, ml->stale_mark) &&
	    mk->joined_seq > ml->stale_seq)
		return -1;
	return 1;
}

/* Whether every mark in @k's log is in @l's: @k marked nothing @l missed. */
static bool md3_marks_seen(const struct md3_state *k, const struct md3_state *l)
{
	u64 i;

	for (i = 0; i < k->nr_marks; i++)
		if (!md3_saw_mark(l, k->marks[i].member, k->marks[i].seq,
				  k->marks[i].mark))
			return false;
	return true;
}

/*
 * Whether leaf @l dominates leaf @k.  Either
 *  (1) @l's state marks as not CURRENT every device whose chain is on @k
 *      (and not on @l) and which @k's own state counts as CURRENT, and
 *      there is at least one such device.  A device that is STALE in its
 *      own branch only carries a copy of a state others wrote; it is no
 *      evidence either way, nor is a member @l never heard of (added on
 *      @k after the fork);
 *  or
 *  (2) @k made no STALE mark that @l has not seen, and a device on @l
 *      (not on @k) is CURRENT in @k's state: @k's transactions after the
 *      fork needed that device, which does not hold them, and @k marked
 *      nothing to write without it, so none of them ever committed (an
 *      operation in flight, e.g. an add that only reached the new
 *      member).
 */
static bool md3_dominates(struct md3_pool *p, struct md3_head *h, u32 nh,
			  u32 l, u32 k)
{
	bool all = true;
	u32 i, n = 0;

	if (!md3_marks_seen(&h[k].st, &h[l].st))
		return false;
	/*
	 * (1) needs @k to have been unable to write without @l's devices.  A
	 * member device on @l (not on @k) that @k's state does not count as
	 * CURRENT (an add @k never committed, so @k gave its id to another
	 * device; or a member @k marked or removed) is one @k's transactions
	 * never needed: @k may have committed without it, and @l's marks on
	 * @k's devices then prove nothing (both sides may have written).
	 */
	for (i = 0; i < p->nr_devs && !(p->faults & MD3_FAULT_UNNEEDED); i++) {
		struct md3_pdev *pd = &p->devs[i];

		if (pd->chain.kind == MD3_CHAIN_OK && md3_on(p, h, nh, i, l) &&
		    !md3_on(p, h, nh, i, k) &&
		    !md3_is_current(&h[k].st, pd->chain.member_id, pd->chain.member_uuid))
			all = false;
	}
	for (i = 0; i < p->nr_devs && all; i++) {
		struct md3_pdev *pd = &p->devs[i];

		if (pd->chain.kind != MD3_CHAIN_OK || !md3_on(p, h, nh, i, k) ||
		    md3_on(p, h, nh, i, l) ||
		    !md3_is_current(&h[k].st, pd->chain.member_id, pd->chain.member_uuid))
			continue;
		switch (md3_marks(&h[l].st, &h[k].st, pd)) {
		case 0:
			all = false;
			break;
		case 1:
			n++;
			break;
		}
	}
	if (all && n)
		return true;
	for (i = 0; i < p->nr_devs; i++) {
		struct md3_pdev *pd = &p->devs[i];

		if (pd->chain.kind == MD3_CHAIN_OK && md3_on(p, h, nh, i, l) &&
		    !md3_on(p, h, nh, i, k) &&
		    md3_is_current(&h[k].st, pd->chain.member_id, pd->chain.member_uuid))
			return true;
	}
	return false;
}

static void md3_report_branches(struct md3_pool *p, struct md3_head *h, u32 nh)
{
	u32 i, j;

	md3_msg(p, "refused: the members' journals have forked;");
	for (i = 0; i < nh; i++) {
		if (!h[i].leaf)
			continue;
		md3_msg(p, " branch at seq %llu (fork at seq %llu): members",
			(unsigned long long)h[i].head.seq,
			(unsigned long long)md3_fork_seq(&p->devs[h[i].rep].chain,
							 &p->devs[h[0].rep].chain));
		for (j = 0; j < p->nr_devs; j++)
			if (p->devs[j].chain.kind == MD3_CHAIN_OK &&
			    md3_on(p, h, nh, j, i))
				md3_msg(p, " %u", p->devs[j].chain.member_id);
		md3_msg(p, " (its view:");
		for (j = 0; j < h[i].st.nr_members; j++) {
			const struct md3_member *m = &h[i].st.members[j];

			md3_msg(p, " %u %s", m->id, m->status == MD3_CURRENT ? "current" :
				m->status == MD3_STALE ? "stale" : "removed");
		}
		md3_msg(p, ");");
	}
	md3_msg(p, " choose one with 'slicepool assemble --prefer MEMBER'\n");
}

/* Read every device, find distinct chain heads and decode their states. */
static int md3_read_all(struct md3_pool *p, struct md3_head *h, u32 *nhp,
			const struct md3_assemble_opts *o)
{
	const u8 *uuid = o->have_uuid ? o->pool_uuid : NULL;
	u32 i, k, nh = 0;
	int r;

	for (i = 0; i < p->nr_devs; i++) {
		struct md3_pdev *pd = &p->devs[i];

		r = md3_read_member(&pd->dev, &pd->chain);
		if (r)
			return r;
		if (pd->chain.bad_label)
			md3_msg(p,
				"%s: label block %llu is damaged (%s); the member is read from its other label, and the next label written replaces it\n",
				pd->dev.name ? pd->dev.name : "?",
				(unsigned long long)(pd->chain.bad_label - 1),
				pd->chain.bad_label_why);
		pd->role = MD3_ROLE_UNUSABLE;
		if (pd->chain.kind == MD3_CHAIN_OK && !uuid)
			uuid = pd->chain.pool_uuid;
		if (pd->chain.kind == MD3_CHAIN_OK &&
		    memcmp(pd->chain.pool_uuid, uuid, MD3_UUID_LEN)) {
			pd->chain.kind = MD3_CHAIN_FOREIGN;
			pd->chain.why = "member of another pool";
		}
		if (pd->chain.kind == MD3_CHAIN_OK) {
			k = md3_head_idx(p, h, nh, i);
			if (k == nh) {
				r = md3_chain_state(&pd->dev, &pd->chain, &h[nh].st);
				if (r == -ENOMEM)
					return r;
				if (r) {
					pd->chain.kind = MD3_CHAIN_DAMAGED;
					pd->chain.why = "a journal record does not apply";
				} else {
					h[nh].head = *md3_head_of(&pd->chain);
					h[nh++].rep = i;
				}
			}
		}
		if (pd->chain.kind == MD3_CHAIN_OK) {
			const struct md3_member *m =
				md3_member_find(&h[k].st, pd->chain.member_id);

			if (m && m->status != MD3_REMOVED &&
			    !memcmp(m->uuid, pd->chain.member_uuid, MD3_UUID_LEN)) {
				if (pd->chain.links[0].seq <
				    p->devs[h[k].rep].chain.links[0].seq)
					h[k].rep = i;
				continue;
			}
			/*
			 * An add that did not commit, or a removed member.  It
			 * takes no part as a member, but its head is a state
			 * its branch committed: it stays a witness of that
			 * branch for the winner rule (a forced branch may live
			 * on nothing else that is present).
			 */
			pd->chain.kind = MD3_CHAIN_ORPHAN;
			pd->chain.why =
				"not a member in its own journal (interrupted add, or removed)";
		}
		md3_msg(p, "member device %s: %s", pd->dev.name ? pd->dev.name : "?",
			pd->chain.why);
		if (pd->chain.kind == MD3_CHAIN_DAMAGED)
			md3_msg(p, " (block %llu)", (unsigned long long)pd->chain.bad_block);
		md3_msg(p, "\n");
	}
	*nhp = nh;
	return 0;
}

/*
 * At a fork that no leaf wins: the newest head @c that is a prefix of
 * every leaf, held by a device that every leaf counts as CURRENT, when no
 * leaf made a STALE mark after @c.  Every leaf's transactions after @c
 * then needed that device, which does not hold them: none of them ever
 * committed (operations in flight on both sides, e.g. two interrupted
 * adds), so @c is the newest committed state.  nh if there is none.
 */
static u32 md3_common_base(struct md3_pool *p, struct md3_head *h, u32 nh)
{
	u32 c, j, i, best = nh;

	for (c = 0; c < nh; c++) {
		bool ok = !h[c].leaf && (best == nh || h[c].head.seq > h[best].head.seq);

		for (j = 0; j < nh && ok; j++)
			if (h[j].leaf && (!md3_prefix(p, h, c, j) ||
					  !md3_marks_seen(&h[j].st, &h[c].st)))
				ok = false;
		if (!ok)
			continue;
		for (i = 0; i < p->nr_devs; i++) {
			const struct md3_pdev *pd = &p->devs[i];

			if (pd->chain.kind != MD3_CHAIN_OK || md3_head_idx(p, h, nh, i) != c)
				continue;
			for (j = 0; j < nh && ok; j++)
				if (h[j].leaf &&
				    !md3_is_current(&h[j].st, pd->chain.member_id,
						    pd->chain.member_uuid))
					ok = false;
			if (ok)
				break;
			ok = true;
		}
		if (i < p->nr_devs)
			best = c;
	}
	if (best < nh) {
		md3_msg(p, "journals forked after seq %llu by operations that never committed\n",
			(unsigned long long)h[best].head.seq);
		return best;
	}
	/*
	 * No present device shows which side committed.  If no leaf made a
	 * STALE mark the others did not see, at most one side committed
	 * anything after the fork (each needed the CURRENT members of the
	 * fork state): their newest common head, read-only, until the
	 * members that tell are present (or the operator forces).
	 */
	for (j = 0; j < nh; j++)
		for (i = 0; i < nh; i++)
			if (h[j].leaf && h[i].leaf && i != j &&
			    !md3_marks_seen(&h[j].st, &h[i].st))
				return nh;
	for (c = 0; c < nh; c++) {
		bool ok = !h[c].leaf && (best == nh || h[c].head.seq > h[best].head.seq);

		for (j = 0; j < nh && ok; j++)
			if (h[j].leaf && !md3_prefix(p, h, c, j))
				ok = false;
		if (ok)
			best = c;
	}
	if (best < nh) {
		h[best].ro = true;
		md3_msg(p, "journals forked after seq %llu; no member present shows %s\n",
			(unsigned long long)h[best].head.seq, "which side committed");
	}
	return best;
}

/* Pick the winning head: the ONE winner rule (rst "Winner rule"). */
static u32 md3_winner(struct md3_pool *p, struct md3_head *h, u32 nh,
		      const struct md3_assemble_opts *o)
{
	u32 i, j, nleaf = 0, w = nh, nwin = 0;

	for (i = 0; i < nh; i++) {
		h[i].leaf = true;
		for (j = 0; j < nh && h[i].leaf; j++)
			if (j != i && md3_prefix(p, h, i, j))
				h[i].leaf = false;
		nleaf += h[i].leaf;
	}
	if (nleaf == 1 || (p->faults & MD3_FAULT_NODOMINATE)) {
		for (i = 0; i < nh; i++)
			if (h[i].leaf && (w == nh || h[i].head.seq > h[w].head.seq ||
					  (h[i].head.seq == h[w].head.seq &&
					   h[i].head.hash > h[w].head.hash)))
				w = i;
		return w;
	}
	if (o->prefer) {
		for (i = 0; i < p->nr_devs; i++)
			if (p->devs[i].chain.kind == MD3_CHAIN_OK &&
			    p->devs[i].chain.member_id == o->prefer_member)
				break;
		for (j = 0; j < nh && i < p->nr_devs; j++)
			if (h[j].leaf && md3_on(p, h, nh, i, j)) {
				w = j;
				nwin++;
			}
		if (nwin == 1)
			return w;
		md3_msg(p, "--prefer %u: no single branch holds that member\n",
			o->prefer_member);
		return nh;
	}
	for (i = 0; i < nh; i++) {
		bool all = h[i].leaf;

		for (j = 0; j < nh && all; j++)
			if (j != i && h[j].leaf && !md3_dominates(p, h, nh, i, j))
				all = false;
		if (all) {
			w = i;
			nwin++;
		}
	}
	return nwin == 1 ? w : md3_common_base(p, h, nh);
}

/*
 * Devices of adds that did not commit, safe to format again (->readd):
 * an ORPHAN whose head is on the winning chain @w holds no state the
 * winner lacks, and a member the winning state does not know (its id
 * never committed, or given to another device since) has nothing on it
 * that the pool uses.  Only called when every CURRENT member of the
 * winner is present, so the winner is the newest committed state.
 */
static void md3_find_readds(struct md3_pool *p, struct md3_head *h, u32 nh,
			    u32 w)
{
	const struct md3_member *m;
	u32 i;

	for (i = 0; i < p->nr_devs; i++) {
		struct md3_pdev *pd = &p->devs[i];

		if (pd->chain.kind != MD3_CHAIN_ORPHAN ||
		    md3_head_idx(p, h, nh, i) == nh || !md3_on(p, h, nh, i, w))
			continue;
		m = md3_member_find(&p->st, pd->chain.member_id);
		pd->readd = !m || memcmp(m->uuid, pd->chain.member_uuid, MD3_UUID_LEN);
	}
}

int md3_assemble(struct md3_pool *p, struct md3_dev *devs, u32 nr,
		 const struct md3_assemble_opts *o)
{
	struct md3_head *h;
	u32 i, nh = 0, w, absent = 0, failed = 0;
	int r;

	memset(p, 0, sizeof(*p));
	p->faults = o->faults;
	md3_state_init(&p->st);
	p->devs = md3_calloc(nr ? nr : 1, sizeof(*p->devs));
	h = md3_calloc(nr ? nr : 1, sizeof(*h));
	if (!p->devs || !h) {
		md3_free(h);
		return -ENOMEM;
	}
	p->nr_devs = nr;
	for (i = 0; i < nr; i++)
		p->devs[i].dev = devs[i];
	r = md3_read_all(p, h, &nh, o);
	if (r)
		goto out;
	w = md3_winner(p, h, nh, o);
	if (w == nh) {
		if (nh)
			md3_report_branches(p, h, nh);
		else
			md3_msg(p, "refused: no readable v3 member\n");
		p->mode = MD3_MODE_REFUSED;
		goto out;
	}
	p->st = h[w].st;
	p->winner = h[w].head;
	md3_state_init(&h[w].st);
	for (i = 0; i < nr; i++) {
		struct md3_pdev *pd = &p->devs[i];
		const struct md3_member *m;

		if (pd->chain.kind != MD3_CHAIN_OK)
			continue;
		m = md3_member_find(&p->st, pd->chain.member_id);
		if (!m || m->status == MD3_REMOVED ||
		    memcmp(m->uuid, pd->chain.member_uuid, MD3_UUID_LEN)) {
			pd->role = MD3_ROLE_NOT_MEMBER;
			md3_msg(p, "member device %s: not a member of the pool's state\n",
				pd->dev.name ? pd->dev.name : "?");
		} else if (md3_head_idx(p, h, nh, i) != w && !md3_on(p, h, nh, i, w)) {
			pd->role = MD3_ROLE_DIVERGED;
			pd->fork_seq = md3_fork_seq(&pd->chain, &p->devs[h[w].rep].chain);
			md3_msg(p, "member %u: stale, diverged at seq %llu, ignored\n",
				pd->chain.member_id, (unsigned long long)pd->fork_seq);
		} else if (m->status != MD3_CURRENT) {
			/* never written to, never caught up: no part of the pool */
			pd->role = MD3_ROLE_STALE;
		} else if (md3_head_idx(p, h, nh, i) == w) {
			pd->role = MD3_ROLE_INSYNC;
		} else {
			pd->role = MD3_ROLE_LAGGING;
		}
	}
	for (i = 0; i < p->st.nr_members; i++) {
		const struct md3_member *m = &p->st.members[i];
		struct md3_pdev *pd = md3_dev_of(p, m->id);

		if (m->status != MD3_CURRENT)
			continue;
		if (!pd || (pd->role != MD3_ROLE_INSYNC &&
			    pd->role != MD3_ROLE_LAGGING)) {
			absent++;
			md3_msg(p, "member %u (%s) is absent\n", m->id, m->name);
		}
	}
	if ((absent || h[w].ro) && !o->force && !o->prefer &&
	    !(p->faults & MD3_FAULT_AROUND)) {
		p->mode = MD3_MODE_RO;
		p->verdict = MD3_MODE_RO;
		md3_msg(p, "read-only: %u current member(s) absent; force to mark them stale\n",
			absent);
		goto out;
	}
	p->verdict = MD3_MODE_RW;
	if (!absent && !h[w].ro && !o->force && !o->prefer)
		md3_find_readds(p, h, nh, w);
	if (o->nowrite) {
		/* inspection: what a writing assembly would do, nothing written */
		p->mode = MD3_MODE_RO;
		md3_msg(p, "read-only (no writes): read-write when assembled for writing%s\n",
			absent ? ", marking the absent members stale" : "");
		goto out;
	}
	p->mode = MD3_MODE_RW;
	/* catch up the lagging current members: restart their journals */
	for (i = 0; i < nr; i++) {
		struct md3_pdev *pd = &p->devs[i];

		if (pd->role != MD3_ROLE_LAGGING ||
		    !md3_is_current(&p->st, pd->chain.member_id, pd->chain.member_uuid))
			continue;
		if (md3_ckpt_now(p, pd, true)) {
			pd->failed = true;
			failed++;
		} else {
			pd->role = MD3_ROLE_INSYNC;
		}
	}
	if ((absent || failed) && !(p->faults & MD3_FAULT_AROUND)) {
		r = md3_mark_missing(p, MD3_R_FORCED);
		if (r) {
			p->mode = MD3_MODE_RO;
			md3_msg(p, "read-only: cannot mark absent members stale (%d)\n", r);
			r = 0;
		}
	}
out:
	for (i = 0; i < nh; i++)
		md3_state_free(&h[i].st);
	md3_free(h);
	return r;
}
