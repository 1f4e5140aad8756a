// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the borrowing side
 *
 * Borrow (Documentation/nvmet-remote-ns.rst, "Borrowing"):
 *
 *   requesting   written before the REQUEST is sent (with its request id)
 *   connecting   the GRANT arrived: nvme connect to each of its paths
 *                (the first, then its "path" fields: native NVMe
 *                multipath joins them in one namespace head), wait for
 *                the namespace (matched by subsystem NQN and UUID), add
 *                it to the pool as member rm-<grant id> in domain
 *                remote:<lender>
 *   active       the member is enabled
 *
 * Resize (grow) an active grant: the member must have the kernel's
 * revalidate_size; RESIZE to the lender, which grows the volume and makes
 * nvmet tell the connected hosts; the namespace (the head, with native
 * multipath) must show the new size within 30 s (nvme-tcp rescans on the
 * notice; after 10 s the controllers are asked to rescan as well); the
 * member is revalidated (it takes the new whole slices its owner table
 * can describe, max_slices) and the ledger gets the new size.  A lender
 * that does not know RESIZE answers "unknown verb"; nothing changed then.
 *
 * Give back: the member is disabled and removed (refused while it holds
 * slices of a volume), the state becomes "releasing", the controllers of
 * the subsystem (every path) are disconnected, the RELEASE is sent;
 * "released" once the lender agrees.
 * A borrow that fails after the grant is given back at once.  Whatever
 * was left half-done (the agent or the host stopped, the lender could not
 * be reached) is finished by spa_borrower_reconcile(), which the daemon
 * runs at start and then every heartbeat period while something is left.
 * The ledger is held under an flock of <state_dir>/borrow.lock.
 *
 * A peer the daemon found down (health.c) is not asked: "borrow PEER" is
 * refused, and "borrow SIZE" chooses among the peers that answer a
 * HEARTBEAT now, by the space they can lend and their grants.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent.h"
#include "spu-fmt2.h"

#define SPA_NS_WAIT_MS		15000
#define SPA_CALL_TRIES		3
#define SPA_RESIZE_WAIT_MS	30000	/* for the namespace's new size */
#define SPA_RESCAN_AFTER_MS	10000	/* then ask the controllers too */

/* Locks and loads the borrower's ledger; returns the lock fd. */
static int ledger_open(const struct spa_config *c, struct spa_ledger *l,
		       char *why, size_t wlen)
{
	char path[PATH_MAX];
	int fd, ret;

	if (mkdir(c->state_dir, 0700) && errno != EEXIST)
		return spu_reason(why, wlen, -errno, "cannot create %s: %s",
				  c->state_dir, strerror(errno));
	if (spu_path(path, sizeof(path), "%s/borrow.lock", c->state_dir))
		return -ENAMETOOLONG;
	fd = spa_lock_file(path, true);
	if (fd < 0)
		return spu_reason(why, wlen, fd, "cannot lock %s: %s", path,
				  strerror(-fd));
	ret = spu_path(path, sizeof(path), "%s/borrowed", c->state_dir);
	if (!ret)
		ret = spa_ledger_load(l, path, false, why, wlen);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static void ledger_close(struct spa_ledger *l, int fd)
{
	spa_ledger_free(l);
	close(fd);
}

static int save(struct spa_ledger *l)
{
	char why[256];
	int ret;

	ret = spa_ledger_save(l, why, sizeof(why));
	if (ret)
		spa_err("%s", why);
	return ret;
}

/* spa_call() with retries on transport errors (not on ERROR replies). */
static int call_peer(const struct spa_config *c, struct spa_keys *key,
		     const struct spa_peer_cfg *p, struct spa_msg *req,
		     struct spa_msg *rep, char *why, size_t wlen)
{
	int i, ret = -EIO;

	for (i = 0; i < SPA_CALL_TRIES; i++) {
		if (i) {
			sleep(1);
			req->ts_ms = spa_now_ms();
			spa_random(req->nonce, sizeof(req->nonce));
		}
		ret = spa_call(c, key, p->addr, p->port, p->name, req, rep, why,
			       wlen);
		if (!ret)
			break;
	}
	return ret;
}

static void build_request(const struct spa_config *c,
			  const struct spa_grant *g, struct spa_msg *req)
{
	spa_msg_init(req, c, SPA_REQUEST);
	req->fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		       SPA_F(SPA_T_REQ_ID);
	snprintf(req->hostnqn, sizeof(req->hostnqn), "%s", g->hostnqn);
	req->size = g->size;
	memcpy(req->req_id, g->req_id, SPA_ID_LEN);
	req->fields |= SPA_F(SPA_T_MAX_PATHS);
	req->max_paths = SPA_PATHS_MAX;
}

/*
 * Sends a REQUEST.  A lender from before multipath refuses the max_paths
 * field as a bad message (it has not looked at the request): it is asked
 * once more without it, and grants one path.
 */
static int call_request(const struct spa_config *c, struct spa_keys *key,
			const struct spa_peer_cfg *p, struct spa_msg *req,
			struct spa_msg *rep, char *why, size_t wlen)
{
	int ret;

	ret = call_peer(c, key, p, req, rep, why, wlen);
	if (ret || rep->type != SPA_ERROR ||
	    rep->err_code != SPA_ERR_BAD_MESSAGE ||
	    !(req->fields & SPA_F(SPA_T_MAX_PATHS)))
		return ret;
	spa_warn("%s refused the request (%s): asking again for one path only",
		 p->name, rep->err_text);
	req->fields &= ~SPA_F(SPA_T_MAX_PATHS);
	req->max_paths = 0;
	req->ts_ms = spa_now_ms();
	spa_random(req->nonce, sizeof(req->nonce));
	return call_peer(c, key, p, req, rep, why, wlen);
}

/*
 * Resolves the lender of @g into @p and makes in *@req a @type message
 * about @g (its grant id set), with room for the answer at *@req + 1;
 * the caller frees *@req.
 */
static int grant_msg_new(const struct spa_config *c, const struct spa_grant *g,
			 u8 type, struct spa_peer_cfg *p, struct spa_msg **req,
			 char *why, size_t wlen)
{
	int ret;

	ret = spa_peer_resolve(c, g->peer, p, why, wlen);
	if (ret)
		return ret;
	*req = calloc(2, sizeof(**req));
	if (!*req)
		return -ENOMEM;
	spa_msg_init(*req, c, type);
	(*req)->fields |= SPA_F(SPA_T_GRANT_ID);
	(*req)->grant_id = g->id;
	return 0;
}

/* Sends RELEASE for @g; 0 once the lender holds nothing of it. */
static int send_release(const struct spa_config *c, struct spa_keys *key,
			const struct spa_grant *g, char *why, size_t wlen)
{
	struct spa_peer_cfg p;
	struct spa_msg *req, *rep;
	int ret;

	ret = grant_msg_new(c, g, SPA_RELEASE, &p, &req, why, wlen);
	if (ret)
		return ret;
	rep = req + 1;
	ret = call_peer(c, key, &p, req, rep, why, wlen);
	if (!ret && rep->type == SPA_ERROR) {
		if (rep->err_code == SPA_ERR_UNKNOWN_GRANT) {
			spa_warn("%s does not know grant %016llx any more: taken as released",
				 g->peer, g->id);
		} else {
			ret = spu_reason(why, wlen, -EREMOTEIO,
					 "%s refused the release of %016llx: %s: %s",
					 g->peer, g->id, spa_err_name(rep->err_code),
					 rep->err_text);
		}
	}
	free(req);
	return ret;
}

/*
 * Undoes @g as far as it got (member, controller) and gives it back.
 * Leaves it "releasing" if that could not be finished.  @g is an entry
 * of @l; it stays valid (nothing is added).
 */
static int give_back(const struct spa_config *c, struct spa_keys *key,
		     struct spa_ledger *l, struct spa_grant *g, char *why,
		     size_t wlen)
{
	int ret;

	if (g->name[0] && c->pool[0] && spu_member_exists(c->pool, g->name)) {
		ret = spu_member_remove(c->pool, g->name, why, wlen);
		if (ret)
			return ret;
		spa_info("member %s of pool %s removed", g->name, c->pool);
	}
	if (g->state != SPA_G_RELEASING) {
		g->state = SPA_G_RELEASING;
		save(l);
	}
	if (g->subnqn[0]) {
		ret = spa_nvme_disconnect(c, g->subnqn, why, wlen);
		if (ret)
			return ret;
	}
	if (g->id) {
		ret = send_release(c, key, g, why, wlen);
		if (ret)
			return ret;
	}
	g->state = SPA_G_RELEASED;
	save(l);
	spa_info("grant %016llx given back to %s", g->id, g->peer);
	return 0;
}

/* The GRANT is ours: its values become the entry's. */
static int take_grant(const struct spa_config *c, const struct spa_peer_cfg *p,
		      const struct spa_msg *rep, struct spa_grant *g, char *why,
		      size_t wlen)
{
	const char *want = spa_tunnel_peer_addr(c, p->name, p->addr);

	g->id = rep->grant_id;
	snprintf(g->subnqn, sizeof(g->subnqn), "%s", rep->subnqn);
	snprintf(g->traddr, sizeof(g->traddr), "%s", rep->addr);
	g->trsvcid = rep->port;
	g->nsid = rep->nsid;
	spu_uuid_format(rep->uuid, g->uuid);
	snprintf(g->name, sizeof(g->name), "rm-%016llx", g->id);
	if (rep->size != g->size)
		return spu_reason(why, wlen, -EPROTO,
				  "%s granted %llu bytes, %llu were asked", p->name,
				  rep->size, g->size);
	if (!want)
		return spu_reason(why, wlen, -ENOKEY,
				  "%s has no tunnel here (peer_tunnel %s ...)",
				  p->name, p->name);
	/* Connect only to the address the peer is known at (in the tunnel). */
	if (strcmp(rep->addr, want) && spa_tunnel_on(c))
		return spu_reason(why, wlen, -EPROTO,
				  "%s granted an export at %s, not at its tunnel address %s: connections to %s go through the WireGuard tunnel only (does %s export through its tunnel? it needs 'tunnel' and 'peer_tunnel %s ...')",
				  p->name, rep->addr, want, p->name, p->name,
				  c->node);
	if (strcmp(rep->addr, want))
		return spu_reason(why, wlen, -EPROTO,
				  "%s granted an export at %s, not at its own address %s (if that is its tunnel address, this node needs 'tunnel' and 'peer_tunnel %s ...')",
				  p->name, rep->addr, want, p->name);
	return 0;
}

/*
 * Connects to the further paths of a grant: same subsystem, same host
 * NQN, so that native NVMe multipath makes them paths of one namespace
 * head.  Like the first, a path must be at the address the lender is
 * known at; one that is not, or does not connect, is left out (logged):
 * the member still has its first path.
 */
/* The DH-HMAC-CHAP secrets of a connect ("": none). */
struct borrow_auth {
	char key[SPA_DHCHAP_MAX + 1];
	char ctrl_key[SPA_DHCHAP_MAX + 1];
};

/*
 * With 'dhchap on', the secrets of this host with lender @peer where
 * this kernel's nvme host offers DH-HMAC-CHAP; none where it does not
 * (said once: the lender's nvmet then must not ask for it either).
 */
static int borrow_auth_get(const struct spa_config *c, struct spa_keys *key,
			   const char *peer, struct borrow_auth *au,
			   char *why, size_t wlen)
{
	static bool said;	/* atomic: borrows run in several threads */
	int probe, ret;

	memset(au, 0, sizeof(*au));
	if (!c->dhchap)
		return 0;
	probe = spa_dhchap_host_probe();
	if (probe <= 0) {
		if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
			spa_warn("dhchap on, but this kernel's nvme host offers no DH-HMAC-CHAP (%s: no dhchap_secret option in /dev/nvme-fabrics): connecting without it",
				 spa_dhchap_said(probe));
		return 0;
	}
	ret = spa_keys_dhchap(key, peer, c->hostnqn, au->key, au->ctrl_key);
	if (ret)
		return spu_reason(why, wlen, ret,
				  "no DH-HMAC-CHAP secret for %s: it has no key here (peer_key)",
				  peer);
	return 0;
}

static void connect_paths(const struct spa_config *c,
			  const struct spa_peer_cfg *p,
			  const struct spa_grant *g, const struct spa_msg *rep,
			  const struct borrow_auth *au)
{
	const char *want = spa_tunnel_peer_addr(c, p->name, p->addr);
	char why[512];
	unsigned int i;

	for (i = 0; want && i < rep->nr_paths; i++) {
		const struct spa_path_info *pa = &rep->paths[i];

		if (strcmp(pa->addr, want)) {
			spa_warn("grant %016llx: path %s:%u left out: not at %s's own address %s",
				 g->id, pa->addr, pa->port, p->name, want);
			continue;
		}
		if (spa_nvme_connect(c, pa->addr, pa->port, g->subnqn,
				     au->key, au->ctrl_key, why, sizeof(why))) {
			spa_warn("grant %016llx: path %s:%u left out: %s",
				 g->id, pa->addr, pa->port, why);
			continue;
		}
		spa_info("grant %016llx: connected path %u of %u, %s:%u",
			 g->id, i + 2, rep->nr_paths + 1, pa->addr, pa->port);
	}
}

/* ------------------------------------------------------- member check */

/* Block 0 as this borrower writes it for @member of pool @pool_uuid? */
static int sb_ours(const u8 *b, const char *pool_uuid, const char *member,
		   const char *domain, char *why, size_t wlen)
{
	struct spu_fmt2_sb sb;
	char tmp[256];
	int ret;

	ret = spu_fmt2_sb_parse(b, SPU_FMT2_BLOCK, &sb, tmp, sizeof(tmp));
	if (ret == -ENODATA)
		return spu_reason(why, wlen, -EILSEQ,
				  "block 0 is neither blank nor a slicepool superblock");
	if (ret)
		return spu_reason(why, wlen, -EILSEQ,
				  "block 0 is a slicepool superblock that is refused: %s",
				  tmp);
	if (strcasecmp(sb.pool_uuid, pool_uuid))
		return spu_reason(why, wlen, -EILSEQ,
				  "it carries the metadata of another pool (uuid %s, not this pool's %s)",
				  sb.pool_uuid, pool_uuid);
	if (strcmp(sb.member_name, member))
		return spu_reason(why, wlen, -EILSEQ,
				  "it carries this pool's metadata of member '%s', not of %s",
				  sb.member_name, member);
	if (strcmp(sb.domain, domain))
		return spu_reason(why, wlen, -EILSEQ,
				  "it carries member %s's metadata in domain '%s', not %s",
				  member, sb.domain, domain);
	return SPA_MEMBER_OURS;
}

int spa_member_check(const char *path, const char *pool_uuid,
		     const char *member, const char *domain, char *why,
		     size_t wlen)
{
	u8 *buf;
	size_t got = 0, i;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spu_reason(why, wlen, -errno, "cannot open %s: %s", path,
				  strerror(errno));
	buf = malloc(SPA_MEMBER_CHECK_BYTES);
	if (!buf) {
		close(fd);
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	}
	while (got < SPA_MEMBER_CHECK_BYTES) {
		n = pread(fd, buf + got, SPA_MEMBER_CHECK_BYTES - got, got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret || got < SPU_FMT2_BLOCK) {
		free(buf);
		return spu_reason(why, wlen, ret ? ret : -EIO,
				  "cannot read %s: %s", path,
				  ret ? strerror(-ret) : "shorter than a block");
	}
	for (i = 0; i < got && !buf[i]; i++)
		;
	if (i == got)
		ret = SPA_MEMBER_BLANK;
	else if (i >= SPU_FMT2_BLOCK)
		ret = spu_reason(why, wlen, -EILSEQ,
				 "block 0 is blank but byte %zu is not: not a blank namespace",
				 i);
	else
		ret = sb_ours(buf, pool_uuid, member, domain, why, wlen);
	free(buf);
	return ret;
}

/*
 * A granted namespace becomes a member only when it is blank or carries
 * what this borrower wrote as that member before (a re-import): never a
 * lender's (or anyone's on the path) planted metadata.
 */
static int check_member(const struct spa_config *c, const struct spa_grant *g,
			const char *dev, const char *domain, char *why,
			size_t wlen)
{
	char path[PATH_MAX], uuid[SPU_UUID_STR + 2], tmp[512];
	int ret;

	if (spu_path(path, sizeof(path), "%s/%s/uuid", spu_configfs_root(),
		     c->pool) || spu_read_buf(path, uuid, sizeof(uuid)))
		return spu_reason(why, wlen, -EIO,
				  "cannot read the uuid of pool %s", c->pool);
	ret = spa_member_check(dev, uuid, g->name, domain, tmp, sizeof(tmp));
	if (ret < 0) {
		spa_err("grant %016llx from %s: namespace %s refused as member %s: %s",
			g->id, g->peer, dev, g->name, tmp);
		return spu_reason(why, wlen, ret,
				  "namespace %s refused as member %s: %s", dev,
				  g->name, tmp);
	}
	spa_info("grant %016llx from %s: namespace %s is %s", g->id, g->peer,
		 dev, ret == SPA_MEMBER_BLANK ? "blank" :
		 "this pool's own member (re-import)");
	return 0;
}

static int attach(const struct spa_config *c, struct spa_keys *key,
		  const struct spa_peer_cfg *p, struct spa_grant *g,
		  const struct spa_msg *rep, char *dev, size_t dlen, char *why,
		  size_t wlen)
{
	char domain[SPU_NAME_MAX + 1];
	struct borrow_auth au;
	u64 until;
	int ret;

	/* A tunnel that does not carry traffic: a refusal, not a hang. */
	if (spa_tunnel_on(c)) {
		ret = spa_tunnel_probe(c, g->peer, g->traddr, g->trsvcid,
				       c->io_timeout, why, wlen);
		if (ret)
			return ret;
	}
	ret = borrow_auth_get(c, key, g->peer, &au, why, wlen);
	if (!ret)
		ret = spa_nvme_connect(c, g->traddr, g->trsvcid, g->subnqn,
				       au.key, au.ctrl_key, why, wlen);
	if (!ret)
		connect_paths(c, p, g, rep, &au);
	OPENSSL_cleanse(&au, sizeof(au));
	if (ret)
		return ret;
	until = spa_mono_ms() + SPA_NS_WAIT_MS;
	for (;;) {
		ret = spa_nvme_find_ns(g->subnqn, g->uuid, dev, dlen);
		if (!ret || spa_mono_ms() >= until)
			break;
		usleep(200000);
	}
	if (ret)
		return spu_reason(why, wlen, ret,
				  "connected to %s, but no namespace with uuid %s appeared within %d s",
				  g->subnqn, g->uuid, SPA_NS_WAIT_MS / 1000);
	snprintf(domain, sizeof(domain), "remote:%s", g->peer);
	ret = check_member(c, g, dev, domain, why, wlen);
	if (ret)
		return ret;
	return spu_member_add(c->pool, g->name, dev, domain, why, wlen);
}

/*
 * The checks a borrow and a resize share: a pool is configured (@pool_is
 * says what it is for, in the message) and @size is a valid grant size.
 */
static int borrow_args_check(const struct spa_config *c, u64 size,
			     const char *pool_is, char *why, size_t wlen)
{
	if (!c->pool[0])
		return spu_reason(why, wlen, -EINVAL, "no 'pool' in %s: %s",
				  c->path, pool_is);
	if (!size || size % SPA_SIZE_ALIGN || size > SPA_SIZE_MAX)
		return spu_reason(why, wlen, -EINVAL,
				  "size %llu: a multiple of 4 KiB up to 1 PiB", size);
	return 0;
}

bool spa_tunnel_owned;

int spa_borrow(const struct spa_config *c, struct spa_keys *key,
	       const char *peer, u64 size, struct spa_grant *out, char *why,
	       size_t wlen)
{
	char dev[64], tmp[512], sz[32];
	struct spa_ledger l;
	struct spa_peer_cfg p;
	struct spa_msg *req, *rep;
	struct spa_grant *g;
	size_t idx;
	int fd, ret;

	ret = borrow_args_check(c, size, "the pool to add the borrowed space to",
				why, wlen);
	if (ret)
		return ret;
	ret = spa_peer_resolve(c, peer, &p, why, wlen);
	if (ret)
		return ret;
	ret = spa_health_excluded(c, p.name, why, wlen);
	if (ret)
		return ret;
	if (!spa_tunnel_peer_addr(c, p.name, p.addr))
		return spu_reason(why, wlen, -ENOKEY,
				  "%s has no tunnel here: add 'peer_tunnel %s PUBKEY ENDPOINT TUNNEL_ADDR' (this node's NVMe/TCP connections go through its WireGuard tunnel only)",
				  p.name, p.name);
	/* The daemon has set the tunnel up; without one, this command does. */
	if (spa_tunnel_on(c) && !spa_tunnel_owned) {
		ret = spa_tunnel_up(c, NULL, why, wlen);
		if (ret)
			return ret;
	}
	/* What a borrow needs here, checked before asking for anything. */
	if (spu_path(tmp, sizeof(tmp), "%s/%s", spu_configfs_root(), c->pool) ||
	    !spu_exists(tmp))
		return spu_reason(why, wlen, -ENOENT,
				  "pool %s does not exist here (slicepool pool create, or assemble)",
				  c->pool);
	if (access(c->nvme_cli, X_OK))
		return spu_reason(why, wlen, -ENOENT,
				  "cannot run %s (install nvme-cli, or set nvme_cli)",
				  c->nvme_cli);
	req = calloc(2, sizeof(*req));
	if (!req)
		return -ENOMEM;
	rep = req + 1;
	fd = ledger_open(c, &l, why, wlen);
	if (fd < 0) {
		free(req);
		return fd;
	}
	spa_ledger_prune(&l, 64);
	g = spa_ledger_add(&l);
	if (!g) {
		ret = spu_reason(why, wlen, -ENOSPC, "the ledger is full");
		goto out;
	}
	idx = l.n - 1;
	g->state = SPA_G_REQUESTING;
	snprintf(g->peer, sizeof(g->peer), "%s", p.name);
	g->size = size;
	spa_random(g->req_id, SPA_ID_LEN);
	g->created = (u64)time(NULL);
	snprintf(g->hostnqn, sizeof(g->hostnqn), "%s", c->hostnqn);
	ret = save(&l);
	if (ret) {
		spu_reason(why, wlen, ret, "cannot write the ledger in %s",
			   c->state_dir);
		goto out;
	}
	g = &l.g[idx];
	build_request(c, g, req);
	ret = call_request(c, key, &p, req, rep, why, wlen);
	if (ret) {
		snprintf(tmp, sizeof(tmp), "%s", why);
		spu_reason(why, wlen, ret,
			   "%s; if it was granted, the agent gives it back (state requesting)",
			   tmp);
		goto out;
	}
	g = &l.g[idx];
	if (rep->type == SPA_ERROR) {
		g->state = SPA_G_RELEASED;
		save(&l);
		ret = spu_reason(why, wlen, 1, "%s refused: %s: %s", p.name,
				 spa_err_name(rep->err_code), rep->err_text);
		goto out;
	}
	ret = take_grant(c, &p, rep, g, why, wlen);
	if (!ret) {
		g->state = SPA_G_CONNECTING;
		ret = save(&l);
	}
	if (!ret)
		ret = attach(c, key, &p, g, rep, dev, sizeof(dev), why, wlen);
	if (ret) {
		snprintf(tmp, sizeof(tmp), "%s", why);
		g = &l.g[idx];
		if (give_back(c, key, &l, g, why, wlen))
			spu_reason(why, wlen, ret,
				   "%s; giving grant %016llx back failed too (the agent retries): %s",
				   tmp, g->id, why);
		else
			spu_reason(why, wlen, ret, "%s; grant %016llx given back",
				   tmp, g->id);
		goto out;
	}
	g = &l.g[idx];
	g->state = SPA_G_ACTIVE;
	ret = save(&l);
	spu_format_size(size, true, sz, sizeof(sz));
	spa_info("borrowed %s from %s: grant %016llx, %s as %s, member %s of pool %s in domain remote:%s",
		 sz, p.name, g->id, g->subnqn, dev, g->name, c->pool, p.name);
	if (out)
		*out = *g;
out:
	ledger_close(&l, fd);
	free(req);
	return ret;
}

/* Appends ", @fmt" (or @fmt when @buf is empty) to @buf. */
static void append(char *buf, size_t len, const char *fmt, ...)
	__printf(3, 4);

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n && n + 2 < len) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* Fills @cand for the peer @p: excluded by its health, or asked now. */
static void probe(const struct spa_config *c, struct spa_keys *key,
		  const struct spa_health *h, const struct spa_peer *p,
		  struct spa_msg *req, struct spa_msg *rep,
		  struct spa_candidate *cand, char *list, size_t llen)
{
	char why[256], sz[32];

	memset(cand, 0, sizeof(*cand));
	spu_strcpy(cand->name, sizeof(cand->name), p->name);
	if (spa_health_down(h, p->name, spa_now_ms(), why, sizeof(why))) {
		append(list, llen, "%s", why);
		return;
	}
	spa_msg_init(req, c, SPA_HEARTBEAT);
	if (spa_call(c, key, p->addr, p->port, p->name, req, rep, why,
		     sizeof(why))) {
		append(list, llen, "%s: no answer: %s", p->name, why);
		return;
	}
	if (rep->type == SPA_ERROR) {
		append(list, llen, "%s: %s: %s", p->name,
		       spa_err_name(rep->err_code), rep->err_text);
		return;
	}
	cand->usable = true;
	cand->lendable = rep->free;
	cand->grants = rep->grants;
	spu_format_size(rep->free, true, sz, sizeof(sz));
	append(list, llen, "%s: up, lendable %s, %u grant(s)", p->name, sz,
	       rep->grants);
}

int spa_borrow_any(const struct spa_config *c, struct spa_keys *key,
		   u64 size, struct spa_grant *out, char *why, size_t wlen)
{
	struct spa_candidate cand[SPA_PEERS_MAX];
	struct spa_msg *req, *rep;
	struct spa_health *h;
	struct spa_peers *t;
	char list[1024] = "", sz[32];
	unsigned int i, n, fit;
	int ret = 1;

	spu_format_size(size, true, sz, sizeof(sz));
	t = calloc(1, sizeof(*t));
	h = calloc(1, sizeof(*h));
	req = calloc(2, sizeof(*req));
	if (!t || !h || !req) {
		ret = -ENOMEM;
		goto out;
	}
	rep = req + 1;
	spa_peers_init(t, c);
	spa_peers_load(t);
	spa_health_load(c, spa_now_ms(), h);
	n = t->n;
	for (i = 0; i < n; i++)
		probe(c, key, h, &t->p[i], req, rep, &cand[i], list,
		      sizeof(list));
	spa_peers_destroy(t);
	fit = spa_choose_peers(cand, n, size);
	if (!n)
		spu_reason(why, wlen, 1, "no peer is known (configure one)");
	else if (!fit)
		spu_reason(why, wlen, 1, "no peer can lend %s now: %s", sz, list);
	for (i = 0; i < fit; i++) {
		spa_info("asking %s for %s (%s)", cand[i].name, sz, list);
		ret = spa_borrow(c, key, cand[i].name, size, out, why, wlen);
		if (ret <= 0)
			break;
		spa_warn("%s", why);
	}
out:
	free(t);
	free(h);
	free(req);
	return ret;
}

int spa_giveback(const struct spa_config *c, struct spa_keys *key,
		 u64 grant_id, char *why, size_t wlen)
{
	struct spa_ledger l;
	struct spa_grant *g;
	int fd, ret;

	fd = ledger_open(c, &l, why, wlen);
	if (fd < 0)
		return fd;
	g = grant_id ? spa_ledger_find(&l, grant_id) : NULL;
	if (!g) {
		ret = spu_reason(why, wlen, -ENOENT, "no borrowed grant %016llx",
				 grant_id);
	} else if (g->state == SPA_G_RELEASED) {
		spa_info("grant %016llx was already given back", grant_id);
		ret = 0;
	} else if (g->state == SPA_G_REQUESTING) {
		ret = spu_reason(why, wlen, -EBUSY,
				 "grant %016llx is still being requested", grant_id);
	} else {
		ret = give_back(c, key, &l, g, why, wlen);
	}
	ledger_close(&l, fd);
	return ret;
}

int spa_borrower_reconcile(const struct spa_config *c,
			   struct spa_keys *key)
{
	struct spa_msg *req, *rep;
	struct spa_ledger l;
	struct spa_peer_cfg p;
	struct spa_grant *g;
	char why[512];
	int fd, left = 0;
	size_t i;

	req = calloc(2, sizeof(*req));
	if (!req)
		return -ENOMEM;
	rep = req + 1;
	fd = ledger_open(c, &l, why, sizeof(why));
	if (fd < 0) {
		spa_err("%s", why);
		free(req);
		return fd;
	}
	for (i = 0; i < l.n; i++) {
		g = &l.g[i];
		if (g->state == SPA_G_ACTIVE || g->state == SPA_G_RELEASED)
			continue;
		if (g->state == SPA_G_REQUESTING) {
			/* Ask again with the same id: the same grant, if any. */
			if (spa_peer_resolve(c, g->peer, &p, why, sizeof(why))) {
				spa_err("borrowed grant request to %s: %s",
					g->peer, why);
				left++;
				continue;
			}
			build_request(c, g, req);
			if (call_request(c, key, &p, req, rep, why,
					 sizeof(why))) {
				left++;
				continue;
			}
			if (rep->type == SPA_ERROR) {
				g->state = SPA_G_RELEASED;
				save(&l);
				continue;
			}
			if (take_grant(c, &p, rep, g, why, sizeof(why)))
				spa_warn("%s", why);
		}
		if (give_back(c, key, &l, g, why, sizeof(why))) {
			spa_warn("cannot give grant %016llx back to %s yet: %s",
				 g->id, g->peer, why);
			left++;
		}
	}
	ledger_close(&l, fd);
	free(req);
	return left;
}

/* ------------------------------------------------------------ resize */

/* Attribute @attr of @pool, or of its member @m; 0 when unreadable. */
static u64 sp_attr(const char *pool, const char *m, const char *attr)
{
	char path[PATH_MAX];
	u64 v = 0;
	int ret;

	if (m)
		ret = spu_path(path, sizeof(path), "%s/%s/members/%s/%s",
			       spu_configfs_root(), pool, m, attr);
	else
		ret = spu_path(path, sizeof(path), "%s/%s/%s", spu_configfs_root(),
			       pool, attr);
	if (ret || spu_read_u64(path, &v))
		return 0;
	return v;
}

/*
 * Waits until @dev shows @size bytes: nvmet's notice makes nvme-tcp
 * rescan the namespace; if it has not after SPA_RESCAN_AFTER_MS, every
 * controller of the grant is asked to rescan as well.
 */
static int wait_size(const struct spa_grant *g, const char *dev, u64 size,
		     struct spa_resize_report *r, char *why, size_t wlen)
{
	u64 start = spa_mono_ms(), have = 0, t;

	for (;;) {
		t = spa_mono_ms() - start;
		if (!spa_blockdev_bytes(dev, &have) && have >= size) {
			r->wait_ms = (unsigned int)t;
			return 0;
		}
		if (t >= SPA_RESIZE_WAIT_MS)
			break;
		if (!r->rescanned && t >= SPA_RESCAN_AFTER_MS) {
			r->rescanned = spa_nvme_rescan(g->subnqn);
			spa_warn("%s still shows %llu bytes after %u s: asked %u controller(s) of %s to rescan",
				 dev, have, SPA_RESCAN_AFTER_MS / 1000,
				 r->rescanned, g->subnqn);
		}
		usleep(100000);
	}
	return spu_reason(why, wlen, -ETIMEDOUT,
			  "%s grew grant %016llx to %llu bytes, but %s still shows %llu bytes after %u s: member %s was not grown, the ledger still says %llu bytes (run resize again with the same size to finish)",
			  g->peer, g->id, size, dev, have,
			  SPA_RESIZE_WAIT_MS / 1000, g->name, g->size);
}

/* What a resize needs here, checked before the lender is asked. */
static int resize_check(const struct spa_config *c, const struct spa_grant *g,
			u64 grant_id, char *dev, size_t dlen, char *why,
			size_t wlen)
{
	char path[PATH_MAX];

	if (!g)
		return spu_reason(why, wlen, -ENOENT,
				  "no borrowed grant %016llx", grant_id);
	if (g->state != SPA_G_ACTIVE)
		return spu_reason(why, wlen, -EBUSY,
				  "grant %016llx is %s: only an active grant can be resized",
				  grant_id, spa_gstate_name(g->state));
	if (!spu_member_exists(c->pool, g->name))
		return spu_reason(why, wlen, -ENOENT,
				  "grant %016llx: member %s of pool %s is missing",
				  grant_id, g->name, c->pool);
	if (spu_path(path, sizeof(path), "%s/%s/members/%s/revalidate_size",
		     spu_configfs_root(), c->pool, g->name) || !spu_exists(path))
		return spu_reason(why, wlen, -EOPNOTSUPP,
				  "dm-slicepool cannot grow member %s (no %s: a module from before members could grow); nothing was asked",
				  g->name, path);
	if (spa_nvme_find_ns(g->subnqn, g->uuid, dev, dlen))
		return spu_reason(why, wlen, -ENODEV,
				  "grant %016llx: no namespace of %s with uuid %s is connected",
				  grant_id, g->subnqn, g->uuid);
	return 0;
}

/* Sends RESIZE; 0 when the lender says @size, 1 when it refused. */
static int send_resize(const struct spa_config *c, struct spa_keys *key,
		       const struct spa_grant *g, u64 size, char *why,
		       size_t wlen)
{
	struct spa_msg *req, *rep;
	struct spa_peer_cfg p;
	char tmp[512];
	int ret;

	ret = grant_msg_new(c, g, SPA_RESIZE, &p, &req, why, wlen);
	if (ret)
		return ret;
	rep = req + 1;
	req->fields |= SPA_F(SPA_T_SIZE);
	req->size = size;
	/* Retried as is: a lender answers its size again. */
	ret = call_peer(c, key, &p, req, rep, why, wlen);
	if (ret) {
		snprintf(tmp, sizeof(tmp), "%s", why);
		spu_reason(why, wlen, ret,
			   "%s; nothing changed here (if %s grew the grant, resize again with the same size to finish)",
			   tmp, g->peer);
	} else if (rep->type == SPA_ERROR &&
		   rep->err_code == SPA_ERR_UNKNOWN_VERB) {
		ret = spu_reason(why, wlen, 1,
				 "%s does not know the resize request (%s: a slicepool-agent from before resize); nothing changed",
				 g->peer, rep->err_text);
	} else if (rep->type == SPA_ERROR) {
		ret = spu_reason(why, wlen, 1, "%s refused: %s: %s", g->peer,
				 spa_err_name(rep->err_code), rep->err_text);
	} else if (rep->grant_id != g->id || rep->size != size) {
		ret = spu_reason(why, wlen, -EPROTO,
				 "%s answered grant %016llx of %llu bytes, %016llx of %llu bytes was asked",
				 g->peer, rep->grant_id, rep->size, g->id, size);
	}
	free(req);
	return ret;
}

int spa_resize(const struct spa_config *c, struct spa_keys *key,
	       u64 grant_id, u64 size, struct spa_resize_report *out,
	       char *why, size_t wlen)
{
	struct spa_resize_report r = { 0 };
	char path[PATH_MAX], a[32], b[32];
	struct spa_ledger l;
	struct spa_grant *g;
	u64 off;
	int fd, ret;

	ret = borrow_args_check(c, size, "the pool of the borrowed member",
				why, wlen);
	if (ret)
		return ret;
	fd = ledger_open(c, &l, why, wlen);
	if (fd < 0)
		return fd;
	g = grant_id ? spa_ledger_find(&l, grant_id) : NULL;
	ret = resize_check(c, g, grant_id, r.dev, sizeof(r.dev), why, wlen);
	if (ret)
		goto out;
	r.old_size = g->size;
	r.slice_bytes = sp_attr(c->pool, NULL, "slice_mb") << 20;
	r.total_before = sp_attr(c->pool, g->name, "total_slices");
	r.free_before = sp_attr(c->pool, g->name, "free_slices");
	spu_format_size(g->size, true, a, sizeof(a));
	spu_format_size(size, true, b, sizeof(b));
	spa_info("asking %s to grow grant %016llx from %s to %s", g->peer,
		 g->id, a, b);
	ret = send_resize(c, key, g, size, why, wlen);
	if (ret)
		goto out;
	spa_info("%s grew grant %016llx to %s; waiting for %s to show it",
		 g->peer, g->id, b, r.dev);
	ret = wait_size(g, r.dev, size, &r, why, wlen);
	if (ret)
		goto out;
	spa_info("%s shows %s after %u ms (%s)", r.dev, b, r.wait_ms,
		 r.rescanned ? "after a rescan" :
		 "nvmet's namespace-attribute notice");
	if (spu_path(path, sizeof(path), "%s/%s/members/%s/revalidate_size",
		     spu_configfs_root(), c->pool, g->name)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	ret = spu_write_file(path, "1");
	if (ret) {
		spu_reason(why, wlen, ret,
			   "member %s of pool %s refused to grow to %s (%s: %s; see dmesg); the ledger still says %s (resize again with the same size to finish)",
			   g->name, c->pool, r.dev, path, strerror(-ret), a);
		goto out;
	}
	r.total_after = sp_attr(c->pool, g->name, "total_slices");
	r.free_after = sp_attr(c->pool, g->name, "free_slices");
	r.max_slices = sp_attr(c->pool, g->name, "max_slices");
	off = sp_attr(c->pool, g->name, "data_offset");
	if (r.slice_bytes && size > off)
		r.room = (size - off) / r.slice_bytes;
	spa_info("member %s of pool %s revalidated: %llu -> %llu slices, %llu -> %llu free",
		 g->name, c->pool, r.total_before, r.total_after, r.free_before,
		 r.free_after);
	if (r.total_after < r.room)
		spa_warn("member %s took %llu slices of the %llu the grant has room for: %s",
			 g->name, r.total_after, r.room,
			 r.max_slices && r.total_after >= r.max_slices ?
			 "its owner table describes at most max_slices" :
			 "see dmesg");
	g->size = size;
	ret = save(&l);
	if (ret) {
		spu_reason(why, wlen, ret,
			   "member %s grew, but the ledger in %s cannot be written (resize again with the same size to record it)",
			   g->name, c->state_dir);
		goto out;
	}
	spa_info("grant %016llx from %s recorded at %s", g->id, g->peer, b);
	r.g = *g;
	if (out)
		*out = r;
out:
	ledger_close(&l, fd);
	return ret;
}
