/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slicepool-agent - lends and borrows pool space between hosts over
 * NVMe/TCP (Documentation/nvmet-remote-ns.rst).
 *
 * Modules:
 *   proto.c     the wire codec (frames, fields, strict validation)
 *   auth.c      HMAC-SHA256, the key file, the nonce cache (replay)
 *   quota.c     exclusive reservation of the space a grant takes
 *   dm.c        the dm device of a lent volume (libdevmapper)
 *   host.c      nvme-cli connect and disconnect, namespace lookup
 *   lender.c    grants: request, release, resize, reconcile
 *   borrower.c  borrow, resize and give back
 *   demand.c    borrowing on demand and ahead of need (borrow_threshold)
 *   peers.c     the peer table, hello, heartbeats
 *   health.c    peer health: writing the health file, choosing a lender
 *   net.c       the TCP server and the client call
 *   tunnel.c    the WireGuard tunnel of the data path (ip, wg) and the
 *               exports' guard (nft)
 *   revoke.c    revocation: REVOKE sent, and the borrower's side of it
 *   ctl.c       the daemon's control socket (revoke, unfence,
 *               release-fenced)
 *   reload.c    SIGHUP: peers added and removed, keys and the tunnel
 *   agent.c     message dispatch
 *   main.c      the command line
 *
 * From libspu (tools/lib, libspu.a), shared with tools/slicepool: the
 * configuration file, the state files and nvmet configfs (spa-state.h),
 * configfs and device-mapper access, the pool model, parsers and logging
 * (spu.h).
 */
#ifndef SPA_AGENT_H
#define SPA_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <limits.h>
#include <pthread.h>
#include <syslog.h>

/* The kernel's integer names, __printf and libspu (tools/lib/spu.h). */
#include "spu.h"

#define SPA_ATTR(x)		__attribute__((x))

#define SPA_VERSION_STRING	"0.1"

/*
 * The configuration, the state files, names and nvmet exports: shared with
 * tools/slicepool (plain C types, the same as those above).
 */
#include "spa-state.h"

/* ------------------------------------------------------------ proto.c */

#define SPA_MAGIC		"SPAG"
#define SPA_PROTO_VERSION	1

/* Message types.  A reply is its request's type with SPA_REPLY set. */
#define SPA_HELLO		0x01
#define SPA_PEERS		0x02
#define SPA_HEARTBEAT		0x03
#define SPA_REQUEST		0x04
#define SPA_RELEASE		0x05
#define SPA_RESIZE		0x06
#define SPA_REVOKE		0x07	/* lender to borrower: give it back */
#define SPA_REVOKE_REPORT	0x08	/* borrower to lender: how it goes */
#define SPA_REPLY		0x80
#define SPA_GRANT		(SPA_REQUEST | SPA_REPLY)
#define SPA_RESIZED		(SPA_RESIZE | SPA_REPLY)
#define SPA_ERROR		0xff

/* Field tags, in the order they must appear in a body. */
enum spa_tag {
	SPA_T_NODE = 1,
	SPA_T_TO,
	SPA_T_REPLY_TO,
	SPA_T_ADDR,
	SPA_T_PORT,
	SPA_T_HOSTNQN,
	SPA_T_SIZE,
	SPA_T_REQ_ID,
	SPA_T_GRANT_ID,
	SPA_T_SUBNQN,
	SPA_T_NSID,
	SPA_T_UUID,
	SPA_T_FREE,
	SPA_T_GRANTS,
	SPA_T_PEER,
	SPA_T_ERR_CODE,
	SPA_T_ERR_TEXT,
	SPA_T_PATH,		/* grant: a further path (optional, repeats) */
	SPA_T_MAX_PATHS,	/* request: paths the borrower connects to */
	SPA_T_MAX
};

#define SPA_F(tag)		(1U << (tag))

/* Why a frame was refused (returned negated). */
enum spa_status {
	SPA_OK = 0,
	SPA_E_MAGIC,		/* not an agent frame */
	SPA_E_VERSION,		/* unsupported protocol version */
	SPA_E_SIZE,		/* declared length out of bounds */
	SPA_E_TRUNCATED,	/* fewer bytes than declared */
	SPA_E_FLAGS,		/* reserved flags set */
	SPA_E_VERB,		/* unknown message type */
	SPA_E_FIELD,		/* bad, unknown, repeated or misplaced field */
	SPA_E_MISSING,		/* a required field is absent */
	SPA_E_MAC,		/* HMAC does not match */
	SPA_E_STALE,		/* timestamp outside the window */
	SPA_E_REPLAY,		/* nonce seen before */
	SPA_E_CACHE_FULL,	/* nonce cache full */
	SPA_E_MAX
};

/* Error codes carried by an ERROR reply (SPA_T_ERR_CODE). */
enum spa_err {
	SPA_ERR_BAD_MESSAGE = 1,
	SPA_ERR_UNKNOWN_VERB,
	SPA_ERR_STALE,
	SPA_ERR_REPLAY,
	SPA_ERR_UNKNOWN_PEER,
	SPA_ERR_NO_SPACE,
	SPA_ERR_LIMIT,
	SPA_ERR_UNKNOWN_GRANT,
	SPA_ERR_NOT_OWNER,
	SPA_ERR_BUSY,
	SPA_ERR_FAILED,
	SPA_ERR_BAD_VALUE,
	SPA_ERR_NOT_LENDING,
	SPA_ERR_MAX
};

struct spa_peer_info {
	char name[SPA_NODE_MAX + 1];
	char addr[SPA_ADDR_MAX + 1];
	u16 port;
};

/* A path to a grant's subsystem besides the first (addr and port). */
struct spa_path_info {
	char addr[SPA_ADDR_MAX + 1];
	u16 port;
};

/*
 * A decoded message.  @fields has SPA_F(tag) set for every field present;
 * the other members are zero.
 */
struct spa_msg {
	u8 type;
	u64 ts_ms;
	u8 nonce[SPA_NONCE_LEN];
	u32 fields;
	char node[SPA_NODE_MAX + 1];
	char to[SPA_NODE_MAX + 1];
	u8 reply_to[SPA_NONCE_LEN];
	char addr[SPA_ADDR_MAX + 1];
	u16 port;
	char hostnqn[SPA_NQN_MAX + 1];
	u64 size;
	u8 req_id[SPA_ID_LEN];
	u64 grant_id;
	char subnqn[SPA_NQN_MAX + 1];
	u32 nsid;
	u8 uuid[16];
	u64 free;
	u32 grants;
	unsigned int nr_peers;
	struct spa_peer_info peers[SPA_PEERS_MAX];
	u16 err_code;
	char err_text[SPA_TEXT_MAX + 1];
	unsigned int nr_paths;		/* PATH fields: paths after the first */
	struct spa_path_info paths[SPA_PATHS_MAX - 1];
	u16 max_paths;
};

const char *spa_type_name(u8 type);
const char *spa_status_name(int status);
const char *spa_err_name(unsigned int code);
bool spa_type_known(u8 type);

/* Checks magic, version, flags and the declared length of a frame prefix. */
int spa_check_prefix(const u8 *buf, size_t len, u32 *frame_len, char *why,
		     size_t wlen);
/* Decodes one whole frame (its MAC is not looked at). */
int spa_decode(const u8 *buf, size_t len, struct spa_msg *m, char *why,
	       size_t wlen);
/* Encodes @m; leaves room for the MAC (zeroed) and counts it in length. */
int spa_encode(const struct spa_msg *m, u8 *buf, size_t cap, size_t *len,
	       char *why, size_t wlen);
/* Header fields of a frame whose prefix was checked. */
u8 spa_frame_type(const u8 *buf);
u64 spa_frame_ts(const u8 *buf);
const u8 *spa_frame_nonce(const u8 *buf);

/* ------------------------------------------------------------ auth.c */

struct spa_key {
	u8 bytes[SPA_KEY_MAX];
	size_t len;
};

int spa_key_parse(const char *text, struct spa_key *key, char *why,
		  size_t wlen);
/*
 * Opens a secret (a key file): a regular file of root or this user that
 * others cannot read or write; the fd, or -errno with the reason.
 */
int spa_secret_open(const char *path, char *why, size_t wlen);
/*
 * Reads the secret file @path (spa_secret_open()'s checks) into @buf, NUL
 * terminated: its length, or -errno with @why set (a file that does not
 * fit in @size - 1 bytes is refused).  The caller cleanses @buf.
 */
ssize_t spa_secret_read(const char *path, char *buf, size_t size, char *why,
			size_t wlen);
/* Loads a key file; refuses one that others can read or write. */
int spa_key_load(const char *path, struct spa_key *key, char *why,
		 size_t wlen);
int spa_key_generate(const char *path, char *why, size_t wlen);
/*
 * The same for a WireGuard preshared key: 32 random bytes in base64 (44
 * characters, as 'wg genpsk' writes them).
 */
int spa_psk_generate(const char *path, char *why, size_t wlen);
void spa_key_wipe(struct spa_key *key);
int spa_hmac(const struct spa_key *key, const u8 *data, size_t len,
	     u8 out[SPA_MAC_LEN]);
int spa_seal(const struct spa_key *key, u8 *frame, size_t len);
bool spa_verify(const struct spa_key *key, const u8 *frame, size_t len);
int spa_random(void *buf, size_t len);

/*
 * The keys of the peers: one per peer pair (the same file on both nodes),
 * and during a rotation a next one.  A frame from, or to, a peer is
 * sealed with its current key (a reply with the key its request was
 * verified with) and verified with either.
 */
struct spa_peer_keys {
	char name[SPA_NODE_MAX + 1];
	struct spa_key cur;
	struct spa_key next;	/* len 0: none */
};

struct spa_keys {
	pthread_mutex_t lock;	/* protects n and k (a reload swaps them) */
	unsigned int n;
	struct spa_peer_keys k[SPA_PEERS_MAX];
};

#define SPA_KEY_CUR	0
#define SPA_KEY_NEXT	1

void spa_keys_init(struct spa_keys *ks);
/* Loads the key files the configuration names (peer_key lines). */
int spa_keys_load(struct spa_keys *ks, const struct spa_config *c,
		  char *why, size_t wlen);
/* Replaces the keys by those of @c, all or nothing. */
int spa_keys_reload(struct spa_keys *ks, const struct spa_config *c,
		    char *why, size_t wlen);
/* Adds (or replaces) the keys of @peer; @next may be NULL. */
int spa_keys_set(struct spa_keys *ks, const char *peer,
		 const struct spa_key *cur, const struct spa_key *next);
void spa_keys_free(struct spa_keys *ks);
bool spa_keys_has(struct spa_keys *ks, const char *peer);
/* Seals @frame with @peer's key @which; -ENOKEY when it has none. */
int spa_keys_seal(struct spa_keys *ks, const char *peer, int which,
		  u8 *frame, size_t len);
/*
 * Verifies @frame with @peer's keys: SPA_KEY_CUR or SPA_KEY_NEXT (which
 * one matched), -ENOKEY when @peer has no key, -EBADMSG when none matches.
 */
int spa_keys_verify(struct spa_keys *ks, const char *peer, const u8 *frame,
		    size_t len);
/* The sender a frame claims (its first field, "node"), before the MAC. */
int spa_frame_node(const u8 *frame, size_t len, char name[SPA_NODE_MAX + 1]);

/*
 * DH-HMAC-CHAP secrets (Documentation/nvmet-remote-ns.rst,
 * "DH-HMAC-CHAP"): @len (32, 48 or 64) bytes as the NVMe secret
 * representation "DHHC-1:00:<base64 of the bytes and their CRC-32>:".
 */
int spa_dhchap_format(const u8 *secret, size_t len,
		      char out[SPA_DHCHAP_MAX + 1]);
/*
 * The secret of @role ("host" or "ctrl") for host @hostnqn, derived from
 * the pair's key: HMAC-SHA256(@pair, "slicepool-agent dhchap ROLE NQN").
 * Both nodes of the pair derive the same, and no two hosts share one.
 */
int spa_dhchap_derive(const struct spa_key *pair, const char *role,
		      const char *hostnqn, char out[SPA_DHCHAP_MAX + 1]);
/* Both secrets of @hostnqn from @peer's current key; -ENOKEY if none. */
int spa_keys_dhchap(struct spa_keys *ks, const char *peer,
		    const char *hostnqn, char key[SPA_DHCHAP_MAX + 1],
		    char ctrl_key[SPA_DHCHAP_MAX + 1]);

u64 spa_now_ms(void);
/* For deadlines: not moved by clock steps. */
u64 spa_mono_ms(void);

struct spa_nonce_entry {
	u8 nonce[SPA_NONCE_LEN];
	u64 expires_ms;
};

struct spa_replay {
	pthread_mutex_t lock;	/* protects everything below */
	struct spa_nonce_entry *e;
	unsigned int n;
	unsigned int cap;
	u64 window_ms;
};

int spa_replay_init(struct spa_replay *r, unsigned int cap, u64 window_ms);
void spa_replay_free(struct spa_replay *r);
/* Timestamp window, then nonce; records the nonce when both pass. */
int spa_replay_check(struct spa_replay *r, const u8 nonce[SPA_NONCE_LEN],
		     u64 ts_ms, u64 now_ms, char *why, size_t wlen);
/* The timestamp window alone (replies, whose nonce is bound otherwise). */
int spa_window_check(u64 window_ms, u64 ts_ms, u64 now_ms, char *why,
		     size_t wlen);

/* ---------------------------------------- logging: libspu's spu-log.c */

#define spa_err(...)	spu_log(LOG_ERR, __VA_ARGS__)
#define spa_warn(...)	spu_log(LOG_WARNING, __VA_ARGS__)
#define spa_info(...)	spu_log(LOG_INFO, __VA_ARGS__)

/* ------------------------------------------------------------ quota.c */

struct spa_quota {
	pthread_mutex_t lock;	/* protects everything below */
	u64 reserved;		/* bytes of grants being set up */
	unsigned int pending;	/* grants being set up */
	u64 lent;		/* bytes of active grants */
	unsigned int grants;	/* active grants */
	u64 keep_free;
	u64 lend_max;		/* 0: no limit */
	unsigned int max_grants;
};

void spa_quota_init(struct spa_quota *q, u64 keep_free, u64 lend_max,
		    unsigned int max_grants);
void spa_quota_destroy(struct spa_quota *q);
/*
 * Reserves the space of a grant of @size bytes in @pool, exclusively:
 * returns 0 and the bytes taken (whole slices) in @bytes, -ENOSPC when the
 * pool has not enough free space, -EDQUOT when a limit of the agent is
 * reached, or another negative errno when the pool cannot be read.
 */
int spa_quota_reserve(struct spa_quota *q, const char *pool, u64 size,
		      u64 *bytes, char *why, size_t wlen);
/* The grant's volume exists now: the pool's free count includes it. */
void spa_quota_commit(struct spa_quota *q, u64 bytes);
void spa_quota_cancel(struct spa_quota *q, u64 bytes);
/*
 * Reserves what growing a grant that takes @old_bytes (whole slices) to
 * @size bytes takes more: returns 0 and the bytes the grant takes then in
 * @bytes (@bytes - @old_bytes are reserved, possibly 0), or the errors of
 * spa_quota_reserve().  max_grants does not apply: no grant is added.
 */
int spa_quota_reserve_grow(struct spa_quota *q, const char *pool,
			   u64 old_bytes, u64 size, u64 *bytes, char *why,
			   size_t wlen);
/* The grant grew by @more bytes (its volume has them), or did not. */
void spa_quota_grown(struct spa_quota *q, u64 more);
void spa_quota_cancel_grow(struct spa_quota *q, u64 more);
/* An active grant was released. */
void spa_quota_return(struct spa_quota *q, u64 bytes);
/* Space still lendable now. */
u64 spa_quota_lendable(struct spa_quota *q, const char *pool);

/* ------------------------------------------------------------ dm.c */

void spa_dm_init(void);
int spa_dm_create(const char *pool, const char *vol, const char *uuid,
		  u64 sectors, char *why, size_t wlen);
int spa_dm_remove(const char *pool, const char *vol, char *why, size_t wlen);
/*
 * The aside device "<pool>-<vol>" SPA_DM_ASIDE of a volume (dm UUID
 * "SLICEPOOL-<uuid>" SPA_DM_ASIDE): the grown volume's new range is
 * zeroed through it before the volume's own device shows that range.
 */
#define SPA_DM_ASIDE	"-grow"
int spa_dm_create_aside(const char *pool, const char *vol, const char *uuid,
			u64 sectors, char *why, size_t wlen);
int spa_dm_remove_aside(const char *pool, const char *vol, char *why,
			size_t wlen);
/* Loads a table of @sectors and resumes: an online resize. */
int spa_dm_reload(const char *pool, const char *vol, u64 sectors, char *why,
		  size_t wlen);
/* 1 if the device exists, 0 if not, negative errno when dm cannot be asked. */
int spa_dm_exists(const char *pool, const char *vol);
void spa_dm_path(const char *pool, const char *vol, char *buf, size_t len);
void spa_dm_path_aside(const char *pool, const char *vol, char *buf,
		       size_t len);

/* ------------------------------------------------------------ host.c */

int spa_run(const char *const argv[], unsigned int timeout_s, char *out,
	    size_t outlen);
/*
 * With @secret (NULL: none): nvme connect --dhchap-secret, and
 * --dhchap-ctrl-secret @ctrl_secret (the controller authenticated too).
 */
int spa_nvme_connect(const struct spa_config *c, const char *traddr,
		     u16 trsvcid, const char *subnqn, const char *secret,
		     const char *ctrl_secret, char *why, size_t wlen);
int spa_nvme_disconnect(const struct spa_config *c, const char *subnqn,
			char *why, size_t wlen);
/* Finds /dev/nvmeXnY of namespace @uuid of subsystem @subnqn. */
int spa_nvme_find_ns(const char *subnqn, const char *uuid, char *dev,
		     size_t len);
bool spa_nvme_connected(const char *subnqn);
/* The size in bytes of block device /dev/@name (sysfs), or -errno. */
int spa_blockdev_bytes(const char *dev, u64 *bytes);
/* Asks every controller of @subnqn to rescan; how many were asked. */
unsigned int spa_nvme_rescan(const char *subnqn);

/* ------------------------------------------------------------ tunnel.c */

#define SPA_SUM_LEN	32	/* SHA-256 */

/*
 * What the WireGuard interface was set from: the configuration's tunnel
 * lines and the SHA-256 of its key files' keys (a key file rewritten in
 * place holds a new key).  A SIGHUP compares the configuration read
 * anew with it (spa_tunnel_diff()).
 */
struct spa_tunnel_state {
	struct spa_config cfg;
	u8 key_sum[SPA_SUM_LEN];		/* tunnel_key's */
	u8 psk_sum[SPA_PEERS_MAX][SPA_SUM_LEN];	/* cfg.tunnels[i].psk's */
	bool unsure;	/* a change failed half way: the next one is whole */
};

/*
 * Reads the key files of @c's tunnel into @st: this node's private key
 * (tunnel_key) and each peer_tunnel_psk file, checked as secrets (mode
 * 600, spa_secret_open()) and as WireGuard keys, a preshared key strictly
 * (exactly 44 characters of base64, 32 bytes, and an optional newline).
 * 0, or the reason naming the file.
 */
int spa_tunnel_state_read(struct spa_tunnel_state *st,
			  const struct spa_config *c, char *why, size_t wlen);

/* One wg command: an argument vector (it may point into @allowed). */
#define SPA_WG_ARGV	16
struct spa_wg_cmd {
	unsigned int argc;
	const char *argv[SPA_WG_ARGV];
	char allowed[SPA_ADDR_MAX + 5];
};

/* The commands of a change, in order; they point into its states. */
struct spa_wg_cmds {
	unsigned int n;
	struct spa_wg_cmd c[2 * SPA_PEERS_MAX + 1];
};

/*
 * The wg commands that take the interface from @old to @new without
 * touching what did not change (so the sessions of unchanged peers go
 * on): this node's private key if its key changed; per peer_tunnel line
 * removed, its WireGuard peer removed; per line added, its peer added in
 * full; per peer whose public key or tunnel address changed, its old
 * WireGuard peer removed and the new one added in full (its tunnel torn
 * down and made again); per other peer, its endpoint and preshared key
 * if they changed.  (Whether a peer with grants in use may go or move,
 * and the exports' guard that follows a move, are the caller's:
 * spa_agent_reload().)  Refused with the reason: what the rest of the
 * agent reads at start only (a restart is needed: this node's tunnel
 * address, port and interface), and a new tunnel address that another
 * peer, which moves, has in force (its export ports would admit it
 * until the guard follows).
 * 0 (with @out->n commands, maybe none), or -EINVAL and the reason.
 */
int spa_tunnel_diff(const struct spa_tunnel_state *old,
		    const struct spa_tunnel_state *new,
		    struct spa_wg_cmds *out, char *why, size_t wlen);
/* @cmd as one line, its words separated by spaces. */
void spa_wg_cmd_str(const struct spa_wg_cmd *cmd, char *buf, size_t len);
/*
 * Runs @cmds (each logged), then @live becomes @next; a command that
 * fails stops it, with the reason, and leaves @live marked unsure.
 */
int spa_tunnel_apply(struct spa_tunnel_state *live,
		     const struct spa_tunnel_state *next,
		     const struct spa_wg_cmds *cmds, char *why, size_t wlen);

/*
 * Makes the WireGuard interface of @c (tunnel_if) as the configuration
 * says, idempotently: created if missing, this node's private key and UDP
 * port, one peer per peer_tunnel line (allowed IPs: its tunnel address
 * only; its preshared key, or none), peers not configured removed, the
 * tunnel address, up.  @st (if not NULL) gets what it was set from.
 */
int spa_tunnel_up(const struct spa_config *c, struct spa_tunnel_state *st,
		  char *why, size_t wlen);
/* Removes the interface (nothing if it is not there). */
int spa_tunnel_down(const struct spa_config *c, char *why, size_t wlen);
/* The interface exists and is a WireGuard one; else the reason. */
int spa_tunnel_check(const struct spa_config *c, char *why, size_t wlen);
/*
 * Whether @peer's export at @addr:@port is reached through the tunnel
 * within @timeout_s (a TCP connection, closed at once): 0, or the reason,
 * with what WireGuard says of the handshake with @peer.
 */
int spa_tunnel_probe(const struct spa_config *c, const char *peer,
		     const char *addr, u16 port, unsigned int timeout_s,
		     char *why, size_t wlen);
/* The address @peer's exports must be at: its tunnel's, or @plain. */
const char *spa_tunnel_peer_addr(const struct spa_config *c, const char *peer,
				 const char *plain);

/*
 * The exports' guard: with 'tunnel', each borrower's ports (its slot,
 * spa_grant_slot()) are reached only from its own tunnel address, on the
 * tunnel interface; anything else is reset (TCP RST).  One entry per
 * port; an empty @peer_addr admits nobody (a grant of a peer no longer
 * configured).
 */
#define SPA_GUARD_MAX		(2 * SPA_PEERS_MAX)	/* two exports */

struct spa_guard_port {
	u16 port;
	char peer[SPA_NODE_MAX + 1];		/* its borrower, for people */
	char peer_addr[SPA_ADDR_MAX + 1];	/* its tunnel address */
};

struct spa_guard {
	unsigned int n;
	struct spa_guard_port p[SPA_GUARD_MAX];
};

/*
 * Adds @port for @peer at @peer_addr; a port there already for another
 * address admits nobody (it cannot be both's).  -ENOSPC when full.
 */
int spa_guard_add(struct spa_guard *g, u16 port, const char *peer,
		  const char *peer_addr);
/*
 * The nftables script that replaces the guard (table inet
 * SPA_GUARD_TABLE) with @g, atomically (nft -f); with no port it only
 * removes the table.  Its length, or -ENOSPC if @len is too short.
 */
#define SPA_GUARD_TABLE		"slicepool_agent"
int spa_guard_script(const struct spa_config *c, const struct spa_guard *g,
		     char *buf, size_t len);
/* Writes the script to <state_dir>/guard.nft and runs nft_cli -f on it. */
int spa_guard_apply(const struct spa_config *c, const struct spa_guard *g,
		    char *why, size_t wlen);

/* ------------------------------------------------------------ lender.c */

struct spa_peers;

/* What the lender does to the system; tests substitute a fake. */
struct spa_backend {
	int (*vol_create)(void *ctx, const char *pool, const char *vol,
			  u64 size, char uuid[SPU_UUID_STR], char *why,
			  size_t wlen);
	/*
	 * Bound volume @vol with its dm device: after a reboot of the
	 * lender.  Refused, as zero and vol_info are, for a volume only
	 * discovered (the slicepool target takes only a bound one).
	 */
	int (*vol_restore)(void *ctx, const char *pool, const char *vol,
			   u64 size, char *why, size_t wlen);
	/*
	 * Volume @vol bound if it is only discovered (listed by the pool
	 * with no configfs item, as after a reboot and an assembly that
	 * did not bind it); 0 if it is bound already.
	 */
	int (*vol_bind)(void *ctx, const char *pool, const char *vol,
			char *why, size_t wlen);
	int (*vol_delete)(void *ctx, const char *pool, const char *vol,
			  char *why, size_t wlen);
	int (*vol_list)(void *ctx, const char *pool, const char *prefix,
			char ***names, size_t *count);
	/*
	 * The UUID and size (bytes) of bound volume @vol: what zeroing a
	 * volume no grant owns needs (reconcile), read from the pool, as
	 * no ledger entry holds them.
	 */
	int (*vol_info)(void *ctx, const char *pool, const char *vol,
			char uuid[SPU_UUID_STR], u64 *size, char *why,
			size_t wlen);
	int (*export)(void *ctx, const struct spa_export *e, char *why,
		      size_t wlen);
	int (*unexport)(void *ctx, const char *subnqn, u16 port_id, char *why,
			size_t wlen);
	bool (*exported)(void *ctx, const char *subnqn, u16 port_id);
	int (*export_list)(void *ctx, const char *prefix, char ***names,
			   size_t *count);
	/*
	 * Growing a grant, one step each (lender.c orders them and undoes
	 * them): the volume's size (grow, or shrink back), zeroes over its
	 * range [@off, @off + @len) (through the aside device, before the
	 * volume's own device shows it), the length of its dm device, and
	 * nvmet's namespace size (revalidate_size: the hosts are told).
	 * zero also clears a grant given back, all of it, once unexported.
	 */
	int (*vol_set_size)(void *ctx, const char *pool, const char *vol,
			    u64 size, char *why, size_t wlen);
	int (*dm_resize)(void *ctx, const char *pool, const char *vol,
			 u64 size, char *why, size_t wlen);
	int (*zero)(void *ctx, const char *pool, const char *vol,
		    const char *uuid, u64 off, u64 len, char *why, size_t wlen);
	int (*revalidate)(void *ctx, const char *subnqn, u32 nsid, char *why,
			  size_t wlen);
	/* With 'tunnel': the exports' guard becomes @g (tunnel.c). */
	int (*guard)(void *ctx, const struct spa_config *c,
		     const struct spa_guard *g, char *why, size_t wlen);
	void *ctx;
};

extern const struct spa_backend spa_real_backend;

/*
 * A revocation in progress: its borrower accepted the REVOKE (or reported
 * on it) while this daemon runs.  Only such a revocation is completed
 * without its borrower when the health watch declares the borrower down
 * (spa_lender_revoke_check()).
 */
struct spa_revoke_live {
	u64 id;			/* the grant; 0: a free entry */
	u64 heard_mono;		/* accepted, or last reported on (monotonic) */
	u64 gone_ms;		/* how long its borrower was silent */
	bool finish;		/* the finisher is to complete it */
	bool finishing;		/* begun: retried until the grant is released */
};

#define SPA_REVOKES_MAX	256	/* max_grants' upper bound */

struct spa_lender {
	const struct spa_config *cfg;
	const struct spa_backend *be;
	/*
	 * Serialises grants, releases, the ledger; protects @revokes and
	 * the finisher's flags too.
	 */
	pthread_mutex_t lock;
	struct spa_ledger ledger;
	struct spa_quota quota;
	char subnqn_prefix[SPA_NQN_MAX + 1];
	u64 since_mono;	/* init: a lease counts from here at the latest */
	/*
	 * The daemon's keys (NULL: none): with 'dhchap on' and nvmet's
	 * DH-HMAC-CHAP (@dhchap, probed at init), each export's host gets
	 * the secrets derived from its borrower's key.
	 */
	struct spa_keys *keys;
	int dhchap;	/* spa_dhchap_target_probe() at init */
	struct spa_revoke_live revokes[SPA_REVOKES_MAX];
	/*
	 * The worker that completes the revocations of borrowers declared
	 * down (zeroing takes long: never the heartbeat thread), one at a
	 * time; joined by spa_lender_free().
	 */
	bool finisher_started;	/* created and not joined */
	bool finisher_running;	/* it has not taken its last look yet */
	pthread_t finisher;
};

#define SPA_VOL_PREFIX	"rg-"

int spa_lender_init(struct spa_lender *l, const struct spa_config *cfg,
		    const struct spa_backend *be, char *why, size_t wlen);
void spa_lender_free(struct spa_lender *l);
/* Undoes what the ledger says is not in service; restores what is. */
int spa_lender_reconcile(struct spa_lender *l);
/* Fills @rep with GRANT, RELEASED or ERROR. */
void spa_lender_request(struct spa_lender *l, const struct spa_msg *req,
			const char *from, struct spa_msg *rep);
void spa_lender_release(struct spa_lender *l, const struct spa_msg *req,
			const char *from, struct spa_msg *rep);
/* Fills @rep with RESIZED or ERROR. */
void spa_lender_resize(struct spa_lender *l, const struct spa_msg *req,
		       const char *from, struct spa_msg *rep);
void spa_lender_stats(struct spa_lender *l, u64 *lendable,
		      unsigned int *grants);
/* Active, resizing, revoking or fenced: its volume holds the data. */
bool spa_grant_lent(int state);

/*
 * Revocation (Documentation/nvmet-remote-ns.rst, "Revocation and
 * leases").  The operator asks grant @id back: active -> revoking (saved)
 * and the borrower's name in @peer; the caller then sends REVOKE.  0, or
 * -errno with @why (no such grant, not active: nothing changed).
 */
int spa_lender_revoke_begin(struct spa_lender *l, u64 id,
			    char peer[SPA_NODE_MAX + 1], char *why,
			    size_t wlen);
/*
 * The REVOKE was refused or not delivered (@text says which): revoking ->
 * active, noted.
 */
void spa_lender_revoke_failed(struct spa_lender *l, u64 id, const char *text);
/*
 * The borrower accepted the REVOKE of @id (it answered it): the
 * revocation is in progress, heard from now.
 */
void spa_lender_revoke_accepted(struct spa_lender *l, u64 id);
/*
 * After every round of heartbeats: each revocation in progress whose
 * borrower the health watch declared down (@t says down, and not heard,
 * nor heard of the revocation, for longer than @timeout_ms) is completed
 * without it by the finisher thread: as a release (ledger releasing,
 * the export withdrawn first, then the volume zeroed and deleted),
 * logged and noted for 'status'.  One whose teardown failed is tried
 * again.  A round in which the lender is busy (a grant, a release, a
 * resize, the finisher) looks at none: the heartbeat thread never waits
 * on one.  How many were handed to the finisher now.
 */
unsigned int spa_lender_revoke_check(struct spa_lender *l,
				     struct spa_peers *t, u64 now_mono,
				     u64 timeout_ms);
/* Waits until the finisher has nothing left (tests). */
void spa_lender_finisher_wait(struct spa_lender *l);
/* A REVOKE_REPORT: REVOKE_REPORT's reply or ERROR in @rep. */
void spa_lender_revoke_report(struct spa_lender *l, const struct spa_msg *req,
			      const char *from, struct spa_msg *rep);
/*
 * Lease (cfg->lease seconds, 0: off): fences every active or revoking
 * grant whose borrower @t has not heard for longer than the lease (never
 * heard: since it is in the table): export removed, volume kept, state
 * fenced.  A round in which the lender is busy looks at none (as
 * spa_lender_revoke_check()).  How many were fenced now.
 */
unsigned int spa_lender_lease_check(struct spa_lender *l, struct spa_peers *t,
				    u64 now_mono);
/*
 * The exports' guard made again from the ledger and the configuration in
 * force (a peer's tunnel address changed): 0, or -errno with @why.
 */
int spa_lender_guard_sync(struct spa_lender *l, char *why, size_t wlen);
/* The operator: fenced -> exported again, active. */
int spa_lender_unfence(struct spa_lender *l, u64 id, char *why, size_t wlen);
/* The operator: fenced -> released (zeroed and deleted as a release). */
int spa_lender_release_fenced(struct spa_lender *l, u64 id, char *why,
			      size_t wlen);
/* <state_dir>/revoke-<id>: the last word on a grant's revocation. */
int spa_note_path(const struct spa_config *c, u64 id, char *buf, size_t len);
/*
 * The note 'status' prints under lent grant @g: a revocation's or a
 * fence's while it is in use, and for a released grant only a
 * revocation completed without its borrower (a release drops the note).
 * 0 with it in @buf, or -errno (-ENOENT: none).
 */
int spa_grant_note(const struct spa_config *c, const struct spa_grant *g,
		   char *buf, size_t len);
void spa_grant_names(const struct spa_config *c, u64 id, char *vol,
		     size_t vlen, char *subnqn, size_t slen);

/* ------------------------------------------------------------ peers.c */

struct spa_peer {
	char name[SPA_NODE_MAX + 1];
	char addr[SPA_ADDR_MAX + 1];
	u16 port;
	bool configured;
	bool greeted;
	int health;		/* enum spa_health_state */
	unsigned int misses;	/* heartbeats unanswered in a row */
	u64 since_mono;		/* in the table since (monotonic ms) */
	u64 heard_mono;		/* last heard (monotonic ms), 0: never */
	u64 heard_ms;		/* the same, Unix ms (for display) */
	u64 lendable;		/* from its last heartbeat reply */
	u32 grants;
};

struct spa_peers {
	pthread_mutex_t lock;	/* protects everything below */
	struct spa_peer p[SPA_PEERS_MAX];
	unsigned int n;
	char path[PATH_MAX];
	char self[SPA_NODE_MAX + 1];
};

void spa_peers_init(struct spa_peers *t, const struct spa_config *c);
void spa_peers_destroy(struct spa_peers *t);
int spa_peers_learn(struct spa_peers *t, const char *name, const char *addr,
		    u16 port, char *why, size_t wlen);
bool spa_peers_find(struct spa_peers *t, const char *name,
		    struct spa_peer *out);
/* A valid message from, or reply of, @name: it is up. */
void spa_peers_heard(struct spa_peers *t, const char *name);
/* Peers not heard within @timeout_ms are down; returns how many are. */
unsigned int spa_peers_check(struct spa_peers *t, u64 now_mono,
			     u64 timeout_ms);
void spa_peers_fill(struct spa_peers *t, const struct spa_config *c,
		    struct spa_msg *m);
int spa_peers_save(struct spa_peers *t);
int spa_peers_load(struct spa_peers *t);
/*
 * SIGHUP's peer lines (@c read anew): configured peers no longer in @c
 * leave the table, new ones join it (a learned one becomes configured),
 * a changed address is taken (and the peer greeted again).  1 if a
 * learned peer became configured (the learned file is to be saved), 0 if
 * not.
 */
int spa_peers_reconfigure(struct spa_peers *t, const struct spa_config *c);
/*
 * Resolves a peer by name: the configuration (read under spa_cfg_lock),
 * then the learned file.
 */
int spa_peer_resolve(const struct spa_config *c, const char *name,
		     struct spa_peer_cfg *out, char *why, size_t wlen);

/* ------------------------------------------------------------ health.c */

/* Writes <state_dir>/health (atomically); the daemon, every heartbeat. */
int spa_health_save(struct spa_peers *t, const struct spa_config *c);
void spa_health_remove(const struct spa_config *c);
/*
 * 1 (and why) when @h, fresh, says @peer is down: it is excluded from new
 * grants.  0 when it is up or nothing is known.
 */
int spa_health_down(const struct spa_health *h, const char *peer,
		    u64 now_ms, char *why, size_t wlen);
/* The same, from <state_dir>/health. */
int spa_health_excluded(const struct spa_config *c, const char *peer,
			char *why, size_t wlen);

/* A peer that might lend, for spa_choose_peers(). */
struct spa_candidate {
	char name[SPA_NODE_MAX + 1];
	bool usable;		/* answered a heartbeat now, not excluded */
	bool fits;		/* usable, and can lend the size (set by choose) */
	u64 lendable;
	u32 grants;
};

/*
 * Orders @cand best first: usable ones that can lend @size, most lendable
 * space first, then fewest grants (load), then by name.  Returns how many
 * of them can be asked.
 */
unsigned int spa_choose_peers(struct spa_candidate *cand, unsigned int n,
			      u64 size);

/* ------------------------------------------------------------ agent.c */

struct spa_agent {
	const struct spa_config *cfg;
	struct spa_keys *keys;		/* the caller's */
	struct spa_replay replay;
	struct spa_lender *lender;	/* NULL: not lending */
	struct spa_peers peers;
	/*
	 * What the tunnel was set from (NULL: no tunnel); the daemon's, and
	 * only its signal handling (spa_serve()'s thread) touches it.
	 */
	struct spa_tunnel_state *tun;
	/*
	 * The daemon's configuration in force (@cfg), writable: SIGHUP
	 * changes its peer lines (reload.c).  NULL: it never changes.
	 */
	struct spa_config *live;
};

int spa_agent_init(struct spa_agent *a, const struct spa_config *cfg,
		   struct spa_keys *keys, struct spa_lender *lender);
void spa_agent_free(struct spa_agent *a);
/*
 * Handles one whole frame from @from; fills @out with the sealed reply
 * and returns its length, or 0 when the connection is to be closed
 * without a reply (the frame could not be authenticated).
 */
size_t spa_agent_handle(struct spa_agent *a, const u8 *in, size_t len,
			const char *from, u8 *out, size_t cap);
/* Replaces what is not printable ASCII in @s by '?'. */
void spa_printable(char *s);
/* Builds the common part of a message from this node. */
void spa_msg_init(struct spa_msg *m, const struct spa_config *c, u8 type);
/* An ERROR reply; the dispatcher adds the common part. */
void spa_msg_error(struct spa_msg *rep, unsigned int code, const char *fmt,
		   ...) __printf(3, 4);
/* Runs the agent until SIGTERM or SIGINT; the exit code. */
int spa_daemon(struct spa_config *c, const struct spa_backend *be);

/* ------------------------------------------------------------ reload.c */

/*
 * Protects the peer lines of the daemon's configuration in force (peers,
 * keys, tunnels, psks and their counts), which SIGHUP changes: written
 * under it (and under the lender's lock, whose holders read them
 * without it), read under it by spa_peer_resolve() and
 * spa_config_snapshot().
 */
extern pthread_rwlock_t spa_cfg_lock;
/*
 * A copy of @c taken under spa_cfg_lock, for a thread that reads its
 * peer lines while a SIGHUP may change them (free() it); NULL: no memory.
 */
struct spa_config *spa_config_snapshot(const struct spa_config *c);

/* The peers a reload adds and removes (all of their lines). */
struct spa_peer_change {
	unsigned int n_added, n_removed;
	char added[SPA_PEERS_MAX][SPA_NODE_MAX + 1];
	char removed[SPA_PEERS_MAX][SPA_NODE_MAX + 1];
};

/*
 * Whether the peer lines of @next may replace those in force: 0 with the
 * peers added and removed in @pc, or -EBUSY and the reason when a peer
 * that loses its peer, peer_key or peer_tunnel line has a grant in use
 * (lent to it or borrowed from it, not released).
 */
int spa_reload_peers_check(struct spa_agent *a, const struct spa_config *next,
			   struct spa_peer_change *pc, char *why, size_t wlen);
/* Makes @next's peer lines those in force (a->live) and the peer table's. */
void spa_reload_peers_apply(struct spa_agent *a, const struct spa_config *next);
/*
 * SIGHUP: reads @path and its key files again and applies what may change
 * while the daemon runs (reload.c), all or nothing; 0, or -errno (logged:
 * nothing changed).
 */
int spa_agent_reload(struct spa_agent *a, const char *path);

/* ------------------------------------------------------------ ctl.c */

/* The daemon's control socket, <state_dir>/ctl.sock. */
struct spa_ctl {
	struct spa_agent *a;
	int fd;
	int stop_fd;		/* readable when the daemon stops */
	bool running;
	pthread_t thread;
};

int spa_ctl_start(struct spa_ctl *ctl, struct spa_agent *a, int stop_fd,
		  char *why, size_t wlen);
void spa_ctl_stop(struct spa_ctl *ctl);
/*
 * Runs one request line ("revoke|unfence|release-fenced <grant id>") on
 * the daemon; its answer in @out: "ok|refused|failed <text>".
 */
void spa_ctl_exec(struct spa_agent *a, const char *line, char *out,
		  size_t len);
/* The command's side: sends @line, the answer line in @out. */
int spa_ctl_call(const struct spa_config *c, const char *line, char *out,
		 size_t len, char *why, size_t wlen);

/* ------------------------------------------------------------ revoke.c */

/*
 * Sends REVOKE of grant @id to its borrower @peer: 0 accepted, 1 refused
 * (@why says why), or -errno (not delivered).
 */
int spa_revoke_send(const struct spa_config *c, struct spa_keys *keys,
		    const char *peer, u64 id, char *why, size_t wlen);
/*
 * The borrower's REVOKE: accepted (a worker evacuates the member, then
 * gives the grant back) only from the grant's lender; REVOKE's reply or
 * ERROR in @rep.
 */
void spa_borrower_revoke(const struct spa_config *c, struct spa_keys *keys,
			 const struct spa_msg *req, const char *from,
			 struct spa_msg *rep);
/* How often a running evacuation's progress is reported (ms; 10 s). */
extern unsigned int spa_revoke_progress_ms;
/*
 * The bytes of the slices member @member of @pool holds now (its total
 * less its free slices) and the pool's slice size: 0 or -errno.
 */
int spa_member_used(const char *pool, const char *member, u64 *bytes,
		    u64 *slice_bytes);
/*
 * From a slicepool volume's status line: the bytes its live migration
 * copied if one is copying or switching (at most its slices' bytes,
 * passes over dirty chunks included), else 0.
 */
u64 spa_mig_copying(const char *status, u64 slice_bytes);
/* The REVOKE_REPORT text of an evacuation @moved bytes of @total in. */
void spa_evac_progress_text(const char *pool, const char *member, u64 moved,
			    u64 total, char *buf, size_t len);

/* ------------------------------------------------------------ net.c */

/* Moves some of @len bytes at @buf (a send, a receive, getrandom...). */
typedef ssize_t spa_xfer_fn(void *ctx, void *buf, size_t len);
/*
 * Calls @step until it has moved @len bytes: each call gets what is left,
 * one that a signal interrupted is made again.  *@done (if not NULL) is
 * what was moved.  Returns 0, the -errno of a failed call, or -ECONNRESET
 * when a call moved nothing (the peer closed).
 */
int spa_xfer_all(spa_xfer_fn *step, void *ctx, void *buf, size_t len,
		 size_t *done);

int spa_listen(const char *addr, u16 port, u16 *bound, char *why,
	       size_t wlen);
/* Serves until SIGTERM or SIGINT arrive on @sigfd (or, if -1, forever). */
int spa_serve(struct spa_agent *a, int lfd, int sigfd);
/*
 * Sends @req to addr:port and waits for the reply.  Returns 0 with the
 * reply in @rep (which may be an ERROR), or a negative errno / -SPA_E_*
 * with a reason in @why.
 */
/* A TCP connection to @addr:@port within @timeout_s: the fd, or -errno. */
int spa_connect_to(const char *addr, u16 port, unsigned int timeout_s,
		   char *why, size_t wlen);
int spa_call(const struct spa_config *c, struct spa_keys *key,
	     const char *addr, u16 port, const char *peer_name,
	     struct spa_msg *req, struct spa_msg *rep, char *why,
	     size_t wlen);

/* ------------------------------------------------------------ borrower.c */

/*
 * Set by the daemon, which owns the tunnel (set up at start, changed by
 * SIGHUP from the configuration read anew): a borrow it makes (demand.c)
 * leaves the tunnel be rather than set it up from the configuration read
 * at start.  A command's borrow sets it up (idempotently).
 */
extern bool spa_tunnel_owned;

/* 0, 1 when the peer refused (@why says why), or a negative errno. */
int spa_borrow(const struct spa_config *c, struct spa_keys *key,
	       const char *peer, u64 size, struct spa_grant *out, char *why,
	       size_t wlen);
/* spa_borrow() from the best peer that is up and can lend @size. */
int spa_borrow_any(const struct spa_config *c, struct spa_keys *key,
		   u64 size, struct spa_grant *out, char *why, size_t wlen);
int spa_giveback(const struct spa_config *c, struct spa_keys *key,
		 u64 grant_id, char *why, size_t wlen);

/* What spa_resize() did, for the command line to print. */
struct spa_resize_report {
	struct spa_grant g;		/* the ledger entry afterwards */
	u64 old_size;			/* as the ledger had it */
	char dev[64];			/* the namespace (the head if multipath) */
	unsigned int wait_ms;		/* until it showed the new size */
	unsigned int rescanned;		/* controllers asked to rescan */
	u64 total_before, total_after;	/* the member's slices */
	u64 free_before, free_after;
	u64 max_slices;			/* 0: the kernel does not say */
	u64 room;			/* slices the device has room for */
	u64 slice_bytes;
};

/*
 * Grows borrowed grant @grant_id to @size bytes: RESIZE to its lender,
 * the namespace's new size awaited, the member revalidated, the ledger
 * updated.  0, 1 when the lender refused (@why says why), or -errno.
 */
int spa_resize(const struct spa_config *c, struct spa_keys *key,
	       u64 grant_id, u64 size, struct spa_resize_report *out,
	       char *why, size_t wlen);
/*
 * Whether the block device (or image) @path may become member @member, in
 * @domain, of the pool whose UUID is @pool_uuid: SPA_MEMBER_BLANK when its
 * first SPA_MEMBER_CHECK_BYTES (the first metadata area) are all zero,
 * SPA_MEMBER_OURS when block 0 is a valid format-2 superblock of exactly
 * that pool, member and domain (a re-import); else -EILSEQ (anything
 * else: refused) or another -errno, with the reason in @why.
 */
#define SPA_MEMBER_CHECK_BYTES	1048576U	/* 1 MiB */
#define SPA_MEMBER_BLANK	0
#define SPA_MEMBER_OURS		1
int spa_member_check(const char *path, const char *pool_uuid,
		     const char *member, const char *domain, char *why,
		     size_t wlen);
/* Finishes give-backs and borrows that did not complete; returns the number left. */
int spa_borrower_reconcile(const struct spa_config *c,
			   struct spa_keys *key);

/* ------------------------------------------------------------ demand.c */

/*
 * What this node borrows: the bytes of its borrowed grants not released,
 * and how many of them are still being set up (requesting, connecting).
 */
int spa_borrowed_now(const struct spa_config *c, u64 *bytes,
		     unsigned int *in_flight, char *why, size_t wlen);
/*
 * Borrows @size bytes for @pool on demand: refused with -EPERM when the
 * configuration does not allow it (borrow_on_demand) and -EDQUOT past
 * its MAX, before anything is asked; else spa_borrow_any().
 */
int spa_borrow_demand(const struct spa_config *c, struct spa_keys *key,
		      const char *pool, u64 size, struct spa_grant *out,
		      char *why, size_t wlen);

/* How a borrow ahead of need is made: spa_borrow_demand()'s form. */
typedef int spa_demand_borrow_fn(const struct spa_config *c,
				 struct spa_keys *key, const char *pool,
				 u64 size, struct spa_grant *out, char *why,
				 size_t wlen);

/*
 * The daemon's borrowing ahead of need (borrow_threshold).  The heartbeat
 * thread decides (spa_demand_tick()); a worker thread of its own makes
 * the borrow, so that a slow borrow (a lender slow to zero, an NVMe/TCP
 * connect that times out) never delays a heartbeat.  At most one borrow
 * runs at a time.
 */
struct spa_demand {
	pthread_mutex_t lock;	/* protects in_flight, last_mono, started */
	bool in_flight;		/* the worker is borrowing */
	bool started;		/* the worker was started and not joined */
	/* The pool could not be read: said once (the heartbeat thread's). */
	bool warned;
	u64 last_mono;		/* the last borrow's end (monotonic), 0: none */
	pthread_t worker;
	/* The worker's job: set before it starts, read by it only. */
	const struct spa_config *cfg;
	struct spa_keys *key;
	u64 size;
	/* NULL: spa_borrow_demand(); a test's hook otherwise. */
	spa_demand_borrow_fn *borrow;
};

void spa_demand_init(struct spa_demand *d);
/*
 * What to borrow now for a pool of space @s while this node borrows
 * @borrowed bytes (@in_flight grants still being set up): 0 (and why)
 * without a threshold, with a borrow in flight, within the cool-down
 * after the last one, or with free space not below the level; else the
 * bytes that bring the free space back to the level (whole slices and a
 * member's metadata, spu_borrow_bytes()), cut to borrow_on_demand's MAX.
 * Reads @d's in_flight and last_mono: the caller holds its lock, or
 * @d is its own.
 */
u64 spa_demand_decide(const struct spa_demand *d, const struct spa_config *c,
		      const struct spu_space *s, u64 borrowed,
		      unsigned int in_flight, u64 now_mono, char *why,
		      size_t wlen);
/*
 * One check of the heartbeat thread: if spa_demand_decide() says so,
 * starts the worker that borrows, and returns without waiting for it.
 */
void spa_demand_tick(const struct spa_config *c, struct spa_keys *key,
		     struct spa_demand *d);
/* Whether the worker is borrowing now. */
bool spa_demand_busy(struct spa_demand *d);
/* Waits for the worker (the daemon stops), then frees @d's lock. */
void spa_demand_stop(struct spa_demand *d);

/* ------------------------------------------------------- agent.c (hb) */

/*
 * The heartbeat thread: every 'heartbeat' seconds a HELLO or HEARTBEAT
 * to each peer, the peers' health and the lease, the health file, the
 * borrower's unfinished work and the threshold check (whose borrow runs
 * in @demand's worker).
 */
struct spa_hb {
	struct spa_agent *a;
	int stop_fd;		/* readable when the daemon stops */
	pthread_t thread;
	struct spa_demand demand;
};

/* Starts the thread (@hb->demand.borrow may be set before): 0 or -errno. */
int spa_hb_start(struct spa_hb *hb, struct spa_agent *a, int stop_fd);
/*
 * After @stop_fd became readable: waits for the thread, which waits for
 * a borrow in flight.
 */
void spa_hb_join(struct spa_hb *hb);

#endif
