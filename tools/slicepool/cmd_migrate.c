// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - migrate and rebalance commands
 *
 * "migrate" starts a live migration of a volume's slices, follows it and
 * reports it (or aborts it, changes its rate, shows its status).
 * "rebalance" moves slices, one migration at a time, from the heaviest
 * failure domain to the lightest until their workloads are within a band.
 * The jobs themselves run in the dm target (migrate.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

#define SPT_RATE_MAX	1048576UL	/* MiB/s, the module's limit */

/* Parses --slices: "all", "A" or "A-B"; exits 2 when it is bad. */
static void parse_slices(const struct spt_cmd *cmd, const char *arg,
			 struct spt_mig_req *req)
{
	unsigned long long a, b;
	char *end;

	if (!strcmp(arg, "all")) {
		req->all = true;
		return;
	}
	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	errno = 0;
	a = strtoull(arg, &end, 10);
	b = a;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			goto bad;
		b = strtoull(end + 1, &end, 10);
	}
	if (*end || errno)
		goto bad;
	if (b < a)
		spt_usage_fail(cmd, "--slices %s: the last slice is before the first",
			       arg);
	req->all = false;
	req->first = a;
	req->last = b;
	return;
bad:
	spt_usage_fail(cmd,
		       "--slices: '%s' is not a logical slice range (A, A-B or all)",
		      arg);
}

static void parse_dest(const struct spt_cmd *cmd, const char *arg,
		       struct spt_mig_req *req)
{
	if (!strcmp(arg, SPT_MIG_AUTO)) {
		/* The module's placement rule chooses. */
	} else if (!strncmp(arg, "domain:", 7)) {
		if (!spu_valid_domain(arg + 7))
			spt_usage_fail(cmd,
				       "--to %s: bad domain label: use 1..%d of [A-Za-z0-9:_.-] after 'domain:'",
				      arg, SPT_NAME_MAX);
	} else if (!spu_valid_name(arg)) {
		spt_usage_fail(cmd,
			       "--to: '%s' is neither a member name (1..%d of [A-Za-z0-9_.-]), domain:<label> nor auto",
			      arg, SPT_NAME_MAX);
	}
	snprintf(req->dest, sizeof(req->dest), "%s", arg);
}

static void print_status_text(const char *pool, const char *vol,
			      const struct spt_mig_status *ms)
{
	char sz[32];

	spu_format_size(ms->bytes_copied, false, sz, sizeof(sz));
	printf("migration of %s/%s: slices %llu-%llu to %s, mode %s: %s\n",
	       pool, vol, (unsigned long long)ms->first,
	       (unsigned long long)ms->last, ms->dest, ms->mode, ms->state);
	printf("  pass %llu, cursor %llu, planned %llu, remaining %llu, dirty %llu\n",
	       (unsigned long long)ms->pass, (unsigned long long)ms->cursor,
	       (unsigned long long)ms->planned,
	       (unsigned long long)ms->remaining,
	       (unsigned long long)ms->dirty);
	printf("  writes seen %llu, bits set %llu, filtered %llu, cleared %llu, mirrored %llu%s\n",
	       (unsigned long long)ms->writes_seen,
	       (unsigned long long)ms->dirty_set,
	       (unsigned long long)ms->filtered,
	       (unsigned long long)ms->cleared,
	       (unsigned long long)ms->mirrored,
	       ms->mirror ? "" : " (mirror off)");
	printf("  chunks copied %llu (re-copied %llu), bytes copied %llu (%s)\n",
	       (unsigned long long)ms->copied,
	       (unsigned long long)ms->recopied,
	       (unsigned long long)ms->bytes_copied, sz);
	printf("  rate %llu MiB/s%s, busy share %llu%%, paced %llu ms\n",
	       (unsigned long long)ms->rate, ms->rate ? "" : " (unthrottled)",
	       (unsigned long long)ms->busy_share,
	       (unsigned long long)ms->paced_ms);
	printf("  writes held %lld us, error %d\n", (long long)ms->hold_us,
	       ms->error);
}

/* The report of a job that was waited for. */
static void print_report(const char *pool, const char *vol,
			 const struct spt_mig_result *res)
{
	const struct spt_mig_status *ms = &res->st;
	char sz[32];

	if (spt_json) {
		js_begin("migrate", pool);
		js_str("volume", vol);
		js_str("state", ms->state);
		js_u64("duration_ms", res->duration_ms);
		js_bool("interrupted", res->interrupted);
		spt_mig_json("migration", ms);
		js_end();
		return;
	}
	spu_format_size(ms->bytes_copied, false, sz, sizeof(sz));
	printf("migration of %s/%s slices %llu-%llu to %s: %s\n", pool, vol,
	       (unsigned long long)ms->first, (unsigned long long)ms->last,
	       ms->dest, ms->state);
	printf("  passes         %llu\n", (unsigned long long)ms->pass);
	printf("  bytes copied   %llu (%s)\n",
	       (unsigned long long)ms->bytes_copied, sz);
	printf("  chunks copied  %llu, re-copied %llu\n",
	       (unsigned long long)ms->copied,
	       (unsigned long long)ms->recopied);
	printf("  writes         %llu seen, %llu filtered, %llu dirty bits set\n",
	       (unsigned long long)ms->writes_seen,
	       (unsigned long long)ms->filtered,
	       (unsigned long long)ms->dirty_set);
	if (ms->mirror)
		printf("  mirrored       %llu writes to copied chunks\n",
		       (unsigned long long)ms->mirrored);
	printf("  paced          %llu ms (busy share %llu%%)\n",
	       (unsigned long long)ms->paced_ms,
	       (unsigned long long)ms->busy_share);
	printf("  writes held    %lld us at the switch\n",
	       (long long)ms->hold_us);
	printf("  duration       %llu.%03llu s\n",
	       (unsigned long long)(res->duration_ms / 1000),
	       (unsigned long long)(res->duration_ms % 1000));
}

/* Reads the migration status for --status, --abort and --set-rate. */
static int need_volume(const char *pool, const char *vol, const char *dm_name,
		       struct spt_mig_status *ms)
{
	int ret;

	if (spt_item_require(pool, "volume", vol))
		return -ENOENT;
	ret = spt_mig_read(dm_name, ms);
	if (ret == -ENODEV)
		spt_err("volume '%s/%s' has no dm device with a slicepool table ('%s'): migrations run in it (create it with 'slicepool assemble')",
			pool, vol, dm_name);
	else if (ret == -ENODATA)
		spt_err("the loaded dm-slicepool module has no live migration (no migration fields in the status of '%s')",
			dm_name);
	else if (ret)
		spt_err("cannot read the status of dm device '%s': %s (%s)",
			dm_name, strerror(-ret), spu_dm_last_error());
	return ret;
}

static int not_running(const char *pool, const char *vol,
		       const struct spt_mig_status *ms)
{
	if (ms->job)
		spt_err("volume '%s/%s' is not migrating (its last job, slices %llu-%llu to %s, ended %s)",
			pool, vol, (unsigned long long)ms->first,
		       (unsigned long long)ms->last, ms->dest, ms->state);
	else
		spt_err("volume '%s/%s' is not migrating (no job since it was bound)",
			pool, vol);
	return SPT_EXIT_FAIL;
}

static void json_action(const char *action, const char *pool, const char *vol,
			const struct spt_mig_status *ms)
{
	js_begin(action, pool);
	js_str("volume", vol);
	if (ms->job)
		spt_mig_json("migration", ms);
	else
		js_null("migration");
	js_end();
}

static int migrate_status(const char *pool, const char *vol,
			  const char *dm_name)
{
	struct spt_mig_status ms;

	if (need_volume(pool, vol, dm_name, &ms))
		return SPT_EXIT_FAIL;
	if (spt_json)
		json_action(NULL, pool, vol, &ms);
	else if (!ms.job)
		printf("volume %s/%s: no migration since it was bound\n", pool,
		       vol);
	else
		print_status_text(pool, vol, &ms);
	return SPT_EXIT_OK;
}

static int migrate_abort(const char *pool, const char *vol,
			 const char *dm_name)
{
	struct spt_mig_status ms;
	int ret;

	if (need_volume(pool, vol, dm_name, &ms))
		return SPT_EXIT_FAIL;
	if (!spt_mig_running(&ms))
		return not_running(pool, vol, &ms);
	ret = spu_dm_message(dm_name, "migrate abort", NULL, 0);
	if (ret == -EBUSY) {
		spt_err("the migration of '%s/%s' is switching to its destination already and can no longer be aborted: it ends by itself in a moment",
			pool, vol);
		return SPT_EXIT_FAIL;
	}
	if (ret && ret != -EINVAL) {
		spt_err("cannot abort the migration of '%s/%s': %s (see dmesg)",
			pool, vol, strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	if (spt_mig_read(dm_name, &ms)) {
		spt_err("cannot read the status of '%s' back", dm_name);
		return SPT_EXIT_FAIL;
	}
	/* EINVAL: the job ended between the check and the message. */
	if (ret)
		return not_running(pool, vol, &ms);
	if (spt_json)
		json_action("migrate abort", pool, vol, &ms);
	else
		printf("aborted the migration of %s/%s slices %llu-%llu to %s: %s\n",
		       pool, vol, (unsigned long long)ms.first,
		       (unsigned long long)ms.last, ms.dest,
		       "the volume stays on its source");
	return SPT_EXIT_OK;
}

static int migrate_set_rate(const char *pool, const char *vol,
			    const char *dm_name, unsigned long rate)
{
	struct spt_mig_status ms;
	char msg[64];
	int ret;

	if (need_volume(pool, vol, dm_name, &ms))
		return SPT_EXIT_FAIL;
	if (!spt_mig_running(&ms))
		return not_running(pool, vol, &ms);
	snprintf(msg, sizeof(msg), "migrate rate %lu", rate);
	ret = spu_dm_message(dm_name, msg, NULL, 0);
	if (ret == -EINVAL && !spt_mig_read(dm_name, &ms) &&
	    !spt_mig_running(&ms))
		return not_running(pool, vol, &ms);
	if (ret) {
		spt_err("cannot change the rate of the migration of '%s/%s': %s (see dmesg)",
			pool, vol, strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	if (spt_mig_read(dm_name, &ms)) {
		spt_err("the rate was set, but the status of '%s' cannot be read back",
			dm_name);
		return SPT_EXIT_FAIL;
	}
	if (spt_json)
		json_action("migrate rate", pool, vol, &ms);
	else
		printf("migration of %s/%s: rate %llu MiB/s%s (%s)\n", pool, vol,
		       (unsigned long long)ms.rate,
		       ms.rate ? "" : " (unthrottled)", ms.state);
	return SPT_EXIT_OK;
}

/*
 * For --to domain:X: the runs of the requested slices that are not in
 * domain X yet, as jobs (*@jobs, *@nr), and how many slices are in X
 * already (*@kept): those stay where they are.  Returns false when the
 * request is to go the usual way (no slice of it is in X, or the pool or
 * the map cannot be read, or the range is bad: spt_mig_check() says so).
 */
static bool domain_runs(const char *pool, const char *vol,
			const struct spt_mig_req *req, struct spt_mig_job **jobs,
			size_t *nr, u64 *kept, u64 *slice_bytes)
{
	const char *dom = req->dest + 7, *d;
	struct spt_map_entry *map = NULL;
	struct spt_pool p;
	u64 first, last, i;
	size_t n = 0;
	bool split = false;

	*jobs = NULL;
	*nr = 0;
	*kept = 0;
	if (strncmp(req->dest, "domain:", 7) || spt_pool_load(pool, &p))
		return false;
	if (spt_vol_map_read(pool, vol, &map, &n) || !n)
		goto out;
	first = req->all ? 0 : req->first;
	last = req->all ? n - 1 : req->last;
	if (last >= n || p.slice_mb <= 0)
		goto out;
	for (i = first; i <= last; i++) {
		d = map[i].member[0] ? spt_member_domain(&p, map[i].member) : NULL;
		if (d && !strcmp(d, dom)) {
			(*kept)++;
			continue;
		}
		if (*nr && (*jobs)[*nr - 1].last == i - 1 && i > first) {
			(*jobs)[*nr - 1].last = i;
			continue;
		}
		*jobs = spt_realloc_array(*jobs, *nr + 1, sizeof(**jobs));
		memset(&(*jobs)[*nr], 0, sizeof(**jobs));
		snprintf((*jobs)[*nr].vol, sizeof((*jobs)[*nr].vol), "%s", vol);
		(*jobs)[*nr].first = i;
		(*jobs)[*nr].last = i;
		(*nr)++;
	}
	*slice_bytes = (u64)p.slice_mb << 20;
	split = *kept > 0;
out:
	if (!split) {
		free(*jobs);
		*jobs = NULL;
		*nr = 0;
	}
	free(map);
	spt_pool_free(&p);
	return split;
}

/*
 * --to domain:X over a range with slices in X already: the other runs
 * move, one job each, with one progress bar; then one report.
 */
static int migrate_runs(const char *pool, const char *vol,
			const struct spt_mig_req *req, struct spt_mig_job *jobs,
			size_t nr, u64 kept, u64 slice_bytes)
{
	const struct spt_mig_job *last = NULL;
	u64 moved = 0, bytes = 0, ms = 0, total = 0;
	char label[2 * SPT_NAME_MAX + 16], sz[32];
	const char *state;
	size_t i;
	int ret = 0;

	snprintf(label, sizeof(label), "migrate %s/%s", pool, vol);
	if (nr) {
		spt_mig_catch_signals();
		ret = spt_mig_batch_run(pool, label, jobs, nr, req, slice_bytes);
	}
	for (i = 0; i < nr; i++)
		total += jobs[i].last - jobs[i].first + 1;
	for (i = 0; i < nr && jobs[i].ran; i++) {
		last = &jobs[i];
		bytes += jobs[i].res.st.bytes_copied;
		ms += jobs[i].res.duration_ms;
		if (!strcmp(jobs[i].res.st.state, "done"))
			moved += jobs[i].last - jobs[i].first + 1;
	}
	state = !ret ? "done" : ret == -EINTR ? "interrupted" :
		last && last->ran && last->res.st.job ? last->res.st.state :
		"refused";
	if (spt_json) {
		js_begin("migrate", pool);
		js_str("volume", vol);
		js_str("dest", req->dest);
		js_str("state", state);
		js_u64("duration_ms", ms);
		js_bool("interrupted", ret == -EINTR ||
			(last && last->res.interrupted));
		js_u64("slices_kept", kept);
		js_u64("slices_moved", moved);
		js_u64("bytes_copied", bytes);
		js_open_arr("jobs");
		for (i = 0; i < nr && jobs[i].ran; i++) {
			js_open_obj(NULL);
			js_u64("first", jobs[i].first);
			js_u64("last", jobs[i].last);
			spt_mig_json("migration", &jobs[i].res.st);
			js_close();
		}
		js_close();
		js_end();
	} else {
		spu_format_size(bytes, false, sz, sizeof(sz));
		printf("migration of %s/%s to %s: %s\n", pool, vol, req->dest,
		       state);
		printf("  left in place  %llu slices already in domain %s\n",
		       (unsigned long long)kept, req->dest + 7);
		printf("  moved          %llu slices in %zu job%s", (unsigned long long)moved,
		       nr, nr == 1 ? "" : "s");
		for (i = 0; i < nr; i++)
			printf("%s%llu-%llu", i ? ", " : " (slices ",
			       (unsigned long long)jobs[i].first,
			       (unsigned long long)jobs[i].last);
		printf("%s\n", nr ? ")" : "");
		printf("  bytes copied   %llu (%s)\n", (unsigned long long)bytes,
		       sz);
		printf("  duration       %llu.%03llu s\n",
		       (unsigned long long)(ms / 1000),
		       (unsigned long long)(ms % 1000));
	}
	if (ret == 1)
		spt_mig_print_failure(pool, last->vol, &last->res);
	else if (ret == -EINTR)
		spt_err("interrupted after %llu of %llu slices: the rest stays where it is; run the same command again to move it",
			(unsigned long long)moved, (unsigned long long)total);
	return ret ? SPT_EXIT_FAIL : SPT_EXIT_OK;
}

enum {
	OPT_TO, OPT_SLICES, OPT_MODE, OPT_MIRROR, OPT_RATE, OPT_CHUNK, OPT_THRESHOLD,
	OPT_PASSES, OPT_DEPTH, OPT_SHARE, OPT_NOWAIT, OPT_ABORT, OPT_SETRATE, OPT_STATUS,
};

int cmd_migrate(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "slices", required_argument, NULL, OPT_SLICES },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "mirror", required_argument, NULL, OPT_MIRROR },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "chunk-kb", required_argument, NULL, OPT_CHUNK },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "max-passes", required_argument, NULL, OPT_PASSES },
		{ "depth", required_argument, NULL, OPT_DEPTH },
		{ "busy-share", required_argument, NULL, OPT_SHARE },
		{ "no-wait", no_argument, NULL, OPT_NOWAIT },
		{ "abort", no_argument, NULL, OPT_ABORT },
		{ "set-rate", required_argument, NULL, OPT_SETRATE },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ NULL, 0, NULL, 0 }
	};
	char pool[SPT_NAME_MAX + 1], vol[SPT_NAME_MAX + 1];
	char dm_name[2 * SPT_NAME_MAX + 2];
	const char *start_opt = NULL, *ctl_opt = NULL;
	unsigned long set_rate = 0;
	struct spt_mig_result res;
	struct spt_mig_status ms;
	struct spt_mig_req req;
	struct spt_mig_job *jobs;
	u64 kept, slice_bytes;
	bool no_wait = false;
	size_t nr_jobs;
	int c, ret;
	/* The numeric options of a start, by their ids. */
	const struct {
		const char *opt;
		unsigned long min, max;
		long *val;
	} nums[] = {
		[OPT_RATE] = { "--rate", 0, SPT_RATE_MAX, &req.rate },
		[OPT_THRESHOLD] = { "--threshold", 0, 0xffffffffUL,
				    &req.threshold },
		[OPT_PASSES] = { "--max-passes", 1, 1000, &req.max_passes },
		[OPT_DEPTH] = { "--depth", 1, SPT_MIG_DEPTH_MAX, &req.depth },
		[OPT_SHARE] = { "--busy-share", 1, 100, &req.busy_share },
	};

	spt_mig_req_init(&req);
	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		if (c <= OPT_NOWAIT) {
			start_opt = opts[c].name;
		} else {
			if (ctl_opt && strcmp(ctl_opt, opts[c].name))
				spt_usage_fail(cmd,
					       "--%s and --%s cannot be given together",
					      ctl_opt, opts[c].name);
			ctl_opt = opts[c].name;
		}
		switch (c) {
		case OPT_TO:
			parse_dest(cmd, optarg, &req);
			break;
		case OPT_SLICES:
			parse_slices(cmd, optarg, &req);
			break;
		case OPT_MODE:
			if (strcmp(optarg, "filter") && strcmp(optarg, "clear") &&
			    strcmp(optarg, "none"))
				spt_usage_fail(cmd,
					       "--mode: unknown mode '%s' (filter, clear or none)",
					      optarg);
			req.mode = optarg;
			break;
		case OPT_MIRROR:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				spt_usage_fail(cmd,
					       "--mirror: '%s' is not on or off",
					      optarg);
			req.mirror = optarg;
			break;
		case OPT_RATE:
		case OPT_THRESHOLD:
		case OPT_PASSES:
		case OPT_DEPTH:
		case OPT_SHARE:
			*nums[c].val = (long)spt_opt_ulong(cmd, nums[c].opt,
							   optarg, nums[c].min,
							   nums[c].max);
			break;
		case OPT_CHUNK:
			req.chunk_kb = spt_opt_ulong(cmd, "--chunk-kb", optarg,
						     4, 1UL << 20);
			if (req.chunk_kb % 4)
				spt_usage_fail(cmd,
					       "--chunk-kb: %lu is not a multiple of 4 KiB",
					      req.chunk_kb);
			break;
		case OPT_NOWAIT:
			no_wait = true;
			break;
		case OPT_SETRATE:
			set_rate = spt_opt_ulong(cmd, "--set-rate", optarg, 0,
						 SPT_RATE_MAX);
			break;
		}
	}
	spt_want_args(cmd, argc, argv, 1);
	spt_split_volspec(cmd, argv[optind], pool, vol);
	if (ctl_opt && start_opt)
		spt_usage_fail(cmd, "--%s takes no migration option (--%s)",
			       ctl_opt, start_opt);
	if (!ctl_opt && !req.dest[0])
		spt_usage_fail(cmd,
			       "--to <member|domain:LABEL> is required to start a migration (or give --abort, --set-rate or --status)");
	spt_dm_name(pool, vol, dm_name, sizeof(dm_name));

	if (ctl_opt && !strcmp(ctl_opt, "status"))
		return migrate_status(pool, vol, dm_name);
	if (ctl_opt && !strcmp(ctl_opt, "abort"))
		return migrate_abort(pool, vol, dm_name);
	if (ctl_opt)
		return migrate_set_rate(pool, vol, dm_name, set_rate);

	if (!no_wait && domain_runs(pool, vol, &req, &jobs, &nr_jobs, &kept,
				    &slice_bytes)) {
		ret = migrate_runs(pool, vol, &req, jobs, nr_jobs, kept,
				   slice_bytes);
		free(jobs);
		return ret;
	}
	if (spt_mig_check(pool, vol, dm_name, &req))
		return SPT_EXIT_FAIL;
	if (!no_wait)
		spt_mig_catch_signals();
	if (spt_mig_start(pool, vol, dm_name, &req))
		return SPT_EXIT_FAIL;
	if (no_wait) {
		if (spt_mig_read(dm_name, &ms)) {
			spt_err("the migration was started, but the status of '%s' cannot be read",
				dm_name);
			return SPT_EXIT_FAIL;
		}
		if (spt_json) {
			json_action("migrate start", pool, vol, &ms);
		} else {
			printf("started the migration of %s/%s slices %llu-%llu to %s (%s)\n",
			       pool, vol, (unsigned long long)ms.first,
			       (unsigned long long)ms.last, ms.dest, ms.state);
			printf("follow it with 'slicepool migrate %s/%s --status'; %s\n",
			       pool, vol, "stop it with --abort");
		}
		return SPT_EXIT_OK;
	}
	memset(&res, 0, sizeof(res));
	ret = spt_mig_wait(pool, vol, dm_name, req.chunk_kb, &res);
	if (ret < 0)
		return SPT_EXIT_FAIL;
	print_report(pool, vol, &res);
	if (ret) {
		spt_mig_print_failure(pool, vol, &res);
		return SPT_EXIT_FAIL;
	}
	return SPT_EXIT_OK;
}

/* ---- rebalance ---- */

/* Fixed point of a workload: 1000 units per percentage point. */
#define W_ONE		1000ULL

/*
 * The workload W (0..100) of a domain as the module computes it
 * (Documentation/dm-slicepool.rst, "Placement", step 1).
 */
static s64 workload(s64 total, s64 nfree, s64 load, s64 w_space, s64 w_load)
{
	u64 used = nfree < total ? (u64)(total - nfree) : 0;
	u64 used_w = total > 0 ? used * 100 * W_ONE / (u64)total : 0;
	u64 load_w = (u64)(load < 100 ? load : 100) * W_ONE;

	if (w_space + w_load <= 0)
		return 0;
	return (s64)(((u64)w_space * used_w + (u64)w_load * load_w) /
		     (u64)(w_space + w_load) / W_ONE);
}

/*
 * The spread (max W - min W) of @p's domains after one slice moved from
 * @from to @to, by the module's formula with the current loads; -1 when
 * the pool's weights cannot be read.
 */
static s64 spread_after(const struct spt_pool *p, const struct spt_domain *from,
			const struct spt_domain *to)
{
	s64 w, lo = 0, hi = 0;
	size_t i;

	if (p->weight_space < 0 || p->weight_load < 0)
		return -1;
	for (i = 0; i < p->nr_domains; i++) {
		const struct spt_domain *d = &p->domains[i];
		s64 nfree = d->free_slices;

		if (d == from)
			nfree++;
		else if (d == to)
			nfree--;
		w = workload(d->total_slices, nfree, d->load, p->weight_space,
			     p->weight_load);
		if (!i || w < lo)
			lo = w;
		if (!i || w > hi)
			hi = w;
	}
	return hi - lo;
}

/* Reads @pool again after a move that stopped the run; its new spread. */
static s64 reload(const char *pool, struct spt_pool *p, s64 spread)
{
	struct spt_domain *hi, *lo;

	if (spt_pool_load(pool, p)) {
		memset(p, 0, sizeof(*p));
		return spread;
	}
	hi = spt_heaviest_domain(p);
	lo = spt_lightest_domain(p);
	return hi ? hi->workload - lo->workload : 0;
}

struct move {
	char volume[SPT_NAME_MAX + 1];
	u64 logical;
	char from_member[SPT_NAME_MAX + 1];
	char from_domain[SPT_NAME_MAX + 1];
	char to[SPT_NAME_MAX + 8];		/* domain:<label> */
	char to_member[SPT_NAME_MAX + 1];	/* "" until done */
	s64 from_w, to_w;
	char state[16];				/* planned, done, ... */
	u64 bytes, duration_ms;
};

/*
 * The slice to move off domain @dom: in the first volume by name that has
 * a live slicepool table and no running migration, the highest logical
 * slice on a member of @dom. Returns false when there is none.
 */
static bool pick_slice(const struct spt_pool *p, const char *dom,
		       struct move *mv)
{
	struct spt_map_entry *map;
	struct spt_mig_status ms;
	size_t i, k, n;
	const char *d;

	for (i = 0; i < p->nr_volumes; i++) {
		const struct spt_volume *v = &p->volumes[i];

		if (!v->status_ok)
			continue;	/* no live slicepool table */
		if (spt_mig_read(v->dm_name, &ms) || spt_mig_running(&ms))
			continue;
		if (spt_vol_map_read(p->name, v->name, &map, &n))
			continue;
		for (k = n; k-- > 0;) {
			if (!map[k].member[0])
				continue;
			d = spt_member_domain(p, map[k].member);
			if (!d || strcmp(d, dom))
				continue;
			snprintf(mv->volume, sizeof(mv->volume), "%s", v->name);
			mv->logical = map[k].logical;
			snprintf(mv->from_member, sizeof(mv->from_member), "%s",
				 map[k].member);
			free(map);
			return true;
		}
		free(map);
	}
	return false;
}

static void print_move(unsigned int i, const struct move *mv, bool json)
{
	char sz[32];

	if (json) {
		js_open_obj(NULL);
		js_str("volume", mv->volume);
		js_u64("logical", mv->logical);
		js_str("from_member", mv->from_member);
		js_str("from_domain", mv->from_domain);
		js_s64("from_workload", mv->from_w);
		js_str("to", mv->to);
		js_s64("to_workload", mv->to_w);
		js_str("to_member", mv->to_member[0] ? mv->to_member : NULL);
		js_str("state", mv->state);
		js_u64("bytes_copied", mv->bytes);
		js_u64("duration_ms", mv->duration_ms);
		js_close();
		return;
	}
	spu_format_size(mv->bytes, false, sz, sizeof(sz));
	if (!strcmp(mv->state, "planned")) {
		printf("would move %s slice %llu from %s (domain %s, W %lld) to %s (W %lld)\n",
		       mv->volume, (unsigned long long)mv->logical,
		       mv->from_member, mv->from_domain, (long long)mv->from_w,
		       mv->to, (long long)mv->to_w);
		return;
	}
	printf("move %u: %s slice %llu from %s (domain %s, W %lld) ", i,
	       mv->volume, (unsigned long long)mv->logical, mv->from_member,
	       mv->from_domain, (long long)mv->from_w);
	printf("to %s (W %lld)%s%s: %s, %s copied in %llu.%03llu s\n",
	       mv->to, (long long)mv->to_w, mv->to_member[0] ? ", now on " : "",
	       mv->to_member, mv->state, sz,
	       (unsigned long long)(mv->duration_ms / 1000),
	       (unsigned long long)(mv->duration_ms % 1000));
	fflush(stdout);
}

int cmd_rebalance(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "band", required_argument, NULL, 'b' },
		{ "max-moves", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long band = 20, max_moves = 16;
	const char *pool, *stop = NULL;
	struct move *moves = NULL;
	s64 spread = 0, spread0 = -1, after;
	struct spt_mig_result res;
	unsigned int nr_moves = 0, i;
	struct spt_mig_req req;
	bool dry_run = false;
	struct spt_domain *hi, *lo;
	char reason[512];
	struct spt_pool p;
	int c, ret, exit_code = SPT_EXIT_FAIL;

	spt_mig_req_init(&req);
	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case 'b':
			band = spt_opt_ulong(cmd, "--band", optarg, 0, 100);
			break;
		case 'm':
			max_moves = spt_opt_ulong(cmd, "--max-moves", optarg, 1,
						  10000);
			break;
		case 'n':
			dry_run = true;
			break;
		case 'r':
			req.rate = (long)spt_opt_ulong(cmd, "--rate", optarg, 0,
						      SPT_RATE_MAX);
			break;
		}
	}
	spt_want_args(cmd, argc, argv, 1);
	spt_check_name(cmd, "pool", argv[optind]);
	pool = argv[optind];
	if (spt_pool_require(pool))
		return SPT_EXIT_FAIL;
	if (!dry_run)
		spt_mig_catch_signals();
	reason[0] = '\0';

	for (;;) {
		struct move mv;

		ret = spt_pool_load(pool, &p);
		if (ret) {
			spt_err("cannot read pool '%s': %s", pool,
				strerror(-ret));
			free(moves);
			return SPT_EXIT_FAIL;
		}
		hi = spt_heaviest_domain(&p);
		lo = spt_lightest_domain(&p);
		spread = hi ? hi->workload - lo->workload : 0;
		if (spread0 < 0)
			spread0 = spread;
		if (spread <= (s64)band) {
			stop = "balanced";
			snprintf(reason, sizeof(reason),
				 "the spread of the domains' workloads (%lld) is within the band (%lu)",
				 (long long)spread, band);
			exit_code = SPT_EXIT_OK;
			break;
		}
		if (nr_moves >= max_moves) {
			stop = "max_moves";
			snprintf(reason, sizeof(reason),
				 "made --max-moves %lu moves; the spread is still %lld (band %lu)",
				 max_moves, (long long)spread, band);
			exit_code = SPT_EXIT_OK;
			break;
		}
		if (lo->free_slices <= 0) {
			stop = "no_space";
			snprintf(reason, sizeof(reason),
				 "the lightest domain %s (W %lld) has no free slice: add members to it",
				 lo->name, (long long)lo->workload);
			break;
		}
		after = spread_after(&p, hi, lo);
		if (after >= spread) {
			stop = "no_progress";
			snprintf(reason, sizeof(reason),
				 "moving a slice from %s (W %lld) to %s (W %lld) would not narrow the spread (%lld, then %lld): with weight_space %lld and weight_load %lld, the load outweighs the space a slice frees",
				 hi->name, (long long)hi->workload, lo->name,
				 (long long)lo->workload, (long long)spread,
				 (long long)after, (long long)p.weight_space,
				 (long long)p.weight_load);
			break;
		}
		memset(&mv, 0, sizeof(mv));
		if (!pick_slice(&p, hi->name, &mv)) {
			stop = "no_slice";
			snprintf(reason, sizeof(reason),
				 "no volume with a dm table and no running migration has a slice on the heaviest domain %s (W %lld)",
				 hi->name, (long long)hi->workload);
			break;
		}
		snprintf(mv.from_domain, sizeof(mv.from_domain), "%s",
			 hi->name);
		snprintf(mv.to, sizeof(mv.to), "domain:%s", lo->name);
		mv.from_w = hi->workload;
		mv.to_w = lo->workload;
		moves = spt_realloc_array(moves, nr_moves + 1, sizeof(*moves));
		if (dry_run) {
			snprintf(mv.state, sizeof(mv.state), "planned");
			moves[nr_moves++] = mv;
			stop = "dry_run";
			snprintf(reason, sizeof(reason),
				 "dry run: the first move is shown, nothing was moved");
			exit_code = SPT_EXIT_OK;
			break;
		}
		spt_pool_free(&p);

		ret = spt_mig_move_slice(pool, mv.volume, mv.logical, mv.to,
					 &req, &res, mv.to_member,
					 sizeof(mv.to_member));
		snprintf(mv.state, sizeof(mv.state), "%s",
			 res.st.job ? res.st.state : "refused");
		mv.bytes = res.st.bytes_copied;
		mv.duration_ms = res.duration_ms;
		moves[nr_moves++] = mv;
		if (!spt_json)
			print_move(nr_moves, &mv, false);
		if (ret) {
			if (ret > 0)
				spt_mig_print_failure(pool, mv.volume, &res);
			stop = res.interrupted ? "interrupted" : "failed";
			snprintf(reason, sizeof(reason),
				 "the migration of %s slice %llu did not complete (%s)",
				 mv.volume, (unsigned long long)mv.logical,
				 mv.state);
			spread = reload(pool, &p, spread);
			break;
		}
		if (res.interrupted || spt_mig_interrupted()) {
			/* The signal came too late to abort this move. */
			stop = "interrupted";
			snprintf(reason, sizeof(reason),
				 "interrupted after move %u", nr_moves);
			spread = reload(pool, &p, spread);
			break;
		}
	}

	if (spt_json) {
		js_begin("rebalance", pool);
		js_u64("band", band);
		js_u64("max_moves", max_moves);
		js_bool("dry_run", dry_run);
		js_open_arr("moves");
		for (i = 0; i < nr_moves; i++)
			print_move(i + 1, &moves[i], true);
		js_close();
		js_str("stopped", stop);
		js_str("reason", reason);
		js_int("spread_before", spread0);
		js_int("spread", spread);
		js_open_arr("domains");
		for (i = 0; i < p.nr_domains; i++)
			spt_json_domain(NULL, &p.domains[i]);
		js_close();
		js_end();
	} else {
		if (dry_run && nr_moves)
			print_move(1, &moves[0], false);
		printf("rebalance of %s: %u move%s, spread %lld -> %lld (band %lu): %s\n",
		       pool, dry_run ? 0 : nr_moves,
		       (dry_run ? 0 : nr_moves) == 1 ? "" : "s",
		       (long long)spread0, (long long)spread, band, reason);
		for (i = 0; i < p.nr_domains; i++)
			printf("  domain %-16s W %3lld  free %lld of %lld slices, load %lld\n",
			       p.domains[i].name,
			       (long long)p.domains[i].workload,
			       (long long)p.domains[i].free_slices,
			       (long long)p.domains[i].total_slices,
			       (long long)p.domains[i].load);
	}
	if (exit_code != SPT_EXIT_OK && strcmp(stop, "failed"))
		spt_err("rebalance of %s stopped: %s", pool, reason);
	spt_pool_free(&p);
	free(moves);
	return exit_code;
}
