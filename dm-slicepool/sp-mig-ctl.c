// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: live migration of a run of logical slices of a volume to
 * other members while I/O continues.  This file is the job's control:
 * the "migrate" messages and their parsing, the start (reservation,
 * publication), step, rate, abort and the end of a job, the status
 * fields, and module init, which registers the migration's hooks with
 * the target (sp-io.h).  The I/O hooks are in sp-mig-io.c, the copy
 * engine in sp-mig-copy.c, the switch in sp-mig-switch.c.  "Live
 * migration" in Documentation/dm-slicepool.rst describes the messages,
 * the status fields and the ordering rule.
 *
 * A job is published in v->mig and the writes mapped before are waited
 * for (sp_volume_drain_io()) before the first claim, so every write that
 * completes from then on is reported to the copy index.
 *
 * Locking:
 *  - v->mig_lock (mutex) serialises job control: start, step, switch
 *    request, abort, extents, and the replacement of v->mig_last (read
 *    under RCU by status; an ended job is freed with kfree_rcu() once it
 *    is no longer v->mig_last).  Order: before pool->lock.
 *  - mig->lock (spinlock, irq-safe: end_io may run in interrupt context)
 *    protects the copy index, the held, deferred and queued bio lists,
 *    the in-flight write and copy counts, the step budget, the throttle
 *    and pacing state, the job state and its counters.  It nests inside
 *    nothing and is never held across I/O.  mig->fg_stamp and mig->stop
 *    are read without it (READ_ONCE()).
 *  - v->mig is published with rcu_assign_pointer() (under pool->lock,
 *    which resize checks it under) and read in map() under
 *    rcu_read_lock(); a job stays allocated (as v->mig_last) after it is
 *    unpublished, and its tracked writes are waited for before its
 *    bitmaps and bio_set are freed.
 */
#include <linux/blkdev.h>
#include <linux/dm-kcopyd.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "sp-core.h"
#include "sp-mig.h"

#define SP_MIG_DEPTH		2	/* default copies in flight (bench) */
#define SP_MIG_CHUNK_KB		512	/* default chunk size */
#define SP_MIG_THRESHOLD	8	/* default: switch below this many */
#define SP_MIG_MAX_PASSES	5
#define SP_MIG_BUSY_SHARE	50	/* default pacing, percent */

struct workqueue_struct *sp_mig_wq;	/* copy worker, switch */
struct workqueue_struct *sp_mig_io_wq;	/* mirror worker only */

static const char * const sp_mig_state_names[] = {
	[SP_MIG_COPYING] = "copying",
	[SP_MIG_SWITCHING] = "switching",
	[SP_MIG_DONE] = "done",
	[SP_MIG_ABORTED] = "aborted",
	[SP_MIG_FAILED] = "failed",
};

static const char * const sp_mig_mode_names[] = {
	[SP_CPX_FILTER] = "filter",
	[SP_CPX_CLEAR] = "clear",
	[SP_CPX_NONE] = "none",
};

/* ---- The end of a job --------------------------------------------------- */

/* Unpublish @mig and wait for the writes it tracks. */
void sp_mig_unpublish(struct sp_mig *mig)
{
	struct sp_volume *v = mig->vol;

	rcu_assign_pointer(v->mig, NULL);
	synchronize_rcu();
	wait_event(mig->wait, !READ_ONCE(mig->inflight_writes));
}

/*
 * Free what the job needs only while it runs.  Every tracked write has
 * completed (or none was ever mapped), so every mirror leg has been put.
 * Destroying the kcopyd client waits for the copy callbacks to return
 * (they may queue the mirror worker); then the mirror worker is flushed,
 * and nothing uses the bio_set any more.
 */
static void sp_mig_free_job(struct sp_mig *mig)
{
	if (mig->kc)
		dm_kcopyd_client_destroy(mig->kc);
	mig->kc = NULL;
	flush_work(&mig->mirror_work);
	if (bioset_initialized(&mig->bs))
		bioset_exit(&mig->bs);
	kvfree(mig->bits);
	mig->bits = NULL;
	mig->cpx.plan = NULL;
	mig->cpx.dirty[0] = NULL;
	mig->cpx.dirty[1] = NULL;
	kvfree(mig->src);
	kvfree(mig->dst);
	mig->src = NULL;
	mig->dst = NULL;
}

void sp_mig_finish(struct sp_mig *mig, enum sp_mig_state state, int error)
{
	spin_lock_irq(&mig->lock);
	mig->state = state;
	mig->error = error;
	spin_unlock_irq(&mig->lock);
	/* Destroying the kcopyd client waits for its callbacks to return. */
	sp_mig_free_job(mig);
	cancel_delayed_work_sync(&mig->work);
	complete_all(&mig->done);
	wake_up_all(&mig->wait);
}

/* Free a job that has ended, once its switch work has returned too. */
static void sp_mig_free_ended(struct sp_mig *mig)
{
	if (!mig)
		return;
	flush_work(&mig->switch_work);
	kfree_rcu(mig, rcu);
}

/* ---- Control ------------------------------------------------------------ */

static int sp_parse_range(const char *s, u64 *first, u64 *last)
{
	char buf[48];
	char *dash;

	if (strscpy(buf, s, sizeof(buf)) < 0)
		return -EINVAL;
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	if (kstrtou64(buf, 10, first))
		return -EINVAL;
	*last = *first;
	if (dash && kstrtou64(dash, 10, last))
		return -EINVAL;
	return *last < *first ? -EINVAL : 0;
}

struct sp_mig_args {
	u64 first, count;
	const char *dest;
	int mode;			/* enum sp_cpx_mode */
	u32 rate, chunk_kb, threshold, max_passes, depth, busy_share;
	bool manual, pipeline;
	int mirror;			/* -1: default (on unless manual) */
	const char *plan;
};

static const char * const sp_mig_onoff_names[] = { "off", "on" };

/*
 * An option of "migrate start", parsed by sp_mig_parse_opt() into the
 * field of struct sp_mig_args at @off, whose type the kind gives:
 *   SP_OPT_FLAG  "<key>" alone; sets a bool
 *   SP_OPT_WORD  "<key>=<word>", one of @words; sets an int to its index
 *   SP_OPT_U32   "<key>=<n>", decimal, 0..@max; sets a u32
 *   SP_OPT_STR   "<key>=<text>", checked later; sets a const char *
 */
enum sp_mig_opt_kind { SP_OPT_FLAG, SP_OPT_WORD, SP_OPT_U32, SP_OPT_STR };

struct sp_mig_opt {
	const char *key;
	enum sp_mig_opt_kind kind;
	size_t off;
	u32 max;
	const char * const *words;
	unsigned int nr_words;
	const char *choices;		/* the words, for the error */
};

static const struct sp_mig_opt sp_mig_opts[] = {
	{ .key = "manual", .kind = SP_OPT_FLAG,
	  .off = offsetof(struct sp_mig_args, manual) },
	{ .key = "pipeline", .kind = SP_OPT_FLAG,
	  .off = offsetof(struct sp_mig_args, pipeline) },
	{ .key = "mode", .kind = SP_OPT_WORD,
	  .off = offsetof(struct sp_mig_args, mode),
	  .words = sp_mig_mode_names,
	  .nr_words = ARRAY_SIZE(sp_mig_mode_names),
	  .choices = "filter, clear or none" },
	{ .key = "mirror", .kind = SP_OPT_WORD,
	  .off = offsetof(struct sp_mig_args, mirror),
	  .words = sp_mig_onoff_names,
	  .nr_words = ARRAY_SIZE(sp_mig_onoff_names),
	  .choices = "on or off" },
	{ .key = "plan", .kind = SP_OPT_STR,
	  .off = offsetof(struct sp_mig_args, plan) },
	{ .key = "rate", .kind = SP_OPT_U32,
	  .off = offsetof(struct sp_mig_args, rate), .max = 1 << 20 },
	{ .key = "chunk_kb", .kind = SP_OPT_U32,
	  .off = offsetof(struct sp_mig_args, chunk_kb), .max = 1 << 20 },
	{ .key = "threshold", .kind = SP_OPT_U32,
	  .off = offsetof(struct sp_mig_args, threshold), .max = U32_MAX },
	{ .key = "max_passes", .kind = SP_OPT_U32,
	  .off = offsetof(struct sp_mig_args, max_passes), .max = 1000 },
	{ .key = "depth", .kind = SP_OPT_U32,
	  .off = offsetof(struct sp_mig_args, depth), .max = SP_MIG_SLOTS },
	{ .key = "busy_share", .kind = SP_OPT_U32,
	  .off = offsetof(struct sp_mig_args, busy_share), .max = 100 },
};

/* One option of "migrate start" (sp_mig_opts[]); logs a refusal. */
static int sp_mig_parse_opt(struct sp_mig_args *a, char *arg)
{
	const struct sp_mig_opt *o, *end = sp_mig_opts + ARRAY_SIZE(sp_mig_opts);
	char *val = strchr(arg, '=');
	void *field;
	unsigned int i;

	if (val)
		*val++ = '\0';
	for (o = sp_mig_opts; o < end; o++)
		if (!strcmp(arg, o->key))
			break;
	if (o == end && val) {
		sp_err("migrate start: unknown option '%s'", arg);
		return -EINVAL;
	}
	/* A flag takes no value, any other option needs one. */
	if (o == end || (o->kind == SP_OPT_FLAG ? !!val : !val)) {
		sp_err("migrate start: bad option '%s%s%s' (<key>=<value>, manual or pipeline)",
		       arg, val ? "=" : "", val ?: "");
		return -EINVAL;
	}
	field = (char *)a + o->off;
	switch (o->kind) {
	case SP_OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case SP_OPT_WORD:
		for (i = 0; i < o->nr_words; i++) {
			if (!strcmp(val, o->words[i])) {
				*(int *)field = i;
				return 0;
			}
		}
		sp_err("migrate start: %s=%s is not %s", arg, val, o->choices);
		return -EINVAL;
	case SP_OPT_U32:
		if (kstrtou32(val, 10, field) || *(u32 *)field > o->max) {
			sp_err("migrate start: %s=%s is not a number in 0..%u",
			       arg, val, o->max);
			return -EINVAL;
		}
		return 0;
	case SP_OPT_STR:
		*(const char **)field = val;
		return 0;
	}
	return -EINVAL;
}

static int sp_mig_parse(struct sp_volume *v, unsigned int argc, char **argv,
			struct sp_mig_args *a)
{
	u64 last;
	unsigned int i;
	int r;

	memset(a, 0, sizeof(*a));
	a->mode = SP_CPX_FILTER;
	a->mirror = -1;
	a->chunk_kb = SP_MIG_CHUNK_KB;
	a->threshold = SP_MIG_THRESHOLD;
	a->max_passes = SP_MIG_MAX_PASSES;
	a->depth = SP_MIG_DEPTH;
	a->busy_share = SP_MIG_BUSY_SHARE;
	if (argc < 2) {
		sp_err("migrate start: expected <first>[-<last>]|all <member|domain:<label>> [<key>=<value>...]");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "all")) {
		a->first = 0;
		a->count = v->nr_slices;
	} else {
		if (sp_parse_range(argv[0], &a->first, &last)) {
			sp_err("migrate start: bad slice range '%s' (<first>[-<last>] or all)",
			       argv[0]);
			return -EINVAL;
		}
		a->count = last - a->first + 1;
	}
	a->dest = argv[1];
	for (i = 2; i < argc; i++) {
		r = sp_mig_parse_opt(a, argv[i]);
		if (r)
			return r;
	}
	if (a->pipeline && !a->manual) {
		sp_err("migrate start: pipeline needs manual");
		return -EINVAL;
	}
	if (!a->max_passes) {
		sp_err("migrate start: max_passes must be at least 1");
		return -EINVAL;
	}
	if (!a->depth) {
		sp_err("migrate start: depth=0 is below 1");
		return -EINVAL;
	}
	if (!a->busy_share) {
		sp_err("migrate start: busy_share=0 is below 1 (100: no pacing)");
		return -EINVAL;
	}
	return 0;
}

/* plan=<a>[-<b>][,...]: the chunks of pass 1 (default: all). */
static int sp_mig_plan(struct sp_mig *mig, const char *plan)
{
	char buf[128], *p = buf, *tok;
	u64 a, b;
	int r;

	if (!plan)
		return sp_cpx_plan_all(&mig->cpx);
	if (strscpy(buf, plan, sizeof(buf)) < 0)
		goto bad;
	while ((tok = strsep(&p, ","))) {
		if (sp_parse_range(tok, &a, &b) || b >= mig->cpx.nr_chunks)
			goto bad;
		r = sp_cpx_plan_range(&mig->cpx, a, b - a + 1);
		if (r)
			return r;
	}
	return 0;
bad:
	sp_err("migrate start: bad plan '%s' (chunk ranges <a>[-<b>],... below %lu)",
	       plan, mig->cpx.nr_chunks);
	return -EINVAL;
}

/*
 * Every table of @v reaches every member through the map, so any enabled
 * member can be a destination without a table reload, unless its logical
 * block size is above what a table's queue limits were stacked with: I/O
 * of that size would fail there.  Logs the refusal (pool->lock held).
 */
static bool sp_tables_take(struct sp_volume *v, struct sp_extent *dst,
			   u64 count)
{
	unsigned int lbs, tl = sp_target_lbs(v);
	u64 i;

	for (i = 0; i < count; i++) {
		lbs = bdev_logical_block_size(dst[i].m->bdev.bdev);
		if (tl && lbs > tl) {
			sp_err("%s: migration destination %s has a logical block size of %u bytes, above the %u of a table of volume %s; reload that table first",
			       v->pool->name, config_item_name(&dst[i].m->item),
			       lbs, tl, v->name);
			return false;
		}
	}
	return true;
}

static int sp_mig_start(struct sp_volume *v, unsigned int argc, char **argv)
{
	struct sp_pool *pool = v->pool;
	u64 slice_sectors = sp_slice_sectors(pool);
	struct sp_mig_args a;
	struct sp_mig *mig, *last;
	unsigned long nr_chunks;
	int r;

	r = sp_mig_parse(v, argc, argv, &a);
	if (r)
		return r;
	if (rcu_access_pointer(v->mig)) {
		sp_err("%s: volume %s is already migrating", pool->name,
		       v->name);
		return -EBUSY;
	}
	if (!a.chunk_kb || (a.chunk_kb & 3) ||
	    slice_sectors % ((u64)a.chunk_kb * 2)) {
		sp_err("migrate start: chunk_kb=%u must be a multiple of 4 that divides the slice size (%u MiB)",
		       a.chunk_kb, pool->slice_mb);
		return -EINVAL;
	}
	mig = kzalloc(sizeof(*mig), GFP_KERNEL);
	if (!mig)
		return -ENOMEM;
	mig->vol = v;
	spin_lock_init(&mig->lock);
	bio_list_init(&mig->held);
	bio_list_init(&mig->mirror_queue);
	bio_list_init(&mig->deferred);
	INIT_LIST_HEAD(&mig->mirroring);
	INIT_WORK(&mig->mirror_work, sp_mig_mirror_work);
	init_waitqueue_head(&mig->wait);
	init_completion(&mig->done);
	INIT_DELAYED_WORK(&mig->work, sp_mig_work);
	INIT_WORK(&mig->switch_work, sp_mig_switch_work);
	for (r = 0; r < SP_MIG_SLOTS; r++)
		mig->slots[r].mig = mig;
	mig->first = a.first;
	mig->count = a.count;
	mig->chunk_sectors = a.chunk_kb * 2;
	mig->chunks_per_slice = div_u64(slice_sectors, mig->chunk_sectors);
	mig->manual = a.manual;
	mig->pipeline = a.pipeline;
	mig->mirror = a.mirror < 0 ? !a.manual : a.mirror;
	mig->rate = a.rate;
	mig->refill = jiffies;
	mig->threshold = a.threshold;
	mig->max_passes = a.max_passes;
	mig->depth = a.depth;
	mig->busy_share = a.busy_share;
	mig->fg_stamp = jiffies - 1;
	strscpy(mig->dest, a.dest, sizeof(mig->dest));

	r = -EINVAL;
	if (!a.count || a.count > SP_CPX_MAX_CHUNKS / mig->chunks_per_slice) {
		sp_err("%s: volume %s: cannot migrate %llu slices", pool->name,
		       v->name, a.count);
		goto free;
	}
	nr_chunks = a.count * mig->chunks_per_slice;
	r = -ENOMEM;
	mig->src = kvcalloc(a.count, sizeof(*mig->src), GFP_KERNEL);
	mig->dst = kvcalloc(a.count, sizeof(*mig->dst), GFP_KERNEL);
	mig->bits = kvzalloc(sp_cpx_mem_bytes(nr_chunks), GFP_KERNEL);
	if (!mig->src || !mig->dst || !mig->bits)
		goto free;
	/* No vecs (clones share the write's), no rescuer (see sp-mig-io.c). */
	r = bioset_init(&mig->bs, SP_MIG_MIRROR_POOL, 0, 0);
	if (r)
		goto free;
	mig->kc = dm_kcopyd_client_create(NULL);
	if (IS_ERR(mig->kc)) {
		r = PTR_ERR(mig->kc);
		mig->kc = NULL;
		goto free;
	}
	r = sp_cpx_init(&mig->cpx, nr_chunks, a.mode, mig->bits);
	if (!r)
		r = sp_mig_plan(mig, a.plan);
	if (r)
		goto free;

	mutex_lock(&pool->lock);
	r = sp_move_reserve(v, a.first, a.count, a.dest, mig->src, mig->dst);
	if (!r) {
		if (!sp_tables_take(v, mig->dst, a.count))
			r = -EINVAL;
		else
			r = sp_md3_move_begin(v, a.first, a.count, mig->dst,
					      mig->mirror);
		if (r)
			sp_md3_move_abort(v, a.first);
	}
	/* Published under pool->lock: resize checks it there. */
	if (!r)
		rcu_assign_pointer(v->mig, mig);
	mutex_unlock(&pool->lock);
	if (r)
		goto free;

	/* Wait for the writes mapped before the job existed (contract). */
	sp_volume_drain_io(v);
	/*
	 * Replace the last job, then free it: kfree_rcu() only waits for the
	 * readers (status) that may have found it before the replacement.
	 */
	last = rcu_dereference_protected(v->mig_last,
					 lockdep_is_held(&v->mig_lock));
	rcu_assign_pointer(v->mig_last, mig);
	sp_mig_free_ended(last);
	sp_info("%s: migrating volume %s slices %llu..%llu to %s: %lu chunks of %u KiB, mode %s, mirror %s, depth %u%s",
		pool->name, v->name, a.first, a.first + a.count - 1, a.dest,
		nr_chunks, a.chunk_kb, sp_mig_mode_names[a.mode],
		mig->mirror ? "on" : "off", mig->depth,
		a.manual ? ", manual" : "");
	if (!mig->manual)
		sp_mig_kick(mig, 0);
	return 0;
free:
	sp_mig_free_job(mig);
	kfree(mig);
	return r;
}

static struct sp_mig *sp_mig_running(struct sp_volume *v, const char *what)
{
	struct sp_mig *mig = rcu_dereference_protected(v->mig,
					lockdep_is_held(&v->mig_lock));

	if (!mig)
		sp_err("%s: migrate %s: volume %s is not migrating",
		       v->pool->name, what, v->name);
	return mig;
}

static int sp_mig_step(struct sp_volume *v, unsigned int argc, char **argv)
{
	struct sp_mig *mig;
	u32 n;

	if (argc != 1 || kstrtou32(argv[0], 10, &n) || !n) {
		sp_err("migrate step: expected a number of chunks >= 1");
		return -EINVAL;
	}
	mig = sp_mig_running(v, "step");
	if (!mig)
		return -EINVAL;
	if (!mig->manual) {
		sp_err("%s: migrate step: the migration of %s is not manual",
		       v->pool->name, v->name);
		return -EINVAL;
	}
	spin_lock_irq(&mig->lock);
	mig->step_budget += n;
	spin_unlock_irq(&mig->lock);
	sp_mig_kick(mig, 0);
	wait_event(mig->wait, ({
		bool idle;

		spin_lock_irq(&mig->lock);
		idle = mig->state != SP_MIG_COPYING ||
			(!mig->step_budget && !mig->copies);
		spin_unlock_irq(&mig->lock);
		idle; }));
	return 0;
}

static int sp_mig_abort_locked(struct sp_volume *v)
{
	struct sp_mig *mig = sp_mig_running(v, "abort");
	struct sp_pool *pool = v->pool;

	if (!mig)
		return -EINVAL;
	spin_lock_irq(&mig->lock);
	if (mig->state != SP_MIG_COPYING) {
		spin_unlock_irq(&mig->lock);
		sp_err("%s: migrate abort: volume %s is switching already",
		       pool->name, v->name);
		return -EBUSY;
	}
	WRITE_ONCE(mig->stop, true);
	spin_unlock_irq(&mig->lock);
	cancel_delayed_work_sync(&mig->work);
	wait_event(mig->wait, !READ_ONCE(mig->copies));
	sp_mig_unpublish(mig);
	mutex_lock(&pool->lock);
	sp_md3_move_abort(v, mig->first);
	mutex_unlock(&pool->lock);
	sp_info("%s: migration of volume %s aborted; it stays on its source",
		pool->name, v->name);
	sp_mig_finish(mig, SP_MIG_ABORTED, 0);
	return 0;
}

/* The last table of @v went away: a migration cannot go on. */
static void sp_mig_volume_gone(struct sp_volume *v)
{
	struct sp_mig *mig;

	mutex_lock(&v->mig_lock);
	mig = rcu_dereference_protected(v->mig, lockdep_is_held(&v->mig_lock));
	if (mig && READ_ONCE(mig->state) == SP_MIG_COPYING)
		sp_mig_abort_locked(v);
	mig = rcu_dereference_protected(v->mig_last,
					lockdep_is_held(&v->mig_lock));
	mutex_unlock(&v->mig_lock);
	if (mig) {
		wait_for_completion(&mig->done);
		flush_work(&mig->switch_work);
	}
}

/*
 * "migrate extents <from> [<max>]": runs of the passive dirty bitmap (this
 * pass's plan), from chunk <from>, at most <max> (default 64) of them:
 * "<pass> <next> <start>+<len>...", <next> being "-" at the end.
 * Returns 1 (the message result is set) or an error.
 */
static int sp_mig_extents(struct sp_volume *v, unsigned int argc,
			  char **argv, char *result, unsigned int maxlen)
{
	struct sp_cpx_extent ext[64];
	struct sp_mig *mig;
	unsigned long from, next;
	unsigned int max = 64, n, i, sz = 0, pass;

	if (kstrtoul(argv[0], 10, &from) ||
	    (argc == 2 && (kstrtouint(argv[1], 10, &max) || !max ||
			   max > 64))) {
		sp_err("migrate extents: expected <from chunk> [<max runs> 1..64]");
		return -EINVAL;
	}
	mig = sp_mig_running(v, "extents");
	if (!mig)
		return -EINVAL;
	spin_lock_irq(&mig->lock);
	if (from >= mig->cpx.nr_chunks) {
		spin_unlock_irq(&mig->lock);
		sp_err("migrate extents: chunk %lu is beyond the job's %lu",
		       from, mig->cpx.nr_chunks);
		return -EINVAL;
	}
	n = sp_cpx_next_extents(&mig->cpx, from, ext, max, &next);
	pass = mig->cpx.pass;
	spin_unlock_irq(&mig->lock);
	DMEMIT("%u ", pass);
	if (next >= mig->cpx.nr_chunks)
		DMEMIT("-");
	else
		DMEMIT("%lu", next);
	for (i = 0; i < n; i++)
		DMEMIT(" %lu+%lu", ext[i].start, ext[i].len);
	return 1;	/* dm: the result is set */
}

static int sp_mig_message(struct sp_volume *v, unsigned int argc,
			  char **argv, char *result, unsigned int maxlen)
{
	struct sp_mig *mig;
	int r = -EINVAL;
	u32 rate;

	if (!argc) {
		sp_err("migrate: expected start, step, rate, switch, abort or extents");
		return -EINVAL;
	}
	mutex_lock(&v->mig_lock);
	if (!strcmp(argv[0], "start")) {
		r = sp_mig_start(v, argc - 1, argv + 1);
	} else if (!strcmp(argv[0], "step")) {
		r = sp_mig_step(v, argc - 1, argv + 1);
	} else if (!strcmp(argv[0], "abort") && argc == 1) {
		r = sp_mig_abort_locked(v);
	} else if (!strcmp(argv[0], "switch") && argc == 1) {
		mig = sp_mig_running(v, "switch");
		if (mig) {
			sp_mig_start_switch(mig);
			wait_for_completion(&mig->done);
			r = mig->error;
		}
	} else if (!strcmp(argv[0], "rate") && argc == 2) {
		mig = sp_mig_running(v, "rate");
		if (kstrtou32(argv[1], 10, &rate) || rate > (1 << 20)) {
			sp_err("migrate rate: '%s' is not a number of MiB/s in 0..%u",
			       argv[1], 1 << 20);
		} else if (mig) {
			spin_lock_irq(&mig->lock);
			mig->rate = rate;
			mig->tokens = 0;
			mig->refill = jiffies;
			spin_unlock_irq(&mig->lock);
			sp_mig_kick(mig, 0);
			r = 0;
		}
	} else if (!strcmp(argv[0], "extents") && argc >= 2 && argc <= 3) {
		r = sp_mig_extents(v, argc - 1, argv + 1, result, maxlen);
	} else {
		sp_err("migrate: unknown subcommand '%s' or wrong argument count",
		       argv[0]);
	}
	mutex_unlock(&v->mig_lock);
	return r;
}

/*
 * Status fields (see "Live migration" in the rst):
 *  migration none
 *  migration <state> <mode> <first>-<last> <dest> <pass> <cursor>
 *    <planned> <remaining> <dirty> <writes_seen> <dirty_set> <filtered>
 *    <cleared> <copied> <recopied> <bytes_copied> <rate> <hold_us> <error>
 *    <mirror> <mirrored> <busy_share> <paced_ms>
 */
static void sp_mig_status(struct sp_volume *v, char *result,
			  unsigned int maxlen, unsigned int *szp)
{
	unsigned int sz = *szp, pass;
	struct sp_mig *mig;
	struct sp_cpx c;
	enum sp_mig_state state;
	u64 bytes, rate, paced;
	s64 hold;
	int error;

	/* No mutex: status must not wait for a step, a drain or a switch. */
	rcu_read_lock();
	mig = rcu_dereference(v->mig_last);
	if (!mig) {
		rcu_read_unlock();
		DMEMIT(" migration none");
		*szp = sz;
		return;
	}
	spin_lock_irq(&mig->lock);
	c = mig->cpx;
	state = mig->state;
	pass = state == SP_MIG_COPYING || state == SP_MIG_SWITCHING ?
		c.pass : mig->passes;
	bytes = mig->bytes_copied;
	rate = mig->rate;
	hold = mig->hold_us;
	error = mig->error;
	paced = div_u64(mig->paced_ns, NSEC_PER_MSEC);
	spin_unlock_irq(&mig->lock);
	DMEMIT(" migration %s %s %llu-%llu %s %u %lu %lu %lu %lu",
	       sp_mig_state_names[state], sp_mig_mode_names[c.mode],
	       mig->first, mig->first + mig->count - 1, mig->dest, pass,
	       c.cursor, c.nr_planned, sp_cpx_remaining(&c), c.nr_dirty);
	DMEMIT(" %llu %llu %llu %llu %llu %llu %llu %llu %lld %d %s %llu %u %llu",
	       c.writes_seen, c.dirty_set, c.filtered, c.cleared, c.copied,
	       c.recopied, bytes, rate, hold, error,
	       mig->mirror ? "on" : "off", c.mirrored, mig->busy_share, paced);
	rcu_read_unlock();
	*szp = sz;
}

static const struct sp_io_hooks sp_mig_hooks = {
	.map = sp_mig_map,
	.mirror = sp_mig_mirror,
	.write_done = sp_mig_write_done,
	.postsuspend = sp_mig_postsuspend,
	.message = sp_mig_message,
	.status = sp_mig_status,
	.volume_gone = sp_mig_volume_gone,
};

/* Before the target is registered (sp-main.c). */
int sp_mig_init(void)
{
	sp_mig_wq = alloc_workqueue("slicepool_mig", WQ_MEM_RECLAIM, 0);
	if (!sp_mig_wq)
		return -ENOMEM;
	sp_mig_io_wq = alloc_workqueue("slicepool_mig_io", WQ_MEM_RECLAIM, 0);
	if (!sp_mig_io_wq) {
		destroy_workqueue(sp_mig_wq);
		return -ENOMEM;
	}
	sp_io_set_hooks(&sp_mig_hooks);
	return 0;
}

/* After the target is unregistered: no table, so no job, is left. */
void sp_mig_exit(void)
{
	sp_io_set_hooks(NULL);
	destroy_workqueue(sp_mig_io_wq);
	destroy_workqueue(sp_mig_wq);
}
