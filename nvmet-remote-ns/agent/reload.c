// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - SIGHUP: the configuration read again
 *
 * (Documentation/nvmet-remote-ns.rst, "Reloading the configuration".)
 *
 * The daemon reads its configuration file again, with the key files it
 * names, and takes from it what can change while it runs: the peers
 * (peer, peer_key, and with a tunnel peer_tunnel and peer_tunnel_psk
 * lines: added, removed, a peer's address or keys changed) and the
 * tunnel's keys, endpoints and peers' tunnel addresses, whose changes are
 * made to the live WireGuard interface (spa_tunnel_diff()).  A peer whose
 * tunnel address changes has its WireGuard peer made again (the others
 * are not touched), then the exports' guard is made again so that its
 * export ports admit the new address; it is refused while a grant
 * borrowed from that peer is in use (its NVMe/TCP connections are to the
 * old address).  The rest is read at start only.  All or nothing: a
 * configuration or key file that is refused, a change only a restart
 * makes, or a peer removed while a grant with it is in use changes
 * nothing, and the configuration in force stays.
 *
 * A peer with a grant in use (lent to it or borrowed from it, in any
 * state but released: fenced and revoking included) cannot lose its
 * peer, peer_key or peer_tunnel line: without them it could not be
 * heard, release, be revoked or reached, and the grant would be stranded
 * on both sides.  Such a reload is refused naming the grant, and the
 * operator releases or revokes it first (the peer stays until then).
 *
 * The lines that change are those of the configuration in force, shared
 * by every thread: the reload writes them under spa_cfg_lock (and the
 * lender's lock, which its readers hold), and the threads that read them
 * for long (the borrow and revocation workers, the borrower's reconcile)
 * work on a copy taken under it (spa_config_snapshot()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

pthread_rwlock_t spa_cfg_lock = PTHREAD_RWLOCK_INITIALIZER;

struct spa_config *spa_config_snapshot(const struct spa_config *c)
{
	struct spa_config *s = malloc(sizeof(*s));

	if (!s)
		return NULL;
	pthread_rwlock_rdlock(&spa_cfg_lock);
	*s = *c;
	pthread_rwlock_unlock(&spa_cfg_lock);
	return s;
}

/* The lines that name @peer in @c: SPA_LINE_* bits. */
#define SPA_LINE_PEER	1U
#define SPA_LINE_KEY	2U
#define SPA_LINE_TUNNEL	4U

static unsigned int peer_lines(const struct spa_config *c, const char *peer)
{
	unsigned int m = 0, i;

	for (i = 0; i < c->nr_peers; i++)
		if (!strcmp(c->peers[i].name, peer))
			m |= SPA_LINE_PEER;
	if (spa_config_key(c, peer))
		m |= SPA_LINE_KEY;
	if (spa_config_tunnel(c, peer))
		m |= SPA_LINE_TUNNEL;
	return m;
}

static const char *line_name(unsigned int m)
{
	return m & SPA_LINE_PEER ? "peer" : m & SPA_LINE_KEY ? "peer_key" :
	       "peer_tunnel";
}

/* Every peer name of @c, each once, into @names; how many. */
static unsigned int peer_names(const struct spa_config *c,
			       char names[][SPA_NODE_MAX + 1], unsigned int max)
{
	const char *s;
	unsigned int n = 0, i, j, k;

	for (k = 0; k < 3; k++) {
		unsigned int cnt = k == 0 ? c->nr_peers :
				   k == 1 ? c->nr_keys : c->nr_tunnels;

		for (i = 0; i < cnt; i++) {
			s = k == 0 ? c->peers[i].name : k == 1 ?
			    c->keys[i].name : c->tunnels[i].name;
			for (j = 0; j < n && strcmp(names[j], s); j++)
				;
			if (j == n && n < max)
				spu_strcpy(names[n++], SPA_NODE_MAX + 1, s);
		}
	}
	return n;
}

/*
 * A grant borrowed from @peer in use (the borrowed ledger of @c): 1 with
 * what it is in @what, 0 if none, -errno when the ledger cannot be read.
 */
static int borrowed_in_use(const struct spa_config *c, const char *peer,
			   char *what, size_t len)
{
	char path[PATH_MAX], why[256];
	struct spa_ledger l;
	const struct spa_grant *g;
	int ret = 0;
	size_t i;

	if (spu_path(path, sizeof(path), "%s/borrowed", c->state_dir))
		return -ENAMETOOLONG;
	ret = spa_ledger_load(&l, path, false, why, sizeof(why));
	if (ret) {
		snprintf(what, len, "%s", why);
		return ret;
	}
	for (i = 0; i < l.n && !ret; i++) {
		g = &l.g[i];
		if (g->state == SPA_G_RELEASED || strcmp(g->peer, peer))
			continue;
		snprintf(what, len,
			 "grant %016llx borrowed from it is %s (give it back: 'slicepool-agent release %016llx')",
			 g->id, spa_gstate_name(g->state), g->id);
		ret = 1;
	}
	spa_ledger_free(&l);
	return ret;
}

/*
 * A grant with @peer in use: lent (the lender's ledger, under its lock)
 * or borrowed (the borrowed ledger): 1 with what it is in @what, 0 if
 * none, -errno when the borrowed ledger cannot be read.
 */
static int grant_in_use(struct spa_agent *a, const char *peer, char *what,
			size_t len)
{
	const struct spa_grant *g;
	int ret = 0;
	size_t i;

	if (a->lender) {
		pthread_mutex_lock(&a->lender->lock);
		for (i = 0; i < a->lender->ledger.n && !ret; i++) {
			g = &a->lender->ledger.g[i];
			if (g->state == SPA_G_RELEASED || strcmp(g->peer, peer))
				continue;
			snprintf(what, len,
				 "grant %016llx lent to it is %s (release it, or 'slicepool-agent revoke %016llx'%s)",
				 g->id, spa_gstate_name(g->state), g->id,
				 g->state == SPA_G_FENCED ?
				 ", or 'release-fenced'" : "");
			ret = 1;
		}
		pthread_mutex_unlock(&a->lender->lock);
		if (ret)
			return ret;
	}
	return borrowed_in_use(a->cfg, peer, what, len);
}

int spa_reload_peers_check(struct spa_agent *a, const struct spa_config *next,
			   struct spa_peer_change *pc, char *why, size_t wlen)
{
	char (*names)[SPA_NODE_MAX + 1];
	char what[256];
	unsigned int n, i, had, has;
	int ret = 0;

	memset(pc, 0, sizeof(*pc));
	names = calloc(3 * SPA_PEERS_MAX, sizeof(*names));
	if (!names)
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	/* Only SIGHUP (this thread) writes the lines: no lock to read them. */
	n = peer_names(a->cfg, names, 3 * SPA_PEERS_MAX);
	for (i = 0; i < n && !ret; i++) {
		had = peer_lines(a->cfg, names[i]);
		has = peer_lines(next, names[i]);
		if (!(had & ~has))
			continue;
		if (!has && pc->n_removed < SPA_PEERS_MAX)
			spu_strcpy(pc->removed[pc->n_removed++],
				   SPA_NODE_MAX + 1, names[i]);
		ret = grant_in_use(a, names[i], what, sizeof(what));
		if (ret > 0)
			ret = spu_reason(why, wlen, -EBUSY,
					 "peer %s: its '%s' line is removed, but %s: a peer stays while a grant with it is in use",
					 names[i], line_name(had & ~has), what);
		else if (ret < 0)
			ret = spu_reason(why, wlen, ret,
					 "peer %s: its '%s' line is removed, and whether a grant with it is in use is not known: %s",
					 names[i], line_name(had & ~has), what);
	}
	n = peer_names(next, names, 3 * SPA_PEERS_MAX);
	for (i = 0; i < n && !ret; i++)
		if (!peer_lines(a->cfg, names[i]) &&
		    pc->n_added < SPA_PEERS_MAX)
			spu_strcpy(pc->added[pc->n_added++], SPA_NODE_MAX + 1,
				   names[i]);
	free(names);
	return ret;
}

void spa_reload_peers_apply(struct spa_agent *a, const struct spa_config *next)
{
	struct spa_config *live = a->live;

	if (a->lender)
		pthread_mutex_lock(&a->lender->lock);
	pthread_rwlock_wrlock(&spa_cfg_lock);
	live->nr_peers = next->nr_peers;
	memcpy(live->peers, next->peers, sizeof(live->peers));
	live->nr_keys = next->nr_keys;
	memcpy(live->keys, next->keys, sizeof(live->keys));
	live->nr_tunnels = next->nr_tunnels;
	memcpy(live->tunnels, next->tunnels, sizeof(live->tunnels));
	live->nr_psks = next->nr_psks;
	memcpy(live->psks, next->psks, sizeof(live->psks));
	pthread_rwlock_unlock(&spa_cfg_lock);
	if (a->lender)
		pthread_mutex_unlock(&a->lender->lock);
	if (spa_peers_reconfigure(&a->peers, next) > 0 &&
	    spa_peers_save(&a->peers))
		spa_warn("cannot save %s", a->peers.path);
}

/*
 * With a tunnel, what SIGHUP would change in it: 0 with the commands in
 * @cmds (maybe none) and the new state in @next, or the reason.
 */
static int tunnel_reload_check(struct spa_agent *a, const struct spa_config *c,
			       struct spa_tunnel_state *next,
			       struct spa_wg_cmds *cmds, char *why, size_t wlen)
{
	int ret;

	cmds->n = 0;
	if (!a->tun && !spa_tunnel_on(c))
		return 0;
	if (!a->tun || !spa_tunnel_on(c))
		return spu_reason(why, wlen, -EINVAL,
				  "'tunnel' %s: the tunnel is set up or removed at start only: restart the agent for it",
				  a->tun ? "removed" : "added");
	ret = spa_tunnel_state_read(next, c, why, wlen);
	if (!ret)
		ret = spa_tunnel_diff(a->tun, next, cmds, why, wlen);
	return ret;
}

/* A peer whose tunnel address a reload changes. */
struct spa_move {
	char name[SPA_NODE_MAX + 1];
	char from[SPA_ADDR_MAX + 1];
	char to[SPA_ADDR_MAX + 1];
};

/*
 * With a tunnel, the peers whose tunnel address @c changes: in @moved
 * (@n of them).  A move is refused (-EBUSY, the reason in
 * @why) while a grant borrowed from that peer is in use: its NVMe/TCP
 * connections are to the old address and would never reach the new one.
 * A grant lent to it may stay: its borrower reconnects from the new
 * address, which the exports' guard admits once it follows.
 */
static int tunnel_moves_check(struct spa_agent *a, const struct spa_config *c,
			      struct spa_move *moved, unsigned int *n,
			      char *why, size_t wlen)
{
	const struct spa_peer_tunnel_cfg *t, *u;
	char what[256];
	unsigned int i;
	int ret;

	*n = 0;
	if (!a->tun)
		return 0;
	for (i = 0; i < a->tun->cfg.nr_tunnels; i++) {
		t = &a->tun->cfg.tunnels[i];
		u = spa_config_tunnel(c, t->name);
		if (!u || !strcmp(t->addr, u->addr))
			continue;
		ret = borrowed_in_use(a->cfg, t->name, what, sizeof(what));
		if (ret > 0)
			return spu_reason(why, wlen, -EBUSY,
					  "'peer_tunnel %s': tunnel address %s (in force: %s), but %s: its NVMe/TCP connections are to %s and would never reach %s: a lender's tunnel address changes only while nothing is borrowed from it",
					  t->name, u->addr, t->addr, what, t->addr,
					  u->addr);
		if (ret < 0)
			return spu_reason(why, wlen, ret,
					  "'peer_tunnel %s': tunnel address %s (in force: %s), and whether a grant borrowed from it is in use is not known: %s",
					  t->name, u->addr, t->addr, what);
		spu_strcpy(moved[*n].name, sizeof(moved[*n].name), t->name);
		spu_strcpy(moved[*n].from, sizeof(moved[*n].from), t->addr);
		spu_strcpy(moved[*n].to, sizeof(moved[*n].to), u->addr);
		(*n)++;
	}
	return 0;
}

/*
 * After a move: each moved peer logged, and the exports' guard made again
 * with the new addresses (the WireGuard peers were made again first, and
 * no peer had the new address in force: nobody else reached the ports
 * meanwhile).
 */
static void tunnel_moves_done(struct spa_agent *a,
			      const struct spa_move *moved, unsigned int n)
{
	char why[512];
	unsigned int i;

	for (i = 0; i < n; i++)
		spa_info("SIGHUP: peer %s: tunnel address now %s (was %s): its WireGuard peer made again, the other peers untouched",
			 moved[i].name, moved[i].to, moved[i].from);
	if (!n || !a->lender)
		return;
	if (spa_lender_guard_sync(a->lender, why, sizeof(why)))
		spa_err("SIGHUP: the exports' guard cannot follow the new tunnel address(es): the moved peers' export ports admit no one until it is set (the next grant or release sets it): %s",
			why);
	else
		spa_info("SIGHUP: the exports' guard follows: each borrower's export ports admit its tunnel address in force");
}

/* "a, b" of @n names, or "none". */
static void name_list(char names[][SPA_NODE_MAX + 1], unsigned int n,
		      char *buf, size_t len)
{
	size_t k = 0;
	unsigned int i;

	snprintf(buf, len, "none");
	for (i = 0; i < n && k < len; i++)
		k += snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
			      names[i]);
}

int spa_agent_reload(struct spa_agent *a, const char *path)
{
	struct spa_tunnel_state *next;
	struct spa_peer_change *pc;
	struct spa_wg_cmds *cmds;
	struct spa_config *c;
	char why[512], added[SPA_PEERS_MAX * (SPA_NODE_MAX + 2) + 8];
	char removed[sizeof(added)];
	struct spa_move *moved;
	unsigned int n_moved = 0;
	int ret;

	c = malloc(sizeof(*c));
	next = malloc(sizeof(*next));
	cmds = malloc(sizeof(*cmds));
	pc = malloc(sizeof(*pc));
	moved = calloc(SPA_PEERS_MAX, sizeof(*moved));
	ret = c && next && cmds && pc && moved ? 0 : -ENOMEM;
	if (ret)
		spu_reason(why, sizeof(why), ret, "out of memory");
	else if (!a->live)
		ret = spu_reason(why, sizeof(why), -EPERM,
				 "this agent's configuration cannot change");
	if (!ret)
		ret = spa_config_load(path, c, why, sizeof(why));
	if (!ret)
		ret = tunnel_reload_check(a, c, next, cmds, why, sizeof(why));
	if (!ret)
		ret = tunnel_moves_check(a, c, moved, &n_moved, why,
					 sizeof(why));
	if (!ret)
		ret = spa_reload_peers_check(a, c, pc, why, sizeof(why));
	if (!ret)
		ret = spa_keys_reload(a->keys, c, why, sizeof(why));
	if (ret) {
		spa_err("SIGHUP: configuration not reloaded, the old one stays in force: %s",
			why);
		goto out;
	}
	spa_reload_peers_apply(a, c);
	name_list(pc->added, pc->n_added, added, sizeof(added));
	name_list(pc->removed, pc->n_removed, removed, sizeof(removed));
	spa_info("SIGHUP: keys of %u peer(s) reloaded from %s, peers added: %s, removed: %s (with the tunnel's peers, keys and endpoints; the rest of the configuration is read at start only)",
		 c->nr_keys, path, added, removed);
	if (!a->tun)
		goto out;
	if (spa_tunnel_apply(a->tun, next, cmds, why, sizeof(why)))
		spa_err("SIGHUP: tunnel %s changed in part only (the next SIGHUP sets all of it): %s",
			a->tun->cfg.tunnel_if, why);
	else if (!cmds->n)
		spa_info("SIGHUP: tunnel %s unchanged", a->tun->cfg.tunnel_if);
	else
		spa_info("SIGHUP: tunnel %s: %u change(s) made, the other peers' sessions untouched",
			 a->tun->cfg.tunnel_if, cmds->n);
	if (n_moved)
		tunnel_moves_done(a, moved, n_moved);
out:
	free(moved);
	free(pc);
	free(cmds);
	free(next);
	free(c);
	return ret;
}
