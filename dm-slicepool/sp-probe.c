// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: failed members brought back by themselves.
 *
 * Every SP_PROBE_TICK (1 s) a delayed work looks at the enabled members
 * of every pool on metadata format 3.  A member that is failed (an I/O
 * error, set in end_io) or stale after a failed metadata write is noted
 * once in the log, then every online_probe_s seconds (a pool attribute;
 * 0: never) taken back as the "online" attribute would
 * (sp_member_online()): once its device answers again as this member it
 * is online, and a stale member rejoins, one transaction.  A probe that
 * fails logs nothing of its own (the device's read errors are logged);
 * the member stays as it was, and the wait before the next probe doubles,
 * up to 64 periods, so a dead disk is not read every few seconds.
 *
 * The work runs on the system workqueue under sp_pools_lock and each
 * pool->lock in turn (the order of sp-core.h); the metadata I/O of a
 * probe runs in a NOIO scope (sp_md3_enter()), as every md3 call does.
 */
#include <linux/jiffies.h>
#include <linux/workqueue.h>

#include "sp-core.h"
#include "sp-pool.h"

#define SP_PROBE_TICK		HZ

static void sp_probe_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(sp_probe_work, sp_probe_fn);

/* One member of a pool whose probe period is @period seconds. */
static void sp_probe_member(struct sp_member *m, u32 period)
{
	if (!m->enabled || !m->mdev || !period ||
	    !(READ_ONCE(m->failed) || sp_md3_member_stale_failed(m))) {
		m->probe_noted = false;
		return;
	}
	if (!m->probe_noted) {
		m->probe_noted = true;
		m->probe_fails = 0;
		m->probe_next = jiffies + period * HZ;
		sp_info("%s: %s is %s: its device is probed in %u s, then less often while it fails, to bring it back online (online_probe_s)",
			config_item_name(&m->item), m->path,
			READ_ONCE(m->failed) ? "failed" :
			"stale after a failed metadata write", period);
		return;
	}
	if (time_before(jiffies, m->probe_next))
		return;
	if (!sp_member_online(m, true)) {
		m->probe_noted = false;
		return;
	}
	if (m->probe_fails < 6)
		m->probe_fails++;
	m->probe_next = jiffies + ((unsigned long)period * HZ << m->probe_fails);
}

static void sp_probe_fn(struct work_struct *work)
{
	struct sp_pool *pool;
	struct sp_member *m;

	mutex_lock(&sp_pools_lock);
	list_for_each_entry(pool, &sp_pools, list) {
		u32 period = READ_ONCE(pool->online_probe_s);

		mutex_lock(&pool->lock);
		list_for_each_entry(m, &pool->members, list)
			sp_probe_member(m, period);
		mutex_unlock(&pool->lock);
	}
	mutex_unlock(&sp_pools_lock);
	schedule_delayed_work(&sp_probe_work, SP_PROBE_TICK);
}

void sp_probe_start(void)
{
	schedule_delayed_work(&sp_probe_work, SP_PROBE_TICK);
}

void sp_probe_stop(void)
{
	cancel_delayed_work_sync(&sp_probe_work);
}
