// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - peer health for the command line
 *
 * The daemon's heartbeat thread decides which peers are up and which are
 * down (peers.c) and, after every round, writes what it found to
 * <state_dir>/health (replaced atomically; removed when it stops):
 *
 *   updated <Unix ms> timeout <heartbeat_timeout s> stale <s>
 *   peer <name> <up|down|unknown> <heard: Unix ms, 0 never> <lendable> <grants>
 *
 * The file is believed for "stale" seconds after "updated" (a heartbeat
 * round, the timeout, and an io_timeout for each call of a round); older,
 * nothing is known.  A peer the file says is down is excluded from new
 * grants: "borrow PEER" refuses it, "borrow SIZE" does not choose it.
 * The file is read by spa_health_load() (state.c, shared with the
 * slicepool command line).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

static int health_path(const struct spa_config *c, char *buf, size_t len)
{
	return spu_path(buf, len, "%s/health", c->state_dir);
}

int spa_health_save(struct spa_peers *t, const struct spa_config *c)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	const struct spa_peer *p;
	unsigned int i;
	u64 stale;
	FILE *f;
	int ret = 0;

	if (health_path(c, path, sizeof(path)))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "# slicepool-agent peer health, written by the daemon every heartbeat\n");
	fprintf(f, "# peer NAME STATE HEARD(Unix ms) LENDABLE GRANTS\n");
	pthread_mutex_lock(&t->lock);
	/* A round calls each peer at most twice (HELLO, HEARTBEAT). */
	stale = (u64)c->heartbeat + c->heartbeat_timeout +
		2ULL * t->n * c->io_timeout;
	fprintf(f, "updated %llu timeout %u stale %llu\n", spa_now_ms(),
		c->heartbeat_timeout, stale);
	for (i = 0; i < t->n; i++) {
		p = &t->p[i];
		fprintf(f, "peer %s %s %llu %llu %u\n", p->name,
			spa_health_name(p->health), p->heard_ms, p->lendable,
			p->grants);
	}
	pthread_mutex_unlock(&t->lock);
	if (fflush(f))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

void spa_health_remove(const struct spa_config *c)
{
	char path[PATH_MAX];

	if (!health_path(c, path, sizeof(path)))
		unlink(path);
}

int spa_health_down(const struct spa_health *h, const char *peer,
		    u64 now_ms, char *why, size_t wlen)
{
	const struct spa_health_entry *e;

	e = h->fresh ? spa_health_find(h, peer) : NULL;
	if (!e || e->health != SPA_H_DOWN)
		return 0;
	if (e->heard_ms && e->heard_ms <= now_ms)
		return spu_reason(why, wlen, 1,
				  "peer %s is down: not heard for %llu s (heartbeat_timeout %u s); it is excluded from new grants until it is heard again",
				  peer, (now_ms - e->heard_ms) / 1000, h->timeout);
	return spu_reason(why, wlen, 1,
			  "peer %s is down: never heard since the agent started (heartbeat_timeout %u s); it is excluded from new grants until it is heard",
			  peer, h->timeout);
}

int spa_health_excluded(const struct spa_config *c, const char *peer,
			char *why, size_t wlen)
{
	struct spa_health *h;
	u64 now = spa_now_ms();
	int ret;

	h = malloc(sizeof(*h));
	if (!h)
		return 0;
	spa_health_load(c, now, h);
	ret = spa_health_down(h, peer, now, why, wlen);
	free(h);
	return ret;
}

static int cmp_candidate(const void *x, const void *y)
{
	const struct spa_candidate *a = x, *b = y;

	if (a->fits != b->fits)
		return a->fits ? -1 : 1;
	if (a->lendable != b->lendable)
		return a->lendable > b->lendable ? -1 : 1;
	if (a->grants != b->grants)
		return a->grants < b->grants ? -1 : 1;
	return strcmp(a->name, b->name);
}

unsigned int spa_choose_peers(struct spa_candidate *cand, unsigned int n,
			      u64 size)
{
	unsigned int i, ok = 0;

	for (i = 0; i < n; i++) {
		cand[i].fits = cand[i].usable && cand[i].lendable >= size;
		if (cand[i].fits)
			ok++;
	}
	qsort(cand, n, sizeof(*cand), cmp_candidate);
	return ok;
}
