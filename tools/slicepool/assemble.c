// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - assemble: re-create pools, members and volumes from the
 * metadata on the members
 *
 * 1. Scan: every block device of /proc/partitions (or the devices given)
 *    that is not held by another device and is not itself a slicepool
 *    volume is read from offset 0 with O_DIRECT (spt_md_probe()).
 *    Devices without slicepool metadata are ignored.  A device holding
 *    metadata format 2, which the module no longer supports, is refused
 *    with the way to convert its pool ('slicepool upgrade'), as is one
 *    whose format-2 metadata fails its checks.  When one member UUID is
 *    found on several devices (a stacked device showing its lower
 *    device's metadata), the newest journal head wins and the others are
 *    reported as duplicates.
 * 2. Group the members by pool UUID (assemble_md3.c) and assemble each
 *    pool's devices with md3_assemble() in nowrite mode, the winner rule
 *    the module runs: its members and volumes, and the current members
 *    absent, which leave the pool read-only.  A pool found only on
 *    devices of members removed from it is not assembled (the devices
 *    are skipped).
 * 3. For each pool: mkdir the pool and set slice_mb (and prefer, with
 *    --prefer), create and enable every member with its recorded name,
 *    domain and device, force the pool read-write when --force (or the
 *    branch --prefer chooses) asks for it, read "discovered", mkdir each
 *    volume found there and create the dm device of every volume of the
 *    pool that has none. A read-only pool publishes no volume: nothing
 *    is bound, and the absent members are named. Objects that already
 *    exist are left as they are, so assemble can be run again, e.g.
 *    after a missing member returns.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assemble.h"

void asm_pool_err(struct asm_pool *p, const char *fmt, ...)
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

void asm_add_refused(struct asm_refused **v, size_t *n, const char *dev,
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
	struct spt_md_probe *x = spt_zalloc(sizeof(*x));
	char why[640];

	spt_md_probe(x, path);
	switch (x->kind) {
	case SPT_MD_FMT2:
		snprintf(why, sizeof(why),
			 "member %.64s of pool %.64s (uuid %s) holds metadata format 2, which the module no longer supports: convert the pool offline with 'slicepool upgrade' (every member of it at once), then assemble it",
			 x->m.sb.member_name, x->m.sb.pool_name,
			 x->m.sb.pool_uuid);
		asm_add_refused(&s->refused, &s->nr_refused, path, why);
		/* Kept: a v3 pool of the same uuid is an interrupted upgrade. */
		s->found = spt_realloc_array(s->found, s->nr_found + 1,
					     sizeof(*s->found));
		s->found[s->nr_found++] = x->m;
		memset(&x->m, 0, sizeof(x->m));
		break;
	case SPT_MD_V3:
		s->v3 = spt_realloc_array(s->v3, s->nr_v3 + 1, sizeof(*s->v3));
		s->v3[s->nr_v3++] = x;
		return;		/* open until the end (md3_assemble()) */
	case SPT_MD_NONE:
		if (explicit)
			asm_add_refused(&s->refused, &s->nr_refused, path,
					x->why);
		break;
	default:
		if (x->err == -EINVAL) {
			asm_add_refused(&s->refused, &s->nr_refused, path,
					x->why);
		} else if (explicit || x->err == -EIO) {
			snprintf(why, sizeof(why), "cannot read: %s",
				 strerror(-x->err));
			asm_add_refused(&s->refused, &s->nr_refused, path, why);
		}
	}
	spt_md_probe_close(x);
	free(x);
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

/* ---- grouping ---- */

struct asm_pool *asm_pool_get(struct asm_state *s, const char *uuid)
{
	struct asm_pool *p;
	size_t i;

	for (i = 0; i < s->nr_pools; i++)
		if (!strcasecmp(s->pools[i].uuid, uuid))
			return &s->pools[i];
	s->pools = spt_realloc_array(s->pools, s->nr_pools + 1,
				     sizeof(*s->pools));
	p = &s->pools[s->nr_pools++];
	memset(p, 0, sizeof(*p));
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	snprintf(p->name, sizeof(p->name), "%s", uuid);
	return p;
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

static void say(struct asm_state *s, const char *fmt, ...)
	__printf(2, 3);

/* One step taken (or, in a dry run, planned): counted, and printed. */
static void say(struct asm_state *s, const char *fmt, ...)
{
	va_list ap;

	s->actions++;
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
			asm_pool_err(p, "a different pool named '%s' is already configured; not assembling pool %s (remove the other pool or rename)",
				     p->name, p->uuid);
			return -EEXIST;
		}
		return 0;
	}
	say(s, "create pool %s (metadata format 3, slice size %llu MiB)",
	    p->name, (unsigned long long)(p->slice_sectors / 2048));
	if (s->dry_run)
		return 0;
	ret = cfs_mkdir("%s", p->name);
	if (ret) {
		asm_pool_err(p, "cannot create the pool: %s%s", strerror(-ret),
			     spt_errno_hint(-ret));
		return ret;
	}
	snprintf(val, sizeof(val), "%llu",
		 (unsigned long long)(p->slice_sectors / 2048));
	ret = cfs_write(val, "%s/slice_mb", p->name);
	if (ret) {
		asm_pool_err(p, "the module refused slice_mb %s: %s", val,
			     strerror(-ret));
		cfs_rmdir("%s", p->name);
		return ret;
	}
	return 0;
}

static void setup_member(struct asm_state *s, struct asm_pool *p,
			 struct asm_member *am)
{
	const char *name = am->name, *dev = am->device;
	bool created = false;
	s64 en = 0;
	int ret;

	if (cfs_exists("%s/members/%s", p->name, name)) {
		if (!cfs_read_s64(&en, "%s/members/%s/enable", p->name,
				  name) && en == 1) {
			am->result = "present";
			return;
		}
	}
	say(s, "add member %s (%s, domain %s) and enable it", name, dev,
	    am->domain);
	if (s->dry_run) {
		am->result = "planned";
		return;
	}
	if (!cfs_exists("%s/members/%s", p->name, name)) {
		ret = cfs_mkdir("%s/members/%s", p->name, name);
		if (ret)
			goto fail;
		created = true;
	}
	ret = cfs_write(dev, "%s/members/%s/path", p->name, name);
	if (!ret)
		ret = cfs_write(am->domain, "%s/members/%s/domain", p->name,
				name);
	if (!ret)
		ret = cfs_write("1", "%s/members/%s/enable", p->name, name);
	if (!ret) {
		am->result = "enabled";
		return;
	}
fail:
	asm_pool_err(p, "cannot add member %s (%s): %s%s", name, dev,
		     strerror(-ret),
		     ret == -EBUSY ? " (the device is held by something else)" :
		     " (see dmesg)");
	am->result = "failed";
	if (created)
		cfs_rmdir("%s/members/%s", p->name, name);
}

static int bind_discovered(struct asm_state *s, struct asm_pool *p)
{
	char *text, *line, *save = NULL;
	char name[64], uuid[64];
	unsigned long long size;
	int ret;

	ret = cfs_read(&text, "%s/discovered", p->name);
	if (ret) {
		asm_pool_err(p, "cannot read discovered volumes: %s",
			     strerror(-ret));
		return ret;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %63s %llu", name, uuid, &size) != 3 ||
		    !spu_valid_name(name)) {
			asm_pool_err(p, "unexpected line in discovered: '%s'",
				     line);
			continue;
		}
		say(s, "bind volume %s (%llu bytes)", name, size);
		ret = cfs_mkdir("%s/volumes/%s", p->name, name);
		if (ret)
			asm_pool_err(p, "cannot bind volume %s: %s%s", name,
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
		asm_pool_err(p, "cannot %s dm device %s: %s", what, dm_name,
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
			asm_pool_err(p, "cannot talk to device-mapper: %s (modprobe dm-mod)",
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
			asm_pool_err(p, "volume %s: cannot read its size",
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

/*
 * --prefer: the pool's prefer attribute names the member whose branch
 * wins, so that the module never takes another branch of the fork (a
 * device of it enabled later is refused).
 */
static int set_prefer(struct asm_state *s, struct asm_pool *p)
{
	char val[16], *cur = NULL;
	bool same = false;
	int ret;

	snprintf(val, sizeof(val), "%u", s->prefer_member);
	if (cfs_exists("%s", p->name) && !cfs_read(&cur, "%s/prefer", p->name)) {
		spt_strip(cur);
		same = !strcmp(cur, val);
		free(cur);
	}
	if (same)
		return 0;
	say(s, "set prefer %s: the branch of member %s wins at the fork", val,
	    val);
	if (s->dry_run)
		return 0;
	ret = cfs_write(val, "%s/prefer", p->name);
	if (ret)
		asm_pool_err(p, "the module refused prefer %s: %s%s", val,
			     strerror(-ret), ret == -ENOENT ?
			     " (the module has no prefer attribute: update it)" :
			     " (see dmesg)");
	return ret;
}

/*
 * --force (current members absent) or --prefer (current members on a
 * branch it does not choose): the pool's force attribute, once the
 * members are enabled, marks them stale for good and the pool is
 * read-write.
 */
static void force_pool(struct asm_state *s, struct asm_pool *p)
{
	size_t i;
	int ret;

	say(s, "force pool %s read-write: %s", p->name,
	    "the current members not enabled are marked stale for good");
	if (s->dry_run)
		return;
	ret = cfs_write("1", "%s/force", p->name);
	if (ret && ret != -EBUSY) {	/* EBUSY: read-write already */
		asm_pool_err(p, "the module refused to force the pool read-write: %s (see dmesg)",
			     strerror(-ret));
		p->readonly = true;
		p->degraded = true;
		return;
	}
	for (i = 0; i < p->nr_members; i++)
		if (p->members[i].result &&
		    !strcmp(p->members[i].result, "absent"))
			p->members[i].result = "forced";
}

/*
 * Enables the members to enable: the current ones first, then the stale
 * ones (the module rejoins a stale member only when its device is
 * enabled in a read-write pool).  A current member that fails leaves the
 * pool read-only.
 */
static void setup_members(struct asm_state *s, struct asm_pool *p)
{
	size_t i;
	int pass;

	for (pass = ASM_PASS_CURRENT; pass <= ASM_PASS_STALE; pass++) {
		for (i = 0; i < p->nr_members; i++) {
			struct asm_member *am = &p->members[i];

			if (am->pass != pass)
				continue;
			setup_member(s, p, am);
			/* the module keeps the pool read-only */
			if (!strcmp(am->result, "failed") &&
			    pass == ASM_PASS_CURRENT)
				p->readonly = true;
		}
	}
}

static void assemble_pool(struct asm_state *s, struct asm_pool *p)
{
	size_t i;

	if (p->nr_errors)	/* the analysis refused the pool */
		return;
	if (!s->dry_run && cfs_check_root()) {
		asm_pool_err(p, "configfs is not available");
		return;
	}
	if (setup_pool(s, p))
		return;
	if (s->prefer && set_prefer(s, p))
		return;
	setup_members(s, p);
	/* Not when a current member failed: that is no absent member. */
	if (p->force && !p->readonly)
		force_pool(s, p);
	if (p->readonly) {
		/* A read-only pool publishes no volume. */
		for (i = 0; i < p->nr_vols; i++)
			p->vols[i].result = "read-only";
		return;
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
	spt_image_assemble(p, false);
}

static void free_pool(struct asm_pool *p)
{
	size_t j;

	for (j = 0; j < p->nr_vols; j++)
		free(p->vols[j].missing_list);
	for (j = 0; j < p->nr_errors; j++)
		free(p->errors[j]);
	free(p->errors);
	free(p->vols);
	free(p->members);
	asm_md3_free(p);
}

/*
 * Drops the format-3 pools found only on removed members' devices: they
 * are not part of the pool (their devices are reported as skipped).
 * Returns the number of devices of the pools dropped.
 */
static size_t drop_removed_only(struct asm_state *s)
{
	size_t i, k = 0, devs = 0;

	for (i = 0; i < s->nr_pools; i++) {
		if (s->pools[i].removed_only) {
			devs += s->pools[i].nr_devs;
			free_pool(&s->pools[i]);
		} else {
			s->pools[k++] = s->pools[i];
		}
	}
	s->nr_pools = k;
	return devs;
}

static void free_state(struct asm_state *s)
{
	size_t i;

	for (i = 0; i < s->nr_pools; i++)
		free_pool(&s->pools[i]);
	for (i = 0; i < s->nr_found; i++)
		spt_disk_member_free(&s->found[i]);
	free(s->found);
	for (i = 0; i < s->nr_v3; i++) {
		spt_md_probe_close(s->v3[i]);
		free(s->v3[i]);
	}
	free(s->v3);
	free(s->pools);
	free(s->refused);
	free(s->dups);
	free(s->removed);
	free(s->diverged);
}

int cmd_assemble(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "prefer", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct asm_state s = { 0 };
	bool degraded = false, failed = false;
	size_t i, skipped;
	int c;

	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case 'n':
			s.dry_run = true;
			break;
		case 'f':
			s.force = true;
			break;
		case 'p':
			if (s.prefer)
				spt_usage_fail(cmd, "--prefer given twice");
			s.prefer = true;
			s.prefer_member = (u32)spt_opt_ulong(cmd, "--prefer",
							     optarg, 0,
							     MD3_NO_MEMBER - 1);
			break;
		}
	}

	if (optind < argc) {
		for (i = (size_t)optind; i < (size_t)argc; i++)
			scan_one(&s, argv[i], true);
	} else if (scan_partitions(&s)) {
		return SPT_EXIT_FAIL;
	}
	asm_md3_group(&s);
	for (i = 0; i < s.nr_pools; i++)
		asm_md3_analyse(&s, &s.pools[i]);
	skipped = drop_removed_only(&s);

	if (!spt_json)
		printf("%sfound %zu member(s) of %zu pool(s)%s\n",
		       s.dry_run ? "dry run: " : "",
		       s.nr_v3 - skipped,
		       s.nr_pools,
		       s.nr_refused ? ", some devices refused (see below)" :
		       "");
	for (i = 0; i < s.nr_pools; i++) {
		size_t before = s.actions;

		if (!spt_json)
			printf("pool %s:\n", s.pools[i].name);
		assemble_pool(&s, &s.pools[i]);
		s.pools[i].actions = s.actions - before;
	}
	if (spt_json)
		asm_print_json(&s);
	else
		asm_print_text(&s);

	for (i = 0; spt_json && i < s.nr_refused; i++)
		spt_warn("%s refused: %s", s.refused[i].device,
			 s.refused[i].reason);
	for (i = 0; spt_json && i < s.nr_pools; i++)
		if (s.pools[i].readonly)
			spt_warn("pool %s is read-only: a current member is absent (absent_members); bring it back and run 'slicepool assemble' again, or force the pool: 'slicepool pool force %s' or 'slicepool assemble --force'",
				 s.pools[i].name, s.pools[i].name);
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
