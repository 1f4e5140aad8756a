// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3.
 *
 * The pool's metadata is one state (struct md3_state), changed only by
 * transactions.  Transaction N has a pool-wide sequence number and a chain
 * hash md3_hash(hash(N - 1), N, payload).  Every CURRENT member keeps the
 * whole journal: a checkpoint (the whole state, as of some (seq, hash))
 * followed by deltas.  A member's ring block is never overwritten while it
 * belongs to the checkpoint its current label names or to anything after
 * it, so a torn write only damages the record being written, which is then
 * incomplete on that member.
 *
 * The on-disk format, the commit rule and the winner rule are described in
 * Documentation/dm-slicepool-metadata.rst ("Commit rule", "Winner rule");
 * the winner rule is implemented once, in md3_assemble() (md3-assemble.c).
 *
 * The library is split by responsibility; md3.h is its API, md3-int.h
 * what its files share:
 *   md3.c           the in-memory state: slice bitmaps, lookups, slice use
 *   md3-record.c    record layouts and encoding, chain hash, block seals
 *   md3-apply.c     applying records to the state, the consistency check
 *   md3-journal.c   one member's journal: labels, records, checkpoints
 *   md3-commit.c    the commit rule, STALE marks of failed members
 *   md3-assemble.c  reading the members, the winner rule, md3_assemble()
 *   md3-member.c    pool creation, member operations
 *   md3-volume.c    volume, clone and move operations, settings
 *
 * This file holds the in-memory state (struct md3_state): the chunked
 * bitmaps of used slices, the lookups by id, and marking slices used.
 */
#include "md3-int.h"

#define MD3_CHUNK_BITS	(8UL * MD3_BLOCK_SIZE)	/* bits per bitmap chunk */
#define MD3_CHUNK_LONGS	(MD3_CHUNK_BITS / BITS_PER_LONG)

/* ---- chunked bitmap of used physical slices ---- */
void md3_bm_free(struct md3_bitmap *bm)
{
	u64 i;

	for (i = 0; i < bm->nchunks; i++)
		md3_free(bm->chunk[i]);
	md3_free(bm->chunk);
	md3_free(bm->used);
	memset(bm, 0, sizeof(*bm));
}

int md3_bm_resize(struct md3_bitmap *bm, u64 nbits)
{
	u64 n = md3_div_up(nbits, MD3_CHUNK_BITS);
	unsigned long **c;
	u32 *u;

	if (nbits < bm->nbits)
		return -EINVAL;
	if (n > bm->nchunks) {
		c = md3_realloc(bm->chunk, bm->nchunks * sizeof(*c), n * sizeof(*c));
		if (!c)
			return -ENOMEM;
		bm->chunk = c;
		u = md3_realloc(bm->used, bm->nchunks * sizeof(*u), n * sizeof(*u));
		if (!u)
			return -ENOMEM;
		bm->used = u;
		bm->nchunks = n;
	}
	bm->nbits = nbits;
	return 0;
}

static bool md3_bm_test(const struct md3_bitmap *bm, u64 bit)
{
	const unsigned long *c;

	if (bit >= bm->nbits)
		return false;
	c = bm->chunk[bit / MD3_CHUNK_BITS];
	return c && test_bit(bit % MD3_CHUNK_BITS, c);
}

static int md3_bm_set(struct md3_bitmap *bm, u64 bit)
{
	u64 ci = bit / MD3_CHUNK_BITS;

	if (bit >= bm->nbits)
		return -ERANGE;
	if (!bm->chunk[ci]) {
		bm->chunk[ci] = md3_zalloc(MD3_BLOCK_SIZE);
		if (!bm->chunk[ci])
			return -ENOMEM;
	}
	if (test_bit(bit % MD3_CHUNK_BITS, bm->chunk[ci]))
		return -EEXIST;
	__set_bit(bit % MD3_CHUNK_BITS, bm->chunk[ci]);
	bm->used[ci]++;
	return 0;
}

static void md3_bm_clear(struct md3_bitmap *bm, u64 bit)
{
	u64 ci = bit / MD3_CHUNK_BITS;

	if (bit >= bm->nbits || !bm->chunk[ci] ||
	    !test_bit(bit % MD3_CHUNK_BITS, bm->chunk[ci]))
		return;
	__clear_bit(bit % MD3_CHUNK_BITS, bm->chunk[ci]);
	bm->used[ci]--;
}

bool md3_bm_empty(const struct md3_bitmap *bm)
{
	u64 i;

	for (i = 0; i < bm->nchunks; i++)
		if (bm->used[i])
			return false;
	return true;
}

static int md3_bm_find_zero(const struct md3_bitmap *bm, u64 from, u64 *bit)
{
	u64 ci;

	for (ci = from / MD3_CHUNK_BITS; ci < bm->nchunks; ci++) {
		unsigned long off = ci == from / MD3_CHUNK_BITS ?
				    from % MD3_CHUNK_BITS : 0;
		u64 b;

		if (bm->used[ci] == MD3_CHUNK_BITS)
			continue;
		if (!bm->chunk[ci])
			b = ci * MD3_CHUNK_BITS + off;
		else
			b = ci * MD3_CHUNK_BITS +
			    find_next_zero_bit(bm->chunk[ci], MD3_CHUNK_BITS, off);
		if (b < bm->nbits && b < (ci + 1) * MD3_CHUNK_BITS) {
			*bit = b;
			return 0;
		}
	}
	return -ENOSPC;
}

/* ---- state ---- */
void md3_state_init(struct md3_state *st)
{
	memset(st, 0, sizeof(*st));
}

void md3_state_free(struct md3_state *st)
{
	u64 i;

	for (i = 0; i < st->nr_members; i++)
		md3_bm_free(&st->members[i].used);
	for (i = 0; i < st->nr_volumes; i++) {
		md3_free(st->vols[i].map);
		md3_free(st->vols[i].legs);
	}
	for (i = 0; i < st->nr_moves; i++)
		md3_free(st->moves[i].dst);
	md3_free(st->members);
	md3_free(st->domains);
	md3_free(st->vols);
	md3_free(st->moves);
	md3_free(st->marks);
	md3_free(st->clones);
	md3_state_init(st);
}

/*
 * Index of the first entry of @arr[0..@nr), sorted by id, whose id is not
 * below @key (@nr if there is none): where an entry of id @key is, or
 * goes.
 */
#define MD3_ID_IDX(arr, nr, key)					\
({									\
	u64 lo_ = 0, hi_ = (nr);					\
									\
	while (lo_ < hi_) {						\
		u64 mid_ = lo_ + (hi_ - lo_) / 2;			\
									\
		if ((arr)[mid_].id < (key))				\
			lo_ = mid_ + 1;					\
		else							\
			hi_ = mid_;					\
	}								\
	lo_;								\
})

u32 md3_member_idx(const struct md3_state *st, u32 id)
{
	return MD3_ID_IDX(st->members, st->nr_members, id);
}

struct md3_member *md3_member_find(const struct md3_state *st, u32 id)
{
	u32 i = md3_member_idx(st, id);

	return i < st->nr_members && st->members[i].id == id ?
	       &st->members[i] : NULL;
}

u32 md3_domain_idx(const struct md3_state *st, u32 id)
{
	return MD3_ID_IDX(st->domains, st->nr_domains, id);
}

const char *md3_domain_label(const struct md3_state *st, u32 id)
{
	u32 i = md3_domain_idx(st, id);

	return i < st->nr_domains && st->domains[i].id == id ?
	       st->domains[i].label : NULL;
}

u32 md3_domain_find(const struct md3_state *st, const char *label)
{
	u32 i;

	for (i = 0; label && i < st->nr_domains; i++)
		if (!strncmp(st->domains[i].label, label, MD3_NAME_LEN))
			return st->domains[i].id;
	return MD3_NO_DOMAIN;
}

u64 md3_vol_idx(const struct md3_state *st, u64 id)
{
	return MD3_ID_IDX(st->vols, st->nr_volumes, id);
}

struct md3_volume *md3_vol_find(const struct md3_state *st, u64 id)
{
	u64 i = md3_vol_idx(st, id);

	return i < st->nr_volumes && st->vols[i].id == id ? &st->vols[i] : NULL;
}

struct md3_move *md3_move_find(const struct md3_state *st, u64 vol,
			       u64 first)
{
	u64 i;

	for (i = 0; i < st->nr_moves; i++)
		if (st->moves[i].vol == vol && st->moves[i].first == first)
			return &st->moves[i];
	return NULL;
}

bool md3_move_overlaps(const struct md3_state *st, u64 vol, u64 first,
		       u64 count)
{
	u64 i;

	for (i = 0; i < st->nr_moves; i++) {
		const struct md3_move *m = &st->moves[i];

		if (m->vol == vol && m->first < first + count &&
		    first < m->first + m->count)
			return true;
	}
	return false;
}

/* Grow an array of @size-byte elements to hold at least @need. */
int md3_grow(void **arr, u64 *cap, u64 need, size_t size)
{
	u64 n = *cap ? *cap : 8;
	void *a;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	a = md3_realloc(*arr, *cap * size, n * size);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = n;
	return 0;
}

/*
 * Open a zeroed entry at index @i of the array *@arr of @nr entries of
 * @size bytes (capacity *@cap, grown by md3_grow()); the caller counts
 * it.  On an error the array is unchanged.
 */
int md3_insert(void **arr, u64 *cap, u64 nr, u64 i, size_t size)
{
	int r = md3_grow(arr, cap, nr + 1, size);
	u8 *a;

	if (r)
		return r;
	a = *arr;
	memmove(a + (i + 1) * size, a + i * size, (nr - i) * size);
	memset(a + i * size, 0, size);
	return 0;
}

bool md3_slice_used(const struct md3_state *st, u32 member, u64 pslice)
{
	const struct md3_member *m = md3_member_find(st, member);

	return m && md3_bm_test(&m->used, pslice);
}

u64 md3_member_used(const struct md3_state *st, u32 member)
{
	const struct md3_member *m = md3_member_find(st, member);
	u64 i, n = 0;

	for (i = 0; m && i < m->used.nchunks; i++)
		n += m->used.used[i];
	return n;
}

int md3_alloc_free(const struct md3_state *st, u32 member, u64 from,
		   u64 *pslice)
{
	const struct md3_member *m = md3_member_find(st, member);

	if (!m || m->status != MD3_CURRENT)
		return -ENODEV;
	return md3_bm_find_zero(&m->used, from, pslice);
}

/* Mark @s used; -EUCLEAN if it names no slice or one already used. */
int md3_use(struct md3_state *st, const struct md3_slice *s)
{
	struct md3_member *m;
	int r;

	if (s->member == MD3_NO_MEMBER)
		return 0;
	m = md3_member_find(st, s->member);
	if (!m || m->status == MD3_REMOVED || s->pslice >= m->nr_slices)
		return -EUCLEAN;
	r = md3_bm_set(&m->used, s->pslice);
	return r == -EEXIST || r == -ERANGE ? -EUCLEAN : r;
}

void md3_unuse(struct md3_state *st, const struct md3_slice *s)
{
	struct md3_member *m;

	if (s->member == MD3_NO_MEMBER)
		return;
	m = md3_member_find(st, s->member);
	if (m)
		md3_bm_clear(&m->used, s->pslice);
}

/*
 * Whether @n new slices can be used: each names a CURRENT member's free
 * slice, no two the same.  Leaves the state unchanged.
 */
int md3_check_new(struct md3_state *st, const struct md3_slice *s,
		  u64 n)
{
	u64 i, j;
	int r = 0;

	for (i = 0; i < n && !r; i++) {
		const struct md3_member *m = md3_member_find(st, s[i].member);

		if (!m || m->status != MD3_CURRENT)
			r = -ENODEV;
		else
			r = md3_use(st, &s[i]);
	}
	for (j = 0; j < i; j++)
		if (j + 1 < i || !r)
			md3_unuse(st, &s[j]);
	return r == -EUCLEAN ? -EEXIST : r;
}

/* ---- legs of a redundant volume ---- */

/* The failure domain of member @id (MD3_NO_DOMAIN: no such member) */
u32 md3_member_domain(const struct md3_state *st, u32 id)
{
	const struct md3_member *m = md3_member_find(st, id);

	return m ? m->domain : MD3_NO_DOMAIN;
}

/* Whether the placed legs of logical slice @i of @v are in distinct domains */
bool md3_legs_apart(const struct md3_state *st, const struct md3_volume *v,
		    u64 i)
{
	u32 k, j, dk;

	for (k = 1; k < v->copies; k++) {
		if (md3_leg(v, i, k)->member == MD3_NO_MEMBER)
			continue;
		dk = md3_member_domain(st, md3_leg(v, i, k)->member);
		for (j = 0; j < k; j++)
			if (md3_leg(v, i, j)->member != MD3_NO_MEMBER &&
			    md3_member_domain(st, md3_leg(v, i, j)->member) == dk)
				return false;
	}
	return true;
}

/* ---- clones ---- */
struct md3_clone *md3_clone_find(const struct md3_state *st, const char *name)
{
	u64 i;

	for (i = 0; name && i < st->nr_clones; i++)
		if (!strncmp(st->clones[i].name, name, MD3_NAME_LEN))
			return &st->clones[i];
	return NULL;
}

u64 md3_clone_count(const struct md3_state *st, u64 image)
{
	u64 i, n = 0;

	for (i = 0; i < st->nr_clones; i++)
		n += st->clones[i].image == image;
	return n;
}

/* The clone with thin id @thin_id, or NULL */
struct md3_clone *md3_clone_thin(const struct md3_state *st,
				 u32 thin_id)
{
	u64 i;

	for (i = 0; i < st->nr_clones; i++)
		if (st->clones[i].thin_id == thin_id)
			return &st->clones[i];
	return NULL;
}
