// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - assemble: re-create pools, members and volumes from the
 * metadata on the members
 *
 * 1. Scan: every block device of /proc/partitions (or the devices given)
 *    that is not held by another device and is not itself a slicepool
 *    volume is read from offset 0 with O_DIRECT. Devices without the
 *    superblock magic are ignored; metadata failing its checksum, version,
 *    block number or layout checks is refused and reported. When one
 *    member UUID is found on several devices (a stacked device showing
 *    its lower device's superblock), the newest superblock generation
 *    wins and the others are reported as duplicates.
 * 2. Group the members by pool UUID and work out from the volume and
 *    owner records which volumes exist and which of their slices are on
 *    the members found: slices that are not are reported as missing.
 * 3. For each pool: mkdir the pool, set slice_mb, create and enable every
 *    member with its recorded name, domain and device, write reclaim
 *    (skipped while slices are missing), read "discovered", mkdir each
 *    volume found there and create the dm device of every volume of the
 *    pool that has none. Objects that already exist are left as they are,
 *    so assemble can be run again, e.g. after a missing member returns.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md3dev.h"

#define SPT_VOL_STATE_LIVE	1

struct asm_refused {
	char device[256];
	char reason[640];
};

struct asm_member {
	struct spt_disk_member *d;
	const char *result;	/* enabled, present, planned, failed */
};

struct asm_vol {
	struct spt_disk_vol rec;	/* winning record; first (vol_by_uuid) */
	u64 found;
	u64 missing;
	u64 twice;		/* logical slices claimed twice by one attempt */
	struct spt_fmt2_slice *map;	/* spt_fmt2_map(): the claims kept */
	u64 *missing_list;	/* up to MISSING_LIST entries */
	size_t nr_missing_list;
	s64 kernel_missing;	/* from the map after binding, -1 unknown */
	char dm_name[2 * SPT_NAME_MAX + 2];
	const char *result;	/* bound, present, planned, failed */
};

static_assert(offsetof(struct asm_vol, rec) == 0, "asm_vol starts with rec");

#define MISSING_LIST 64

struct asm_pool {
	char uuid[SPT_UUID_STR_LEN];
	char name[SPT_NAME_MAX + 1];
	u64 slice_sectors;
	u64 best_gen;
	struct asm_member *members;
	size_t nr_members;
	struct asm_vol *vols;
	size_t nr_vols;
	u64 orphans;
	const char *reclaim;	/* done, skipped, planned, failed */
	s64 reclaimed;		/* slices the module freed, -1 unknown */
	bool degraded;
	char **errors;
	size_t nr_errors;
};

struct asm_state {
	bool dry_run;
	struct spt_disk_member *found;
	size_t nr_found;
	struct asm_refused *refused;
	size_t nr_refused;
	struct asm_refused *dups;
	size_t nr_dups;
	struct asm_pool *pools;
	size_t nr_pools;
};

static void __printf(2, 3) pool_err(struct asm_pool *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	spt_err("pool %s: %s", p->name, buf);
	p->errors = spt_realloc_array(p->errors, p->nr_errors + 1,
				      sizeof(*p->errors));
	p->errors[p->nr_errors++] = spt_strdup(buf);
}

static void add_refused(struct asm_refused **v, size_t *n, const char *dev,
			const char *reason)
{
	*v = spt_realloc_array(*v, *n + 1, sizeof(**v));
	snprintf((*v)[*n].device, sizeof((*v)[0].device), "%s", dev);
	snprintf((*v)[*n].reason, sizeof((*v)[0].reason), "%s", reason);
	(*n)++;
}

/* ---- scanning ---- */

static bool sysfs_dir_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (!d)
		return true;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			empty = false;
	closedir(d);
	return empty;
}

/*
 * Decides whether /proc/partitions entry @name is a candidate and gives
 * the path to open.
 */
static bool candidate(const char *name, unsigned long long kib, char *path,
		      size_t len)
{
	char sys[PATH_MAX], buf[256];
	struct stat st;

	if (kib < 1024)		/* below 1 MiB: cannot hold a member */
		return false;
	snprintf(sys, sizeof(sys), "/sys/class/block/%s/holders", name);
	if (!sysfs_dir_empty(sys))
		return false;
	snprintf(sys, sizeof(sys), "/sys/class/block/%s/dm/uuid", name);
	if (!spu_read_line(sys, buf, sizeof(buf)) &&
	    !strncmp(buf, SPT_DM_UUID_PREFIX, strlen(SPT_DM_UUID_PREFIX)))
		return false;
	snprintf(sys, sizeof(sys), "/sys/class/block/%s/dm/name", name);
	if (!spu_read_line(sys, buf, sizeof(buf)) && buf[0]) {
		snprintf(path, len, "/dev/mapper/%s", buf);
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			return true;
	}
	snprintf(path, len, "/dev/%s", name);
	return true;
}

static void scan_one(struct asm_state *s, const char *path, bool explicit)
{
	struct spt_disk_member m;
	char why[640];
	int ret;

	ret = spt_md_read_dev(path, &m, why, sizeof(why));
	if (!ret) {
		s->found = spt_realloc_array(s->found, s->nr_found + 1,
					     sizeof(*s->found));
		s->found[s->nr_found++] = m;
		return;
	}
	if (ret == -ENODATA) {
		if (explicit)
			add_refused(&s->refused, &s->nr_refused, path,
				    "no slicepool superblock (not a member)");
		return;
	}
	if (ret == -EINVAL) {
		add_refused(&s->refused, &s->nr_refused, path, why);
		return;
	}
	if (explicit || ret == -EIO) {
		snprintf(why, sizeof(why), "cannot read: %s", strerror(-ret));
		add_refused(&s->refused, &s->nr_refused, path, why);
	}
}

static int scan_partitions(struct asm_state *s)
{
	unsigned long long kib;
	char line[256], name[128], path[PATH_MAX];
	unsigned int major, minor;
	FILE *f;

	f = fopen("/proc/partitions", "re");
	if (!f) {
		spt_err("cannot read /proc/partitions: %s (name the devices to scan on the command line)",
			strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %llu %127s", &major, &minor, &kib,
			   name) != 4)
			continue;
		if (candidate(name, kib, path, sizeof(path)))
			scan_one(s, path, false);
	}
	fclose(f);
	return 0;
}

/* Keeps one device per member UUID: the newest superblock generation. */
static void drop_duplicates(struct asm_state *s)
{
	size_t i, j, k = 0;
	char why[640];

	for (i = 0; i < s->nr_found; i++) {
		struct spt_disk_member *a = &s->found[i];
		bool keep = true;

		for (j = 0; j < s->nr_found && keep; j++) {
			struct spt_disk_member *b = &s->found[j];

			if (i == j || strcmp(a->sb.member_uuid, b->sb.member_uuid))
				continue;
			if (b->sb.generation > a->sb.generation ||
			    (b->sb.generation == a->sb.generation && j < i)) {
				keep = false;
				snprintf(why, sizeof(why),
					 "duplicate of member %s (%s) found on %s, which is used",
					 a->sb.member_name, a->sb.member_uuid,
					 b->device);
				add_refused(&s->dups, &s->nr_dups, a->device,
					    why);
			}
		}
		if (keep)
			s->found[k++] = *a;
		else
			spt_disk_member_free(a);
	}
	s->nr_found = k;
}

/* ---- grouping and analysis ---- */

static int cmp_member(const void *a, const void *b)
{
	const struct asm_member *x = a, *y = b;

	return strcmp(x->d->sb.member_name, y->d->sb.member_name);
}

static struct asm_pool *pool_for(struct asm_state *s,
				 struct spt_disk_member *m)
{
	struct asm_pool *p;
	size_t i;

	for (i = 0; i < s->nr_pools; i++)
		if (!strcmp(s->pools[i].uuid, m->sb.pool_uuid))
			return &s->pools[i];
	s->pools = spt_realloc_array(s->pools, s->nr_pools + 1,
				     sizeof(*s->pools));
	p = &s->pools[s->nr_pools++];
	memset(p, 0, sizeof(*p));
	snprintf(p->uuid, sizeof(p->uuid), "%s", m->sb.pool_uuid);
	snprintf(p->name, sizeof(p->name), "%s", m->sb.pool_name);
	p->reclaimed = -1;
	p->slice_sectors = m->sb.slice_sectors;
	p->best_gen = m->sb.generation;
	return p;
}

static void group(struct asm_state *s)
{
	struct asm_pool *p;
	size_t i, j;

	for (i = 0; i < s->nr_found; i++) {
		struct spt_disk_member *m = &s->found[i];
		bool clash = false;

		p = pool_for(s, m);
		if (m->sb.slice_sectors != p->slice_sectors) {
			char why[640];

			snprintf(why, sizeof(why),
				 "slice size %llu sectors differs from the %llu of pool %s's other members",
				 (unsigned long long)m->sb.slice_sectors,
				 (unsigned long long)p->slice_sectors,
				 p->uuid);
			add_refused(&s->refused, &s->nr_refused, m->device,
				    why);
			continue;
		}
		for (j = 0; j < p->nr_members; j++)
			if (!strcmp(p->members[j].d->sb.member_name,
				    m->sb.member_name))
				clash = true;
		if (clash) {
			char why[640];

			snprintf(why, sizeof(why),
				 "member name %s is used twice in pool %s (another member UUID)",
				 m->sb.member_name, p->uuid);
			add_refused(&s->refused, &s->nr_refused, m->device,
				    why);
			continue;
		}
		/* The newest superblock names the pool. */
		if (m->sb.generation > p->best_gen) {
			p->best_gen = m->sb.generation;
			snprintf(p->name, sizeof(p->name), "%s",
				 m->sb.pool_name);
		}
		p->members = spt_realloc_array(p->members, p->nr_members + 1,
					       sizeof(*p->members));
		p->members[p->nr_members].d = m;
		p->members[p->nr_members++].result = NULL;
	}
	for (i = 0; i < s->nr_pools; i++)
		qsort(s->pools[i].members, s->pools[i].nr_members,
		      sizeof(struct asm_member), cmp_member);
}

static struct asm_vol *vol_by_uuid(struct asm_pool *p, const char *uuid)
{
	size_t i = spt_fmt2_vol_index(p->vols, p->nr_vols, sizeof(*p->vols),
				      uuid);

	return i < p->nr_vols ? &p->vols[i] : NULL;
}

/*
 * The newest record of each volume (highest generation, then highest
 * started) wins; deleted volumes are dropped.  The map of a live volume
 * and the orphans follow the kernel's rules, those of fmt2.c: of the
 * claims of a logical slice found on the members the highest attempt id
 * wins, the first of a tie kept (attempt ids are unique, so a tie means
 * corruption: "double_owned"); a slice with no claim is missing; every
 * other owner record, the losing claims included, is an orphan that
 * reclaim frees.
 */
static void analyse(struct asm_pool *p)
{
	const struct spt_disk_member **ms;
	struct asm_vol *v;
	size_t i, j, k;
	u64 l;

	for (i = 0; i < p->nr_members; i++) {
		struct spt_disk_member *m = p->members[i].d;

		for (j = 0; j < m->nr_vols; j++) {
			k = p->nr_vols;
			p->vols = spt_fmt2_vol_merge(p->vols, &p->nr_vols,
						     sizeof(*p->vols),
						     &m->vols[j]);
			if (p->nr_vols > k)
				p->vols[k].kernel_missing = -1;
		}
	}
	/* Drop deleted volumes. */
	for (i = 0, k = 0; i < p->nr_vols; i++)
		if (p->vols[i].rec.state == SPT_VOL_STATE_LIVE)
			p->vols[k++] = p->vols[i];
	p->nr_vols = k;

	ms = spt_zalloc((p->nr_members + 1) * sizeof(*ms));
	for (j = 0; j < p->nr_members; j++)
		ms[j] = p->members[j].d;
	for (i = 0; i < p->nr_vols; i++) {
		v = &p->vols[i];
		spt_dm_name(p->name, v->rec.name, v->dm_name,
			    sizeof(v->dm_name));
		v->map = spt_fmt2_map(&v->rec, ms, p->nr_members, &v->missing,
				      &v->twice);
		v->found = v->rec.nr_slices - v->missing;
		v->missing_list = spt_zalloc(MISSING_LIST * sizeof(u64));
		for (l = 0;
		     l < v->rec.nr_slices && v->nr_missing_list < MISSING_LIST;
		     l++)
			if (v->map[l].member < 0)
				v->missing_list[v->nr_missing_list++] = l;
		if (v->missing)
			p->degraded = true;
	}
	free(ms);
	for (j = 0; j < p->nr_members; j++) {
		struct spt_disk_member *m = p->members[j].d;

		for (k = 0; k < m->nr_owners; k++) {
			struct spt_disk_owner *o = &m->owners[k];

			v = vol_by_uuid(p, o->vol_uuid);
			if (spt_fmt2_is_orphan(v ? &v->rec : NULL,
					       v ? v->map : NULL, j, o))
				p->orphans++;
		}
	}
}

/* ---- execution ---- */

static bool pool_uuid_matches(struct asm_pool *p, bool *has_members)
{
	char **names;
	char *uuid = NULL;
	size_t n = 0;
	bool same;

	*has_members = false;
	if (!cfs_list(&names, &n, "%s/members", p->name)) {
		*has_members = n > 0;
		cfs_free_list(names, n);
	}
	if (cfs_read(&uuid, "%s/uuid", p->name))
		return false;
	spt_strip(uuid);
	same = !strcasecmp(uuid, p->uuid);
	free(uuid);
	return same;
}

static void say(const struct asm_state *s, const char *fmt, ...)
	__printf(2, 3);

static void say(const struct asm_state *s, const char *fmt, ...)
{
	va_list ap;

	if (spt_json)
		return;
	fputs(s->dry_run ? "  would " : "  ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int setup_pool(struct asm_state *s, struct asm_pool *p)
{
	bool has_members = false;
	char val[32];
	int ret;

	if (cfs_exists("%s", p->name)) {
		if (!pool_uuid_matches(p, &has_members) && has_members) {
			pool_err(p, "a different pool named '%s' is already configured; not assembling pool %s (remove the other pool or rename)",
				 p->name, p->uuid);
			return -EEXIST;
		}
		return 0;
	}
	say(s, "create pool %s (slice size %llu MiB)", p->name,
	    (unsigned long long)(p->slice_sectors / 2048));
	if (s->dry_run)
		return 0;
	ret = cfs_mkdir("%s", p->name);
	if (ret) {
		pool_err(p, "cannot create the pool: %s%s", strerror(-ret),
			 spt_errno_hint(-ret));
		return ret;
	}
	snprintf(val, sizeof(val), "%llu",
		 (unsigned long long)(p->slice_sectors / 2048));
	ret = cfs_write(val, "%s/slice_mb", p->name);
	if (ret) {
		pool_err(p, "the module refused slice_mb %s: %s", val,
			 strerror(-ret));
		cfs_rmdir("%s", p->name);
		return ret;
	}
	return 0;
}

static void setup_member(struct asm_state *s, struct asm_pool *p,
			 struct asm_member *am)
{
	const struct spu_fmt2_sb *sb = &am->d->sb;
	const char *dev = am->d->device;
	bool created = false;
	s64 en = 0;
	int ret;

	if (cfs_exists("%s/members/%s", p->name, sb->member_name)) {
		if (!cfs_read_s64(&en, "%s/members/%s/enable", p->name,
				  sb->member_name) && en == 1) {
			am->result = "present";
			return;
		}
	}
	say(s, "add member %s (%s, domain %s) and enable it", sb->member_name,
	    dev, sb->domain);
	if (s->dry_run) {
		am->result = "planned";
		return;
	}
	if (!cfs_exists("%s/members/%s", p->name, sb->member_name)) {
		ret = cfs_mkdir("%s/members/%s", p->name, sb->member_name);
		if (ret)
			goto fail;
		created = true;
	}
	ret = cfs_write(dev, "%s/members/%s/path", p->name, sb->member_name);
	if (!ret)
		ret = cfs_write(sb->domain, "%s/members/%s/domain", p->name,
				sb->member_name);
	if (!ret)
		ret = cfs_write("1", "%s/members/%s/enable", p->name,
				sb->member_name);
	if (!ret) {
		am->result = "enabled";
		return;
	}
fail:
	pool_err(p, "cannot add member %s (%s): %s%s", sb->member_name, dev,
		 strerror(-ret),
		 ret == -EBUSY ? " (the device is held by something else)" :
		 " (see dmesg)");
	am->result = "failed";
	if (created)
		cfs_rmdir("%s/members/%s", p->name, sb->member_name);
}

static int bind_discovered(struct asm_state *s, struct asm_pool *p)
{
	char *text, *line, *save = NULL;
	char name[64], uuid[64];
	unsigned long long size;
	int ret;

	ret = cfs_read(&text, "%s/discovered", p->name);
	if (ret) {
		pool_err(p, "cannot read discovered volumes: %s",
			 strerror(-ret));
		return ret;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %63s %llu", name, uuid, &size) != 3 ||
		    !spu_valid_name(name)) {
			pool_err(p, "unexpected line in discovered: '%s'",
				 line);
			continue;
		}
		say(s, "bind volume %s (%llu bytes)", name, size);
		ret = cfs_mkdir("%s/volumes/%s", p->name, name);
		if (ret)
			pool_err(p, "cannot bind volume %s: %s%s", name,
				 strerror(-ret), spt_errno_hint(-ret));
	}
	free(text);
	return 0;
}

static void count_kernel_missing(struct asm_pool *p, const char *vol,
				 s64 *missing)
{
	struct spt_map_entry *map;
	size_t n;

	*missing = -1;
	if (!spt_vol_map_read(p->name, vol, &map, &n)) {
		*missing = spt_map_missing(map, n);
		free(map);
	}
}

/* Whether a live table predates the return of some of its slices. */
static bool table_stale(struct asm_pool *p, const char *vol,
			const struct spu_dm_info *info)
{
	struct spt_map_entry *map;
	struct spt_dm_status st;
	bool stale = false;
	size_t n;

	if (!info->live_table || strcmp(info->target, SPT_TARGET_NAME) ||
	    spt_dm_status_parse(info->status, &st))
		return false;
	if (spt_vol_map_read(p->name, vol, &map, &n))
		return false;
	stale = spt_table_stale(&st, map, n);
	free(map);
	return stale;
}

/* After a dm @what (create, reload) of volume @v: @done, or failed. */
static void dm_result(struct asm_pool *p, struct asm_vol *v, int ret,
		      const char *what, const char *dm_name, const char *done)
{
	if (ret) {
		pool_err(p, "cannot %s dm device %s: %s", what, dm_name,
			 spu_dm_last_error());
		if (v)
			v->result = "failed";
	} else if (v) {
		v->result = done;
	}
}

static void start_volumes(struct asm_state *s, struct asm_pool *p)
{
	char dm_name[2 * SPT_NAME_MAX + 2];
	struct spu_dm_info info;
	char **names, *uuid;
	size_t i, j, n;
	s64 size, missing;
	struct asm_vol *v;
	int ret;

	if (cfs_list(&names, &n, "%s/volumes", p->name))
		return;
	for (i = 0; i < n; i++) {
		v = NULL;
		for (j = 0; j < p->nr_vols; j++)
			if (!strcmp(p->vols[j].rec.name, names[i]))
				v = &p->vols[j];
		count_kernel_missing(p, names[i], &missing);
		if (v)
			v->kernel_missing = missing;
		if (missing > 0)
			p->degraded = true;
		spt_dm_name(p->name, names[i], dm_name, sizeof(dm_name));
		if (spu_dm_info(dm_name, &info)) {
			pool_err(p, "cannot talk to device-mapper: %s (modprobe dm-mod)",
				 spu_dm_last_error());
			break;
		}
		if (info.exists) {
			if (v)
				v->result = "present";
			if (table_stale(p, names[i], &info)) {
				say(s, "reload dm device %s (slices came back)",
				    dm_name);
				ret = spt_dm_reload_resume(dm_name, info.length,
							   p->name, names[i]);
				dm_result(p, v, ret, "reload", dm_name,
					  "reloaded");
			}
			continue;
		}
		if (cfs_read_s64(&size, "%s/volumes/%s/size", p->name,
				 names[i]) || size <= 0) {
			pool_err(p, "volume %s: cannot read its size",
				 names[i]);
			continue;
		}
		uuid = NULL;
		if (!cfs_read(&uuid, "%s/volumes/%s/uuid", p->name, names[i]))
			spt_strip(uuid);
		say(s, "create dm device %s (%lld sectors)", dm_name,
		    (long long)size / 512);
		ret = spt_dm_create(dm_name, uuid, (u64)size / 512, p->name,
				    names[i]);
		free(uuid);
		dm_result(p, v, ret, "create", dm_name, "started");
	}
	cfs_free_list(names, n);
}

static void assemble_pool(struct asm_state *s, struct asm_pool *p)
{
	bool all = true;
	size_t i;
	int ret;

	if (!s->dry_run && cfs_check_root()) {
		pool_err(p, "configfs is not available");
		return;
	}
	if (setup_pool(s, p))
		return;
	for (i = 0; i < p->nr_members; i++) {
		setup_member(s, p, &p->members[i]);
		if (!strcmp(p->members[i].result, "failed"))
			all = false;
	}
	if (p->degraded || !all) {
		p->reclaim = "skipped";
		if (p->orphans)
			spt_warn("pool %s: orphaned slices are not reclaimed while members or slices are missing; run 'slicepool assemble' again once they are back",
				 p->name);
	} else if (s->dry_run) {
		p->reclaim = "planned";
		say(s, "reclaim orphaned slices (%llu found)",
		    (unsigned long long)p->orphans);
	} else {
		ret = cfs_write("1", "%s/reclaim", p->name);
		if (ret) {
			pool_err(p, "reclaim failed: %s%s", strerror(-ret),
				 spt_errno_hint(-ret));
			p->reclaim = "failed";
		} else {
			p->reclaim = "done";
			if (cfs_read_s64(&p->reclaimed, "%s/reclaimed",
					 p->name))
				p->reclaimed = -1;
		}
	}
	if (s->dry_run) {
		for (i = 0; i < p->nr_vols; i++) {
			struct asm_vol *v = &p->vols[i];

			if (cfs_exists("%s/volumes/%s", p->name, v->rec.name)) {
				v->result = "present";
				continue;
			}
			say(s, "bind volume %s and create dm device %s",
			    v->rec.name, v->dm_name);
			v->result = "planned";
		}
		return;
	}
	bind_discovered(s, p);
	for (i = 0; i < p->nr_vols; i++)
		if (!cfs_exists("%s/volumes/%s", p->name, p->vols[i].rec.name))
			p->vols[i].result = "failed";
	start_volumes(s, p);
}

/* ---- output ---- */

static void print_missing_text(const struct asm_pool *p)
{
	size_t i, j;

	for (i = 0; i < p->nr_vols; i++) {
		const struct asm_vol *v = &p->vols[i];

		if (!v->missing && v->kernel_missing <= 0)
			continue;
		printf("  MISSING: volume %s: %llu of %llu slices", v->rec.name,
		       (unsigned long long)v->missing,
		       (unsigned long long)v->rec.nr_slices);
		printf(" are not on any member found (logical");
		for (j = 0; j < v->nr_missing_list; j++)
			printf(" %llu", (unsigned long long)v->missing_list[j]);
		printf("%s); I/O to them fails until their member returns\n",
		       v->missing > v->nr_missing_list ? " ..." : "");
	}
}

/* "<what> <device>: <reason>" lines. */
static void print_refused(const char *what, const struct asm_refused *r,
			  size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s %s: %s\n", what, r[i].device, r[i].reason);
}

static void print_text(const struct asm_state *s)
{
	static const char *const mhdr[] = {
		"MEMBER", "DOMAIN", "DEVICE", "MEMBER_UUID", "SLICES", "RESULT"
	};
	static const char *const vhdr[] = {
		"VOLUME", "SIZE", "SLICES", "FOUND", "MISSING", "DM DEVICE",
		"RESULT"
	};
	char a[32], b[32], c[32], d[32];
	struct spt_table *t;
	size_t i, j;

	for (i = 0; i < s->nr_pools; i++) {
		const struct asm_pool *p = &s->pools[i];

		printf("\npool %s (uuid %s, slice size %llu MiB): %zu member(s) found\n",
		       p->name, p->uuid,
		       (unsigned long long)(p->slice_sectors / 2048),
		       p->nr_members);
		t = tbl_new(ARRAY_SIZE(mhdr), mhdr);
		for (j = 0; j < p->nr_members; j++) {
			const struct asm_member *m = &p->members[j];

			snprintf(a, sizeof(a), "%llu",
				 (unsigned long long)m->d->sb.nr_slices);
			tbl_add(t, m->d->sb.member_name, m->d->sb.domain,
				m->d->device, m->d->sb.member_uuid, a,
				m->result ? m->result : "-");
		}
		tbl_print(t, stdout, "  ");
		tbl_free(t);
		if (p->nr_vols) {
			t = tbl_new(ARRAY_SIZE(vhdr), vhdr);
			for (j = 0; j < p->nr_vols; j++) {
				const struct asm_vol *v = &p->vols[j];

				spu_format_size(v->rec.size, false, a, sizeof(a));
				snprintf(b, sizeof(b), "%llu",
					 (unsigned long long)v->rec.nr_slices);
				snprintf(c, sizeof(c), "%llu",
					 (unsigned long long)v->found);
				snprintf(d, sizeof(d), "%llu",
					 (unsigned long long)v->missing);
				tbl_add(t, v->rec.name, a, b, c, d, v->dm_name,
					v->result ? v->result : "-");
			}
			tbl_print(t, stdout, "  ");
			tbl_free(t);
		} else {
			printf("  (no volumes)\n");
		}
		print_missing_text(p);
		for (j = 0; j < p->nr_vols; j++)
			if (p->vols[j].twice)
				printf("  WARNING: volume %s: %llu logical slice(s) %s\n",
				       p->vols[j].rec.name,
				       (unsigned long long)p->vols[j].twice,
				       "claimed by two physical slices");
		printf("  orphaned slices found: %llu, reclaim: %s",
		       (unsigned long long)p->orphans,
		       p->reclaim ? p->reclaim : "-");
		if (p->reclaimed >= 0)
			printf(" (%lld slices freed)", (long long)p->reclaimed);
		putchar('\n');
		if (p->nr_errors)
			printf("  %zu error(s), see above\n", p->nr_errors);
	}
	print_refused("refused", s->refused, s->nr_refused);
	print_refused("ignored", s->dups, s->nr_dups);
}

/* The devices refused or ignored, with why. */
static void json_refused(const char *key, const struct asm_refused *r,
			 size_t n)
{
	size_t i;

	js_open_arr(key);
	for (i = 0; i < n; i++) {
		js_open_obj(NULL);
		js_str("device", r[i].device);
		js_str("reason", r[i].reason);
		js_close();
	}
	js_close();
}

static void print_json(const struct asm_state *s)
{
	size_t i, j, k;

	js_open_obj(NULL);
	js_bool("dry_run", s->dry_run);
	js_open_arr("pools");
	for (i = 0; i < s->nr_pools; i++) {
		const struct asm_pool *p = &s->pools[i];

		js_open_obj(NULL);
		js_str("name", p->name);
		js_str("uuid", p->uuid);
		js_u64("slice_mb", p->slice_sectors / 2048);
		js_bool("degraded", p->degraded);
		js_u64("orphaned_slices", p->orphans);
		js_str("reclaim", p->reclaim);
		js_s64("reclaimed_slices", p->reclaimed);
		js_open_arr("members");
		for (j = 0; j < p->nr_members; j++) {
			const struct spt_disk_member *d = p->members[j].d;

			js_open_obj(NULL);
			spt_fmt2_member_json(d);
			js_u64("used_slices", d->nr_owners);
			js_str("result", p->members[j].result);
			js_close();
		}
		js_close();
		js_open_arr("volumes");
		for (j = 0; j < p->nr_vols; j++) {
			const struct asm_vol *v = &p->vols[j];

			js_open_obj(NULL);
			spt_fmt2_vol_json(&v->rec);
			js_u64("found_slices", v->found);
			js_u64("missing_slices", v->missing);
			js_open_arr("missing");
			for (k = 0; k < v->nr_missing_list; k++)
				js_u64(NULL, v->missing_list[k]);
			js_close();
			js_u64("double_owned", v->twice);
			js_s64("kernel_missing_slices", v->kernel_missing);
			js_str("dm_device", v->dm_name);
			js_str("result", v->result);
			js_close();
		}
		js_close();
		js_open_arr("errors");
		for (j = 0; j < p->nr_errors; j++)
			js_str(NULL, p->errors[j]);
		js_close();
		js_close();
	}
	js_close();
	json_refused("refused", s->refused, s->nr_refused);
	json_refused("duplicates", s->dups, s->nr_dups);
	js_end();
}

static void free_state(struct asm_state *s)
{
	size_t i, j;

	for (i = 0; i < s->nr_pools; i++) {
		struct asm_pool *p = &s->pools[i];

		for (j = 0; j < p->nr_vols; j++) {
			free(p->vols[j].missing_list);
			free(p->vols[j].map);
		}
		for (j = 0; j < p->nr_errors; j++)
			free(p->errors[j]);
		free(p->errors);
		free(p->vols);
		free(p->members);
	}
	for (i = 0; i < s->nr_found; i++)
		spt_disk_member_free(&s->found[i]);
	free(s->found);
	free(s->pools);
	free(s->refused);
	free(s->dups);
}

int cmd_assemble(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct asm_state s = { 0 };
	bool degraded = false, failed = false;
	size_t i;
	int c;

	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1)
		s.dry_run = true;

	if (optind < argc) {
		for (i = (size_t)optind; i < (size_t)argc; i++)
			scan_one(&s, argv[i], true);
	} else if (scan_partitions(&s)) {
		return SPT_EXIT_FAIL;
	}
	drop_duplicates(&s);
	group(&s);
	for (i = 0; i < s.nr_pools; i++)
		analyse(&s.pools[i]);

	if (!spt_json)
		printf("%sfound %zu member(s) of %zu pool(s)%s\n",
		       s.dry_run ? "dry run: " : "", s.nr_found, s.nr_pools,
		       s.nr_refused ? ", some devices refused (see below)" :
		       "");
	for (i = 0; i < s.nr_pools; i++) {
		if (!spt_json)
			printf("pool %s:\n", s.pools[i].name);
		assemble_pool(&s, &s.pools[i]);
	}
	if (spt_json)
		print_json(&s);
	else
		print_text(&s);

	for (i = 0; spt_json && i < s.nr_refused; i++)
		spt_warn("%s refused: %s", s.refused[i].device,
			 s.refused[i].reason);
	for (i = 0; i < s.nr_pools; i++) {
		if (s.pools[i].nr_errors)
			failed = true;
		if (s.pools[i].degraded)
			degraded = true;
	}
	if (s.nr_refused)
		failed = true;
	free_state(&s);
	if (failed)
		return SPT_EXIT_FAIL;
	return degraded ? SPT_EXIT_DEGRADED : SPT_EXIT_OK;
}
