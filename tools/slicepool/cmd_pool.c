// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - pool and member commands
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

struct pool_param {
	const char *opt;
	const char *attr;
	unsigned long min, max;
	bool set;
	unsigned long val;
};

static const struct option pool_opts[] = {
	{ "slice-mb", required_argument, NULL, 0 },
	{ "weight-space", required_argument, NULL, 1 },
	{ "weight-load", required_argument, NULL, 2 },
	{ "min-domains", required_argument, NULL, 3 },
	{ NULL, 0, NULL, 0 }
};

/* Indexed by the option ids above; written in this order (slice first). */
static const struct pool_param pool_params[] = {
	{ "--slice-mb", "slice_mb", 1, 1UL << 20, false, 0 },
	{ "--weight-space", "weight_space", 0, 100, false, 0 },
	{ "--weight-load", "weight_load", 0, 100, false, 0 },
	{ "--min-domains", "min_domains", 1, SPT_MAX_MEMBERS, false, 0 },
};

/* Parses the options of pool create/set and returns the pool name. */
static const char *parse_pool_args(const struct spt_cmd *cmd, int argc,
				   char **argv, struct pool_param *params)
{
	int c;

	memcpy(params, pool_params, sizeof(pool_params));
	while ((c = spt_getopt(cmd, argc, argv, pool_opts)) != -1) {
		params[c].val = spt_opt_ulong(cmd, params[c].opt, optarg,
					      params[c].min, params[c].max);
		params[c].set = true;
	}
	spt_want_args(cmd, argc, argv, 1);
	spt_check_name(cmd, "pool", argv[optind]);
	return argv[optind];
}

/* Writes the parameters given; prints the error of the first refusal. */
static int write_pool_params(const char *pool, const struct pool_param *params)
{
	char val[32];
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(pool_params); i++) {
		if (!params[i].set)
			continue;
		snprintf(val, sizeof(val), "%lu", params[i].val);
		ret = cfs_write(val, "%s/%s", pool, params[i].attr);
		if (ret == -EBUSY && i == 0) {
			spt_err("pool '%s': the slice size is fixed once a member is enabled",
				pool);
			return ret;
		} else if (ret) {
			spt_err("pool '%s': the module refused %s %s: %s%s",
				pool, params[i].opt, val, strerror(-ret),
			       spt_errno_hint(-ret));
			return ret;
		}
	}
	return 0;
}

static int report_pool(const char *action, const char *pool)
{
	struct spt_pool p;

	if (spt_pool_reload(pool, &p, ""))
		return SPT_EXIT_FAIL;
	if (spt_json) {
		js_begin(action, NULL);
		spt_json_pool("pool", &p);
		js_end();
	} else {
		printf("%s pool %s (uuid %s, slice size %lld MiB, ",
		       strcmp(action, "pool create") ? "updated" : "created",
		       pool, p.uuid ? p.uuid : "-", (long long)p.slice_mb);
		printf("weight_space %lld, weight_load %lld, min_domains %lld)\n",
		       (long long)p.weight_space, (long long)p.weight_load,
		       (long long)p.min_domains);
	}
	spt_pool_free(&p);
	return SPT_EXIT_OK;
}

int cmd_pool_create(const struct spt_cmd *cmd, int argc, char **argv)
{
	struct pool_param params[ARRAY_SIZE(pool_params)];
	const char *pool;
	int ret;

	pool = parse_pool_args(cmd, argc, argv, params);
	if (cfs_check_root())
		return SPT_EXIT_FAIL;
	if (cfs_exists("%s", pool)) {
		spt_err("pool '%s' already exists (see 'slicepool status %s')",
			pool, pool);
		return SPT_EXIT_FAIL;
	}
	ret = cfs_mkdir("%s", pool);
	if (ret) {
		spt_err("cannot create pool '%s': %s%s", pool, strerror(-ret),
			spt_errno_hint(-ret));
		return SPT_EXIT_FAIL;
	}
	if (write_pool_params(pool, params)) {
		ret = cfs_rmdir("%s", pool);
		if (ret)
			spt_err("could not remove the half-created pool '%s': %s",
				pool, strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	return report_pool("pool create", pool);
}

int cmd_pool_set(const struct spt_cmd *cmd, int argc, char **argv)
{
	struct pool_param params[ARRAY_SIZE(pool_params)];
	const char *pool;
	bool any = false;
	size_t i;

	pool = parse_pool_args(cmd, argc, argv, params);
	for (i = 0; i < ARRAY_SIZE(pool_params); i++)
		any |= params[i].set;
	if (!any)
		spt_usage_fail(cmd, "nothing to set: give at least one option");
	if (spt_pool_require(pool))
		return SPT_EXIT_FAIL;
	if (write_pool_params(pool, params))
		return SPT_EXIT_FAIL;
	return report_pool("pool set", pool);
}

static s64 sum_or_unknown(s64 acc, s64 v)
{
	return acc < 0 || v < 0 ? -1 : acc + v;
}

int cmd_pool_list(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const char *const hdr[] = {
		"POOL", "UUID", "SLICE_MB", "W_SPACE", "W_LOAD",
		"MIN_DOMAINS", "MEMBERS", "VOLUMES", "SLICES", "FREE"
	};
	struct spt_table *t = NULL;
	char **names;
	size_t i, j, n;
	int ret, rc = SPT_EXIT_OK;

	spt_getopt_one(cmd, argc, argv, NULL, 0);
	spt_want_args(cmd, argc, argv, 0);
	if (cfs_check_root())
		return SPT_EXIT_FAIL;
	ret = cfs_list(&names, &n, ".");
	if (ret) {
		spt_err("cannot list %s: %s", cfs_root(), strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	if (spt_json) {
		js_open_obj(NULL);
		js_open_arr("pools");
	} else {
		t = tbl_new(ARRAY_SIZE(hdr), hdr);
	}
	for (i = 0; i < n; i++) {
		struct spt_pool p;
		s64 total = 0, nfree = 0;
		char f[8][SPT_NUM_CELL];

		ret = spt_pool_load(names[i], &p);
		if (ret) {
			spt_err("cannot read pool '%s': %s", names[i],
				strerror(-ret));
			rc = SPT_EXIT_FAIL;
			spt_pool_free(&p);
			continue;
		}
		for (j = 0; j < p.nr_members; j++) {
			total = sum_or_unknown(total, p.members[j].total_slices);
			nfree = sum_or_unknown(nfree, p.members[j].free_slices);
		}
		if (spt_json) {
			js_open_obj(NULL);
			js_str("name", p.name);
			js_str("uuid", p.uuid);
			js_s64("slice_mb", p.slice_mb);
			js_s64("weight_space", p.weight_space);
			js_s64("weight_load", p.weight_load);
			js_s64("min_domains", p.min_domains);
			js_u64("members", p.nr_members);
			js_u64("volumes", p.nr_volumes);
			js_s64("total_slices", total);
			js_s64("free_slices", nfree);
			js_close();
		} else {
			s64 nums[] = { p.slice_mb, p.weight_space, p.weight_load,
				       p.min_domains, (s64)p.nr_members,
				       (s64)p.nr_volumes, total, nfree };

			tbl_nums(f, nums, ARRAY_SIZE(nums));
			tbl_add(t, p.name, p.uuid ? p.uuid : "-", f[0], f[1],
				f[2], f[3], f[4], f[5], f[6], f[7]);
		}
		spt_pool_free(&p);
	}
	cfs_free_list(names, n);
	if (spt_json) {
		js_close();
		js_end();
	} else {
		tbl_print(t, stdout, NULL);
		tbl_free(t);
	}
	return rc;
}

/*
 * The pool keeps a member list: the member is taken out of it with the
 * item's "remove" attribute (one transaction; the module then disables
 * it), so the pool does not miss it at the next assembly.  A member that
 * a forced activation marked stale may have no item any more (its device
 * is gone): one is made for the write and removed again.  Prints its own
 * errors.
 */
static int remove_member_md3(const char *pool, const char *name, bool made)
{
	int ret = cfs_write("1", "%s/members/%s/remove", pool, name), err;

	if (ret == -EBUSY)
		spt_err("cannot remove member '%s' of pool '%s': %s (it holds slices of a volume or of a migration; the kernel log names the volumes: migrate the slices to another member or delete the volumes first, and a volume whose slices on a member forced out are lost can only be deleted)",
			name, pool, strerror(-ret));
	else if (ret == -EINVAL && made)
		spt_err("cannot remove member '%s' of pool '%s': the pool's metadata has no member of that name that it no longer uses (see the kernel log; 'slicepool status %s')",
			name, pool, pool);
	else if (ret)
		spt_err("cannot remove member '%s' of pool '%s': %s%s (see the kernel log)",
			name, pool, strerror(-ret), spt_errno_hint(-ret));
	if (ret && !made)
		return ret;
	err = cfs_rmdir("%s/members/%s", pool, name);
	if (err && !ret) {
		spt_err("member '%s' was removed from pool '%s' but its configfs item stays: %s",
			name, pool, strerror(-err));
		return err;
	}
	return ret;
}

/*
 * Disables (when enabled) and removes a member; prints its own errors.
 * With @for_good (member remove) the pool also takes it out of its
 * metadata; pool remove does not (the pool's devices keep their
 * metadata, to be assembled again).
 */
static int remove_member(const char *pool, const char *name, bool for_good)
{
	s64 enabled = 1;
	bool exists;
	int ret;

	if (spt_pool_require(pool))
		return -ENOENT;
	exists = cfs_exists("%s/members/%s", pool, name);
	if (for_good) {
		if (!exists) {
			ret = cfs_mkdir("%s/members/%s", pool, name);
			if (ret) {
				spt_err("cannot remove member '%s' of pool '%s': %s%s",
					name, pool, strerror(-ret),
					spt_errno_hint(-ret));
				return ret;
			}
		}
		return remove_member_md3(pool, name, !exists);
	}
	if (!exists) {
		spt_err("no member '%s/%s' (see 'slicepool status %s')", pool,
			name, pool);
		return -ENOENT;
	}
	if (cfs_read_s64(&enabled, "%s/members/%s/enable", pool, name))
		enabled = 1;
	if (enabled) {
		ret = cfs_write("0", "%s/members/%s/enable", pool, name);
		if (ret == -EBUSY) {
			spt_err("cannot disable member '%s' of pool '%s': %s (it holds slices of a bound volume or of one a dm table reaches, or a migration is copying to it; the kernel log names the volume: migrate its slices to another member, delete, shrink or unbind the volume, or wait for the migration first; see 'slicepool status %s')",
				name, pool, strerror(-ret), pool);
			return ret;
		} else if (ret) {
			spt_err("cannot disable member '%s' of pool '%s': %s%s",
				name, pool, strerror(-ret), spt_errno_hint(-ret));
			return ret;
		}
	}
	ret = cfs_rmdir("%s/members/%s", pool, name);
	if (ret) {
		spt_err("cannot remove member '%s' of pool '%s': %s%s", name,
			pool, strerror(-ret), spt_errno_hint(-ret));
		if (enabled &&
		    cfs_write("1", "%s/members/%s/enable", pool, name))
			spt_err("member '%s' was left disabled", name);
	}
	return ret;
}

int cmd_pool_remove(const struct spt_cmd *cmd, int argc, char **argv)
{
	bool unbind, had_dm;
	const char *pool;
	char **names;
	size_t i, n;
	int ret;

	unbind = !!spt_getopt_one(cmd, argc, argv, "unbind", no_argument);
	spt_want_args(cmd, argc, argv, 1);
	pool = argv[optind];
	spt_check_name(cmd, "pool", pool);
	if (spt_pool_require(pool))
		return SPT_EXIT_FAIL;

	ret = cfs_list(&names, &n, "%s/volumes", pool);
	if (ret) {
		spt_err("cannot list the volumes of pool '%s': %s", pool,
			strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	if (n && !unbind) {
		spt_err("pool '%s' still has %zu volume(s), first '%s': delete them with 'slicepool vol remove %s/<volume>', or stop the pool keeping its data with 'slicepool pool remove --unbind %s'",
			pool, n, names[0], pool, pool);
		cfs_free_list(names, n);
		return SPT_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (spt_vol_teardown(pool, names[i], true, &had_dm)) {
			cfs_free_list(names, n);
			return SPT_EXIT_FAIL;
		}
	}
	cfs_free_list(names, n);

	ret = cfs_list(&names, &n, "%s/members", pool);
	if (ret) {
		spt_err("cannot list the members of pool '%s': %s", pool,
			strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (remove_member(pool, names[i], false)) {
			cfs_free_list(names, n);
			return SPT_EXIT_FAIL;
		}
	}
	ret = cfs_rmdir("%s", pool);
	if (ret) {
		spt_err("cannot remove pool '%s': %s%s", pool, strerror(-ret),
			spt_errno_hint(-ret));
		cfs_free_list(names, n);
		return SPT_EXIT_FAIL;
	}
	if (spt_json) {
		js_begin("pool remove", pool);
		js_open_arr("members_removed");
		for (i = 0; i < n; i++)
			js_str(NULL, names[i]);
		js_close();
		js_end();
	} else {
		printf("removed pool %s (%zu member(s))\n", pool, n);
	}
	cfs_free_list(names, n);
	return SPT_EXIT_OK;
}

/*
 * Forces a read-only format-3 pool read-write without its absent members:
 * writes 1 to its force attribute (Documentation/dm-slicepool.rst, "Pools
 * on metadata format 3").  The kernel log names each member forced out.
 */
int cmd_pool_force(const struct spt_cmd *cmd, int argc, char **argv)
{
	const char *pool, *hint;
	int ret;

	spt_getopt_one(cmd, argc, argv, NULL, 0);
	spt_want_args(cmd, argc, argv, 1);
	pool = argv[optind];
	spt_check_name(cmd, "pool", pool);
	if (spt_pool_require(pool))
		return SPT_EXIT_FAIL;
	ret = cfs_write("1", "%s/force", pool);
	if (ret) {
		hint = spt_errno_hint(-ret);
		if (ret == -EBUSY)
			hint = " (the pool is already read-write: nothing to force)";
		else if (ret == -EINVAL)
			hint = " (only a format-3 pool with a member enabled: see dmesg)";
		else if (ret == -ENOENT)
			hint = " (the module has no force attribute: update it)";
		else if (ret == -EIO)
			hint = " (the pool stays read-only: see dmesg)";
		spt_err("pool '%s': the module refused to force it read-write: %s%s",
			pool, strerror(-ret), hint);
		return SPT_EXIT_FAIL;
	}
	if (spt_json) {
		js_begin("pool force", pool);
		js_str("mode", "read-write");
		js_end();
	} else {
		printf("forced pool %s read-write; the kernel log names each member forced out\n",
		       pool);
	}
	return SPT_EXIT_OK;
}

/* A member's text report: @arg is what the command needs besides it. */
typedef void (*member_text_fn)(const char *pool, const struct spt_member *m,
			       const char *const *arg);

/*
 * Reads @pool back (@done is said before the error when it cannot be) and
 * prints its member @name: its JSON document for @action, or @text.
 */
static int report_member(const char *action, const char *pool,
			 const char *name, const char *done,
			 member_text_fn text, const char *const *arg)
{
	struct spt_pool p;
	size_t i;

	if (spt_pool_reload(pool, &p, done))
		return SPT_EXIT_FAIL;
	for (i = 0; i < p.nr_members; i++) {
		const struct spt_member *m = &p.members[i];

		if (strcmp(m->name, name))
			continue;
		if (spt_json) {
			js_begin(action, pool);
			spt_json_member("member", m);
			js_end();
		} else {
			text(pool, m, arg);
		}
	}
	spt_pool_free(&p);
	return SPT_EXIT_OK;
}

/* @arg: the path and the domain given. */
static void print_added(const char *pool, const struct spt_member *m,
			const char *const *arg)
{
	printf("added member %s (%s, domain %s) to pool %s: ", m->name,
	       arg[0], arg[1], pool);
	printf("%lld slices, %lld free\n", (long long)m->total_slices,
	       (long long)m->free_slices);
}

static void print_set(const char *pool, const struct spt_member *m,
		      const char *const *arg)
{
	(void)arg;
	printf("member %s of pool %s: load_override %s, load %lld\n", m->name,
	       pool, m->load_override ? m->load_override : "-",
	       (long long)m->load);
}

/* The <pool> <member> arguments of the member commands, checked. */
static void member_args(const struct spt_cmd *cmd, int argc, char **argv,
			const char **pool, const char **name)
{
	spt_want_args(cmd, argc, argv, 2);
	*pool = argv[optind];
	*name = argv[optind + 1];
	spt_check_name(cmd, "pool", *pool);
	spt_check_name(cmd, "member", *name);
}

int cmd_member_add(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "domain", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *domain = NULL, *pool, *name;
	int c, ret;

	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		if (c == 'p')
			path = optarg;
		else
			domain = optarg;
	}
	member_args(cmd, argc, argv, &pool, &name);
	if (!path)
		spt_usage_fail(cmd, "--path DEV is required");
	if (!domain)
		spt_usage_fail(cmd, "--domain D is required");
	if (path[0] != '/')
		spt_usage_fail(cmd, "--path: '%s' is not an absolute device path",
			       path);
	if (!spu_valid_domain(domain))
		spt_usage_fail(cmd,
			       "bad domain '%s': use 1..%d of [A-Za-z0-9:_.-]",
			      domain, SPT_NAME_MAX);

	if (spt_pool_require(pool))
		return SPT_EXIT_FAIL;
	if (cfs_exists("%s/members/%s", pool, name)) {
		spt_err("pool '%s' already has a member '%s' (see 'slicepool status %s')",
			pool, name, pool);
		return SPT_EXIT_FAIL;
	}
	ret = cfs_mkdir("%s/members/%s", pool, name);
	if (ret) {
		spt_err("cannot create member '%s' in pool '%s': %s%s", name,
			pool, strerror(-ret), spt_errno_hint(-ret));
		return SPT_EXIT_FAIL;
	}
	ret = cfs_write(path, "%s/members/%s/path", pool, name);
	if (ret) {
		spt_err("member '%s': the module refused path %s: %s%s", name,
			path, strerror(-ret),
		       ret == -EBUSY || ret == -EEXIST ?
		       " (the device is already a member of a pool or held by something else)" :
		       spt_errno_hint(-ret));
		goto undo;
	}
	ret = cfs_write(domain, "%s/members/%s/domain", pool, name);
	if (ret) {
		spt_err("member '%s': the module refused domain %s: %s%s", name,
			domain, strerror(-ret), spt_errno_hint(-ret));
		goto undo;
	}
	ret = cfs_write("1", "%s/members/%s/enable", pool, name);
	if (ret) {
		const char *hint = spt_errno_hint(-ret);

		if (ret == -EBUSY || ret == -EEXIST)
			hint = " (the device is in a pool already, or open exclusively)";
		else if (ret == -ENOSPC || ret == -EFBIG)
			hint = " (the device is too small for metadata and a slice)";
		else if (ret == -ENOENT || ret == -ENXIO || ret == -ENODEV)
			hint = " (no such block device)";
		else if (ret == -EINVAL || ret == -EIO || ret == -EPROTO ||
			 ret == -EUCLEAN)
			hint = " (see dmesg: corrupt metadata, or another pool's)";
		spt_err("cannot enable member '%s' (%s) of pool '%s': %s%s",
			name, path, pool, strerror(-ret), hint);
		goto undo;
	}
	return report_member("member add", pool, name, "member added, but ",
			     print_added, (const char *[]){ path, domain });

undo:
	if (cfs_rmdir("%s/members/%s", pool, name))
		spt_err("could not remove the half-created member '%s'", name);
	return SPT_EXIT_FAIL;
}

int cmd_member_set(const struct spt_cmd *cmd, int argc, char **argv)
{
	const char *pool, *name, *load;
	int ret;

	load = spt_getopt_one(cmd, argc, argv, "load-override",
			      required_argument);
	member_args(cmd, argc, argv, &pool, &name);
	if (!load)
		spt_usage_fail(cmd, "nothing to set: give --load-override");
	if (strcmp(load, "auto"))
		spt_opt_ulong(cmd, "--load-override", load, 0, 100);
	if (spt_item_require(pool, "member", name))
		return SPT_EXIT_FAIL;
	ret = cfs_write(load, "%s/members/%s/load_override", pool, name);
	if (ret) {
		spt_err("member '%s': the module refused load_override %s: %s%s",
			name, load, strerror(-ret), spt_errno_hint(-ret));
		return SPT_EXIT_FAIL;
	}
	return report_member("member set", pool, name, "", print_set, NULL);
}

int cmd_member_remove(const struct spt_cmd *cmd, int argc, char **argv)
{
	const char *pool, *name;

	spt_getopt_one(cmd, argc, argv, NULL, 0);
	member_args(cmd, argc, argv, &pool, &name);
	if (remove_member(pool, name, true))
		return SPT_EXIT_FAIL;
	if (spt_json) {
		js_begin("member remove", pool);
		js_str("member", name);
		js_end();
	} else {
		printf("removed member %s from pool %s\n", name, pool);
	}
	return SPT_EXIT_OK;
}

/*
 * member online: the item's "online" attribute takes back a member that
 * an I/O error marked failed, once its device answers again as that
 * member (a stale one rejoins, one transaction); no volume is unbound.
 */
int cmd_member_online(const struct spt_cmd *cmd, int argc, char **argv)
{
	const char *pool, *name, *why = NULL;
	char *state = NULL;
	int ret;

	spt_getopt_one(cmd, argc, argv, NULL, 0);
	member_args(cmd, argc, argv, &pool, &name);
	if (spt_pool_require(pool))
		return SPT_EXIT_FAIL;
	if (!cfs_exists("%s/members/%s", pool, name)) {
		spt_err("no member '%s/%s' (see 'slicepool status %s')", pool,
			name, pool);
		return SPT_EXIT_FAIL;
	}
	ret = cfs_write("1", "%s/members/%s/online", pool, name);
	if (ret == -EIO)
		why = "its device does not answer yet; try again when it does";
	else if (ret == -EILSEQ)
		why = "its device no longer holds this member's metadata (another disk?)";
	else if (ret == -EROFS)
		why = "the pool cannot write its metadata: enable its other members first";
	else if (ret == -EINVAL)
		why = "the member is not enabled, or was forced out of the pool";
	if (ret) {
		spt_err("cannot bring member '%s' of pool '%s' online: %s: %s (see the kernel log)",
			name, pool, strerror(-ret), why ? why : "");
		return SPT_EXIT_FAIL;
	}
	if (!cfs_read(&state, "%s/members/%s/state", pool, name))
		spt_strip(state);
	if (spt_json) {
		js_begin("member online", pool);
		js_str("member", name);
		js_str("state", state ? state : "unknown");
		js_end();
	} else {
		printf("member %s of pool %s is %s\n", name, pool,
		       state ? state : "unknown");
	}
	free(state);
	return SPT_EXIT_OK;
}
