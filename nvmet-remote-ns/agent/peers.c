// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the peer table
 *
 * Peers come from the configuration ("peer NAME ADDRESS PORT") and are
 * learned from HELLO messages and from the peer lists of HELLO replies.
 * A configured peer's address is never changed by what is learned (a
 * HELLO that claims another address for it is refused); a learned peer's
 * is updated by the latest HELLO.  Learned peers are kept in
 * <state_dir>/peers so that the command line can reach them by name.
 *
 * Health: a peer is up while it was heard (it answered a HELLO or a
 * HEARTBEAT, or sent this node a valid request) within heartbeat_timeout,
 * down when not, and unknown before either is decided.  A down peer is
 * excluded from new grants (health.c) until it is heard again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

void spa_peers_init(struct spa_peers *t, const struct spa_config *c)
{
	u64 now = spa_mono_ms();
	unsigned int i;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	snprintf(t->self, sizeof(t->self), "%s", c->node);
	if (spu_path(t->path, sizeof(t->path), "%s/peers", c->state_dir))
		t->path[0] = '\0';
	for (i = 0; i < c->nr_peers && i < SPA_PEERS_MAX; i++) {
		snprintf(t->p[i].name, sizeof(t->p[i].name), "%s",
			 c->peers[i].name);
		snprintf(t->p[i].addr, sizeof(t->p[i].addr), "%s",
			 c->peers[i].addr);
		t->p[i].port = c->peers[i].port;
		t->p[i].configured = true;
		t->p[i].since_mono = now;
	}
	t->n = i;
}

void spa_peers_destroy(struct spa_peers *t)
{
	pthread_mutex_destroy(&t->lock);
}

static struct spa_peer *find(struct spa_peers *t, const char *name)
{
	return spa_find_named(t->p, t->n, name, name);
}

/*
 * Records @name at addr:port.  Returns 1 if the table changed, 0 if not,
 * -EPERM for a configured peer claimed at another address, -ENOSPC when
 * the table is full.
 */
int spa_peers_learn(struct spa_peers *t, const char *name, const char *addr,
		    u16 port, char *why, size_t wlen)
{
	struct spa_peer *p;
	int ret = 0;

	if (!strcmp(name, t->self))
		return 0;
	pthread_mutex_lock(&t->lock);
	p = find(t, name);
	if (p && p->configured) {
		if (strcmp(p->addr, addr) || p->port != port)
			ret = spu_reason(why, wlen, -EPERM,
					 "peer %s is configured at %s:%u, not %s:%u",
					 name, p->addr, p->port, addr, port);
		goto out;
	}
	if (p) {
		if (!strcmp(p->addr, addr) && p->port == port)
			goto out;
	} else {
		if (t->n >= SPA_PEERS_MAX) {
			ret = spu_reason(why, wlen, -ENOSPC,
					 "the peer table is full (%d)",
					 SPA_PEERS_MAX);
			goto out;
		}
		p = &t->p[t->n++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->since_mono = spa_mono_ms();
	}
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->port = port;
	ret = 1;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

bool spa_peers_find(struct spa_peers *t, const char *name,
		    struct spa_peer *out)
{
	struct spa_peer *p;

	pthread_mutex_lock(&t->lock);
	p = find(t, name);
	if (p && out)
		*out = *p;
	pthread_mutex_unlock(&t->lock);
	return p;
}

void spa_peers_heard(struct spa_peers *t, const char *name)
{
	struct spa_peer *p;

	pthread_mutex_lock(&t->lock);
	p = find(t, name);
	if (p) {
		p->heard_mono = spa_mono_ms();
		p->heard_ms = spa_now_ms();
		p->misses = 0;
		if (p->health != SPA_H_UP)
			spa_info("peer %s (%s:%u) is up%s", p->name, p->addr,
				 p->port, p->health == SPA_H_DOWN ?
				 " again: it may be granted from again" : "");
		p->health = SPA_H_UP;
	}
	pthread_mutex_unlock(&t->lock);
}

unsigned int spa_peers_check(struct spa_peers *t, u64 now_mono,
			     u64 timeout_ms)
{
	unsigned int i, down = 0;
	struct spa_peer *p;
	u64 ref;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n; i++) {
		p = &t->p[i];
		ref = p->heard_mono > p->since_mono ? p->heard_mono :
		      p->since_mono;
		if (timeout_ms && now_mono - ref > timeout_ms &&
		    p->health != SPA_H_DOWN) {
			if (p->heard_mono)
				spa_warn("peer %s (%s:%u) is down: not heard for %llu s (heartbeat_timeout %llu s); excluded from new grants until it is heard again",
					 p->name, p->addr, p->port,
					 (now_mono - p->heard_mono) / 1000,
					 timeout_ms / 1000);
			else
				spa_warn("peer %s (%s:%u) is down: never heard in %llu s (heartbeat_timeout %llu s); excluded from new grants until it is heard",
					 p->name, p->addr, p->port,
					 (now_mono - ref) / 1000,
					 timeout_ms / 1000);
			p->health = SPA_H_DOWN;
			/* Greet it again (and learn its peers) when back. */
			p->greeted = false;
		}
		if (p->health == SPA_H_DOWN)
			down++;
	}
	pthread_mutex_unlock(&t->lock);
	return down;
}

int spa_peers_reconfigure(struct spa_peers *t, const struct spa_config *c)
{
	const struct spa_peer_cfg *pc;
	struct spa_peer *p;
	unsigned int i, j, k;
	int learned = 0;

	pthread_mutex_lock(&t->lock);
	for (i = 0, k = 0; i < t->n; i++) {
		p = &t->p[i];
		for (j = 0; j < c->nr_peers; j++)
			if (!strcmp(c->peers[j].name, p->name))
				break;
		if (p->configured && j == c->nr_peers) {
			spa_info("peer %s (%s:%u) is no longer configured: out of the peer table",
				 p->name, p->addr, p->port);
			continue;
		}
		if (k != i)
			t->p[k] = *p;
		k++;
	}
	t->n = k;
	for (j = 0; j < c->nr_peers; j++) {
		pc = &c->peers[j];
		p = find(t, pc->name);
		if (!p) {
			if (t->n >= SPA_PEERS_MAX)
				break;	/* the configuration holds as many */
			p = &t->p[t->n++];
			memset(p, 0, sizeof(*p));
			spu_strcpy(p->name, sizeof(p->name), pc->name);
			p->since_mono = spa_mono_ms();
			spa_info("peer %s (%s:%u) is configured: in the peer table",
				 pc->name, pc->addr, pc->port);
		} else if (!p->configured) {
			learned = 1;
		} else if (strcmp(p->addr, pc->addr) || p->port != pc->port) {
			spa_info("peer %s: now at %s:%u (was %s:%u)", pc->name,
				 pc->addr, pc->port, p->addr, p->port);
			p->greeted = false;
		}
		p->configured = true;
		spu_strcpy(p->addr, sizeof(p->addr), pc->addr);
		p->port = pc->port;
	}
	pthread_mutex_unlock(&t->lock);
	return learned;
}

/* This node first, then the peers, as PEER fields. */
void spa_peers_fill(struct spa_peers *t, const struct spa_config *c,
		    struct spa_msg *m)
{
	struct spa_peer_info *pi;
	unsigned int i;

	m->nr_peers = 0;
	pi = &m->peers[m->nr_peers++];
	snprintf(pi->name, sizeof(pi->name), "%s", c->node);
	snprintf(pi->addr, sizeof(pi->addr), "%s", c->advertise);
	pi->port = c->listen_port;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n && m->nr_peers < SPA_PEERS_MAX; i++) {
		pi = &m->peers[m->nr_peers++];
		snprintf(pi->name, sizeof(pi->name), "%s", t->p[i].name);
		snprintf(pi->addr, sizeof(pi->addr), "%s", t->p[i].addr);
		pi->port = t->p[i].port;
	}
	pthread_mutex_unlock(&t->lock);
	m->fields |= SPA_F(SPA_T_PEER);
}

/* Serialises writers of the learned-peers file (its one temporary file). */
static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;

static int peers_save(struct spa_peers *t)
{
	char tmp[PATH_MAX + 8];
	unsigned int i;
	FILE *f;
	int ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", t->path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "# slicepool-agent learned peers: peer NAME ADDRESS PORT\n");
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n; i++)
		if (!t->p[i].configured)
			fprintf(f, "peer %s %s %u\n", t->p[i].name,
				t->p[i].addr, t->p[i].port);
	pthread_mutex_unlock(&t->lock);
	if (fflush(f) || fsync(fileno(f)))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret && rename(tmp, t->path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* The heartbeat thread and the request workers may save at once. */
int spa_peers_save(struct spa_peers *t)
{
	int ret;

	pthread_mutex_lock(&save_lock);
	ret = peers_save(t);
	pthread_mutex_unlock(&save_lock);
	return ret;
}

static void learn_one(const char *name, const char *addr, u16 port,
		      void *arg)
{
	spa_peers_learn(arg, name, addr, port, NULL, 0);
}

int spa_peers_load(struct spa_peers *t)
{
	return spa_learned_read(t->path, learn_one, t);
}

struct resolve_arg {
	const char *name;
	struct spa_peer_cfg *out;
	bool found;
};

static void resolve_one(const char *name, const char *addr, u16 port,
			void *arg)
{
	struct resolve_arg *r = arg;

	if (r->found || strcmp(name, r->name))
		return;
	spu_strcpy(r->out->name, sizeof(r->out->name), name);
	spu_strcpy(r->out->addr, sizeof(r->out->addr), addr);
	r->out->port = port;
	r->found = true;
}

int spa_peer_resolve(const struct spa_config *c, const char *name,
		     struct spa_peer_cfg *out, char *why, size_t wlen)
{
	struct resolve_arg r = { .name = name, .out = out };
	char path[PATH_MAX];
	unsigned int i;

	pthread_rwlock_rdlock(&spa_cfg_lock);
	for (i = 0; i < c->nr_peers; i++) {
		if (!strcmp(c->peers[i].name, name)) {
			*out = c->peers[i];
			break;
		}
	}
	pthread_rwlock_unlock(&spa_cfg_lock);
	if (i < c->nr_peers)
		return 0;
	if (!spu_path(path, sizeof(path), "%s/peers", c->state_dir))
		spa_learned_read(path, resolve_one, &r);
	if (r.found)
		return 0;
	return spu_reason(why, wlen, -ENOENT,
			  "unknown peer '%s': not in %s nor learned (slicepool-agent peers)",
			  name, c->path);
}
