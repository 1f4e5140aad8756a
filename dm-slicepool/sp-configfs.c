// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the configfs tree /sys/kernel/config/slicepool/.
 *
 *   <pool>/{slice_mb,weight_space,weight_load,min_domains,uuid,discovered,
 *           domains,reclaim,reclaimed,metadata_format}
 *   <pool>/members/<name>/{path,domain,enable,size,total_slices,
 *           free_slices,max_slices,data_offset,revalidate_size,remove,
 *           load,load_override,state}
 *   <pool>/volumes/<name>/{size,image,uuid,map}
 *
 * Every attribute is described in Documentation/dm-slicepool.rst.  An
 * enabled member is pinned with configfs_depend_item_unlocked() so that
 * rmdir fails with EBUSY; a volume used by a dm table is pinned by the
 * target's constructor.
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

#define SP_MAP_MAX_SIZE		(64U << 20)

static bool sp_valid_name(const char *name, const char *extra)
{
	size_t len = strlen(name);
	const char *c;

	if (!len || len > SP_NAME_MAX)
		return false;
	for (c = name; *c; c++)
		if (!isalnum(*c) && !strchr(extra, *c))
			return false;
	return true;
}

/* A pool, member or volume (@what) name; a refusal is logged. */
static bool sp_valid_item_name(const char *name, const char *what)
{
	if (sp_valid_name(name, "_.-"))
		return true;
	pr_err("slicepool: invalid %s name '%.40s' (1..32 of [A-Za-z0-9_.-])\n",
	       what, name);
	return false;
}

static int sp_parse_u32(const char *page, u32 min, u32 max, u32 *out,
			const char *what)
{
	u32 v;
	int r;

	r = kstrtou32(page, 0, &v);
	if (r) {
		pr_err("slicepool: %s: not a number: '%.32s'\n", what,
		       strim((char *)page));
		return -EINVAL;
	}
	if (v < min || v > max) {
		pr_err("slicepool: %s: %u is out of range %u..%u\n", what, v,
		       min, max);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

/* Accumulates text for a binary attribute (first call with buf == NULL). */
struct sp_out {
	char *buf;
	size_t size;
	size_t pos;
};

static __printf(2, 3) void sp_emit(struct sp_out *o, const char *fmt, ...)
{
	char line[160];	/* every line we emit is shorter */
	va_list args;
	int n;

	va_start(args, fmt);
	n = vscnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (o->buf && o->pos < o->size)
		memcpy(o->buf + o->pos, line, min_t(size_t, n, o->size - o->pos));
	o->pos += n;
}

/* Pad a second-call buffer (the text may have shrunk in between). */
static ssize_t sp_out_done(struct sp_out *o)
{
	if (!o->buf)
		return o->pos ? o->pos : 1;
	if (o->pos < o->size)
		memset(o->buf + o->pos, '\n', o->size - o->pos);
	return o->size;
}

/* ---- Members ---------------------------------------------------------- */

static struct sp_member *to_member(struct config_item *item)
{
	return container_of(item, struct sp_member, item);
}

static ssize_t sp_member_path_show(struct config_item *item, char *page)
{
	struct sp_member *m = to_member(item);
	ssize_t r;

	mutex_lock(&m->pool->lock);
	r = sysfs_emit(page, "%s\n", m->path ? m->path : "");
	mutex_unlock(&m->pool->lock);
	return r;
}

static ssize_t sp_member_path_store(struct config_item *item,
				    const char *page, size_t count)
{
	struct sp_member *m = to_member(item);
	char *path;
	int r = 0;

	path = kstrndup(page, PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	strim(path);
	if (path[0] != '/') {
		pr_err("slicepool: %s: path '%.64s' is not absolute\n",
		       config_item_name(item), path);
		kfree(path);
		return -EINVAL;
	}
	mutex_lock(&m->pool->lock);
	if (m->enabled) {
		pr_err("slicepool: %s: path cannot change while enabled\n",
		       config_item_name(item));
		r = -EBUSY;
	} else {
		swap(m->path, path);
	}
	mutex_unlock(&m->pool->lock);
	kfree(path);
	return r ? r : count;
}

static ssize_t sp_member_domain_show(struct config_item *item, char *page)
{
	struct sp_member *m = to_member(item);
	ssize_t r;

	mutex_lock(&m->pool->lock);
	r = sysfs_emit(page, "%s\n", m->domain);
	mutex_unlock(&m->pool->lock);
	return r;
}

static ssize_t sp_member_domain_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct sp_member *m = to_member(item);
	char buf[SP_NAME_MAX + 2];
	int r = 0;

	strscpy(buf, page, sizeof(buf));
	strim(buf);
	if (!sp_valid_name(buf, ":._-")) {
		pr_err("slicepool: %s: invalid domain label '%.40s' (1..32 of [A-Za-z0-9:._-])\n",
		       config_item_name(item), buf);
		return -EINVAL;
	}
	mutex_lock(&m->pool->lock);
	if (m->enabled) {
		pr_err("slicepool: %s: domain cannot change while enabled\n",
		       config_item_name(item));
		r = -EBUSY;
	} else {
		strscpy(m->domain, buf, sizeof(m->domain));
	}
	mutex_unlock(&m->pool->lock);
	return r ? r : count;
}

static ssize_t sp_member_enable_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_member(item)->enabled));
}

static ssize_t sp_member_enable_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct sp_member *m = to_member(item);
	u32 on;
	int r;

	r = sp_parse_u32(page, 0, 1, &on, "enable");
	if (r)
		return r;
	if (on) {
		/* Pin the item first: rmdir of an enabled member is EBUSY. */
		r = configfs_depend_item_unlocked(&sp_subsys, item);
		if (r)
			return r;
		mutex_lock(&m->pool->lock);
		if (m->enabled) {
			mutex_unlock(&m->pool->lock);
			configfs_undepend_item(item);
			return count;
		}
		r = sp_member_enable(m);
		mutex_unlock(&m->pool->lock);
		if (r)
			configfs_undepend_item(item);
	} else {
		bool was;

		mutex_lock(&m->pool->lock);
		was = m->enabled;
		r = sp_member_disable(m);
		mutex_unlock(&m->pool->lock);
		if (!r && was)
			configfs_undepend_item(item);
	}
	return r ? r : count;
}

/*
 * The show function of a u64 attribute @name of member m: @expr, read
 * under pool->lock, while the member is enabled; 0 while it is disabled.
 */
#define SP_MEMBER_U64_SHOW(name, expr)					\
static ssize_t sp_member_##name##_show(struct config_item *item,	\
				       char *page)			\
{									\
	struct sp_member *m = to_member(item);				\
	u64 v;								\
									\
	mutex_lock(&m->pool->lock);					\
	v = m->enabled ? (expr) : 0;					\
	mutex_unlock(&m->pool->lock);					\
	return sysfs_emit(page, "%llu\n", v);				\
}

SP_MEMBER_U64_SHOW(size, bdev_nr_bytes(m->bdev.bdev))
SP_MEMBER_U64_SHOW(total_slices, m->nr_slices)
SP_MEMBER_U64_SHOW(free_slices, m->nr_free)
/* The most slices the member can hold (sp_member_max_slices()). */
SP_MEMBER_U64_SHOW(max_slices, sp_member_max_slices(m))
SP_MEMBER_U64_SHOW(data_offset, (u64)m->data_offset << SECTOR_SHIFT)

/*
 * A trigger attribute takes "1" only: 0, or -EINVAL with a dmesg line
 * that names the value as written, up to its first newline.
 */
static int sp_cfs_trigger(struct config_item *item, const char *attr,
			  const char *page)
{
	char val[33];

	if (sysfs_streq(page, "1"))
		return 0;
	strscpy(val, page, sizeof(val));
	val[strcspn(val, "\n")] = '\0';
	pr_err("slicepool: %s: %s: invalid value '%s' (only 1 is accepted)\n",
	       config_item_name(item), attr, val);
	return -EINVAL;
}

/* "1": take the new whole slices of a grown device (sp-pool.c). */
static ssize_t sp_member_revalidate_size_store(struct config_item *item,
					       const char *page, size_t count)
{
	int r = sp_cfs_trigger(item, "revalidate_size", page);

	if (r)
		return r;
	r = sp_member_revalidate_size(to_member(item));
	return r ? r : count;
}

/* "1": remove the member from a format-3 pool's state (sp-member.c). */
static ssize_t sp_member_remove_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct sp_member *m = to_member(item);
	bool was;
	int r = sp_cfs_trigger(item, "remove", page);

	if (r)
		return r;
	mutex_lock(&m->pool->lock);
	was = m->enabled;
	r = sp_member_remove(m);
	mutex_unlock(&m->pool->lock);
	/* Disabled now: the item is no longer pinned (as for enable 0). */
	if (was && !READ_ONCE(m->enabled))
		configfs_undepend_item(item);
	return r ? r : count;
}

/* "1": bring back a failed member whose device answers again (sp-member.c). */
static ssize_t sp_member_online_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct sp_member *m = to_member(item);
	int r = sp_cfs_trigger(item, "online", page);

	if (r)
		return r;
	mutex_lock(&m->pool->lock);
	r = sp_member_online(m, false);
	mutex_unlock(&m->pool->lock);
	return r ? r : count;
}

static ssize_t sp_member_load_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", sp_member_load(to_member(item)));
}

static ssize_t sp_member_load_override_show(struct config_item *item,
					    char *page)
{
	int o = READ_ONCE(to_member(item)->load_override);

	if (o == SP_LOAD_AUTO)
		return sysfs_emit(page, "auto\n");
	return sysfs_emit(page, "%d\n", o);
}

static ssize_t sp_member_load_override_store(struct config_item *item,
					     const char *page, size_t count)
{
	struct sp_member *m = to_member(item);
	u32 v;
	int r;

	if (sysfs_streq(page, "auto")) {
		WRITE_ONCE(m->load_override, SP_LOAD_AUTO);
		return count;
	}
	r = sp_parse_u32(page, 0, 100, &v, "load_override (auto or 0..100)");
	if (r)
		return r;
	WRITE_ONCE(m->load_override, v);
	return count;
}

static ssize_t sp_member_drain_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_member(item)->draining));
}

/*
 * "1": the member takes no new slice (allocation and migration
 * destinations skip it) until "0" or until it is enabled again.  Only on
 * an enabled member.
 */
static ssize_t sp_member_drain_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct sp_member *m = to_member(item);
	u32 on;
	int r;

	r = sp_parse_u32(page, 0, 1, &on, "drain");
	if (r)
		return r;
	mutex_lock(&m->pool->lock);
	if (!m->enabled) {
		pr_err("slicepool: %s: drain refused: the member is not enabled\n",
		       config_item_name(item));
		r = -EINVAL;
	} else {
		WRITE_ONCE(m->draining, on);
	}
	mutex_unlock(&m->pool->lock);
	return r ? r : count;
}

static ssize_t sp_member_state_show(struct config_item *item, char *page)
{
	struct sp_member *m = to_member(item);
	const char *s = "disabled";

	if (READ_ONCE(m->enabled))
		s = READ_ONCE(m->failed) ? "failed" : "online";
	return sysfs_emit(page, "%s\n", s);
}

CONFIGFS_ATTR(sp_member_, path);
CONFIGFS_ATTR(sp_member_, domain);
CONFIGFS_ATTR(sp_member_, enable);
CONFIGFS_ATTR_RO(sp_member_, size);
CONFIGFS_ATTR_RO(sp_member_, total_slices);
CONFIGFS_ATTR_RO(sp_member_, free_slices);
CONFIGFS_ATTR_RO(sp_member_, max_slices);
CONFIGFS_ATTR_RO(sp_member_, data_offset);
CONFIGFS_ATTR_WO(sp_member_, revalidate_size);
CONFIGFS_ATTR_WO(sp_member_, remove);
CONFIGFS_ATTR_WO(sp_member_, online);
CONFIGFS_ATTR_RO(sp_member_, load);
CONFIGFS_ATTR(sp_member_, load_override);
CONFIGFS_ATTR_RO(sp_member_, state);
CONFIGFS_ATTR(sp_member_, drain);

static struct configfs_attribute *sp_member_attrs[] = {
	&sp_member_attr_path,
	&sp_member_attr_domain,
	&sp_member_attr_enable,
	&sp_member_attr_size,
	&sp_member_attr_total_slices,
	&sp_member_attr_free_slices,
	&sp_member_attr_max_slices,
	&sp_member_attr_data_offset,
	&sp_member_attr_revalidate_size,
	&sp_member_attr_remove,
	&sp_member_attr_online,
	&sp_member_attr_load,
	&sp_member_attr_load_override,
	&sp_member_attr_state,
	&sp_member_attr_drain,
	NULL,
};

static void sp_member_release(struct config_item *item)
{
	struct sp_member *m = to_member(item);

	kfree(m->path);
	kfree(m);
}

static struct configfs_item_operations sp_member_item_ops = {
	.release = sp_member_release,
};

static const struct config_item_type sp_member_type = {
	.ct_item_ops = &sp_member_item_ops,
	.ct_attrs = sp_member_attrs,
	.ct_owner = THIS_MODULE,
};

static struct sp_pool *members_to_pool(struct config_group *group)
{
	return container_of(group, struct sp_pool, members_group);
}

static struct config_item *sp_members_make(struct config_group *group,
					   const char *name)
{
	struct sp_pool *pool = members_to_pool(group);
	struct sp_member *m;

	if (!sp_valid_item_name(name, "member"))
		return ERR_PTR(-EINVAL);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->pool = pool;
	m->load_override = SP_LOAD_AUTO;
	atomic64_set(&m->io_errors, 0);
	config_item_init_type_name(&m->item, name, &sp_member_type);
	mutex_lock(&pool->lock);
	list_add_tail(&m->list, &pool->members);
	mutex_unlock(&pool->lock);
	return &m->item;
}

static void sp_members_drop(struct config_group *group,
			    struct config_item *item)
{
	struct sp_member *m = to_member(item);
	struct sp_pool *pool = m->pool;

	mutex_lock(&pool->lock);
	/* An enabled member is pinned, so this is a disabled one. */
	WARN_ON(m->enabled);
	list_del(&m->list);
	mutex_unlock(&pool->lock);
	config_item_put(item);
}

static struct configfs_group_operations sp_members_group_ops = {
	.make_item = sp_members_make,
	.drop_item = sp_members_drop,
};

static const struct config_item_type sp_members_type = {
	.ct_group_ops = &sp_members_group_ops,
	.ct_owner = THIS_MODULE,
};

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

/* "<name>" ends the record of clone <name> of this image. */
static ssize_t sp_vol_clone_remove_store(struct config_item *item,
					 const char *page, size_t count)
{
	struct sp_volume *v = to_vol(item);
	char name[SP_NAME_MAX + 1];
	int r;

	r = sp_clone_parse(v, page, false, name, NULL, NULL);
	if (r)
		return r;
	mutex_lock(&v->pool->lock);
	r = sp_md3_clone_remove(v, name);
	mutex_unlock(&v->pool->lock);
	return r ? r : count;
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
CONFIGFS_ATTR_RO(sp_vol_, uuid);
CONFIGFS_BIN_ATTR_RO(sp_vol_, map, NULL, SP_MAP_MAX_SIZE);
CONFIGFS_BIN_ATTR_RO(sp_vol_, clone_list, NULL, SP_MAP_MAX_SIZE);

static struct configfs_attribute *sp_vol_attrs[] = {
	&sp_vol_attr_size,
	&sp_vol_attr_image,
	&sp_vol_attr_clones,
	&sp_vol_attr_clone_add,
	&sp_vol_attr_clone_remove,
	&sp_vol_attr_uuid,
	&sp_hot_attr_refs,		/* sp-hot.c */
	&sp_hot_attr_read_latency_us,
	&sp_hot_attr_mode,
	&sp_hot_attr_hot,
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
	if (!v) {
		mutex_unlock(&pool->lock);
		config_item_put(&vi->item);
		return ERR_PTR(-ENOMEM);
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

static const struct config_item_type sp_volumes_type = {
	.ct_group_ops = &sp_volumes_group_ops,
	.ct_owner = THIS_MODULE,
};

/* ---- Pools ------------------------------------------------------------ */

static struct sp_pool *to_pool(struct config_item *item)
{
	return container_of(to_config_group(item), struct sp_pool, group);
}

static ssize_t sp_pool_slice_mb_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_pool(item)->slice_mb));
}

static ssize_t sp_pool_slice_mb_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct sp_pool *pool = to_pool(item);
	u32 v;
	int r;

	r = sp_parse_u32(page, 1, 1U << 20, &v, "slice_mb");
	if (r)
		return r;
	mutex_lock(&pool->lock);
	if (pool->nr_enabled) {
		pr_err("slicepool: %s: slice_mb is fixed once a member is enabled\n",
		       pool->name);
		r = -EBUSY;
	} else {
		pool->slice_mb = v;
	}
	mutex_unlock(&pool->lock);
	return r ? r : count;
}

static ssize_t sp_pool_weight_store(struct config_item *item,
				    const char *page, size_t count,
				    bool space)
{
	struct sp_pool *pool = to_pool(item);
	u32 v, old;
	int r;

	r = sp_parse_u32(page, 0, 100, &v,
			 space ? "weight_space" : "weight_load");
	if (r)
		return r;
	mutex_lock(&pool->lock);
	old = space ? pool->weight_space : pool->weight_load;
	if (!v && !(space ? pool->weight_load : pool->weight_space)) {
		pr_err("slicepool: %s: weight_space and weight_load cannot both be 0\n",
		       pool->name);
		r = -EINVAL;
	} else if (space) {
		pool->weight_space = v;
	} else {
		pool->weight_load = v;
	}
	/* Format 3 persists them (one transaction), else keeps the old. */
	if (!r)
		r = sp_md3_settings(pool);
	if (r) {
		if (space)
			pool->weight_space = old;
		else
			pool->weight_load = old;
	}
	mutex_unlock(&pool->lock);
	return r ? r : count;
}

static ssize_t sp_pool_weight_space_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_pool(item)->weight_space));
}

static ssize_t sp_pool_weight_space_store(struct config_item *item,
					  const char *page, size_t count)
{
	return sp_pool_weight_store(item, page, count, true);
}

static ssize_t sp_pool_weight_load_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_pool(item)->weight_load));
}

static ssize_t sp_pool_weight_load_store(struct config_item *item,
					 const char *page, size_t count)
{
	return sp_pool_weight_store(item, page, count, false);
}

static ssize_t sp_pool_min_domains_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_pool(item)->min_domains));
}

static ssize_t sp_pool_min_domains_store(struct config_item *item,
					 const char *page, size_t count)
{
	struct sp_pool *pool = to_pool(item);
	u32 v, old;
	int r;

	r = sp_parse_u32(page, 1, SP_MAX_MEMBERS, &v, "min_domains");
	if (r)
		return r;
	mutex_lock(&pool->lock);
	old = pool->min_domains;
	pool->min_domains = v;
	/* Format 3 persists it (one transaction), else keeps the old. */
	r = sp_md3_settings(pool);
	if (r)
		pool->min_domains = old;
	mutex_unlock(&pool->lock);
	return r ? r : count;
}

static ssize_t sp_pool_online_probe_s_show(struct config_item *item,
					   char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_pool(item)->online_probe_s));
}

/* Seconds between automatic probes of a failed member (sp-probe.c). */
static ssize_t sp_pool_online_probe_s_store(struct config_item *item,
					    const char *page, size_t count)
{
	struct sp_pool *pool = to_pool(item);
	u32 v;
	int r;

	r = sp_parse_u32(page, 0, 3600, &v, "online_probe_s");
	if (r)
		return r;
	mutex_lock(&pool->lock);
	WRITE_ONCE(pool->online_probe_s, v);
	mutex_unlock(&pool->lock);
	return count;
}

static ssize_t sp_pool_uuid_show(struct config_item *item, char *page)
{
	struct sp_pool *pool = to_pool(item);
	ssize_t r;

	mutex_lock(&pool->lock);
	r = sysfs_emit(page, "%pUb\n", pool->uuid);
	mutex_unlock(&pool->lock);
	return r;
}

static ssize_t sp_pool_discovered_read(struct config_item *item, void *buf,
				       size_t size)
{
	struct sp_pool *pool = to_pool(item);
	struct sp_out o = { .buf = buf, .size = size };
	struct sp_volume *v;

	mutex_lock(&pool->lock);
	list_for_each_entry(v, &pool->volumes, list)
		if (!v->vitem && v->state == SP_VOL_LIVE)
			sp_emit(&o, "%s %pUb %llu\n", v->name, v->uuid,
				v->size_bytes);
	mutex_unlock(&pool->lock);
	if (!o.pos && !buf)
		return 0;
	return sp_out_done(&o);
}

static ssize_t sp_pool_domains_read(struct config_item *item, void *buf,
				    size_t size)
{
	struct sp_pool *pool = to_pool(item);
	struct sp_out o = { .buf = buf, .size = size };
	struct sp_place_params pp;
	struct sp_member *m, *n;

	mutex_lock(&pool->lock);
	pp.w_space = pool->weight_space;
	pp.w_load = pool->weight_load;
	pp.min_spread = 1;
	/* One line per domain, at its first enabled member in list order. */
	list_for_each_entry(m, &pool->members, list) {
		struct sp_place_cand c = { 0 };
		unsigned int nm = 0;
		bool first = true;
		u64 load = 0;

		if (!m->enabled)
			continue;
		list_for_each_entry(n, &pool->members, list) {
			if (!n->enabled || strcmp(n->domain, m->domain))
				continue;
			if (n == m)
				break;
			first = false;
			break;
		}
		if (!first)
			continue;
		list_for_each_entry(n, &pool->members, list) {
			if (!n->enabled || strcmp(n->domain, m->domain))
				continue;
			nm++;
			c.total += n->nr_slices;
			c.free += n->nr_free;
			load += sp_member_load(n);
		}
		c.load = div_u64(load, nm);
		sp_emit(&o, "%s %u %llu %llu %u %u\n", m->domain, nm, c.total,
			c.free, c.load, sp_workload(&c, &pp) / SP_W_ONE);
	}
	mutex_unlock(&pool->lock);
	if (!o.pos && !buf)
		return 0;
	return sp_out_done(&o);
}

static ssize_t sp_pool_reclaim_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct sp_pool *pool = to_pool(item);
	bool all = sysfs_streq(page, "all");
	u32 v;
	int r;

	if (!all) {
		r = sp_parse_u32(page, 1, 1, &v, "reclaim (1 or all)");
		if (r)
			return r;
	}
	/* A slice is used iff the md3 state names it: no orphans. */
	mutex_lock(&pool->lock);
	pool->reclaimed = 0;
	sp_info("%s: reclaim: nothing to reclaim in metadata format 3 (no orphan records)",
		pool->name);
	mutex_unlock(&pool->lock);
	return count;
}

/*
 * "1": force a read-only format-3 pool read-write without its absent
 * members (sp-md3pool.c, sp_md3_force()).
 */
static ssize_t sp_pool_force_store(struct config_item *item,
				   const char *page, size_t count)
{
	struct sp_pool *pool = to_pool(item);
	int r = sp_cfs_trigger(item, "force", page);

	if (r)
		return r;
	mutex_lock(&pool->lock);
	r = sp_md3_force(pool);
	mutex_unlock(&pool->lock);
	return r ? r : count;
}

static ssize_t sp_pool_prefer_show(struct config_item *item, char *page)
{
	struct sp_pool *pool = to_pool(item);
	ssize_t r;

	mutex_lock(&pool->lock);
	if (pool->prefer)
		r = sysfs_emit(page, "%u\n", pool->prefer_id);
	else
		r = sysfs_emit(page, "none\n");
	mutex_unlock(&pool->lock);
	return r;
}

/*
 * A member id (decimal, 0..4294967294): at a fork of the members'
 * journals the branch of that member wins (sp-md3pool.c,
 * sp_md3_set_prefer()); "none" clears it.
 */
static ssize_t sp_pool_prefer_store(struct config_item *item,
				    const char *page, size_t count)
{
	struct sp_pool *pool = to_pool(item);
	bool on = !sysfs_streq(page, "none");
	char val[33];
	u32 id = 0;
	int r = 0;

	/* Decimal digits only: no sign, base prefix or blank. */
	if (on && (!isdigit(page[0]) || kstrtou32(page, 10, &id) ||
		   id == U32_MAX))
		r = -EINVAL;
	if (r) {
		strscpy(val, page, sizeof(val));
		val[strcspn(val, "\n")] = '\0';
		pr_err("slicepool: %s: prefer: invalid value '%s' (a member id, 0..%u, or none)\n",
		       pool->name, val, U32_MAX - 1);
		return r;
	}
	mutex_lock(&pool->lock);
	r = sp_md3_set_prefer(pool, on, id);
	mutex_unlock(&pool->lock);
	return r ? r : count;
}

static ssize_t sp_pool_reclaimed_show(struct config_item *item, char *page)
{
	struct sp_pool *pool = to_pool(item);
	u64 v;

	mutex_lock(&pool->lock);
	v = pool->reclaimed;
	mutex_unlock(&pool->lock);
	return sysfs_emit(page, "%llu\n", v);
}

static ssize_t sp_pool_metadata_format_show(struct config_item *item,
					    char *page)
{
	return sysfs_emit(page, "3\n");
}

/*
 * "3" (an optional newline): accepted, nothing to do (every pool is
 * format 3).  "2" is refused: format 2 is no longer supported, a
 * format-2 pool is converted offline with 'slicepool upgrade'.
 */
static ssize_t sp_pool_metadata_format_store(struct config_item *item,
					     const char *page, size_t count)
{
	struct sp_pool *pool = to_pool(item);
	char val[33];

	if (sysfs_streq(page, "3"))
		return count;
	if (sysfs_streq(page, "2")) {
		pr_err("slicepool: %s: metadata_format 2 is no longer supported (only 3); convert a format-2 pool offline with 'slicepool upgrade'\n",
		       pool->name);
		return -EINVAL;
	}
	/* Named as written, up to its first newline. */
	strscpy(val, page, sizeof(val));
	val[strcspn(val, "\n")] = '\0';
	pr_err("slicepool: %s: metadata_format: invalid value '%s' (only 3)\n",
	       pool->name, val);
	return -EINVAL;
}

CONFIGFS_ATTR(sp_pool_, slice_mb);
CONFIGFS_ATTR(sp_pool_, weight_space);
CONFIGFS_ATTR(sp_pool_, weight_load);
CONFIGFS_ATTR(sp_pool_, min_domains);
CONFIGFS_ATTR(sp_pool_, online_probe_s);
CONFIGFS_ATTR_RO(sp_pool_, uuid);
CONFIGFS_ATTR_WO(sp_pool_, reclaim);
CONFIGFS_ATTR_RO(sp_pool_, reclaimed);
CONFIGFS_ATTR(sp_pool_, metadata_format);
CONFIGFS_ATTR_WO(sp_pool_, force);
CONFIGFS_ATTR(sp_pool_, prefer);
CONFIGFS_BIN_ATTR_RO(sp_pool_, discovered, NULL, SP_MAP_MAX_SIZE);
CONFIGFS_BIN_ATTR_RO(sp_pool_, domains, NULL, SP_MAP_MAX_SIZE);

static struct configfs_attribute *sp_pool_attrs[] = {
	&sp_pool_attr_slice_mb,
	&sp_pool_attr_weight_space,
	&sp_pool_attr_weight_load,
	&sp_pool_attr_min_domains,
	&sp_pool_attr_online_probe_s,
	&sp_pool_attr_uuid,
	&sp_pool_attr_reclaim,
	&sp_pool_attr_reclaimed,
	&sp_pool_attr_metadata_format,
	&sp_pool_attr_force,
	&sp_pool_attr_prefer,
	NULL,
};

static struct configfs_bin_attribute *sp_pool_bin_attrs[] = {
	&sp_pool_attr_discovered,
	&sp_pool_attr_domains,
	NULL,
};

static void sp_pool_release(struct config_item *item)
{
	struct sp_pool *pool = to_pool(item);

	sp_pool_free_volumes(pool);
	mutex_destroy(&pool->lock);
	kfree(pool);
}

static struct configfs_item_operations sp_pool_item_ops = {
	.release = sp_pool_release,
};

static const struct config_item_type sp_pool_type = {
	.ct_item_ops = &sp_pool_item_ops,
	.ct_attrs = sp_pool_attrs,
	.ct_bin_attrs = sp_pool_bin_attrs,
	.ct_owner = THIS_MODULE,
};

static struct config_group *sp_pools_make(struct config_group *group,
					  const char *name)
{
	struct sp_pool *pool;

	if (!sp_valid_item_name(name, "pool"))
		return ERR_PTR(-EINVAL);
	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->members);
	INIT_LIST_HEAD(&pool->md3_holds);
	INIT_LIST_HEAD(&pool->volumes);
	strscpy(pool->name, name, sizeof(pool->name));
	generate_random_uuid(pool->uuid);
	pool->slice_mb = 64;
	pool->weight_space = 50;
	pool->weight_load = 50;
	pool->min_domains = 2;
	pool->online_probe_s = 10;

	config_group_init_type_name(&pool->group, name, &sp_pool_type);
	config_group_init_type_name(&pool->members_group, "members",
				    &sp_members_type);
	configfs_add_default_group(&pool->members_group, &pool->group);
	config_group_init_type_name(&pool->volumes_group, "volumes",
				    &sp_volumes_type);
	configfs_add_default_group(&pool->volumes_group, &pool->group);

	mutex_lock(&sp_pools_lock);
	list_add_tail(&pool->list, &sp_pools);
	mutex_unlock(&sp_pools_lock);
	return &pool->group;
}

static void sp_pools_drop(struct config_group *group, struct config_item *item)
{
	struct sp_pool *pool = to_pool(item);

	mutex_lock(&sp_pools_lock);
	list_del(&pool->list);
	mutex_unlock(&sp_pools_lock);
	config_item_put(item);
}

static struct configfs_group_operations sp_pools_group_ops = {
	.make_group = sp_pools_make,
	.drop_item = sp_pools_drop,
};

static const struct config_item_type sp_root_type = {
	.ct_group_ops = &sp_pools_group_ops,
	.ct_owner = THIS_MODULE,
};

struct configfs_subsystem sp_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "slicepool",
			.ci_type = &sp_root_type,
		},
	},
};

int sp_configfs_init(void)
{
	config_group_init(&sp_subsys.su_group);
	mutex_init(&sp_subsys.su_mutex);
	return configfs_register_subsystem(&sp_subsys);
}

void sp_configfs_exit(void)
{
	configfs_unregister_subsystem(&sp_subsys);
}
