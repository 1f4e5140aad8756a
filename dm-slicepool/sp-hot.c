// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: hot detection of images.
 *
 * An image is hot when many clones read it (its clone count reaches
 * hot_refs) or when its reads are slow (the read latency the target
 * measures reaches hot_read_latency_us), one, the other or both as
 * hot_mode says.  The module measures and reports (the image table's
 * status, configfs "hot"); the agent decides what to do about it.
 *
 * The measurement (I/O path): map() stamps each read of an image with
 * ktime_get_ns() in its per-bio data; end_io folds the read's latency,
 * the time from map() to its completion by the member, into the volume's
 * struct sp_hot with atomics: a moving average (each read moves it 1/8 of
 * the way to its own latency; two reads folded at once may both move it
 * from the same value, which is close enough) and the largest latency in
 * a window of SP_HOT_WINDOW_NS.  No lock, no allocation, no sleep.  A read
 * older than the window no longer counts: after a quiet window the average
 * reads 0 and restarts from the next read.
 *
 * The settings live in the volume, in memory only: after a module reload
 * they are the defaults again (see "Hot detection" in
 * Documentation/dm-slicepool.rst).
 */
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "sp-core.h"
#include "sp-hot.h"

static const char *const sp_hot_modes[SP_HOT_NR_MODES] = {
	[SP_HOT_ANY] = "any",
	[SP_HOT_ALL] = "all",
	[SP_HOT_REFS] = "refs",
	[SP_HOT_LATENCY] = "latency",
	[SP_HOT_OFF] = "off",
};

/* ---- Measurement ------------------------------------------------------ */

void sp_hot_read_done(struct sp_hot *h, u64 start)
{
	u64 now = ktime_get_ns();
	s64 lat = max_t(s64, now - start, 0);
	s64 last = atomic64_read(&h->last_ns);
	s64 avg, ws, top;

	/* The average: restarted after a quiet window, else 1/8 of the way. */
	if (!last || (s64)(now - last) > (s64)SP_HOT_WINDOW_NS) {
		atomic64_set(&h->avg_ns, lat);
	} else {
		avg = atomic64_read(&h->avg_ns);
		atomic64_add((lat - avg) / 8, &h->avg_ns);
	}
	/* At most one store a millisecond to the shared cache line. */
	if (!last || (s64)(now - last) > (s64)NSEC_PER_MSEC)
		atomic64_set(&h->last_ns, now);

	/*
	 * The window: the first read to complete after it ended starts the
	 * next one (one wins the exchange) and keeps its maximum as the
	 * previous window's, or 0 if the two windows are not adjacent.
	 */
	ws = atomic64_read(&h->win_start);
	if (!ws || (s64)(now - ws) >= (s64)SP_HOT_WINDOW_NS) {
		if (atomic64_cmpxchg(&h->win_start, ws, now) == ws) {
			top = atomic64_xchg(&h->win_max_ns, 0);
			atomic64_set(&h->prev_max_ns,
				     ws && (s64)(now - ws) <
				     (s64)(2 * SP_HOT_WINDOW_NS) ? top : 0);
		}
	}
	top = atomic64_read(&h->win_max_ns);
	while (lat > top && !atomic64_try_cmpxchg(&h->win_max_ns, &top, lat))
		;
}

/*
 * The measured values now, in microseconds: the average of the reads of
 * the last window (0 if none completed in it) and the largest latency of
 * the current window and the one before.
 */
static void sp_hot_measured(struct sp_hot *h, u64 *avg_us, u64 *max_us)
{
	u64 now = ktime_get_ns();
	s64 last = atomic64_read(&h->last_ns);
	s64 ws = atomic64_read(&h->win_start);
	s64 avg = 0, top = 0;

	/* last_ns lags by up to a millisecond: see sp_hot_read_done(). */
	if (last && (s64)(now - last) <=
	    (s64)(SP_HOT_WINDOW_NS + NSEC_PER_MSEC))
		avg = max_t(s64, atomic64_read(&h->avg_ns), 0);
	if (ws && (s64)(now - ws) < (s64)SP_HOT_WINDOW_NS)
		top = max(atomic64_read(&h->win_max_ns),
			  atomic64_read(&h->prev_max_ns));
	else if (ws && (s64)(now - ws) < (s64)(2 * SP_HOT_WINDOW_NS))
		top = atomic64_read(&h->win_max_ns);
	*avg_us = div_u64(avg, NSEC_PER_USEC);
	*max_us = div_u64(top, NSEC_PER_USEC);
}

static u32 sp_hot_refs(struct sp_hot *h)
{
	return READ_ONCE(h->refs) ?: SP_HOT_DEF_REFS;
}

static u32 sp_hot_lat_us(struct sp_hot *h)
{
	return READ_ONCE(h->lat_us) ?: SP_HOT_DEF_LAT_US;
}

/* Whether image @v is hot by its settings (not an image: never). */
static bool sp_hot_is_hot(struct sp_volume *v, u64 clones, u64 avg_us)
{
	struct sp_hot *h = &v->hot;
	bool refs = clones >= sp_hot_refs(h);
	bool lat = avg_us >= sp_hot_lat_us(h);

	if (!READ_ONCE(v->image))
		return false;
	switch (READ_ONCE(h->mode)) {
	case SP_HOT_ANY:
		return refs || lat;
	case SP_HOT_ALL:
		return refs && lat;
	case SP_HOT_REFS:
		return refs;
	case SP_HOT_LATENCY:
		return lat;
	default:
		return false;
	}
}

void sp_hot_status(struct sp_volume *v, char *result, unsigned int maxlen,
		   unsigned int *szp)
{
	unsigned int sz = *szp;
	u64 avg, top;

	sp_hot_measured(&v->hot, &avg, &top);
	DMEMIT(" %llu %llu %d", avg, top,
	       sp_hot_is_hot(v, READ_ONCE(v->clones), avg));
	*szp = sz;
}

/*
 * ---- configfs: the volume's hot_* attributes ----
 * Declared with CONFIGFS_ATTR() in sp-configfs-vol.c, as every volume
 * attribute is; their show and store functions are these.
 */

static struct sp_volume *sp_hot_vol(struct config_item *item)
{
	return container_of(item, struct sp_vol_item, item)->vol;
}

/* The value written, for a log line: at most 32 characters, trimmed. */
static const char *sp_hot_val(const char *page, char *buf, size_t len)
{
	strscpy(buf, page, len);
	return strim(buf);
}

/* Sets *@field to @val if @v is an image (pool->lock), else EINVAL. */
static int sp_hot_set(struct sp_volume *v, const char *what, u32 *field,
		      u32 val)
{
	int r = 0;

	mutex_lock(&v->pool->lock);
	if (!sp_md3_vol_image(v)) {
		sp_err("%s: volume %s: %s refused: the volume is not an image (write 1 to its image attribute first)",
		       v->pool->name, v->name, what);
		r = -EINVAL;
	} else {
		WRITE_ONCE(*field, val);
	}
	mutex_unlock(&v->pool->lock);
	return r;
}

/* A threshold: a number 1..@limit (EINVAL: not a number; ERANGE: out). */
static ssize_t sp_hot_store_u32(struct config_item *item, const char *page,
				size_t count, const char *what, u32 *field,
				u32 limit)
{
	struct sp_volume *v = sp_hot_vol(item);
	char buf[33];
	u32 val;
	int r;

	r = kstrtou32(page, 0, &val);
	if (r == -EINVAL) {
		pr_err("slicepool: volume %s: invalid %s '%s' (a number, 1..%u)\n",
		       v->name, what, sp_hot_val(page, buf, sizeof(buf)), limit);
		return -EINVAL;
	}
	if (r || !val || val > limit) {
		pr_err("slicepool: volume %s: %s '%s' out of range (1..%u)\n",
		       v->name, what, sp_hot_val(page, buf, sizeof(buf)), limit);
		return -ERANGE;
	}
	r = sp_hot_set(v, what, field, val);
	return r ? r : count;
}

ssize_t sp_vol_hot_refs_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", sp_hot_refs(&sp_hot_vol(item)->hot));
}

ssize_t sp_vol_hot_refs_store(struct config_item *item, const char *page,
			      size_t count)
{
	return sp_hot_store_u32(item, page, count, "hot_refs",
				&sp_hot_vol(item)->hot.refs, SP_HOT_MAX_REFS);
}

ssize_t sp_vol_hot_read_latency_us_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", sp_hot_lat_us(&sp_hot_vol(item)->hot));
}

ssize_t sp_vol_hot_read_latency_us_store(struct config_item *item,
					 const char *page, size_t count)
{
	return sp_hot_store_u32(item, page, count, "hot_read_latency_us",
				&sp_hot_vol(item)->hot.lat_us,
				SP_HOT_MAX_LAT_US);
}

ssize_t sp_vol_hot_mode_show(struct config_item *item, char *page)
{
	u32 mode = READ_ONCE(sp_hot_vol(item)->hot.mode);

	return sysfs_emit(page, "%s\n", sp_hot_modes[mode]);
}

ssize_t sp_vol_hot_mode_store(struct config_item *item, const char *page,
			      size_t count)
{
	struct sp_volume *v = sp_hot_vol(item);
	char buf[33];
	u32 mode;
	int r;

	for (mode = 0; mode < SP_HOT_NR_MODES; mode++)
		if (sysfs_streq(page, sp_hot_modes[mode]))
			break;
	if (mode == SP_HOT_NR_MODES) {
		pr_err("slicepool: volume %s: invalid hot_mode '%s' (any, all, refs, latency or off)\n",
		       v->name, sp_hot_val(page, buf, sizeof(buf)));
		return -EINVAL;
	}
	r = sp_hot_set(v, "hot_mode", &v->hot.mode, mode);
	return r ? r : count;
}

/*
 * "<0|1> clones=<n> read_latency_us=<n> read_latency_max_us=<n>": whether
 * the image is hot now by its settings, and what they were applied to.
 */
ssize_t sp_vol_hot_show(struct config_item *item, char *page)
{
	struct sp_volume *v = sp_hot_vol(item);
	u64 clones = READ_ONCE(v->clones), avg, top;

	sp_hot_measured(&v->hot, &avg, &top);
	return sysfs_emit(page,
			  "%d clones=%llu read_latency_us=%llu read_latency_max_us=%llu\n",
			  sp_hot_is_hot(v, clones, avg), clones, avg, top);
}
