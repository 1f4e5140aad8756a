// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - member evacuate
 *
 * Moves every slice of every volume off a member that still works, live,
 * so that "member remove" can take it out (the counterpart of pvmove
 * before vgreduce).  The member is marked draining first (its configfs
 * "drain"): nothing new is allocated on it, nor migrated to it.  Each run
 * of consecutive slices of a volume on the member is one live migration
 * to "auto": the module's placement rule chooses the destinations among
 * the members that take new slices (migrate.c runs them as one batch,
 * with one progress bar and ETA).  A job that fails or is interrupted
 * leaves its slices on the member (nothing is committed before its
 * switch); the jobs done stay done, and the command can be run again.
 *
 * Slices move live in a volume's dm target.  A volume with no dm device
 * (never started, or its device removed) gets one for the evacuation,
 * under its usual name, and loses it again at the end, as pvmove moves
 * the extents of inactive logical volumes: the operator finds the volume
 * as it was, on other members.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

#define SPT_RATE_MAX	1048576UL	/* MiB/s, the module's limit */

/* A volume's dm device that the evacuation creates and removes again */
struct evac_dev {
	char vol[SPT_NAME_MAX + 1];
	char dm_name[2 * SPT_NAME_MAX + 2];
	char *uuid;
	u64 sectors;
	bool created;
};

struct evac {
	const char *pool, *member;
	struct spt_mig_job *jobs;
	size_t nr_jobs;
	struct evac_dev *devs;		/* volumes with no dm device */
	size_t nr_devs;
	u64 slices;			/* on the member */
	u64 slice_bytes;
	char prev_drain[4];		/* "0" or "1": restored on failure */
};

/* The member of @p named @name, or NULL. */
static const struct spt_member *find_member(const struct spt_pool *p,
					    const char *name)
{
	size_t i;

	for (i = 0; i < p->nr_members; i++)
		if (!strcmp(p->members[i].name, name))
			return &p->members[i];
	return NULL;
}

/* Appends the runs of @map on @e->member as jobs of volume @vol. */
static void add_runs(struct evac *e, const char *vol,
		     const struct spt_map_entry *map, size_t n)
{
	struct spt_mig_job *j;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(map[i].member, e->member))
			continue;
		e->slices++;
		j = e->nr_jobs ? &e->jobs[e->nr_jobs - 1] : NULL;
		if (j && !strcmp(j->vol, vol) && i && j->last == i - 1) {
			j->last = i;
			continue;
		}
		e->jobs = spt_realloc_array(e->jobs, e->nr_jobs + 1,
					    sizeof(*e->jobs));
		j = &e->jobs[e->nr_jobs++];
		memset(j, 0, sizeof(*j));
		snprintf(j->vol, sizeof(j->vol), "%s", vol);
		j->first = i;
		j->last = i;
	}
}

/* Notes that volume @v, which has no dm device, needs one to move. */
static int plan_dev(struct evac *e, const struct spt_volume *v)
{
	struct evac_dev *d;

	e->devs = spt_realloc_array(e->devs, e->nr_devs + 1, sizeof(*e->devs));
	d = &e->devs[e->nr_devs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->vol, sizeof(d->vol), "%s", v->name);
	snprintf(d->dm_name, sizeof(d->dm_name), "%s", v->dm_name);
	d->sectors = (u64)v->size / 512;
	if (v->uuid) {
		d->uuid = strdup(v->uuid);
		if (!d->uuid) {
			spt_err("out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

/* Removes the dm devices create_devs() made; says which it could not. */
static void remove_devs(struct evac *e)
{
	struct evac_dev *d;
	size_t i;

	for (i = 0; i < e->nr_devs; i++) {
		d = &e->devs[i];
		if (!d->created)
			continue;
		if (spu_dm_remove(d->dm_name))
			spt_warn("cannot remove %s, the dm device of volume %s/%s created for the evacuation: %s; remove it with 'dmsetup remove %s' when it is not in use",
				 d->dm_name, e->pool, d->vol,
				 spu_dm_last_error(), d->dm_name);
		else
			d->created = false;
	}
}

/*
 * Creates the dm devices of the volumes that have none, for their slices
 * to move live; prints the error and removes those made on failure.
 */
static int create_devs(struct evac *e)
{
	struct evac_dev *d;
	size_t i;
	int ret;

	for (i = 0; i < e->nr_devs; i++) {
		d = &e->devs[i];
		ret = spt_dm_create(d->dm_name, d->uuid, d->sectors, e->pool,
				    d->vol);
		if (ret) {
			spt_err("volume '%s/%s' has no dm device, and creating %s for the evacuation failed: %s (see the kernel log)",
				e->pool, d->vol, d->dm_name,
				spu_dm_last_error());
			remove_devs(e);
			return ret;
		}
		d->created = true;
		spt_info("volume %s/%s has no dm device: %s is created for the evacuation and removed again after it",
			 e->pool, d->vol, d->dm_name);
	}
	return 0;
}

static void free_devs(struct evac *e)
{
	size_t i;

	for (i = 0; i < e->nr_devs; i++)
		free(e->devs[i].uuid);
	free(e->devs);
}

/*
 * Checks the evacuation of @e before anything is changed and plans its
 * jobs: the member is known, enabled and online; the others that take new
 * slices have room for its slices; every volume with slices on it is not
 * an image, has no running migration, and has a dm device with its table
 * or none at all (one is made for the move: plan_dev()).  Prints the
 * error; returns 0 or a negative errno.
 */
static int evac_plan(struct evac *e, struct spt_pool *p)
{
	const struct spt_member *m;
	struct spt_map_entry *map;
	struct spt_mig_status ms;
	u64 avail = 0;
	size_t i, k, n;
	s64 image;
	int ret;

	m = find_member(p, e->member);
	if (!m) {
		spt_err("no member '%s/%s' (see 'slicepool status %s')",
			e->pool, e->member, e->pool);
		return -ENOENT;
	}
	if (m->enable != 1) {
		spt_err("member '%s' of pool '%s' is not enabled: a disabled member serves no slice, so there is nothing to move off it (remove it with 'slicepool member remove %s %s')",
			e->member, e->pool, e->pool, e->member);
		return -EINVAL;
	}
	if (!m->state || strcmp(m->state, "online")) {
		spt_err("member '%s' of pool '%s' is %s: its slices cannot be read, so they cannot be moved off it live (see 'slicepool status %s' and the kernel log)",
			e->member, e->pool, m->state ? m->state : "in an unknown state",
			e->pool);
		return -EIO;
	}
	e->slice_bytes = p->slice_mb > 0 ? (u64)p->slice_mb << 20 : 0;
	for (i = 0; i < p->nr_volumes; i++) {
		ret = spt_vol_map_read(e->pool, p->volumes[i].name, &map, &n);
		if (ret) {
			spt_err("cannot read the map of '%s/%s': %s", e->pool,
				p->volumes[i].name, strerror(-ret));
			return ret;
		}
		add_runs(e, p->volumes[i].name, map, n);
		free(map);
	}
	for (i = 0; i < p->nr_members; i++) {
		const struct spt_member *o = &p->members[i];

		if (o == m || o->enable != 1 || o->drain == 1 || !o->state ||
		    strcmp(o->state, "online") || o->free_slices <= 0)
			continue;
		avail += (u64)o->free_slices;
	}
	if (avail < e->slices) {
		spt_err("member '%s' holds %llu slices, and the other members of pool '%s' that take new slices have %llu free: %llu slices (%llu MiB) missing; add a member (slicepool member add) or free space first",
			e->member, (unsigned long long)e->slices, e->pool,
			(unsigned long long)avail,
			(unsigned long long)(e->slices - avail),
			(unsigned long long)(e->slices - avail) *
			(unsigned long long)(p->slice_mb > 0 ? p->slice_mb : 0));
		return -ENOSPC;
	}
	for (i = 0; i < p->nr_volumes; i++) {
		const struct spt_volume *v = &p->volumes[i];

		for (k = 0; k < e->nr_jobs; k++)
			if (!strcmp(e->jobs[k].vol, v->name))
				break;
		if (k == e->nr_jobs)
			continue;	/* no slice on the member */
		if (cfs_read_s64(&image, "%s/volumes/%s/image", e->pool,
				 v->name))
			image = 0;	/* a module without images */
		if (image == 1) {
			spt_err("volume '%s/%s' has slices on member '%s' but is an image: an image is not migrated (its clones read it where it is), so the member cannot be evacuated while it holds them",
				e->pool, v->name, e->member);
			return -EROFS;
		}
		ret = v->status_ok ? 1 : spu_dm_exists(v->dm_name);
		if (ret == 0 && v->size > 0) {
			ret = plan_dev(e, v);
			if (ret)
				return ret;
			continue;
		}
		if (ret < 0) {
			spt_err("volume '%s/%s' has slices on member '%s', and device-mapper cannot be asked about its dm device %s (%s): slices move live in the volume's dm target",
				e->pool, v->name, e->member, v->dm_name,
				spu_dm_last_error());
			return -EIO;
		}
		if (!v->status_ok) {
			spt_err("volume '%s/%s' has slices on member '%s', and its dm device %s holds no slicepool table: slices move live in the volume's dm target (remove that device, or load the volume's table: 'slicepool assemble')",
				e->pool, v->name, e->member, v->dm_name);
			return -ENODEV;
		}
		if (!spt_mig_read(v->dm_name, &ms) && spt_mig_running(&ms)) {
			spt_err("volume '%s/%s' is already migrating (slices %llu-%llu to %s, %s): wait for it or stop it ('slicepool migrate %s/%s --status' or --abort), then evacuate again",
				e->pool, v->name,
				(unsigned long long)ms.first,
				(unsigned long long)ms.last, ms.dest, ms.state,
				e->pool, v->name);
			return -EBUSY;
		}
	}
	return 0;
}

/* Sets the member's drain attribute; prints the error. */
static int set_drain(const struct evac *e, const char *val)
{
	int ret = cfs_write(val, "%s/members/%s/drain", e->pool, e->member);

	if (ret == -ENOENT)
		spt_err("the loaded dm-slicepool module has no member drain attribute: load a newer module");
	else if (ret)
		spt_err("cannot set drain %s on member '%s' of pool '%s': %s (see the kernel log)",
			val, e->member, e->pool, strerror(-ret));
	return ret;
}

/* The slices of @e->member in the pool's maps now; -1 if unreadable. */
static s64 slices_left(const struct evac *e)
{
	struct evac again = { .pool = e->pool, .member = e->member };
	struct spt_map_entry *map;
	char **names;
	size_t i, n, nn;

	if (cfs_list(&names, &nn, "%s/volumes", e->pool))
		return -1;
	for (i = 0; i < nn; i++) {
		if (spt_vol_map_read(e->pool, names[i], &map, &n)) {
			cfs_free_list(names, nn);
			free(again.jobs);
			return -1;
		}
		add_runs(&again, names[i], map, n);
		free(map);
	}
	cfs_free_list(names, nn);
	free(again.jobs);
	return (s64)again.slices;
}

static void report(const struct evac *e, const char *state, u64 moved,
		   u64 bytes, u64 ms, s64 left)
{
	char sz[32];
	size_t i;

	if (spt_json) {
		js_begin("member evacuate", e->pool);
		js_str("member", e->member);
		js_str("state", state);
		js_u64("slices", e->slices);
		js_u64("slices_moved", moved);
		js_s64("slices_left", left);
		js_u64("bytes_copied", bytes);
		js_u64("duration_ms", ms);
		js_open_arr("jobs");
		for (i = 0; i < e->nr_jobs; i++) {
			const struct spt_mig_job *j = &e->jobs[i];

			js_open_obj(NULL);
			js_str("volume", j->vol);
			js_u64("first", j->first);
			js_u64("last", j->last);
			js_str("state", j->ran && j->res.st.job ?
			       j->res.st.state : "not run");
			js_u64("bytes_copied", j->res.st.bytes_copied);
			js_u64("duration_ms", j->res.duration_ms);
			js_close();
		}
		js_close();
		js_end();
		return;
	}
	spu_format_size(bytes, false, sz, sizeof(sz));
	printf("evacuation of member %s of pool %s: %s\n", e->member, e->pool,
	       state);
	printf("  slices moved   %llu of %llu, in %zu job%s\n",
	       (unsigned long long)moved, (unsigned long long)e->slices,
	       e->nr_jobs, e->nr_jobs == 1 ? "" : "s");
	for (i = 0; i < e->nr_jobs; i++) {
		const struct spt_mig_job *j = &e->jobs[i];

		printf("    %s slices %llu-%llu: %s\n", j->vol,
		       (unsigned long long)j->first,
		       (unsigned long long)j->last,
		       j->ran && j->res.st.job ? j->res.st.state : "not run");
	}
	printf("  bytes copied   %llu (%s)\n", (unsigned long long)bytes, sz);
	printf("  duration       %llu.%03llu s\n",
	       (unsigned long long)(ms / 1000),
	       (unsigned long long)(ms % 1000));
	if (left >= 0)
		printf("  slices left    %lld on %s\n", (long long)left,
		       e->member);
}

int cmd_member_evacuate(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct evac e = { 0 };
	u64 moved = 0, bytes = 0, ms = 0;
	const struct spt_mig_job *last = NULL;
	struct spt_mig_req req;
	struct spt_pool p;
	char label[2 * SPT_NAME_MAX + 16], *prev;
	int c, ret, exit_code = SPT_EXIT_FAIL;
	const char *state;
	s64 left;
	size_t i;

	spt_mig_req_init(&req);
	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		if (c == 'r')
			req.rate = (long)spt_opt_ulong(cmd, "--rate", optarg, 0,
						      SPT_RATE_MAX);
	}
	spt_want_args(cmd, argc, argv, 2);
	e.pool = argv[optind];
	e.member = argv[optind + 1];
	spt_check_name(cmd, "pool", e.pool);
	spt_check_name(cmd, "member", e.member);
	if (spt_pool_require(e.pool))
		return SPT_EXIT_FAIL;
	ret = spt_pool_load(e.pool, &p);
	if (ret) {
		spt_err("cannot read pool '%s': %s", e.pool, strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	ret = evac_plan(&e, &p);
	spt_pool_free(&p);
	if (ret)
		goto out;
	if (!e.slices) {
		report(&e, "nothing to move", 0, 0, 0, 0);
		exit_code = SPT_EXIT_OK;
		goto out;
	}
	if (cfs_read(&prev, "%s/members/%s/drain", e.pool, e.member)) {
		spt_err("the loaded dm-slicepool module has no member drain attribute: load a newer module");
		goto out;
	}
	spt_strip(prev);
	snprintf(e.prev_drain, sizeof(e.prev_drain), "%s",
		 strcmp(prev, "1") ? "0" : "1");
	free(prev);
	if (set_drain(&e, "1"))
		goto out;
	if (create_devs(&e)) {
		set_drain(&e, e.prev_drain);
		goto out;
	}

	spt_mig_catch_signals();
	snprintf(req.dest, sizeof(req.dest), "%s", SPT_MIG_AUTO);
	snprintf(label, sizeof(label), "evacuate %s/%s", e.pool, e.member);
	ret = spt_mig_batch_run(e.pool, label, e.jobs, e.nr_jobs, &req,
				e.slice_bytes);
	remove_devs(&e);
	for (i = 0; i < e.nr_jobs && e.jobs[i].ran; i++) {
		last = &e.jobs[i];
		bytes += last->res.st.bytes_copied;
		ms += last->res.duration_ms;
		if (!strcmp(last->res.st.state, "done"))
			moved += last->last - last->first + 1;
	}
	left = slices_left(&e);
	if (!ret && left == 0) {
		state = "done";
		exit_code = SPT_EXIT_OK;
	} else if (!ret) {
		state = "incomplete";
	} else if (ret == -EINTR || (last && last->res.interrupted)) {
		state = "interrupted";
	} else {
		state = "failed";
	}
	report(&e, state, moved, bytes, ms, left);
	if (ret == 1)
		spt_mig_print_failure(e.pool, last->vol, &last->res);
	if (exit_code == SPT_EXIT_OK) {
		spt_info("member %s holds no slice now and stays draining (no new slice goes to it): remove it with 'slicepool member remove %s %s'",
			 e.member, e.pool, e.member);
		goto out;
	}
	if (!ret && left < 0)
		spt_err("every job ended done, but the maps of pool '%s' cannot be read back to check that member '%s' holds no slice: see 'slicepool status %s'",
			e.pool, e.member, e.pool);
	else if (!ret)
		spt_err("member '%s' still holds %lld slices (of a volume bound meanwhile?): run 'slicepool member evacuate %s %s' again",
			e.member, (long long)left, e.pool, e.member);
	else
		spt_err("evacuation of member '%s' stopped after %llu of %llu slices: every slice is readable, on the member or at its new place; run 'slicepool member evacuate %s %s' again to move the rest",
			e.member, (unsigned long long)moved,
			(unsigned long long)e.slices, e.pool, e.member);
	/* Give the member back to allocation as it was. */
	set_drain(&e, e.prev_drain);
out:
	free_devs(&e);
	free(e.jobs);
	return exit_code;
}
