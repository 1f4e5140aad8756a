// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: the commit rule.
 *
 * md3_commit() writes one transaction to every member that is written to
 * (the member being added or rejoined first), flushes each and applies it
 * to the in-memory state when it is durable; members that failed are then
 * marked STALE by the next transaction (md3_mark_missing()).  Also
 * md3_checkpoint(): a checkpoint on every member.
 */
#include "md3-int.h"

struct md3_pdev *md3_dev_of(struct md3_pool *p, u32 id)
{
	const struct md3_member *m = md3_member_find(&p->st, id);
	u32 i;

	if (!m)
		return NULL;
	for (i = 0; i < p->nr_devs; i++)
		if (p->devs[i].chain.member_id == id &&
		    !memcmp(p->devs[i].chain.member_uuid, m->uuid, MD3_UUID_LEN) &&
		    p->devs[i].chain.kind == MD3_CHAIN_OK)
			return &p->devs[i];
	return NULL;
}

/* A device the next transaction is written to */
static bool md3_is_target(struct md3_pool *p, struct md3_pdev *pd)
{
	const struct md3_member *m = md3_member_find(&p->st, pd->chain.member_id);

	return pd->chain.kind == MD3_CHAIN_OK && pd->role == MD3_ROLE_INSYNC &&
	       !pd->failed && m && m->status == MD3_CURRENT &&
	       !memcmp(m->uuid, pd->chain.member_uuid, MD3_UUID_LEN);
}

/* Mark every CURRENT member without a usable device STALE(@reason). */
static bool md3_missing(struct md3_pool *p, const struct md3_member *m)
{
	struct md3_pdev *pd = md3_dev_of(p, m->id);

	return m->status == MD3_CURRENT && !(pd && md3_is_target(p, pd));
}

/*
 * The identity of a STALE mark: the chain hash it is made on, the seq of
 * its transaction and which members it marks (two different transactions
 * on the same base differ in the latter).
 */
u64 md3_mark_id(struct md3_pool *p, const u32 *ids, u32 n)
{
	u64 h = md3_hash(p->st.hash, p->st.seq + 1, NULL, 0);
	u32 i;

	for (i = 0; i < n; i++)
		h = md3_hash(h, ids[i], NULL, 0);
	return h;
}

int md3_mark_missing(struct md3_pool *p, u32 reason)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	u32 i, n = 0, *ids;
	u64 id;
	int r;

	for (i = 0; i < p->st.nr_members; i++)
		n += md3_missing(p, &p->st.members[i]);
	if (!n)
		return 0;
	ids = md3_calloc(n, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (i = 0, n = 0; i < p->st.nr_members; i++)
		if (md3_missing(p, &p->st.members[i]))
			ids[n++] = p->st.members[i].id;
	id = md3_mark_id(p, ids, n);
	md3_free(ids);
	for (i = 0; i < p->st.nr_members; i++) {
		const struct md3_member *m = &p->st.members[i];
		struct md3_pdev *pd = md3_dev_of(p, m->id);

		if (md3_missing(p, m))
			md3_enc_stale(&b, m, pd && pd->failed ? MD3_R_FAILED : reason,
				      p->st.seq + 1, id);
	}
	md3_enc_op(&b, reason == MD3_R_FORCED ? MD3_OP_FORCE : MD3_OP_MEMBER_STALE, n);
	r = md3_commit(p, &b, NULL, true);
	return r;
}

/*
 * The commit rule.  Write transaction seq + 1 to every target (and @extra,
 * the member being added or rejoined), flush each, and apply it when it is
 * durable on every target that could be written.  Targets that failed are
 * then marked STALE by a following transaction before returning 0.
 * Nothing is written while a CURRENT member has no target, unless @marks
 * (the transaction marks exactly those members STALE).
 */
/* Write transaction @seq to one member and flush it. */
static int md3_commit_one(struct md3_pool *p, struct md3_pdev *pd, u64 seq,
			  u64 hash, const struct md3_buf *b)
{
	int r = md3_make_room(p, pd, md3_nfrag(b->len));

	if (!r)
		r = md3_write_rec(p, pd, MD3_TX_DELTA, seq, hash, p->st.hash,
				  b->p, b->len);
	if (!r)
		r = md3_flush(p, &pd->dev);
	return r;
}

int md3_commit(struct md3_pool *p, struct md3_buf *b,
	       struct md3_pdev *extra, bool marks)
{
	u64 seq = p->st.seq + 1, hash;
	u32 i, ok = 0, failed = 0;
	int r;

	if (b->err) {
		r = b->err;
		goto out;
	}
	r = -EROFS;
	if (p->mode != MD3_MODE_RW)
		goto out;
	if (!marks && !(p->faults & MD3_FAULT_AROUND))
		for (i = 0; i < p->st.nr_members; i++) {
			struct md3_pdev *pd;

			if (p->st.members[i].status != MD3_CURRENT)
				continue;
			pd = md3_dev_of(p, p->st.members[i].id);
			if (!pd || !md3_is_target(p, pd))
				goto out;
		}
	hash = md3_hash(p->st.hash, seq, b->p, b->len);
	/*
	 * The member being added or rejoined first, and only once: it must
	 * be a member in its own journal, durably, before any other member
	 * records it as CURRENT.  Else a crash leaves the others naming a
	 * device whose own journal does not list it.
	 */
	if (extra) {
		r = md3_commit_one(p, extra, seq, hash, b);
		if (r) {
			extra->failed = true;
			goto out;
		}
		ok++;
	}
	for (i = 0; i < p->nr_devs; i++) {
		struct md3_pdev *pd = &p->devs[i];

		if (pd == extra || !md3_is_target(p, pd))
			continue;
		if (md3_commit_one(p, pd, seq, hash, b)) {
			pd->failed = true;
			failed++;
		} else {
			ok++;
		}
	}
	if (!ok) {
		p->mode = MD3_MODE_RO;
		r = -EIO;
		goto out;
	}
	r = md3_state_apply(&p->st, b->p, b->len);
	if (r) {
		p->mode = MD3_MODE_RO;
		goto out;
	}
	p->st.seq = seq;
	p->st.hash = hash;
	if (extra)
		extra->role = MD3_ROLE_INSYNC;
	if (p->on_commit)
		p->on_commit(p->on_commit_arg, &p->st);
	r = 0;
	if (failed && !(p->faults & MD3_FAULT_AROUND))
		r = md3_mark_missing(p, MD3_R_FAILED);
out:
	md3_free(b->p);
	b->p = NULL;
	return r;
}

int md3_checkpoint(struct md3_pool *p)
{
	u32 i, failed = 0;
	int r = md3_rw(p);

	if (r)
		return r;
	for (i = 0; i < p->nr_devs; i++) {
		struct md3_pdev *pd = &p->devs[i];

		if (!md3_is_target(p, pd))
			continue;
		if (md3_ckpt_now(p, pd, false)) {
			pd->failed = true;
			failed++;
		}
	}
	return failed ? md3_mark_missing(p, MD3_R_FAILED) : 0;
}
