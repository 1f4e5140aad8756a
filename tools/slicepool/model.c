// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - a pool as read from configfs, and slice map parsing
 *
 * Attributes that cannot be read are recorded as -1 (numbers) or NULL
 * (strings) and shown as "-" in tables and null in JSON.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

static char *read_str(const char *pool, const char *kind, const char *name,
		      const char *attr)
{
	char *s;

	if (cfs_read(&s, "%s/%s/%s/%s", pool, kind, name, attr))
		return NULL;
	spt_strip(s);
	return s;
}

static s64 read_num(const char *pool, const char *kind, const char *name,
		    const char *attr)
{
	s64 v;

	if (cfs_read_s64(&v, "%s/%s/%s/%s", pool, kind, name, attr))
		return -1;
	return v;
}

static void load_member(const char *pool, struct spt_member *m)
{
	const char *n = m->name;

	m->path = read_str(pool, "members", n, "path");
	m->domain = read_str(pool, "members", n, "domain");
	m->state = read_str(pool, "members", n, "state");
	m->load_override = read_str(pool, "members", n, "load_override");
	m->enable = read_num(pool, "members", n, "enable");
	m->size = read_num(pool, "members", n, "size");
	m->total_slices = read_num(pool, "members", n, "total_slices");
	m->free_slices = read_num(pool, "members", n, "free_slices");
	m->load = read_num(pool, "members", n, "load");
	m->drain = read_num(pool, "members", n, "drain");
}

static void load_volume(const char *pool, struct spt_volume *v)
{
	struct spt_map_entry *map = NULL;
	size_t n = 0;

	v->uuid = read_str(pool, "volumes", v->name, "uuid");
	v->size = read_num(pool, "volumes", v->name, "size");
	v->slices = -1;
	v->missing = -1;
	if (!spt_vol_map_read(pool, v->name, &map, &n)) {
		v->slices = (s64)n;
		v->missing = spt_map_missing(map, n);
	}
	spt_dm_name(pool, v->name, v->dm_name, sizeof(v->dm_name));
	v->dm_err = spu_dm_info(v->dm_name, &v->dm);
	if (!v->dm_err && v->dm.exists && v->dm.live_table &&
	    !strcmp(v->dm.target, SPT_TARGET_NAME))
		v->status_ok = !spt_dm_status_parse(v->dm.status, &v->status);
	if (v->status_ok)
		v->mig_ok = !spt_mig_status_parse(v->dm.status, &v->mig);
	if (v->status_ok && v->slices >= 0)
		v->stale = spt_table_stale(&v->status, map, n);
	free(map);
}

static void load_domains(struct spt_pool *p)
{
	char *text, *line, *save = NULL;
	struct spt_domain *d;
	char name[64];
	long long nm, total, nfree, load, work;

	if (cfs_read(&text, "%s/domains", p->name))
		return;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %lld %lld %lld %lld %lld", name, &nm,
			   &total, &nfree, &load, &work) != 6)
			continue;
		p->domains = spt_realloc_array(p->domains, p->nr_domains + 1,
					       sizeof(*p->domains));
		d = &p->domains[p->nr_domains++];
		snprintf(d->name, sizeof(d->name), "%.32s", name);
		d->members = nm;
		d->total_slices = total;
		d->free_slices = nfree;
		d->load = load;
		d->workload = work;
	}
	free(text);
}

/* Both start with their name, which list_items() fills in. */
static_assert(offsetof(struct spt_member, name) == 0 &&
	      offsetof(struct spt_volume, name) == 0 &&
	      sizeof(((struct spt_member *)0)->name) == SPT_NAME_MAX + 1 &&
	      sizeof(((struct spt_volume *)0)->name) == SPT_NAME_MAX + 1,
	      "spt_member and spt_volume start with their name");

/*
 * The entries of @pool's directory @kind (members, volumes), as a new
 * array of *@n items of @size bytes that start with their name; NULL with
 * *@err set when it cannot be listed.
 */
static void *list_items(const char *pool, const char *kind, size_t size,
			size_t *n, int *err)
{
	char **names, *items;
	size_t i;

	*err = cfs_list(&names, n, "%s/%s", pool, kind);
	if (*err) {
		*n = 0;
		return NULL;
	}
	items = spt_zalloc(*n * size);
	for (i = 0; i < *n; i++)
		snprintf(items + i * size, SPT_NAME_MAX + 1, "%s", names[i]);
	cfs_free_list(names, *n);
	return items;
}

int spt_pool_load(const char *name, struct spt_pool *p)
{
	size_t i;
	s64 v;
	int ret;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!cfs_exists("%s", name))
		return -ENOENT;
	if (!cfs_read(&p->uuid, "%s/uuid", name))
		spt_strip(p->uuid);
	p->slice_mb = cfs_read_s64(&v, "%s/slice_mb", name) ? -1 : v;
	p->weight_space = cfs_read_s64(&v, "%s/weight_space", name) ? -1 : v;
	p->weight_load = cfs_read_s64(&v, "%s/weight_load", name) ? -1 : v;
	p->min_domains = cfs_read_s64(&v, "%s/min_domains", name) ? -1 : v;

	p->members = list_items(name, "members", sizeof(*p->members),
				&p->nr_members, &ret);
	if (!ret)
		p->volumes = list_items(name, "volumes", sizeof(*p->volumes),
					&p->nr_volumes, &ret);
	if (ret)
		return ret;
	for (i = 0; i < p->nr_members; i++)
		load_member(name, &p->members[i]);
	for (i = 0; i < p->nr_volumes; i++)
		load_volume(name, &p->volumes[i]);
	load_domains(p);
	return 0;
}

void spt_pool_free(struct spt_pool *p)
{
	size_t i;

	for (i = 0; i < p->nr_members; i++) {
		free(p->members[i].path);
		free(p->members[i].domain);
		free(p->members[i].state);
		free(p->members[i].load_override);
	}
	for (i = 0; i < p->nr_volumes; i++)
		free(p->volumes[i].uuid);
	free(p->members);
	free(p->volumes);
	free(p->domains);
	free(p->uuid);
	memset(p, 0, sizeof(*p));
}

/*
 * spt_pool_load() of a pool just changed: prints "<done>pool '<pool>'
 * cannot be read back" when it fails (@p is then freed).
 */
int spt_pool_reload(const char *pool, struct spt_pool *p, const char *done)
{
	int ret = spt_pool_load(pool, p);

	if (ret) {
		spt_err("%spool '%s' cannot be read back: %s", done, pool,
			strerror(-ret));
		spt_pool_free(p);
	}
	return ret;
}

/* Checks the configfs root and that @pool exists, with clear errors. */
int spt_pool_require(const char *pool)
{
	if (cfs_check_root())
		return -ENOENT;
	if (!cfs_exists("%s", pool)) {
		spt_err("no pool '%s' (see 'slicepool pool list'; create it with 'slicepool pool create %s')",
			pool, pool);
		return -ENOENT;
	}
	return 0;
}

/*
 * Reads and parses the map of volume @vol of @pool (spt_map_parse(); free
 * *@map).  Returns 0, the error of the read, or -EBADMSG when the map is
 * not in the documented format.
 */
int spt_vol_map_read(const char *pool, const char *vol,
		     struct spt_map_entry **map, size_t *n)
{
	char *text;
	int ret;

	ret = cfs_read(&text, "%s/volumes/%s/map", pool, vol);
	if (ret)
		return ret;
	ret = spt_map_parse(text, map, n);
	free(text);
	return ret ? -EBADMSG : 0;
}

/* How many of the @n slices of @map are missing (have no member). */
s64 spt_map_missing(const struct spt_map_entry *map, size_t n)
{
	s64 missing = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!map[i].member[0])
			missing++;
	return missing;
}

/*
 * Checks spt_pool_require() and that @pool has the @kind ("volume" or
 * "member") @name, its configfs item <pool>/<kind>s/<name>.
 */
int spt_item_require(const char *pool, const char *kind, const char *name)
{
	if (spt_pool_require(pool))
		return -ENOENT;
	if (!cfs_exists("%s/%ss/%s", pool, kind, name)) {
		spt_err("no %s '%s/%s' (see 'slicepool status %s')", kind, pool,
			name, pool);
		return -ENOENT;
	}
	return 0;
}

/*
 * The domain of @p whose workload times @sign is the highest, equal
 * workloads going to the first label in strcmp() order. NULL when no
 * domain is listed.
 */
static struct spt_domain *extreme_domain(struct spt_pool *p, int sign)
{
	struct spt_domain *best = NULL, *d;
	size_t i;

	for (i = 0; i < p->nr_domains; i++) {
		d = &p->domains[i];
		if (!best || sign * d->workload > sign * best->workload ||
		    (d->workload == best->workload &&
		     strcmp(d->name, best->name) < 0))
			best = d;
	}
	return best;
}

/* The heaviest domain of @p: the highest workload, then the first label. */
struct spt_domain *spt_heaviest_domain(struct spt_pool *p)
{
	return extreme_domain(p, 1);
}

/* The lightest domain: the lowest workload, then the first label. */
struct spt_domain *spt_lightest_domain(struct spt_pool *p)
{
	return extreme_domain(p, -1);
}

/* The domain label of member @member of @p, or NULL. */
const char *spt_member_domain(const struct spt_pool *p, const char *member)
{
	size_t i;

	for (i = 0; i < p->nr_members; i++)
		if (!strcmp(p->members[i].name, member))
			return p->members[i].domain;
	return NULL;
}
