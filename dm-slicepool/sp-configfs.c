// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the configfs tree /sys/kernel/config/slicepool/: the
 * root, each <pool> item and its attributes, and the helpers every
 * level shares (names, numbers, binary attribute text; sp-configfs.h).
 * <pool>/members/<name> is in sp-configfs-member.c and
 * <pool>/volumes/<name> in sp-configfs-vol.c.
 *
 * Every attribute is described in Documentation/dm-slicepool.rst
 * ("configfs").  An enabled member is pinned with
 * configfs_depend_item_unlocked() so that rmdir fails with EBUSY; a
 * volume used by a dm table is pinned by the target's constructor.
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

bool sp_valid_name(const char *name, const char *extra)
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
bool sp_valid_item_name(const char *name, const char *what)
{
	if (sp_valid_name(name, "_.-"))
		return true;
	pr_err("slicepool: invalid %s name '%.40s' (1..32 of [A-Za-z0-9_.-])\n",
	       what, name);
	return false;
}

int sp_parse_u32(const char *page, u32 min, u32 max, u32 *out,
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

void sp_emit(struct sp_out *o, const char *fmt, ...)
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
ssize_t sp_out_done(struct sp_out *o)
{
	if (!o->buf)
		return o->pos ? o->pos : 1;
	if (o->pos < o->size)
		memset(o->buf + o->pos, '\n', o->size - o->pos);
	return o->size;
}

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
