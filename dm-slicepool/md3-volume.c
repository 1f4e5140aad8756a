// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: volume, clone and move operations.
 *
 * Each operation is one transaction (one commit point, md3_commit()):
 * volume create, expand, shrink, delete, flags and copies; the legs of a
 * redundant volume's slices (add, drop, stale and in sync); clone records
 * add and remove; a move's begin, progress, commit and abort; and the
 * pool's placement settings.
 */
#include "md3-int.h"

/* ---- operations ---- */

/*
 * Whether @nr logical slices of @copies legs each (@legs, slice major)
 * can be placed: copies in range, known leg flags (when @flags), the legs
 * of a slice in distinct failure domains (-EINVAL), and each leg a free
 * slice of a CURRENT member, no two the same (md3_check_new(): -EEXIST,
 * or -ENODEV, also for an empty leg).  Leaves the state unchanged.
 */
static int md3_check_legs(struct md3_state *st, u32 copies,
			  const struct md3_slice *legs, u64 nr, bool flags)
{
	u64 i;
	u32 k, j, d;

	if (!copies || copies > MD3_MAX_COPIES)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		for (k = 0; k < copies; k++) {
			const struct md3_slice *s = &legs[i * copies + k];

			if (flags && (s->flags & ~MD3_LEG_FLAGS))
				return -EINVAL;
			d = md3_member_domain(st, s->member);
			for (j = 0; j < k && d != MD3_NO_DOMAIN; j++)
				if (md3_member_domain(st, legs[i * copies + j].member) == d)
					return -EINVAL;
		}
	}
	return md3_check_new(st, legs, nr * copies);
}

/*
 * The legs of @nr new logical slices of volume @vol from @first (@legs
 * as md3_check_legs() takes them): a MAP record, a LEGS record per
 * further leg and, when @flags, a LEG_STALE per leg that starts stale.
 */
static void md3_enc_new_legs(struct md3_buf *b, u64 vol, u64 first,
			     u32 copies, const struct md3_slice *legs, u64 nr,
			     bool flags)
{
	u64 i;
	u32 k;

	for (k = 0; k < copies && nr; k++)
		md3_enc_legrun(b, vol, first, nr, k, legs + k, copies);
	for (i = 0; i < nr && flags; i++)
		for (k = 0; k < copies; k++)
			if (legs[i * copies + k].flags & MD3_LEG_STALE)
				md3_enc_leg_stale(b, vol, first + i, k, true);
}

/* md3_vol_create_copies(), with the legs' flags taken (@flags) or not */
static int md3_vol_create_legs(struct md3_pool *p, u64 *id, const u8 *uuid,
			       const char *name, u64 size_bytes, u32 copies,
			       const struct md3_slice *legs, u64 nr, bool flags)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_pool_rec pr = p->st.pool;
	struct md3_copies_rec c = { .copies = copies };
	struct md3_volume v;
	int r = md3_rw(p);

	if (!r)
		r = md3_check_legs(&p->st, copies, legs, nr, flags);
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
	c.vol = v.id;
	md3_enc_op(&b, MD3_OP_CREATE, v.id);
	md3_enc(&b, MD3_TAG_POOL, &pr);
	md3_enc(&b, MD3_TAG_VOLUME, &v);
	if (copies > 1)
		md3_enc(&b, MD3_TAG_COPIES, &c);
	md3_enc_new_legs(&b, v.id, 0, copies, legs, nr, flags);
	r = md3_commit(p, &b, NULL, false);
	if (!r && id)
		*id = v.id;
	return r;
}

int md3_vol_create(struct md3_pool *p, u64 *id, const u8 *uuid,
		   const char *name, u64 size_bytes,
		   const struct md3_slice *map, u64 nr)
{
	return md3_vol_create_legs(p, id, uuid, name, size_bytes, 1, map, nr,
				   false);
}

int md3_vol_create_copies(struct md3_pool *p, u64 *id, const u8 *uuid,
			  const char *name, u64 size_bytes, u32 copies,
			  const struct md3_slice *legs, u64 nr)
{
	return md3_vol_create_legs(p, id, uuid, name, size_bytes, copies, legs,
				   nr, true);
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

/* Expand volume @id by @nr slices of its copies legs each (@legs) */
static int md3_vol_grow(struct md3_pool *p, u64 id, u64 size_bytes,
			const struct md3_slice *legs, u64 nr, bool copies)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *vol = md3_vol_find(&p->st, id);
	int r = md3_rw(p);

	if (!r && !vol)
		r = -ENOENT;
	if (!r && !copies && vol->copies > 1)
		r = -EINVAL;
	if (!r)
		r = md3_check_legs(&p->st, vol->copies, legs, nr, copies);
	if (r)
		return r;
	md3_enc_resize(&b, MD3_OP_EXPAND, vol, size_bytes, vol->nr_slices + nr);
	md3_enc_new_legs(&b, id, vol->nr_slices, vol->copies, legs, nr, copies);
	return md3_commit(p, &b, NULL, false);
}

int md3_vol_expand(struct md3_pool *p, u64 id, u64 size_bytes,
		   const struct md3_slice *add, u64 nr)
{
	return md3_vol_grow(p, id, size_bytes, add, nr, false);
}

int md3_vol_expand_legs(struct md3_pool *p, u64 id, u64 size_bytes,
			const struct md3_slice *legs, u64 nr)
{
	return md3_vol_grow(p, id, size_bytes, legs, nr, true);
}

int md3_vol_set_copies(struct md3_pool *p, u64 id, u32 copies)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *vol = md3_vol_find(&p->st, id);
	struct md3_copies_rec c = { .vol = id, .copies = copies };
	u64 i;
	u32 k;
	int r = md3_rw(p);

	if (!r && !vol)
		r = -ENOENT;
	if (!r && (!copies || copies > MD3_MAX_COPIES))
		r = -EINVAL;
	for (i = 0; !r && i < vol->nr_slices; i++)
		for (k = copies; k < vol->copies; k++)
			if (md3_leg(vol, i, k)->member != MD3_NO_MEMBER)
				r = -EBUSY;
	if (r)
		return r;
	if (copies == vol->copies)
		return 0;
	md3_enc_op(&b, MD3_OP_VOL_COPIES, id);
	md3_enc(&b, MD3_TAG_COPIES, &c);
	return md3_commit(p, &b, NULL, false);
}

/*
 * Whether leg @leg of logical slice @slice of volume @vol can change:
 * -ENOENT (no such volume or slice), -EINVAL (@leg not below its copies),
 * -EBUSY (a pending move covers the slice); *@vp is the volume.
 */
static int md3_leg_check(struct md3_pool *p, u64 vol, u64 slice, u32 leg,
			 struct md3_volume **vp)
{
	struct md3_volume *v = md3_vol_find(&p->st, vol);
	int r = md3_rw(p);

	if (!r && (!v || slice >= v->nr_slices))
		r = -ENOENT;
	if (!r && leg >= v->copies)
		r = -EINVAL;
	if (!r && md3_move_overlaps(&p->st, vol, slice, 1))
		r = -EBUSY;
	*vp = v;
	return r;
}

int md3_leg_add(struct md3_pool *p, u64 vol, u64 slice, u32 leg,
		const struct md3_slice *s)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_volume *v;
	u32 k, d = md3_member_domain(&p->st, s->member);
	int r = md3_leg_check(p, vol, slice, leg, &v);

	if (!r && md3_leg(v, slice, leg)->member != MD3_NO_MEMBER)
		r = -EBUSY;
	for (k = 0; !r && k < v->copies && d != MD3_NO_DOMAIN; k++)
		if (k != leg &&
		    md3_member_domain(&p->st, md3_leg(v, slice, k)->member) == d)
			r = -EINVAL;
	if (!r)
		r = md3_check_new(&p->st, s, 1);
	if (r)
		return r;
	/* placed and stale in one transaction: it holds no data yet */
	md3_enc_op(&b, MD3_OP_LEG_ADD, vol);
	md3_enc_legrun(&b, vol, slice, 1, leg, s, 1);
	md3_enc_leg_stale(&b, vol, slice, leg, true);
	return md3_commit(p, &b, NULL, false);
}

int md3_leg_drop(struct md3_pool *p, u64 vol, u64 slice, u32 leg)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_slice none = { .member = MD3_NO_MEMBER };
	const struct md3_slice *l;
	struct md3_volume *v;
	u32 k, insync = 0;
	int r = md3_leg_check(p, vol, slice, leg, &v);

	if (r)
		return r;
	l = md3_leg(v, slice, leg);
	if (l->member == MD3_NO_MEMBER)
		return -ENOENT;
	for (k = 0; k < v->copies; k++)
		insync += k != leg &&
			  md3_leg(v, slice, k)->member != MD3_NO_MEMBER &&
			  !(md3_leg(v, slice, k)->flags & MD3_LEG_STALE);
	/* the only current copy of the slice is never dropped */
	if (!(l->flags & MD3_LEG_STALE) && !insync)
		return -EBUSY;
	md3_enc_op(&b, MD3_OP_LEG_DROP, vol);
	md3_enc_legrun(&b, vol, slice, 1, leg, &none, 1);
	return md3_commit(p, &b, NULL, false);
}

int md3_legs_set_stale(struct md3_pool *p, const struct md3_leg_ref *ref,
		       u32 n, bool stale)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	const struct md3_volume *v;
	struct md3_slice *l;
	u32 i, todo = 0;
	int r = md3_rw(p);

	for (i = 0; i < n && !r; i++) {
		v = md3_vol_find(&p->st, ref[i].vol);
		if (!v || ref[i].slice >= v->nr_slices)
			r = -ENOENT;
		else if (ref[i].leg >= v->copies)
			r = -EINVAL;
		else if (md3_leg(v, ref[i].slice, ref[i].leg)->member == MD3_NO_MEMBER)
			r = -ENOENT;
	}
	if (r)
		return r;
	md3_enc_op(&b, stale ? MD3_OP_LEG_STALE : MD3_OP_LEG_INSYNC,
		   n ? ref[0].vol : 0);
	for (i = 0; i < n; i++) {
		v = md3_vol_find(&p->st, ref[i].vol);
		l = md3_leg(v, ref[i].slice, ref[i].leg);
		if (!(l->flags & MD3_LEG_STALE) == !stale)
			continue;
		todo++;
		/* the mutant keeps the mark in memory only (host tests) */
		if (!stale || !(p->faults & MD3_FAULT_NOSTALE))
			md3_enc_leg_stale(&b, ref[i].vol, ref[i].slice,
					  ref[i].leg, stale);
	}
	if (!todo) {
		md3_free(b.p);
		return 0;
	}
	r = md3_commit(p, &b, NULL, false);
	for (i = 0; !r && stale && (p->faults & MD3_FAULT_NOSTALE) && i < n; i++) {
		v = md3_vol_find(&p->st, ref[i].vol);
		md3_leg(v, ref[i].slice, ref[i].leg)->flags |= MD3_LEG_STALE;
	}
	return r;
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

int md3_clone_move(struct md3_pool *p, const char *name, u64 image)
{
	struct md3_buf b = { NULL, 0, 0, 0 };
	struct md3_clone *c = md3_clone_find(&p->st, name);
	struct md3_volume *vol = md3_vol_find(&p->st, image);
	struct md3_clone n;
	int r = md3_rw(p);

	if (!r && (!c || !vol))
		r = -ENOENT;
	if (!r && (!(vol->flags & MD3_VOL_IMAGE) || c->image == image))
		r = -EINVAL;
	if (r)
		return r;
	n = *c;
	n.image = image;
	md3_enc_op(&b, MD3_OP_CLONE_MOVE, image);
	md3_enc(&b, MD3_TAG_CLONE, &n);
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
	u64 i;
	u32 k;
	int r = md3_rw(p);

	if (!r && (flags & ~MD3_MOVE_FLAGS))
		r = -EINVAL;
	if (!r && !v)
		r = -ENOENT;
	if (!r && (!count || first > v->nr_slices || count > v->nr_slices - first))
		r = -EINVAL;
	if (!r && md3_move_overlaps(&p->st, vol, first, count))
		r = -EBUSY;
	/* leg 0 moves: not into the domain of another leg of its slice */
	for (i = 0; !r && v->copies > 1 && i < count; i++)
		for (k = 1; k < v->copies; k++)
			if (md3_member_domain(&p->st, md3_leg(v, first + i, k)->member) ==
			    md3_member_domain(&p->st, dst[i].member) &&
			    md3_leg(v, first + i, k)->member != MD3_NO_MEMBER)
				r = -EINVAL;
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
