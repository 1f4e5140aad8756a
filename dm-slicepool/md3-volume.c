// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool pool metadata v3: volume, clone and move operations.
 *
 * Each operation is one transaction (one commit point, md3_commit()):
 * volume create, expand, shrink, delete and flags; clone records add and
 * remove; a move's begin, progress, commit and abort; and the pool's
 * placement settings.
 */
#include "md3-int.h"

/* ---- operations ---- */
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
