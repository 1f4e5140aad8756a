// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - volume commands
 *
 * A volume is a configfs item <pool>/volumes/<vol>; writing its size
 * allocates, expands or shrinks it. Its dm device is "<pool>-<vol>" with
 * the table "0 <size / 512> slicepool <pool> <vol>".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"
#include "spa-state.h"

static void dm_unavailable(void)
{
	spt_err("cannot talk to device-mapper: %s (is dm-mod loaded and are you root? modprobe dm-mod)",
		spu_dm_last_error());
}

/* What to do when the module refuses a volume size. */
static const char *size_hint(int ret)
{
	switch (ret) {
	case -ENOSPC:
		return " (too few free slices: add members or use a smaller size)";
	case -ENODEV:
		return " (the pool has no enabled member: 'slicepool member add')";
	case -EIO:
		return " (the volume has missing slices: run 'slicepool assemble')";
	case -EBUSY:
		return " (a dm table still covers that size, or a migration runs)";
	case -EINVAL:
	case -ERANGE:
		return " (see dmesg; e.g. it would span fewer than min_domains domains)";
	default:
		return spt_errno_hint(-ret);
	}
}

/* --borrow [--agent-config FILE] of vol create and vol resize. */
#define OPT_BORROW		0x3001
#define OPT_AGENT_CONFIG	0x3002

struct borrow_opt {
	bool on;
	const char *conf;
};

static const char borrow_conf_default[] = SPA_CONFIG_DEFAULT;

static void borrow_opt_set(const struct spt_cmd *cmd, int c,
			   struct borrow_opt *b)
{
	if (c == OPT_BORROW) {
		b->on = true;
	} else if (c == OPT_AGENT_CONFIG) {
		if (!optarg[0])
			spt_usage_fail(cmd, "--agent-config: empty path");
		b->conf = optarg;
	}
}

/*
 * The options and the argument of vol create and vol resize: --size,
 * --from-heaviest (resize only: sets *@heaviest), --borrow and
 * --agent-config (only with --borrow), <pool>/<vol>; the size.
 */
static u64 vol_args(const struct spt_cmd *cmd, int argc, char **argv,
		    const struct option *opts, bool *heaviest,
		    struct borrow_opt *b, char *pool, char *vol)
{
	const char *size_arg = NULL;
	u64 size;
	int c;

	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		if (c == 's')
			size_arg = optarg;
		else if (c == 'H')
			*heaviest = true;
		else
			borrow_opt_set(cmd, c, b);
	}
	spt_want_args(cmd, argc, argv, 1);
	spt_split_volspec(cmd, argv[optind], pool, vol);
	size = spt_opt_size(cmd, size_arg, 512, "512 bytes (one sector)");
	if (b->conf != borrow_conf_default && !b->on)
		spt_usage_fail(cmd, "--agent-config %s: only with --borrow",
			       b->conf);
	return size;
}

/*
 * Writes @val to @pool/@vol's size; with --borrow, a refusal for want of
 * space (ENOSPC) borrows what is missing, @more bytes in all beyond the
 * pool's free space (spt_borrow_for()), and writes once more.  0, or the
 * -errno of the last write; when no borrow was made @why says why
 * (else it is empty).
 */
static int write_size(const char *pool, const char *vol, const char *val,
		      u64 more, const struct borrow_opt *b, char *why,
		      size_t wlen)
{
	int ret = cfs_write(val, "%s/volumes/%s/size", pool, vol);

	why[0] = '\0';
	if (ret != -ENOSPC || !b->on)
		return ret;
	if (spt_borrow_for(b->conf, pool, more, why, wlen))
		return ret;
	return cfs_write(val, "%s/volumes/%s/size", pool, vol);
}

/* After a size refused with --borrow: why nothing was borrowed. */
static void say_no_borrow(const char *why)
{
	if (why[0])
		spt_err("%s", why);
}

/* Says that the volume could not be @done (its configfs call); @ret. */
static int vol_cfs_failed(int ret, const char *done, const char *pool,
			  const char *vol)
{
	spt_err("cannot %s volume '%s/%s': %s%s", done, pool, vol,
		strerror(-ret), spt_errno_hint(-ret));
	return ret;
}

/* A move of a kept slice off the heaviest domain (vol resize --from-heaviest). */
struct swap {
	u64 logical;			/* below the new size */
	u64 tail;			/* the tail slice whose domain it takes */
	char from_member[SPT_NAME_MAX + 1];
	char to[SPT_NAME_MAX + 8];	/* domain:<label> */
	char to_member[SPT_NAME_MAX + 1];
};

/* What vol resize --from-heaviest moved, for its report. */
struct heaviest_moves {
	const char *domain;
	const struct swap *sw;
	size_t n;
};

/*
 * True when @vol is listed in the pool's "discovered" attribute: it exists
 * on the members, and a mkdir would bind it rather than create a volume.
 */
static bool is_discovered(const char *pool, const char *vol)
{
	char *text, *line, *save = NULL;
	size_t len = strlen(vol);
	bool found = false;

	if (cfs_read(&text, "%s/discovered", pool))
		return false;
	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save))
		found = !strncmp(line, vol, len) && line[len] == ' ';
	free(text);
	return found;
}

static void json_heaviest(const struct heaviest_moves *hm)
{
	size_t i;

	js_open_obj("from_heaviest");
	js_str("domain", hm->domain);
	js_open_arr("moves");
	for (i = 0; i < hm->n; i++) {
		js_open_obj(NULL);
		js_u64("logical", hm->sw[i].logical);
		js_u64("tail", hm->sw[i].tail);
		js_str("from_member", hm->sw[i].from_member);
		js_str("to", hm->sw[i].to);
		js_str("to_member", hm->sw[i].to_member);
		js_close();
	}
	js_close();
	js_close();
}

static void print_heaviest(const struct heaviest_moves *hm)
{
	size_t i;

	for (i = 0; i < hm->n; i++)
		printf("moved slice %llu from %s (heaviest domain %s) to %s (%s), %s %llu there\n",
		       (unsigned long long)hm->sw[i].logical,
		       hm->sw[i].from_member, hm->domain, hm->sw[i].to_member,
		       hm->sw[i].to, "releasing tail slice",
		       (unsigned long long)hm->sw[i].tail);
	if (!hm->n)
		printf("no slice could move off the heaviest domain %s: %s\n",
		       hm->domain, "the tail was released as in a plain shrink");
}

/* Prints the volume's JSON document or a one-line summary. */
static int report_volume(const char *action, const char *pool,
			 const char *vol, const char *text, s64 old_size,
			 const struct heaviest_moves *hm)
{
	struct spt_pool p;
	size_t i;

	if (spt_pool_reload(pool, &p, ""))
		return SPT_EXIT_FAIL;
	for (i = 0; i < p.nr_volumes; i++) {
		const struct spt_volume *v = &p.volumes[i];
		char sz[32];

		if (strcmp(v->name, vol))
			continue;
		if (spt_json) {
			js_begin(action, pool);
			if (old_size >= 0)
				js_s64("old_size", old_size);
			spt_json_volume("volume", v);
			if (hm)
				json_heaviest(hm);
			js_end();
		} else {
			if (hm)
				print_heaviest(hm);
			spu_format_size(v->size < 0 ? 0 : (u64)v->size, false,
					sz, sizeof(sz));
			printf("%s volume %s/%s: %s (%lld bytes), %lld slices",
			       text, pool, vol, sz, (long long)v->size,
			       (long long)v->slices);
			printf(", device /dev/mapper/%s\n", v->dm_name);
		}
	}
	spt_pool_free(&p);
	return SPT_EXIT_OK;
}

/*
 * Creates volume @pool/@vol of @size bytes and its dm device: refused
 * (with a message) when the name is taken by a volume, a volume on the
 * members or a dm device; on a failure nothing is left behind.  Returns 0
 * or a negative errno.  Shared by 'vol create' (with --borrow: @b) and
 * 'image clone' (the thin-pool's volumes: spt_vol_make(), no borrow).
 */
static int vol_make(const char *pool, const char *vol, u64 size,
		    const struct borrow_opt *b)
{
	char dm_name[2 * SPT_NAME_MAX + 2], val[32], why[1024];
	struct spu_dm_info info;
	bool allocated = false;
	char *uuid = NULL;
	s64 got;
	int ret, err;

	if (cfs_exists("%s/volumes/%s", pool, vol)) {
		spt_err("volume '%s/%s' already exists (resize it with 'slicepool vol resize %s/%s --size SIZE')",
			pool, vol, pool, vol);
		return -EEXIST;
	}
	if (is_discovered(pool, vol)) {
		spt_err("volume '%s/%s' exists on the members but is not bound: bring it back with 'slicepool assemble' (then resize or remove it), or choose another name",
			pool, vol);
		return -EEXIST;
	}
	spt_dm_name(pool, vol, dm_name, sizeof(dm_name));
	if (spu_dm_info(dm_name, &info)) {
		dm_unavailable();
		return -EIO;
	}
	if (info.exists) {
		spt_err("a dm device named '%s' already exists: remove it (dmsetup remove %s) or choose another volume name",
			dm_name, dm_name);
		return -EEXIST;
	}

	ret = cfs_mkdir("%s/volumes/%s", pool, vol);
	if (ret)
		return vol_cfs_failed(ret, "create", pool, vol);
	snprintf(val, sizeof(val), "%llu", (unsigned long long)size);
	ret = write_size(pool, vol, val, size, b, why, sizeof(why));
	if (ret) {
		spt_err("cannot allocate %s bytes for volume '%s/%s': %s%s", val,
			pool, vol, strerror(-ret), size_hint(ret));
		say_no_borrow(why);
		goto undo;
	}
	allocated = true;
	ret = cfs_read_s64(&got, "%s/volumes/%s/size", pool, vol);
	if (ret || got <= 0 || got % 512) {
		spt_err("volume '%s/%s': cannot read back a usable size%s%s",
			pool, vol, ret ? ": " : "", ret ? strerror(-ret) : "");
		ret = -EIO;
		goto undo;
	}
	if (!cfs_read(&uuid, "%s/volumes/%s/uuid", pool, vol))
		spt_strip(uuid);
	ret = spt_dm_create(dm_name, uuid, (u64)got / 512, pool, vol);
	free(uuid);
	if (ret) {
		spt_err("cannot create dm device '%s': %s (see dmesg)", dm_name,
			spu_dm_last_error());
		goto undo;
	}
	return 0;

undo:
	/* Free what was allocated: rmdir alone only unbinds the volume. */
	if (allocated) {
		err = cfs_write("0", "%s/volumes/%s/size", pool, vol);
		if (err)
			spt_err("could not free the slices of '%s/%s': %s (delete it with 'slicepool vol remove %s/%s')",
				pool, vol, strerror(-err), pool, vol);
	}
	err = cfs_rmdir("%s/volumes/%s", pool, vol);
	if (err)
		spt_err("could not remove the half-created volume '%s/%s': %s",
			pool, vol, strerror(-err));
	return ret;
}

int spt_vol_make(const char *pool, const char *vol, u64 size)
{
	static const struct borrow_opt none = { false, borrow_conf_default };

	return vol_make(pool, vol, size, &none);
}

int cmd_vol_create(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "borrow", no_argument, NULL, OPT_BORROW },
		{ "agent-config", required_argument, NULL, OPT_AGENT_CONFIG },
		{ NULL, 0, NULL, 0 }
	};
	char pool[SPT_NAME_MAX + 1], vol[SPT_NAME_MAX + 1];
	struct borrow_opt b = { false, borrow_conf_default };
	bool unused = false;
	u64 size;

	size = vol_args(cmd, argc, argv, opts, &unused, &b, pool, vol);
	if (spt_pool_require(pool) || vol_make(pool, vol, size, &b))
		return SPT_EXIT_FAIL;
	return report_volume("vol create", pool, vol, "created", -1, NULL);
}

/* Distinct domains of dom[0..n), NULL entries (missing slices) skipped. */
static size_t count_domains(const char **dom, size_t n)
{
	size_t i, k, count = 0;

	for (i = 0; i < n; i++) {
		if (!dom[i])
			continue;
		for (k = 0; k < i; k++)
			if (dom[k] && !strcmp(dom[k], dom[i]))
				break;
		if (k == i)
			count++;
	}
	return count;
}

/*
 * Plans a shrink of @pool/@vol to @size that releases slices of the
 * heaviest domain: for each tail slice (at or past the new end) that is
 * not on it, one slice below the new end that is (the highest first)
 * moves to the tail slice's domain. Skips tail slices whose domain has no
 * free slice left, and gives up moves (the last first) that would leave
 * the kept slices on fewer than min(min_domains, domains spanned) domains,
 * which the module would refuse. Prints its errors.
 */
static int plan_from_heaviest(const char *pool, const char *vol, u64 size,
			      struct swap **out, size_t *nout, char *heavy,
			      size_t hlen)
{
	struct spt_map_entry *map = NULL;
	struct swap *sw = NULL;
	const char **dom = NULL;
	s64 *dfree = NULL;
	size_t i, k, n = 0, ns = 0, keep, need, src;
	struct spt_domain *h;
	struct spt_pool p;
	u64 slice;
	int ret;

	ret = spt_pool_load(pool, &p);
	if (ret) {
		spt_err("cannot read pool '%s': %s", pool, strerror(-ret));
		return ret;
	}
	ret = -EINVAL;
	h = spt_heaviest_domain(&p);
	if (!h || p.slice_mb <= 0) {
		spt_err("pool '%s' lists no domain: cannot tell the heaviest", pool);
		goto out;
	}
	snprintf(heavy, hlen, "%s", h->name);
	ret = spt_vol_map_read(pool, vol, &map, &n);
	if (ret) {
		if (ret == -EBADMSG)
			spt_err("the map of '%s/%s' is not in the documented format",
				pool, vol);
		else
			spt_err("cannot read the map of '%s/%s'", pool, vol);
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!map[i].member[0]) {
			spt_err("slice %zu of '%s/%s' is missing: the module refuses to shrink a volume with missing slices (bring the member back with 'slicepool assemble')",
				i, pool, vol);
			ret = -EIO;
			goto out;
		}
	}
	slice = (u64)p.slice_mb << 20;
	keep = (size_t)((size + slice - 1) / slice);
	dom = spt_zalloc((n + 1) * sizeof(*dom));
	dfree = spt_zalloc((p.nr_domains + 1) * sizeof(*dfree));
	sw = spt_zalloc((n + 1) * sizeof(*sw));
	for (i = 0; i < n; i++)
		dom[i] = map[i].member[0] ?
			 spt_member_domain(&p, map[i].member) : NULL;
	for (k = 0; k < p.nr_domains; k++)
		dfree[k] = p.domains[k].free_slices;

	src = keep;
	for (i = keep; i < n; i++) {
		if (!dom[i] || !strcmp(dom[i], h->name))
			continue;
		while (src > 0 && (!dom[src - 1] ||
				   strcmp(dom[src - 1], h->name)))
			src--;
		if (!src)
			break;		/* no kept slice left on it */
		for (k = 0; k < p.nr_domains; k++)
			if (!strcmp(p.domains[k].name, dom[i]))
				break;
		if (k == p.nr_domains || dfree[k] <= 0) {
			spt_warn("domain %s has no free slice: tail slice %zu is released as in a plain shrink",
				 dom[i], i);
			continue;
		}
		dfree[k]--;
		src--;
		sw[ns].logical = src;
		sw[ns].tail = i;
		snprintf(sw[ns].from_member, sizeof(sw[ns].from_member), "%s",
			 map[src].member);
		snprintf(sw[ns].to, sizeof(sw[ns].to), "domain:%s", dom[i]);
		dom[src] = dom[i];
		ns++;
	}
	/* The module refuses a shrink that spans too few domains. */
	need = count_domains(dom, n);
	if (p.min_domains > 0 && need > (size_t)p.min_domains)
		need = (size_t)p.min_domains;
	while (ns && count_domains(dom, keep) < need) {
		ns--;
		dom[sw[ns].logical] = h->name;
		spt_warn("slice %llu stays on %s: the kept slices must span %zu domains (min_domains)",
			 (unsigned long long)sw[ns].logical, h->name, need);
	}
	*out = sw;
	*nout = ns;
	sw = NULL;
	ret = 0;
out:
	free(sw);
	free(dom);
	free(dfree);
	free(map);
	spt_pool_free(&p);
	return ret;
}

/* Runs the planned moves; prints what fails. */
static int run_swaps(const char *pool, const char *vol, struct swap *sw,
		     size_t ns)
{
	struct spt_mig_result res;
	struct spt_mig_req req;
	size_t i;
	int ret;

	spt_mig_catch_signals();
	for (i = 0; i < ns; i++) {
		spt_mig_req_init(&req);
		spt_info("moving slice %llu of %s/%s from %s to %s (tail slice %llu is released there instead)",
			 (unsigned long long)sw[i].logical, pool, vol,
			sw[i].from_member, sw[i].to,
			(unsigned long long)sw[i].tail);
		ret = spt_mig_move_slice(pool, vol, sw[i].logical, sw[i].to,
					 &req, &res, sw[i].to_member,
					 sizeof(sw[i].to_member));
		if (ret > 0)
			spt_mig_print_failure(pool, vol, &res);
		if (ret) {
			spt_err("'%s/%s' was not shrunk; %zu slice(s) moved before this one stay where they are (the data is unchanged)",
				pool, vol, i);
			return ret < 0 ? ret : -EIO;
		}
		if (res.interrupted || spt_mig_interrupted()) {
			spt_err("interrupted: '%s/%s' was not shrunk; the %zu slice(s) moved stay where they are",
				pool, vol, i + 1);
			return -EINTR;
		}
	}
	return 0;
}

int cmd_vol_resize(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "from-heaviest", no_argument, NULL, 'H' },
		{ "borrow", no_argument, NULL, OPT_BORROW },
		{ "agent-config", required_argument, NULL, OPT_AGENT_CONFIG },
		{ NULL, 0, NULL, 0 }
	};
	char pool[SPT_NAME_MAX + 1], vol[SPT_NAME_MAX + 1];
	char dm_name[2 * SPT_NAME_MAX + 2], val[32];
	char heavy[SPT_NAME_MAX + 1] = "", why[1024];
	struct borrow_opt b = { false, borrow_conf_default };
	struct spu_dm_info info;
	bool live, from_heaviest = false;
	struct heaviest_moves hm;
	struct swap *sw = NULL;
	size_t ns = 0;
	s64 old, got;
	u64 size;
	int ret;

	size = vol_args(cmd, argc, argv, opts, &from_heaviest, &b, pool, vol);

	if (spt_item_require(pool, "volume", vol))
		return SPT_EXIT_FAIL;
	ret = cfs_read_s64(&old, "%s/volumes/%s/size", pool, vol);
	if (ret) {
		spt_err("cannot read the size of '%s/%s': %s", pool, vol,
			strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	spt_dm_name(pool, vol, dm_name, sizeof(dm_name));
	if (spu_dm_info(dm_name, &info)) {
		dm_unavailable();
		return SPT_EXIT_FAIL;
	}
	live = info.exists && info.live_table &&
	       !strcmp(info.target, SPT_TARGET_NAME);
	if (info.exists && !live) {
		spt_err("dm device '%s' exists but is not a slicepool volume: remove it or rename the volume",
			dm_name);
		return SPT_EXIT_FAIL;
	}
	snprintf(val, sizeof(val), "%llu", (unsigned long long)size);

	if (from_heaviest && (s64)size >= old) {
		spt_err("--from-heaviest only applies to a shrink: '%s/%s' is %lld bytes and %s is not smaller (nothing was changed)",
			pool, vol, (long long)old, val);
		return SPT_EXIT_FAIL;
	}
	if (from_heaviest && !live) {
		spt_err("--from-heaviest moves slices by live migration, which runs in the volume's dm device '%s', and it has none: create it with 'slicepool assemble', or shrink without --from-heaviest",
			dm_name);
		return SPT_EXIT_FAIL;
	}
	if (from_heaviest) {
		if (plan_from_heaviest(pool, vol, size, &sw, &ns, heavy,
				       sizeof(heavy)))
			return SPT_EXIT_FAIL;
		if (run_swaps(pool, vol, sw, ns)) {
			free(sw);
			return SPT_EXIT_FAIL;
		}
	}

	if ((s64)size == old) {
		return report_volume("vol resize", pool, vol, "unchanged",
				     old, NULL);
	} else if ((s64)size > old) {
		/* Expand: allocate first, then let the device grow. */
		ret = write_size(pool, vol, val, size - (u64)old, &b, why,
				 sizeof(why));
		if (ret) {
			spt_err("cannot expand '%s/%s' to %s bytes: %s%s", pool,
				vol, val, strerror(-ret), size_hint(ret));
			say_no_borrow(why);
			return SPT_EXIT_FAIL;
		}
		if (cfs_read_s64(&got, "%s/volumes/%s/size", pool, vol) ||
		    got <= 0)
			got = (s64)size;
		if (live) {
			ret = spt_dm_reload_resume(dm_name, (u64)got / 512,
						   pool, vol);
			if (ret) {
				spt_err("'%s/%s' was expanded to %lld bytes, but dm device '%s' could not be reloaded: %s (retry 'slicepool vol resize'; see dmesg)",
					pool, vol, (long long)got, dm_name,
				       spu_dm_last_error());
				return SPT_EXIT_FAIL;
			}
		}
	} else {
		/* Shrink: the device shrinks first, then the slices go. */
		if (live) {
			ret = spt_dm_reload_resume(dm_name, size / 512, pool,
						   vol);
			if (ret) {
				spt_err("cannot shrink dm device '%s': %s (nothing was changed; see dmesg)",
					dm_name, spu_dm_last_error());
				free(sw);
				return SPT_EXIT_FAIL;
			}
		}
		ret = cfs_write(val, "%s/volumes/%s/size", pool, vol);
		if (ret) {
			spt_err("cannot shrink '%s/%s' to %s bytes: %s%s", pool,
				vol, val, strerror(-ret), size_hint(ret));
			if (live && spt_dm_reload_resume(dm_name, (u64)old / 512,
							 pool, vol))
				spt_err("dm device '%s' could not be restored to %lld bytes: %s",
					dm_name, (long long)old,
				       spu_dm_last_error());
			free(sw);
			return SPT_EXIT_FAIL;
		}
	}
	hm.domain = heavy;
	hm.sw = sw;
	hm.n = ns;
	ret = report_volume("vol resize", pool, vol, "resized", old,
			    from_heaviest ? &hm : NULL);
	free(sw);
	return ret;
}

/*
 * Removes the dm device of @pool/@vol (refused while it is open), then
 * deletes the volume (size 0: its slices are freed, on disk too) unless
 * @unbind, and removes its configfs item. With @unbind the volume stays on
 * the members and in the pool's "discovered" list: 'slicepool assemble'
 * binds it again. Prints its own errors.
 */
int spt_vol_teardown(const char *pool, const char *vol, bool unbind,
		     bool *had_dm)
{
	char dm_name[2 * SPT_NAME_MAX + 2];
	struct spu_dm_info info;
	int ret;

	*had_dm = false;
	spt_dm_name(pool, vol, dm_name, sizeof(dm_name));
	if (spu_dm_info(dm_name, &info)) {
		dm_unavailable();
		return -EIO;
	}
	if (info.exists) {
		if (info.live_table && strcmp(info.target, SPT_TARGET_NAME)) {
			spt_err("dm device '%s' is not a slicepool volume; not removing it",
				dm_name);
			return -EEXIST;
		}
		if (info.open_count > 0) {
			spt_err("dm device '%s' is open (mounted or in use by %d opener(s)): unmount or close it first",
				dm_name, info.open_count);
			return -EBUSY;
		}
		ret = spu_dm_remove(dm_name);
		if (ret) {
			spt_err("cannot remove dm device '%s': %s", dm_name,
				spu_dm_last_error());
			return ret;
		}
		*had_dm = true;
	}
	if (!unbind) {
		ret = cfs_write("0", "%s/volumes/%s/size", pool, vol);
		if (ret == -EIO) {
			spt_err("cannot delete volume '%s/%s': %s (it has missing slices: bring their members back with 'slicepool assemble', or keep it with --unbind)",
				pool, vol, strerror(-ret));
			return ret;
		} else if (ret) {
			return vol_cfs_failed(ret, "delete", pool, vol);
		}
	}
	ret = cfs_rmdir("%s/volumes/%s", pool, vol);
	if (ret)
		return vol_cfs_failed(ret, "remove", pool, vol);
	return 0;
}

int cmd_vol_remove(const struct spt_cmd *cmd, int argc, char **argv)
{
	char pool[SPT_NAME_MAX + 1], vol[SPT_NAME_MAX + 1];
	char dm_name[2 * SPT_NAME_MAX + 2];
	bool had_dm, unbind;

	unbind = !!spt_getopt_one(cmd, argc, argv, "unbind", no_argument);
	spt_want_args(cmd, argc, argv, 1);
	spt_split_volspec(cmd, argv[optind], pool, vol);
	if (spt_item_require(pool, "volume", vol))
		return SPT_EXIT_FAIL;
	if (spt_vol_teardown(pool, vol, unbind, &had_dm))
		return SPT_EXIT_FAIL;
	spt_dm_name(pool, vol, dm_name, sizeof(dm_name));
	if (spt_json) {
		js_begin("vol remove", pool);
		js_str("volume", vol);
		js_bool("deleted", !unbind);
		js_str("dm_device", had_dm ? dm_name : NULL);
		js_end();
	} else {
		printf("%s volume %s/%s%s%s\n",
		       unbind ? "unbound (data kept on the members)" : "deleted",
		       pool, vol, had_dm ? ", removed dm device " : "",
		       had_dm ? dm_name : "");
	}
	return SPT_EXIT_OK;
}

/* Byte offset of a member's data area, from its data_offset attribute. */
struct member_offset {
	char name[SPT_NAME_MAX + 1];
	s64 data_offset;
};

static s64 member_data_offset(const char *pool, struct member_offset *cache,
			      size_t *ncache, size_t max, const char *member)
{
	size_t i;
	s64 off;

	for (i = 0; i < *ncache; i++)
		if (!strcmp(cache[i].name, member))
			return cache[i].data_offset;
	if (cfs_read_s64(&off, "%s/members/%s/data_offset", pool, member) ||
	    off <= 0)
		off = -1;
	if (*ncache < max) {
		snprintf(cache[*ncache].name, sizeof(cache[0].name), "%s",
			 member);
		cache[(*ncache)++].data_offset = off;
	}
	return off;
}

int cmd_vol_map(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const char *const hdr[] = {
		"LOGICAL", "MEMBER", "PHYSICAL", "MEMBER_OFFSET"
	};
	char pool[SPT_NAME_MAX + 1], vol[SPT_NAME_MAX + 1];
	struct member_offset *cache;
	struct spt_map_entry *map;
	size_t i, n, ncache = 0;
	struct spt_table *t = NULL;
	struct spt_pool p;
	u64 missing = 0;
	int ret;

	spt_getopt_one(cmd, argc, argv, NULL, 0);
	spt_want_args(cmd, argc, argv, 1);
	spt_split_volspec(cmd, argv[optind], pool, vol);
	if (spt_item_require(pool, "volume", vol))
		return SPT_EXIT_FAIL;
	ret = spt_vol_map_read(pool, vol, &map, &n);
	if (ret == -EBADMSG) {
		spt_err("the map of '%s/%s' is not in the documented format (\"<logical> <member> <physical>\" lines)",
			pool, vol);
		return SPT_EXIT_FAIL;
	} else if (ret) {
		spt_err("cannot read the map of '%s/%s': %s", pool, vol,
			strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	ret = spt_pool_load(pool, &p);
	if (ret) {
		spt_err("cannot read pool '%s': %s", pool, strerror(-ret));
		free(map);
		return SPT_EXIT_FAIL;
	}
	cache = spt_zalloc((p.nr_members + 1) * sizeof(*cache));

	if (spt_json) {
		js_begin(NULL, pool);
		js_str("volume", vol);
		js_s64("slice_mb", p.slice_mb);
		js_open_arr("slices");
	} else {
		t = tbl_new(ARRAY_SIZE(hdr), hdr);
	}
	for (i = 0; i < n; i++) {
		const struct spt_map_entry *e = &map[i];
		s64 off = -1, base;

		if (!e->member[0]) {
			missing++;
		} else if (p.slice_mb > 0) {
			base = member_data_offset(pool, cache, &ncache,
						  p.nr_members + 1, e->member);
			if (base >= 0)
				off = base + e->physical * (p.slice_mb << 20);
		}
		if (spt_json) {
			js_open_obj(NULL);
			js_u64("logical", e->logical);
			js_str("member", e->member[0] ? e->member : NULL);
			js_s64("physical", e->physical);
			js_s64("member_offset", off);
			js_close();
		} else {
			char l[24], ph[24], o[24];

			snprintf(l, sizeof(l), "%llu",
				 (unsigned long long)e->logical);
			snprintf(ph, sizeof(ph), "%lld", (long long)e->physical);
			snprintf(o, sizeof(o), "%lld", (long long)off);
			tbl_add(t, l, e->member[0] ? e->member : "-",
				e->physical < 0 ? "-" : ph, off < 0 ? "-" : o);
		}
	}
	if (spt_json) {
		js_close();
		js_u64("missing_slices", missing);
		js_end();
	} else {
		tbl_print(t, stdout, NULL);
		tbl_free(t);
		if (missing)
			printf("%llu of %zu slices are missing %s\n",
			       (unsigned long long)missing, n,
			       "(their member is absent); I/O to them fails");
	}
	free(cache);
	free(map);
	spt_pool_free(&p);
	return SPT_EXIT_OK;
}
