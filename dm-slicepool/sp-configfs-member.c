// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: configfs <pool>/members/<name>: a member's attributes
 * (path, domain, enable, sizes, revalidate_size, remove, online, load,
 * load_override, drain, state) and the members group's mkdir and rmdir.
 * Every attribute is described in Documentation/dm-slicepool.rst.
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
#include "sp-pool.h"

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
int sp_cfs_trigger(struct config_item *item, const char *attr,
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
 * destinations skip it) until "0"; kept in the pool metadata, so a
 * reassembly keeps it (sp_md3_member_drain()).  Only on an enabled member.
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
		r = sp_md3_member_drain(m, on);
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

const struct config_item_type sp_members_type = {
	.ct_group_ops = &sp_members_group_ops,
	.ct_owner = THIS_MODULE,
};
