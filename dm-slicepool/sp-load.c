// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: access load of members, measured from the block device's
 * own statistics, so it counts every I/O the device serves (through this
 * pool or not).
 *
 * Every SP_LOAD_PERIOD (1 s) a delayed work reads io_ticks (the time the
 * device had I/O in flight, jiffies) of each enabled member.  The busy
 * fraction of the last period, util = 100 * d(io_ticks) / d(jiffies)
 * clamped to 0..100, is folded into an exponentially decaying average:
 *
 *	load = load + (util - load) / 4        (fixed point, 10 bits)
 *
 * so a sample's weight halves about every 2.4 s and a sample older than
 * 10 s (the documented window) weighs less than 6 %.  A member busy all
 * the time reaches a load of 76 after 5 s and 94 after 10 s.
 */
#include <linux/jiffies.h>
#include <linux/part_stat.h>
#include <linux/workqueue.h>

#include "sp-core.h"

#define SP_LOAD_PERIOD		HZ
#define SP_LOAD_DECAY_SHIFT	2

static void sp_load_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(sp_load_work, sp_load_fn);

static unsigned long sp_io_ticks(struct sp_member *m)
{
	return part_stat_read(m->bdev.bdev, io_ticks);
}

void sp_load_member_init(struct sp_member *m)
{
	m->load_fp = 0;
	m->last_ticks = sp_io_ticks(m);
	m->last_jiffies = jiffies;
}

static void sp_load_sample(struct sp_member *m)
{
	unsigned long ticks = sp_io_ticks(m), now = jiffies;
	unsigned long dt = now - m->last_jiffies;
	unsigned long busy = ticks - m->last_ticks;
	s64 util, load = m->load_fp;

	if (!dt)
		return;
	util = min_t(u64, div_u64((u64)busy * (100 << SP_LOAD_SHIFT), dt),
		     100 << SP_LOAD_SHIFT);
	load += (util - load) >> SP_LOAD_DECAY_SHIFT;
	WRITE_ONCE(m->load_fp, clamp_t(s64, load, 0, 100 << SP_LOAD_SHIFT));
	m->last_ticks = ticks;
	m->last_jiffies = now;
}

static void sp_load_fn(struct work_struct *work)
{
	struct sp_pool *pool;
	struct sp_member *m;

	mutex_lock(&sp_pools_lock);
	list_for_each_entry(pool, &sp_pools, list) {
		mutex_lock(&pool->lock);
		list_for_each_entry(m, &pool->members, list)
			if (m->enabled)
				sp_load_sample(m);
		mutex_unlock(&pool->lock);
	}
	mutex_unlock(&sp_pools_lock);
	schedule_delayed_work(&sp_load_work, SP_LOAD_PERIOD);
}

void sp_load_start(void)
{
	schedule_delayed_work(&sp_load_work, SP_LOAD_PERIOD);
}

void sp_load_stop(void)
{
	cancel_delayed_work_sync(&sp_load_work);
}
