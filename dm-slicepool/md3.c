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
 * the winner rule is implemented once, in md3_assemble() below.
 */
#include "md3.h"

#define MD3_CHUNK_BITS	(8UL * MD3_BLOCK_SIZE)	/* bits per bitmap chunk */
#define MD3_CHUNK_LONGS	(MD3_CHUNK_BITS / BITS_PER_LONG)

#ifndef __KERNEL__
/* ---- user-space CRC-32C (slicing by 8) ---- */
static u32 md3_crc_tab[8][256];
static bool md3_crc_ready;

static void md3_crc_init(void)
{
	u32 i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (c & 1 ? 0x82f63b78U : 0);
		md3_crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			md3_crc_tab[j][i] = (md3_crc_tab[j - 1][i] >> 8) ^
				md3_crc_tab[0][md3_crc_tab[j - 1][i] & 0xff];
	md3_crc_ready = true;
}

u32 md3_crc32c(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	if (!md3_crc_ready)
		md3_crc_init();
	while (len >= 8) {
		u32 lo = get_unaligned_le32(p) ^ crc;
		u32 hi = get_unaligned_le32(p + 4);

		crc = md3_crc_tab[7][lo & 0xff] ^ md3_crc_tab[6][(lo >> 8) & 0xff] ^
		      md3_crc_tab[5][(lo >> 16) & 0xff] ^ md3_crc_tab[4][lo >> 24] ^
		      md3_crc_tab[3][hi & 0xff] ^ md3_crc_tab[2][(hi >> 8) & 0xff] ^
		      md3_crc_tab[1][(hi >> 16) & 0xff] ^ md3_crc_tab[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ md3_crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}
#endif

static u64 md3_min(u64 a, u64 b)
{
	return a < b ? a : b;
}

static u64 md3_max(u64 a, u64 b)
{
	return a > b ? a : b;
}

static u64 md3_div_up(u64 n, u64 d)
{
	return n / d + (n % d != 0);
}

/* ---- chain hash: a 64-bit mix, written once, same in kernel and user ---- */
static u64 md3_mix(u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

u64 md3_hash(u64 prev, u64 seq, const void *buf, size_t len)
{
	const u8 *p = buf;
	u64 h = md3_mix(prev ^ 0x9e3779b97f4a7c15ULL);
	size_t i;

	h = md3_mix(h ^ seq);
	for (i = 0; i + 8 <= len; i += 8) {
		h ^= get_unaligned_le64(p + i);
		h *= 0x100000001b3ULL;
		h = (h << 31) | (h >> 33);
	}
	for (; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return md3_mix(h ^ len);
}

u64 md3_default_journal_blocks(u64 dev_sectors)
{
	u64 bytes = (dev_sectors << 9) / 512;

	bytes = md3_max(bytes, 4ULL << 20);
	bytes = md3_min(bytes, 1ULL << 30);
	return bytes / MD3_BLOCK_SIZE;
}

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

/* ---- chunked bitmap of used physical slices ---- */
static void md3_bm_free(struct md3_bitmap *bm)
{
	u64 i;

	for (i = 0; i < bm->nchunks; i++)
		md3_free(bm->chunk[i]);
	md3_free(bm->chunk);
	md3_free(bm->used);
	memset(bm, 0, sizeof(*bm));
}

static int md3_bm_resize(struct md3_bitmap *bm, u64 nbits)
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

static bool md3_bm_empty(const struct md3_bitmap *bm)
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
	for (i = 0; i < st->nr_volumes; i++)
		md3_free(st->vols[i].map);
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

static u32 md3_member_idx(const struct md3_state *st, u32 id)
{
	return MD3_ID_IDX(st->members, st->nr_members, id);
}

struct md3_member *md3_member_find(const struct md3_state *st, u32 id)
{
	u32 i = md3_member_idx(st, id);

	return i < st->nr_members && st->members[i].id == id ?
	       &st->members[i] : NULL;
}

static u32 md3_domain_idx(const struct md3_state *st, u32 id)
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

static u64 md3_vol_idx(const struct md3_state *st, u64 id)
{
	return MD3_ID_IDX(st->vols, st->nr_volumes, id);
}

struct md3_volume *md3_vol_find(const struct md3_state *st, u64 id)
{
	u64 i = md3_vol_idx(st, id);

	return i < st->nr_volumes && st->vols[i].id == id ? &st->vols[i] : NULL;
}

static struct md3_move *md3_move_find(const struct md3_state *st, u64 vol,
				      u64 first)
{
	u64 i;

	for (i = 0; i < st->nr_moves; i++)
		if (st->moves[i].vol == vol && st->moves[i].first == first)
			return &st->moves[i];
	return NULL;
}

static bool md3_move_overlaps(const struct md3_state *st, u64 vol, u64 first,
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
static int md3_grow(void **arr, u64 *cap, u64 need, size_t size)
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
static int md3_insert(void **arr, u64 *cap, u64 nr, u64 i, size_t size)
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
static int md3_use(struct md3_state *st, const struct md3_slice *s)
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

static void md3_unuse(struct md3_state *st, const struct md3_slice *s)
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
static int md3_check_new(struct md3_state *st, const struct md3_slice *s,
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

/*
 * ---- record layouts ----
 *
 * md3_fields[] is the on-disk layout of every record, written once: for
 * each field of a record's fixed part, where it is in the value, how many
 * bytes it has (the same on disk and in memory), whether it is a
 * little-endian integer or bytes, and where it is in the in-memory struct.
 * md3_types[] (with the functions that apply records) gives the length of
 * each fixed part.  md3_put() writes a record from its struct and
 * md3_get() reads it back from the same rows, so the encoder and the
 * decoder cannot disagree about a field's place.  The label fields that
 * struct md3_chain mirrors are rows of the same table.
 * Bytes of a value that no row names are reserved: zero when written
 * (md3_tlv() clears the value), ignored when read.  The table and the
 * record list in Documentation/dm-slicepool-metadata.rst describe the
 * same layouts.
 */
enum md3_kind {
	MD3_F_LE,		/* little endian integer of 4 or 8 bytes */
	MD3_F_BYTES,		/* bytes as they are (uuids, NUL-padded names) */
};

struct md3_field {
	u16 tag;		/* MD3_TAG_* or MD3_ENTRY_* */
	u16 disk_off;		/* offset in the record's value */
	u16 len;		/* bytes on disk and in memory */
	u8 kind;		/* enum md3_kind */
	size_t mem_off;		/* offset in the in-memory struct */
};

/* Not tags (no record has tag 0 or 0x7fff): one entry of MAP and MOVE */
#define MD3_ENTRY_SLICE		0
/* and the fields of struct md3_label a struct md3_chain mirrors */
#define MD3_ENTRY_LABEL		0x7fff

#ifndef __KERNEL__
/* the kernel's, for the host builds */
#define BUILD_BUG_ON_ZERO(e)	((int)(sizeof(struct { int:(-!!(e)); })))
#define sizeof_field(t, m)	sizeof(((t) {}).m)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#endif

/*
 * Rows of md3_fields[]:
 * MD3_LE(tag, off, struct t, member): integer @member of struct t (u32 or
 * u64, checked at build time) at value offset @off;
 * MD3_BYTES(tag, off, struct t, member): byte array @member of struct t.
 */
#define MD3_LE(t, off, ...) {						\
	.tag = (t), .disk_off = (off), .kind = MD3_F_LE,		\
	.len = sizeof_field(__VA_ARGS__) +				\
	       BUILD_BUG_ON_ZERO(sizeof_field(__VA_ARGS__) != 4 &&	\
				 sizeof_field(__VA_ARGS__) != 8),	\
	.mem_off = offsetof(__VA_ARGS__) }
#define MD3_BYTES(t, off, ...) {					\
	.tag = (t), .disk_off = (off), .kind = MD3_F_BYTES,		\
	.len = sizeof_field(__VA_ARGS__),				\
	.mem_off = offsetof(__VA_ARGS__) }

/* In-memory form of the records that have no struct of the state */
struct md3_op_rec {
	u32 op;			/* enum md3_opcode */
	u64 arg;
};

struct md3_map_rec {
	u64 vol;
	u64 first;
	u64 count;		/* entries (struct md3_slice) that follow */
};

/*
 * The rows of a record are consecutive; the slice entry comes first, as
 * it is looked up once per entry.
 */
static const struct md3_field md3_fields[] = {
	MD3_LE(MD3_ENTRY_SLICE, 0, struct md3_slice, member),
	MD3_LE(MD3_ENTRY_SLICE, 4, struct md3_slice, pslice),

	MD3_LE(MD3_TAG_OP, 0, struct md3_op_rec, op),
	MD3_LE(MD3_TAG_OP, 8, struct md3_op_rec, arg),

	MD3_BYTES(MD3_TAG_POOL, 0, struct md3_pool_rec, uuid),
	MD3_BYTES(MD3_TAG_POOL, 16, struct md3_pool_rec, name),
	MD3_LE(MD3_TAG_POOL, 80, struct md3_pool_rec, slice_sectors),
	MD3_LE(MD3_TAG_POOL, 88, struct md3_pool_rec, next_volume_id),
	MD3_LE(MD3_TAG_POOL, 96, struct md3_pool_rec, next_member_id),
	MD3_LE(MD3_TAG_POOL, 100, struct md3_pool_rec, w_space),
	MD3_LE(MD3_TAG_POOL, 104, struct md3_pool_rec, w_load),
	MD3_LE(MD3_TAG_POOL, 108, struct md3_pool_rec, min_domains),

	MD3_LE(MD3_TAG_MEMBER, 0, struct md3_member, id),
	MD3_LE(MD3_TAG_MEMBER, 4, struct md3_member, status),
	MD3_LE(MD3_TAG_MEMBER, 8, struct md3_member, reason),
	MD3_LE(MD3_TAG_MEMBER, 12, struct md3_member, domain),
	MD3_LE(MD3_TAG_MEMBER, 16, struct md3_member, stale_seq),
	MD3_LE(MD3_TAG_MEMBER, 24, struct md3_member, nr_slices),
	MD3_LE(MD3_TAG_MEMBER, 32, struct md3_member, data_offset),
	MD3_BYTES(MD3_TAG_MEMBER, 40, struct md3_member, uuid),
	MD3_BYTES(MD3_TAG_MEMBER, 56, struct md3_member, name),
	MD3_LE(MD3_TAG_MEMBER, 120, struct md3_member, joined_seq),
	MD3_LE(MD3_TAG_MEMBER, 128, struct md3_member, stale_mark),

	MD3_LE(MD3_TAG_VOLUME, 0, struct md3_volume, id),
	MD3_LE(MD3_TAG_VOLUME, 8, struct md3_volume, size_bytes),
	MD3_LE(MD3_TAG_VOLUME, 16, struct md3_volume, nr_slices),
	MD3_BYTES(MD3_TAG_VOLUME, 24, struct md3_volume, uuid),
	MD3_BYTES(MD3_TAG_VOLUME, 40, struct md3_volume, name),
	MD3_LE(MD3_TAG_VOLUME, 104, struct md3_volume, flags),

	MD3_LE(MD3_TAG_VOL_DEL, 0, struct md3_volume, id),

	MD3_LE(MD3_TAG_MAP, 0, struct md3_map_rec, vol),
	MD3_LE(MD3_TAG_MAP, 8, struct md3_map_rec, first),
	MD3_LE(MD3_TAG_MAP, 16, struct md3_map_rec, count),

	MD3_LE(MD3_TAG_MOVE, 0, struct md3_move, vol),
	MD3_LE(MD3_TAG_MOVE, 8, struct md3_move, first),
	MD3_LE(MD3_TAG_MOVE, 16, struct md3_move, count),
	MD3_LE(MD3_TAG_MOVE, 24, struct md3_move, cursor),
	MD3_LE(MD3_TAG_MOVE, 32, struct md3_move, flags),

	MD3_LE(MD3_TAG_MOVE_CURSOR, 0, struct md3_move, vol),
	MD3_LE(MD3_TAG_MOVE_CURSOR, 8, struct md3_move, first),
	MD3_LE(MD3_TAG_MOVE_CURSOR, 16, struct md3_move, cursor),

	MD3_LE(MD3_TAG_MOVE_DEL, 0, struct md3_move, vol),
	MD3_LE(MD3_TAG_MOVE_DEL, 8, struct md3_move, first),

	MD3_LE(MD3_TAG_MARK, 0, struct md3_mark, member),
	MD3_LE(MD3_TAG_MARK, 8, struct md3_mark, seq),
	MD3_LE(MD3_TAG_MARK, 16, struct md3_mark, mark),

	MD3_LE(MD3_TAG_DOMAIN, 0, struct md3_domain, id),
	MD3_BYTES(MD3_TAG_DOMAIN, 8, struct md3_domain, label),

	MD3_LE(MD3_TAG_CLONE, 0, struct md3_clone, image),
	MD3_LE(MD3_TAG_CLONE, 8, struct md3_clone, thin_id),
	MD3_LE(MD3_TAG_CLONE, 16, struct md3_clone, sectors),
	MD3_BYTES(MD3_TAG_CLONE, 24, struct md3_clone, name),

	MD3_BYTES(MD3_TAG_CLONE_DEL, 0, struct md3_clone, name),

#define MD3_L(f)	offsetof(struct md3_label, f)
	MD3_BYTES(MD3_ENTRY_LABEL, MD3_L(pool_uuid), struct md3_chain, pool_uuid),
	MD3_BYTES(MD3_ENTRY_LABEL, MD3_L(member_uuid), struct md3_chain, member_uuid),
	MD3_LE(MD3_ENTRY_LABEL, MD3_L(member_id), struct md3_chain, member_id),
	MD3_LE(MD3_ENTRY_LABEL, MD3_L(label_seq), struct md3_chain, label_seq),
	MD3_LE(MD3_ENTRY_LABEL, MD3_L(journal_start), struct md3_chain, journal_start),
	MD3_LE(MD3_ENTRY_LABEL, MD3_L(journal_blocks), struct md3_chain, journal_blocks),
	MD3_LE(MD3_ENTRY_LABEL, MD3_L(data_offset), struct md3_chain, data_offset),
	MD3_LE(MD3_ENTRY_LABEL, MD3_L(ckpt_block), struct md3_chain, hint_block),
	MD3_LE(MD3_ENTRY_LABEL, MD3_L(ckpt_epoch), struct md3_chain, epoch),
#undef MD3_L
};

/* Whether @f is a row of md3_fields[] and one of record @tag */
static bool md3_row_of(const struct md3_field *f, u16 tag)
{
	return f < md3_fields + ARRAY_SIZE(md3_fields) && f->tag == tag;
}

/* The first row of record @tag */
static const struct md3_field *md3_rows(u16 tag)
{
	const struct md3_field *f = md3_fields;

	while (f < md3_fields + ARRAY_SIZE(md3_fields) && f->tag != tag)
		f++;
	return f;
}

static u32 md3_rec_len(u16 tag);

/* Write the fields of record @tag from the struct at @src to value @v. */
static void md3_put(u8 *v, u16 tag, const void *src)
{
	const struct md3_field *f;

	for (f = md3_rows(tag); md3_row_of(f, tag); f++) {
		const u8 *m = (const u8 *)src + f->mem_off;
		u8 *d = v + f->disk_off;

		if (f->kind == MD3_F_BYTES)
			memcpy(d, m, f->len);
		else if (f->len == 4)
			put_unaligned_le32(*(const u32 *)m, d);
		else
			put_unaligned_le64(*(const u64 *)m, d);
	}
}

/* Read the fields of record @tag from value @v into the struct at @dst. */
static void md3_get(const u8 *v, u16 tag, void *dst)
{
	const struct md3_field *f;

	for (f = md3_rows(tag); md3_row_of(f, tag); f++) {
		u8 *m = (u8 *)dst + f->mem_off;
		const u8 *s = v + f->disk_off;

		if (f->kind == MD3_F_BYTES)
			memcpy(m, s, f->len);
		else if (f->len == 4)
			*(u32 *)m = get_unaligned_le32(s);
		else
			*(u64 *)m = get_unaligned_le64(s);
	}
}

/* ---- TLV encoding ---- */
struct md3_buf {
	u8 *p;
	size_t len;
	size_t cap;
	int err;
};

static u8 *md3_tlv(struct md3_buf *b, u16 tag, size_t len)
{
	size_t need = b->len + MD3_TLV_HDR + ((len + 7) & ~(size_t)7);
	u8 *v;

	if (b->err)
		return NULL;
	if (need > b->cap) {
		size_t n = b->cap ? b->cap : 4096;
		u8 *q;

		while (n < need)
			n *= 2;
		q = md3_realloc(b->p, b->cap, n);
		if (!q) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->p = q;
		b->cap = n;
	}
	v = b->p + b->len;
	memset(v, 0, need - b->len);
	put_unaligned_le16(tag, v);
	put_unaligned_le32(len, v + 4);
	b->len = need;
	return v + MD3_TLV_HDR;
}

/*
 * Append a record of type @tag: its fixed part from @src, the struct its
 * layout names, then @extra bytes (zero).  Returns where the @extra bytes
 * are, for the caller to fill, or NULL if the buffer could not grow
 * (@b->err says why).
 */
static u8 *md3_enc_tail(struct md3_buf *b, u16 tag, const void *src,
			size_t extra)
{
	u16 base = tag & ~MD3_TAG_OPTIONAL;
	u32 len = md3_rec_len(base);
	u8 *v = md3_tlv(b, tag, len + extra);

	if (!v)
		return NULL;
	md3_put(v, base, src);
	return v + len;
}

/* Append a record of fixed length: type @tag, its fields from @src */
static void md3_enc(struct md3_buf *b, u16 tag, const void *src)
{
	md3_enc_tail(b, tag, src, 0);
}

static void md3_put_slices(u8 *v, const struct md3_slice *s, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		md3_put(v + i * MD3_SLICE_LEN, MD3_ENTRY_SLICE, &s[i]);
}

static void md3_get_slices(const u8 *v, struct md3_slice *s, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		md3_get(v + i * MD3_SLICE_LEN, MD3_ENTRY_SLICE, &s[i]);
}

static void md3_enc_op(struct md3_buf *b, u32 op, u64 arg)
{
	struct md3_op_rec r = { .op = op, .arg = arg };

	md3_enc(b, MD3_TAG_OP | MD3_TAG_OPTIONAL, &r);
}

static void md3_enc_map(struct md3_buf *b, u64 vol, u64 first, u64 count,
			const struct md3_slice *s)
{
	struct md3_map_rec r = { .vol = vol, .first = first, .count = count };
	u8 *v;

	if (count > (0xffffffffULL - MD3_MAP_LEN) / MD3_SLICE_LEN) {
		/* one TLV holds up to ~350 million entries; split beyond */
		u64 half = count / 2;

		md3_enc_map(b, vol, first, half, s);
		md3_enc_map(b, vol, first + half, count - half, s + half);
		return;
	}
	v = md3_enc_tail(b, MD3_TAG_MAP, &r, count * MD3_SLICE_LEN);
	if (v)
		md3_put_slices(v, s, count);
}

static void md3_enc_move(struct md3_buf *b, const struct md3_move *m)
{
	u8 *v = md3_enc_tail(b, MD3_TAG_MOVE, m, m->count * MD3_SLICE_LEN);

	if (v)
		md3_put_slices(v, m->dst, m->count);
}

/*
 * Member @m marked STALE(@reason) by transaction @seq with mark @mark: its
 * record, then the mark for the mark log.
 */
static void md3_enc_stale(struct md3_buf *b, const struct md3_member *m,
			  u32 reason, u64 seq, u64 mark)
{
	struct md3_mark mk = { .member = m->id, .seq = seq, .mark = mark };
	struct md3_member n = *m;

	n.status = MD3_STALE;
	n.reason = reason;
	n.stale_seq = seq;
	n.stale_mark = mark;
	md3_enc(b, MD3_TAG_MEMBER, &n);
	md3_enc(b, MD3_TAG_MARK, &mk);
}

int md3_state_encode(const struct md3_state *st, u8 **out, size_t *len)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	u64 i;

	md3_enc(&b, MD3_TAG_POOL, &st->pool);
	/* domains first: a member names one */
	for (i = 0; i < st->nr_domains; i++)
		md3_enc(&b, MD3_TAG_DOMAIN, &st->domains[i]);
	for (i = 0; i < st->nr_members; i++)
		md3_enc(&b, MD3_TAG_MEMBER, &st->members[i]);
	for (i = 0; i < st->nr_volumes; i++) {
		md3_enc(&b, MD3_TAG_VOLUME, &st->vols[i]);
		if (st->vols[i].nr_slices)
			md3_enc_map(&b, st->vols[i].id, 0, st->vols[i].nr_slices,
				    st->vols[i].map);
	}
	for (i = 0; i < st->nr_moves; i++)
		md3_enc_move(&b, &st->moves[i]);
	for (i = 0; i < st->nr_marks; i++)
		md3_enc(&b, MD3_TAG_MARK, &st->marks[i]);
	/* clones after the volumes: a clone names its image */
	for (i = 0; i < st->nr_clones; i++)
		md3_enc(&b, MD3_TAG_CLONE, &st->clones[i]);
	if (b.err) {
		md3_free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* Encoded size of the state, without encoding it. */
static u64 md3_state_size(const struct md3_state *st)
{
	u64 n = MD3_TLV_HDR + MD3_POOL_LEN, i;

	n += (u64)st->nr_domains * (MD3_TLV_HDR + MD3_DOMAIN_LEN);
	n += (u64)st->nr_members * (MD3_TLV_HDR + MD3_MEMBER_LEN);
	for (i = 0; i < st->nr_volumes; i++) {
		n += MD3_TLV_HDR + MD3_VOLUME_LEN;
		if (st->vols[i].nr_slices)
			n += MD3_TLV_HDR + ((MD3_MAP_LEN + st->vols[i].nr_slices *
					     MD3_SLICE_LEN + 7) & ~7ULL);
	}
	for (i = 0; i < st->nr_moves; i++)
		n += MD3_TLV_HDR + ((MD3_MOVE_LEN + st->moves[i].count *
				     MD3_SLICE_LEN + 7) & ~7ULL);
	n += st->nr_marks * (MD3_TLV_HDR + MD3_MARK_LEN);
	n += st->nr_clones * (MD3_TLV_HDR + MD3_CLONE_LEN);
	return n;
}

/* ---- applying records ---- */

/* The value of one record of a payload */
struct md3_val {
	u16 tag;		/* without MD3_TAG_OPTIONAL */
	u32 len;		/* at least md3_rec_len(@tag) */
	const u8 *v;
};

static int md3_apply_pool(struct md3_state *st, const struct md3_val *rec)
{
	md3_get(rec->v, MD3_TAG_POOL, &st->pool);
	st->pool.name[MD3_POOL_NAME_LEN - 1] = 0;
	return 0;
}

/* Add or relabel domain: labels stay unique and non-empty. */
static int md3_apply_domain(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_domain d;
	u32 id, i, k;

	md3_get(v, MD3_TAG_DOMAIN, &d);
	d.label[MD3_NAME_LEN - 1] = 0;
	id = d.id;
	i = md3_domain_idx(st, id);
	k = md3_domain_find(st, d.label);
	if (id == MD3_NO_DOMAIN || !d.label[0] || (k != MD3_NO_DOMAIN && k != id))
		return -EUCLEAN;
	if (i == st->nr_domains || st->domains[i].id != id) {
		int r = md3_insert((void **)&st->domains, &st->cap_domains,
				   st->nr_domains, i, sizeof(*st->domains));

		if (r)
			return r;
		st->domains[i].id = id;
		st->nr_domains++;
	}
	memcpy(st->domains[i].label, d.label, MD3_NAME_LEN);
	return 0;
}

static int md3_apply_member(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_member n, *m;
	int r;

	md3_get(v, MD3_TAG_MEMBER, &n);
	m = md3_member_find(st, n.id);
	if (n.status > MD3_REMOVED || !md3_domain_label(st, n.domain))
		return -EUCLEAN;
	if (!m) {
		u64 cap = st->cap_members;
		u32 i = md3_member_idx(st, n.id);

		r = md3_insert((void **)&st->members, &cap, st->nr_members, i,
			       sizeof(*m));
		if (r)
			return r;
		st->cap_members = cap;
		m = &st->members[i];
		st->nr_members++;
		m->id = n.id;
	} else if (n.nr_slices < m->nr_slices) {
		return -EUCLEAN;	/* members never shrink */
	}
	if (m->status == MD3_REMOVED && n.status != MD3_REMOVED)
		return -EUCLEAN;	/* ids are never reused */
	/* the record's fields (m->used is derived, not in the record) */
	md3_get(v, MD3_TAG_MEMBER, m);
	m->name[MD3_NAME_LEN - 1] = 0;
	if (m->status == MD3_REMOVED) {
		if (!md3_bm_empty(&m->used))
			return -EUCLEAN;
		md3_bm_free(&m->used);
		return 0;
	}
	return md3_bm_resize(&m->used, m->nr_slices);
}

static int md3_apply_volume(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_volume n, *vol;
	struct md3_slice *map;
	u64 id, nr, i;

	md3_get(v, MD3_TAG_VOLUME, &n);
	id = n.id;
	nr = n.nr_slices;
	vol = md3_vol_find(st, id);
	if (nr > (1ULL << 40))
		return -EUCLEAN;
	if (!vol) {
		u64 k = md3_vol_idx(st, id);
		int r = md3_insert((void **)&st->vols, &st->cap_volumes,
				   st->nr_volumes, k, sizeof(*vol));

		if (r)
			return r;
		vol = &st->vols[k];
		vol->id = id;
		st->nr_volumes++;
	}
	if (nr < vol->nr_slices) {
		if (md3_move_overlaps(st, id, nr, vol->nr_slices - nr))
			return -EUCLEAN;
		for (i = nr; i < vol->nr_slices; i++)
			md3_unuse(st, &vol->map[i]);
	}
	if (nr != vol->nr_slices) {
		map = md3_realloc(vol->map, vol->nr_slices * sizeof(*map),
				  nr * sizeof(*map));
		if (!map)
			return -ENOMEM;
		for (i = vol->nr_slices; i < nr; i++)
			map[i].member = MD3_NO_MEMBER;
		vol->map = map;
		vol->nr_slices = nr;
	}
	/* the record's fields (the map has its own records) */
	md3_get(v, MD3_TAG_VOLUME, vol);
	vol->name[sizeof(vol->name) - 1] = 0;
	if (vol->flags & ~MD3_VOL_FLAGS)
		return -EUCLEAN;
	/* an image with clones stays one */
	if (!(vol->flags & MD3_VOL_IMAGE) && md3_clone_count(st, id))
		return -EUCLEAN;
	return 0;
}

static int md3_apply_vol_del(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_volume d, *vol;
	u64 i, k;

	md3_get(v, MD3_TAG_VOL_DEL, &d);
	vol = md3_vol_find(st, d.id);
	if (!vol || md3_move_overlaps(st, d.id, 0, ~0ULL) ||
	    md3_clone_count(st, d.id))
		return -EUCLEAN;
	for (i = 0; i < vol->nr_slices; i++)
		md3_unuse(st, &vol->map[i]);
	md3_free(vol->map);
	k = vol - st->vols;
	memmove(vol, vol + 1, (st->nr_volumes - k - 1) * sizeof(*vol));
	st->nr_volumes--;
	return 0;
}

static int md3_apply_map(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_map_rec h;
	struct md3_volume *vol;
	struct md3_slice s;
	u64 i;
	int r;

	md3_get(v, MD3_TAG_MAP, &h);
	vol = md3_vol_find(st, h.vol);
	if (!vol || h.count > (rec->len - MD3_MAP_LEN) / MD3_SLICE_LEN ||
	    h.first > vol->nr_slices || h.count > vol->nr_slices - h.first)
		return -EUCLEAN;
	for (i = 0; i < h.count; i++)
		md3_unuse(st, &vol->map[h.first + i]);
	for (i = 0; i < h.count; i++) {
		md3_get(v + MD3_MAP_LEN + i * MD3_SLICE_LEN, MD3_ENTRY_SLICE, &s);
		r = md3_use(st, &s);
		if (r)
			return r;
		vol->map[h.first + i] = s;
	}
	return 0;
}

static int md3_apply_move(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_move m;
	struct md3_volume *vol;
	u64 i;
	int r;

	md3_get(v, MD3_TAG_MOVE, &m);
	vol = md3_vol_find(st, m.vol);
	if (!vol || (m.flags & ~MD3_MOVE_FLAGS) || !m.count ||
	    m.count > (rec->len - MD3_MOVE_LEN) / MD3_SLICE_LEN ||
	    m.first > vol->nr_slices || m.count > vol->nr_slices - m.first ||
	    md3_move_overlaps(st, m.vol, m.first, m.count))
		return -EUCLEAN;
	r = md3_grow((void **)&st->moves, &st->cap_moves, st->nr_moves + 1,
		     sizeof(m));
	if (r)
		return r;
	m.dst = md3_calloc(m.count, sizeof(*m.dst));
	if (!m.dst)
		return -ENOMEM;
	md3_get_slices(v + MD3_MOVE_LEN, m.dst, m.count);
	for (i = 0; i < m.count; i++) {
		r = md3_use(st, &m.dst[i]);
		if (r || m.dst[i].member == MD3_NO_MEMBER) {
			while (i--)
				md3_unuse(st, &m.dst[i]);
			md3_free(m.dst);
			return r ? r : -EUCLEAN;
		}
	}
	st->moves[st->nr_moves++] = m;
	return 0;
}

static int md3_apply_move_end(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_move k, *m;
	u64 i;

	md3_get(v, rec->tag, &k);
	m = md3_move_find(st, k.vol, k.first);
	if (!m)
		return -EUCLEAN;
	if (rec->tag == MD3_TAG_MOVE_CURSOR) {
		m->cursor = k.cursor;
		return 0;
	}
	for (i = 0; i < m->count; i++)
		md3_unuse(st, &m->dst[i]);
	md3_free(m->dst);
	*m = st->moves[--st->nr_moves];
	return 0;
}

static int md3_apply_mark(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_mark *mk;
	int r = md3_grow((void **)&st->marks, &st->cap_marks,
			 st->nr_marks + 1, sizeof(*mk));

	if (r)
		return r;
	mk = &st->marks[st->nr_marks++];
	md3_get(v, MD3_TAG_MARK, mk);
	return 0;
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
static struct md3_clone *md3_clone_thin(const struct md3_state *st,
					u32 thin_id)
{
	u64 i;

	for (i = 0; i < st->nr_clones; i++)
		if (st->clones[i].thin_id == thin_id)
			return &st->clones[i];
	return NULL;
}

/*
 * Add or update a clone: its image is an image of the state, its name is
 * not empty, its thin id is dm-thin's and no other clone's.
 */
static int md3_apply_clone(struct md3_state *st, const struct md3_val *rec)
{
	const struct md3_volume *vol;
	struct md3_clone n, *c, *t;
	int r;

	md3_get(rec->v, MD3_TAG_CLONE, &n);
	n.name[MD3_NAME_LEN - 1] = 0;
	vol = md3_vol_find(st, n.image);
	c = md3_clone_find(st, n.name);
	t = md3_clone_thin(st, n.thin_id);
	if (!n.name[0] || !vol || !(vol->flags & MD3_VOL_IMAGE) ||
	    n.thin_id > MD3_THIN_ID_MAX || !n.sectors || (t && t != c))
		return -EUCLEAN;
	if (!c) {
		r = md3_grow((void **)&st->clones, &st->cap_clones,
			     st->nr_clones + 1, sizeof(*c));
		if (r)
			return r;
		c = &st->clones[st->nr_clones++];
	}
	*c = n;
	return 0;
}

static int md3_apply_clone_del(struct md3_state *st, const struct md3_val *rec)
{
	struct md3_clone d, *c;
	u64 k;

	md3_get(rec->v, MD3_TAG_CLONE_DEL, &d);
	d.name[MD3_NAME_LEN - 1] = 0;
	c = md3_clone_find(st, d.name);
	if (!c)
		return -EUCLEAN;
	k = c - st->clones;
	memmove(c, c + 1, (st->nr_clones - k - 1) * sizeof(*c));
	st->nr_clones--;
	return 0;
}

/*
 * Each known record type: the length of its fixed part, the shortest
 * value a reader takes (fields appended later make a value longer; a
 * reader reads the fields it knows), and what applying it does (nothing
 * for OP, which is informational).  @min, when set, is a shorter value
 * an older writer wrote, before fields were appended: it reads as if the
 * appended fields were zero.
 */
static const struct {
	u32 len;
	int (*apply)(struct md3_state *st, const struct md3_val *rec);
	u32 min;
} md3_types[] = {
	[MD3_TAG_OP]		= { 16, NULL },
	[MD3_TAG_POOL]		= { MD3_POOL_LEN, md3_apply_pool },
	[MD3_TAG_MEMBER]	= { MD3_MEMBER_LEN, md3_apply_member },
	[MD3_TAG_VOLUME]	= { MD3_VOLUME_LEN, md3_apply_volume,
				    MD3_VOLUME_MIN_LEN },
	[MD3_TAG_VOL_DEL]	= { 8, md3_apply_vol_del },
	[MD3_TAG_MAP]		= { MD3_MAP_LEN, md3_apply_map },
	[MD3_TAG_MOVE]		= { MD3_MOVE_LEN, md3_apply_move },
	[MD3_TAG_MOVE_CURSOR]	= { 24, md3_apply_move_end },
	[MD3_TAG_MOVE_DEL]	= { 16, md3_apply_move_end },
	[MD3_TAG_MARK]		= { MD3_MARK_LEN, md3_apply_mark },
	[MD3_TAG_DOMAIN]	= { MD3_DOMAIN_LEN, md3_apply_domain },
	[MD3_TAG_CLONE]		= { MD3_CLONE_LEN, md3_apply_clone },
	[MD3_TAG_CLONE_DEL]	= { MD3_CLONE_DEL_LEN, md3_apply_clone_del },
};

/* Length of the fixed part of a record of type @tag (0: an unknown tag) */
static u32 md3_rec_len(u16 tag)
{
	return tag < ARRAY_SIZE(md3_types) ? md3_types[tag].len : 0;
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

/*
 * Apply the records of one payload (a delta, or a whole checkpoint to an
 * empty state).  On error the state is partly changed and must be dropped.
 */
int md3_state_apply(struct md3_state *st, const u8 *p, size_t len)
{
	u8 pad[MD3_VOLUME_LEN];	/* an older, shorter value, zero padded */
	size_t off = 0;
	int r = 0;

	while (off < len && !r) {
		struct md3_val rec;
		u16 tag;

		if (len - off < MD3_TLV_HDR)
			return -EUCLEAN;
		tag = get_unaligned_le16(p + off);
		rec.tag = tag & ~MD3_TAG_OPTIONAL;
		rec.len = get_unaligned_le32(p + off + 4);
		rec.v = p + off + MD3_TLV_HDR;
		if (rec.len > len - off - MD3_TLV_HDR)
			return -EUCLEAN;
		off += MD3_TLV_HDR + ((rec.len + 7ULL) & ~7ULL);
		if (!md3_rec_len(rec.tag)) {
			if (tag & MD3_TAG_OPTIONAL)
				continue;
			return -EOPNOTSUPP;
		}
		if (rec.len < md3_rec_len(rec.tag)) {
			u32 min = md3_types[rec.tag].min;

			if (!min || rec.len < min ||
			    md3_rec_len(rec.tag) > sizeof(pad))
				return -EUCLEAN;
			memset(pad, 0, sizeof(pad));
			memcpy(pad, rec.v, rec.len);
			rec.v = pad;
			rec.len = md3_rec_len(rec.tag);
		}
		if (md3_types[rec.tag].apply)
			r = md3_types[rec.tag].apply(st, &rec);
	}
	return r;
}

/*
 * Full consistency check: sorted unique ids, every map entry and move
 * destination names a slice of a non-removed member, and no slice twice
 * (recomputed, not taken from the in-memory bitmaps).
 */
int md3_state_check(const struct md3_state *st)
{
	struct md3_state t;
	u8 *buf;
	size_t len;
	int r;
	u64 i;

	for (i = 1; i < st->nr_members; i++)
		if (st->members[i - 1].id >= st->members[i].id)
			return -EUCLEAN;
	for (i = 1; i < st->nr_volumes; i++)
		if (st->vols[i - 1].id >= st->vols[i].id)
			return -EUCLEAN;
	for (i = 0; i < st->nr_members; i++)
		if (st->members[i].id >= st->pool.next_member_id)
			return -EUCLEAN;
	for (i = 0; i < st->nr_volumes; i++)
		if (st->vols[i].id >= st->pool.next_volume_id)
			return -EUCLEAN;
	r = md3_state_encode(st, &buf, &len);
	if (r)
		return r;
	md3_state_init(&t);
	r = md3_state_apply(&t, buf, len);
	md3_state_free(&t);
	md3_free(buf);
	return r;
}

/* ---- blocks ---- */
static void md3_seal(void *blk, u32 magic, u64 blocknr)
{
	struct md3_block_header *h = blk;

	h->magic = cpu_to_le32(magic);
	h->blocknr = cpu_to_le64(blocknr);
	h->crc = cpu_to_le32(md3_crc32c(~0U, (u8 *)blk + 4, MD3_BLOCK_SIZE - 4));
}

static bool md3_sealed(const void *blk, u32 magic, u64 blocknr)
{
	const struct md3_block_header *h = blk;

	return le32_to_cpu(h->magic) == magic &&
	       le64_to_cpu(h->blocknr) == blocknr &&
	       le32_to_cpu(h->crc) ==
	       md3_crc32c(~0U, (const u8 *)blk + 4, MD3_BLOCK_SIZE - 4);
}

static int md3_wblock(struct md3_pool *p, struct md3_dev *d, u64 nr,
		      const void *blk)
{
	if (p) {
		p->bytes_written += MD3_BLOCK_SIZE;
		p->blocks_written++;
	}
	return d->ops->write(d->ctx, nr, blk);
}

static int md3_flush(struct md3_pool *p, struct md3_dev *d)
{
	if (p && (p->faults & MD3_FAULT_NOFLUSH))
		return 0;
	return d->ops->flush(d->ctx);
}

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
static int md3_chain_state(const struct md3_dev *d, const struct md3_chain *c,
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
static int md3_write_label(struct md3_pool *p, struct md3_pdev *pd,
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
static int md3_write_rec(struct md3_pool *p, struct md3_pdev *pd, u32 type,
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

static u64 md3_nfrag(u64 len)
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

static int md3_ckpt_now(struct md3_pool *p, struct md3_pdev *pd, bool restart)
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
static int md3_make_room(struct md3_pool *p, struct md3_pdev *pd, u64 n)
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

static struct md3_pdev *md3_dev_of(struct md3_pool *p, u32 id)
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

static int md3_commit(struct md3_pool *p, struct md3_buf *b,
		      struct md3_pdev *extra, bool marks);

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
static u64 md3_mark_id(struct md3_pool *p, const u32 *ids, u32 n)
{
	u64 h = md3_hash(p->st.hash, p->st.seq + 1, NULL, 0);
	u32 i;

	for (i = 0; i < n; i++)
		h = md3_hash(h, ids[i], NULL, 0);
	return h;
}

static int md3_mark_missing(struct md3_pool *p, u32 reason)
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

static int md3_commit(struct md3_pool *p, struct md3_buf *b,
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

/* ---- pool creation ---- */
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
static bool md3_label_ok(const char *label)
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
	for (i = 0; init && i < init->nr_volumes; i++) {
		md3_enc(&b, MD3_TAG_VOLUME, &init->vols[i]);
		if (init->vols[i].nr_slices)
			md3_enc_map(&b, init->vols[i].id, 0, init->vols[i].nr_slices,
				    init->vols[i].map);
	}
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

/* ---- operations ---- */
static int md3_rw(struct md3_pool *p)
{
	return p->mode == MD3_MODE_RW ? 0 : -EROFS;
}

int md3_vol_create(struct md3_pool *p, u64 *id, const u8 *uuid,
		   const char *name, u64 size_bytes,
		   const struct md3_slice *map, u64 nr)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_pool_rec pr = p->st.pool;
	struct md3_volume v;
	int r = md3_rw(p);

	if (!r)
		r = md3_check_new(&p->st, map, nr);
	if (r)
		return r;
	memset(&v, 0, sizeof(v));
	v.id = pr.next_volume_id++;
	v.size_bytes = size_bytes;
	v.nr_slices = nr;
	if (uuid)
		memcpy(v.uuid, uuid, MD3_UUID_LEN);
	if (name)
		strscpy(v.name, name, sizeof(v.name));
	md3_enc_op(&b, MD3_OP_CREATE, v.id);
	md3_enc(&b, MD3_TAG_POOL, &pr);
	md3_enc(&b, MD3_TAG_VOLUME, &v);
	if (nr)
		md3_enc_map(&b, v.id, 0, nr, map);
	r = md3_commit(p, &b, NULL, false);
	if (!r && id)
		*id = v.id;
	return r;
}

/* Transaction @op giving volume @vol @size_bytes and @nr slices */
static void md3_enc_resize(struct md3_buf *b, u32 op,
			   const struct md3_volume *vol, u64 size_bytes, u64 nr)
{
	struct md3_volume v = *vol;

	v.size_bytes = size_bytes;
	v.nr_slices = nr;
	md3_enc_op(b, op, vol->id);
	md3_enc(b, MD3_TAG_VOLUME, &v);
}

int md3_vol_expand(struct md3_pool *p, u64 id, u64 size_bytes,
		   const struct md3_slice *add, u64 nr)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *vol = md3_vol_find(&p->st, id);
	int r = md3_rw(p);

	if (!r && !vol)
		r = -ENOENT;
	if (!r)
		r = md3_check_new(&p->st, add, nr);
	if (r)
		return r;
	md3_enc_resize(&b, MD3_OP_EXPAND, vol, size_bytes, vol->nr_slices + nr);
	if (nr)
		md3_enc_map(&b, id, vol->nr_slices, nr, add);
	return md3_commit(p, &b, NULL, false);
}

int md3_vol_shrink(struct md3_pool *p, u64 id, u64 size_bytes, u64 nr)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *vol = md3_vol_find(&p->st, id);
	int r = md3_rw(p);

	if (!r && (!vol || nr > vol->nr_slices))
		r = vol ? -EINVAL : -ENOENT;
	if (!r && md3_move_overlaps(&p->st, id, nr, vol->nr_slices - nr))
		r = -EBUSY;
	if (r)
		return r;
	md3_enc_resize(&b, MD3_OP_SHRINK, vol, size_bytes, nr);
	return md3_commit(p, &b, NULL, false);
}

int md3_vol_delete(struct md3_pool *p, u64 id)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	int r = md3_rw(p);

	if (!r && !md3_vol_find(&p->st, id))
		r = -ENOENT;
	if (!r && (md3_move_overlaps(&p->st, id, 0, ~0ULL) ||
		   md3_clone_count(&p->st, id)))
		r = -EBUSY;
	if (r)
		return r;
	md3_enc_op(&b, MD3_OP_DELETE, id);
	md3_enc(&b, MD3_TAG_VOL_DEL, &(struct md3_volume){ .id = id });
	return md3_commit(p, &b, NULL, false);
}

/*
 * Set @flags (MD3_VOL_*) on volume @id, in addition to those it has:
 * flags are never cleared.  -EINVAL for an unknown flag.
 */
int md3_vol_set_flags(struct md3_pool *p, u64 id, u32 flags)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *vol = md3_vol_find(&p->st, id);
	struct md3_volume v;
	int r = md3_rw(p);

	if (!r && !vol)
		r = -ENOENT;
	if (!r && (flags & ~MD3_VOL_FLAGS))
		r = -EINVAL;
	if (r)
		return r;
	if ((vol->flags | flags) == vol->flags)
		return 0;
	v = *vol;
	v.flags |= flags;
	md3_enc_op(&b, MD3_OP_VOL_FLAGS, id);
	md3_enc(&b, MD3_TAG_VOLUME, &v);
	return md3_commit(p, &b, NULL, false);
}

int md3_clone_add(struct md3_pool *p, u64 image, const char *name,
		  u32 thin_id, u64 sectors)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *vol = md3_vol_find(&p->st, image);
	struct md3_clone c;
	int r = md3_rw(p);

	if (!r && !vol)
		r = -ENOENT;
	if (!r && (!(vol->flags & MD3_VOL_IMAGE) || !md3_label_ok(name) ||
		   thin_id > MD3_THIN_ID_MAX || !sectors))
		r = -EINVAL;
	if (!r && (md3_clone_find(&p->st, name) ||
		   md3_clone_thin(&p->st, thin_id)))
		r = -EEXIST;
	if (r)
		return r;
	memset(&c, 0, sizeof(c));
	c.image = image;
	c.thin_id = thin_id;
	c.sectors = sectors;
	strscpy(c.name, name, sizeof(c.name));
	md3_enc_op(&b, MD3_OP_CLONE_ADD, image);
	md3_enc(&b, MD3_TAG_CLONE, &c);
	return md3_commit(p, &b, NULL, false);
}

int md3_clone_remove(struct md3_pool *p, const char *name)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_clone *c = md3_clone_find(&p->st, name);
	int r = md3_rw(p);

	if (!r && !c)
		r = -ENOENT;
	if (r)
		return r;
	md3_enc_op(&b, MD3_OP_CLONE_DEL, c->image);
	md3_enc(&b, MD3_TAG_CLONE_DEL, c);
	return md3_commit(p, &b, NULL, false);
}

int md3_move_begin(struct md3_pool *p, u64 vol, u64 first, u64 count,
		   const struct md3_slice *dst)
{
	return md3_move_begin_flags(p, vol, first, count, dst, 0);
}

int md3_move_begin_flags(struct md3_pool *p, u64 vol, u64 first, u64 count,
			 const struct md3_slice *dst, u32 flags)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *v = md3_vol_find(&p->st, vol);
	struct md3_move m = { .vol = vol, .first = first, .count = count,
			      .flags = flags, .dst = (struct md3_slice *)dst };
	int r = md3_rw(p);

	if (!r && (flags & ~MD3_MOVE_FLAGS))
		r = -EINVAL;
	if (!r && !v)
		r = -ENOENT;
	if (!r && (!count || first > v->nr_slices || count > v->nr_slices - first))
		r = -EINVAL;
	if (!r && md3_move_overlaps(&p->st, vol, first, count))
		r = -EBUSY;
	if (!r)
		r = md3_check_new(&p->st, dst, count);
	if (r)
		return r;
	md3_enc_op(&b, MD3_OP_MOVE_BEGIN, vol);
	md3_enc_move(&b, &m);
	return md3_commit(p, &b, NULL, false);
}

/*
 * One transaction of @op on the pending move at (@vol, @first): PROGRESS
 * records its copy @cursor; COMMIT and ABORT end it, and COMMIT makes its
 * destinations the map.
 */
static int md3_move_tx(struct md3_pool *p, u64 vol, u64 first, u32 op,
		       u64 cursor)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_move *m = md3_move_find(&p->st, vol, first);
	struct md3_move e = { .vol = vol, .first = first, .cursor = cursor };
	int r = md3_rw(p);

	if (!r && !m)
		r = -ENOENT;
	if (r)
		return r;
	md3_enc_op(&b, op, vol);
	if (op == MD3_OP_MOVE_PROGRESS) {
		md3_enc(&b, MD3_TAG_MOVE_CURSOR, &e);
	} else {
		/* the destinations stop being reserved, then become the map */
		md3_enc(&b, MD3_TAG_MOVE_DEL, &e);
		if (op == MD3_OP_MOVE_COMMIT)
			md3_enc_map(&b, vol, first, m->count, m->dst);
	}
	return md3_commit(p, &b, NULL, false);
}

int md3_move_progress(struct md3_pool *p, u64 vol, u64 first, u64 cursor)
{
	return md3_move_tx(p, vol, first, MD3_OP_MOVE_PROGRESS, cursor);
}

int md3_move_commit(struct md3_pool *p, u64 vol, u64 first)
{
	return md3_move_tx(p, vol, first, MD3_OP_MOVE_COMMIT, 0);
}

int md3_move_abort(struct md3_pool *p, u64 vol, u64 first)
{
	return md3_move_tx(p, vol, first, MD3_OP_MOVE_ABORT, 0);
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

int md3_settings(struct md3_pool *p, u32 w_space, u32 w_load, u32 min_domains)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_pool_rec pr = p->st.pool;
	int r = md3_rw(p);

	if (!r && (w_space > 100 || w_load > 100 || !(w_space + w_load)))
		r = -EINVAL;
	if (r)
		return r;
	pr.w_space = w_space;
	pr.w_load = w_load;
	pr.min_domains = min_domains;
	md3_enc_op(&b, MD3_OP_SETTINGS, 0);
	md3_enc(&b, MD3_TAG_POOL, &pr);
	return md3_commit(p, &b, NULL, false);
}
