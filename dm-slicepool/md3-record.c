// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: records and checksums.
 *
 * The on-disk layout of every record, written once as rows of md3_fields[]
 * (md3_put() writes a record from its struct, md3_get() reads it back),
 * the TLV encoding of a transaction's payload (md3_enc() and its kin,
 * md3_state_encode(): a whole state as a checkpoint), the chain hash
 * md3_hash(), the seal (magic, block number, CRC-32C) of every metadata
 * block and, in user space, the CRC-32C itself.
 */
#include "md3-int.h"

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

/* ---- block seals: magic, block number, CRC-32C ---- */
void md3_seal(void *blk, u32 magic, u64 blocknr)
{
	struct md3_block_header *h = blk;

	h->magic = cpu_to_le32(magic);
	h->blocknr = cpu_to_le64(blocknr);
	h->crc = cpu_to_le32(md3_crc32c(~0U, (u8 *)blk + 4, MD3_BLOCK_SIZE - 4));
}

bool md3_sealed(const void *blk, u32 magic, u64 blocknr)
{
	const struct md3_block_header *h = blk;

	return le32_to_cpu(h->magic) == magic &&
	       le64_to_cpu(h->blocknr) == blocknr &&
	       le32_to_cpu(h->crc) ==
	       md3_crc32c(~0U, (const u8 *)blk + 4, MD3_BLOCK_SIZE - 4);
}

/*
 * ---- record layouts ----
 *
 * md3_fields[] is the on-disk layout of every record, written once: for
 * each field of a record's fixed part, where it is in the value, how many
 * bytes it has (the same on disk and in memory), whether it is a
 * little-endian integer or bytes, and where it is in the in-memory struct.
 * md3_types[] (md3-apply.c, with the functions that apply records) gives
 * the length of each fixed part.  md3_put() writes a record from its
 * struct and md3_get() reads it back from the same rows, so the encoder
 * and the decoder cannot disagree about a field's place.  The label
 * fields that struct md3_chain mirrors are rows of the same table.
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
	MD3_LE(MD3_TAG_MEMBER, 136, struct md3_member, flags),

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

	MD3_LE(MD3_TAG_COPIES, 0, struct md3_copies_rec, vol),
	MD3_LE(MD3_TAG_COPIES, 8, struct md3_copies_rec, copies),

	MD3_LE(MD3_TAG_LEGS, 0, struct md3_legs_rec, vol),
	MD3_LE(MD3_TAG_LEGS, 8, struct md3_legs_rec, first),
	MD3_LE(MD3_TAG_LEGS, 16, struct md3_legs_rec, count),
	MD3_LE(MD3_TAG_LEGS, 24, struct md3_legs_rec, leg),

	MD3_LE(MD3_TAG_LEG_STALE, 0, struct md3_stale_rec, vol),
	MD3_LE(MD3_TAG_LEG_STALE, 8, struct md3_stale_rec, slice),
	MD3_LE(MD3_TAG_LEG_STALE, 16, struct md3_stale_rec, leg),
	MD3_LE(MD3_TAG_LEG_STALE, 20, struct md3_stale_rec, stale),

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

/* Write the fields of record @tag from the struct at @src to value @v. */
void md3_put(u8 *v, u16 tag, const void *src)
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
void md3_get(const u8 *v, u16 tag, void *dst)
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
void md3_enc(struct md3_buf *b, u16 tag, const void *src)
{
	md3_enc_tail(b, tag, src, 0);
}

static void md3_put_slices(u8 *v, const struct md3_slice *s, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		md3_put(v + i * MD3_SLICE_LEN, MD3_ENTRY_SLICE, &s[i]);
}

void md3_get_slices(const u8 *v, struct md3_slice *s, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		md3_get(v + i * MD3_SLICE_LEN, MD3_ENTRY_SLICE, &s[i]);
}

void md3_enc_op(struct md3_buf *b, u32 op, u64 arg)
{
	struct md3_op_rec r = { .op = op, .arg = arg };

	md3_enc(b, MD3_TAG_OP | MD3_TAG_OPTIONAL, &r);
}

void md3_enc_map(struct md3_buf *b, u64 vol, u64 first, u64 count,
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

/*
 * Leg @leg of @count logical slices of volume @vol from @first: a MAP
 * record for leg 0, a LEGS record for the others; the entries are @s[0],
 * @s[@stride], ...  (MD3_NO_MEMBER: no leg).
 */
void md3_enc_legrun(struct md3_buf *b, u64 vol, u64 first, u64 count,
		    u32 leg, const struct md3_slice *s, u64 stride)
{
	struct md3_legs_rec r = { .vol = vol, .first = first, .count = count,
				  .leg = leg };
	struct md3_map_rec m = { .vol = vol, .first = first, .count = count };
	u64 i;
	u8 *v;

	if (count > (0xffffffffULL - MD3_LEGS_LEN) / MD3_SLICE_LEN) {
		u64 half = count / 2;

		md3_enc_legrun(b, vol, first, half, leg, s, stride);
		md3_enc_legrun(b, vol, first + half, count - half, leg,
			       s + half * stride, stride);
		return;
	}
	if (leg)
		v = md3_enc_tail(b, MD3_TAG_LEGS, &r, count * MD3_SLICE_LEN);
	else
		v = md3_enc_tail(b, MD3_TAG_MAP, &m, count * MD3_SLICE_LEN);
	for (i = 0; v && i < count; i++)
		md3_put(v + i * MD3_SLICE_LEN, MD3_ENTRY_SLICE, &s[i * stride]);
}

/*
 * Volume @v as a checkpoint holds it: VOLUME, then (copies > 1) COPIES,
 * MAP, a LEGS record per further leg and a LEG_STALE per stale leg (of
 * any volume).  A volume of one copy and no stale mark is written exactly
 * as before copies existed.
 */
void md3_enc_volume(struct md3_buf *b, const struct md3_volume *v)
{
	struct md3_copies_rec c = { .vol = v->id, .copies = v->copies };
	u64 j;
	u32 k;

	md3_enc(b, MD3_TAG_VOLUME, v);
	if (v->copies > 1)
		md3_enc(b, MD3_TAG_COPIES, &c);
	if (v->nr_slices)
		md3_enc_map(b, v->id, 0, v->nr_slices, v->map);
	for (k = 1; k < v->copies && v->nr_slices; k++)
		md3_enc_legrun(b, v->id, 0, v->nr_slices, k, md3_leg(v, 0, k),
			       v->copies - 1);
	for (j = 0; j < v->nr_slices; j++)
		for (k = 0; k < v->copies; k++)
			if (md3_leg(v, j, k)->flags & MD3_LEG_STALE)
				md3_enc_leg_stale(b, v->id, j, k, true);
}

void md3_enc_leg_stale(struct md3_buf *b, u64 vol, u64 slice, u32 leg,
		       bool stale)
{
	struct md3_stale_rec r = { .vol = vol, .slice = slice, .leg = leg,
				   .stale = stale };

	md3_enc(b, MD3_TAG_LEG_STALE, &r);
}

void md3_enc_move(struct md3_buf *b, const struct md3_move *m)
{
	u8 *v = md3_enc_tail(b, MD3_TAG_MOVE, m, m->count * MD3_SLICE_LEN);

	if (v)
		md3_put_slices(v, m->dst, m->count);
}

/*
 * Member @m marked STALE(@reason) by transaction @seq with mark @mark: its
 * record, then the mark for the mark log.
 */
void md3_enc_stale(struct md3_buf *b, const struct md3_member *m,
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
	for (i = 0; i < st->nr_volumes; i++)
		md3_enc_volume(&b, &st->vols[i]);
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
u64 md3_state_size(const struct md3_state *st)
{
	u64 n = MD3_TLV_HDR + MD3_POOL_LEN, i;

	n += (u64)st->nr_domains * (MD3_TLV_HDR + MD3_DOMAIN_LEN);
	n += (u64)st->nr_members * (MD3_TLV_HDR + MD3_MEMBER_LEN);
	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *v = &st->vols[i];
		u64 j;
		u32 k;

		n += MD3_TLV_HDR + MD3_VOLUME_LEN;
		if (v->nr_slices)
			n += MD3_TLV_HDR + ((MD3_MAP_LEN + v->nr_slices *
					     MD3_SLICE_LEN + 7) & ~7ULL);
		if (v->copies > 1)
			n += MD3_TLV_HDR + MD3_COPIES_LEN;
		if (v->copies > 1 && v->nr_slices)
			n += (v->copies - 1) *
			     (MD3_TLV_HDR + ((MD3_LEGS_LEN + v->nr_slices *
					      MD3_SLICE_LEN + 7) & ~7ULL));
		for (j = 0; j < v->nr_slices; j++)
			for (k = 0; k < v->copies; k++)
				if (md3_leg(v, j, k)->flags & MD3_LEG_STALE)
					n += MD3_TLV_HDR + MD3_LEG_STALE_LEN;
	}
	for (i = 0; i < st->nr_moves; i++)
		n += MD3_TLV_HDR + ((MD3_MOVE_LEN + st->moves[i].count *
				     MD3_SLICE_LEN + 7) & ~7ULL);
	n += st->nr_marks * (MD3_TLV_HDR + MD3_MARK_LEN);
	n += st->nr_clones * (MD3_TLV_HDR + MD3_CLONE_LEN);
	return n;
}
