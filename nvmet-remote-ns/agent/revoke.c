// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - revocation, the messages of both sides
 *
 * (Documentation/nvmet-remote-ns.rst, "Revocation and leases.")
 *
 * The lender's operator runs 'slicepool-agent revoke GRANT': the daemon
 * (ctl.c) marks the grant revoking (lender.c) and sends REVOKE to its
 * borrower (spa_revoke_send()).  The borrower accepts it only from the
 * grant's lender (the peer its ledger names, whose key signed the
 * message); anyone else is refused (not the owner), logged, and nothing
 * changes.  Accepted, a worker thread (never the request handler, never
 * the heartbeat thread) moves the member's slices off with 'slicepool
 * member evacuate' (live migrations), then gives the grant back as
 * 'release' does (member removed, controllers disconnected, RELEASE).
 * It tells the lender how it goes with REVOKE_REPORT: progress (text
 * only), or a refusal (an error code and the reason: no room for the
 * slices, the evacuation or the give-back failed), after which the grant
 * stays in use on both sides and the lender is back to active.
 *
 * While the evacuation runs, a watcher thread reports its progress in
 * bytes every spa_revoke_progress_ms when it changed: the bytes of the
 * member's slices that have left it (its used slices when the evacuation
 * began, less those it holds now) and the bytes the live migrations of
 * the pool are copying now (each job's bytes_copied from its volume's
 * status, at most its slices' bytes), of the bytes the member held.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"

#define SPA_EVACUATE_TIMEOUT_S	86400

unsigned int spa_revoke_progress_ms = 10000;

/* The grants whose revocation runs here (one worker each). */
static pthread_mutex_t revoke_lock = PTHREAD_MUTEX_INITIALIZER;
/* protected by revoke_lock */
static u64 revoke_running[SPA_PEERS_MAX];

/* 0: @id added; 1: it runs already; -EBUSY: too many run. */
static int running_add(u64 id)
{
	unsigned int i, free_slot = SPA_PEERS_MAX;
	int ret = -EBUSY;

	pthread_mutex_lock(&revoke_lock);
	for (i = 0; i < SPA_PEERS_MAX; i++) {
		if (revoke_running[i] == id) {
			ret = 1;
			goto out;
		}
		if (!revoke_running[i] && free_slot == SPA_PEERS_MAX)
			free_slot = i;
	}
	if (free_slot < SPA_PEERS_MAX) {
		revoke_running[free_slot] = id;
		ret = 0;
	}
out:
	pthread_mutex_unlock(&revoke_lock);
	return ret;
}

static void running_del(u64 id)
{
	unsigned int i;

	pthread_mutex_lock(&revoke_lock);
	for (i = 0; i < SPA_PEERS_MAX; i++)
		if (revoke_running[i] == id)
			revoke_running[i] = 0;
	pthread_mutex_unlock(&revoke_lock);
}

/* ------------------------------------------------------- lender side */

int spa_revoke_send(const struct spa_config *c, struct spa_keys *keys,
		    const char *peer, u64 id, char *why, size_t wlen)
{
	struct spa_msg *req, *rep;
	struct spa_peer_cfg p;
	int ret;

	ret = spa_peer_resolve(c, peer, &p, why, wlen);
	if (ret)
		return ret;
	req = calloc(2, sizeof(*req));
	if (!req)
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	rep = req + 1;
	spa_msg_init(req, c, SPA_REVOKE);
	req->fields |= SPA_F(SPA_T_GRANT_ID);
	req->grant_id = id;
	ret = spa_call(c, keys, p.addr, p.port, p.name, req, rep, why, wlen);
	if (!ret && rep->type == SPA_ERROR)
		ret = spu_reason(why, wlen, 1, "%s refused: %s: %s", peer,
				 spa_err_name(rep->err_code), rep->err_text);
	else if (!ret && (rep->type != (SPA_REVOKE | SPA_REPLY) ||
			  rep->grant_id != id))
		ret = spu_reason(why, wlen, -EPROTO,
				 "%s answered the revoke with a %s", peer,
				 spa_type_name(rep->type));
	free(req);
	return ret;
}

/* ----------------------------------------------------- borrower side */

struct revoke_job {
	struct spa_config *cfg;		/* a snapshot: the job's own */
	struct spa_keys *keys;
	u64 id;
	char lender[SPA_NODE_MAX + 1];
	char member[SPU_NAME_MAX + 1];
};

/* A REVOKE_REPORT to the lender: @code 0 for progress, else a refusal. */
static void send_report(const struct revoke_job *j, unsigned int code,
			const char *fmt, ...) __printf(3, 4);
static void send_report(const struct revoke_job *j, unsigned int code,
			const char *fmt, ...)
{
	struct spa_msg *req, *rep;
	struct spa_peer_cfg p;
	char why[512];
	va_list ap;

	req = calloc(2, sizeof(*req));
	if (!req)
		return;
	rep = req + 1;
	spa_msg_init(req, j->cfg, SPA_REVOKE_REPORT);
	req->fields |= SPA_F(SPA_T_GRANT_ID) | SPA_F(SPA_T_ERR_TEXT);
	req->grant_id = j->id;
	va_start(ap, fmt);
	vsnprintf(req->err_text, sizeof(req->err_text), fmt, ap);
	va_end(ap);
	spa_printable(req->err_text);
	if (code) {
		req->fields |= SPA_F(SPA_T_ERR_CODE);
		req->err_code = code;
		spa_warn("revoke of %016llx refused: %s", j->id, req->err_text);
	} else {
		spa_info("revoke of %016llx: %s", j->id, req->err_text);
	}
	if (spa_peer_resolve(j->cfg, j->lender, &p, why, sizeof(why)) ||
	    spa_call(j->cfg, j->keys, p.addr, p.port, p.name, req, rep, why,
		     sizeof(why)))
		spa_warn("cannot tell %s how the revoke of %016llx goes: %s",
			 j->lender, j->id, why);
	else if (rep->type == SPA_ERROR)
		spa_warn("%s refused the report on %016llx: %s: %s", j->lender,
			 j->id, spa_err_name(rep->err_code), rep->err_text);
	free(req);
}

/* ------------------------------------------------ progress in bytes */

int spa_member_used(const char *pool, const char *member, u64 *bytes,
		    u64 *slice_bytes)
{
	const char *r = spu_configfs_root();
	char path[PATH_MAX];
	u64 mb, total, free_s;
	int ret;

	ret = spu_path(path, sizeof(path), "%s/%s/slice_mb", r, pool);
	if (!ret)
		ret = spu_read_u64(path, &mb);
	if (!ret)
		ret = spu_path(path, sizeof(path), "%s/%s/members/%s/total_slices",
			       r, pool, member);
	if (!ret)
		ret = spu_read_u64(path, &total);
	if (!ret)
		ret = spu_path(path, sizeof(path), "%s/%s/members/%s/free_slices",
			       r, pool, member);
	if (!ret)
		ret = spu_read_u64(path, &free_s);
	if (ret)
		return ret;
	*slice_bytes = mb << 20;
	*bytes = (total > free_s ? total - free_s : 0) * *slice_bytes;
	return 0;
}

/*
 * "migration <state> <mode> <first>-<last> <dest> <pass> <cursor>
 * <planned> <remaining> <dirty> <writes_seen> <dirty_set> <filtered>
 * <cleared> <copied> <recopied> <bytes_copied> ..."
 * (Documentation/dm-slicepool.rst, "Status fields").
 */
#define MIG_FIELDS \
	" migration %15s %*s %llu-%llu %*s %*s %*s %*s %*s %*s %*s %*s " \
	"%*s %*s %*s %*s %llu%n"

u64 spa_mig_copying(const char *status, u64 slice_bytes)
{
	unsigned long long first, last, bytes;
	char state[16];
	const char *m;
	int pos = 0;

	m = strstr(status, " migration ");
	if (!m || sscanf(m, MIG_FIELDS, state, &first, &last, &bytes,
			 &pos) != 4 || !pos)
		return 0;
	if (strcmp(state, "copying") && strcmp(state, "switching"))
		return 0;
	if (last >= first && bytes > (last - first + 1) * slice_bytes)
		bytes = (last - first + 1) * slice_bytes;
	return bytes;
}

/* What the live migrations of @pool are copying now (spa_mig_copying()). */
static u64 pool_copying(const char *pool, u64 slice_bytes)
{
	char path[PATH_MAX], name[2 * SPU_NAME_MAX + 2];
	char **vols = NULL, *st;
	size_t n = 0, i;
	u64 sum = 0;

	if (spu_path(path, sizeof(path), "%s/%s/volumes", spu_configfs_root(),
		     pool) || spu_list(path, true, &vols, &n))
		return 0;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s-%s", pool, vols[i]);
		if (spu_dm_status(name, "slicepool", &st))
			continue;
		sum += spa_mig_copying(st, slice_bytes);
		free(st);
	}
	spu_free_list(vols, n);
	return sum;
}

void spa_evac_progress_text(const char *pool, const char *member, u64 moved,
			    u64 total, char *buf, size_t len)
{
	char a[32], b[32];

	if (moved > total)
		moved = total;
	spu_format_size(moved, true, a, sizeof(a));
	spu_format_size(total, true, b, sizeof(b));
	snprintf(buf, len,
		 "moving the slices of member %s of pool %s off: %s of %s moved (%llu bytes of %llu, %u%%)",
		 member, pool, a, b, moved, total,
		 total ? (unsigned int)(moved * 100 / total) : 100);
}

/* The watcher of an evacuation (one per revocation worker). */
struct evac_watch {
	const struct revoke_job *j;
	pthread_mutex_t lock;	/* protects stop */
	pthread_cond_t cond;	/* stop was set */
	bool stop;
	u64 used0;		/* the member's bytes when it began */
	u64 slice_bytes;
	pthread_t thread;
};

static void *watch_main(void *arg)
{
	struct evac_watch *w = arg;
	const char *pool = w->j->cfg->pool, *member = w->j->member;
	u64 used, moved, last = ~0ULL;
	struct timespec ts;
	char text[SPA_TEXT_MAX + 1];

	pthread_mutex_lock(&w->lock);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += spa_revoke_progress_ms / 1000;
		ts.tv_nsec += (long)(spa_revoke_progress_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!w->stop &&
		       pthread_cond_timedwait(&w->cond, &w->lock, &ts) == 0)
			;
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		if (!spa_member_used(pool, member, &used, &w->slice_bytes)) {
			moved = (w->used0 > used ? w->used0 - used : 0) +
				pool_copying(pool, w->slice_bytes);
			if (moved > w->used0)
				moved = w->used0;
			if (moved != last) {
				spa_evac_progress_text(pool, member, moved,
						       w->used0, text,
						       sizeof(text));
				send_report(w->j, 0, "%s", text);
				last = moved;
			}
		}
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Starts @w for @j's member: false (phases only) if it cannot be read. */
static bool watch_start(struct evac_watch *w, const struct revoke_job *j)
{
	pthread_condattr_t ca;

	memset(w, 0, sizeof(*w));
	w->j = j;
	if (spa_member_used(j->cfg->pool, j->member, &w->used0,
			    &w->slice_bytes))
		return false;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, watch_main, w)) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return false;
	}
	return true;
}

static void watch_stop(struct evac_watch *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

/* The last line of @out that says something (the tool's reason). */
static const char *last_line(char *out)
{
	char *s, *last = out;
	size_t n = strlen(out);

	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	for (s = out; *s; s++)
		if (*s == '\n' && s[1])
			last = s + 1;
	return last[0] ? last : "no reason given";
}

static void *revoke_main(void *arg)
{
	struct revoke_job *j = arg;
	const struct spa_config *c = j->cfg;
	const char *argv[6];
	char out[4096], why[512], sz[32];
	struct evac_watch w;
	bool watched;
	int ret;

	argv[0] = c->slicepool_cli;
	argv[1] = "member";
	argv[2] = "evacuate";
	argv[3] = c->pool;
	argv[4] = j->member;
	argv[5] = NULL;
	watched = watch_start(&w, j);
	if (watched) {
		spu_format_size(w.used0, true, sz, sizeof(sz));
		send_report(j, 0,
			    "moving the slices of member %s of pool %s off: %s (%llu bytes) to move",
			    j->member, c->pool, sz, w.used0);
	} else {
		send_report(j, 0, "moving the slices of member %s of pool %s off",
			    j->member, c->pool);
	}
	ret = spa_run(argv, SPA_EVACUATE_TIMEOUT_S, out, sizeof(out));
	if (watched)
		watch_stop(&w);
	if (ret) {
		send_report(j, SPA_ERR_FAILED,
			    "slicepool member evacuate %s %s failed (%s%d): %s",
			    c->pool, j->member, ret < 0 ? "error " : "exit ",
			    ret < 0 ? -ret : ret, last_line(out));
		goto out;
	}
	send_report(j, 0, "member %s evacuated: giving the grant back", j->member);
	ret = spa_giveback(c, j->keys, j->id, why, sizeof(why));
	if (ret)
		send_report(j, SPA_ERR_FAILED,
			    "cannot give the grant back: %s", why);
	else
		spa_info("revoke of %016llx done: member %s removed, grant given back to %s",
			 j->id, j->member, j->lender);
out:
	running_del(j->id);
	free(j->cfg);
	free(j);
	return NULL;
}

/* The borrowed grant @id as the ledger has it; -errno if it cannot be read. */
static int borrowed_grant(const struct spa_config *c, u64 id,
			  struct spa_grant *out, bool *found, char *why,
			  size_t wlen)
{
	char path[PATH_MAX];
	struct spa_ledger l;
	struct spa_grant *g;
	int ret;

	*found = false;
	ret = spu_path(path, sizeof(path), "%s/borrowed", c->state_dir);
	if (!ret)
		ret = spa_ledger_load(&l, path, false, why, wlen);
	if (ret)
		return ret;
	g = spa_ledger_find(&l, id);
	if (g) {
		*out = *g;
		*found = true;
	}
	spa_ledger_free(&l);
	return 0;
}

void spa_borrower_revoke(const struct spa_config *c, struct spa_keys *keys,
			 const struct spa_msg *req, const char *from,
			 struct spa_msg *rep)
{
	struct revoke_job *j;
	struct spa_grant g;
	pthread_attr_t attr;
	pthread_t t;
	char why[256];
	bool found;
	int ret;

	if (borrowed_grant(c, req->grant_id, &g, &found, why, sizeof(why))) {
		spa_msg_error(rep, SPA_ERR_FAILED, "%s", why);
		goto refused;
	}
	if (!found || g.state == SPA_G_RELEASED) {
		spa_msg_error(rep, SPA_ERR_UNKNOWN_GRANT,
			      "no grant %016llx borrowed here", req->grant_id);
		goto refused;
	}
	/* Only the grant's lender may ask for it back. */
	if (strcmp(g.peer, req->node)) {
		spa_msg_error(rep, SPA_ERR_NOT_OWNER,
			      "grant %016llx was not lent by %s", g.id,
			      req->node);
		goto refused;
	}
	if (g.state != SPA_G_ACTIVE || !g.name[0] || !c->pool[0]) {
		spa_msg_error(rep, SPA_ERR_BUSY, "grant %016llx is %s here",
			      g.id, spa_gstate_name(g.state));
		goto refused;
	}
	ret = running_add(g.id);
	if (ret > 0)
		goto accepted;	/* already running: the same answer */
	if (ret) {
		spa_msg_error(rep, SPA_ERR_BUSY,
			      "%u revocations run here already", SPA_PEERS_MAX);
		goto refused;
	}
	j = calloc(1, sizeof(*j));
	if (j)
		j->cfg = spa_config_snapshot(c);
	if (!j || !j->cfg) {
		free(j);
		running_del(g.id);
		spa_msg_error(rep, SPA_ERR_FAILED, "out of memory");
		goto refused;
	}
	j->keys = keys;
	j->id = g.id;
	snprintf(j->lender, sizeof(j->lender), "%s", g.peer);
	snprintf(j->member, sizeof(j->member), "%s", g.name);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, revoke_main, j)) {
		pthread_attr_destroy(&attr);
		running_del(g.id);
		free(j->cfg);
		free(j);
		spa_msg_error(rep, SPA_ERR_FAILED, "cannot start a worker");
		goto refused;
	}
	pthread_attr_destroy(&attr);
	spa_info("revoke of %016llx accepted from %s (%s): member %s of pool %s is evacuated, then the grant given back",
		 g.id, req->node, from, g.name, c->pool);
accepted:
	spa_msg_init(rep, c, SPA_REVOKE | SPA_REPLY);
	rep->fields |= SPA_F(SPA_T_GRANT_ID);
	rep->grant_id = req->grant_id;
	return;
refused:
	spu_refuse(from, "revoke of %016llx from %s: %s: %s", req->grant_id,
		   req->node, spa_err_name(rep->err_code), rep->err_text);
}
