// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the lending side: grants
 *
 * A grant goes through (Documentation/nvmet-remote-ns.rst, "Grants"):
 *
 *   exporting   written before anything is made: the quota is reserved,
 *               the volume is made, its dm device created and exported
 *   active      written before the GRANT reply is sent
 *   resizing    written when a RESIZE is accepted (with the new size; the
 *               old one stays the grant's size), before the volume grows
 *   releasing   written when a RELEASE is accepted, before the teardown
 *               (export removed, the grant zeroed, volume deleted)
 *   released    the export and the volume are gone, the space is back
 *   revoking    written when the operator asks an active grant back,
 *               before REVOKE is sent; the borrower's RELEASE ends it,
 *               its refusal (or a REVOKE not delivered) makes it active;
 *               a borrower that accepted it and is then declared down
 *               (heartbeat_timeout) has it completed without it: the
 *               lender releases it as the RELEASE would (the finisher)
 *   fenced      the borrower was not heard for longer than the lease:
 *               the export is removed, the volume kept; the operator
 *               unfences it (active) or releases it (release-fenced)
 *
 * Grants, resizes and releases are serialised by the lender's lock.  A
 * failure at any step undoes the earlier ones and answers with an ERROR;
 * a grant that could not be torn down stays "releasing" and is retried.
 *
 * A resize (Documentation/nvmet-remote-ns.rst, "Resizing") only grows:
 * the quota reserves the slices it takes more, the ledger says
 * "resizing", the volume's size is written (the kernel places the new
 * slices), the new range [old, new) is zeroed (through an aside device:
 * the exported one does not show it yet), the dm device gets a table of
 * the new length, nvmet's namespace is revalidated (its size is read
 * again and the connected hosts are told), and the ledger says "active"
 * with the new size before RESIZED is sent.  The undo (roll_back) goes
 * the other way: the old table first (a volume cannot shrink under a
 * longer live table), then the old size, then nvmet revalidated again.
 *
 * At start, reconcile brings the system in line with the ledger:
 * exporting and releasing grants are torn down, resizing ones rolled back
 * to their old size (the borrower never got RESIZED: nothing of it uses
 * the new range), active ones restored (after a reboot nvmet configfs is
 * empty), and agent-owned objects (volumes "rg-*", subsystems
 * "<nqn_prefix>:grant:<node>:*") that no live grant owns are removed, but
 * only when the ledger file exists: the subsystems first, then each
 * volume zeroed whole and deleted (it may hold a borrower's data; one
 * that cannot be zeroed is kept).  A volume the pool only discovered
 * (a reboot, then an assembly that did not bind it) is bound before it
 * is zeroed or exported again: the slicepool target needs it bound.
 *
 * With 'tunnel', each borrower's grants are exported on ports of their
 * own (its slot: export_port + slot, nvmet_port_id + slot, the same for
 * the standby path), kept in the grant (its trsvcid), and the exports'
 * guard (tunnel.c) is rewritten from the ledger whenever a grant comes
 * or goes, and at start before any export is restored: only the
 * borrower's tunnel address reaches its ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "agent.h"

#define SPA_KEEP_RELEASED	64

/* ------------------------------------------------------- real backend */

/*
 * Zero the whole new volume before it is exported, and the new range of
 * a grown one before nvmet is told its size: its slices may hold what
 * earlier volumes (local ones, or other borrowers') left there.
 * BLKZEROOUT uses write-zeroes where the members offer it and writes
 * zero pages otherwise; the device is flushed, since a member is made
 * only on a device whose block 0 is zero.
 */
static int zero_range(const char *dev, u64 off, u64 len, char *why,
		      size_t wlen)
{
	u64 range[2] = { off, len };
	int fd, ret = 0, tries;

	/* Without udev the node is made by libdevmapper; with it, wait. */
	for (tries = 0; tries < 50; tries++) {
		fd = open(dev, O_WRONLY | O_DIRECT | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(100000);
	}
	if (fd < 0) {
		ret = -errno;
		snprintf(why, wlen, "cannot open %s: %s", dev, strerror(errno));
		return ret;
	}
	if (ioctl(fd, BLKZEROOUT, range) || fsync(fd)) {
		ret = errno ? -errno : -EIO;
		snprintf(why, wlen, "cannot zero %s (%llu bytes at %llu): %s",
			 dev, len, off, strerror(-ret));
	}
	close(fd);
	return ret;
}

static int real_vol_create(void *ctx, const char *pool, const char *vol,
			   u64 size, char uuid[SPU_UUID_STR], char *why,
			   size_t wlen)
{
	char dev[PATH_MAX];
	int ret;

	(void)ctx;
	ret = spu_vol_make(pool, vol, size, uuid, why, wlen);
	if (ret)
		return ret;
	ret = spa_dm_create(pool, vol, uuid, size >> 9, why, wlen);
	if (ret)
		goto undo;
	spa_dm_path(pool, vol, dev, sizeof(dev));
	ret = zero_range(dev, 0, size, why, wlen);
	if (ret)
		goto undo;
	return 0;
undo:
	spa_dm_remove(pool, vol, NULL, 0);
	spu_vol_destroy(pool, vol, NULL, 0);
	return ret;
}

/* The UUID of bound volume @vol, from its configfs item. */
static int vol_uuid(const char *pool, const char *vol,
		    char uuid[SPU_UUID_STR], char *why, size_t wlen)
{
	char path[PATH_MAX];

	if (spu_path(path, sizeof(path), "%s/%s/volumes/%s/uuid",
		     spu_configfs_root(), pool, vol) ||
	    spu_read_buf(path, uuid, SPU_UUID_STR) ||
	    !spu_valid_uuid(uuid))
		return spu_reason(why, wlen, -EINVAL,
				  "volume %s/%s has no uuid", pool, vol);
	return 0;
}

static int real_vol_restore(void *ctx, const char *pool, const char *vol,
			    u64 size, char *why, size_t wlen)
{
	char uuid[SPU_UUID_STR];
	int ret;

	(void)ctx;
	/* Left by a crash while growing. */
	ret = spa_dm_remove_aside(pool, vol, why, wlen);
	if (ret)
		return ret;
	ret = spa_dm_exists(pool, vol);
	if (ret > 0)
		return 0;
	if (ret < 0)
		return ret;
	ret = vol_uuid(pool, vol, uuid, why, wlen);
	if (ret)
		return ret;
	return spa_dm_create(pool, vol, uuid, size >> 9, why, wlen);
}

static int real_vol_info(void *ctx, const char *pool, const char *vol,
			 char uuid[SPU_UUID_STR], u64 *size, char *why,
			 size_t wlen)
{
	char path[PATH_MAX];
	int ret;

	(void)ctx;
	ret = vol_uuid(pool, vol, uuid, why, wlen);
	if (ret)
		return ret;
	if (spu_path(path, sizeof(path), "%s/%s/volumes/%s/size",
		     spu_configfs_root(), pool, vol))
		return -ENAMETOOLONG;
	ret = spu_read_u64(path, size);
	if (ret)
		return spu_reason(why, wlen, ret, "cannot read %s: %s", path,
				  strerror(-ret));
	return 0;
}

static int real_vol_bind(void *ctx, const char *pool, const char *vol,
			 char *why, size_t wlen)
{
	(void)ctx;
	return spu_vol_bind(pool, vol, why, wlen);
}

static int real_vol_delete(void *ctx, const char *pool, const char *vol,
			   char *why, size_t wlen)
{
	int ret;

	(void)ctx;
	ret = spa_dm_remove_aside(pool, vol, why, wlen);
	if (!ret)
		ret = spa_dm_remove(pool, vol, why, wlen);
	if (ret)
		return ret;
	return spu_vol_destroy(pool, vol, why, wlen);
}

static int real_vol_list(void *ctx, const char *pool, const char *prefix,
			 char ***names, size_t *count)
{
	(void)ctx;
	return spu_vol_list(pool, prefix, names, count);
}

static int real_export(void *ctx, const struct spa_export *e, char *why,
		       size_t wlen)
{
	(void)ctx;
	return spa_nvmet_export(e, why, wlen);
}

static int real_unexport(void *ctx, const char *subnqn, u16 port_id,
			 char *why, size_t wlen)
{
	(void)ctx;
	return spa_nvmet_unexport(subnqn, port_id, why, wlen);
}

static bool real_exported(void *ctx, const char *subnqn, u16 port_id)
{
	(void)ctx;
	return spa_nvmet_exported(subnqn, port_id);
}

static int real_export_list(void *ctx, const char *prefix, char ***names,
			    size_t *count)
{
	(void)ctx;
	return spa_nvmet_list(prefix, names, count);
}

static int real_vol_set_size(void *ctx, const char *pool, const char *vol,
			     u64 size, char *why, size_t wlen)
{
	(void)ctx;
	return spu_vol_set_size(pool, vol, size, why, wlen);
}

static int real_dm_resize(void *ctx, const char *pool, const char *vol,
			  u64 size, char *why, size_t wlen)
{
	(void)ctx;
	return spa_dm_reload(pool, vol, size >> 9, why, wlen);
}

/*
 * Zeroes [@off, @off + @len) of a volume through its aside device, of
 * length @off + @len: for a grown volume the new range, which the
 * volume's own device (exported) does not show yet; for a grant given
 * back the whole of it, after the export is gone (its own device may be
 * gone too, after a reboot).  The aside device never outlives the call.
 */
static int real_zero(void *ctx, const char *pool, const char *vol,
		     const char *uuid, u64 off, u64 len, char *why,
		     size_t wlen)
{
	char dev[PATH_MAX];
	int ret;

	(void)ctx;
	ret = spa_dm_remove_aside(pool, vol, why, wlen);
	if (!ret)
		ret = spa_dm_create_aside(pool, vol, uuid, (off + len) >> 9,
					  why, wlen);
	if (ret)
		return ret;
	spa_dm_path_aside(pool, vol, dev, sizeof(dev));
	ret = zero_range(dev, off, len, why, wlen);
	if (spa_dm_remove_aside(pool, vol, ret ? NULL : why, wlen) && !ret)
		ret = -EBUSY;
	return ret;
}

static int real_revalidate(void *ctx, const char *subnqn, u32 nsid,
			   char *why, size_t wlen)
{
	(void)ctx;
	return spa_nvmet_revalidate(subnqn, nsid, why, wlen);
}

static int real_guard(void *ctx, const struct spa_config *c,
		      const struct spa_guard *g, char *why, size_t wlen)
{
	(void)ctx;
	return spa_guard_apply(c, g, why, wlen);
}

const struct spa_backend spa_real_backend = {
	.vol_create = real_vol_create,
	.vol_restore = real_vol_restore,
	.vol_bind = real_vol_bind,
	.vol_delete = real_vol_delete,
	.vol_list = real_vol_list,
	.vol_info = real_vol_info,
	.export = real_export,
	.unexport = real_unexport,
	.exported = real_exported,
	.export_list = real_export_list,
	.vol_set_size = real_vol_set_size,
	.dm_resize = real_dm_resize,
	.zero = real_zero,
	.revalidate = real_revalidate,
	.guard = real_guard,
};

/* ------------------------------------------------------- grants */

void spa_grant_names(const struct spa_config *c, u64 id, char *vol,
		     size_t vlen, char *subnqn, size_t slen)
{
	char buf[512];

	if (vol)
		snprintf(vol, vlen, SPA_VOL_PREFIX "%016llx", id);
	/* At most 175 + 7 + 24 + 1 + 16 characters (config.c). */
	if (subnqn && !spa_subnqn_prefix(c, buf, sizeof(buf)) &&
	    strlen(buf) + 17 <= slen)
		snprintf(subnqn, slen, "%s%016llx", buf, id);
}

/* A grant in service, whose volume holds the borrower's data. */
bool spa_grant_lent(int state)
{
	return state == SPA_G_ACTIVE || state == SPA_G_RESIZING ||
	       state == SPA_G_REVOKING || state == SPA_G_FENCED;
}

static void recount(struct spa_lender *l)
{
	size_t i;

	pthread_mutex_lock(&l->quota.lock);
	l->quota.lent = 0;
	l->quota.grants = 0;
	for (i = 0; i < l->ledger.n; i++) {
		/* A resizing grant takes its old bytes (and maybe more). */
		if (!spa_grant_lent(l->ledger.g[i].state))
			continue;
		l->quota.lent += l->ledger.g[i].bytes;
		l->quota.grants++;
	}
	pthread_mutex_unlock(&l->quota.lock);
}

int spa_lender_init(struct spa_lender *l, const struct spa_config *cfg,
		    const struct spa_backend *be, char *why, size_t wlen)
{
	char path[PATH_MAX];
	int ret;

	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	l->be = be;
	l->since_mono = spa_mono_ms();
	pthread_mutex_init(&l->lock, NULL);
	spa_quota_init(&l->quota, cfg->keep_free, cfg->lend_max,
		       cfg->max_grants);
	if (spa_subnqn_prefix(cfg, l->subnqn_prefix,
			      sizeof(l->subnqn_prefix)) ||
	    spu_path(path, sizeof(path), "%s/grants", cfg->state_dir))
		return -ENAMETOOLONG;
	ret = spa_ledger_load(&l->ledger, path, true, why, wlen);
	if (ret)
		return ret;
	recount(l);
	if (cfg->dhchap) {
		l->dhchap = spa_dhchap_target_probe();
		if (l->dhchap > 0)
			spa_info("dhchap on: nvmet offers DH-HMAC-CHAP: each borrower's host authenticates, and is authenticated, with secrets derived from its key");
		else
			spa_warn("dhchap on, but this kernel's nvmet offers no DH-HMAC-CHAP (%s: no dhchap_key in its host entries): exports rely on the tunnel and the host NQN",
				 spa_dhchap_said(l->dhchap));
	}
	return 0;
}

void spa_lender_free(struct spa_lender *l)
{
	spa_lender_finisher_wait(l);
	spa_ledger_free(&l->ledger);
	spa_quota_destroy(&l->quota);
	pthread_mutex_destroy(&l->lock);
}

/* The slot of @g: its ports are export_port + slot (spa_grant_slot()). */
static unsigned int slot_of(struct spa_lender *l, const struct spa_grant *g)
{
	return spa_grant_slot(l->cfg, g->trsvcid);
}

/*
 * The slot of @peer's grants: the one its grants in use have, else the
 * lowest one no grant of another peer in use has (so no two borrowers
 * ever share a port); -1 if none is free.  Without a tunnel, 0: one port
 * for all, as nothing tells the borrowers apart but the host NQN.
 */
static int peer_slot(struct spa_lender *l, const char *peer)
{
	const struct spa_config *c = l->cfg;
	const struct spa_grant *g;
	u64 used = 0;
	unsigned int k;
	size_t i;

	if (!spa_tunnel_on(c))
		return 0;
	for (i = 0; i < l->ledger.n; i++) {
		g = &l->ledger.g[i];
		if (g->state == SPA_G_RELEASED)
			continue;
		k = slot_of(l, g);
		if (!strcmp(g->peer, peer))
			return k;
		if (k < 64)
			used |= 1ULL << k;
	}
	for (k = 0; k < c->nr_tunnels && k < 64; k++)
		if (!(used & (1ULL << k)))
			return k;
	return -1;
}

static int by_port(const void *a, const void *b)
{
	const struct spa_guard_port *x = a, *y = b;

	return (int)x->port - (int)y->port;
}

/*
 * With 'tunnel', the guard becomes what the ledger says: each port of a
 * grant in use (any state but released: its export may be there) is
 * reached only from its borrower's tunnel address, or from nobody if the
 * borrower has no peer_tunnel line any more.  Called under @l's lock.
 */
static int guard_sync(struct spa_lender *l, char *why, size_t wlen)
{
	const struct spa_config *c = l->cfg;
	const struct spa_peer_tunnel_cfg *t;
	const struct spa_backend *be = l->be;
	const struct spa_grant *g;
	struct spa_guard *set;
	unsigned int k;
	size_t i;
	int ret = 0;

	if (!spa_tunnel_on(c))
		return 0;
	set = calloc(1, sizeof(*set));
	if (!set)
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	for (i = 0; i < l->ledger.n && !ret; i++) {
		g = &l->ledger.g[i];
		if (g->state == SPA_G_RELEASED)
			continue;
		t = spa_config_tunnel(c, g->peer);
		k = slot_of(l, g);
		ret = spa_guard_add(set, c->export_port + k, g->peer,
				    t ? t->addr : "");
		if (!ret && c->export2_port)
			ret = spa_guard_add(set, c->export2_port + k, g->peer,
					    t ? t->addr : "");
	}
	if (ret) {
		spu_reason(why, wlen, ret, "the guard holds %u ports at most",
			   SPA_GUARD_MAX);
	} else {
		qsort(set->p, set->n, sizeof(set->p[0]), by_port);
		ret = be->guard(be->ctx, c, set, why, wlen);
	}
	free(set);
	return ret;
}

int spa_lender_guard_sync(struct spa_lender *l, char *why, size_t wlen)
{
	int ret;

	pthread_mutex_lock(&l->lock);
	ret = guard_sync(l, why, wlen);
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* guard_sync() after a grant went: a failure is logged (the port is gone). */
static void guard_drop(struct spa_lender *l, const char *what)
{
	char why[512];

	if (guard_sync(l, why, sizeof(why)))
		spa_warn("%s: the exports' guard keeps a rule it no longer needs: %s",
			 what, why);
}

static void fill_export(struct spa_lender *l, const struct spa_grant *g,
			struct spa_export *e)
{
	unsigned int k = slot_of(l, g);

	memset(e, 0, sizeof(*e));
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", g->subnqn);
	snprintf(e->hostnqn, sizeof(e->hostnqn), "%s", g->hostnqn);
	spa_dm_path(l->cfg->pool, g->name, e->device, sizeof(e->device));
	/* DH-HMAC-CHAP: only where nvmet offers it (said at init if not). */
	if (l->cfg->dhchap && l->keys && l->dhchap > 0 &&
	    spa_keys_dhchap(l->keys, g->peer, g->hostnqn, e->dhchap_key,
			    e->dhchap_ctrl_key))
		spa_warn("grant %016llx: no DH-HMAC-CHAP secret for %s (no key here): exported without it",
			 g->id, g->peer);
	snprintf(e->uuid, sizeof(e->uuid), "%s", g->uuid);
	e->nsid = g->nsid;
	snprintf(e->traddr, sizeof(e->traddr), "%s", g->traddr);
	e->trsvcid = g->trsvcid;
	e->port_id = l->cfg->nvmet_port_id + k;
	if (l->cfg->export2_port) {
		snprintf(e->traddr2, sizeof(e->traddr2), "%s",
			 l->cfg->export2_addr);
		e->trsvcid2 = l->cfg->export2_port + k;
		e->port_id2 = l->cfg->nvmet_port_id2 + k;
	}
}

/* Every path of the export is in place. */
static bool exported(struct spa_lender *l, const struct spa_grant *g)
{
	const struct spa_backend *be = l->be;
	unsigned int k = slot_of(l, g);

	return be->exported(be->ctx, g->subnqn, l->cfg->nvmet_port_id + k) &&
	       (!l->cfg->export2_port ||
		be->exported(be->ctx, g->subnqn, l->cfg->nvmet_port_id2 + k));
}

/*
 * The GRANT; the standby path goes in a "path" field only when the
 * request says the borrower connects to more than one path (max_paths),
 * so that a borrower that knows no such field never gets one.
 */
static void fill_grant(struct spa_lender *l, const struct spa_grant *g,
		       const struct spa_msg *req, struct spa_msg *rep)
{
	spa_msg_init(rep, l->cfg, SPA_GRANT);
	rep->fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT) |
		       SPA_F(SPA_T_SIZE) | SPA_F(SPA_T_GRANT_ID) |
		       SPA_F(SPA_T_SUBNQN) | SPA_F(SPA_T_NSID) |
		       SPA_F(SPA_T_UUID);
	snprintf(rep->addr, sizeof(rep->addr), "%s", g->traddr);
	rep->port = g->trsvcid;
	rep->size = g->size;
	rep->grant_id = g->id;
	snprintf(rep->subnqn, sizeof(rep->subnqn), "%s", g->subnqn);
	rep->nsid = g->nsid;
	spu_uuid_parse(g->uuid, rep->uuid);
	if (l->cfg->export2_port && req->max_paths >= 2) {
		rep->fields |= SPA_F(SPA_T_PATH);
		rep->nr_paths = 1;
		snprintf(rep->paths[0].addr, sizeof(rep->paths[0].addr), "%s",
			 l->cfg->export2_addr);
		rep->paths[0].port = l->cfg->export2_port + slot_of(l, g);
	}
}

/* Whether pool volume @vol exists; true when the pool cannot be read. */
static bool vol_exists(struct spa_lender *l, const char *vol)
{
	const struct spa_backend *be = l->be;
	char **names = NULL;
	size_t n = 0, i;
	bool found = false;

	if (be->vol_list(be->ctx, l->cfg->pool, vol, &names, &n))
		return true;
	for (i = 0; i < n && !found; i++)
		found = !strcmp(names[i], vol);
	spu_free_list(names, n);
	return found;
}

/*
 * Binds pool volume @vol if it is only discovered (listed by the pool
 * with no configfs item: after a reboot, an assembly that did not bind
 * it).  The slicepool target takes only a bound volume: its own device
 * (an export restored) and the aside one (zeroing a grant given back or
 * a volume of no grant) both need it.  0 if bound (already).
 */
static int bind_vol(struct spa_lender *l, const char *vol, char *why,
		    size_t wlen)
{
	const struct spa_backend *be = l->be;
	int ret;

	ret = be->vol_bind(be->ctx, l->cfg->pool, vol, why, wlen);
	if (ret)
		spa_err("cannot bind volume %s/%s (discovered, not bound): %s",
			l->cfg->pool, vol, why);
	return ret;
}

/*
 * Tears down the export and the volume of @g; 0 when both are gone.
 *
 * Release clears (Documentation/nvmet-remote-ns.rst, "Giving back"): a
 * grant that was handed out (any state but exporting: the ledger says
 * active before the GRANT reply is sent) has the borrower's data on its
 * volume.  Between the two steps the whole grant [0, size) is zeroed, so
 * its slices go back to the pool, to local volumes and other borrowers,
 * only once they hold nothing of it.  The export goes first: no host
 * writes behind the zeroes.  A failed zeroing keeps the volume and fails
 * the teardown: the grant stays releasing, and the next release or the
 * reconcile at start zeroes it again.  A volume that is gone already
 * (deleted before a crash) has nothing left to clear; one only
 * discovered (a reboot) is bound first, or the aside device is refused.
 */
static int teardown(struct spa_lender *l, const struct spa_grant *g,
		    char *why, size_t wlen)
{
	const struct spa_backend *be = l->be;
	const char *pool = l->cfg->pool;
	int ret;

	ret = be->unexport(be->ctx, g->subnqn,
			   l->cfg->nvmet_port_id + slot_of(l, g), why, wlen);
	if (ret)
		return ret;
	if (!g->name[0])
		return 0;
	if (g->state != SPA_G_EXPORTING && g->size &&
	    vol_exists(l, g->name)) {
		ret = bind_vol(l, g->name, why, wlen);
		if (!ret)
			ret = be->zero(be->ctx, pool, g->name, g->uuid, 0,
				       g->size, why, wlen);
		if (ret)
			return ret;
	}
	return be->vol_delete(be->ctx, pool, g->name, why, wlen);
}

static void note_drop(struct spa_lender *l, u64 id);

static int save(struct spa_lender *l)
{
	size_t i, released = 0;
	char why[256];
	int ret;

	/*
	 * A grant released keeps a note only when its revocation was
	 * completed without its borrower; it goes with the grant's entry
	 * (the oldest released ones are pruned first).
	 */
	for (i = 0; i < l->ledger.n; i++)
		released += l->ledger.g[i].state == SPA_G_RELEASED;
	for (i = 0; i < l->ledger.n && released > SPA_KEEP_RELEASED; i++)
		if (l->ledger.g[i].state == SPA_G_RELEASED) {
			note_drop(l, l->ledger.g[i].id);
			released--;
		}
	spa_ledger_prune(&l->ledger, SPA_KEEP_RELEASED);
	ret = spa_ledger_save(&l->ledger, why, sizeof(why));
	if (ret)
		spa_err("%s", why);
	return ret;
}

/*
 * The revocation note of grant @id: <state_dir>/revoke-<id>, one line of
 * what the revocation came to (sent, the borrower's reports, a refusal),
 * for 'status'.  Replaced whole; removed when the grant is released.
 */
int spa_note_path(const struct spa_config *c, u64 id, char *buf, size_t len)
{
	return spu_path(buf, len, "%s/revoke-%016llx", c->state_dir, id);
}

int spa_grant_note(const struct spa_config *c, const struct spa_grant *g,
		   char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = spa_note_path(c, g->id, path, sizeof(path));
	return ret ? ret : spu_read_buf(path, buf, len);
}

static void note(struct spa_lender *l, u64 id, const char *fmt, ...)
	__printf(3, 4);
static void note(struct spa_lender *l, u64 id, const char *fmt, ...)
{
	char path[PATH_MAX], tmp[PATH_MAX + 4], text[SPA_TEXT_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	spa_printable(text);
	strcat(text, "\n");
	if (spa_note_path(l->cfg, id, path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	if (spu_write(tmp, text, true) || rename(tmp, path))
		spa_warn("cannot write %s", path);
}

static void note_drop(struct spa_lender *l, u64 id)
{
	char path[PATH_MAX];

	if (!spa_note_path(l->cfg, id, path, sizeof(path)))
		unlink(path);
}

static u64 new_id(struct spa_lender *l)
{
	u64 id = 0;

	while (!id || spa_ledger_find(&l->ledger, id))
		if (spa_random(&id, sizeof(id)))
			return 0;
	return id;
}

/* Takes @l's lock; false, with @rep the error, if this node does not lend. */
static bool lock_lending(struct spa_lender *l, struct spa_msg *rep)
{
	pthread_mutex_lock(&l->lock);
	if (l->cfg->lend)
		return true;
	spa_msg_error(rep, SPA_ERR_NOT_LENDING, "node %s does not lend",
		      l->cfg->node);
	return false;
}

void spa_lender_request(struct spa_lender *l, const struct spa_msg *req,
			const char *from, struct spa_msg *rep)
{
	const struct spa_backend *be = l->be;
	char why[512], sz[32], vol[SPU_NAME_MAX + 1];
	char subnqn[SPA_NQN_MAX + 1], uuid[SPU_UUID_STR];
	char standby[SPA_ADDR_MAX + 24];
	struct spa_export e;
	struct spa_grant *g;
	const struct spa_peer_tunnel_cfg *t;
	u64 bytes = 0, id;
	int ret, slot;
	size_t i;

	spu_format_size(req->size, true, sz, sizeof(sz));
	if (!lock_lending(l, rep))
		goto refused;
	if (spa_tunnel_on(l->cfg) && !spa_config_tunnel(l->cfg, req->node)) {
		spa_msg_error(rep, SPA_ERR_UNKNOWN_PEER,
			      "%s has no tunnel at %s (peer_tunnel %s ...): %s exports only through its WireGuard tunnel",
			      req->node, l->cfg->node, req->node, l->cfg->node);
		goto refused;
	}
	for (i = 0; i < l->ledger.n; i++) {
		g = &l->ledger.g[i];
		if (strcmp(g->peer, req->node) ||
		    memcmp(g->req_id, req->req_id, SPA_ID_LEN))
			continue;
		if (g->state == SPA_G_ACTIVE && g->size == req->size &&
		    !strcmp(g->hostnqn, req->hostnqn)) {
			spa_info("request from %s (%s) repeated: answered with grant %016llx again",
				 req->node, from, g->id);
			fill_grant(l, g, req, rep);
			goto out;
		}
		spa_msg_error(rep, SPA_ERR_BAD_VALUE,
			      "request id already used (grant %016llx, %s)",
			      g->id, spa_gstate_name(g->state));
		goto refused;
	}
	slot = peer_slot(l, req->node);
	if (slot < 0) {
		spa_msg_error(rep, SPA_ERR_LIMIT,
			      "no export port is free for %s: grants of others hold all %u",
			      req->node, l->cfg->nr_tunnels);
		goto refused;
	}
	ret = spa_quota_reserve(&l->quota, l->cfg->pool, req->size, &bytes,
				why, sizeof(why));
	if (ret) {
		spa_msg_error(rep, ret == -ENOSPC ? SPA_ERR_NO_SPACE :
			      ret == -EDQUOT ? SPA_ERR_LIMIT : SPA_ERR_FAILED,
			      "%s", why);
		goto refused;
	}
	id = new_id(l);
	g = id ? spa_ledger_add(&l->ledger) : NULL;
	if (!g) {
		spa_quota_cancel(&l->quota, bytes);
		spa_msg_error(rep, SPA_ERR_LIMIT, "the ledger is full");
		goto refused;
	}
	spa_grant_names(l->cfg, id, vol, sizeof(vol), subnqn, sizeof(subnqn));
	g->id = id;
	g->state = SPA_G_EXPORTING;
	snprintf(g->peer, sizeof(g->peer), "%s", req->node);
	g->size = req->size;
	g->bytes = bytes;
	snprintf(g->name, sizeof(g->name), "%s", vol);
	memcpy(g->req_id, req->req_id, SPA_ID_LEN);
	g->created = (u64)time(NULL);
	snprintf(g->hostnqn, sizeof(g->hostnqn), "%s", req->hostnqn);
	snprintf(g->subnqn, sizeof(g->subnqn), "%s", subnqn);
	snprintf(g->traddr, sizeof(g->traddr), "%s", l->cfg->export_addr);
	g->trsvcid = l->cfg->export_port + slot;
	g->nsid = 1;
	if (save(l)) {
		l->ledger.n--;
		spa_quota_cancel(&l->quota, bytes);
		spa_msg_error(rep, SPA_ERR_FAILED, "cannot write the ledger");
		goto refused;
	}
	/* The ports are guarded before nvmet listens on them. */
	ret = guard_sync(l, why, sizeof(why));
	if (ret) {
		spa_msg_error(rep, SPA_ERR_FAILED,
			      "cannot set up the exports' guard: %s", why);
		goto undo_none;
	}

	ret = be->vol_create(be->ctx, l->cfg->pool, vol, req->size, uuid, why,
			     sizeof(why));
	if (ret) {
		spa_msg_error(rep, ret == -ENOSPC ? SPA_ERR_NO_SPACE :
			      SPA_ERR_FAILED, "%s", why);
		goto undo_none;
	}
	g = spa_ledger_find(&l->ledger, id);
	snprintf(g->uuid, sizeof(g->uuid), "%s", uuid);
	fill_export(l, g, &e);
	ret = be->export(be->ctx, &e, why, sizeof(why));
	if (ret) {
		spa_msg_error(rep, SPA_ERR_FAILED, "%s", why);
		goto undo_volume;
	}
	g->state = SPA_G_ACTIVE;
	if (save(l)) {
		spa_msg_error(rep, SPA_ERR_FAILED, "cannot write the ledger");
		be->unexport(be->ctx, subnqn, l->cfg->nvmet_port_id + slot,
			     NULL, 0);
		goto undo_volume;
	}
	spa_quota_commit(&l->quota, bytes);
	g = spa_ledger_find(&l->ledger, id);
	standby[0] = '\0';
	if (l->cfg->export2_port)
		snprintf(standby, sizeof(standby), " and %s:%u (standby)",
			 l->cfg->export2_addr, l->cfg->export2_port + slot);
	t = spa_config_tunnel(l->cfg, req->node);
	if (spa_tunnel_on(l->cfg) && t)
		spa_info("grant %016llx: port %u%s reached from %s's tunnel address %s only (the exports' guard)",
			 id, g->trsvcid, l->cfg->export2_port ? " and its standby" : "",
			 req->node, t->addr);
	spa_info("granted %016llx to %s (%s): %s as volume %s/%s (uuid %s), exported as %s on %s:%u%s to %s only",
		 id, req->node, from, sz, l->cfg->pool, vol, uuid, subnqn,
		 g->traddr, g->trsvcid, standby, g->hostnqn);
	fill_grant(l, g, req, rep);
	goto out;

undo_volume:
	be->vol_delete(be->ctx, l->cfg->pool, vol, NULL, 0);
undo_none:
	spa_quota_cancel(&l->quota, bytes);
	g = spa_ledger_find(&l->ledger, id);
	g->state = SPA_G_RELEASED;
	save(l);
	guard_drop(l, "a grant that failed");
refused:
	spa_warn("request from %s (%s) for %s refused: %s: %s", req->node,
		 from, sz, spa_err_name(rep->err_code), rep->err_text);
out:
	pthread_mutex_unlock(&l->lock);
}

/* ------------------------------------------ revocations in progress */

/* The entry of revocation @id, under @l's lock; NULL if none. */
static struct spa_revoke_live *revoke_find(struct spa_lender *l, u64 id)
{
	unsigned int i;

	for (i = 0; id && i < SPA_REVOKES_MAX; i++)
		if (l->revokes[i].id == id)
			return &l->revokes[i];
	return NULL;
}

/* Revocation @id is in progress, heard of now; under @l's lock. */
static void revoke_track(struct spa_lender *l, u64 id)
{
	struct spa_revoke_live *e = revoke_find(l, id);
	unsigned int i;

	for (i = 0; !e && i < SPA_REVOKES_MAX; i++)
		if (!l->revokes[i].id) {
			e = &l->revokes[i];
			memset(e, 0, sizeof(*e));
			e->id = id;
		}
	if (!e) {
		spa_warn("revoke of %016llx: %u revocations in progress already: it is not completed without its borrower if that is declared down",
			 id, SPA_REVOKES_MAX);
		return;
	}
	e->heard_mono = spa_mono_ms();
}

/* Revocation @id is over (released, refused, fenced); under @l's lock. */
static void revoke_untrack(struct spa_lender *l, u64 id)
{
	struct spa_revoke_live *e = revoke_find(l, id);

	if (e)
		memset(e, 0, sizeof(*e));
}

/*
 * Releases @g (any state but exporting and released), under @l's lock: a
 * grant in service becomes releasing (a resize that could not be undone
 * goes with the whole volume), then teardown() and released.  0; -EIO
 * when the ledger cannot be written (nothing done); another -errno when
 * the teardown failed (the grant stays releasing, retried), @why set.
 * @who and @from name who asked, for the log.
 */
static int release_grant(struct spa_lender *l, struct spa_grant *g,
			 const char *who, const char *from, char *why,
			 size_t wlen)
{
	u64 id = g->id;
	int ret;

	if (spa_grant_lent(g->state)) {
		g->state = SPA_G_RELEASING;
		g->resize_to = 0;
		spa_quota_return(&l->quota, g->bytes);
		if (save(l))
			return spu_reason(why, wlen, -EIO,
					  "cannot write the ledger");
		g = spa_ledger_find(&l->ledger, id);
	}
	ret = teardown(l, g, why, wlen);
	if (ret) {
		spa_err("release of %016llx from %s (%s): %s", id, who, from,
			why);
		return ret;
	}
	g->state = SPA_G_RELEASED;
	spa_info("released %016llx from %s (%s): export %s removed, volume %s/%s zeroed and removed",
		 id, who, from, g->subnqn, l->cfg->pool, g->name);
	save(l);
	note_drop(l, id);
	revoke_untrack(l, id);
	guard_drop(l, "release");
	return 0;
}

void spa_lender_release(struct spa_lender *l, const struct spa_msg *req,
			const char *from, struct spa_msg *rep)
{
	char why[512];
	struct spa_grant *g;
	int ret;

	pthread_mutex_lock(&l->lock);
	g = spa_ledger_find(&l->ledger, req->grant_id);
	if (!g) {
		spa_msg_error(rep, SPA_ERR_UNKNOWN_GRANT,
			      "no grant %016llx", req->grant_id);
		goto refused;
	}
	if (strcmp(g->peer, req->node)) {
		spa_msg_error(rep, SPA_ERR_NOT_OWNER,
			      "grant %016llx is not %s's", g->id, req->node);
		goto refused;
	}
	if (g->state == SPA_G_RELEASED)
		goto released;
	if (g->state == SPA_G_EXPORTING) {
		spa_msg_error(rep, SPA_ERR_BUSY, "grant %016llx is %s",
			      g->id, spa_gstate_name(g->state));
		goto refused;
	}
	ret = release_grant(l, g, req->node, from, why, sizeof(why));
	if (ret == -EIO) {
		spa_msg_error(rep, SPA_ERR_FAILED, "%s", why);
		goto refused;
	}
	if (ret) {
		spa_msg_error(rep, SPA_ERR_FAILED,
			      "teardown failed, will be retried: %s", why);
		goto out;
	}
released:
	spa_msg_init(rep, l->cfg, SPA_RELEASE | SPA_REPLY);
	rep->fields |= SPA_F(SPA_T_GRANT_ID);
	rep->grant_id = req->grant_id;
	goto out;
refused:
	spa_warn("release of %016llx from %s (%s) refused: %s: %s",
		 req->grant_id, req->node, from, spa_err_name(rep->err_code),
		 rep->err_text);
out:
	pthread_mutex_unlock(&l->lock);
}

/* ------------------------------------------------------- resize */

/*
 * Rolls the volume of @g back to the grant's size: the dm table first (a
 * volume cannot shrink under a longer live table), then the volume (its
 * slices past the size are freed), then nvmet, whose hosts may have been
 * told the larger size.  Nothing happens to what is already that size.
 */
static int roll_back(struct spa_lender *l, const struct spa_grant *g,
		     char *why, size_t wlen)
{
	const struct spa_backend *be = l->be;
	const char *pool = l->cfg->pool;
	char w2[256];
	int ret;

	ret = be->dm_resize(be->ctx, pool, g->name, g->size, why, wlen);
	if (!ret)
		ret = be->vol_set_size(be->ctx, pool, g->name, g->size, why,
				       wlen);
	if (ret)
		return ret;
	if (exported(l, g) &&
	    be->revalidate(be->ctx, g->subnqn, g->nsid, w2, sizeof(w2)))
		spa_warn("grant %016llx: %s (the hosts see the old size at their next rescan)",
			 g->id, w2);
	return 0;
}

/*
 * Grows the volume of @g to @size: volume, zeroes over the new range,
 * dm table, nvmet's namespace.  The range is zeroed before the exported
 * device shows it, so that no host reads what was left there, even one
 * that rescans (an Identify makes nvmet read the device size) before
 * nvmet is told.  A failing step undoes the earlier ones; if that fails
 * too, *@undone is false and @undo says why.
 */
static int grow(struct spa_lender *l, const struct spa_grant *g, u64 size,
		char *why, size_t wlen, bool *undone, char *undo,
		size_t ulen)
{
	const struct spa_backend *be = l->be;
	const char *pool = l->cfg->pool;
	int ret;

	*undone = true;
	ret = be->vol_set_size(be->ctx, pool, g->name, size, why, wlen);
	if (ret)
		return ret;	/* refused by the kernel: nothing changed */
	ret = be->zero(be->ctx, pool, g->name, g->uuid, g->size,
		       size - g->size, why, wlen);
	if (!ret)
		ret = be->dm_resize(be->ctx, pool, g->name, size, why, wlen);
	if (!ret)
		ret = be->revalidate(be->ctx, g->subnqn, g->nsid, why, wlen);
	if (ret && roll_back(l, g, undo, ulen))
		*undone = false;
	return ret;
}

/*
 * A grant left "resizing" (its undo failed, or a crash) is rolled back
 * before anything else is done with it; 0 when it is active again (the
 * caller saves the ledger).
 */
static int settle(struct spa_lender *l, struct spa_grant *g, char *why,
		  size_t wlen)
{
	const struct spa_backend *be = l->be;
	char a[32], b[32];
	int ret;

	ret = bind_vol(l, g->name, why, wlen);
	if (!ret)
		ret = be->vol_restore(be->ctx, l->cfg->pool, g->name, g->size,
				      why, wlen);
	if (!ret)
		ret = roll_back(l, g, why, wlen);
	if (ret)
		return ret;
	spu_format_size(g->size, true, a, sizeof(a));
	spu_format_size(g->resize_to, true, b, sizeof(b));
	spa_info("grant %016llx of %s: the resize from %s to %s was rolled back: volume %s/%s is %s again",
		 g->id, g->peer, a, b, l->cfg->pool, g->name, a);
	g->state = SPA_G_ACTIVE;
	g->resize_to = 0;
	return 0;
}

static void fill_resized(struct spa_lender *l, const struct spa_grant *g,
			 struct spa_msg *rep)
{
	spa_msg_init(rep, l->cfg, SPA_RESIZED);
	rep->fields |= SPA_F(SPA_T_SIZE) | SPA_F(SPA_T_GRANT_ID);
	rep->size = g->size;
	rep->grant_id = g->id;
}

void spa_lender_resize(struct spa_lender *l, const struct spa_msg *req,
		       const char *from, struct spa_msg *rep)
{
	char why[512], undo[512], sz[32], old_sz[32];
	struct spa_grant *g;
	u64 bytes = 0, old_bytes, old_size, id = req->grant_id;
	bool undone;
	int ret;

	spu_format_size(req->size, true, sz, sizeof(sz));
	if (!lock_lending(l, rep))
		goto refused;
	g = spa_ledger_find(&l->ledger, id);
	if (!g) {
		spa_msg_error(rep, SPA_ERR_UNKNOWN_GRANT, "no grant %016llx", id);
		goto refused;
	}
	if (strcmp(g->peer, req->node)) {
		spa_msg_error(rep, SPA_ERR_NOT_OWNER,
			      "grant %016llx is not %s's", id, req->node);
		goto refused;
	}
	if (g->state == SPA_G_RESIZING) {
		if (settle(l, g, why, sizeof(why))) {
			spa_msg_error(rep, SPA_ERR_BUSY,
				      "grant %016llx is resizing: an earlier resize is not undone yet: %s",
				      id, why);
			goto refused;
		}
		save(l);
		/* Saving prunes the ledger: entries may move. */
		g = spa_ledger_find(&l->ledger, id);
	}
	if (g->state != SPA_G_ACTIVE) {
		spa_msg_error(rep, SPA_ERR_BUSY,
			      "grant %016llx is %s: only an active grant can be resized",
			      id, spa_gstate_name(g->state));
		goto refused;
	}
	spu_format_size(g->size, true, old_sz, sizeof(old_sz));
	if (req->size % 512 || req->size > SPA_SIZE_MAX) {
		spa_msg_error(rep, SPA_ERR_BAD_VALUE,
			      "size %llu: a multiple of 512 bytes up to %llu",
			      req->size, SPA_SIZE_MAX);
		goto refused;
	}
	if (req->size < g->size) {
		spa_msg_error(rep, SPA_ERR_BAD_VALUE,
			      "grant %016llx is %s: shrinking it to %s is refused (a borrower's member cannot shrink under its data; a resize only grows)",
			      id, old_sz, sz);
		goto refused;
	}
	if (req->size == g->size) {
		spa_info("resize of %016llx to %s from %s (%s): it is that size already",
			 id, sz, req->node, from);
		fill_resized(l, g, rep);
		goto out;
	}
	old_bytes = g->bytes;
	ret = spa_quota_reserve_grow(&l->quota, l->cfg->pool, old_bytes,
				     req->size, &bytes, why, sizeof(why));
	if (ret) {
		spa_msg_error(rep, ret == -ENOSPC ? SPA_ERR_NO_SPACE :
			      ret == -EDQUOT ? SPA_ERR_LIMIT : SPA_ERR_FAILED,
			      "%s", why);
		goto refused;
	}
	g->state = SPA_G_RESIZING;
	g->resize_to = req->size;
	ret = save(l);
	g = spa_ledger_find(&l->ledger, id);
	if (ret) {
		g->state = SPA_G_ACTIVE;
		g->resize_to = 0;
		spa_quota_cancel_grow(&l->quota, bytes - old_bytes);
		spa_msg_error(rep, SPA_ERR_FAILED, "cannot write the ledger");
		goto refused;
	}

	ret = grow(l, g, req->size, why, sizeof(why), &undone, undo,
		   sizeof(undo));
	if (!ret) {
		old_size = g->size;
		g->size = req->size;
		g->bytes = bytes;
		g->state = SPA_G_ACTIVE;
		g->resize_to = 0;
		ret = save(l);
		g = spa_ledger_find(&l->ledger, id);
		if (!ret)
			goto grown;
		/* The ledger on disk still says resizing: back to its size. */
		g->size = old_size;
		g->bytes = old_bytes;
		g->state = SPA_G_RESIZING;
		g->resize_to = req->size;
		ret = spu_reason(why, sizeof(why), -EIO,
				 "cannot write the ledger");
		undone = !roll_back(l, g, undo, sizeof(undo));
	}
	spa_quota_cancel_grow(&l->quota, bytes - old_bytes);
	if (undone) {
		g->state = SPA_G_ACTIVE;
		g->resize_to = 0;
		save(l);
		spa_msg_error(rep, ret == -ENOSPC ? SPA_ERR_NO_SPACE :
			      SPA_ERR_FAILED, "%s; grant %016llx stays %s",
			      why, id, old_sz);
	} else {
		spa_msg_error(rep, SPA_ERR_FAILED,
			      "grant %016llx stays resizing (the undo failed too; retried when asked again, or at the lender's start): %s",
			      id, why);
		spa_err("resize of %016llx from %s (%s) to %s: %s; cannot undo it: %s",
			id, req->node, from, sz, why, undo);
	}
	goto refused;

grown:
	spa_quota_grown(&l->quota, bytes - old_bytes);
	spa_info("resized %016llx of %s (%s): %s -> %s (%llu more bytes of pool %s), volume %s/%s, namespace %u of %s revalidated",
		 id, req->node, from, old_sz, sz, bytes - old_bytes,
		 l->cfg->pool, l->cfg->pool, g->name, g->nsid, g->subnqn);
	fill_resized(l, g, rep);
	goto out;
refused:
	spa_warn("resize of %016llx from %s (%s) to %s refused: %s: %s", id,
		 req->node, from, sz, spa_err_name(rep->err_code),
		 rep->err_text);
out:
	pthread_mutex_unlock(&l->lock);
}

/* ------------------------------------------------ revoke and lease */

/*
 * Exports @g again: its volume bound and its dm device made if need be
 * (after a reboot), then nvmet.  0, or -errno with @why set.
 */
static int export_again(struct spa_lender *l, const struct spa_grant *g,
			char *why, size_t wlen)
{
	const struct spa_backend *be = l->be;
	struct spa_export e;
	int ret;

	fill_export(l, g, &e);
	ret = bind_vol(l, g->name, why, wlen);
	if (!ret)
		ret = be->vol_restore(be->ctx, l->cfg->pool, g->name, g->size,
				      why, wlen);
	if (!ret)
		ret = be->export(be->ctx, &e, why, wlen);
	return ret;
}

/* The grant @id in state @state, under @l's lock; NULL with @why if not. */
static struct spa_grant *grant_in(struct spa_lender *l, u64 id, int state,
				  const char *what, char *why, size_t wlen)
{
	struct spa_grant *g = spa_ledger_find(&l->ledger, id);

	if (!g || g->state == SPA_G_RELEASED) {
		spu_reason(why, wlen, -ENOENT, "no grant %016llx lent here%s",
			   id, g ? " (it was released)" : "");
		return NULL;
	}
	if (g->state != state) {
		spu_reason(why, wlen, -EBUSY,
			   "grant %016llx of %s is %s: only a grant %s can be %s",
			   id, g->peer, spa_gstate_name(g->state),
			   spa_gstate_name(state), what);
		return NULL;
	}
	return g;
}

int spa_lender_revoke_begin(struct spa_lender *l, u64 id,
			    char peer[SPA_NODE_MAX + 1], char *why,
			    size_t wlen)
{
	struct spa_grant *g;
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	g = grant_in(l, id, SPA_G_ACTIVE, "revoked", why, wlen);
	if (!g) {
		ret = -EBUSY;
		goto out;
	}
	g->state = SPA_G_REVOKING;
	revoke_untrack(l, id);	/* in progress once the borrower accepts */
	if (save(l)) {
		g = spa_ledger_find(&l->ledger, id);
		g->state = SPA_G_ACTIVE;
		ret = spu_reason(why, wlen, -EIO, "cannot write the ledger");
		goto out;
	}
	snprintf(peer, SPA_NODE_MAX + 1, "%s", g->peer);
	note(l, id, "revoke asked: REVOKE sent to %s", g->peer);
	spa_info("revoking %016llx: asking %s to move its slices off and give it back",
		 id, g->peer);
out:
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* Back to active (the revocation refused or failed), noted and logged. */
static void revoke_refused(struct spa_lender *l, struct spa_grant *g,
			   const char *what, const char *text)
{
	u64 id = g->id;

	g->state = SPA_G_ACTIVE;
	save(l);
	revoke_untrack(l, id);
	note(l, id, "revoke %s: %s", what, text);
	spa_warn("revoke of %016llx %s: %s (the grant stays active)", id, what,
		 text);
}

void spa_lender_revoke_failed(struct spa_lender *l, u64 id, const char *text)
{
	struct spa_grant *g;

	pthread_mutex_lock(&l->lock);
	g = spa_ledger_find(&l->ledger, id);
	if (g && g->state == SPA_G_REVOKING)
		revoke_refused(l, g, "failed", text);
	pthread_mutex_unlock(&l->lock);
}

void spa_lender_revoke_report(struct spa_lender *l, const struct spa_msg *req,
			      const char *from, struct spa_msg *rep)
{
	char why[SPA_NODE_MAX + 16];
	struct spa_grant *g;

	pthread_mutex_lock(&l->lock);
	g = spa_ledger_find(&l->ledger, req->grant_id);
	if (!g || g->state == SPA_G_RELEASED) {
		spa_msg_error(rep, SPA_ERR_UNKNOWN_GRANT, "no grant %016llx",
			      req->grant_id);
		goto refused;
	}
	/* Only the grant's borrower reports on its revocation. */
	if (strcmp(g->peer, req->node)) {
		spa_msg_error(rep, SPA_ERR_NOT_OWNER,
			      "grant %016llx is not %s's", g->id, req->node);
		goto refused;
	}
	if (g->state != SPA_G_REVOKING) {
		spa_msg_error(rep, SPA_ERR_BUSY,
			      "grant %016llx is %s, not revoking", g->id,
			      spa_gstate_name(g->state));
		goto refused;
	}
	if (req->fields & SPA_F(SPA_T_ERR_CODE)) {
		snprintf(why, sizeof(why), "refused by %s", g->peer);
		revoke_refused(l, g, why, req->err_text);
	} else {
		/* Heard of: in progress (after a restart of this daemon too). */
		revoke_track(l, g->id);
		note(l, g->id, "revoking: %s reports: %s", g->peer,
		     req->err_text);
		spa_info("revoke of %016llx: %s (%s) reports: %s", g->id,
			 req->node, from, req->err_text);
	}
	spa_msg_init(rep, l->cfg, SPA_REVOKE_REPORT | SPA_REPLY);
	rep->fields |= SPA_F(SPA_T_GRANT_ID);
	rep->grant_id = req->grant_id;
	goto out;
refused:
	spa_warn("revoke report on %016llx from %s (%s) refused: %s: %s",
		 req->grant_id, req->node, from, spa_err_name(rep->err_code),
		 rep->err_text);
out:
	pthread_mutex_unlock(&l->lock);
}

void spa_lender_revoke_accepted(struct spa_lender *l, u64 id)
{
	struct spa_grant *g;

	pthread_mutex_lock(&l->lock);
	g = spa_ledger_find(&l->ledger, id);
	if (g && g->state == SPA_G_REVOKING)
		revoke_track(l, id);
	pthread_mutex_unlock(&l->lock);
}

/*
 * Completes revocation @e (its grant @g revoking, or releasing when a
 * first try failed) without its borrower, under @l's lock: what the
 * borrower's RELEASE would have done (release_grant()).  The borrower
 * must not write to the space once it is free: the ledger says
 * releasing first (a crash leaves it to the reconcile, which finishes
 * it), then the export is withdrawn (the subsystem unlinked from its
 * ports, which makes nvmet delete the borrower's controllers; its
 * namespace disabled, which waits for the requests in flight, and
 * removed; the subsystem and the host entry removed), and only if all of
 * it is gone is the volume zeroed and deleted (teardown()).
 */
static void revoke_finish(struct spa_lender *l, struct spa_revoke_live *e,
			  struct spa_grant *g)
{
	char why[512], peer[SPA_NODE_MAX + 1], vol[SPU_NAME_MAX + 1];
	u64 id = g->id, gone = e->gone_ms / 1000;
	unsigned int hbt = l->cfg->heartbeat_timeout;
	int ret;

	snprintf(peer, sizeof(peer), "%s", g->peer);
	snprintf(vol, sizeof(vol), "%s", g->name);
	if (!e->finishing)
		spa_warn("revoke of %016llx: its borrower %s accepted it, then was declared down (not heard for %llu s, heartbeat_timeout %u s): completing it without %s: export %s withdrawn first, then volume %s/%s zeroed and deleted",
			 id, peer, gone, hbt, peer, g->subnqn, l->cfg->pool,
			 vol);
	e->finishing = true;
	ret = release_grant(l, g, "the lender", "revocation without its borrower",
			    why, sizeof(why));
	if (ret) {
		note(l, id,
		     "revoking without %s (declared down: not heard for %llu s, heartbeat_timeout %u s): not finished, tried again every heartbeat: %s",
		     peer, gone, hbt, why);
		spa_err("revoke of %016llx without %s: not finished (tried again every heartbeat): %s",
			id, peer, why);
		return;
	}
	note(l, id,
	     "revoked without %s: it was declared down during the revocation (not heard for %llu s, heartbeat_timeout %u s): export withdrawn, volume zeroed and deleted, its space lendable again",
	     peer, gone, hbt);
	spa_warn("revoke of %016llx completed without its borrower %s (declared down): volume %s/%s zeroed and deleted, its space lendable again",
		 id, peer, l->cfg->pool, vol);
}

/* The finisher: completes every revocation marked finish, then ends. */
static void *finisher_main(void *arg)
{
	struct spa_lender *l = arg;
	struct spa_revoke_live *e;
	struct spa_grant *g;
	unsigned int i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < SPA_REVOKES_MAX; i++) {
		e = &l->revokes[i];
		if (!e->id || !e->finish)
			continue;
		e->finish = false;
		g = spa_ledger_find(&l->ledger, e->id);
		if (g && (g->state == SPA_G_REVOKING ||
			  g->state == SPA_G_RELEASING))
			revoke_finish(l, e, g);
		else
			revoke_untrack(l, e->id);
	}
	l->finisher_running = false;
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

void spa_lender_finisher_wait(struct spa_lender *l)
{
	bool started;

	pthread_mutex_lock(&l->lock);
	started = l->finisher_started;
	l->finisher_started = false;
	pthread_mutex_unlock(&l->lock);
	if (started)
		pthread_join(l->finisher, NULL);
}

unsigned int spa_lender_revoke_check(struct spa_lender *l,
				     struct spa_peers *t, u64 now_mono,
				     u64 timeout_ms)
{
	struct spa_revoke_live *e;
	struct spa_grant *g;
	struct spa_peer p;
	unsigned int i, n = 0;
	bool start;
	u64 last;

	/*
	 * The heartbeat thread never waits on a grant, a release or a
	 * resize (zeroing takes long): busy, the next round looks.
	 */
	if (!timeout_ms || pthread_mutex_trylock(&l->lock))
		return 0;
	for (i = 0; i < SPA_REVOKES_MAX; i++) {
		e = &l->revokes[i];
		if (!e->id || e->finish)
			continue;
		g = spa_ledger_find(&l->ledger, e->id);
		/* Begun, and its teardown failed: tried again. */
		if (g && e->finishing && g->state == SPA_G_RELEASING) {
			e->finish = true;
			n++;
			continue;
		}
		if (!g || g->state != SPA_G_REVOKING) {
			revoke_untrack(l, e->id);
			continue;
		}
		/* Down by the health watch, and silent since it accepted. */
		if (!spa_peers_find(t, g->peer, &p) || p.health != SPA_H_DOWN)
			continue;
		last = p.heard_mono ? p.heard_mono : p.since_mono;
		if (e->heard_mono > last)
			last = e->heard_mono;
		if (now_mono <= last || now_mono - last <= timeout_ms)
			continue;
		e->gone_ms = now_mono - last;
		e->finish = true;
		n++;
	}
	start = n && !l->finisher_running;
	pthread_mutex_unlock(&l->lock);
	if (!start)
		return n;
	/* The last finisher has ended (it was not running): joined. */
	spa_lender_finisher_wait(l);
	pthread_mutex_lock(&l->lock);
	l->finisher_running = true;
	l->finisher_started = !pthread_create(&l->finisher, NULL,
					      finisher_main, l);
	if (!l->finisher_started) {
		l->finisher_running = false;
		spa_err("cannot start a thread to complete %u revocation(s) without their borrower: tried again after the next heartbeat",
			n);
		for (i = 0; i < SPA_REVOKES_MAX; i++)
			l->revokes[i].finish = false;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

unsigned int spa_lender_lease_check(struct spa_lender *l, struct spa_peers *t,
				    u64 now_mono)
{
	const struct spa_backend *be = l->be;
	u64 lease_ms = (u64)l->cfg->lease * 1000, last, gone;
	unsigned int n = 0;
	struct spa_grant *g;
	struct spa_peer p;
	char why[512];
	size_t i;

	/* As spa_lender_revoke_check(): busy, the next round looks. */
	if (!lease_ms || pthread_mutex_trylock(&l->lock))
		return 0;
	for (i = 0; i < l->ledger.n; i++) {
		g = &l->ledger.g[i];
		/* Not one being resized: that is the borrower talking. */
		if (g->state != SPA_G_ACTIVE && g->state != SPA_G_REVOKING)
			continue;
		/* Never heard: since it is known, or since this start. */
		last = l->since_mono;
		if (spa_peers_find(t, g->peer, &p))
			last = p.heard_mono ? p.heard_mono : p.since_mono;
		gone = now_mono > last ? now_mono - last : 0;
		if (gone <= lease_ms)
			continue;
		if (be->unexport(be->ctx, g->subnqn,
				 l->cfg->nvmet_port_id + slot_of(l, g), why,
				 sizeof(why))) {
			spa_err("lease of %016llx: %s not heard for %llu s, but its export cannot be removed: %s",
				g->id, g->peer, gone / 1000, why);
			continue;
		}
		g->state = SPA_G_FENCED;
		save(l);
		revoke_untrack(l, g->id);
		note(l, g->id, "fenced: %s not heard for %llu s (lease %u s)",
		     g->peer, gone / 1000, l->cfg->lease);
		spa_warn("fenced %016llx: its borrower %s was not heard for %llu s (lease %u s): export %s removed, volume %s/%s and its data kept until 'slicepool-agent release-fenced %016llx' (or 'unfence')",
			 g->id, g->peer, gone / 1000, l->cfg->lease, g->subnqn,
			 l->cfg->pool, g->name, g->id);
		n++;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

int spa_lender_unfence(struct spa_lender *l, u64 id, char *why, size_t wlen)
{
	struct spa_grant *g;
	int ret;

	pthread_mutex_lock(&l->lock);
	g = grant_in(l, id, SPA_G_FENCED, "unfenced", why, wlen);
	if (!g) {
		ret = -EBUSY;
		goto out;
	}
	ret = export_again(l, g, why, wlen);
	if (ret)
		goto out;
	g->state = SPA_G_ACTIVE;
	save(l);
	note_drop(l, id);
	spa_info("unfenced %016llx: exported again to %s as %s", id, g->peer,
		 g->subnqn);
out:
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int spa_lender_release_fenced(struct spa_lender *l, u64 id, char *why,
			      size_t wlen)
{
	struct spa_grant *g;
	int ret;

	pthread_mutex_lock(&l->lock);
	g = grant_in(l, id, SPA_G_FENCED, "released by the operator", why,
		     wlen);
	ret = g ? release_grant(l, g, "the operator", "release-fenced", why,
				wlen) : -EBUSY;
	pthread_mutex_unlock(&l->lock);
	return ret;
}

void spa_lender_stats(struct spa_lender *l, u64 *lendable,
		      unsigned int *grants)
{
	*lendable = l->cfg->lend ?
		    spa_quota_lendable(&l->quota, l->cfg->pool) : 0;
	pthread_mutex_lock(&l->quota.lock);
	*grants = l->quota.grants;
	pthread_mutex_unlock(&l->quota.lock);
}

/* ------------------------------------------------------- reconcile */

static bool live_name(struct spa_lender *l, const char *vol,
		      const char *subnqn)
{
	const struct spa_grant *g;
	size_t i;

	for (i = 0; i < l->ledger.n; i++) {
		g = &l->ledger.g[i];
		if (g->state == SPA_G_RELEASED)
			continue;
		if ((vol && !strcmp(g->name, vol)) ||
		    (subnqn && !strcmp(g->subnqn, subnqn)))
			return true;
	}
	return false;
}

static bool in_list(char **names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return true;
	return false;
}

/* The grant id in volume name @vol ("rg-<16 hex digits>"); false if none. */
static bool vol_grant_id(const char *vol, u64 *id)
{
	const char *hex = vol + strlen(SPA_VOL_PREFIX);
	char *end;

	if (strncmp(vol, SPA_VOL_PREFIX, strlen(SPA_VOL_PREFIX)) ||
	    strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16)
		return false;
	*id = strtoull(hex, &end, 16);
	return !*end;
}

/*
 * Clears and deletes pool volume @vol, which no grant owns: made before
 * a crash kept it out of the ledger, or its entry lost with the ledger.
 * It may hold a borrower's data, so it goes as a grant given back does
 * (teardown()): its export is gone first (the caller removed every
 * subsystem of no grant; @subs are those left, the ones it could not
 * remove), then the whole volume is zeroed through an aside device
 * (bound first if only discovered; its UUID and size read from the
 * pool: no ledger entry holds them), then
 * it is deleted.  Anything failing keeps the volume and its slices:
 * nothing uncleared goes back to the pool; the next start tries again.
 * 1 if the volume is gone already (a grant torn down by this reconcile).
 */
static int drop_orphan(struct spa_lender *l, const char *vol, char **subs,
		       size_t ns, char *why, size_t wlen)
{
	const struct spa_backend *be = l->be;
	const char *pool = l->cfg->pool;
	char uuid[SPU_UUID_STR], sub[SPA_NQN_MAX + 1] = "";
	u64 id, size = 0;
	int ret;

	if (!vol_exists(l, vol))
		return 1;
	if (vol_grant_id(vol, &id))
		spa_grant_names(l->cfg, id, NULL, 0, sub, sizeof(sub));
	if (sub[0] && in_list(subs, ns, sub))
		return spu_reason(why, wlen, -EBUSY,
				  "its export %s could not be removed: a host could write behind the zeroes",
				  sub);
	ret = bind_vol(l, vol, why, wlen);
	if (!ret)
		ret = be->vol_info(be->ctx, pool, vol, uuid, &size, why, wlen);
	if (!ret && size)	/* a volume of size 0 holds no slice */
		ret = be->zero(be->ctx, pool, vol, uuid, 0, size, why, wlen);
	if (!ret)
		ret = be->vol_delete(be->ctx, pool, vol, why, wlen);
	return ret;
}

/* An active grant, exported again if it is not (after a reboot); 1 if not. */
static int restore_grant(struct spa_lender *l, struct spa_grant *g,
			 char **vols, size_t nv)
{
	const char *pool = l->cfg->pool;
	char why[512];
	int ret;

	if (!in_list(vols, nv, g->name)) {
		spa_err("reconcile: grant %016llx of %s: volume %s/%s is missing (pool not assembled?); not exported",
			g->id, g->peer, pool, g->name);
		return 1;
	}
	if (exported(l, g))
		return 0;
	ret = export_again(l, g, why, sizeof(why));
	if (ret) {
		spa_err("reconcile: grant %016llx of %s: cannot restore its export: %s",
			g->id, g->peer, why);
		return 1;
	}
	spa_info("reconcile: grant %016llx of %s exported again as %s",
		 g->id, g->peer, g->subnqn);
	return 0;
}

int spa_lender_reconcile(struct spa_lender *l)
{
	const struct spa_backend *be = l->be;
	const char *pool = l->cfg->pool;
	char **vols = NULL, **subs = NULL, why[512];
	size_t nv = 0, ns = 0, i;
	struct spa_grant *g;
	int ret, err, left = 0;

	pthread_mutex_lock(&l->lock);
	/*
	 * Before any export is restored: the guard of every grant in use
	 * (after a reboot it is gone, like the exports).  Without it an
	 * export would be open to every peer in the tunnel: the daemon
	 * stops instead.
	 */
	ret = guard_sync(l, why, sizeof(why));
	if (ret) {
		spa_err("reconcile: cannot set up the exports' guard: %s", why);
		pthread_mutex_unlock(&l->lock);
		return ret;
	}
	ret = be->vol_list(be->ctx, pool, SPA_VOL_PREFIX, &vols, &nv);
	if (ret) {
		spa_err("reconcile: cannot list the volumes of pool %s: %s (is it assembled?)",
			pool, strerror(-ret));
		pthread_mutex_unlock(&l->lock);
		return ret;
	}
	ret = be->export_list(be->ctx, l->subnqn_prefix, &subs, &ns);
	if (ret) {
		spa_err("reconcile: cannot list nvmet subsystems: %s",
			strerror(-ret));
		spu_free_list(vols, nv);
		pthread_mutex_unlock(&l->lock);
		return ret;
	}

	for (i = 0; i < l->ledger.n; i++) {
		g = &l->ledger.g[i];
		switch (g->state) {
		case SPA_G_EXPORTING:
		case SPA_G_RELEASING:
		case SPA_G_RELEASED:
			if (g->state == SPA_G_RELEASED &&
			    !in_list(vols, nv, g->name) &&
			    !in_list(subs, ns, g->subnqn))
				break;
			ret = teardown(l, g, why, sizeof(why));
			if (ret) {
				spa_err("reconcile: grant %016llx (%s): teardown failed: %s",
					g->id, spa_gstate_name(g->state), why);
				left++;
				break;
			}
			spa_info("reconcile: grant %016llx of %s was %s: export and volume removed",
				 g->id, g->peer, spa_gstate_name(g->state));
			g->state = SPA_G_RELEASED;
			break;
		case SPA_G_RESIZING:
			/*
			 * Rolled back, not forward: RESIZED was never sent,
			 * so the borrower uses nothing past the old size (its
			 * member did not grow), and going forward could need
			 * space the pool has given to others since.  The
			 * borrower's resize, asked again, grows it anew.
			 */
			if (in_list(vols, nv, g->name) &&
			    settle(l, g, why, sizeof(why))) {
				spa_err("reconcile: grant %016llx of %s: cannot roll back its resize: %s",
					g->id, g->peer, why);
				left++;
				break;
			}
			left += restore_grant(l, g, vols, nv);
			break;
		case SPA_G_ACTIVE:
		case SPA_G_REVOKING:
			left += restore_grant(l, g, vols, nv);
			break;
		case SPA_G_FENCED:
			/* Kept, not exported, until the operator says. */
			if (!exported(l, g) && !in_list(subs, ns, g->subnqn))
				break;
			ret = be->unexport(be->ctx, g->subnqn,
					   l->cfg->nvmet_port_id + slot_of(l, g),
					   why, sizeof(why));
			if (ret) {
				spa_err("reconcile: fenced grant %016llx of %s: cannot remove its export: %s",
					g->id, g->peer, why);
				left++;
			}
			break;
		}
	}

	if (!l->ledger.existed && (nv || ns)) {
		spa_warn("reconcile: no ledger (%s) but %zu volume(s) and %zu subsystem(s) named as the agent's: leaving them alone",
			 l->ledger.path, nv, ns);
	} else {
		for (i = 0; i < ns; i++) {
			if (live_name(l, NULL, subs[i]))
				continue;
			ret = be->unexport(be->ctx, subs[i],
					   l->cfg->nvmet_port_id, why,
					   sizeof(why));
			if (ret) {
				spa_err("reconcile: cannot remove the export %s of no grant: %s",
					subs[i], why);
				left++;
			} else {
				spa_info("reconcile: removed the export %s of no grant",
					 subs[i]);
			}
		}
		/* What is left: the exports that could not be removed. */
		spu_free_list(subs, ns);
		subs = NULL;
		ns = 0;
		ret = be->export_list(be->ctx, l->subnqn_prefix, &subs, &ns);
		for (i = 0; i < nv; i++) {
			if (live_name(l, vols[i], NULL))
				continue;
			err = ret;
			if (err)
				snprintf(why, sizeof(why),
					 "cannot list nvmet subsystems: %s",
					 strerror(-err));
			else
				err = drop_orphan(l, vols[i], subs, ns, why,
						  sizeof(why));
			if (err > 0)
				continue;
			if (err) {
				spa_err("reconcile: cannot zero and delete volume %s/%s of no grant: kept (the next start tries again): %s",
					pool, vols[i], why);
				left++;
			} else {
				spa_info("reconcile: zeroed and deleted volume %s/%s of no grant",
					 pool, vols[i]);
			}
		}
	}
	spu_free_list(vols, nv);
	spu_free_list(subs, ns);
	if (l->ledger.existed || l->ledger.n)
		save(l);
	/* The grants torn down above need no rule any more. */
	if (guard_sync(l, why, sizeof(why))) {
		spa_err("reconcile: cannot update the exports' guard: %s", why);
		left++;
	}
	recount(l);
	pthread_mutex_unlock(&l->lock);
	return left;
}
