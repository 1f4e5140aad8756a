// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: applying records to the state.
 *
 * md3_state_apply() applies the records of one payload (a delta, or a
 * whole checkpoint to an empty state) through md3_types[], which gives
 * each record type its length and its apply function; each apply function
 * checks what it is given against the state (-EUCLEAN) before changing
 * it.  md3_state_check() is the full consistency check of a state.
 */
#include "md3-int.h"

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
	if (n.status > MD3_REMOVED || !md3_domain_label(st, n.domain) ||
	    (n.flags & ~MD3_MEMBER_FLAGS))
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
	u64 id, nr, i, c, j;

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
		vol->copies = 1;
		st->nr_volumes++;
	}
	c = vol->copies - 1;	/* legs per slice besides leg 0 */
	if (nr < vol->nr_slices) {
		if (md3_move_overlaps(st, id, nr, vol->nr_slices - nr))
			return -EUCLEAN;
		for (i = nr; i < vol->nr_slices; i++)
			for (j = 0; j <= c; j++)
				md3_unuse(st, md3_leg(vol, i, j));
	}
	if (nr != vol->nr_slices && c) {
		map = md3_realloc(vol->legs, vol->nr_slices * c * sizeof(*map),
				  nr * c * sizeof(*map));
		if (!map)
			return -ENOMEM;
		for (i = vol->nr_slices * c; i < nr * c; i++)
			map[i].member = MD3_NO_MEMBER;
		vol->legs = map;
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
	u32 c;

	md3_get(v, MD3_TAG_VOL_DEL, &d);
	vol = md3_vol_find(st, d.id);
	if (!vol || md3_move_overlaps(st, d.id, 0, ~0ULL) ||
	    md3_clone_count(st, d.id))
		return -EUCLEAN;
	for (i = 0; i < vol->nr_slices; i++)
		for (c = 0; c < vol->copies; c++)
			md3_unuse(st, md3_leg(vol, i, c));
	md3_free(vol->map);
	md3_free(vol->legs);
	k = vol - st->vols;
	memmove(vol, vol + 1, (st->nr_volumes - k - 1) * sizeof(*vol));
	st->nr_volumes--;
	return 0;
}

/*
 * Set leg @leg of @count logical slices of @vol from @first to the
 * entries at @e (MAP: leg 0; LEGS: the others).  A leg keeps its stale
 * mark while it names a slice (a move of a stale leg copies stale data)
 * and loses it when it is emptied.
 */
static int md3_set_legs(struct md3_state *st, struct md3_volume *vol,
			u64 first, u64 count, u32 leg, const u8 *e)
{
	struct md3_slice s, *l;
	u64 i;
	int r;

	for (i = 0; i < count; i++)
		md3_unuse(st, md3_leg(vol, first + i, leg));
	for (i = 0; i < count; i++) {
		memset(&s, 0, sizeof(s));
		md3_get(e + i * MD3_SLICE_LEN, MD3_ENTRY_SLICE, &s);
		r = md3_use(st, &s);
		if (r)
			return r;
		l = md3_leg(vol, first + i, leg);
		if (s.member != MD3_NO_MEMBER)
			s.flags = l->flags;
		*l = s;
	}
	return 0;
}

static int md3_apply_map(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_map_rec h;
	struct md3_volume *vol;

	md3_get(v, MD3_TAG_MAP, &h);
	vol = md3_vol_find(st, h.vol);
	if (!vol || h.count > (rec->len - MD3_MAP_LEN) / MD3_SLICE_LEN ||
	    h.first > vol->nr_slices || h.count > vol->nr_slices - h.first)
		return -EUCLEAN;
	return md3_set_legs(st, vol, h.first, h.count, 0, v + MD3_MAP_LEN);
}

static int md3_apply_legs(struct md3_state *st, const struct md3_val *rec)
{
	const u8 *v = rec->v;
	struct md3_legs_rec h;
	struct md3_volume *vol;

	md3_get(v, MD3_TAG_LEGS, &h);
	vol = md3_vol_find(st, h.vol);
	if (!vol || !h.leg || h.leg >= vol->copies ||
	    h.count > (rec->len - MD3_LEGS_LEN) / MD3_SLICE_LEN ||
	    h.first > vol->nr_slices || h.count > vol->nr_slices - h.first)
		return -EUCLEAN;
	return md3_set_legs(st, vol, h.first, h.count, h.leg, v + MD3_LEGS_LEN);
}

/*
 * A volume's copies: more adds empty legs, fewer needs the legs taken
 * away empty.
 */
static int md3_apply_copies(struct md3_state *st, const struct md3_val *rec)
{
	struct md3_copies_rec h;
	struct md3_volume *vol;
	struct md3_slice *legs = NULL;
	u64 i;
	u32 k;

	md3_get(rec->v, MD3_TAG_COPIES, &h);
	vol = md3_vol_find(st, h.vol);
	if (!vol || !h.copies || h.copies > MD3_MAX_COPIES)
		return -EUCLEAN;
	if (h.copies == vol->copies)
		return 0;
	for (i = 0; i < vol->nr_slices; i++)
		for (k = h.copies; k < vol->copies; k++)
			if (md3_leg(vol, i, k)->member != MD3_NO_MEMBER)
				return -EUCLEAN;
	if (h.copies > 1 && vol->nr_slices) {
		legs = md3_calloc(vol->nr_slices * (h.copies - 1), sizeof(*legs));
		if (!legs)
			return -ENOMEM;
	}
	for (i = 0; i < vol->nr_slices; i++)
		for (k = 1; k < h.copies; k++)
			legs[i * (h.copies - 1) + k - 1] =
				k < vol->copies ? *md3_leg(vol, i, k) :
				(struct md3_slice){ .member = MD3_NO_MEMBER };
	md3_free(vol->legs);
	vol->legs = legs;
	vol->copies = h.copies;
	return 0;
}

/* A placed leg's stale mark, set (1) or cleared (0) */
static int md3_apply_leg_stale(struct md3_state *st, const struct md3_val *rec)
{
	struct md3_stale_rec h;
	struct md3_volume *vol;
	struct md3_slice *l;

	md3_get(rec->v, MD3_TAG_LEG_STALE, &h);
	vol = md3_vol_find(st, h.vol);
	if (!vol || h.slice >= vol->nr_slices || h.leg >= vol->copies ||
	    h.stale > 1)
		return -EUCLEAN;
	l = md3_leg(vol, h.slice, h.leg);
	if (l->member == MD3_NO_MEMBER)
		return -EUCLEAN;
	l->flags = h.stale ? l->flags | MD3_LEG_STALE : l->flags & ~MD3_LEG_STALE;
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
	[MD3_TAG_MEMBER]	= { MD3_MEMBER_LEN, md3_apply_member,
				    MD3_MEMBER_MIN_LEN },
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
	[MD3_TAG_COPIES]	= { MD3_COPIES_LEN, md3_apply_copies },
	[MD3_TAG_LEGS]		= { MD3_LEGS_LEN, md3_apply_legs },
	[MD3_TAG_LEG_STALE]	= { MD3_LEG_STALE_LEN, md3_apply_leg_stale },
};

/* Length of the fixed part of a record of type @tag (0: an unknown tag) */
u32 md3_rec_len(u16 tag)
{
	return tag < ARRAY_SIZE(md3_types) ? md3_types[tag].len : 0;
}

/*
 * Apply the records of one payload (a delta, or a whole checkpoint to an
 * empty state).  On error the state is partly changed and must be dropped.
 */
int md3_state_apply(struct md3_state *st, const u8 *p, size_t len)
{
	/* an older, shorter value (VOLUME or MEMBER), zero padded */
	u8 pad[MD3_PAD_LEN];
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
 * Full consistency check: sorted unique ids, every map entry, leg and
 * move destination names a slice of a non-removed member, no slice twice
 * (recomputed, not taken from the in-memory bitmaps), and the legs of a
 * logical slice are in distinct failure domains.
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
	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *v = &st->vols[i];
		u64 j;

		if (!v->copies || v->copies > MD3_MAX_COPIES)
			return -EUCLEAN;
		for (j = 0; v->copies > 1 && j < v->nr_slices; j++)
			if (!md3_legs_apart(st, v, j))
				return -EUCLEAN;
	}
	r = md3_state_encode(st, &buf, &len);
	if (r)
		return r;
	md3_state_init(&t);
	r = md3_state_apply(&t, buf, len);
	md3_state_free(&t);
	md3_free(buf);
	return r;
}
