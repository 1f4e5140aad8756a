// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: one member's journal.
 *
 * The ring of one member: its two labels, reading a record (every
 * fragment sealed, the hash right), walking the chain from the checkpoint
 * the current label names (md3_read_member()) and rebuilding the state at
 * its head (md3_chain_state()); writing a record at the head, a checkpoint
 * and then the label that protects it (md3_write_ckpt()), and keeping room
 * in the ring for the next checkpoint (md3_make_room()).
 */
#include "md3-int.h"

/* ---- blocks ---- */
int md3_wblock(struct md3_pool *p, struct md3_dev *d, u64 nr,
	       const void *blk)
{
	if (p) {
		p->bytes_written += MD3_BLOCK_SIZE;
		p->blocks_written++;
	}
	return d->ops->write(d->ctx, nr, blk);
}

int md3_flush(struct md3_pool *p, struct md3_dev *d)
{
	if (p && (p->faults & MD3_FAULT_NOFLUSH))
		return 0;
	return d->ops->flush(d->ctx);
}

/* ---- reading ---- */
/* A journal record as found in the ring */
struct md3_rec {
	u64 seq;
	u64 hash;
	u64 aux;
	u32 epoch;
	u32 type;
	u32 nfrag;
	u8 *payload;		/* when asked for */
	size_t len;
};

/*
 * Read the record starting at ring index @pos.  0 if it is complete and
 * its hash is right, else -ENODATA.
 */
static int md3_read_rec(const struct md3_dev *d, const struct md3_chain *c,
			u64 pos, u8 *blk, struct md3_rec *rec, bool keep)
{
	const struct md3_frag *f = (const void *)blk;
	u64 total = 0, off = 0, bnr;
	u32 i, nfrag = 1;
	u8 *pl = NULL;
	int r = -ENODATA;

	for (i = 0; i < nfrag; i++) {
		bnr = c->journal_start + (pos + i) % c->journal_blocks;
		if (d->ops->read(d->ctx, bnr, blk) || !md3_sealed(blk, MD3_JOURNAL_MAGIC, bnr))
			goto out;
		if (!i) {
			rec->seq = le64_to_cpu(f->seq);
			rec->hash = le64_to_cpu(f->hash);
			rec->aux = le64_to_cpu(f->aux);
			rec->epoch = le32_to_cpu(f->epoch);
			rec->type = le32_to_cpu(f->type);
			nfrag = le32_to_cpu(f->nfrag);
			total = le64_to_cpu(f->total_len);
			if (le32_to_cpu(f->frag) || !nfrag ||
			    nfrag > c->journal_blocks ||
			    md3_div_up(total, MD3_FRAG_PAYLOAD) > nfrag ||
			    (rec->type != MD3_TX_DELTA &&
			     rec->type != MD3_TX_CHECKPOINT))
				goto out;
			pl = md3_zalloc(total);
			if (!pl) {
				r = -ENOMEM;
				goto out;
			}
		} else if (le64_to_cpu(f->seq) != rec->seq ||
			   le64_to_cpu(f->hash) != rec->hash ||
			   le32_to_cpu(f->epoch) != rec->epoch ||
			   le32_to_cpu(f->frag) != i ||
			   le32_to_cpu(f->nfrag) != nfrag ||
			   le64_to_cpu(f->total_len) != total) {
			goto out;
		}
		if (le32_to_cpu(f->len) > MD3_FRAG_PAYLOAD ||
		    le32_to_cpu(f->len) > total - off)
			goto out;
		memcpy(pl + off, blk + sizeof(*f), le32_to_cpu(f->len));
		off += le32_to_cpu(f->len);
	}
	if (off != total)
		goto out;
	if (rec->type == MD3_TX_DELTA ?
	    md3_hash(rec->aux, rec->seq, pl, total) != rec->hash :
	    md3_hash(0, rec->seq, pl, total) != rec->aux)
		goto out;
	rec->nfrag = nfrag;
	rec->len = total;
	if (keep) {
		rec->payload = pl;
		pl = NULL;
	}
	r = 0;
out:
	md3_free(pl);
	return r;
}

static int md3_read_label(const struct md3_dev *d, u64 nr, u8 *blk,
			  bool *v2)
{
	const struct md3_label *l = (const void *)blk;

	if (d->ops->read(d->ctx, nr, blk))
		return -EIO;
	if (nr == MD3_LABEL_A && md3_sealed(blk, MD3_V2_SB_MAGIC, nr))
		*v2 = true;
	if (!md3_sealed(blk, MD3_LABEL_MAGIC, nr) ||
	    le32_to_cpu(l->version) != MD3_VERSION || l->flags ||
	    !le64_to_cpu(l->journal_blocks))
		return -ENODATA;
	return 0;
}

void md3_chain_free(struct md3_chain *c)
{
	md3_free(c->links);
	c->links = NULL;
	c->nlinks = 0;
}

static int md3_chain_push(struct md3_chain *c, u64 *cap, u64 seq, u64 hash)
{
	int r = md3_grow((void **)&c->links, cap, c->nlinks + 1,
			 sizeof(*c->links));

	if (r)
		return r;
	c->links[c->nlinks].seq = seq;
	c->links[c->nlinks++].hash = hash;
	return 0;
}

/*
 * Read a member's labels and walk its journal from the checkpoint the
 * current label names: every record after it that continues the chain
 * (a delta with the next seq and the right prev hash, a checkpoint of the
 * same state, or a checkpoint of a newer epoch) is part of the chain; the
 * first that does not ends it.
 */
int md3_read_member(const struct md3_dev *d, struct md3_chain *c)
{
	const struct md3_label *l;
	struct md3_rec rec;
	u64 cap = 0, walked, pos, seq, hash;
	int ra, rb, r = 0;
	bool v2 = false;
	u8 *blk;

	memset(c, 0, sizeof(*c));
	blk = md3_zalloc(2 * MD3_BLOCK_SIZE);
	if (!blk)
		return -ENOMEM;
	l = (const void *)blk;
	ra = md3_read_label(d, MD3_LABEL_A, blk, &v2);
	rb = md3_read_label(d, MD3_LABEL_B, blk + MD3_BLOCK_SIZE, &v2);
	if (ra && rb) {
		c->kind = v2 ? MD3_CHAIN_V2 : MD3_CHAIN_BLANK;
		c->why = v2 ? "format 2 member: convert the pool with 'slicepool upgrade'" :
			      "no valid label";
		goto out;
	}
	if (ra || (!rb && le64_to_cpu(l[0].label_seq) <
		   le64_to_cpu(((const struct md3_label *)(blk + MD3_BLOCK_SIZE))->label_seq)))
		l = (const void *)(blk + MD3_BLOCK_SIZE);
	/* The other label: never written (zeros), or damaged (named). */
	if (ra || rb) {
		const u8 *o = ra ? blk : blk + MD3_BLOCK_SIZE;
		int ro = ra ? ra : rb;
		size_t i = 0;

		while (ro != -EIO && i < MD3_BLOCK_SIZE && !o[i])
			i++;
		if (i < MD3_BLOCK_SIZE) {
			c->bad_label = (ra ? MD3_LABEL_A : MD3_LABEL_B) + 1;
			c->bad_label_why = ro == -EIO ? "unreadable" :
				"bad checksum, magic or fields: a damaged or torn write";
		}
	}
	md3_get((const u8 *)l, MD3_ENTRY_LABEL, c);
	seq = le64_to_cpu(l->ckpt_seq);
	hash = le64_to_cpu(l->ckpt_hash);
	pos = c->hint_block;
	c->kind = MD3_CHAIN_DAMAGED;
	c->bad_block = c->journal_start + pos % c->journal_blocks;
	c->why = "the checkpoint the label names is unreadable";
	if (pos >= c->journal_blocks ||
	    md3_read_rec(d, c, pos, blk, &rec, false) ||
	    rec.type != MD3_TX_CHECKPOINT || rec.seq != seq ||
	    rec.hash != hash || rec.epoch != c->epoch)
		goto out;
	c->kind = MD3_CHAIN_OK;
	c->why = NULL;
	r = md3_chain_push(c, &cap, rec.seq, rec.hash);
	if (r)
		goto out;
	c->base_pos = pos;
	walked = rec.nfrag;
	pos = (pos + rec.nfrag) % c->journal_blocks;
	while (walked < c->journal_blocks &&
	       !md3_read_rec(d, c, pos, blk, &rec, false) &&
	       walked + rec.nfrag <= c->journal_blocks) {
		struct md3_link *h = &c->links[c->nlinks - 1];

		if (rec.type == MD3_TX_DELTA && rec.epoch == c->epoch &&
		    rec.seq == h->seq + 1 && rec.aux == h->hash) {
			r = md3_chain_push(c, &cap, rec.seq, rec.hash);
			if (r)
				goto out;
		} else if (rec.type == MD3_TX_CHECKPOINT &&
			   ((rec.epoch == c->epoch && rec.seq == h->seq &&
			     rec.hash == h->hash) || rec.epoch > c->epoch)) {
			if (rec.epoch != c->epoch) {
				c->nlinks = 0;
				c->epoch = rec.epoch;
				r = md3_chain_push(c, &cap, rec.seq, rec.hash);
				if (r)
					goto out;
			}
			c->base_pos = pos;
		} else {
			break;
		}
		walked += rec.nfrag;
		pos = (pos + rec.nfrag) % c->journal_blocks;
	}
	c->head_block = pos;
	c->used_blocks = walked;
out:
	md3_free(blk);
	if (r)
		md3_chain_free(c);
	return r;
}

/* The state at the head of an OK chain: the base checkpoint plus deltas. */
int md3_chain_state(const struct md3_dev *d, const struct md3_chain *c,
		    struct md3_state *st)
{
	struct md3_rec rec;
	u64 pos = c->base_pos;
	const struct md3_link *head = &c->links[c->nlinks - 1];
	int r;
	u8 *blk = md3_zalloc(MD3_BLOCK_SIZE);

	if (!blk)
		return -ENOMEM;
	md3_state_init(st);
	r = md3_read_rec(d, c, pos, blk, &rec, true);
	if (!r && rec.type != MD3_TX_CHECKPOINT)
		r = -EUCLEAN;
	while (!r) {
		if (rec.type == MD3_TX_CHECKPOINT) {
			md3_state_free(st);
			r = md3_state_apply(st, rec.payload, rec.len);
		} else {
			r = md3_state_apply(st, rec.payload, rec.len);
		}
		md3_free(rec.payload);
		if (r)
			break;
		st->seq = rec.seq;
		st->hash = rec.hash;
		if (rec.seq == head->seq && rec.hash == head->hash &&
		    (pos + rec.nfrag) % c->journal_blocks == c->head_block)
			break;
		pos = (pos + rec.nfrag) % c->journal_blocks;
		r = md3_read_rec(d, c, pos, blk, &rec, true);
	}
	md3_free(blk);
	if (r)
		md3_state_free(st);
	return r;
}

/* ---- writing ---- */
int md3_write_label(struct md3_pool *p, struct md3_pdev *pd,
		    const struct md3_state *st, u64 ckpt_pos)
{
	struct md3_chain *c = &pd->chain, lc;
	struct md3_label *l = md3_zalloc(MD3_BLOCK_SIZE);
	u64 nr;
	int r;

	if (!l)
		return -ENOMEM;
	c->label_seq++;
	nr = c->label_seq & 1 ? MD3_LABEL_B : MD3_LABEL_A;
	/* the chain as this label names it: the pool's uuid, @ckpt_pos */
	lc = *c;
	memcpy(lc.pool_uuid, st->pool.uuid, MD3_UUID_LEN);
	lc.hint_block = ckpt_pos;
	md3_put((u8 *)l, MD3_ENTRY_LABEL, &lc);
	l->version = cpu_to_le32(MD3_VERSION);
	l->dev_sectors = cpu_to_le64(pd->dev.dev_sectors);
	l->ckpt_seq = cpu_to_le64(st->seq);
	l->ckpt_hash = cpu_to_le64(st->hash);
	md3_seal(l, MD3_LABEL_MAGIC, nr);
	r = md3_wblock(p, &pd->dev, nr, l);
	md3_free(l);
	return r;
}

/* Write one record at the member's head; no flush. */
int md3_write_rec(struct md3_pool *p, struct md3_pdev *pd, u32 type,
		  u64 seq, u64 hash, u64 aux, const u8 *pl, size_t len)
{
	struct md3_chain *c = &pd->chain;
	u64 nfrag = md3_max(1, md3_div_up(len, MD3_FRAG_PAYLOAD)), i, off = 0;
	u8 *blk = md3_zalloc(MD3_BLOCK_SIZE);
	struct md3_frag *f = (void *)blk;
	int r = 0;

	if (!blk)
		return -ENOMEM;
	for (i = 0; i < nfrag && !r; i++) {
		u64 n = md3_min(len - off, MD3_FRAG_PAYLOAD);
		u64 bnr = c->journal_start + (c->head_block + i) % c->journal_blocks;

		memset(blk, 0, MD3_BLOCK_SIZE);
		f->seq = cpu_to_le64(seq);
		f->hash = cpu_to_le64(hash);
		f->aux = cpu_to_le64(aux);
		f->epoch = cpu_to_le32(c->epoch);
		f->type = cpu_to_le32(type);
		f->frag = cpu_to_le32(i);
		f->nfrag = cpu_to_le32(nfrag);
		f->len = cpu_to_le32(n);
		f->total_len = cpu_to_le64(len);
		if (n)
			memcpy(blk + sizeof(*f), pl + off, n);
		off += n;
		md3_seal(blk, MD3_JOURNAL_MAGIC, bnr);
		r = md3_wblock(p, &pd->dev, bnr, blk);
	}
	md3_free(blk);
	c->head_block = (c->head_block + nfrag) % c->journal_blocks;
	c->used_blocks += nfrag;
	return r;
}

u64 md3_nfrag(u64 len)
{
	return md3_max(1, md3_div_up(len, MD3_FRAG_PAYLOAD));
}

/*
 * Write a checkpoint of @st at the member's head, flush, then point the
 * next label slot at it and flush again.  Only then does the checkpoint
 * become the protected one: until the label is durable the old one stays
 * untouched.  @restart starts a new journal epoch (catch-up, rejoin, add).
 */
static int md3_write_ckpt(struct md3_pool *p, struct md3_pdev *pd,
			  const struct md3_state *st, const u8 *pl, size_t len,
			  bool restart)
{
	struct md3_chain *c = &pd->chain;
	u64 pos = c->head_block, n = md3_nfrag(len);
	int r;

	if (c->used_blocks + n > c->journal_blocks &&
	    !(p->faults & MD3_FAULT_OVERWRITE))
		return -ENOSPC;
	if (restart)
		c->epoch++;
	r = md3_write_rec(p, pd, MD3_TX_CHECKPOINT, st->seq, st->hash,
			  md3_hash(0, st->seq, pl, len), pl, len);
	if (!r)
		r = md3_flush(p, &pd->dev);
	if (!r)
		r = md3_write_label(p, pd, st, pos);
	if (!r)
		r = md3_flush(p, &pd->dev);
	if (r)
		return r;
	c->hint_block = pos;
	c->base_pos = pos;
	c->used_blocks = n;
	return 0;
}

int md3_ckpt_now(struct md3_pool *p, struct md3_pdev *pd, bool restart)
{
	u8 *pl;
	size_t len;
	int r = md3_state_encode(&p->st, &pl, &len);

	if (r)
		return r;
	r = md3_write_ckpt(p, pd, &p->st, pl, len, restart);
	md3_free(pl);
	return r;
}

/*
 * Make room for a record of @n blocks: if the ring would then have no
 * room left for a checkpoint, write a checkpoint of the current state
 * first.
 */
int md3_make_room(struct md3_pool *p, struct md3_pdev *pd, u64 n)
{
	struct md3_chain *c = &pd->chain;
	u64 ck = md3_nfrag(md3_state_size(&p->st));
	int r;

	if (p->faults & MD3_FAULT_OVERWRITE) {
		c->used_blocks = 0;
		return 0;
	}
	if (c->used_blocks + n + ck <= c->journal_blocks)
		return 0;
	r = md3_ckpt_now(p, pd, false);
	if (r)
		return r;
	return c->used_blocks + n + ck <= c->journal_blocks ? 0 : -ENOSPC;
}
