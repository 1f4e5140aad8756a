// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - message dispatch and the daemon
 *
 * A frame is checked in this order, and the first failure decides:
 *
 *   1. prefix: magic, version, flags, declared length (the server reads
 *      no more than that, and never more than 4096 bytes)
 *   2. HMAC-SHA256 over the frame with the key of the peer it claims to
 *      come from (its first field, "node": the one field read before the
 *      MAC): an unknown sender or a mismatch closes the connection
 *      without a reply (nothing unauthenticated is answered)
 *   3. timestamp within max_skew, nonce not seen: ERROR stale / replay
 *   4. the body, strictly (proto.c): ERROR unknown verb / bad message
 *   5. a request (not a reply), addressed to this node ("to"), from
 *      another node: ERROR bad message
 *   6. the verb's own checks
 *
 * Every refusal is logged with the sender's address and the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define SPA_NONCE_CACHE		8192

void spa_msg_init(struct spa_msg *m, const struct spa_config *c, u8 type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->ts_ms = spa_now_ms();
	spa_random(m->nonce, sizeof(m->nonce));
	snprintf(m->node, sizeof(m->node), "%s", c->node);
	m->fields = SPA_F(SPA_T_NODE);
}

void spa_printable(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

void spa_msg_error(struct spa_msg *rep, unsigned int code, const char *fmt,
		   ...)
{
	va_list ap;

	memset(rep, 0, sizeof(*rep));
	rep->type = SPA_ERROR;
	rep->err_code = code;
	va_start(ap, fmt);
	vsnprintf(rep->err_text, sizeof(rep->err_text), fmt, ap);
	va_end(ap);
	/* Only printable ASCII travels. */
	spa_printable(rep->err_text);
	rep->fields = SPA_F(SPA_T_ERR_CODE) | SPA_F(SPA_T_ERR_TEXT);
}

int spa_agent_init(struct spa_agent *a, const struct spa_config *cfg,
		   struct spa_keys *keys, struct spa_lender *lender)
{
	int ret;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->keys = keys;
	a->lender = lender;
	ret = spa_replay_init(&a->replay, SPA_NONCE_CACHE,
			      (u64)cfg->max_skew * 1000);
	if (ret)
		return ret;
	spa_peers_init(&a->peers, cfg);
	spa_peers_load(&a->peers);
	return 0;
}

void spa_agent_free(struct spa_agent *a)
{
	spa_replay_free(&a->replay);
	spa_peers_destroy(&a->peers);
}

static void do_hello(struct spa_agent *a, const struct spa_msg *req,
		     const char *from, struct spa_msg *rep)
{
	char why[256];
	int ret;

	ret = spa_peers_learn(&a->peers, req->node, req->addr, req->port, why,
			      sizeof(why));
	if (ret < 0) {
		spa_msg_error(rep, SPA_ERR_BAD_VALUE, "%s", why);
		return;
	}
	if (ret > 0) {
		spa_info("hello from %s (%s): learned at %s:%u", req->node,
			 from, req->addr, req->port);
		if (spa_peers_save(&a->peers))
			spa_warn("cannot save %s", a->peers.path);
	}
	spa_peers_heard(&a->peers, req->node);
	memset(rep, 0, sizeof(*rep));
	rep->type = SPA_HELLO | SPA_REPLY;
	spa_peers_fill(&a->peers, a->cfg, rep);
}

static void dispatch(struct spa_agent *a, const struct spa_msg *req,
		     const char *from, struct spa_msg *rep)
{
	u64 lendable = 0;
	unsigned int grants = 0;

	switch (req->type) {
	case SPA_HELLO:
		do_hello(a, req, from, rep);
		return;
	case SPA_PEERS:
		memset(rep, 0, sizeof(*rep));
		rep->type = SPA_PEERS | SPA_REPLY;
		spa_peers_fill(&a->peers, a->cfg, rep);
		return;
	case SPA_HEARTBEAT:
		spa_peers_heard(&a->peers, req->node);
		if (a->lender)
			spa_lender_stats(a->lender, &lendable, &grants);
		memset(rep, 0, sizeof(*rep));
		rep->type = SPA_HEARTBEAT | SPA_REPLY;
		rep->fields = SPA_F(SPA_T_FREE) | SPA_F(SPA_T_GRANTS);
		rep->free = lendable;
		rep->grants = grants;
		return;
	case SPA_REVOKE:
		/* To the borrower: any node borrows, lending or not. */
		if (!spa_peers_find(&a->peers, req->node, NULL)) {
			spa_msg_error(rep, SPA_ERR_UNKNOWN_PEER,
				      "%s is not a peer of %s", req->node,
				      a->cfg->node);
			break;
		}
		spa_peers_heard(&a->peers, req->node);
		spa_borrower_revoke(a->cfg, a->keys, req, from, rep);
		return;
	case SPA_REQUEST:
	case SPA_RELEASE:
	case SPA_RESIZE:
	case SPA_REVOKE_REPORT:
		if (!a->lender) {
			spa_msg_error(rep, SPA_ERR_NOT_LENDING,
				      "node %s does not lend", a->cfg->node);
			break;
		}
		if (!spa_peers_find(&a->peers, req->node, NULL)) {
			spa_msg_error(rep, SPA_ERR_UNKNOWN_PEER,
				      "%s is not a peer of %s (configure it, or say hello first)",
				      req->node, a->cfg->node);
			break;
		}
		spa_peers_heard(&a->peers, req->node);
		if (req->type == SPA_REQUEST)
			spa_lender_request(a->lender, req, from, rep);
		else if (req->type == SPA_RESIZE)
			spa_lender_resize(a->lender, req, from, rep);
		else if (req->type == SPA_REVOKE_REPORT)
			spa_lender_revoke_report(a->lender, req, from, rep);
		else
			spa_lender_release(a->lender, req, from, rep);
		return;
	default:
		spa_msg_error(rep, SPA_ERR_BAD_MESSAGE, "%s is not a request",
			      spa_type_name(req->type));
		break;
	}
	spu_refuse(from, "%s from %s: %s: %s", spa_type_name(req->type),
		   req->node, spa_err_name(rep->err_code), rep->err_text);
}

/*
 * Adds the common part, encodes and seals @rep for @peer with the key
 * (@which) its request was verified with; its length or 0.
 */
static size_t finish_reply(struct spa_agent *a, const char *peer, int which,
			   const u8 *nonce, struct spa_msg *rep, u8 *out,
			   size_t cap)
{
	char why[256];
	size_t len;

	rep->ts_ms = spa_now_ms();
	spa_random(rep->nonce, sizeof(rep->nonce));
	snprintf(rep->node, sizeof(rep->node), "%s", a->cfg->node);
	memcpy(rep->reply_to, nonce, SPA_NONCE_LEN);
	rep->fields |= SPA_F(SPA_T_NODE) | SPA_F(SPA_T_REPLY_TO);
	if (spa_encode(rep, out, cap, &len, why, sizeof(why))) {
		spa_err("cannot encode a %s reply: %s", spa_type_name(rep->type),
			why);
		spa_msg_error(rep, SPA_ERR_FAILED, "internal error");
		rep->ts_ms = spa_now_ms();
		spa_random(rep->nonce, sizeof(rep->nonce));
		snprintf(rep->node, sizeof(rep->node), "%s", a->cfg->node);
		memcpy(rep->reply_to, nonce, SPA_NONCE_LEN);
		rep->fields |= SPA_F(SPA_T_NODE) | SPA_F(SPA_T_REPLY_TO);
		if (spa_encode(rep, out, cap, &len, why, sizeof(why)))
			return 0;
	}
	if (spa_keys_seal(a->keys, peer, which, out, len))
		return 0;
	return len;
}

size_t spa_agent_handle(struct spa_agent *a, const u8 *in, size_t len,
			const char *from, u8 *out, size_t cap)
{
	struct spa_msg *req, *rep;
	char why[256], peer[SPA_NODE_MAX + 1];
	unsigned int code = 0;
	size_t olen = 0;
	int ret, which;
	u32 flen;

	ret = spa_check_prefix(in, len, &flen, why, sizeof(why));
	if (!ret && len != flen) {
		snprintf(why, sizeof(why), "%zu bytes for a %u-byte frame",
			 len, flen);
		ret = -SPA_E_TRUNCATED;
	}
	if (ret) {
		spu_refuse(from, "%s", why);
		return 0;
	}
	if (spa_frame_node(in, len, peer)) {
		spu_refuse(from,
			   "%s frame of %zu bytes: no sender name where it must be: not answered",
			   spa_type_name(spa_frame_type(in)), len);
		return 0;
	}
	which = spa_keys_verify(a->keys, peer, in, len);
	if (which == -ENOKEY) {
		spu_refuse(from,
			   "%s frame of %zu bytes claims to come from %s, which has no key here (peer_key): not answered",
			   spa_type_name(spa_frame_type(in)), len, peer);
		return 0;
	}
	if (which < 0) {
		spu_refuse(from,
			   "%s frame of %zu bytes from %s: authentication failed (HMAC mismatch: not %s's key, or altered on the way)",
			   spa_type_name(spa_frame_type(in)), len, peer, peer);
		return 0;
	}
	req = calloc(2, sizeof(*req));
	if (!req)
		return 0;
	rep = req + 1;
	ret = spa_replay_check(&a->replay, spa_frame_nonce(in),
			       spa_frame_ts(in), spa_now_ms(), why,
			       sizeof(why));
	if (ret) {
		code = ret == -SPA_E_STALE ? SPA_ERR_STALE :
		       ret == -SPA_E_REPLAY ? SPA_ERR_REPLAY : SPA_ERR_BUSY;
		goto refuse;
	}
	ret = spa_decode(in, len, req, why, sizeof(why));
	if (ret) {
		code = ret == -SPA_E_VERB ? SPA_ERR_UNKNOWN_VERB :
		       SPA_ERR_BAD_MESSAGE;
		goto refuse;
	}
	if ((req->type & SPA_REPLY) || !(req->fields & SPA_F(SPA_T_TO))) {
		code = SPA_ERR_BAD_MESSAGE;
		snprintf(why, sizeof(why), "%s is not a request",
			 spa_type_name(req->type));
		goto refuse;
	}
	if (strcmp(req->to, a->cfg->node)) {
		code = SPA_ERR_BAD_MESSAGE;
		snprintf(why, sizeof(why), "addressed to %s, not to %s",
			 req->to, a->cfg->node);
		goto refuse;
	}
	if (strcmp(req->node, peer)) {
		/* Cannot happen: the decoder read the same field. */
		code = SPA_ERR_BAD_MESSAGE;
		snprintf(why, sizeof(why), "sender %s, not %s", req->node,
			 peer);
		goto refuse;
	}
	if (!strcmp(req->node, a->cfg->node)) {
		code = SPA_ERR_BAD_MESSAGE;
		snprintf(why, sizeof(why), "claims to come from this node");
		goto refuse;
	}
	dispatch(a, req, from, rep);
	olen = finish_reply(a, peer, which, req->nonce, rep, out, cap);
	free(req);
	return olen;
refuse:
	spu_refuse(from, "%s frame (%zu bytes): %s: %s",
		   spa_type_name(spa_frame_type(in)), len, spa_status_name(ret),
		   why);
	spa_msg_error(rep, code, "%s", why);
	olen = finish_reply(a, peer, which, spa_frame_nonce(in), rep, out,
			    cap);
	free(req);
	return olen;
}

/* ------------------------------------------------------- heartbeats */

/* One call to @p for the heartbeat thread; true if it was answered. */
static bool hb_call(struct spa_agent *a, const struct spa_peer *p,
		    struct spa_msg *req, struct spa_msg *rep, char *why,
		    size_t wlen)
{
	if (spa_call(a->cfg, a->keys, p->addr, p->port, p->name, req, rep,
		     why, wlen))
		return false;
	if (rep->type == SPA_ERROR) {
		snprintf(why, wlen, "%s: %s", spa_err_name(rep->err_code),
			 rep->err_text);
		return false;
	}
	return true;
}

/*
 * A HELLO first (until one is answered: its reply's peers are learned),
 * then a HEARTBEAT (how much the peer can lend, how many grants it has).
 */
static void hb_one(struct spa_agent *a, const struct spa_peer *p)
{
	struct spa_msg *req, *rep;
	struct spa_peer *tp;
	bool ok = true, changed = false, greeted = p->greeted, hb = false;
	char why[256];
	unsigned int i;
	u64 lendable = 0;
	u32 grants = 0;

	req = calloc(2, sizeof(*req));
	if (!req)
		return;
	rep = req + 1;
	if (!greeted) {
		spa_msg_init(req, a->cfg, SPA_HELLO);
		req->fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT);
		snprintf(req->addr, sizeof(req->addr), "%s", a->cfg->advertise);
		req->port = a->cfg->listen_port;
		ok = hb_call(a, p, req, rep, why, sizeof(why));
		for (i = 0; ok && i < rep->nr_peers; i++)
			if (spa_peers_learn(&a->peers, rep->peers[i].name,
					    rep->peers[i].addr,
					    rep->peers[i].port, NULL, 0) > 0) {
				spa_info("peer %s (%s:%u) learned from %s",
					 rep->peers[i].name, rep->peers[i].addr,
					 rep->peers[i].port, p->name);
				changed = true;
			}
		greeted = ok;
	}
	if (ok) {
		spa_msg_init(req, a->cfg, SPA_HEARTBEAT);
		ok = hb_call(a, p, req, rep, why, sizeof(why));
		hb = ok;
		lendable = rep->free;
		grants = rep->grants;
	}

	pthread_mutex_lock(&a->peers.lock);
	for (i = 0; i < a->peers.n; i++) {
		tp = &a->peers.p[i];
		if (strcmp(tp->name, p->name))
			continue;
		tp->greeted = greeted;
		if (hb) {
			tp->lendable = lendable;
			tp->grants = grants;
		} else if (!ok && tp->misses++ == 0) {
			spa_warn("peer %s (%s:%u) did not answer: %s", tp->name,
				 tp->addr, tp->port, why);
		}
	}
	pthread_mutex_unlock(&a->peers.lock);
	if (ok)
		spa_peers_heard(&a->peers, p->name);
	if (changed && spa_peers_save(&a->peers))
		spa_warn("cannot save %s", a->peers.path);
	free(req);
}

/* The borrower's unfinished work, on the peer lines as they are now. */
static int hb_reconcile(struct spa_agent *a)
{
	struct spa_config *c = spa_config_snapshot(a->cfg);
	int ret;

	if (!c)
		return 1;	/* tried again on the next round */
	ret = spa_borrower_reconcile(c, a->keys);
	free(c);
	return ret;
}

static void *hb_main(void *arg)
{
	struct spa_hb *hb = arg;
	struct spa_agent *a = hb->a;
	struct spa_peer snap[SPA_PEERS_MAX];
	struct pollfd pfd = { .fd = hb->stop_fd, .events = POLLIN };
	u64 hbt_ms = (u64)a->cfg->heartbeat_timeout * 1000;
	unsigned int n, i;
	int pending, ret;

	pending = hb_reconcile(a);
	for (;;) {
		if (a->cfg->heartbeat) {
			pthread_mutex_lock(&a->peers.lock);
			n = a->peers.n;
			memcpy(snap, a->peers.p, n * sizeof(snap[0]));
			pthread_mutex_unlock(&a->peers.lock);
			for (i = 0; i < n; i++)
				hb_one(a, &snap[i]);
			spa_peers_check(&a->peers, spa_mono_ms(), hbt_ms);
			/* The revocations first: the lease is longer. */
			if (a->lender)
				spa_lender_revoke_check(a->lender, &a->peers,
							spa_mono_ms(), hbt_ms);
			if (a->lender)
				spa_lender_lease_check(a->lender, &a->peers,
						       spa_mono_ms());
			ret = spa_health_save(&a->peers, a->cfg);
			if (ret)
				spa_warn("cannot write the health file in %s: %s",
					 a->cfg->state_dir, strerror(-ret));
		}
		if (pending > 0)
			pending = hb_reconcile(a);
		/*
		 * The threshold: a borrow is started in the demand worker
		 * (one at a time, a cool-down after), not made here.
		 */
		if (a->cfg->heartbeat)
			spa_demand_tick(a->cfg, a->keys, &hb->demand);
		if (!a->cfg->heartbeat && pending <= 0)
			break;
		if (poll(&pfd, 1, (a->cfg->heartbeat ? a->cfg->heartbeat : 10) *
			 1000) > 0)
			break;
	}
	spa_demand_stop(&hb->demand);
	return NULL;
}

int spa_hb_start(struct spa_hb *hb, struct spa_agent *a, int stop_fd)
{
	spa_demand_borrow_fn *borrow = hb->demand.borrow;
	int ret;

	hb->a = a;
	hb->stop_fd = stop_fd;
	spa_demand_init(&hb->demand);
	hb->demand.borrow = borrow;
	ret = pthread_create(&hb->thread, NULL, hb_main, hb);
	if (ret) {
		pthread_mutex_destroy(&hb->demand.lock);
		return -ret;
	}
	return 0;
}

void spa_hb_join(struct spa_hb *hb)
{
	pthread_join(hb->thread, NULL);
}

/* ------------------------------------------------------- the daemon */

static int mkdir_private(const char *path)
{
	struct stat st;

	if (!mkdir(path, 0700))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

/*
 * Grants lent or borrowed that are not released: their NVMe/TCP
 * connections need the tunnel.  A ledger that cannot be read counts as
 * one (the tunnel is kept).
 */
static unsigned int grants_in_use(const struct spa_config *c)
{
	char path[PATH_MAX], why[256];
	struct spa_ledger l;
	unsigned int n = 0, pass;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		if (spu_path(path, sizeof(path), "%s/%s", c->state_dir,
			     pass ? "borrowed" : "grants") ||
		    spa_ledger_load(&l, path, !pass, why, sizeof(why))) {
			n++;
			continue;
		}
		for (i = 0; i < l.n; i++)
			n += l.g[i].state != SPA_G_RELEASED;
		spa_ledger_free(&l);
	}
	return n;
}

/*
 * At stop: the tunnel goes when nothing uses it; a grant in use keeps it
 * (its NVMe/TCP connection must outlive a restart of the agent, as its
 * export does).
 */
static void tunnel_stop(const struct spa_config *c)
{
	unsigned int n;
	char why[512];

	if (!spa_tunnel_on(c))
		return;
	n = grants_in_use(c);
	if (n)
		spa_info("tunnel %s kept: %u grant(s) lent or borrowed use it",
			 c->tunnel_if, n);
	else if (spa_tunnel_down(c, why, sizeof(why)))
		spa_warn("cannot remove tunnel %s: %s", c->tunnel_if, why);
}

int spa_daemon(struct spa_config *c, const struct spa_backend *be)
{
	struct spa_lender *lender = NULL;
	struct spa_agent *a = NULL;
	struct spa_hb hb = { 0 };
	struct spa_ctl ctl = { .fd = -1 };
	char why[512], lock[PATH_MAX];
	struct spa_tunnel_state *tun = NULL;
	struct spa_keys *keys;
	int lfd = -1, sigfd = -1, lockfd = -1, pipefd[2] = { -1, -1 };
	int ret, rc = 1;
	sigset_t set;
	u16 port;

	keys = malloc(sizeof(*keys));
	if (!keys)
		return 1;
	ret = spa_keys_load(keys, c, why, sizeof(why));
	if (ret) {
		spa_err("%s", why);
		free(keys);
		return 2;
	}
	ret = mkdir_private(c->state_dir);
	if (ret) {
		spa_err("cannot create state directory %s: %s", c->state_dir,
			strerror(-ret));
		goto out;
	}
	lockfd = spu_path(lock, sizeof(lock), "%s/agent.lock", c->state_dir);
	if (!lockfd)
		lockfd = spa_lock_file(lock, false);
	if (lockfd < 0) {
		spa_err("%s: %s", lock, lockfd == -EBUSY ?
			"another slicepool-agent runs on this state directory" :
			strerror(-lockfd));
		goto out;
	}
	spa_dm_init();
	/* Before any export: nvmet listens on the tunnel address. */
	if (spa_tunnel_on(c)) {
		tun = malloc(sizeof(*tun));
		if (!tun || spa_tunnel_up(c, tun, why, sizeof(why))) {
			spa_err("cannot set up the tunnel: %s",
				tun ? why : "out of memory");
			goto out;
		}
	}
	if (c->lend) {
		lender = calloc(1, sizeof(*lender));
		if (!lender)
			goto out;
		ret = spa_lender_init(lender, c, be, why, sizeof(why));
		if (ret) {
			spa_err("%s", why);
			free(lender);
			lender = NULL;
			goto out;
		}
		lender->keys = keys;
		ret = spa_lender_reconcile(lender);
		if (ret < 0)
			goto out;
		if (ret > 0)
			spa_warn("reconcile left %d grant(s) or object(s) to look at (see above)",
				 ret);
	}
	a = calloc(1, sizeof(*a));
	if (!a || spa_agent_init(a, c, keys, lender))
		goto out;
	a->tun = tun;
	a->live = c;
	lfd = spa_listen(c->listen_addr, c->listen_port, &port, why,
			 sizeof(why));
	if (lfd < 0) {
		spa_err("%s", why);
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0 || pipe2(pipefd, O_CLOEXEC)) {
		spa_err("cannot set up signals: %s", strerror(errno));
		goto out;
	}
	if (spa_ctl_start(&ctl, a, pipefd[0], why, sizeof(why))) {
		spa_err("%s", why);
		goto out;
	}
	spa_tunnel_owned = true;
	if (spa_hb_start(&hb, a, pipefd[0])) {
		spa_err("cannot start the heartbeat thread");
		goto out;
	}
	if (c->lend)
		spa_info("node %s listening on %s:%u, lending from pool %s, %u peer(s) configured",
			 c->node, c->listen_addr, port, c->pool, c->nr_peers);
	else
		spa_info("node %s listening on %s:%u, not lending, %u peer(s) configured",
			 c->node, c->listen_addr, port, c->nr_peers);
	rc = spa_serve(a, lfd, sigfd) ? 1 : 0;
	if (write(pipefd[1], "x", 1) != 1)
		spa_warn("cannot stop the heartbeat thread");
	spa_hb_join(&hb);
	spa_ctl_stop(&ctl);
	spa_health_remove(c);
	tunnel_stop(c);
	spa_info("stopped");
out:
	spa_ctl_stop(&ctl);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (sigfd >= 0)
		close(sigfd);
	if (lfd >= 0)
		close(lfd);
	if (a) {
		spa_agent_free(a);
		free(a);
	}
	if (lender) {
		spa_lender_free(lender);
		free(lender);
	}
	if (lockfd >= 0)
		close(lockfd);
	spa_keys_free(keys);
	free(keys);
	free(tun);
	return rc;
}
