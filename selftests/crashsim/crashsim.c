// SPDX-License-Identifier: GPL-2.0
/*
 * Crash simulator for the pool metadata v3 library (dm-slicepool/md3.c).
 *
 * Simulated members record writes and flushes.  At every flush, and after
 * every acknowledged operation, the simulator enumerates crash states:
 * any subset of each member's writes since its last completed flush (all
 * subsets when there are at most 4 such writes, else a sample), and
 * variants with one of them torn at a 512-byte boundary.  Each crash image
 * is reassembled with every non-empty subset of its members present and
 * checked; some continue with more random operations (a retry of the
 * interrupted one first, forced activations of read-only subsets, member
 * failures, adds, removals, grows, moves) and crash again.
 *
 * Checks, after every assembly:
 *  (a) no physical slice is named twice (two logical slices, or a slice
 *      and a pending move destination), every name is a slice of a member
 *      that exists, and a member id never names two devices (uuids) over
 *      the pool's life (else a physical slice name means two places);
 *  (b) with every member present: the pool comes up read-write with the
 *      last acknowledged state or a state that extends it by the
 *      operation in flight (its content equal to the model's when the
 *      seq/hash are the acknowledged ones);
 *  (c) with members absent: read-only, or a refusal only after an
 *      operator's forced activation; read-write only with a state that
 *      extends the acknowledged one (never an older state used for
 *      writes, and after a forced activation never the other branch);
 *  (d) no device the pool wrote is refused as damaged;
 *  (e) a nowrite assembly (every other crash state of the real code, and every
 *      continuation, forced ones included) never writes or flushes, is
 *      never read-write and reaches the winner, the verdict and (when
 *      the writing assembly then committed nothing) the state of a
 *      writing assembly of the same images;
 *  (s) redundant volumes (copies 2 and 3): the legs of a logical slice
 *      are in distinct failure domains, a stale mark is only on a placed
 *      leg, and (in (a)) no physical slice is named twice by any leg; on
 *      a state that extends the acknowledged one, every leg stale in the
 *      acknowledged state is still stale unless the operation in flight
 *      marks it in sync or drops it.
 *
 * Budgets are crash states, from fixed seeds: a run explores the same
 * states on any machine, however fast or loaded.  The bounded run (the
 * default) checks 90,000 states of the real code over seeds 1..6 and
 * 30,000 per mutant; --long checks 10 million over seeds 101..120.
 *
 * Usage: crashsim [--long] [--states N] [--seed N] [--seeds N]
 *                 [--mutant-states N] [--mutant NAME] [--bench] [-v]
 * Prints KTAP; the last line is "N crash states, M violations".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "md3.h"
#include "md3-int.h"	/* md3_state_size() */
#include "ktap-unit.h"

#define JBLK		24		/* journal blocks of a simulated member */
#define SLICE_SECT	8
#define MAXD		8
#define MAXSUB		4		/* enumerate all subsets up to 2^4 */
#define MAX_INFLIGHT	8		/* transactions one operation may add */

/* The geometry of a simulated member: a small ring */
static const struct md3_geom jgeo = { .journal_blocks = JBLK };

struct blk {
	int ref;
	u8 d[MD3_BLOCK_SIZE];
};

struct pw {
	u64 nr;
	struct blk *b;
};

struct world;

struct sdisk {
	u64 nblocks;
	struct blk **b;
	struct pw *pw;
	u32 npw, cappw;
	bool fail;
	bool member;		/* the pool completed writing its label */
	u8 uuid[MD3_UUID_LEN];
	char name[MD3_NAME_LEN];
	struct world *w;
};

struct idrec {
	u32 id;
	u8 uuid[MD3_UUID_LEN];
};

struct world {
	struct sdisk *d[MAXD];
	int nd;
	u32 present;		/* the disks the pool was assembled from */
	struct md3_pool p;
	bool open;
	struct md3_link acked;
	struct md3_link alt;	/* acknowledged before the forced activation */
	struct md3_link pend;	/* a forced activation in flight starts here */
	bool has_pend;
	u32 lineage;		/* disks the acknowledged lineage was written to */
	u8 *acked_enc;
	size_t acked_len;
	bool forced;
	int depth;
	struct idrec ids[64];
	int nids;
	struct md3_link lin[256];	/* recent transactions of the lineage */
	int nlin;
	struct md3_link fl[32];	/* written since the last acknowledgment */
	int nfl;
	int last_op;
	char *log;		/* -v: what led to this world (a trace) */
	/* (s): the legs stale in the acknowledged state */
	struct legmark {
		u64 vol, slice, pslice;
		u32 leg, member;
	} stale[64];
	int nstale;
	/* the operation in flight may clear this leg's mark (in sync, drop) */
	struct md3_leg_ref clear[2];
	int nclear;
};

/* Leg operations the explorer committed (the bounded run needs each) */
enum { LG_CREATE2, LG_CREATE3, LG_ADD, LG_DROP, LG_STALE, LG_INSYNC,
	LG_COPIES, LG_REFUSED, LG_NR };
static const char *const lg_names[LG_NR] = {
	"create copies 2", "create copies 3", "add", "drop", "stale",
	"in sync", "set copies", "refusals",
};

static struct {
	u64 states, violations, images, nowrite_checks, nowrite_tick;
	u64 attached[2];	/* absent disks attached: taken, refused */
	u64 clones[2];		/* clone records committed: added, removed */
	u64 legs[LG_NR];	/* leg operations committed (LG_*) */
	u64 stale_violations;	/* (s) found: a stale mark lost */
	unsigned int faults;
	u64 max_states;		/* stop when states reaches this */
	u64 rng;
	bool verbose;
	int reported;
	int rate0;		/* explore 1 in rate0 crash points at depth 0 */
	const char *where;	/* -v: the crash image being checked */
} g;

/* CPU time, for the reports (the budgets are crash states) */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool out_of_budget(void)
{
	return g.states >= g.max_states;
}

static u64 rnd(void)
{
	g.rng ^= g.rng << 13;
	g.rng ^= g.rng >> 7;
	g.rng ^= g.rng << 17;
	return g.rng;
}

static u64 rn(u64 n)
{
	return n ? rnd() % n : 0;
}

static void flag(const char *check, const char *fmt, ...)
{
	va_list ap;

	g.violations++;
	if (g.reported++ >= 5)
		return;
	printf("# violation %s: ", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (g.verbose && g.where)
		printf("# trace:\n%s", g.where);
}

/* -v: append a line to the trace of @w */
static void wlog(struct world *w, const char *fmt, ...)
{
	size_t n = w->log ? strlen(w->log) : 0;
	char line[512];
	va_list ap;

	if (!g.verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w->log = realloc(w->log, n + strlen(line) + 5);
	snprintf(w->log + n, strlen(line) + 5, "#  %s\n", line);
}

/* ---- simulated disks ---- */
static struct blk *bget(struct blk *b)
{
	if (b)
		b->ref++;
	return b;
}

static void bput(struct blk *b)
{
	if (b && !--b->ref)
		free(b);
}

static struct sdisk *disk_new(struct world *w, u64 nblocks)
{
	struct sdisk *d = calloc(1, sizeof(*d));

	d->nblocks = nblocks;
	d->b = calloc(nblocks, sizeof(*d->b));
	d->w = w;
	return d;
}

static void disk_free(struct sdisk *d)
{
	u64 i;

	if (!d)
		return;
	for (i = 0; i < d->nblocks; i++)
		bput(d->b[i]);
	for (i = 0; i < d->npw; i++)
		bput(d->pw[i].b);
	free(d->b);
	free(d->pw);
	free(d);
}

/* A crash image of @s: its durable blocks plus the pending writes in @mask;
 * if @torn, pending write number @tw lands with only @tk sectors new.
 */
static struct sdisk *disk_image(const struct sdisk *s, struct world *w,
				u64 mask, int tw, int tk)
{
	struct sdisk *d = disk_new(w, s->nblocks);
	u32 i;

	for (i = 0; i < s->nblocks; i++)
		d->b[i] = bget(s->b[i]);
	for (i = 0; i < s->npw; i++) {
		const struct pw *p = &s->pw[i];

		if (!(mask >> i & 1))
			continue;
		if ((int)i == tw) {
			struct blk *t = calloc(1, sizeof(*t));

			t->ref = 1;
			if (d->b[p->nr])
				memcpy(t->d, d->b[p->nr]->d, MD3_BLOCK_SIZE);
			memcpy(t->d, p->b->d, tk * 512);
			bput(d->b[p->nr]);
			d->b[p->nr] = t;
		} else {
			bput(d->b[p->nr]);
			d->b[p->nr] = bget(p->b);
		}
	}
	d->member = s->member;
	memcpy(d->uuid, s->uuid, MD3_UUID_LEN);
	memcpy(d->name, s->name, sizeof(d->name));
	return d;
}

static int sd_read(void *ctx, u64 nr, void *buf)
{
	struct sdisk *d = ctx;
	int i;

	if (nr >= d->nblocks)
		return -EIO;
	for (i = (int)d->npw - 1; i >= 0; i--)
		if (d->pw[i].nr == nr) {
			memcpy(buf, d->pw[i].b->d, MD3_BLOCK_SIZE);
			return 0;
		}
	if (d->b[nr])
		memcpy(buf, d->b[nr]->d, MD3_BLOCK_SIZE);
	else
		memset(buf, 0, MD3_BLOCK_SIZE);
	return 0;
}

/*
 * The transactions of the operation in flight: every delta written since
 * the last acknowledgment.  A state that ends in one of them extends the
 * acknowledged state by the operation in flight, even when the only chain
 * that shows it starts at a checkpoint of it (a catch-up).
 */
static void note_write(struct world *w, const void *buf)
{
	const struct md3_frag *f = buf;

	if (!w || le32_to_cpu(f->hdr.magic) != MD3_JOURNAL_MAGIC || f->frag ||
	    le32_to_cpu(f->type) != MD3_TX_DELTA || w->nfl >= (int)ARRAY_SIZE(w->fl))
		return;
	w->fl[w->nfl].seq = le64_to_cpu(f->seq);
	w->fl[w->nfl++].hash = le64_to_cpu(f->hash);
}

static int sd_write(void *ctx, u64 nr, const void *buf)
{
	struct sdisk *d = ctx;
	struct blk *b;

	if (d->fail || nr >= d->nblocks)
		return -EIO;
	if (d->npw == d->cappw) {
		d->cappw = d->cappw ? 2 * d->cappw : 16;
		d->pw = realloc(d->pw, d->cappw * sizeof(*d->pw));
	}
	b = malloc(sizeof(*b));
	b->ref = 1;
	memcpy(b->d, buf, MD3_BLOCK_SIZE);
	d->pw[d->npw].nr = nr;
	d->pw[d->npw++].b = b;
	note_write(d->w, buf);
	return 0;
}

static void explore(struct world *w);

/* -v: the trace of @w, then @desc, as the context of the next check */
static void trace_set(struct world *w, const char *desc)
{
	static char buf[65536];

	if (!g.verbose)
		return;
	snprintf(buf, sizeof(buf), "%s#  %s\n", w->log ? w->log : "", desc);
	g.where = buf;
}

static void disk_settle(struct sdisk *d)
{
	u32 i;

	for (i = 0; i < d->npw; i++) {
		bput(d->b[d->pw[i].nr]);
		d->b[d->pw[i].nr] = d->pw[i].b;
	}
	d->npw = 0;
}

static int sd_flush(void *ctx)
{
	struct sdisk *d = ctx;

	if (d->w)
		explore(d->w);
	if (d->fail)
		return -EIO;
	disk_settle(d);
	return 0;
}

static const struct md3_dev_ops sd_ops = {
	.read = sd_read, .write = sd_write, .flush = sd_flush,
};

static struct md3_dev sd_dev(struct sdisk *d)
{
	struct md3_dev dev = { &sd_ops, d, d->name, d->nblocks * 8 +
			       2048 + 16 * SLICE_SECT };

	return dev;
}

/* ---- the model ---- */
static void lin_add(struct world *w, u64 seq, u64 hash)
{
	if (w->nlin && w->lin[(w->nlin - 1) % 256].seq == seq &&
	    w->lin[(w->nlin - 1) % 256].hash == hash)
		return;
	w->lin[w->nlin % 256].seq = seq;
	w->lin[w->nlin % 256].hash = hash;
	w->nlin++;
}

static bool lin_has(const struct world *w, u64 seq, u64 hash, u64 min_seq)
{
	int k;

	for (k = 0; k < w->nfl; k++)
		if (w->fl[k].seq == seq && w->fl[k].hash == hash && seq > min_seq)
			return true;

	for (k = 0; k < w->nlin && k < 256; k++)
		if (w->lin[k].seq == seq && w->lin[k].hash == hash && seq >= min_seq)
			return true;
	return false;
}

static void on_commit(void *arg, const struct md3_state *st)
{
	lin_add(arg, st->seq, st->hash);
}

/* (s): the model's copy of the stale legs of the acknowledged state */
static void stale_ack(struct world *w)
{
	const struct md3_state *st = &w->p.st;
	u64 i, j;
	u32 k;

	w->nstale = 0;
	w->nclear = 0;
	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *v = &st->vols[i];

		for (j = 0; j < v->nr_slices; j++)
			for (k = 0; k < v->copies; k++) {
				const struct md3_slice *l = md3_leg(v, j, k);

				if (!(l->flags & MD3_LEG_STALE) ||
				    w->nstale >= (int)ARRAY_SIZE(w->stale))
					continue;
				w->stale[w->nstale++] = (struct legmark){
					.vol = v->id, .slice = j, .pslice = l->pslice,
					.leg = k, .member = l->member };
			}
	}
}

static void model_ack(struct world *w)
{
	u32 i;
	int k;

	w->p.on_commit = on_commit;
	w->p.on_commit_arg = w;
	w->has_pend = false;
	w->nfl = 0;
	lin_add(w, w->p.st.seq, w->p.st.hash);

	w->acked.seq = w->p.st.seq;
	w->acked.hash = w->p.st.hash;
	free(w->acked_enc);
	w->acked_enc = NULL;
	md3_state_encode(&w->p.st, &w->acked_enc, &w->acked_len);
	stale_ack(w);
	for (i = 0; i < w->p.st.nr_members; i++) {
		const struct md3_member *m = &w->p.st.members[i];

		for (k = 0; k < w->nids && w->ids[k].id != m->id; k++)
			;
		if (k == w->nids && k < (int)ARRAY_SIZE(w->ids)) {
			w->ids[k].id = m->id;
			memcpy(w->ids[k].uuid, m->uuid, MD3_UUID_LEN);
			w->nids++;
		}
	}
}

static int cmp_slice(const void *a, const void *b)
{
	const struct md3_slice *x = a, *y = b;

	if (x->member != y->member)
		return x->member < y->member ? -1 : 1;
	return x->pslice < y->pslice ? -1 : x->pslice > y->pslice;
}

/* The clone with thin id @thin, or NULL */
static const struct md3_clone *clone_of_thin(const struct md3_state *st, u32 thin)
{
	u64 i;

	for (i = 0; i < st->nr_clones; i++)
		if (st->clones[i].thin_id == thin)
			return &st->clones[i];
	return NULL;
}

/*
 * Every clone names an image of the state, has a name and a length, and
 * no two share a name or a thin id; md3_clone_count() agrees.
 */
static void check_clones(const struct md3_state *st)
{
	u64 i, j, n;

	for (i = 0; i < st->nr_clones; i++) {
		const struct md3_clone *c = &st->clones[i];
		const struct md3_volume *v = md3_vol_find(st, c->image);

		if (!v || !(v->flags & MD3_VOL_IMAGE) || !c->name[0] || !c->sectors)
			flag("(a)", "clone '%s': image %llu, sectors %llu", c->name,
			     ull(c->image), ull(c->sectors));
		for (j = 0; j < i; j++)
			if (!strcmp(st->clones[j].name, c->name) ||
			    st->clones[j].thin_id == c->thin_id)
				flag("(a)", "clones '%s' and '%s' share a name or thin id %u",
				     st->clones[j].name, c->name, c->thin_id);
	}
	for (i = 0; i < st->nr_volumes; i++) {
		for (j = 0, n = 0; j < st->nr_clones; j++)
			n += st->clones[j].image == st->vols[i].id;
		if (md3_clone_count(st, st->vols[i].id) != n)
			flag("(a)", "volume %llu: md3_clone_count %llu, %llu clones",
			     ull(st->vols[i].id), ull(md3_clone_count(st, st->vols[i].id)),
			     ull(n));
	}
}

/*
 * (s) for volume @v: copies in range, the placed legs of each logical
 * slice in distinct domains, no mark on an empty leg; its placed legs
 * are appended to @all (for (a)).  Returns how many.
 */
static u64 check_legs(const struct md3_state *st, const struct md3_volume *v,
		      struct md3_slice *all)
{
	const struct md3_member *ma, *mb;
	const struct md3_slice *a;
	u64 j, n = 0;
	u32 l, q;

	if (!v->copies || v->copies > MD3_MAX_COPIES) {
		flag("(s)", "volume %llu: copies %u", ull(v->id), v->copies);
		return 0;
	}
	for (j = 0; j < v->nr_slices; j++) {
		for (l = 0; l < v->copies; l++) {
			a = md3_leg(v, j, l);
			if (a->member == MD3_NO_MEMBER) {
				if (a->flags)
					flag("(s)", "volume %llu slice %llu: empty leg %u: %#x",
					     ull(v->id), ull(j), l, a->flags);
				continue;
			}
			all[n++] = *a;
			ma = md3_member_find(st, a->member);
			for (q = 0; q < l && ma; q++) {
				mb = md3_member_find(st, md3_leg(v, j, q)->member);
				if (mb && mb->domain == ma->domain)
					flag("(s)", "volume %llu slice %llu: legs %u, %u in %u",
					     ull(v->id), ull(j), q, l, ma->domain);
			}
		}
	}
	return n;
}

/* (a), computed independently of the library's bitmaps */
static void check_a(struct world *w, const struct md3_state *st, bool rw)
{
	struct md3_slice *all;
	u64 n = 0, cap = 0, i, j;
	int k;

	for (i = 0; i < st->nr_volumes; i++)
		cap += st->vols[i].nr_slices * st->vols[i].copies;
	for (i = 0; i < st->nr_moves; i++)
		cap += st->moves[i].count;
	all = calloc(cap + 1, sizeof(*all));
	for (i = 0; i < st->nr_volumes; i++)
		n += check_legs(st, &st->vols[i], all + n);
	for (i = 0; i < st->nr_moves; i++)
		for (j = 0; j < st->moves[i].count; j++)
			all[n++] = st->moves[i].dst[j];
	qsort(all, n, sizeof(*all), cmp_slice);
	/* md3_member_used() against an independent count */
	for (i = 0, j = 0; i < st->nr_members; i++) {
		const struct md3_member *m = &st->members[i];
		u64 cnt = 0;

		while (j < n && all[j].member < m->id)
			j++;
		for (; j < n && all[j].member == m->id; j++)
			cnt++;
		if (m->status != MD3_REMOVED && md3_member_used(st, m->id) != cnt)
			flag("(a)", "member %u: md3_member_used %llu, %llu named", m->id,
			     ull(md3_member_used(st, m->id)), ull(cnt));
	}
	for (i = 0; i < n; i++) {
		const struct md3_member *m = md3_member_find(st, all[i].member);

		if (i && !cmp_slice(&all[i - 1], &all[i]))
			flag("(a)", "slice %u:%llu named twice", all[i].member,
			     ull(all[i].pslice));
		if (!m || m->status == MD3_REMOVED || all[i].pslice >= m->nr_slices)
			flag("(a)", "slice %u:%llu names no slice", all[i].member,
			     ull(all[i].pslice));
	}
	free(all);
	for (i = 0; rw && i < st->nr_members; i++) {
		const struct md3_member *m = &st->members[i];

		for (k = 0; k < w->nids; k++)
			if (w->ids[k].id == m->id &&
			    memcmp(w->ids[k].uuid, m->uuid, MD3_UUID_LEN))
				flag("(a)", "member id %u names two devices", m->id);
	}
	if (md3_state_check(st))
		flag("(a)", "state inconsistent (md3_state_check)");
	check_clones(st);
}

/*
 * Whether the chain @c extends the acknowledged @ack: 0 yes, 1 it holds
 * another state at that seq, 2 it is older, 3 it is too far ahead.
 */
static int succ(const struct world *w, const struct md3_chain *c,
		const struct md3_link *ack)
{
	const struct md3_link *hd = &c->links[c->nlinks - 1];

	if (hd->seq < ack->seq)
		return 2;
	if (hd->seq > ack->seq + MAX_INFLIGHT)
		return 3;
	if (c->links[0].seq > ack->seq)
		/* checkpointed past the acknowledged seq: use the lineage */
		return lin_has(w, hd->seq, hd->hash, ack->seq) ||
		       (c->nlinks > 1 && lin_has(w, hd[-1].seq, hd[-1].hash, ack->seq)) ?
		       0 : 1;
	return c->links[ack->seq - c->links[0].seq].hash == ack->hash ? 0 : 1;
}

static int assemble(struct md3_pool *p, struct sdisk **img, int nd,
		    u32 present, bool force, int prefer);

/*
 * (b), content: a state assembled at the acknowledged (seq, hash) is the
 * acknowledged state, every record read back as written (names, domains,
 * geometry, move flags).
 */
static void same_as_acked(struct world *w, const struct md3_pool *p, bool other)
{
	u8 *enc;
	size_t len;

	if (other || !w->acked_enc || p->st.seq != w->acked.seq ||
	    p->st.hash != w->acked.hash || md3_state_encode(&p->st, &enc, &len))
		return;
	if (len != w->acked_len || memcmp(enc, w->acked_enc, len))
		flag("(b)", "state at acknowledged seq %llu differs from the acknowledged one",
		     ull(w->acked.seq));
	free(enc);
}

/* -v: labels and ring blocks of a device */
static void dump_ring(const struct md3_dev *dev)
{
	u8 blk[MD3_BLOCK_SIZE];
	const struct md3_label *l = (const void *)blk;
	const struct md3_frag *f = (const void *)blk;
	u64 nr;

	printf("#   ");
	for (nr = 0; nr < 2 + JBLK; nr++) {
		struct md3_block_header *h = (void *)blk;
		bool ok;

		dev->ops->read(dev->ctx, nr, blk);
		ok = le32_to_cpu(h->crc) == md3_crc32c(~0U, blk + 4, MD3_BLOCK_SIZE - 4);
		if (!h->magic)
			printf(" %llu:-", ull(nr));
		else if (nr < 2)
			printf(" L%llu:%s%llu>%llu@%llu/e%u", ull(nr), ok ? "" : "BAD",
			       ull(le64_to_cpu(l->label_seq)), ull(le64_to_cpu(l->ckpt_seq)),
			       ull(le64_to_cpu(l->ckpt_block)), le32_to_cpu(l->ckpt_epoch));
		else
			printf(" %llu:%s%c%llu/e%u/%u.%u", ull(nr), ok ? "" : "BAD",
			       le32_to_cpu(f->type) == MD3_TX_CHECKPOINT ? 'C' : 'd',
			       ull(le64_to_cpu(f->seq)), le32_to_cpu(f->epoch),
			       le32_to_cpu(f->frag), le32_to_cpu(f->nfrag));
	}
	printf("\n");
}

/* -v: the devices and the winning state of a reported violation */
static void dump_pool(const struct md3_pool *p)
{
	u32 i;

	if (!g.verbose || g.reported > 5)
		return;
	for (i = 0; i < p->nr_devs; i++) {
		const struct md3_chain *ci = &p->devs[i].chain;
		const struct sdisk *d = p->devs[i].dev.ctx;

		printf("# dev %s id %u kind %d role %d", d->name, ci->member_id,
		       ci->kind, p->devs[i].role);
		if (ci->nlinks)
			printf(" chain %llu..%llu/%llx epoch %u", ull(ci->links[0].seq),
			       ull(ci->links[ci->nlinks - 1].seq),
			       ull(ci->links[ci->nlinks - 1].hash), ci->epoch);
		printf("\n");
		dump_ring(&p->devs[i].dev);
	}
	printf("# state seq %llu:", ull(p->st.seq));
	for (i = 0; i < p->st.nr_members; i++)
		printf(" %u:%s", p->st.members[i].id,
		       p->st.members[i].status == MD3_CURRENT ? "cur" :
		       p->st.members[i].status == MD3_STALE ? "stale" : "rm");
	printf("\n");
}

/* How many distinct chain heads the present devices hold */
static int heads(const struct md3_pool *p)
{
	u32 i, j;
	int n = 0;

	for (i = 0; i < p->nr_devs; i++) {
		const struct md3_chain *ci = &p->devs[i].chain;

		if (!ci->nlinks)
			continue;
		for (j = 0; j < i; j++) {
			const struct md3_chain *cj = &p->devs[j].chain;

			if (cj->nlinks &&
			    !memcmp(&cj->links[cj->nlinks - 1], &ci->links[ci->nlinks - 1],
				    sizeof(*ci->links)))
				break;
		}
		n += j == i;
	}
	return n;
}

/*
 * (s) on a state @st that extends the acknowledged one: every leg stale
 * there is stale here, unless the operation in flight clears it (marks it
 * in sync or drops it) or the leg is gone (its volume deleted or shrunk:
 * (b) judges those).
 */
static void check_stale(struct world *w, const struct md3_state *st)
{
	int i, k;

	for (i = 0; i < w->nstale; i++) {
		const struct legmark *e = &w->stale[i];
		const struct md3_volume *v = md3_vol_find(st, e->vol);
		const struct md3_slice *l;

		if (!v || e->slice >= v->nr_slices || e->leg >= v->copies)
			continue;
		l = md3_leg(v, e->slice, e->leg);
		if (l->member != e->member || l->pslice != e->pslice ||
		    (l->flags & MD3_LEG_STALE))
			continue;
		for (k = 0; k < w->nclear; k++)
			if (w->clear[k].vol == e->vol && w->clear[k].slice == e->slice &&
			    w->clear[k].leg == e->leg)
				break;
		if (k < w->nclear)
			continue;
		g.stale_violations++;
		flag("(s)",
		     "volume %llu slice %llu leg %u (%u:%llu): stale when acknowledged, in sync at seq %llu",
		     ull(e->vol), ull(e->slice), e->leg, e->member, ull(e->pslice),
		     ull(st->seq));
	}
}

/* Check one assembly of a crash image (@present of its @nd disks). */
static void check(struct world *w, struct sdisk **img, int nd, u32 present,
		  struct md3_pool *p)
{
	const struct md3_link *ack = &w->acked;
	const char *cx;
	const struct md3_chain *c = NULL;
	u32 i, members = 0, lineage;
	bool other;
	int k, r;

	for (k = 0; k < nd; k++)
		if (img[k]->member)
			members |= 1U << k;
	cx = (present & members) == members ? "(b)" : "(c)";

	g.states++;
	for (i = 0; i < p->nr_devs; i++) {
		const struct md3_pdev *pd = &p->devs[i];
		const struct sdisk *d = pd->dev.ctx;

		if (d->member && pd->chain.kind != MD3_CHAIN_OK)
			flag("(d)", "%s refused: %s", d->name,
			     pd->chain.why ? pd->chain.why : "?");
		/* the in-sync chain with the newest head, the longest history */
		if (pd->role == MD3_ROLE_INSYNC &&
		    (!c || pd->chain.links[pd->chain.nlinks - 1].seq >
			   c->links[c->nlinks - 1].seq ||
		     (pd->chain.links[pd->chain.nlinks - 1].seq ==
		      c->links[c->nlinks - 1].seq &&
		      pd->chain.links[0].seq < c->links[0].seq)))
			c = &pd->chain;
	}
	/*
	 * Any device whose chain ends at the same head (seq and chain hash:
	 * the same history) may remember more of it, e.g. a removed
	 * member's journal after the others were caught up from a
	 * checkpoint: judge the head by the longest history known.
	 */
	for (i = 0; c && i < p->nr_devs; i++) {
		const struct md3_chain *ci = &p->devs[i].chain;

		if (ci->nlinks && ci->links[ci->nlinks - 1].seq == c->links[c->nlinks - 1].seq &&
		    ci->links[ci->nlinks - 1].hash == c->links[c->nlinks - 1].hash &&
		    ci->links[0].seq < c->links[0].seq)
			c = ci;
	}
	if (p->mode == MD3_MODE_REFUSED) {
		/*
		 * Without a forced activation a refusal is allowed only with
		 * members absent and the present ones on two branches (winner
		 * rule 5: two operations in flight, e.g. two adds of the same
		 * id, and no present device shows which committed; issue 14
		 * (c) allows "a refusal or read-only" with members absent).
		 * With every member present it is always a violation (b).
		 */
		if (!w->forced && (present & members) &&
		    (cx[1] == 'b' || heads(p) < 2))
			flag(cx, "refused with no forced activation: %s", p->msg);
		return;
	}
	/*
	 * With none of the disks of the forced branch present, the other
	 * side is judged by what was acknowledged before the force.  A disk
	 * being added to the forced branch that is still blank in this
	 * image (its first writes were lost) holds nothing of it.
	 */
	lineage = w->lineage;
	for (i = 0; i < p->nr_devs; i++)
		for (k = 0; k < nd; k++)
			if (p->devs[i].dev.ctx == img[k] &&
			    p->devs[i].chain.kind == MD3_CHAIN_BLANK)
				lineage &= ~(1U << k);
	other = w->forced && !(present & lineage);
	if (other)
		ack = &w->alt;
	/*
	 * ids are checked on the state used for writes, when it is this
	 * world's lineage (the other side of a fork may differ; the winner
	 * rule keeps the two apart)
	 */
	check_a(w, &p->st, p->mode == MD3_MODE_RW && !other);
	if (!other && lin_has(w, p->st.seq, p->st.hash, ack->seq))
		check_stale(w, &p->st);
	if (p->mode != MD3_MODE_RW)
		return;
	if (!c) {
		flag(cx, "read-write with no member in sync");
		return;
	}
	same_as_acked(w, p, other);
	r = succ(w, c, ack);
	if (r && w->has_pend && !succ(w, c, &w->pend))
		r = 0;
	if (r) {
		flag(cx, "read-write at seq %llu, not extending acknowledged seq %llu%s %llu (%s); "
		     "depth %d%s, present %#x of %d; %s",
		     ull(c->links[c->nlinks - 1].seq), ull(ack->seq),
		     w->has_pend ? " or forced from seq" : ", forced",
		     ull(w->has_pend ? w->pend.seq : 0),
		     r == 1 ? "other branch" : r == 2 ? "older state" : "too far ahead",
		     w->depth, w->forced ? " after a forced activation" : "", present,
		     nd, p->msg);
		dump_pool(p);
	}
}

/* ---- operations ---- */
enum { OP_CREATE, OP_EXPAND, OP_SHRINK, OP_DELETE, OP_MOVE_BEGIN,
	OP_MOVE_PROGRESS, OP_MOVE_END, OP_ADD, OP_GROW, OP_REMOVE, OP_FAIL,
	OP_REJOIN, OP_CKPT, OP_SETTINGS, OP_ATTACH, OP_IMAGE, OP_CLONE_ADD,
	OP_CLONE_DEL, OP_DRAIN, OP_COPIES, OP_LEG_ADD, OP_LEG_DROP, OP_LEG_MARK,
	OP_NR };

#define LEG_SLOTS	3

static const char *const op_names[OP_NR] = {
	"create", "expand", "shrink", "delete", "move_begin", "move_progress",
	"move_end", "add", "grow", "remove", "fail", "rejoin", "ckpt", "settings",
	"attach", "image", "clone_add", "clone_del", "drain", "copies",
	"leg_add", "leg_drop", "leg_mark",
};

static u32 nr_current(const struct md3_state *st)
{
	u32 i, n = 0;

	for (i = 0; i < st->nr_members; i++)
		n += st->members[i].status == MD3_CURRENT;
	return n;
}

static int pick_free(struct md3_state *st, struct md3_slice *s, u64 n)
{
	u64 k, j;

	for (k = 0; k < n; k++) {
		u32 tries;

		for (tries = 0; tries < 8; tries++) {
			const struct md3_member *m = &st->members[rn(st->nr_members)];
			u64 ps;

			if (m->status != MD3_CURRENT ||
			    (md3_alloc_free(st, m->id, rn(m->nr_slices), &ps) &&
			     md3_alloc_free(st, m->id, 0, &ps)))
				continue;
			for (j = 0; j < k; j++)
				if (s[j].member == m->id && s[j].pslice == ps)
					break;
			if (j < k)
				continue;
			s[k].member = m->id;
			s[k].pslice = ps;
			break;
		}
		if (tries == 8)
			return -ENOSPC;
	}
	return 0;
}

static struct sdisk *disk_of(struct world *w, u32 id)
{
	int i;

	for (i = 0; i < w->nd; i++)
		if ((w->present >> i & 1) && w->d[i]->member &&
		    md3_member_find(&w->p.st, id) &&
		    !memcmp(w->d[i]->uuid, md3_member_find(&w->p.st, id)->uuid,
			    MD3_UUID_LEN))
			return w->d[i];
	return NULL;
}

/* Failure domain labels: the pool's first members take the first three */
static const char *const domain_labels[] = {
	"rack-a", "rack-b",
	"row-3/rack-c/a-long-failure-domain-label-of-sixty-three-bytes-x",
	"rack-d", "rack-e",
};

/*
 * Member @id is in the domain labelled @label (its id, @label NULL), and
 * md3_domain_find() and md3_domain_label() agree on it.
 */
static void check_domain(const struct md3_state *st, u32 id, const char *label)
{
	const struct md3_member *m = md3_member_find(st, id);
	const char *l = m ? md3_domain_label(st, m->domain) : NULL;
	char own[16];

	if (!label) {
		snprintf(own, sizeof(own), "%u", id);
		label = own;
	}
	if (!l || strcmp(l, label) || md3_domain_find(st, label) != m->domain)
		flag("(b)", "member %u: domain %s, not %s", id, l ? l : "(none)", label);
}

/* A name of 1 .. MD3_NAME_LEN - 1 characters (long ones often) */
static void rname(char *buf, const char *prefix)
{
	size_t n = rn(2) ? MD3_NAME_LEN - 1 : 1 + rn(MD3_NAME_LEN - 1), k;

	k = snprintf(buf, MD3_NAME_LEN, "%s", prefix);
	for (; k < n; k++)
		buf[k] = 'a' + rn(26);
	buf[n > k ? n : k] = 0;
}

static void new_uuid(u8 *u)
{
	int i;

	for (i = 0; i < MD3_UUID_LEN; i++)
		u[i] = rnd();
}

/*
 * The fresh members of a scenario: @n blank disks of a journal's size
 * named <prefix><i>, each with a new uuid, also copied to @uuids[i] for
 * md3_create_pool() unless @uuids is NULL, and its device in @devs[i].
 */
static void disks_new(struct sdisk **d, struct md3_dev *devs,
		      u8 (*uuids)[MD3_UUID_LEN], int n, const char *prefix)
{
	int i;

	for (i = 0; i < n; i++) {
		d[i] = disk_new(NULL, 2 + JBLK);
		new_uuid(d[i]->uuid);
		if (uuids)
			memcpy(uuids[i], d[i]->uuid, MD3_UUID_LEN);
		snprintf(d[i]->name, sizeof(d[i]->name), "%s%d", prefix, i);
		devs[i] = sd_dev(d[i]);
	}
}

static void attach(struct world *w, struct sdisk *d)
{
	d->w = w;
	w->present |= 1U << w->nd;
	w->lineage |= 1U << w->nd;
	w->d[w->nd++] = d;
}

/*
 * A disk of the world the pool was assembled without, handed to it: a
 * STALE member's is taken (then rejoined), a CURRENT member's is -EBUSY,
 * anything else that holds a v3 journal -EEXIST.
 */
static int do_attach(struct world *w)
{
	struct md3_state *st = &w->p.st;
	const struct md3_member *m;
	struct md3_attach a = { .geom = jgeo };
	struct md3_dev dev;
	struct md3_chain c;
	int i, r, want;
	u32 id = ~0U;

	for (i = 0; i < w->nd && (w->present >> i & 1); i++)
		;
	if (i == w->nd)
		return 0;
	dev = sd_dev(w->d[i]);
	r = md3_read_member(&dev, &c);
	if (r || c.kind != MD3_CHAIN_OK) {
		md3_chain_free(&c);
		return 0;
	}
	m = md3_member_find(st, c.member_id);
	want = memcmp(c.pool_uuid, st->pool.uuid, MD3_UUID_LEN) || !m ||
	       m->status == MD3_REMOVED || memcmp(m->uuid, c.member_uuid, MD3_UUID_LEN) ?
	       -EEXIST : m->status == MD3_CURRENT ? -EBUSY : 0;
	md3_chain_free(&c);
	a.uuid = w->d[i]->uuid;
	r = md3_attach(&w->p, &dev, &a, &id);
	wlog(w, "attach disk %d: %d, member %u", i, r, id);
	if (r != want)
		flag("(a)", "attach of disk %d: %d, not %d", i, r, want);
	g.attached[r ? 1 : 0]++;
	if (r)
		return 0;
	w->present |= 1U << i;
	w->d[i]->fail = false;
	/*
	 * The disk holds this lineage only once its rejoin is durable: a
	 * crash before then may leave it on the branch it came from (a
	 * forced activation's other side).
	 */
	r = md3_member_rejoin(&w->p, id);
	if (!r)
		w->lineage |= 1U << i;
	return r ?: 1;
}

/*
 * Record a clone of volume @v (an image), with a new name and thin id
 * or, sometimes, a taken one, which is refused before anything is
 * written; and a clone of a volume that is no image, refused the same.
 */
static int do_clone_add(struct world *w, const struct md3_volume *v)
{
	struct md3_state *st = &w->p.st;
	char name[MD3_NAME_LEN];
	u32 thin;
	int r, want = 0;

	if (!v || st->nr_clones >= 8)
		return 0;
	rname(name, "c");
	thin = rn(MD3_THIN_ID_MAX + 1);
	if (st->nr_clones && !rn(6)) {
		const struct md3_clone *o = &st->clones[rn(st->nr_clones)];

		if (rn(2))
			memcpy(name, o->name, sizeof(name));
		else
			thin = o->thin_id;
	}
	if (!(v->flags & MD3_VOL_IMAGE))
		want = -EINVAL;
	else if (md3_clone_find(st, name) || clone_of_thin(st, thin))
		want = -EEXIST;
	r = md3_clone_add(&w->p, v->id, name, thin, 1 + rn(1 << 20));
	if (want || r == -EINVAL || r == -EEXIST) {
		if (r != want)
			flag("(a)", "clone add '%s' thin %u of volume %llu: %d, not %d",
			     name, thin, ull(v->id), r, want);
		return 0;
	}
	if (!r && (!md3_clone_find(st, name) ||
		   md3_clone_find(st, name)->image != v->id ||
		   md3_clone_find(st, name)->thin_id != thin))
		flag("(b)", "clone '%s' of %llu thin %u: not recorded as added", name,
		     ull(v->id), thin);
	g.clones[0] += !r;
	return r ?: 1;
}

/* ---- redundant volumes ---- */

/* The failure domain of member @id, or MD3_NO_DOMAIN */
static u32 dom_of(const struct md3_state *st, u32 id)
{
	const struct md3_member *m = md3_member_find(st, id);

	return m ? m->domain : MD3_NO_DOMAIN;
}

/*
 * A free slice of a CURRENT member for @s, in none of the @nd domains
 * @dom and none of the @n slices @taken; -ENOSPC when the tries run out.
 */
static int pick_apart(struct md3_state *st, struct md3_slice *s,
		      const u32 *dom, u32 nd, const struct md3_slice *taken, u64 n)
{
	u32 tries, k;
	u64 j;

	for (tries = 0; tries < 12; tries++) {
		const struct md3_member *m = &st->members[rn(st->nr_members)];
		u64 ps;

		if (m->status != MD3_CURRENT ||
		    (md3_alloc_free(st, m->id, rn(m->nr_slices), &ps) &&
		     md3_alloc_free(st, m->id, 0, &ps)))
			continue;
		for (k = 0; k < nd && dom[k] != m->domain; k++)
			;
		for (j = 0; j < n && (taken[j].member != m->id ||
				      taken[j].pslice != ps); j++)
			;
		if (k < nd || j < n)
			continue;
		*s = (struct md3_slice){ .member = m->id, .pslice = ps };
		return 0;
	}
	return -ENOSPC;
}

/* @n logical slices of @copies legs each (slice major), apart by domain */
static int pick_legs(struct md3_state *st, struct md3_slice *s, u64 n,
		     u32 copies)
{
	u32 dom[MD3_MAX_COPIES];
	u64 i;
	u32 k;

	for (i = 0; i < n; i++)
		for (k = 0; k < copies; k++) {
			if (pick_apart(st, &s[i * copies + k], dom, k, s,
				       i * copies + k))
				return -ENOSPC;
			dom[k] = dom_of(st, s[i * copies + k].member);
		}
	return 0;
}

/* Whether a pending move covers slice @i of volume @vol */
static bool moving(const struct md3_state *st, u64 vol, u64 i)
{
	u64 k;

	for (k = 0; k < st->nr_moves; k++)
		if (st->moves[k].vol == vol && st->moves[k].first <= i &&
		    i < st->moves[k].first + st->moves[k].count)
			return true;
	return false;
}

/* A used slice (leg 0 of a volume) of a CURRENT member in none of @dom */
static const struct md3_slice *pick_used(const struct md3_state *st,
					 const u32 *dom, u32 nd)
{
	u64 i;
	u32 k;

	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_slice *u = st->vols[i].nr_slices ?
					    st->vols[i].map : NULL;
		const struct md3_member *m = u ? md3_member_find(st, u->member) : NULL;

		if (!m || m->status != MD3_CURRENT)
			continue;
		for (k = 0; k < nd && dom[k] != m->domain; k++)
			;
		if (k == nd)
			return u;
	}
	return NULL;
}

/* Whether a leg of volume @v is empty */
static bool has_empty_leg(const struct md3_volume *v)
{
	u64 j;
	u32 k;

	for (j = 0; j < v->nr_slices; j++)
		for (k = 0; k < v->copies; k++)
			if (md3_leg(v, j, k)->member == MD3_NO_MEMBER)
				return true;
	return false;
}

/* The domains of the placed legs of slice @i of @v but leg @skip, in @dom */
static u32 leg_domains(const struct md3_state *st, const struct md3_volume *v,
		       u64 i, u32 skip, u32 *dom)
{
	u32 k, n = 0;

	for (k = 0; k < v->copies; k++)
		if (k != skip && md3_leg(v, i, k)->member != MD3_NO_MEMBER)
			dom[n++] = dom_of(st, md3_leg(v, i, k)->member);
	return n;
}

/* A volume of copies > 1, or NULL */
static struct md3_volume *pick_redundant(struct md3_state *st)
{
	u64 i, k = rn(st->nr_volumes + 1);

	for (i = 0; i < st->nr_volumes; i++)
		if (st->vols[(i + k) % st->nr_volumes].copies > 1 &&
		    st->vols[(i + k) % st->nr_volumes].nr_slices)
			return &st->vols[(i + k) % st->nr_volumes];
	return NULL;
}

/* A refusal: @r must be @want, and no transaction written */
static void leg_refused(struct world *w, const char *what, int r, int want,
			u64 seq)
{
	g.legs[LG_REFUSED]++;
	if (r != want || w->p.st.seq != seq)
		flag("(s)", "%s: %d, not %d (seq %llu, was %llu)", what, r, want,
		     ull(w->p.st.seq), ull(seq));
}

/*
 * A volume of copies 2 or 3, every leg placed apart by domain, some
 * legs stale from the start; sometimes the refusals first: copies 0 or
 * above MD3_MAX_COPIES, two legs in one domain (-EINVAL), a used slice
 * (-EEXIST).
 */
static int do_copies(struct world *w)
{
	struct md3_state *st = &w->p.st;
	struct md3_slice s[2 * MD3_MAX_COPIES], t;
	const struct md3_slice *u;
	const struct md3_volume *v;
	u32 c = 2 + rn(2), k, dom[MD3_MAX_COPIES];
	u64 n = 1 + rn(2), id, seq = st->seq, i;
	char name[MD3_NAME_LEN];
	int r;

	memset(s, 0, sizeof(s));
	if (st->nr_volumes >= 6 || pick_legs(st, s, n, c))
		return 0;
	if (!rn(4)) {
		r = md3_vol_create_copies(&w->p, NULL, NULL, "bad", n << 12,
					  rn(2) ? 0 : MD3_MAX_COPIES + 1, s, n);
		leg_refused(w, "copies 0 or 4", r, -EINVAL, seq);
		t = s[1];
		s[1].member = s[0].member;
		r = md3_vol_create_copies(&w->p, NULL, NULL, "bad", n << 12, c, s, n);
		leg_refused(w, "two legs in one domain", r, -EINVAL, seq);
		s[1] = t;
		/* a used slice in a domain no other leg of slice 0 is in */
		for (k = 0; k + 1 < c; k++)
			dom[k] = dom_of(st, s[k ? k + 1 : 0].member);
		u = pick_used(st, dom, c - 1);
		if (u) {
			s[1] = *u;
			s[1].flags = 0;
			r = md3_vol_create_copies(&w->p, NULL, NULL, "bad", n << 12,
						  c, s, n);
			leg_refused(w, "a leg on a used slice", r, -EEXIST, seq);
			s[1] = t;
		}
	}
	if (!rn(3))
		s[rn(n * c)].flags = MD3_LEG_STALE;
	rname(name, "r");
	r = md3_vol_create_copies(&w->p, &id, NULL, name, n << 12, c, s, n);
	if (r)
		return r;
	v = md3_vol_find(st, id);
	for (i = 0; v && v->copies == c && i < n * c; i++)
		if (memcmp(md3_leg(v, i / c, i % c), &s[i], sizeof(*s)))
			break;
	if (!v || v->copies != c || i < n * c)
		flag("(s)", "volume %llu: not created with %u copies as given", ull(id), c);
	g.legs[c == 2 ? LG_CREATE2 : LG_CREATE3]++;
	return 1;
}

/*
 * Place an empty leg of a redundant volume (after the refusals: a placed
 * leg -EBUSY, a domain another leg is in -EINVAL, a used slice -EEXIST);
 * with no empty leg, raise the volume's copies instead.
 */
static int do_leg_add(struct world *w)
{
	struct md3_state *st = &w->p.st;
	struct md3_volume *v = pick_redundant(st);
	struct md3_slice s;
	u32 dom[MD3_MAX_COPIES], nd = 0, k, leg = ~0U, full = ~0U;
	u64 i, seq = st->seq;
	int r, want;

	/* a volume with an empty leg, if there is one */
	for (i = 0; i < st->nr_volumes && (!v || !has_empty_leg(v)); i++)
		if (has_empty_leg(&st->vols[i]))
			v = &st->vols[i];
	if (!v)
		return 0;
	/* a slice with an empty leg, if there is one */
	seq = rn(v->nr_slices);
	for (i = 0; i < v->nr_slices; i++)
		for (k = 0; k < v->copies; k++)
			if (md3_leg(v, (i + seq) % v->nr_slices, k)->member == MD3_NO_MEMBER)
				goto found;
found:
	i = (i + seq) % v->nr_slices;
	seq = st->seq;
	for (k = 0; k < v->copies; k++) {
		const struct md3_slice *l = md3_leg(v, i, k);

		if (l->member == MD3_NO_MEMBER)
			leg = k;
		else
			full = k;
		if (l->member != MD3_NO_MEMBER)
			dom[nd++] = dom_of(st, l->member);
	}
	if (leg == ~0U) {
		if (v->copies == MD3_MAX_COPIES || rn(2))
			return 0;
		r = md3_vol_set_copies(&w->p, v->id, v->copies + 1);
		g.legs[LG_COPIES] += !r;
		return r ?: 1;
	}
	if (pick_apart(st, &s, dom, nd, NULL, 0))
		return 0;
	if (!rn(4) && full != ~0U) {
		const struct md3_slice *m0 = pick_used(st, dom, nd);
		struct md3_slice u = *md3_leg(v, i, full);

		r = md3_leg_add(&w->p, v->id, i, full, &s);
		leg_refused(w, "add to a placed leg", r, -EBUSY, seq);
		if (!moving(st, v->id, i)) {
			u.flags = 0;
			r = md3_leg_add(&w->p, v->id, i, leg, &u);
			leg_refused(w, "add in another leg's domain", r, -EINVAL, seq);
		}
		if (!moving(st, v->id, i) && m0) {
			u = *m0;
			u.flags = 0;
			r = md3_leg_add(&w->p, v->id, i, leg, &u);
			leg_refused(w, "add on a used slice", r, -EEXIST, seq);
		}
	}
	want = moving(st, v->id, i) ? -EBUSY : 0;
	r = md3_leg_add(&w->p, v->id, i, leg, &s);
	if (want) {
		leg_refused(w, "add under a move", r, want, seq);
		return 0;
	}
	if (r)
		return r;
	v = md3_vol_find(st, v->id);
	if (md3_leg(v, i, leg)->member != s.member ||
	    md3_leg(v, i, leg)->pslice != s.pslice ||
	    !(md3_leg(v, i, leg)->flags & MD3_LEG_STALE))
		flag("(s)", "volume %llu slice %llu: leg %u not added stale", ull(v->id),
		     ull(i), leg);
	g.legs[LG_ADD]++;
	return 1;
}

/*
 * Drop a placed leg of a redundant volume (the only in-sync leg of its
 * slice: -EBUSY); with a last leg empty everywhere, lower the copies.
 */
static int do_leg_drop(struct world *w)
{
	struct md3_state *st = &w->p.st;
	struct md3_volume *v = pick_redundant(st);
	u64 i, seq = st->seq;
	u32 k, leg, insync = 0;
	int r, want = 0;

	if (!v)
		return 0;
	for (i = 0; i < v->nr_slices &&
	     md3_leg(v, i, v->copies - 1)->member == MD3_NO_MEMBER; i++)
		;
	if (i == v->nr_slices && rn(2)) {
		r = md3_vol_set_copies(&w->p, v->id, v->copies - 1);
		g.legs[LG_COPIES] += !r;
		return r ?: 1;
	}
	i = rn(v->nr_slices);
	leg = rn(v->copies);
	if (md3_leg(v, i, leg)->member == MD3_NO_MEMBER)
		return 0;
	for (k = 0; k < v->copies; k++)
		insync += k != leg && md3_leg(v, i, k)->member != MD3_NO_MEMBER &&
			  !(md3_leg(v, i, k)->flags & MD3_LEG_STALE);
	if (moving(st, v->id, i) ||
	    (!insync && !(md3_leg(v, i, leg)->flags & MD3_LEG_STALE)))
		want = -EBUSY;
	w->clear[0] = (struct md3_leg_ref){ .vol = v->id, .slice = i, .leg = leg };
	w->nclear = 1;
	r = md3_leg_drop(&w->p, v->id, i, leg);
	if (want) {
		w->nclear = 0;
		leg_refused(w, "drop of the only leg in sync, or under a move", r,
			    want, seq);
		return 0;
	}
	if (r)
		return r;
	if (md3_leg(md3_vol_find(st, v->id), i, leg)->member != MD3_NO_MEMBER)
		flag("(s)", "volume %llu slice %llu: leg %u not dropped", ull(v->id),
		     ull(i), leg);
	g.legs[LG_DROP]++;
	return 1;
}

/*
 * Mark one or two placed legs stale, or in sync, in one transaction; of a
 * redundant volume, or sometimes of any (leg 0 of a volume of copies 1)
 */
static int do_leg_mark(struct world *w)
{
	struct md3_state *st = &w->p.st;
	struct md3_volume *v = rn(4) || !st->nr_volumes ? pick_redundant(st) :
			       &st->vols[rn(st->nr_volumes)];
	struct md3_leg_ref ref[2];
	u32 n = 1 + rn(2), k;
	bool stale;
	u64 i;
	int r;

	if (!v || !v->nr_slices)
		return 0;
	for (k = 0; k < n; k++) {
		ref[k] = (struct md3_leg_ref){ .vol = v->id, .slice = rn(v->nr_slices),
					       .leg = rn(v->copies) };
		if (md3_leg(v, ref[k].slice, ref[k].leg)->member == MD3_NO_MEMBER)
			return 0;
	}
	stale = !(md3_leg(v, ref[0].slice, ref[0].leg)->flags & MD3_LEG_STALE);
	/* half the time a stale leg of the volume, if any, in sync */
	for (i = 0; stale && n == 1 && rn(2) && i < v->nr_slices * v->copies; i++)
		if (md3_leg(v, i / v->copies, i % v->copies)->flags & MD3_LEG_STALE) {
			ref[0].slice = i / v->copies;
			ref[0].leg = i % v->copies;
			stale = false;
		}
	if (!stale) {
		memcpy(w->clear, ref, sizeof(ref));
		w->nclear = n;
	}
	r = md3_legs_set_stale(&w->p, ref, n, stale);
	if (r)
		return r;
	v = md3_vol_find(st, ref[0].vol);
	for (k = 0; k < n; k++)
		if (!(md3_leg(v, ref[k].slice, ref[k].leg)->flags & MD3_LEG_STALE) == stale)
			flag("(s)", "volume %llu slice %llu leg %u: not marked %s",
			     ull(v->id), ull(ref[k].slice), ref[k].leg,
			     stale ? "stale" : "in sync");
	g.legs[stale ? LG_STALE : LG_INSYNC]++;
	return 1;
}

/* One random operation; 1 if it was applied, 0 if skipped, <0 on error. */
static int do_op(struct world *w, int op)
{
	struct md3_state *st = &w->p.st;
	struct md3_slice s[2 * MD3_MAX_COPIES] = { 0 };
	u32 dom[MD3_MAX_COPIES];
	struct md3_volume *v = st->nr_volumes ? &st->vols[rn(st->nr_volumes)] : NULL;
	struct md3_move *m = st->nr_moves ? &st->moves[rn(st->nr_moves)] : NULL;
	struct md3_member *mb = &st->members[rn(st->nr_members)];
	char name[MD3_NAME_LEN];
	const char *dl;
	struct md3_dev dev;
	struct sdisk *d;
	u64 n = 1 + rn(2), id;
	u32 kid;
	int r, i;

	w->last_op = op;
	switch (op) {
	case OP_CREATE:
		if (st->nr_volumes >= 6 || pick_free(st, s, n))
			return 0;
		rname(name, "v");
		r = md3_vol_create(&w->p, &id, NULL, name, n << 12, s, n);
		if (!r && strcmp(md3_vol_find(st, id)->name, name))
			flag("(b)", "volume %llu named '%s', not '%s'", ull(id),
			     md3_vol_find(st, id)->name, name);
		return r ?: 1;
	case OP_EXPAND:
		if (!v || v->nr_slices > 4)
			return 0;
		if (v->copies > 1) {
			/* md3_vol_expand() refuses it; one slice of every leg */
			if (md3_vol_expand(&w->p, v->id, 1, s, 0) != -EINVAL)
				flag("(s)", "md3_vol_expand() of copies %u", v->copies);
			if (pick_legs(st, s, 1, v->copies))
				return 0;
			return md3_vol_expand_legs(&w->p, v->id, (v->nr_slices + 1) << 12,
						   s, 1) ?: 1;
		}
		if (pick_free(st, s, 1))
			return 0;
		return md3_vol_expand(&w->p, v->id, (v->nr_slices + 1) << 12, s, 1) ?: 1;
	case OP_SHRINK:
		if (!v || v->nr_slices < 2)
			return 0;
		for (i = 0; i < (int)st->nr_moves; i++)
			if (st->moves[i].vol == v->id &&
			    st->moves[i].first + st->moves[i].count >= v->nr_slices)
				return 0;
		return md3_vol_shrink(&w->p, v->id, (v->nr_slices - 1) << 12,
				      v->nr_slices - 1) ?: 1;
	case OP_DELETE:
		if (!v)
			return 0;
		for (i = 0; i < (int)st->nr_moves; i++)
			if (st->moves[i].vol == v->id)
				return 0;
		if (md3_clone_count(st, v->id)) {
			/* an image with clones: refused before anything is written */
			r = md3_vol_delete(&w->p, v->id);
			if (r != -EBUSY)
				flag("(a)", "delete of image %llu with clones: %d",
				     ull(v->id), r);
			return 0;
		}
		return md3_vol_delete(&w->p, v->id) ?: 1;
	case OP_MOVE_BEGIN:
		if (!v || !v->nr_slices)
			return 0;
		n = rn(v->nr_slices);
		/* leg 0 moves, not into the domain of another leg of its slice */
		if (pick_apart(st, s, dom, leg_domains(st, v, n, 0, dom), NULL, 0))
			return 0;
		for (i = 0; i < (int)st->nr_moves; i++)
			if (st->moves[i].vol == v->id &&
			    st->moves[i].first <= n && n < st->moves[i].first + st->moves[i].count)
				return 0;
		if (!rn(8)) {
			/* unknown flags: refused before anything is written */
			r = md3_move_begin_flags(&w->p, v->id, n, 1, s, 0x80);
			if (r != -EINVAL)
				flag("(a)", "move with unknown flags: %d", r);
			return 0;
		}
		i = rn(2) ? MD3_MOVE_MIRROR : 0;
		r = md3_move_begin_flags(&w->p, v->id, n, 1, s, i);
		if (!r) {
			m = &st->moves[st->nr_moves - 1];
			if (m->vol != v->id || m->first != n || m->flags != (u32)i)
				flag("(b)", "move of %llu/%llu: flags %#x, not %#x",
				     ull(v->id), ull(n), m->flags, i);
		}
		return r ?: 1;
	case OP_MOVE_PROGRESS:
		if (!m)
			return 0;
		return md3_move_progress(&w->p, m->vol, m->first, m->cursor + 1) ?: 1;
	case OP_MOVE_END:
		if (!m)
			return 0;
		if (rn(4))
			return md3_move_commit(&w->p, m->vol, m->first) ?: 1;
		return md3_move_abort(&w->p, m->vol, m->first) ?: 1;
	case OP_ADD:
		if (w->nd >= 5)
			return 0;
		d = disk_new(w, 2 + JBLK);
		new_uuid(d->uuid);
		snprintf(name, sizeof(name), "sim%llu-", ull(rn(100000)));
		rname(d->name, name);
		attach(w, d);
		wlog(w, "add disk %d", w->nd - 1);
		dev = sd_dev(d);
		dl = rn(5) ? domain_labels[rn(ARRAY_SIZE(domain_labels))] : NULL;
		if (rn(2)) {
			struct md3_attach a = { .uuid = d->uuid, .name = d->name,
						.domain = dl, .geom = jgeo };

			a.geom.nr_slices = 16;
			r = md3_attach(&w->p, &dev, &a, &kid);
		} else {
			r = md3_member_add(&w->p, &dev, d->uuid, d->name, dl, 16,
					   &jgeo, &kid);
		}
		if (!r)
			d->member = true;
		if (!r && strcmp(md3_member_find(st, kid)->name, d->name))
			flag("(b)", "member %u named '%s', not '%s'", kid,
			     md3_member_find(st, kid)->name, d->name);
		if (!r)
			check_domain(st, kid, dl);
		return r ?: 1;
	case OP_GROW:
		if (mb->status == MD3_REMOVED || mb->nr_slices >= 32)
			return 0;
		return md3_member_grow(&w->p, mb->id, mb->nr_slices + 4) ?: 1;
	case OP_REMOVE:
		if (mb->status == MD3_REMOVED || nr_current(st) < 3)
			return 0;
		if (md3_member_used(st, mb->id)) {
			/* refused before anything is written */
			r = md3_member_remove(&w->p, mb->id);
			if (r != -EBUSY)
				flag("(a)", "remove of member %u in use: %d", mb->id, r);
			return 0;
		}
		d = disk_of(w, mb->id);
		wlog(w, "remove member %u", mb->id);
		if (d)
			d->member = false;	/* being given up: either outcome is fine */
		return md3_member_remove(&w->p, mb->id) ?: 1;
	case OP_FAIL:
		d = disk_of(w, mb->id);
		if (!d || mb->status != MD3_CURRENT || nr_current(st) < 3)
			return 0;
		d->fail = true;
		wlog(w, "fail member %u", mb->id);
		return md3_settings(&w->p, 50, 50, 1 + rn(2)) ?: 1;
	case OP_REJOIN:
		d = disk_of(w, mb->id);
		if (!d || mb->status != MD3_STALE)
			return 0;
		d->fail = false;
		wlog(w, "rejoin member %u", mb->id);
		return md3_member_rejoin(&w->p, mb->id) ?: 1;
	case OP_CKPT:
		return md3_checkpoint(&w->p) ?: 1;
	case OP_ATTACH:
		return do_attach(w);
	case OP_IMAGE:
		if (!v || (v->flags & MD3_VOL_IMAGE))
			return 0;
		return md3_vol_set_flags(&w->p, v->id, MD3_VOL_IMAGE) ?: 1;
	case OP_CLONE_ADD:
		return do_clone_add(w, v);
	case OP_DRAIN:
		if (mb->status == MD3_REMOVED)
			return 0;
		kid = mb->flags ^ MD3_MEMBER_DRAIN;
		i = mb->id;
		r = md3_member_set_flags(&w->p, i, kid);
		if (!r && md3_member_find(st, i)->flags != kid)
			flag("(b)", "member %d: flags %#x, not %#x", i,
			     md3_member_find(st, i)->flags, kid);
		return r ?: 1;
	case OP_COPIES:
		return do_copies(w);
	case OP_LEG_ADD:
		return do_leg_add(w);
	case OP_LEG_DROP:
		return do_leg_drop(w);
	case OP_LEG_MARK:
		return do_leg_mark(w);
	case OP_CLONE_DEL:
		if (!st->nr_clones)
			return 0;
		memcpy(name, st->clones[rn(st->nr_clones)].name, sizeof(name));
		r = md3_clone_remove(&w->p, name);
		if (!r && md3_clone_find(st, name))
			flag("(b)", "clone '%s' still recorded after its removal", name);
		g.clones[1] += !r;
		return r ?: 1;
	default:
		return md3_settings(&w->p, rn(101), 100, 1 + rn(3)) ?: 1;
	}
}

/* Run up to @n random operations; stops at the first error. */
static void run_ops(struct world *w, int n, int first)
{
	int i, r, op;

	for (i = 0; i < n && w->open && !out_of_budget(); i++) {
		/* the leg operations share LEG_SLOTS picks (the others one each) */
		op = i == 0 && first >= 0 ? first : (int)rn(OP_COPIES + LEG_SLOTS);
		if (op >= OP_COPIES && !(i == 0 && first >= 0))
			op = OP_COPIES + rn(OP_NR - OP_COPIES);
		wlog(w, "depth %d: op %s at seq %llu", w->depth, op_names[op],
		     ull(w->p.st.seq));
		r = do_op(w, op);
		wlog(w, "depth %d: op %s -> %d, seq %llu", w->depth, op_names[op], r,
		     ull(w->p.st.seq));
		if (r < 0) {
			/* result unknown: the world ends in a power cut */
			explore(w);
			w->open = false;
			break;
		}
		if (r > 0) {
			model_ack(w);
			explore(w);
		}
	}
}

static void world_free(struct world *w)
{
	int i;

	md3_pool_free(&w->p);
	for (i = 0; i < w->nd; i++)
		disk_free(w->d[i]);
	free(w->acked_enc);
	free(w->log);
	memset(w, 0, sizeof(*w));
}

/* A nowrite assembly's devices: any write or flush is a violation */
static u64 nowrite_io;

static int nw_write(void *ctx, u64 nr, const void *buf)
{
	(void)ctx;
	(void)nr;
	(void)buf;
	nowrite_io++;
	return -EIO;
}

static int nw_flush(void *ctx)
{
	(void)ctx;
	nowrite_io++;
	return -EIO;
}

static const struct md3_dev_ops nw_ops = {
	.read = sd_read, .write = nw_write, .flush = nw_flush,
};

/*
 * Assemble @present of @img into @p; devs are not owned by @p.  With
 * @nowrite, a nowrite assembly whose devices refuse writes.
 */
static int assemble_opt(struct md3_pool *p, struct sdisk **img, int nd,
			u32 present, bool force, int prefer, bool nowrite)
{
	struct md3_assemble_opts o = { .force = force, .faults = g.faults,
				       .nowrite = nowrite };
	struct md3_dev devs[MAXD];
	int i, n = 0;

	if (prefer >= 0) {
		o.prefer = true;
		o.prefer_member = prefer;
	}
	for (i = 0; i < nd; i++)
		if (present >> i & 1) {
			devs[n] = sd_dev(img[i]);
			if (nowrite)
				devs[n].ops = &nw_ops;
			n++;
		}
	return md3_assemble(p, devs, n, &o);
}

static int assemble(struct md3_pool *p, struct sdisk **img, int nd,
		    u32 present, bool force, int prefer)
{
	return assemble_opt(p, img, nd, present, force, prefer, false);
}

/*
 * (e) A nowrite assembly @nw of the images a writing assembly @p was
 * then made from: it wrote nothing, is not read-write, and reached the
 * same winner and verdict (and, when @p wrote no transaction, the same
 * state).
 */
static void check_nowrite(const struct md3_pool *nw, int rnw, const struct md3_pool *p,
			  int rp)
{
	u8 *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;

	g.nowrite_checks++;
	if (nowrite_io)
		flag("(e)", "a nowrite assembly wrote or flushed %llu times", ull(nowrite_io));
	nowrite_io = 0;
	if (rnw != rp || nw->verdict != p->verdict || nw->mode == MD3_MODE_RW ||
	    (p->mode != MD3_MODE_REFUSED && nw->mode == MD3_MODE_REFUSED) ||
	    memcmp(&nw->winner, &p->winner, sizeof(p->winner))) {
		flag("(e)", "nowrite: %d, verdict %d, winner %llu; writing: %d, %d, %llu",
		     rnw, nw->verdict, ull(nw->winner.seq), rp, p->verdict,
		     ull(p->winner.seq));
		return;
	}
	if (p->mode == MD3_MODE_REFUSED || p->st.seq != p->winner.seq)
		return;
	if (md3_state_encode(&nw->st, &a, &la) || md3_state_encode(&p->st, &b, &lb) ||
	    la != lb || memcmp(a, b, la))
		flag("(e)", "nowrite assembly: another state at seq %llu", ull(p->st.seq));
	free(a);
	free(b);
}

/*
 * Continue in a new world made of crash image @img (ownership moves): the
 * pool is assembled from @present; the other disks stay in the world and
 * come back for the final check.
 */
static void continue_world(struct world *w, struct sdisk **img, int nd,
			   u32 present, bool force, const char *desc)
{
	struct world *n = calloc(1, sizeof(*n));
	struct md3_dev devs[MAXD];
	struct md3_assemble_opts o = { .force = force, .faults = g.faults };
	struct md3_pool q;
	int i, k = 0;

	n->depth = w->depth + 1;
	if (g.verbose) {
		n->log = strdup(w->log ? w->log : "");
		wlog(n, "%s; continue with %#x, force %d", desc, present, force);
	}
	n->forced = w->forced || force;
	n->acked = w->acked;
	/*
	 * Member ids are unique within one lineage, not across a fork: the
	 * new world learns them from the state it assembles.
	 */
	memcpy(n->lin, w->lin, sizeof(n->lin));
	n->nlin = w->nlin;
	memcpy(n->fl, w->fl, sizeof(n->fl));
	n->nfl = w->nfl;
	n->alt = force ? w->acked : w->alt;
	n->present = present;
	n->lineage = present;
	for (i = 0; i < nd; i++) {
		img[i]->w = n;
		n->d[n->nd++] = img[i];
		if (present >> i & 1)
			devs[k++] = sd_dev(img[i]);
		img[i] = NULL;
	}
	if (force) {
		/*
		 * The operator accepts the state the present members hold; the
		 * forced lineage lives on those that are members of it.
		 */
		struct md3_assemble_opts ro = { .faults = g.faults };
		u32 j;

		if (!md3_assemble(&q, devs, k, &ro) && q.mode == MD3_MODE_RO) {
			n->pend.seq = q.st.seq;
			n->pend.hash = q.st.hash;
			n->has_pend = true;
			n->lineage = 0;
			for (j = 0; j < q.nr_devs; j++)
				for (i = 0; i < n->nd; i++)
					if (q.devs[j].dev.ctx == n->d[i] &&
					    (q.devs[j].role == MD3_ROLE_INSYNC ||
					     q.devs[j].role == MD3_ROLE_LAGGING))
						n->lineage |= 1U << i;
		}
		md3_pool_free(&q);
	}
	{
		/* (e) with the same options, a forced activation included */
		struct md3_assemble_opts no = o;
		struct md3_dev nd[MAXD];
		struct md3_pool nw;
		int rnw, r;

		no.nowrite = true;
		for (i = 0; i < k; i++) {
			nd[i] = devs[i];
			nd[i].ops = &nw_ops;
		}
		rnw = md3_assemble(&nw, nd, k, &no);
		r = md3_assemble(&n->p, devs, k, &o);
		check_nowrite(&nw, rnw, &n->p, r);
		md3_pool_free(&nw);
		if (r || n->p.mode != MD3_MODE_RW)
			goto out;
	}
	wlog(n, "assembled at seq %llu: %s", ull(n->p.st.seq), n->p.msg);
	n->open = true;
	/* what this assembly wrote (catch-up, force) is now acknowledged */
	model_ack(n);
	run_ops(n, 1 + rn(4), w->last_op);
	/* power cut, then every disk present again */
	md3_pool_free(&n->p);
	for (i = 0; i < n->nd; i++) {
		n->d[i]->fail = false;
		n->d[i]->w = NULL;
		disk_settle(n->d[i]);
	}
	if (!n->open) {
		/* the last operation failed: its outcome is unknown */
		goto out;
	}
	trace_set(n, "power cut; every disk present");
	if (!assemble(&q, n->d, n->nd, (1U << n->nd) - 1, false, -1))
		check(n, n->d, n->nd, (1U << n->nd) - 1, &q);
	md3_pool_free(&q);
out:
	world_free(n);
	free(n);
}

/* All crash states of @w now: subsets of pending writes, torn blocks. */
static void explore(struct world *w)
{
	u64 total = 0, nimg, k, masks[MAXD];
	int i, tw[MAXD], tk[MAXD];
	char desc[2048] = "";
	int rate = w->depth == 0 ? g.rate0 : w->depth == 1 ? 6 * g.rate0 : 0;

	if (!rate || out_of_budget() || rn(rate))
		return;
	for (i = 0; i < w->nd; i++)
		total += w->d[i]->npw;
	nimg = total <= MAXSUB ? 1ULL << total : 1ULL << MAXSUB;
	if (w->depth)
		nimg = nimg < 4 ? nimg : 4;
	for (k = 0; k < nimg * 3 / 2 + 1 && !out_of_budget(); k++) {
		struct sdisk *img[MAXD];
		u64 bits = total <= MAXSUB && w->depth == 0 && k < nimg ? k : rnd();
		bool torn = k >= nimg;
		u32 sub, full = (1U << w->nd) - 1;

		for (i = 0; i < w->nd; i++) {
			u32 np = w->d[i]->npw;

			masks[i] = np >= 64 ? bits : bits & ((1ULL << np) - 1);
			bits = np >= 64 ? rnd() : bits >> np;
			tw[i] = -1;
			tk[i] = 0;
			if (torn && np && (rn(2) || i == w->nd - 1)) {
				tw[i] = rn(np);
				masks[i] |= 1ULL << tw[i];
				tk[i] = 1 + rn(7);
				torn = false;
			}
			img[i] = disk_image(w->d[i], NULL, masks[i], tw[i], tk[i]);
		}
		g.images++;
		if (g.verbose) {
			size_t o;
			u32 q;

			o = snprintf(desc, sizeof(desc), "crash at depth %d in op %s, seq %llu:",
				     w->depth, op_names[w->last_op], ull(w->p.st.seq));
			for (i = 0; i < w->nd && o < sizeof(desc) - 100; i++) {
				o += snprintf(desc + o, sizeof(desc) - o, " d%d[", i);
				for (q = 0; q < w->d[i]->npw && o < sizeof(desc) - 100; q++)
					o += snprintf(desc + o, sizeof(desc) - o, "%s%llu%s",
						      q ? "," : "", ull(w->d[i]->pw[q].nr),
						      (int)q == tw[i] ? "torn" :
						      masks[i] >> q & 1 ? "" : "-");
				o += snprintf(desc + o, sizeof(desc) - o, "]");
			}
		}
		for (sub = 1; sub <= full && !out_of_budget(); sub++) {
			struct sdisk *cp[MAXD];
			struct md3_pool p, nw;
			int j, r, rnw = 0;
			bool nwc;

			/* assembly may write (catch-up): a copy each time */
			for (j = 0; j < w->nd; j++)
				cp[j] = disk_image(img[j], NULL, 0, -1, 0);
			if (g.verbose) {
				char d2[sizeof(desc) + 32];

				snprintf(d2, sizeof(d2), "%s; present %#x", desc, sub);
				trace_set(w, d2);
			}
			/*
			 * every other assembly first without writes, in the
			 * real code only (CPU budget)
			 */
			nwc = !g.faults && !(g.nowrite_tick++ & 1);
			if (nwc)
				rnw = assemble_opt(&nw, cp, w->nd, sub, false, -1, true);
			r = assemble(&p, cp, w->nd, sub, false, -1);
			if (nwc) {
				check_nowrite(&nw, rnw, &p, r);
				md3_pool_free(&nw);
			}
			if (!r)
				check(w, cp, w->nd, sub, &p);
			md3_pool_free(&p);
			for (j = 0; j < w->nd; j++)
				disk_free(cp[j]);
		}
		if (w->depth < 2 && !rn(w->depth ? 2 : 3)) {
			u32 part = 1 + rn(full);
			struct sdisk *cp[MAXD];
			struct md3_pool p;
			bool force;

			/* continue from all members, or from a subset */
			if (rn(2))
				part = full;
			for (i = 0; i < w->nd; i++)
				cp[i] = disk_image(img[i], NULL, 0, -1, 0);
			force = !assemble(&p, cp, w->nd, part, false, -1) &&
				p.mode == MD3_MODE_RO;
			md3_pool_free(&p);
			for (i = 0; i < w->nd; i++)
				disk_free(cp[i]);
			continue_world(w, img, w->nd, part, force, desc);
		}
		for (i = 0; i < w->nd; i++)
			disk_free(img[i]);
	}
}

/* One top-level run: a new pool of 2 to 5 members, random operations. */
static void one_pool(void)
{
	struct world *w = calloc(1, sizeof(*w));
	struct md3_dev devs[5];
	u8 uuids[5][MD3_UUID_LEN];
	const char *dom[5];
	struct md3_geom geo[5];
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	int i, nd = 2 + rn(4);

	new_uuid(rec.uuid);
	strscpy(rec.name, "simpool", sizeof(rec.name));
	for (i = 0; i < nd; i++) {
		struct sdisk *d = disk_new(NULL, 2 + JBLK);
		char pfx[16];

		new_uuid(d->uuid);
		memcpy(uuids[i], d->uuid, MD3_UUID_LEN);
		snprintf(pfx, sizeof(pfx), "sim%d-", i);
		rname(d->name, pfx);
		attach(w, d);
		d->w = NULL;		/* no crash points while formatting */
		devs[i] = sd_dev(d);
		dom[i] = domain_labels[rn(3)];
		/* a geometry per member: ring size, slices, data offset */
		geo[i] = (struct md3_geom){ .journal_blocks = JBLK - rn(10),
					    .nr_slices = 8 + rn(9),
					    .data_offset = rn(2) ? 2048 : 0 };
	}
	w->p.faults = g.faults;
	if (md3_create_pool_geoms(&w->p, &rec, devs, (const u8 *)uuids,
				  dom, nd, geo, true, NULL)) {
		flag("(d)", "cannot create a pool");
		goto out;
	}
	for (i = 0; i < nd; i++) {
		w->d[i]->member = true;
		w->d[i]->w = w;
		check_domain(&w->p.st, i, dom[i]);
		if (w->p.st.members[i].nr_slices != geo[i].nr_slices ||
		    w->p.st.members[i].data_offset != 2048 ||
		    w->p.devs[i].chain.journal_blocks != geo[i].journal_blocks)
			flag("(b)", "member %d: geometry not as given", i);
	}
	w->open = true;
	wlog(w, "pool of %d disks", nd);
	model_ack(w);
	run_ops(w, g.faults ? 80 : 40, -1);
out:
	world_free(w);
	free(w);
}

/*
 * @states more crash states from seed @seed: the run depends on nothing
 * else (not on time, not on the machine), so it is the same everywhere.
 */
static void run_sim(u64 seed, u64 states, unsigned int faults)
{
	g.rng = seed ? seed : 1;
	g.faults = faults;
	/* mutants: fewer crash points per operation, longer histories */
	g.rate0 = faults ? 16 : 1;
	g.max_states = g.states + states;
	while (!out_of_budget())
		one_pool();
}

/* ---- test cases ---- */
static u64 opt_states = 90000;		/* the real code, over opt_seeds */
static u64 opt_seed = 1;		/* the first seed */
static u64 opt_seeds = 6;
static u64 opt_mutant_states = 30000;	/* each mutant */
static const char *opt_mutant;
static u64 real_states, real_violations;

static void t_format2_refused(void)
{
	struct sdisk *d = disk_new(NULL, 2 + JBLK);
	struct md3_dev dev = sd_dev(d);
	struct md3_chain c;
	u8 blk[MD3_BLOCK_SIZE] = { 0 };
	struct md3_block_header *h = (void *)blk;

	h->magic = cpu_to_le32(MD3_V2_SB_MAGIC);
	h->blocknr = 0;
	h->crc = cpu_to_le32(md3_crc32c(~0U, blk + 4, MD3_BLOCK_SIZE - 4));
	sd_write(d, 0, blk);
	CHECK(md3_read_member(&dev, &c) == 0, "read");
	CHECK(c.kind == MD3_CHAIN_V2, "kind %d", c.kind);
	CHECK(c.why && strstr(c.why, "slicepool upgrade"), "message: %s", c.why);
	blk[100] ^= 1;		/* a damaged format-2 block is just not v3 */
	sd_write(d, 0, blk);
	CHECK(md3_read_member(&dev, &c) == 0 && c.kind == MD3_CHAIN_BLANK,
	      "kind %d", c.kind);
	md3_chain_free(&c);
	disk_free(d);
}

/* No caps: 4096 members, 100,000 volumes, 2^33 slices on one member. */
static void t_scale(void)
{
	struct md3_state st, t;
	u8 *buf, *buf2, rec[8 + MD3_MAP_LEN + 16] = { 0 };
	size_t len, len2;
	u64 i, ps;
	int r;

	md3_state_init(&st);
	st.pool.next_member_id = 4096;
	st.pool.next_volume_id = 100001;
	{
		u8 v[8 + MD3_DOMAIN_LEN] = { 0 };	/* domain 0, "d" */

		put_unaligned_le16(MD3_TAG_DOMAIN, v);
		put_unaligned_le32(MD3_DOMAIN_LEN, v + 4);
		v[16] = 'd';
		CHECK(!md3_state_apply(&st, v, sizeof(v)), "domain");
	}
	for (i = 0; i < 4096; i++) {
		struct md3_member m = { .id = i, .nr_slices = i ? 1000 : 1ULL << 33 };
		u8 v[8 + MD3_MEMBER_LEN] = { 0 };	/* a multiple of 8 */

		put_unaligned_le16(MD3_TAG_MEMBER, v);
		put_unaligned_le32(MD3_MEMBER_LEN, v + 4);
		put_unaligned_le32(m.id, v + 8);
		put_unaligned_le64(m.nr_slices, v + 32);
		r = md3_state_apply(&st, v, sizeof(v));
		if (r)
			break;
	}
	CHECK(!r && st.nr_members == 4096, "members %u r %d", st.nr_members, r);
	for (i = 1; i <= 100000 && !r; i++) {
		u8 v[8 + MD3_VOLUME_LEN + 8 + MD3_MAP_LEN + 16] = { 0 };
		u32 mid = i == 1 ? 0 : i % 4096;
		u64 ps = i == 1 ? (1ULL << 32) + 5 : i / 4096;
		u8 *mp = v + 8 + MD3_VOLUME_LEN;	/* the MAP record */

		put_unaligned_le16(MD3_TAG_VOLUME, v);
		put_unaligned_le32(MD3_VOLUME_LEN, v + 4);
		put_unaligned_le64(i, v + 8);
		put_unaligned_le64(1, v + 8 + 16);

		put_unaligned_le16(MD3_TAG_MAP, mp);
		put_unaligned_le32(MD3_MAP_LEN + 12, mp + 4);
		put_unaligned_le64(i, mp + 8);
		put_unaligned_le64(1, mp + 24);
		put_unaligned_le32(mid, mp + 32);
		put_unaligned_le64(ps, mp + 36);
		r = md3_state_apply(&st, v, sizeof(v));
	}
	CHECK(!r && st.nr_volumes == 100000, "volumes %llu r %d", ull(st.nr_volumes), r);
	CHECK(md3_slice_used(&st, 0, (1ULL << 32) + 5), "slice 2^32+5 not used");
	CHECK(!md3_alloc_free(&st, 0, 1ULL << 32, &ps) && ps == 1ULL << 32,
	      "free slice at 2^32: %llu", ull(ps));
	CHECK(!md3_alloc_free(&st, 0, (1ULL << 32) + 5, &ps) &&
	      ps == (1ULL << 32) + 6, "free slice after 2^32+5: %llu", ull(ps));
	CHECK(md3_state_check(&st) == 0, "check");
	/* a map entry naming a used slice is refused: (a) is enforced */
	put_unaligned_le16(MD3_TAG_MAP, rec);
	put_unaligned_le32(MD3_MAP_LEN + 12, rec + 4);
	put_unaligned_le64(2, rec + 8);
	put_unaligned_le64(1, rec + 24);
	put_unaligned_le32(0, rec + 32);	/* member 0, slice 2^32+5 */
	put_unaligned_le64((1ULL << 32) + 5, rec + 36);
	CHECK(md3_state_apply(&st, rec, sizeof(rec)) == -EUCLEAN, "double use accepted");
	/* round trip through the checkpoint encoding */
	r = md3_state_encode(&st, &buf, &len);
	CHECK(!r, "encode %d", r);
	md3_state_init(&t);
	CHECK(!md3_state_apply(&t, buf, len), "decode");
	CHECK(!md3_state_encode(&t, &buf2, &len2) && len2 == len &&
	      !memcmp(buf, buf2, len), "round trip differs");
	printf("# scale: 4096 members, 100000 volumes: checkpoint %zu bytes\n", len);
	free(buf);
	free(buf2);
	md3_state_free(&t);
	md3_state_free(&st);
}

/* A DOMAIN record @id @label, or a MEMBER record naming domain @id, alone */
static int apply_one(struct md3_state *st, u16 tag, u32 id, const char *label)
{
	u8 v[8 + MD3_MEMBER_LEN] = { 0 };
	u32 len = tag == MD3_TAG_DOMAIN ? MD3_DOMAIN_LEN : MD3_MEMBER_LEN;

	put_unaligned_le16(tag, v);
	put_unaligned_le32(len, v + 4);
	if (tag == MD3_TAG_DOMAIN) {
		put_unaligned_le32(id, v + 8);
		strscpy((char *)v + 16, label, MD3_NAME_LEN);
	} else {
		put_unaligned_le32(st->pool.next_member_id++, v + 8);
		put_unaligned_le32(id, v + 8 + 12);
	}
	return md3_state_apply(st, v, 8 + len);
}

/*
 * Failure domains: labels given at create time and at add time become
 * DOMAIN records (one per distinct label, the new one in the add's own
 * transaction), found by label and by id, and read back by an assembly.
 */
static void t_domains(void)
{
	static const char *const labels[] = { "rack-a", "rack-b", "rack-a" };
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { 0 };
	char big[MD3_NAME_LEN + 1];
	struct sdisk *d[5];
	struct md3_dev devs[5];
	u8 uuids[5][MD3_UUID_LEN];
	struct md3_pool p = { 0 }, q;
	struct md3_state st;
	u32 id = 0, i;
	u64 seq;

	new_uuid(rec.uuid);
	disks_new(d, devs, uuids, 5, "dom");
	CHECK(!md3_create_pool(&p, &rec, devs, (const u8 *)uuids, labels, 3,
			       &jgeo, NULL), "create");
	CHECK(p.st.nr_domains == 2, "%u domains", p.st.nr_domains);
	CHECK(p.st.members[0].domain == p.st.members[2].domain &&
	      p.st.members[0].domain != p.st.members[1].domain, "members' domains");
	CHECK(md3_domain_find(&p.st, "rack-b") == p.st.members[1].domain, "find");
	CHECK(!strcmp(md3_domain_label(&p.st, p.st.members[2].domain), "rack-a"), "label");
	CHECK(md3_domain_find(&p.st, "rack-z") == MD3_NO_DOMAIN, "unknown label found");
	CHECK(!md3_domain_label(&p.st, 99), "unknown id has a label");
	/* labels: 1 .. 63 bytes */
	memset(big, 'x', MD3_NAME_LEN);
	big[MD3_NAME_LEN] = 0;
	CHECK(md3_member_add(&p, &devs[3], d[3]->uuid, "dom3", big, 16,
			     &jgeo, NULL) == -EINVAL, "64-byte label");
	CHECK(md3_member_add(&p, &devs[3], d[3]->uuid, "dom3", "", 16,
			     &jgeo, NULL) == -EINVAL, "empty label");
	seq = p.st.seq;
	big[MD3_NAME_LEN - 1] = 0;
	CHECK(!md3_member_add(&p, &devs[3], d[3]->uuid, "dom3", big, 16,
			      &jgeo, &id), "add, new domain");
	CHECK(p.st.seq == seq + 1, "add took %llu transactions", ull(p.st.seq - seq));
	CHECK(p.st.nr_domains == 3 && md3_domain_find(&p.st, big) == 2 &&
	      md3_member_find(&p.st, id)->domain == 2, "new domain");
	CHECK(!md3_member_add(&p, &devs[4], d[4]->uuid, "dom4", NULL, 16,
			      &jgeo, &id), "add, own domain");
	CHECK(!strcmp(md3_domain_label(&p.st, md3_member_find(&p.st, id)->domain), "4"),
	      "own domain labelled '%s'",
	      md3_domain_label(&p.st, md3_member_find(&p.st, id)->domain));
	md3_pool_free(&p);
	CHECK(!md3_assemble(&q, devs, 5, &o) && q.mode == MD3_MODE_RW, "assemble");
	CHECK(q.st.nr_domains == 4 && md3_domain_find(&q.st, big) == 2 &&
	      md3_domain_find(&q.st, "rack-a") == q.st.members[0].domain,
	      "domains after assembly");
	/* records: labels unique, a member names a domain that exists */
	md3_state_init(&st);
	CHECK(!apply_one(&st, MD3_TAG_DOMAIN, 0, "a") &&
	      !apply_one(&st, MD3_TAG_DOMAIN, 5, "b"), "domains 0 and 5");
	CHECK(apply_one(&st, MD3_TAG_DOMAIN, 6, "a") == -EUCLEAN, "a label twice");
	CHECK(apply_one(&st, MD3_TAG_DOMAIN, 7, "") == -EUCLEAN, "empty label");
	CHECK(!apply_one(&st, MD3_TAG_MEMBER, 5, NULL), "member in domain 5");
	CHECK(apply_one(&st, MD3_TAG_MEMBER, 3, NULL) == -EUCLEAN,
	      "member in an unknown domain");
	md3_state_free(&st);
	md3_pool_free(&q);
	for (i = 0; i < 5; i++)
		disk_free(d[i]);
}

/* A VOLUME record @len bytes long: volume @id, flags @flags (at 104) */
static int apply_vol(struct md3_state *st, u32 len, u64 id, u32 flags)
{
	u8 v[8 + MD3_VOLUME_LEN] = { 0 };

	put_unaligned_le16(MD3_TAG_VOLUME, v);
	put_unaligned_le32(len, v + 4);
	put_unaligned_le64(id, v + 8);
	strscpy((char *)v + 8 + 40, "v", MD3_NAME_LEN);
	if (len >= MD3_VOLUME_MIN_LEN + 4)
		put_unaligned_le32(flags, v + 8 + MD3_VOLUME_MIN_LEN);
	return md3_state_apply(st, v, 8 + ((len + 7) & ~7U));
}

/*
 * Volume flags (images): a VOLUME value of 104 bytes, written before the
 * flags, reads as flags 0; one of 112 bytes carries them; an unknown flag
 * or a shorter value is refused.  md3_vol_set_flags() sets the image flag
 * in one transaction, an expand keeps it, an assembly reads it back, and
 * unknown flags or volumes are refused.
 */
static void t_vol_flags(void)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { 0 };
	struct md3_slice s[2];
	struct sdisk *d[2];
	struct md3_dev devs[2];
	u8 uuids[2][MD3_UUID_LEN];
	struct md3_pool p = { 0 }, q;
	struct md3_state st;
	u64 id = 0, seq;
	int i;

	md3_state_init(&st);
	CHECK(!apply_vol(&st, MD3_VOLUME_MIN_LEN, 1, 0), "104-byte VOLUME");
	CHECK(md3_vol_find(&st, 1) && !md3_vol_find(&st, 1)->flags,
	      "104-byte VOLUME has flags");
	CHECK(!apply_vol(&st, MD3_VOLUME_LEN, 2, MD3_VOL_IMAGE), "112-byte VOLUME");
	CHECK(md3_vol_find(&st, 2)->flags == MD3_VOL_IMAGE, "image flag lost");
	CHECK(apply_vol(&st, MD3_VOLUME_LEN, 3, 2) == -EUCLEAN, "unknown flag");
	CHECK(apply_vol(&st, MD3_VOLUME_MIN_LEN - 8, 4, 0) == -EUCLEAN,
	      "96-byte VOLUME");
	md3_state_free(&st);

	new_uuid(rec.uuid);
	disks_new(d, devs, uuids, 2, "flg");
	CHECK(!md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL, 2,
			       &jgeo, NULL), "create");
	CHECK(!pick_free(&p.st, s, 1), "free slice");
	CHECK(!md3_vol_create(&p, &id, NULL, "img", SLICE_SECT * 512ULL, s, 1),
	      "vol create");
	seq = p.st.seq;
	CHECK(!md3_vol_set_flags(&p, id, MD3_VOL_IMAGE), "set image");
	CHECK(p.st.seq == seq + 1 && md3_vol_find(&p.st, id)->flags == MD3_VOL_IMAGE,
	      "image: %llu transactions", ull(p.st.seq - seq));
	CHECK(!md3_vol_set_flags(&p, id, MD3_VOL_IMAGE) && p.st.seq == seq + 1,
	      "image again wrote a transaction");
	CHECK(md3_vol_set_flags(&p, id, 2) == -EINVAL, "unknown flag set");
	CHECK(md3_vol_set_flags(&p, id + 1, MD3_VOL_IMAGE) == -ENOENT,
	      "unknown volume");
	CHECK(!pick_free(&p.st, s, 1) &&
	      !md3_vol_expand(&p, id, 2 * SLICE_SECT * 512ULL, s, 1), "expand");
	CHECK(md3_vol_find(&p.st, id)->flags == MD3_VOL_IMAGE, "expand dropped it");
	md3_pool_free(&p);
	CHECK(!md3_assemble(&q, devs, 2, &o) && q.mode == MD3_MODE_RW, "assemble");
	CHECK(md3_vol_find(&q.st, id) &&
	      md3_vol_find(&q.st, id)->flags == MD3_VOL_IMAGE &&
	      md3_vol_find(&q.st, id)->nr_slices == 2, "image after assembly");
	md3_pool_free(&q);
	for (i = 0; i < 2; i++)
		disk_free(d[i]);
}

/* A DOMAIN 0 record and a MEMBER record of @len bytes, applied to @st */
static int apply_member(struct md3_state *st, u32 len, u32 id, u32 flags)
{
	u8 v[8 + MD3_DOMAIN_LEN + 8 + MD3_MEMBER_LEN] = { 0 };
	u8 *m = v + 8 + MD3_DOMAIN_LEN;

	put_unaligned_le16(MD3_TAG_DOMAIN, v);
	put_unaligned_le32(MD3_DOMAIN_LEN, v + 4);
	strscpy((char *)v + 8 + 8, "d", MD3_NAME_LEN);
	put_unaligned_le16(MD3_TAG_MEMBER, m);
	put_unaligned_le32(len, m + 4);
	put_unaligned_le32(id, m + 8);
	put_unaligned_le64(16, m + 8 + 24);
	strscpy((char *)m + 8 + 56, "m", MD3_NAME_LEN);
	if (len >= MD3_MEMBER_MIN_LEN + 4)
		put_unaligned_le32(flags, m + 8 + MD3_MEMBER_MIN_LEN);
	return md3_state_apply(st, v, 8 + MD3_DOMAIN_LEN + 8 + ((len + 7) & ~7U));
}

/*
 * Member flags (drain): a MEMBER value of 136 bytes, written before the
 * flags, reads as flags 0; one of 144 bytes carries them; an unknown flag
 * or a shorter value is refused.  md3_member_set_flags() sets and clears
 * the drain flag in one transaction each (none if unchanged), a grow and
 * a stale mark keep it, an assembly reads it back, and unknown flags or
 * members are refused.
 */
static void t_member_flags(void)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { 0 };
	struct sdisk *d[3];
	struct md3_dev devs[3];
	u8 uuids[3][MD3_UUID_LEN];
	struct md3_pool p = { 0 }, q;
	struct md3_state st;
	u32 id, id0;
	u64 seq;
	int i;

	md3_state_init(&st);
	CHECK(!apply_member(&st, MD3_MEMBER_MIN_LEN, 1, 0), "136-byte MEMBER");
	CHECK(md3_member_find(&st, 1) && !md3_member_find(&st, 1)->flags,
	      "136-byte MEMBER has flags");
	CHECK(!apply_member(&st, MD3_MEMBER_LEN, 2, MD3_MEMBER_DRAIN), "144-byte MEMBER");
	CHECK(md3_member_find(&st, 2)->flags == MD3_MEMBER_DRAIN, "drain flag lost");
	CHECK(apply_member(&st, MD3_MEMBER_LEN, 3, 2) == -EUCLEAN, "unknown flag");
	CHECK(apply_member(&st, MD3_MEMBER_MIN_LEN - 8, 4, 0) == -EUCLEAN,
	      "128-byte MEMBER");
	md3_state_free(&st);

	new_uuid(rec.uuid);
	disks_new(d, devs, uuids, 3, "mfl");
	CHECK(!md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL, 3,
			       &jgeo, NULL), "create");
	id0 = p.st.members[0].id;
	id = p.st.members[1].id;
	seq = p.st.seq;
	CHECK(!md3_member_set_flags(&p, id, MD3_MEMBER_DRAIN), "set drain");
	CHECK(p.st.seq == seq + 1 &&
	      md3_member_find(&p.st, id)->flags == MD3_MEMBER_DRAIN,
	      "drain: %llu transactions", ull(p.st.seq - seq));
	CHECK(!md3_member_set_flags(&p, id, MD3_MEMBER_DRAIN) && p.st.seq == seq + 1,
	      "drain again wrote a transaction");
	CHECK(md3_member_set_flags(&p, id, 2) == -EINVAL, "unknown flag set");
	CHECK(md3_member_set_flags(&p, 999, 0) == -ENOENT, "unknown member");
	CHECK(!md3_member_grow(&p, id, md3_member_find(&p.st, id)->nr_slices + 4) &&
	      md3_member_find(&p.st, id)->flags == MD3_MEMBER_DRAIN, "grow dropped it");
	md3_pool_free(&p);
	CHECK(!md3_assemble(&q, devs, 3, &o) && q.mode == MD3_MODE_RW, "assemble");
	CHECK(md3_member_find(&q.st, id)->flags == MD3_MEMBER_DRAIN,
	      "drain after assembly");
	CHECK(!md3_member_stale(&q, id, MD3_R_FAILED) &&
	      md3_member_find(&q.st, id)->flags == MD3_MEMBER_DRAIN, "stale dropped it");
	CHECK(!md3_member_set_flags(&q, id0, MD3_MEMBER_DRAIN) &&
	      !md3_member_set_flags(&q, id0, 0) &&
	      !md3_member_find(&q.st, id0)->flags, "clear drain");
	md3_pool_free(&q);
	for (i = 0; i < 3; i++)
		disk_free(d[i]);
}

/* md3_create_pool_geoms(): a geometry per member, or a refusal */
static int geoms(u64 dev_sectors, const struct md3_geom *g1, struct md3_pool *p)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_geom g[2] = { { .journal_blocks = JBLK }, *g1 };
	struct sdisk *d[2];
	struct md3_dev devs[2];
	u8 uuids[2][MD3_UUID_LEN];
	int i, r;

	for (i = 0; i < 2; i++) {
		d[i] = disk_new(NULL, 2048 / 8 + 64);
		new_uuid(uuids[i]);
		devs[i] = sd_dev(d[i]);
	}
	devs[1].dev_sectors = dev_sectors;
	memset(p, 0, sizeof(*p));
	r = md3_create_pool_geoms(p, &rec, devs, (const u8 *)uuids, NULL, 2, g,
				  true, NULL);
	if (!r) {
		struct md3_assemble_opts o = { 0 };
		struct md3_pool q;

		/* what was written reads back */
		r = md3_assemble(&q, devs, 2, &o) || q.mode != MD3_MODE_RW ||
		    q.st.members[1].nr_slices != p->st.members[1].nr_slices ||
		    q.st.members[1].data_offset != p->st.members[1].data_offset ||
		    q.devs[1].chain.journal_blocks != p->devs[1].chain.journal_blocks ||
		    q.devs[1].chain.data_offset != p->devs[1].chain.data_offset ? -EIO : 0;
		md3_pool_free(&q);
	}
	for (i = 0; i < 2; i++)
		disk_free(d[i]);
	return r;
}

static void t_geoms(void)
{
	struct md3_pool p;
	int r;

	/* a format-2 member kept in place: data at 1 MiB, 100 slices */
	r = geoms(2048 + 100 * SLICE_SECT, &(struct md3_geom){ .data_offset = 2048,
		  .nr_slices = 100, .slice_sectors = SLICE_SECT }, &p);
	CHECK(!r && p.st.members[1].nr_slices == 100 &&
	      p.st.members[1].data_offset == 2048 &&
	      p.devs[1].chain.journal_blocks == 2048 / 8 - MD3_JOURNAL_START,
	      "in place: %d, %llu slices, journal %llu", r,
	      ull(p.st.members[1].nr_slices), ull(p.devs[1].chain.journal_blocks));
	CHECK(p.st.members[0].nr_slices != 100, "member 0 took member 1's geometry");
	md3_pool_free(&p);
	r = geoms(4096 + 64, &(struct md3_geom){ .journal_blocks = 300 }, &p);
	CHECK(!r && p.st.members[1].data_offset == 4096 &&
	      p.st.members[1].nr_slices == 8, "ring of 300: %d, offset %llu", r,
	      ull(p.st.members[1].data_offset));
	md3_pool_free(&p);
	CHECK(geoms(8192, &(struct md3_geom){ .data_offset = 1000 }, &p) == -EINVAL,
	      "data offset off the 1 MiB grid");
	md3_pool_free(&p);
	CHECK(geoms(8192, &(struct md3_geom){ .slice_sectors = 2 * SLICE_SECT }, &p) ==
	      -EINVAL, "another slice size");
	md3_pool_free(&p);
	CHECK(geoms(8192, &(struct md3_geom){ .data_offset = 2048, .journal_blocks = 255 },
		    &p) == -ENOSPC, "a ring larger than the room before the data");
	md3_pool_free(&p);
	CHECK(geoms(2048 + 10 * SLICE_SECT, &(struct md3_geom){ .data_offset = 2048,
		    .nr_slices = 11 }, &p) == -ENOSPC, "more slices than fit");
	md3_pool_free(&p);
}

/*
 * A forced activation of an add in flight, and the other side carrying on
 * (found by the long mode).  Pool {d0, d1}; the add of d2 reaches only d2
 * (written first and flushed, then the power cut).  Forced from d2 alone:
 * its state marks 0 and 1 STALE.  d0 and d1 alone are every CURRENT
 * member of their state: read-write, they add d3 (which gets id 2 again)
 * and acknowledge it.  With every device back, d2's marks on d0 and d1
 * are no proof that their side never committed (it never needed d2): the
 * assembly must not pick d2's branch (it is refused, naming the fork).
 * Returns 1 if d2's branch came up read-write (the violation).
 */
static int forced_add_fork(unsigned int faults)
{
	struct sdisk *d[4], *pre[2] = { NULL, NULL }, *all[4];
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { .faults = faults };
	struct md3_dev devs[4];
	u8 uuids[2][MD3_UUID_LEN];
	struct md3_pool p = { .faults = faults }, q;
	u32 kid = 0;
	int i, bad = -1;

	new_uuid(rec.uuid);
	disks_new(d, devs, NULL, 4, "fork");
	memcpy(uuids[0], d[0]->uuid, MD3_UUID_LEN);
	memcpy(uuids[1], d[1]->uuid, MD3_UUID_LEN);
	if (md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL, 2,
			    &jgeo, NULL))
		goto out;
	for (i = 0; i < 2; i++)
		pre[i] = disk_image(d[i], NULL, 0, -1, 0);
	if (md3_member_add(&p, &devs[2], d[2]->uuid, "fork2", NULL, 16,
			   &jgeo, NULL))
		goto out;
	md3_pool_free(&p);
	/* the crash image: d2 holds the add, d0 and d1 do not */
	o.force = true;
	if (md3_assemble(&p, &devs[2], 1, &o) || p.mode != MD3_MODE_RW)
		goto out;
	md3_pool_free(&p);
	o.force = false;
	all[0] = pre[0];
	all[1] = pre[1];
	devs[0] = sd_dev(pre[0]);
	devs[1] = sd_dev(pre[1]);
	if (md3_assemble(&p, devs, 2, &o) || p.mode != MD3_MODE_RW ||
	    md3_member_add(&p, &devs[3], d[3]->uuid, "fork3", NULL, 16,
			   &jgeo, &kid))
		goto out;
	md3_pool_free(&p);
	all[2] = d[2];
	all[3] = d[3];
	for (i = 0; i < 4; i++)
		devs[i] = sd_dev(all[i]);
	if (md3_assemble(&q, devs, 4, &o)) {
		md3_pool_free(&q);
		goto out;
	}
	/* read-write must keep the other side's acknowledged add of d3 */
	bad = q.mode == MD3_MODE_RW &&
	      (!md3_member_find(&q.st, kid) ||
	       memcmp(md3_member_find(&q.st, kid)->uuid, d[3]->uuid, MD3_UUID_LEN));
	printf("# forced add fork%s: %s at seq %llu\n", faults ? " (mutant)" : "",
	       q.mode == MD3_MODE_RW ? "read-write" : q.mode == MD3_MODE_RO ?
	       "read-only" : "refused", ull(q.st.seq));
	md3_pool_free(&q);
out:
	md3_pool_free(&p);
	for (i = 0; i < 4; i++)
		disk_free(d[i]);
	disk_free(pre[0]);
	disk_free(pre[1]);
	return bad;
}

static void t_forced_add_fork(void)
{
	CHECK(forced_add_fork(0) == 0, "the forced branch of an uncommitted add won");
	CHECK(forced_add_fork(MD3_FAULT_UNNEEDED) == 1,
	      "mutant unneeded (rule 4a counting devices never needed) not caught");
}

/* d1 of hole_flip(): its label writes are lost while drop_labels is set */
static bool drop_labels;

static int dl_write(void *ctx, u64 nr, const void *buf)
{
	if (drop_labels && nr < MD3_JOURNAL_START)
		return 0;
	return sd_write(ctx, nr, buf);
}

static const struct md3_dev_ops dl_ops = {
	.read = sd_read, .write = dl_write, .flush = sd_flush,
};

/*
 * A rejoin's checkpoint past a hole (found by the long mode).  Pool {d0,
 * d1, d2}; d1 fails, so a transaction misses it and it is marked STALE;
 * it rejoins, and the label naming its new checkpoint is lost.  Forced
 * from d1 alone, the force transaction must stay on d1's chain: with
 * every device back the pool must not come up read-write with members 0
 * and 2 CURRENT (the force flipped back).  Returns 1 if it does.
 */
static int hole_flip(unsigned int faults)
{
	struct sdisk *d[3];
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { .faults = faults };
	struct md3_dev devs[3];
	u8 uuids[3][MD3_UUID_LEN];
	struct md3_pool p = { .faults = faults };
	int i, bad = -1;

	new_uuid(rec.uuid);
	disks_new(d, devs, uuids, 3, "hole");
	devs[1].ops = &dl_ops;
	if (md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL, 3,
			    &jgeo, NULL))
		goto out;
	d[1]->fail = true;
	if (md3_settings(&p, 40, 60, 1) || md3_member_find(&p.st, 1)->status != MD3_STALE)
		goto out;
	d[1]->fail = false;
	drop_labels = true;
	i = md3_member_rejoin(&p, 1);
	drop_labels = false;
	md3_pool_free(&p);
	if (i)
		goto out;
	o.force = true;
	if (md3_assemble(&p, &devs[1], 1, &o) || p.mode != MD3_MODE_RW)
		goto out;
	md3_pool_free(&p);
	o.force = false;
	if (md3_assemble(&p, devs, 3, &o))
		goto out;
	bad = p.mode == MD3_MODE_RW && md3_member_find(&p.st, 0)->status == MD3_CURRENT;
	printf("# rejoin past a hole%s: %s at seq %llu, member 0 %s\n",
	       faults ? " (mutant)" : "", p.mode == MD3_MODE_RW ? "read-write" :
	       p.mode == MD3_MODE_RO ? "read-only" : "refused", ull(p.st.seq),
	       p.st.nr_members && md3_member_find(&p.st, 0)->status == MD3_CURRENT ?
	       "current" : "not current");
out:
	md3_pool_free(&p);
	for (i = 0; i < 3; i++)
		disk_free(d[i]);
	return bad;
}

static void t_hole_flip(void)
{
	CHECK(hole_flip(0) == 0, "a forced activation flipped back past a hole");
	CHECK(hole_flip(MD3_FAULT_HOLE) == 1,
	      "mutant hole (rejoin past a hole) not caught");
}

/*
 * A crash at every write of a member add, then the add again.  Pool {d0,
 * d1} with one volume; d2 is added with the power cut after its k-th
 * metadata write (k = 0, 1, ... until the add completes), every member at
 * once: the writes before the cut all land, or only those flushed before
 * it.  Each crash image is assembled with all three devices and must come
 * up read-write with the volume; d2 is then either a member (the add
 * committed: it rolled forward), blank (added as a blank device), or an
 * add that did not commit that the assembly offers to format again
 * (->readd, md3_readd()); anything else is a violation (a member the pool
 * wrote refused).  After the second add a new assembly of the three
 * devices must be read-write with three CURRENT members, d2's among them,
 * and the volume.  Also, once d2 holds a label, with d0 and d1 from
 * before the volume's create (d2 then holds the newest state), d2's state
 * must win and survive d2's second add.
 */
static u64 cut_after, cut_writes;

static int cut_write(void *ctx, u64 nr, const void *buf)
{
	if (++cut_writes > cut_after)
		return 0;	/* the power is off: lost */
	return sd_write(ctx, nr, buf);
}

static int cut_flush(void *ctx)
{
	return cut_writes > cut_after ? 0 : sd_flush(ctx);
}

static const struct md3_dev_ops cut_ops = {
	.read = sd_read, .write = cut_write, .flush = cut_flush,
};

static struct {
	u64 states, violations, forward, blank, readd;
} ar;

static void ar_flag(u64 k, int landed, const char *what, int r)
{
	static const char *const how[] = { "flushed only", "all landed",
					   "members from before the volume" };

	ar.violations++;
	printf("# add crash at write %llu (%s): %s (%d)\n", ull(k), how[landed],
	       what, r);
}

/* Assemble @img (3 disks): read-write, the volume @vol, @cur CURRENT */
static int ar_assemble(struct md3_pool *p, struct sdisk **img, u64 vol, u32 cur)
{
	struct md3_assemble_opts o = { 0 };
	struct md3_dev devs[3];
	int i;

	for (i = 0; i < 3; i++)
		devs[i] = sd_dev(img[i]);
	if (md3_assemble(p, devs, 3, &o))
		return -1;
	if (p->mode != MD3_MODE_RW)
		return -2;
	if (!md3_vol_find(&p->st, vol))
		return -3;
	if (nr_current(&p->st) != cur)
		return -4;
	return 0;
}

/*
 * Never formatted again in a partial assembly: without d1 (read-only) and
 * forced without d1 (read-write, d1 marked stale; nothing written here).
 */
static void ar_partial(struct sdisk **img, u64 k, int landed)
{
	struct md3_assemble_opts o = { .nowrite = true };
	struct md3_attach a = { .uuid = img[2]->uuid, .geom = jgeo };
	struct md3_dev devs[2] = { sd_dev(img[0]), sd_dev(img[2]) };
	struct md3_pool p;
	int f, r;

	for (f = 0; f < 2; f++) {
		o.force = f;
		r = md3_assemble(&p, devs, 2, &o);
		if (!r && p.nr_devs == 2 && p.devs[1].readd)
			ar_flag(k, landed, f ? "formatted again when forced without d1" :
				"formatted again without d1", p.mode);
		else if (!r && md3_readd(&p, &p.devs[1], &a, NULL) != -EROFS)
			ar_flag(k, landed, "md3_readd() in a partial assembly", p.mode);
		md3_pool_free(&p);
	}
}

/*
 * Add d2 to the crash image @img again (or find the add of uuid @added
 * committed); 0 if d2 is a CURRENT member then.
 */
static int ar_readd(struct sdisk **img, const u8 *added, u64 vol, u64 k,
		    int landed)
{
	struct md3_attach a = { .name = "ra2", .geom = jgeo };
	const struct md3_member *m;
	struct md3_pool p;
	struct md3_pdev *pd = NULL;
	struct md3_dev dev;
	u8 uuid[MD3_UUID_LEN];
	u32 i, id = ~0U;
	int r;

	new_uuid(uuid);
	a.uuid = uuid;
	a.geom.nr_slices = 16;
	r = ar_assemble(&p, img, vol, 2);
	m = md3_member_find(&p.st, 2);
	if (r == -4 && m && !memcmp(m->uuid, added, MD3_UUID_LEN)) {
		/* the add committed: d2 is member 2, in sync */
		for (i = 0; i < p.nr_devs; i++)
			if (p.devs[i].dev.ctx == img[2])
				pd = &p.devs[i];
		if (!pd || pd->role != MD3_ROLE_INSYNC)
			ar_flag(k, landed, "the committed add's device is not in sync",
				pd ? pd->role : -1);
		ar.forward++;
		md3_pool_free(&p);
		return 0;
	}
	if (r) {
		ar_flag(k, landed, "not read-write with the volume", r);
		md3_pool_free(&p);
		return r;
	}
	for (i = 0; i < p.nr_devs; i++)
		if (p.devs[i].dev.ctx == img[2])
			pd = &p.devs[i];
	if (pd && pd->readd) {
		ar_partial(img, k, landed);
		r = md3_readd(&p, pd, &a, &id);
		ar.readd++;
	} else if (pd && pd->chain.kind == MD3_CHAIN_BLANK) {
		md3_pool_free(&p);
		r = ar_assemble(&p, img, vol, 2);
		dev = sd_dev(img[2]);
		if (!r)
			r = md3_attach(&p, &dev, &a, &id);
		ar.blank++;
	} else {
		r = -EEXIST;
	}
	md3_pool_free(&p);
	if (r) {
		ar_flag(k, landed, "the device of the interrupted add is refused", r);
		return r;
	}
	r = ar_assemble(&p, img, vol, 3);
	m = md3_member_find(&p.st, id);
	if (!r && (!m || m->status != MD3_CURRENT ||
		   memcmp(m->uuid, uuid, MD3_UUID_LEN)))
		r = -5;
	if (r)
		ar_flag(k, landed, "after the second add", r);
	md3_pool_free(&p);
	return r;
}

/* Whether @d (its writes so far) holds a v3 journal */
static bool ar_labelled(struct sdisk *d)
{
	struct md3_dev dev = sd_dev(d);
	struct md3_chain c;
	bool ok = !md3_read_member(&dev, &c) && c.kind == MD3_CHAIN_OK;

	md3_chain_free(&c);
	return ok;
}

static int add_crash_readd(void)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { 0 };
	struct md3_slice s = { .member = 0, .pslice = 0 };
	struct sdisk *d[3], *img[3], *old[2];
	u8 uuids[3][MD3_UUID_LEN];
	struct md3_dev devs[3];
	struct md3_pool p;
	u64 k, vol = 0;
	int i, landed;
	bool done = false;

	memset(&ar, 0, sizeof(ar));
	for (k = 0; !done && k < 1000; k++) {
		new_uuid(rec.uuid);
		disks_new(d, devs, uuids, 3, "ra");
		if (md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL, 2,
				    &jgeo, NULL))
			return -1;
		for (i = 0; i < 2; i++)
			old[i] = disk_image(d[i], NULL, 0, -1, 0);
		if (md3_vol_create(&p, &vol, NULL, "v", 1ULL << 12, &s, 1))
			return -1;
		md3_pool_free(&p);
		for (i = 0; i < 3; i++)
			devs[i].ops = &cut_ops;
		cut_after = ~0ULL;
		if (md3_assemble(&p, devs, 2, &o) || p.mode != MD3_MODE_RW)
			return -1;
		cut_writes = 0;
		cut_after = k;
		md3_member_add(&p, &devs[2], uuids[2], "ra2", NULL, 16, &jgeo, NULL);
		done = cut_writes <= k;
		md3_pool_free(&p);
		for (landed = 0; landed < 2; landed++) {
			for (i = 0; i < 3; i++)
				img[i] = disk_image(d[i], NULL, landed ? ~0ULL : 0, -1, 0);
			ar.states++;
			ar_readd(img, uuids[2], vol, k, landed);
			if (landed && !done && ar_labelled(d[2])) {
				/* d0 and d1 from before the volume: d2 holds more */
				for (i = 0; i < 3; i++)
					disk_free(img[i]);
				img[0] = disk_image(old[0], NULL, 0, -1, 0);
				img[1] = disk_image(old[1], NULL, 0, -1, 0);
				img[2] = disk_image(d[2], NULL, ~0ULL, -1, 0);
				ar.states++;
				ar_readd(img, uuids[2], vol, k, 2);
			}
			for (i = 0; i < 3; i++)
				disk_free(img[i]);
		}
		for (i = 0; i < 3; i++)
			disk_free(d[i]);
		disk_free(old[0]);
		disk_free(old[1]);
	}
	printf("# add crash re-add: %llu writes, %llu %s, %llu blank, %llu formatted again\n",
	       ull(k - 1), ull(ar.forward), "rolled forward", ull(ar.blank), ull(ar.readd));
	printf("# add crash re-add: %llu crash states, %llu violations\n",
	       ull(ar.states), ull(ar.violations));
	return done ? 0 : -1;
}

static void t_add_crash_readd(void)
{
	CHECK(add_crash_readd() == 0, "the scenario did not run to its end");
	CHECK(ar.violations == 0, "%llu violations", ull(ar.violations));
	CHECK(ar.readd && ar.forward && ar.blank,
	      "a kind of crash image missing: %llu forward, %llu blank, %llu again",
	      ull(ar.forward), ull(ar.blank), ull(ar.readd));
}

/*
 * Clone records (issue 16): md3_clone_add() and md3_clone_remove() are one
 * transaction each; refusals write nothing; an image with clones cannot
 * be deleted nor lose its image flag; the records survive a checkpoint
 * and an assembly.
 */
static void t_clone_records(void)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { 0 };
	char longname[MD3_NAME_LEN + 1];
	struct md3_slice s[2];
	struct sdisk *d[2];
	struct md3_dev devs[2];
	u8 uuids[2][MD3_UUID_LEN];
	struct md3_pool p = { 0 }, q;
	const struct md3_clone *c;
	u64 img = 0, plain = 0, seq;
	int i;

	new_uuid(rec.uuid);
	disks_new(d, devs, uuids, 2, "cln");
	CHECK(!md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL, 2,
			       &jgeo, NULL), "create");
	CHECK(!pick_free(&p.st, s, 2), "free slices");
	CHECK(!md3_vol_create(&p, &img, NULL, "img", SLICE_SECT * 512ULL, s, 1) &&
	      !md3_vol_create(&p, &plain, NULL, "plain", SLICE_SECT * 512ULL,
			      s + 1, 1), "vol create");
	CHECK(!md3_vol_set_flags(&p, img, MD3_VOL_IMAGE), "set image");
	seq = p.st.seq;
	CHECK(!md3_clone_add(&p, img, "c1", 1, 8) && p.st.seq == seq + 1,
	      "clone add: %llu transactions", ull(p.st.seq - seq));
	CHECK(!md3_clone_add(&p, img, "c2", 7, 8) && p.st.seq == seq + 2,
	      "second clone add");
	CHECK(md3_clone_count(&p.st, img) == 2, "count %llu, not 2",
	      ull(md3_clone_count(&p.st, img)));
	memset(longname, 'x', MD3_NAME_LEN);
	longname[MD3_NAME_LEN] = 0;
	CHECK(md3_clone_add(&p, plain, "c3", 3, 8) == -EINVAL, "clone of a non-image");
	CHECK(md3_clone_add(&p, img + plain + 1, "c3", 3, 8) == -ENOENT,
	      "clone of an unknown volume");
	CHECK(md3_clone_add(&p, img, "c1", 3, 8) == -EEXIST, "duplicate name");
	CHECK(md3_clone_add(&p, img, "c3", 7, 8) == -EEXIST, "duplicate thin id");
	CHECK(md3_clone_add(&p, img, "c3", MD3_THIN_ID_MAX + 1, 8) == -EINVAL,
	      "thin id past dm-thin's 24 bits");
	CHECK(md3_clone_add(&p, img, "", 3, 8) == -EINVAL, "empty name");
	CHECK(md3_clone_add(&p, img, longname, 3, 8) == -EINVAL, "64-byte name");
	CHECK(md3_vol_delete(&p, img) == -EBUSY, "image with clones deleted");
	CHECK(md3_clone_remove(&p, "c9") == -ENOENT, "unknown clone removed");
	CHECK(p.st.seq == seq + 2, "a refusal wrote %llu transactions",
	      ull(p.st.seq - seq - 2));
	CHECK(!md3_checkpoint(&p), "checkpoint");
	md3_pool_free(&p);
	CHECK(!md3_assemble(&q, devs, 2, &o) && q.mode == MD3_MODE_RW, "assemble");
	c = md3_clone_find(&q.st, "c2");
	CHECK(c && c->image == img && c->thin_id == 7 && c->sectors == 8 &&
	      md3_clone_count(&q.st, img) == 2, "clones after assembly");
	seq = q.st.seq;
	CHECK(!md3_clone_remove(&q, "c1") && q.st.seq == seq + 1 &&
	      md3_clone_count(&q.st, img) == 1 && !md3_clone_find(&q.st, "c1"),
	      "clone remove");
	/* A move (image copy): one transaction, kept over an assembly */
	CHECK(!md3_vol_set_flags(&q, plain, MD3_VOL_IMAGE), "second image");
	seq = q.st.seq;
	CHECK(md3_clone_move(&q, "c2", img) == -EINVAL,
	      "move to the clone's own image");
	CHECK(md3_clone_move(&q, "c9", plain) == -ENOENT, "move of no clone");
	CHECK(md3_clone_move(&q, "c2", img + plain + 1) == -ENOENT,
	      "move to no volume");
	CHECK(q.st.seq == seq, "a refused move wrote %llu transactions",
	      ull(q.st.seq - seq));
	CHECK(!md3_clone_move(&q, "c2", plain) && q.st.seq == seq + 1,
	      "clone move: %llu transactions", ull(q.st.seq - seq));
	md3_pool_free(&q);
	CHECK(!md3_assemble(&q, devs, 2, &o) && q.mode == MD3_MODE_RW,
	      "assemble after the move");
	c = md3_clone_find(&q.st, "c2");
	CHECK(c && c->image == plain && c->thin_id == 7 && c->sectors == 8 &&
	      md3_clone_count(&q.st, img) == 0 &&
	      md3_clone_count(&q.st, plain) == 1, "the move after assembly");
	CHECK(!md3_vol_delete(&q, img) && md3_vol_delete(&q, plain) == -EBUSY,
	      "the old image deleted, the new one with the clone kept");
	CHECK(!md3_clone_remove(&q, "c2") && !md3_vol_delete(&q, plain),
	      "image without clones not deleted");
	md3_pool_free(&q);
	for (i = 0; i < 2; i++)
		disk_free(d[i]);
}

/*
 * Crash order of the tool's clone add and remove (tools/slicepool/
 * cmd_image.c), over two stores: the pool's metadata (the CLONE record,
 * md3 on the simulated disks) and dm-thin's metadata (its thin ids,
 * modelled as a set whose create_thin and delete are atomic, as dm-thin
 * commits each message).  dm devices do not survive a crash.  The rule:
 * after any crash, (1) every thin id in the thin-pool has a record (no
 * clone the pool does not know of), and (2) the tool's remove-clone
 * cleans every record up (delete of the thin id, "none" accepted, then
 * md3_clone_remove()), after which the add succeeds again.  The tool adds
 * the record first, then creates the thin device; it removes in the
 * opposite order.  Crash points: after each metadata block write of the
 * transaction and the dm-thin step, the unflushed writes lost or landed.
 * @mutant: the opposite orders (thin first on add, record first on
 * remove), which the rule must catch.
 */
static struct {
	u64 states, violations;
} co;

#define CO_THIN		5	/* the clone's thin id */

static void co_flag(bool add, u64 k, int landed, const char *what)
{
	co.violations++;
	if (co.violations <= 4)
		printf("# clone %s crash after event %llu (%s): %s\n",
		       add ? "add" : "remove", ull(k),
		       landed ? "all landed" : "flushed only", what);
}

/* Check the rule on crash image @img with thin-pool ids @thin (0 or 1) */
static void co_check(struct sdisk **img, u64 vol, bool thin, bool add, u64 k,
		     int landed)
{
	struct md3_assemble_opts o = { 0 };
	struct md3_dev devs[2] = { sd_dev(img[0]), sd_dev(img[1]) };
	const struct md3_clone *c;
	struct md3_pool p;

	co.states++;
	if (md3_assemble(&p, devs, 2, &o) || p.mode != MD3_MODE_RW) {
		co_flag(add, k, landed, "not read-write");
		md3_pool_free(&p);
		return;
	}
	c = md3_clone_find(&p.st, "c");
	if (thin && (!c || c->thin_id != CO_THIN))
		co_flag(add, k, landed, "a thin device without a record");
	if (c) {
		/* remove-clone: delete the thin id (none: fine), the record */
		thin = false;
		if (md3_clone_remove(&p, "c"))
			co_flag(add, k, landed, "the record cannot be removed");
	}
	if (thin || md3_clone_count(&p.st, vol) ||
	    md3_clone_add(&p, vol, "c", CO_THIN, 8))
		co_flag(add, k, landed, "not clean after remove-clone");
	md3_pool_free(&p);
}

/* One crash after @k events of the add (@add) or remove; 1: past the end */
static int co_run(bool add, bool mutant, u64 k)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	struct md3_assemble_opts o = { 0 };
	struct md3_slice s;
	struct sdisk *d[2], *img[2];
	struct md3_dev devs[2];
	u8 uuids[2][MD3_UUID_LEN];
	struct md3_pool p;
	bool thin = !add, thin_first = add == mutant, done;
	u64 vol = 0, ev;
	int i, landed;

	new_uuid(rec.uuid);
	disks_new(d, devs, uuids, 2, "co");
	if (md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL, 2, &jgeo,
			    NULL) || pick_free(&p.st, &s, 1) ||
	    md3_vol_create(&p, &vol, NULL, "img", SLICE_SECT * 512ULL, &s, 1) ||
	    md3_vol_set_flags(&p, vol, MD3_VOL_IMAGE) ||
	    (!add && md3_clone_add(&p, vol, "c", CO_THIN, 8)))
		return -1;
	md3_pool_free(&p);
	for (i = 0; i < 2; i++)
		devs[i].ops = &cut_ops;
	cut_after = ~0ULL;
	if (md3_assemble(&p, devs, 2, &o) || p.mode != MD3_MODE_RW)
		return -1;
	/* events: the dm-thin step (first or last) and each block write */
	ev = 0;
	if (thin_first && k > ev++)
		thin = add;
	cut_writes = 0;
	cut_after = k > ev ? k - ev : 0;
	if (add)
		md3_clone_add(&p, vol, "c", CO_THIN, 8);
	else
		md3_clone_remove(&p, "c");
	ev += cut_writes;
	done = cut_writes <= cut_after;
	if (!thin_first && done && k > ev++)
		thin = add;
	done = done && k >= ev;
	md3_pool_free(&p);
	for (landed = 0; landed < 2; landed++) {
		for (i = 0; i < 2; i++)
			img[i] = disk_image(d[i], NULL, landed ? ~0ULL : 0, -1, 0);
		co_check(img, vol, thin, add, k, landed);
		for (i = 0; i < 2; i++)
			disk_free(img[i]);
	}
	for (i = 0; i < 2; i++)
		disk_free(d[i]);
	return done;
}

/* Every crash point of clone add and remove; the violations found */
static u64 clone_crash(bool mutant)
{
	u64 k, v = co.violations;
	int add, r;

	for (add = 0; add < 2; add++) {
		for (k = 0, r = 0; !r && k < 1000; k++)
			r = co_run(add, mutant, k);
		if (r != 1) {
			printf("# clone %s: the scenario did not run to its end\n",
			       add ? "add" : "remove");
			co.violations++;
		}
	}
	return co.violations - v;
}

static void t_clone_crash(void)
{
	u64 v, s;

	memset(&co, 0, sizeof(co));
	v = clone_crash(false);
	printf("# clone add/remove: %llu crash states, %llu violations\n",
	       ull(co.states), ull(v));
	CHECK(v == 0, "%llu violations", ull(v));
	CHECK(co.states >= 8, "only %llu crash states", ull(co.states));
	s = co.states;
	v = clone_crash(true);
	printf("# mutant thin-before-record: %llu crash states, %llu violations\n",
	       ull(co.states - s), ull(v));
	CHECK(v > 0, "mutant thin-before-record (%s) not caught",
	      "thin device before its record on add, record removed first");
}

/* The highest tag of the records of payload @p (@len bytes) */
static u16 max_tag(const u8 *p, size_t len)
{
	size_t off = 0;
	u16 t, max = 0;

	while (off + MD3_TLV_HDR <= len) {
		t = get_unaligned_le16(p + off) & ~MD3_TAG_OPTIONAL;
		max = t > max ? t : max;
		off += MD3_TLV_HDR + ((get_unaligned_le32(p + off + 4) + 7ULL) & ~7ULL);
	}
	return max;
}

#define SL(m, ps)	((struct md3_slice){ .member = (m), .pslice = (ps) })

/*
 * Redundant volumes (issue 15): md3_vol_create_copies(), md3_leg_add(),
 * md3_leg_drop(), md3_legs_set_stale() and md3_vol_set_copies() are one
 * transaction each and refuse bad input before anything is written
 * (copies 0 or 4, two legs in one failure domain, an unknown leg flag:
 * -EINVAL; a used slice: -EEXIST; the only in-sync leg dropped, a placed
 * leg added to: -EBUSY); the copies, legs and stale marks survive a
 * checkpoint and an assembly; a state without a redundant volume holds
 * none of the new records, and a VOLUME record without COPIES reads as
 * copies 1.
 */
static void t_legs(void)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	const char *dom[4] = { "a", "b", "c", "a" };
	struct md3_assemble_opts o = { 0 };
	struct md3_slice l[6], one = SL(1, 5), e[2];
	struct md3_leg_ref ref = { 0 };
	struct md3_pool p = { 0 }, q;
	struct sdisk *d[4];
	struct md3_dev devs[4];
	u8 uuids[4][MD3_UUID_LEN], *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	const struct md3_volume *v;
	struct md3_state st;
	u64 plain = 0, r3 = 0, r2 = 0, seq;
	int i;

	new_uuid(rec.uuid);
	disks_new(d, devs, uuids, 4, "leg");
	CHECK(!md3_create_pool(&p, &rec, devs, (const u8 *)uuids, dom, 4, &jgeo,
			       NULL), "create");
	CHECK(!md3_vol_create(&p, &plain, NULL, "plain", SLICE_SECT * 512ULL,
			      &one, 1), "plain volume");
	CHECK(!md3_state_encode(&p.st, &a, &la) && max_tag(a, la) < MD3_TAG_COPIES,
	      "a pool of copies 1 holds tag %u", max_tag(a, la));
	free(a);
	CHECK(md3_vol_find(&p.st, plain)->copies == 1, "plain: copies %u",
	      md3_vol_find(&p.st, plain)->copies);
	l[0] = SL(0, 0); l[1] = SL(1, 0); l[2] = SL(2, 0);
	l[3] = SL(0, 1); l[4] = SL(1, 1); l[5] = SL(2, 1);
	seq = p.st.seq;
	CHECK(md3_vol_create_copies(&p, NULL, NULL, "r", 1, 0, l, 2) == -EINVAL,
	      "copies 0");
	CHECK(md3_vol_create_copies(&p, NULL, NULL, "r", 1, MD3_MAX_COPIES + 1, l,
				    2) == -EINVAL, "copies 4");
	l[1] = SL(3, 0);	/* member 3 is in domain a, as member 0 */
	CHECK(md3_vol_create_copies(&p, NULL, NULL, "r", 1, 3, l, 2) == -EINVAL,
	      "two legs in one domain");
	l[1] = one;		/* plain's slice */
	CHECK(md3_vol_create_copies(&p, NULL, NULL, "r", 1, 3, l, 2) == -EEXIST,
	      "a leg on a used slice");
	l[1] = SL(1, 0);
	l[2].flags = 2;
	CHECK(md3_vol_create_copies(&p, NULL, NULL, "r", 1, 3, l, 2) == -EINVAL,
	      "an unknown leg flag");
	l[2].flags = 0;
	l[5] = l[2];
	CHECK(md3_vol_create_copies(&p, NULL, NULL, "r", 1, 3, l, 2) == -EEXIST,
	      "one slice twice");
	l[5] = SL(2, 1);
	CHECK(p.st.seq == seq, "a refusal wrote %llu transactions", ull(p.st.seq - seq));
	l[4].flags = MD3_LEG_STALE;
	CHECK(!md3_vol_create_copies(&p, &r3, NULL, "r3", 2 * SLICE_SECT * 512ULL,
				     3, l, 2) && p.st.seq == seq + 1, "create copies 3");
	v = md3_vol_find(&p.st, r3);
	CHECK(v && v->copies == 3 && !memcmp(md3_leg(v, 1, 1), &l[4], sizeof(l[4])) &&
	      !memcmp(md3_leg(v, 0, 2), &l[2], sizeof(l[2])), "the legs as given");
	l[0] = SL(0, 2); l[1] = SL(1, 2);
	CHECK(!md3_vol_create_copies(&p, &r2, NULL, "r2", SLICE_SECT * 512ULL, 2, l,
				     1), "create copies 2");
	seq = p.st.seq;
	CHECK(md3_leg_drop(&p, r2, 0, 2) == -EINVAL, "drop leg 2 of copies 2");
	CHECK(!md3_leg_drop(&p, r2, 0, 0) && p.st.seq == seq + 1, "drop leg 0");
	CHECK(md3_leg_drop(&p, r2, 0, 1) == -EBUSY, "drop of the only leg in sync");
	CHECK(md3_leg_drop(&p, r2, 0, 0) == -ENOENT, "drop of an empty leg");
	CHECK(md3_leg_add(&p, r2, 0, 0, &SL(1, 3)) == -EINVAL,
	      "add in the domain of the other leg");
	CHECK(md3_leg_add(&p, r2, 0, 0, &SL(2, 0)) == -EEXIST, "add on a used slice");
	CHECK(md3_leg_add(&p, r2, 0, 1, &SL(2, 3)) == -EBUSY, "add to a placed leg");
	CHECK(md3_leg_add(&p, r2, 0, 2, &SL(2, 3)) == -EINVAL, "add past copies");
	CHECK(p.st.seq == seq + 1, "a refusal wrote a transaction");
	CHECK(!md3_leg_add(&p, r2, 0, 0, &SL(3, 3)), "add");
	v = md3_vol_find(&p.st, r2);
	CHECK(md3_leg(v, 0, 0)->member == 3 && (md3_leg(v, 0, 0)->flags & MD3_LEG_STALE),
	      "an added leg starts stale");
	ref = (struct md3_leg_ref){ .vol = r2, .slice = 0, .leg = 0 };
	CHECK(!md3_legs_set_stale(&p, &ref, 1, false) &&
	      !(md3_leg(v, 0, 0)->flags & MD3_LEG_STALE), "in sync");
	seq = p.st.seq;
	ref = (struct md3_leg_ref){ .vol = r3, .slice = 1, .leg = 1 };
	CHECK(!md3_legs_set_stale(&p, &ref, 1, true) && p.st.seq == seq,
	      "a stale leg marked stale again wrote a transaction");
	ref.leg = 3;
	CHECK(md3_legs_set_stale(&p, &ref, 1, true) == -EINVAL, "stale past copies");
	CHECK(md3_vol_set_copies(&p, r3, 2) == -EBUSY, "copies lowered over placed legs");
	CHECK(md3_vol_set_copies(&p, r3, 0) == -EINVAL, "copies 0 set");
	CHECK(!md3_leg_drop(&p, r3, 0, 2) && !md3_leg_drop(&p, r3, 1, 2) &&
	      !md3_vol_set_copies(&p, r3, 2) && !md3_vol_set_copies(&p, r3, 3),
	      "legs dropped, copies lowered and raised");
	v = md3_vol_find(&p.st, r3);
	CHECK(v->copies == 3 && md3_leg(v, 1, 2)->member == MD3_NO_MEMBER &&
	      (md3_leg(v, 1, 1)->flags & MD3_LEG_STALE), "copies 3 with an empty leg");
	CHECK(md3_vol_expand(&p, r2, 2 * SLICE_SECT * 512ULL, &SL(2, 4), 1) == -EINVAL,
	      "md3_vol_expand() of copies 2");
	e[0] = SL(2, 4);
	e[1] = SL(0, 4);
	e[1].flags = MD3_LEG_STALE;
	CHECK(!md3_vol_expand_legs(&p, r2, 2 * SLICE_SECT * 512ULL, e, 1),
	      "md3_vol_expand_legs()");
	CHECK(md3_move_begin(&p, r3, 0, 1, &SL(1, 6)) == -EINVAL,
	      "leg 0 moved into the domain of leg 1");
	CHECK(!md3_move_begin(&p, r3, 0, 1, &SL(3, 6)) &&
	      md3_leg_drop(&p, r3, 0, 1) == -EBUSY && !md3_move_commit(&p, r3, 0),
	      "a move of leg 0 (legs unchanged under it)");
	CHECK(!md3_checkpoint(&p), "checkpoint");
	ref = (struct md3_leg_ref){ .vol = plain, .slice = 0, .leg = 0 };
	CHECK(!md3_legs_set_stale(&p, &ref, 1, true), "leg 0 of copies 1 stale");
	CHECK(!md3_state_encode(&p.st, &a, &la) && max_tag(a, la) == MD3_TAG_LEG_STALE,
	      "encode");
	CHECK(md3_state_size(&p.st) == la, "md3_state_size %llu, encoded %zu",
	      ull(md3_state_size(&p.st)), la);
	CHECK(!md3_state_check(&p.st), "md3_state_check");
	md3_pool_free(&p);
	CHECK(!md3_assemble(&q, devs, 4, &o) && q.mode == MD3_MODE_RW, "assemble");
	CHECK(!md3_state_encode(&q.st, &b, &lb) && la == lb && !memcmp(a, b, la),
	      "the legs after an assembly differ");
	CHECK(md3_vol_find(&q.st, plain)->map[0].flags & MD3_LEG_STALE,
	      "the stale mark of a volume of copies 1 lost");
	v = md3_vol_find(&q.st, r2);
	CHECK(v && v->nr_slices == 2 && (md3_leg(v, 1, 1)->flags & MD3_LEG_STALE) &&
	      md3_leg(v, 1, 0)->member == 2, "expanded legs after assembly");
	free(a);
	free(b);
	md3_pool_free(&q);
	/* an older VOLUME (no COPIES record) reads as copies 1 */
	md3_state_init(&st);
	CHECK(!apply_vol(&st, MD3_VOLUME_MIN_LEN, 1, 0) &&
	      md3_vol_find(&st, 1)->copies == 1, "a 104-byte VOLUME: copies 1");
	CHECK(!apply_vol(&st, MD3_VOLUME_LEN, 2, 0) &&
	      md3_vol_find(&st, 2)->copies == 1, "a 112-byte VOLUME: copies 1");
	md3_state_free(&st);
	for (i = 0; i < 4; i++)
		disk_free(d[i]);
}

/*
 * A leg's stale mark is durable when md3_legs_set_stale() returns: a
 * pool of two domains with a volume of copies 2, the mark of leg 1 cut
 * after its k-th metadata write for every k (the writes before the cut
 * landed, or only the flushed ones); every crash image assembles
 * read-write, and if the operation returned (all its writes made) the
 * leg is stale.  @faults: the mutant (MD3_FAULT_NOSTALE), which the rule
 * must catch.  Returns the violations.
 */
static u64 leg_stale_crash(unsigned int faults, u64 *states)
{
	struct md3_pool_rec rec = { .slice_sectors = SLICE_SECT, .w_space = 50,
				    .w_load = 50, .min_domains = 1 };
	const char *dom[2] = { "a", "b" };
	struct md3_slice l[2] = { SL(0, 0), SL(1, 0) };
	struct md3_leg_ref ref = { .slice = 0, .leg = 1 };
	struct md3_assemble_opts o = { .faults = faults };
	struct sdisk *d[2], *img[2];
	struct md3_dev devs[2];
	u8 uuids[2][MD3_UUID_LEN];
	struct md3_pool p;
	u64 k, bad = 0, vol = 0;
	bool done = false;
	int i, landed;

	for (k = 0; !done && k < 100; k++) {
		new_uuid(rec.uuid);
		disks_new(d, devs, uuids, 2, "stl");
		if (md3_create_pool(&p, &rec, devs, (const u8 *)uuids, dom, 2, &jgeo,
				    NULL) ||
		    md3_vol_create_copies(&p, &vol, NULL, "r", SLICE_SECT * 512ULL, 2,
					  l, 1))
			return ~0ULL;
		md3_pool_free(&p);
		for (i = 0; i < 2; i++)
			devs[i].ops = &cut_ops;
		cut_after = ~0ULL;
		if (md3_assemble(&p, devs, 2, &o) || p.mode != MD3_MODE_RW)
			return ~0ULL;
		ref.vol = vol;
		cut_writes = 0;
		cut_after = k;
		done = !md3_legs_set_stale(&p, &ref, 1, true) && cut_writes <= k;
		md3_pool_free(&p);
		for (landed = 0; landed < 2; landed++) {
			struct md3_dev id[2];
			struct md3_pool q;
			const struct md3_volume *v;

			for (i = 0; i < 2; i++) {
				img[i] = disk_image(d[i], NULL, landed ? ~0ULL : 0, -1, 0);
				id[i] = sd_dev(img[i]);
			}
			(*states)++;
			v = !md3_assemble(&q, id, 2, &(struct md3_assemble_opts){ 0 }) &&
			    q.mode == MD3_MODE_RW ? md3_vol_find(&q.st, vol) : NULL;
			if (!v || (done && !(md3_leg(v, 0, 1)->flags & MD3_LEG_STALE))) {
				if (!bad++)
					printf("# leg stale: cut after write %llu (%s): %s\n",
					       ull(k), landed ? "all landed" : "flushed only",
					       v ? "acknowledged, read back in sync" :
					       "not read-write");
			}
			md3_pool_free(&q);
			for (i = 0; i < 2; i++)
				disk_free(img[i]);
		}
		for (i = 0; i < 2; i++)
			disk_free(d[i]);
	}
	return done ? bad : bad + 1;
}

static void t_leg_stale_crash(void)
{
	u64 states = 0, v;

	v = leg_stale_crash(0, &states);
	printf("# leg stale mark: %llu crash states, %llu violations\n", ull(states),
	       ull(v));
	CHECK(v == 0, "%llu violations", ull(v));
	CHECK(states >= 4, "only %llu crash states", ull(states));
	states = 0;
	v = leg_stale_crash(MD3_FAULT_NOSTALE, &states);
	printf("# mutant nostale (stale mark in memory only): %llu crash states, %llu violations\n",
	       ull(states), ull(v));
	CHECK(v > 0, "mutant nostale not caught");
}

static void t_crash_real(void)
{
	double t0 = now();
	u64 k;

	g.states = 0;
	g.violations = 0;
	g.images = 0;
	g.nowrite_checks = 0;
	g.reported = 0;
	/* seeds opt_seed .. opt_seed + opt_seeds - 1, an equal share each */
	for (k = 0; k < opt_seeds; k++)
		run_sim(opt_seed + k, opt_states / opt_seeds +
			(k < opt_states % opt_seeds), 0);
	printf("# real code: seeds %llu..%llu, %llu crash images, %.1f CPU s\n",
	       ull(opt_seed), ull(opt_seed + opt_seeds - 1), ull(g.images), now() - t0);
	printf("# real code: %llu nowrite assemblies compared\n", ull(g.nowrite_checks));
	printf("# real code: absent members' disks attached: %llu taken, %llu refused\n",
	       ull(g.attached[0]), ull(g.attached[1]));
	printf("# real code: clone records committed: %llu added, %llu removed\n",
	       ull(g.clones[0]), ull(g.clones[1]));
	for (k = 0; k < LG_NR; k++)
		printf("# real code: legs: %s: %llu\n", lg_names[k], ull(g.legs[k]));
	printf("# real code: %llu crash states, %llu violations\n", ull(g.states),
	       ull(g.violations));
	real_states = g.states;
	real_violations = g.violations;
	CHECK(g.violations == 0, "%llu violations", ull(g.violations));
	CHECK(g.states >= 1000, "only %llu crash states", ull(g.states));
	CHECK(g.clones[0] && g.clones[1], "the explorer committed %llu clone adds, %llu removes",
	      ull(g.clones[0]), ull(g.clones[1]));
	for (k = 0; k < LG_NR; k++)
		CHECK(g.legs[k], "the explorer committed no leg operation '%s'",
		      lg_names[k]);
}

/*
 * The mutants of the random explorer; @div divides the budget (nostale,
 * a leg's stale mark kept in memory only, is caught within a tenth of it
 * by check (s)).
 */
static const struct {
	const char *name;
	unsigned int f, div;
} mutants[] = {
	{ "noflush", MD3_FAULT_NOFLUSH, 1 },
	{ "around", MD3_FAULT_AROUND, 1 },
	{ "nodominate", MD3_FAULT_NODOMINATE, 1 },
	{ "overwrite", MD3_FAULT_OVERWRITE, 1 },
	{ "reuse_ids", MD3_FAULT_REUSE_IDS, 1 },
	{ "nostale", MD3_FAULT_NOSTALE, 10 },
};

static void t_mutant(unsigned int k)
{
	u64 s = g.states, v = g.violations, sv = g.stale_violations;

	g.reported = 0;
	run_sim(opt_seed + 1000 + k, opt_mutant_states / mutants[k].div,
		mutants[k].f);
	printf("# mutant %s: %llu crash states, %llu violations (%llu stale marks lost)\n",
	       mutants[k].name, ull(g.states - s), ull(g.violations - v),
	       ull(g.stale_violations - sv));
	CHECK(g.violations > v, "mutant %s not caught", mutants[k].name);
}

static void t_mutant0(void) { t_mutant(0); }
static void t_mutant1(void) { t_mutant(1); }
static void t_mutant2(void) { t_mutant(2); }
static void t_mutant3(void) { t_mutant(3); }
static void t_mutant4(void) { t_mutant(4); }
static void t_mutant5(void) { t_mutant(5); }

/* ---- bench: 1,024 members, 10,000 volumes ---- */
static struct sdisk *bench0;

static int bd_write(void *ctx, u64 nr, const void *buf)
{
	struct sdisk *d = ctx;

	/* share identical blocks with member 0 to keep memory small */
	if (d != bench0 && bench0->b[nr] && !memcmp(bench0->b[nr]->d, buf, MD3_BLOCK_SIZE)) {
		bput(d->b[nr]);
		d->b[nr] = bget(bench0->b[nr]);
		return 0;
	}
	sd_write(d, nr, buf);
	disk_settle(d);
	return 0;
}

/* A bench disk is in no world and settles each write: sd_flush() has nothing to do. */
static const struct md3_dev_ops bd_ops = {
	.read = sd_read, .write = bd_write, .flush = sd_flush,
};

static int run_bench(void)
{
	enum { NM = 1024, NV = 10000, BJ = 4096 };
	static struct md3_dev devs[NM];
	static u8 uuids[NM][MD3_UUID_LEN];
	static struct sdisk *d[NM];
	struct md3_pool_rec rec = { .slice_sectors = 2048, .w_space = 50, .w_load = 50 };
	struct md3_state init;
	struct md3_pool p, q;
	struct md3_assemble_opts o = { 0 };
	struct md3_slice s[2];
	u64 b0, i, id;
	double t;
	int r;

	md3_state_init(&init);
	init.vols = calloc(NV, sizeof(*init.vols));
	init.nr_volumes = NV;
	for (i = 0; i < NV; i++) {
		struct md3_volume *v = &init.vols[i];

		v->id = i + 1;
		v->nr_slices = 2;
		v->size_bytes = 2ULL << 20;
		snprintf(v->name, sizeof(v->name), "vol%llu", ull(i));
		v->map = calloc(2, sizeof(*v->map));
		v->map[0] = (struct md3_slice){ .member = (2 * i) % NM,
						  .pslice = (2 * i) / NM };
		v->map[1] = (struct md3_slice){ .member = (2 * i + 1) % NM,
						  .pslice = (2 * i + 1) / NM };
	}
	rec.next_volume_id = NV + 1;
	for (i = 0; i < NM; i++) {
		d[i] = disk_new(NULL, 2 + BJ);
		new_uuid(d[i]->uuid);
		memcpy(uuids[i], d[i]->uuid, MD3_UUID_LEN);
		snprintf(d[i]->name, sizeof(d[i]->name), "b%llu", ull(i));
		devs[i] = (struct md3_dev){ &bd_ops, d[i], d[i]->name,
					    (u64)(2 + BJ) * 8 + 2048 + 1000 * 2048ULL };
	}
	bench0 = d[0];
	t = now();
	memset(&p, 0, sizeof(p));
	r = md3_create_pool(&p, &rec, devs, (const u8 *)uuids, NULL,
			    NM, &(struct md3_geom){ .journal_blocks = BJ }, &init);
	printf("# bench: create pool of %d members and %d volumes: %d, %.2f s, %llu bytes\n",
	       NM, NV, r, now() - t, ull(p.bytes_written));
	if (r)
		return 1;
#define BOP(name, call) do {						\
		b0 = p.bytes_written;					\
		t = now();						\
		r = (call);						\
		printf("# bench: %-14s %8llu bytes (%llu per member) %.3f s%s\n", \
		       name, ull(p.bytes_written - b0),			\
		       ull((p.bytes_written - b0) / NM), now() - t,	\
		       r ? " FAILED" : "");				\
	} while (0)
	s[0] = (struct md3_slice){ .member = 5, .pslice = 900 };
	s[1] = (struct md3_slice){ .member = 6, .pslice = 900 };
	BOP("create", md3_vol_create(&p, &id, NULL, "new", 2 << 20, s, 2));
	s[0] = (struct md3_slice){ .member = 7, .pslice = 900 };
	BOP("expand", md3_vol_expand(&p, id, 3 << 20, s, 1));
	BOP("shrink", md3_vol_shrink(&p, id, 2 << 20, 2));
	s[0] = (struct md3_slice){ .member = 8, .pslice = 900 };
	BOP("move_begin", md3_move_begin(&p, 1, 0, 1, s));
	BOP("move_progress", md3_move_progress(&p, 1, 0, 10));
	BOP("move_commit", md3_move_commit(&p, 1, 0));
	BOP("delete", md3_vol_delete(&p, id));
	BOP("member_grow", md3_member_grow(&p, 3, 2000));
	BOP("settings", md3_settings(&p, 60, 40, 2));
	BOP("checkpoint", md3_checkpoint(&p));
	t = now();
	r = md3_assemble(&q, devs, NM, &o);
	printf("# bench: assemble %d members, %llu volumes: %.2f s, mode %s\n", NM,
	       ull(q.st.nr_volumes), now() - t,
	       q.mode == MD3_MODE_RW ? "read-write" : "NOT read-write");
	r = r || q.mode != MD3_MODE_RW || q.st.seq != p.st.seq;
	md3_pool_free(&q);
	md3_pool_free(&p);
	md3_state_free(&init);
	for (i = 0; i < NM; i++)
		disk_free(d[i]);
	return r;
}

int main(int argc, char **argv)
{
	struct ktap_case cases[24] = {
		{ "format2_refused", t_format2_refused },
		{ "scale_no_caps", t_scale },
		{ "domains", t_domains },
		{ "vol_flags", t_vol_flags },
		{ "member_flags", t_member_flags },
		{ "geometry_per_member", t_geoms },
		{ "forced_add_fork", t_forced_add_fork },
		{ "rejoin_past_hole", t_hole_flip },
		{ "add_crash_readd", t_add_crash_readd },
		{ "clone_records", t_clone_records },
		{ "clone_crash_order", t_clone_crash },
		{ "redundant_legs", t_legs },
		{ "leg_stale_crash", t_leg_stale_crash },
		{ "crash_real_code", t_crash_real },
	};
	unsigned int nc, k;
	bool lng = false, bench = false, have_states = false;
	bool have_seed = false, have_seeds = false;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--states") && i + 1 < argc) {
			opt_states = strtoull(argv[++i], NULL, 0);
			have_states = true;
		} else if (!strcmp(argv[i], "--mutant-states") && i + 1 < argc) {
			opt_mutant_states = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
			opt_seeds = strtoull(argv[++i], NULL, 0) ?: 1;
			have_seeds = true;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			opt_seed = strtoull(argv[++i], NULL, 0);
			have_seed = true;
		} else if (!strcmp(argv[i], "--long")) {
			lng = true;
		} else if (!strcmp(argv[i], "--mutant") && i + 1 < argc) {
			opt_mutant = argv[++i];
		} else if (!strcmp(argv[i], "-v")) {
			g.verbose = true;
		} else if (!strcmp(argv[i], "--bench")) {
			bench = true;
		} else {
			fprintf(stderr, "usage: %s [--long] [--states N] [--seed N] [--seeds N]\n"
				"	[--mutant-states N] [--mutant NAME] [--bench] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (bench)
		return run_bench();
	if (lng) {
		/* other seeds than the bounded run's, many more states */
		if (!have_states)
			opt_states = 10000000;
		if (!have_seed)
			opt_seed = 101;
		if (!have_seeds)
			opt_seeds = 20;
	}
	g.rng = opt_seed ? opt_seed : 1;

	/* The fixed cases above, counted: a case added there always runs. */
	for (nc = 0; nc < ARRAY_SIZE(cases) && cases[nc].name; nc++)
		;
	if (nc + ARRAY_SIZE(mutants) > ARRAY_SIZE(cases)) {
		fprintf(stderr, "crashsim: %u cases and %zu mutants do not fit in %zu\n",
			nc, ARRAY_SIZE(mutants), ARRAY_SIZE(cases));
		return 2;
	}
	for (k = 0; k < ARRAY_SIZE(mutants); k++) {
		static void (*const fn[])(void) = { t_mutant0, t_mutant1, t_mutant2,
						     t_mutant3, t_mutant4, t_mutant5 };
		static char names[ARRAY_SIZE(mutants)][32];

		if (opt_mutant && strcmp(opt_mutant, mutants[k].name))
			continue;
		snprintf(names[k], sizeof(names[k]), "mutant_%s_caught", mutants[k].name);
		cases[nc++] = (struct ktap_case){ names[k], fn[k] };
	}
	if (opt_mutant) {
		/* only the named mutant */
		memmove(&cases[0], &cases[nc - 1], sizeof(cases[0]));
		nc = 1;
	}
	ret = ktap_run(cases, nc);
	printf("%llu crash states, %llu violations\n", ull(opt_mutant ? g.states : real_states),
	       ull(opt_mutant ? g.violations : real_violations));
	return ret;
}
