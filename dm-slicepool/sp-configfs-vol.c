// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: configfs <pool>/volumes/<name>: a volume's attributes
 * (size, image, an image's clones and hot detection, uuid, map) and the
 * volumes group's mkdir and rmdir.  Every attribute is described in
 * Documentation/dm-slicepool.rst and dm-slicepool-images.rst.
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "placement.h"
#include "md3.h"
#include "sp-configfs.h"

/* ---- Volumes ---------------------------------------------------------- */

static struct sp_volume *to_vol(struct config_item *item)
{
	return container_of(item, struct sp_vol_item, item)->vol;
}

/* Parse "<n>[KMGT]" (binary units) into bytes. */
static int sp_parse_size(const char *page, u64 *out)
{
	char buf[32], *end;
	unsigned int shift = 0;
	size_t len;
	int r;

	strscpy(buf, page, sizeof(buf));
	end = strim(buf);
	len = strlen(end);
	if (!len)
		return -EINVAL;
	switch (end[len - 1]) {
	case 'K': case 'k':
		shift = 10;
		break;
	case 'M': case 'm':
		shift = 20;
		break;
	case 'G': case 'g':
		shift = 30;
		break;
	case 'T': case 't':
		shift = 40;
		break;
	}
	if (shift)
		end[len - 1] = '\0';
	r = kstrtou64(end, 10, out);
	if (r)
		return -EINVAL;
	if (*out > (U64_MAX >> shift) >> SECTOR_SHIFT)
		return -ERANGE;
	*out <<= shift;
	return 0;
}

static ssize_t sp_vol_size_show(struct config_item *item, char *page)
{
	struct sp_volume *v = to_vol(item);
	u64 s;

	mutex_lock(&v->pool->lock);
	s = v->state == SP_VOL_LIVE ? v->size_bytes : 0;
	mutex_unlock(&v->pool->lock);
	return sysfs_emit(page, "%llu\n", s);
}

static ssize_t sp_vol_size_store(struct config_item *item, const char *page,
				 size_t count)
{
	struct sp_volume *v = to_vol(item);
	u64 bytes;
	int r;

	r = sp_parse_size(page, &bytes);
	if (r) {
		pr_err("slicepool: volume %s: invalid size '%.32s' (bytes, or a number with K/M/G/T)\n",
		       v->name, strim((char *)page));
		return r;
	}
	mutex_lock(&v->pool->lock);
	r = sp_volume_resize(v, bytes);
	mutex_unlock(&v->pool->lock);
	return r ? r : count;
}

static ssize_t sp_vol_image_show(struct config_item *item, char *page)
{
	struct sp_volume *v = to_vol(item);
	bool image;

	mutex_lock(&v->pool->lock);
	image = sp_md3_vol_image(v);
	mutex_unlock(&v->pool->lock);
	return sysfs_emit(page, "%d\n", image);
}

/*
 * 1 makes a live volume of a format-3 pool an image, for good (md3's
 * MD3_VOL_IMAGE): refused while a read-write table of it is loaded or it
 * is migrating.  1 again is a no-op, 0 is refused once it is an image.
 */
static ssize_t sp_vol_image_store(struct config_item *item, const char *page,
				  size_t count)
{
	struct sp_volume *v = to_vol(item);
	struct sp_pool *pool = v->pool;
	bool on;
	int r;

	r = kstrtobool(page, &on);
	if (r) {
		pr_err("slicepool: volume %s: invalid image value '%.32s' (1 makes it an image)\n",
		       v->name, strim((char *)page));
		return -EINVAL;
	}
	mutex_lock(&pool->lock);
	if (sp_md3_vol_image(v)) {
		r = on ? 0 : -EINVAL;
		if (r)
			sp_err("%s: volume %s: image 0 refused: an image stays one (delete it instead)",
			       pool->name, v->name);
	} else if (!on) {
		r = 0;
	} else if (v->state != SP_VOL_LIVE || !v->md3_id) {
		sp_err("%s: volume %s: image refused: the volume has no size yet",
		       pool->name, v->name);
		r = -ENODEV;
	} else if (rcu_access_pointer(v->mig)) {
		sp_err("%s: volume %s: image refused: it is migrating; wait for it or abort it first",
		       pool->name, v->name);
		r = -EBUSY;
	} else if (sp_target_rw_tables(v)) {
		sp_err("%s: volume %s: image refused: %u read-write table(s) of it are loaded; reload them read-only first",
		       pool->name, v->name, sp_target_rw_tables(v));
		r = -EBUSY;
	} else {
		r = sp_md3_vol_make_image(v);
	}
	mutex_unlock(&pool->lock);
	return r ? r : count;
}

/* ---- An image's clones (Documentation/dm-slicepool-images.rst) ---- */

static ssize_t sp_vol_clones_show(struct config_item *item, char *page)
{
	struct sp_volume *v = to_vol(item);
	u64 n;

	mutex_lock(&v->pool->lock);
	n = sp_md3_vol_clones(v);
	mutex_unlock(&v->pool->lock);
	return sysfs_emit(page, "%llu\n", n);
}

static void sp_vol_clone_emit(void *arg, const char *name, u32 thin_id,
			      u64 sectors)
{
	sp_emit(arg, "%s %u %llu\n", name, thin_id, sectors);
}

/* A binary attribute: an image may have more clones than a page holds. */
static ssize_t sp_vol_clone_list_read(struct config_item *item, void *buf,
				      size_t size)
{
	struct sp_volume *v = to_vol(item);
	struct sp_out o = { .buf = buf, .size = size };

	mutex_lock(&v->pool->lock);
	sp_md3_for_each_clone(v, sp_vol_clone_emit, &o);
	mutex_unlock(&v->pool->lock);
	if (!o.pos && !buf)
		return 0;
	return sp_out_done(&o);
}

/*
 * Parse "<name>" (@args false) or "<name> <thin_id> <sectors>" from @page:
 * the name a valid item name, the id a number up to MD3_THIN_ID_MAX, the
 * length a positive number of sectors.
 */
static int sp_clone_parse(struct sp_volume *v, const char *page, bool args,
			  char *name, u32 *thin_id, u64 *sectors)
{
	char buf[96], *p, *tok[4];
	int n = 0;

	strscpy(buf, page, sizeof(buf));
	p = strim(buf);
	while (n < 4 && (tok[n] = strsep(&p, " \t")))
		if (*tok[n])
			n++;
	if (!n || !sp_valid_name(tok[0], "_.-")) {
		pr_err("slicepool: volume %s: invalid clone name '%.40s' (1..32 of [A-Za-z0-9_.-])\n",
		       v->name, n ? tok[0] : "");
		return -EINVAL;
	}
	strscpy(name, tok[0], SP_NAME_MAX + 1);
	if (n != (args ? 3 : 1)) {
		pr_err("slicepool: volume %s: '%.60s': %s expected\n", v->name,
		       strim((char *)page),
		       args ? "'<name> <thin id> <sectors>'" : "a clone name");
		return -EINVAL;
	}
	if (!args)
		return 0;
	if (kstrtou32(tok[1], 0, thin_id) || *thin_id > MD3_THIN_ID_MAX) {
		pr_err("slicepool: volume %s: clone %s: invalid thin id '%.32s' (0..%u)\n",
		       v->name, name, tok[1], MD3_THIN_ID_MAX);
		return -EINVAL;
	}
	if (kstrtou64(tok[2], 0, sectors) || !*sectors) {
		pr_err("slicepool: volume %s: clone %s: invalid length '%.32s' (sectors, not 0)\n",
		       v->name, name, tok[2]);
		return -EINVAL;
	}
	return 0;
}

/*
 * "<name> <thin_id> <sectors>" records clone <name> (dm-thin device
 * <thin_id>, <sectors> long) of this image in the pool's metadata: one md3
 * transaction.  Refused for a volume that is not an image (EINVAL), a name
 * or thin id taken (EEXIST).
 */
static ssize_t sp_vol_clone_add_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct sp_volume *v = to_vol(item);
	char name[SP_NAME_MAX + 1];
	u64 sectors;
	u32 thin_id;
	int r;

	r = sp_clone_parse(v, page, true, name, &thin_id, &sectors);
	if (r)
		return r;
	mutex_lock(&v->pool->lock);
	if (!sp_md3_vol_image(v)) {
		sp_err("%s: volume %s: clone %s refused: the volume is not an image (write 1 to its image attribute first)",
		       v->pool->name, v->name, name);
		r = -EINVAL;
	} else {
		r = sp_md3_clone_add(v, name, thin_id, sectors);
	}
	mutex_unlock(&v->pool->lock);
	return r ? r : count;
}

/* A write of "<name>" that @op takes for clone <name> (pool->lock held). */
static ssize_t sp_vol_clone_name_store(struct config_item *item,
				       const char *page, size_t count,
				       int (*op)(struct sp_volume *v,
						 const char *name))
{
	struct sp_volume *v = to_vol(item);
	char name[SP_NAME_MAX + 1];
	int r;

	r = sp_clone_parse(v, page, false, name, NULL, NULL);
	if (r)
		return r;
	mutex_lock(&v->pool->lock);
	r = op(v, name);
	mutex_unlock(&v->pool->lock);
	return r ? r : count;
}

/* "<name>" ends the record of clone <name> of this image. */
static ssize_t sp_vol_clone_remove_store(struct config_item *item,
					 const char *page, size_t count)
{
	return sp_vol_clone_name_store(item, page, count,
				       sp_md3_clone_remove);
}

/*
 * "<name>" makes clone <name> of another image a clone of this image: one
 * md3 transaction.  Refused for a volume that is not an image (EINVAL),
 * an unknown clone (ENOENT), a clone of this image (EINVAL).
 */
static ssize_t sp_vol_clone_move_store(struct config_item *item,
				       const char *page, size_t count)
{
	return sp_vol_clone_name_store(item, page, count, sp_md3_clone_move);
}

static ssize_t sp_vol_uuid_show(struct config_item *item, char *page)
{
	struct sp_volume *v = to_vol(item);
	ssize_t len;

	/* A re-create after a delete changes it (pool->lock). */
	mutex_lock(&v->pool->lock);
	len = sysfs_emit(page, "%pUb\n", v->uuid);
	mutex_unlock(&v->pool->lock);
	return len;
}

static ssize_t sp_vol_map_read(struct config_item *item, void *buf,
			       size_t size)
{
	struct sp_volume *v = to_vol(item);
	struct sp_out o = { .buf = buf, .size = size };
	struct sp_vmap *map;
	u64 i;

	mutex_lock(&v->pool->lock);
	map = rcu_dereference_protected(v->map,
					lockdep_is_held(&v->pool->lock));
	for (i = 0; map && i < map->nr; i++) {
		struct sp_member *m = map->e[i].m;

		if (m)
			sp_emit(&o, "%llu %s %llu\n", i,
				config_item_name(&m->item),
				div64_u64(map->e[i].start - m->data_offset,
					  sp_slice_sectors(v->pool)));
		else
			sp_emit(&o, "%llu - -\n", i);
	}
	mutex_unlock(&v->pool->lock);
	if (!o.pos && !buf)
		return 0;
	return sp_out_done(&o);
}

CONFIGFS_ATTR(sp_vol_, size);
CONFIGFS_ATTR(sp_vol_, image);
CONFIGFS_ATTR_RO(sp_vol_, clones);
CONFIGFS_ATTR_WO(sp_vol_, clone_add);
CONFIGFS_ATTR_WO(sp_vol_, clone_remove);
CONFIGFS_ATTR_WO(sp_vol_, clone_move);
CONFIGFS_ATTR_RO(sp_vol_, uuid);
CONFIGFS_ATTR(sp_vol_, hot_refs);		/* sp-hot.c */
CONFIGFS_ATTR(sp_vol_, hot_read_latency_us);
CONFIGFS_ATTR(sp_vol_, hot_mode);
CONFIGFS_ATTR_RO(sp_vol_, hot);
CONFIGFS_BIN_ATTR_RO(sp_vol_, map, NULL, SP_MAP_MAX_SIZE);
CONFIGFS_BIN_ATTR_RO(sp_vol_, clone_list, NULL, SP_MAP_MAX_SIZE);

static struct configfs_attribute *sp_vol_attrs[] = {
	&sp_vol_attr_size,
	&sp_vol_attr_image,
	&sp_vol_attr_clones,
	&sp_vol_attr_clone_add,
	&sp_vol_attr_clone_remove,
	&sp_vol_attr_clone_move,
	&sp_vol_attr_uuid,
	&sp_vol_attr_hot_refs,
	&sp_vol_attr_hot_read_latency_us,
	&sp_vol_attr_hot_mode,
	&sp_vol_attr_hot,
	NULL,
};

static struct configfs_bin_attribute *sp_vol_bin_attrs[] = {
	&sp_vol_attr_map,
	&sp_vol_attr_clone_list,
	NULL,
};

static void sp_vol_release(struct config_item *item)
{
	struct sp_vol_item *vi = container_of(item, struct sp_vol_item, item);

	if (vi->vol)
		sp_volume_put(vi->vol);
	kfree(vi);
}

static struct configfs_item_operations sp_vol_item_ops = {
	.release = sp_vol_release,
};

static const struct config_item_type sp_vol_type = {
	.ct_item_ops = &sp_vol_item_ops,
	.ct_attrs = sp_vol_attrs,
	.ct_bin_attrs = sp_vol_bin_attrs,
	.ct_owner = THIS_MODULE,
};

static struct sp_pool *volumes_to_pool(struct config_group *group)
{
	return container_of(group, struct sp_pool, volumes_group);
}

static struct config_item *sp_volumes_make(struct config_group *group,
					   const char *name)
{
	struct sp_pool *pool = volumes_to_pool(group);
	struct sp_vol_item *vi;
	struct sp_volume *v;
	int r;

	if (!sp_valid_item_name(name, "volume"))
		return ERR_PTR(-EINVAL);
	vi = kzalloc(sizeof(*vi), GFP_KERNEL);
	if (!vi)
		return ERR_PTR(-ENOMEM);
	config_item_init_type_name(&vi->item, name, &sp_vol_type);
	mutex_lock(&pool->lock);
	v = sp_volume_find_name(pool, name);
	if (v && v->vitem)
		v = NULL;	/* cannot happen: configfs names are unique */
	if (!v)
		v = sp_volume_new(pool, name, NULL);
	r = v ? sp_md3_vol_bindable(v) : -ENOMEM;
	if (r) {
		mutex_unlock(&pool->lock);
		config_item_put(&vi->item);
		return ERR_PTR(r);
	}
	kref_get(&v->kref);
	vi->vol = v;
	v->vitem = vi;
	mutex_unlock(&pool->lock);
	return &vi->item;
}

static void sp_volumes_drop(struct config_group *group,
			    struct config_item *item)
{
	struct sp_volume *v = to_vol(item);
	struct sp_pool *pool = v->pool;
	bool forget;

	/* Unbind only: the volume stays on disk and in "discovered". */
	mutex_lock(&pool->lock);
	v->vitem = NULL;
	forget = v->state != SP_VOL_LIVE;
	if (forget) {
		/* Never committed or deleted: nothing to rediscover. */
		list_del(&v->list);
	}
	mutex_unlock(&pool->lock);
	if (forget)
		sp_volume_put(v);
	config_item_put(item);
}

static struct configfs_group_operations sp_volumes_group_ops = {
	.make_item = sp_volumes_make,
	.drop_item = sp_volumes_drop,
};

const struct config_item_type sp_volumes_type = {
	.ct_group_ops = &sp_volumes_group_ops,
	.ct_owner = THIS_MODULE,
};
