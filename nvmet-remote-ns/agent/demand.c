// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - borrowing on demand
 *
 * A pool that allows it ('borrow_on_demand POOL [MAX]') borrows when it
 * runs out: "slicepool vol create|resize --borrow" runs "slicepool-agent
 * borrow-for POOL SIZE" on ENOSPC, and the daemon borrows ahead of need
 * when the pool's free space falls below 'borrow_threshold POOL LEVEL'.
 * Either way the grant comes from the peer that is up and can lend the
 * most (spa_borrow_any()), and becomes a member in domain remote:<peer>.
 *
 * The daemon's check runs in the heartbeat thread after each round; the
 * borrow it decides on runs in a worker thread of its own (one at a
 * time), so the heartbeats go on while a lender zeroes the grant or a
 * connect waits for its timeout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

int spa_borrowed_now(const struct spa_config *c, u64 *bytes,
		     unsigned int *in_flight, char *why, size_t wlen)
{
	char path[PATH_MAX];
	struct spa_ledger l;
	size_t i;
	int ret;

	*bytes = 0;
	*in_flight = 0;
	if (spu_path(path, sizeof(path), "%s/borrowed", c->state_dir))
		return spu_reason(why, wlen, -ENAMETOOLONG,
				  "state_dir %s: path too long", c->state_dir);
	ret = spa_ledger_load(&l, path, false, why, wlen);
	if (ret)
		return ret;
	for (i = 0; i < l.n; i++) {
		if (l.g[i].state == SPA_G_RELEASED)
			continue;
		*bytes += l.g[i].size;
		*in_flight += l.g[i].state == SPA_G_REQUESTING ||
			      l.g[i].state == SPA_G_CONNECTING;
	}
	spa_ledger_free(&l);
	return 0;
}

int spa_borrow_demand(const struct spa_config *c, struct spa_keys *key,
		      const char *pool, u64 size, struct spa_grant *out,
		      char *why, size_t wlen)
{
	unsigned int in_flight;
	u64 borrowed;
	int ret;

	ret = spa_borrowed_now(c, &borrowed, &in_flight, why, wlen);
	if (!ret)
		ret = spa_demand_allowed(c, pool, size, borrowed, why, wlen);
	if (ret)
		return ret;
	return spa_borrow_any(c, key, size, out, why, wlen);
}

u64 spa_demand_decide(const struct spa_demand *d, const struct spa_config *c,
		      const struct spu_space *s, u64 borrowed,
		      unsigned int in_flight, u64 now_mono, char *why,
		      size_t wlen)
{
	u64 level, free_b, want, room, md;
	char a[32], b[32];

	if (!c->threshold_pool[0]) {
		snprintf(why, wlen, "no borrow_threshold");
		return 0;
	}
	if (d->in_flight) {
		snprintf(why, wlen, "the last borrow ahead of need is still being made");
		return 0;
	}
	if (in_flight) {
		snprintf(why, wlen, "%u borrow(s) in flight", in_flight);
		return 0;
	}
	if (d->last_mono &&
	    now_mono < d->last_mono + (u64)c->borrow_cooldown * 1000) {
		snprintf(why, wlen, "cool-down: %llu s left",
			 (unsigned long long)(d->last_mono +
					      c->borrow_cooldown * 1000ULL -
					      now_mono + 999) / 1000);
		return 0;
	}
	if (!s->slice_bytes || !s->members) {
		snprintf(why, wlen, "pool %s has no enabled, online member",
			 c->pool);
		return 0;
	}
	level = spa_demand_level(c, s->total_slices * s->slice_bytes);
	free_b = s->free_slices * s->slice_bytes;
	spu_format_size(free_b, true, a, sizeof(a));
	spu_format_size(level, true, b, sizeof(b));
	if (free_b >= level) {
		snprintf(why, wlen, "free %s is not below %s", a, b);
		return 0;
	}
	want = spu_borrow_bytes(s, level - free_b);
	if (c->borrow_max) {
		room = borrowed < c->borrow_max ? c->borrow_max - borrowed : 0;
		room -= room % s->slice_bytes;
		md = spu_borrow_bytes(s, 0);
		if (room <= md) {
			spu_format_size(c->borrow_max, true, a, sizeof(a));
			snprintf(why, wlen,
				 "borrowing no more: borrow_on_demand's limit %s leaves no slice of room",
				 a);
			return 0;
		}
		if (want > room)
			want = room;
	}
	snprintf(why, wlen, "free %s below %s", a, b);
	return want;
}

void spa_demand_init(struct spa_demand *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
}

bool spa_demand_busy(struct spa_demand *d)
{
	bool busy;

	pthread_mutex_lock(&d->lock);
	busy = d->in_flight;
	pthread_mutex_unlock(&d->lock);
	return busy;
}

/* The worker: one borrow, logged; the cool-down counts from its end. */
static void *demand_main(void *arg)
{
	struct spa_demand *d = arg;
	const struct spa_config *live = d->cfg;
	spa_demand_borrow_fn *borrow = d->borrow ? d->borrow :
				       spa_borrow_demand;
	char why[1024], sz[32];
	struct spa_config *c;
	struct spa_grant g;
	int ret = -ENOMEM;

	spu_format_size(d->size, true, sz, sizeof(sz));
	memset(&g, 0, sizeof(g));
	/* The peer lines as they are now: a SIGHUP may change them. */
	c = spa_config_snapshot(live);
	if (c)
		ret = borrow(c, d->key, c->pool, d->size, &g, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "out of memory");
	if (ret)
		spa_warn("pool %s: no borrow made ahead of need: %s (next try in %u s)",
			 live->pool, why, live->borrow_cooldown);
	else
		spa_info("borrowed %s from %s as member %s (grant %016llx) ahead of need",
			 sz, g.peer, g.name, g.id);
	free(c);
	pthread_mutex_lock(&d->lock);
	d->last_mono = spa_mono_ms();
	d->in_flight = false;
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Joins a worker that has ended (@wait: or waits for it). */
static void demand_reap(struct spa_demand *d, bool wait)
{
	bool join;

	pthread_mutex_lock(&d->lock);
	join = d->started && (wait || !d->in_flight);
	pthread_mutex_unlock(&d->lock);
	if (!join)
		return;
	pthread_join(d->worker, NULL);
	d->started = false;
}

void spa_demand_tick(const struct spa_config *c, struct spa_keys *key,
		     struct spa_demand *d)
{
	char why[1024], sz[32];
	unsigned int in_flight;
	struct spu_space s;
	u64 borrowed, size;
	int ret;

	if (!c->threshold_pool[0])
		return;
	demand_reap(d, false);
	ret = spu_pool_space(c->pool, &s, why, sizeof(why));
	if (!ret)
		ret = spa_borrowed_now(c, &borrowed, &in_flight, why,
				       sizeof(why));
	if (ret) {
		if (!d->warned)
			spa_warn("borrow_threshold: %s", why);
		d->warned = true;
		return;
	}
	d->warned = false;
	pthread_mutex_lock(&d->lock);
	size = spa_demand_decide(d, c, &s, borrowed, in_flight, spa_mono_ms(),
				 why, sizeof(why));
	if (!size) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	/* No worker runs (in_flight is false): its job is ours to set. */
	d->cfg = c;
	d->key = key;
	d->size = size;
	d->in_flight = true;
	d->started = true;
	ret = pthread_create(&d->worker, NULL, demand_main, d);
	if (ret) {
		d->in_flight = false;
		d->started = false;
		d->last_mono = spa_mono_ms();
	}
	pthread_mutex_unlock(&d->lock);
	spu_format_size(size, true, sz, sizeof(sz));
	if (ret)
		spa_warn("pool %s: %s (borrow_threshold), but no worker to borrow %s: %s (next try in %u s)",
			 c->pool, why, sz, strerror(ret), c->borrow_cooldown);
	else
		spa_info("pool %s: %s (borrow_threshold): borrowing %s ahead of need",
			 c->pool, why, sz);
}

void spa_demand_stop(struct spa_demand *d)
{
	if (spa_demand_busy(d))
		spa_info("waiting for the borrow ahead of need in flight to end");
	demand_reap(d, true);
	pthread_mutex_destroy(&d->lock);
}
