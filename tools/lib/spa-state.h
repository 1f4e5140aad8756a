/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libspu - the agent's files, for the agent and the tool alike
 *
 * The configuration file and the checks of the names and addresses it
 * holds (spa-config.c), the state files under state_dir: the ledgers, the
 * learned peers and the daemon's health file (spa-state.c), and nvmet
 * configfs, where a grant is exported (spa-nvmet.c).  slicepool-agent
 * writes them; "slicepool remote|peer|export list" reads them with the
 * same code.  Their names keep the agent's prefix, spa_: they are the
 * agent's formats.
 */
#ifndef SPA_STATE_H
#define SPA_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>

#include "spu.h"

/* The configuration file when no -c CONFIG is given. */
#define SPA_CONFIG_DEFAULT	"/etc/slicepool/agent.conf"

/* ------------------------------------------------------------ limits */

#define SPA_NODE_MAX		24	/* node names; "remote:<node>" <= 32 */
#define SPA_ADDR_MAX		45	/* INET6_ADDRSTRLEN - 1 */
#define SPA_NQN_MIN		11
#define SPA_NQN_MAX		223	/* NVMF_NQN_SIZE - 1 */
#define SPA_TEXT_MAX		200	/* error text */
#define SPA_PEERS_MAX		32	/* peers in a table or a reply */
#define SPA_NONCE_LEN		16
#define SPA_ID_LEN		16	/* request id */
#define SPA_MAC_LEN		32	/* HMAC-SHA256 */
#define SPA_HDR_LEN		36
#define SPA_PREFIX_LEN		12	/* magic .. length: enough to size a frame */
#define SPA_FRAME_MIN		(SPA_HDR_LEN + SPA_MAC_LEN)
#define SPA_FRAME_MAX		4096
#define SPA_SIZE_ALIGN		4096ULL
#define SPA_SIZE_MAX		1125899906842624ULL	/* 1 PiB */
#define SPA_GRANTS_MAX		1024	/* grants a ledger holds */
#define SPA_KEY_MIN		32
#define SPA_KEY_MAX		64
#define SPA_PATHS_MAX		4	/* paths of a grant, the first included */

/* ---------------------------------------------------- spa-config.c */

bool spa_valid_node(const char *s);
bool spa_valid_nqn(const char *s);
bool spa_valid_addr(const char *s);

/*
 * The first of the @n elements of @size bytes at @base whose name, the
 * string at offset @off in each, is @name; NULL if none.
 */
void *spa_find_name(const void *base, size_t n, size_t size, size_t off,
		    const char *name);

/* The element of @arr[0..@n) whose char array @member is @name, or NULL. */
#define spa_find_named(arr, n, member, name)				\
	({								\
		__auto_type __a = &(arr)[0];				\
		(typeof(__a))spa_find_name(__a, (n), sizeof(*__a),	\
					   offsetof(typeof(*__a), member), \
					   (name));			\
	})

struct spa_peer_cfg {
	char name[SPA_NODE_MAX + 1];
	char addr[SPA_ADDR_MAX + 1];
	unsigned short port;
};

/* Key files are named with at most this many characters. */
#define SPA_KEY_PATH_MAX	255
/* A DH-HMAC-CHAP secret: "DHHC-1:00:" base64 of 64 bytes and a CRC ":". */
#define SPA_DHCHAP_MAX		104

/*
 * "peer_key NAME FILE [NEXT]": the key this node shares with peer NAME,
 * and during a rotation the next one (both accepted, FILE's sent).
 */
struct spa_peer_key_cfg {
	char name[SPA_NODE_MAX + 1];
	char file[SPA_KEY_PATH_MAX + 1];
	char next[SPA_KEY_PATH_MAX + 1];	/* "": none */
};

/* A WireGuard key in base64, as "wg genkey" and "wg pubkey" write it. */
#define SPA_WG_KEY_B64		44
/* Interface names: IFNAMSIZ - 1. */
#define SPA_IFNAME_MAX		15

/*
 * "peer_tunnel NAME PUBKEY ENDPOINT TUNNEL_ADDR": peer NAME's WireGuard
 * public key, where its WireGuard listens (ADDRESS:PORT, [ADDRESS]:PORT
 * for IPv6) and its address inside the tunnel.
 */
struct spa_peer_tunnel_cfg {
	char name[SPA_NODE_MAX + 1];
	char pubkey[SPA_WG_KEY_B64 + 1];
	char endpoint[SPA_ADDR_MAX + 9];	/* as written */
	char addr[SPA_ADDR_MAX + 1];		/* in the tunnel */
	char psk[SPA_KEY_PATH_MAX + 1];		/* preshared key file, "": none */
};

/*
 * "peer_tunnel_psk NAME FILE": a WireGuard preshared key for the tunnel
 * with peer NAME (the same file on both nodes; slicepool-agent keygen
 * --psk), copied to its peer_tunnel line's psk when the file is read.
 */
struct spa_peer_psk_cfg {
	char name[SPA_NODE_MAX + 1];
	char file[SPA_KEY_PATH_MAX + 1];
};

struct spa_config {
	char path[PATH_MAX];
	char node[SPA_NODE_MAX + 1];
	char listen_addr[SPA_ADDR_MAX + 1];
	unsigned short listen_port;
	char advertise[SPA_ADDR_MAX + 1];
	char export_addr[SPA_ADDR_MAX + 1];
	unsigned short export_port;
	unsigned short nvmet_port_id;
	/* A second "export" line: the standby path (0: none). */
	char export2_addr[SPA_ADDR_MAX + 1];
	unsigned short export2_port;
	unsigned short nvmet_port_id2;	/* = export2_port */
	char pool[SPU_NAME_MAX + 1];
	char state_dir[PATH_MAX];
	char hostnqn[SPA_NQN_MAX + 1];
	char hostid[SPU_UUID_STR];
	char nqn_prefix[SPA_NQN_MAX + 1];
	char nvme_cli[PATH_MAX];
	unsigned long long keep_free;
	unsigned long long lend_max;
	unsigned int max_grants;
	int lend;
	int ctrl_loss_tmo;
	unsigned int reconnect_delay;
	unsigned int max_skew;
	unsigned int heartbeat;
	unsigned int heartbeat_timeout;	/* 0 only when heartbeat is 0 */
	unsigned int io_timeout;
	unsigned int conn_per_source;	/* connections open from one address */
	unsigned int nr_peers;
	struct spa_peer_cfg peers[SPA_PEERS_MAX];
	unsigned int nr_keys;
	struct spa_peer_key_cfg keys[SPA_PEERS_MAX];
	/*
	 * "tunnel ADDRESS/PREFIX PORT" (tunnel_addr "": no tunnel): every
	 * NVMe/TCP connection with a peer goes through WireGuard interface
	 * tunnel_if, and grants are exported on tunnel_addr only.
	 */
	char tunnel_addr[SPA_ADDR_MAX + 1];
	unsigned int tunnel_prefix;
	unsigned short tunnel_port;		/* UDP */
	char tunnel_key[SPA_KEY_PATH_MAX + 1];	/* this node's private key */
	char tunnel_if[SPA_IFNAME_MAX + 1];
	char wg_cli[PATH_MAX];
	char ip_cli[PATH_MAX];
	char nft_cli[PATH_MAX];		/* the exports' guard (nftables) */
	unsigned int nr_tunnels;
	struct spa_peer_tunnel_cfg tunnels[SPA_PEERS_MAX];
	unsigned int nr_psks;
	struct spa_peer_psk_cfg psks[SPA_PEERS_MAX];
	/*
	 * "borrow_on_demand POOL [MAX]": pool (it must be 'pool') may borrow
	 * when it runs out of space (slicepool vol create/resize --borrow,
	 * and borrow_threshold); MAX caps what this node borrows in all.
	 */
	bool borrow_demand;
	char borrow_pool[SPU_NAME_MAX + 1];
	unsigned long long borrow_max;		/* 0: no limit */
	/*
	 * "borrow_threshold POOL LEVEL [COOLDOWN]": the daemon borrows ahead
	 * of need when the pool's free space falls below LEVEL (bytes, or a
	 * percentage of its space), then waits COOLDOWN seconds.
	 */
	char threshold_pool[SPU_NAME_MAX + 1];	/* "": no threshold */
	unsigned long long borrow_below;	/* bytes (pct 0) */
	unsigned int borrow_below_pct;		/* 1..99, 0: bytes */
	unsigned int borrow_cooldown;		/* seconds */
	/*
	 * "lease SECONDS" (0: off): a lender fences the grants of a borrower
	 * not heard for that long (export removed, volume and data kept).
	 */
	unsigned int lease;
	/* The slicepool tool, for a revocation's member evacuate. */
	char slicepool_cli[PATH_MAX];
	/*
	 * "dhchap on": NVMe in-band authentication (DH-HMAC-CHAP, both
	 * ways) of every connection with a peer, where this kernel offers
	 * it (spa_dhchap_target_probe(), spa_dhchap_host_probe()), with
	 * secrets derived from the pair's key.
	 */
	bool dhchap;
};

/* Whether @c puts its NVMe/TCP connections in a WireGuard tunnel. */
static inline bool spa_tunnel_on(const struct spa_config *c)
{
	return c->tunnel_addr[0] != '\0';
}

/*
 * With 'tunnel', each borrower has ports of its own, in its slot k
 * (Documentation/nvmet-remote-ns.rst, "Tunnel"): TCP port export_port + k
 * on nvmet port nvmet_port_id + k, and for the standby path export2_port
 * + k on nvmet_port_id2 + k; the lender's guard lets only that borrower's
 * tunnel address reach them.  Without a tunnel every grant is in slot 0.
 * A grant's slot is where its port (trsvcid) is.
 */
static inline unsigned int spa_grant_slot(const struct spa_config *c,
					  unsigned short trsvcid)
{
	return trsvcid > c->export_port ? trsvcid - c->export_port : 0;
}

/* The tunnel of @peer (NULL: none configured). */
const struct spa_peer_tunnel_cfg *spa_config_tunnel(const struct spa_config *c,
						    const char *peer);
/* A WireGuard key: 44 characters of base64 for 32 bytes. */
bool spa_valid_wg_key(const char *s);

/* The key files of @peer (NULL: none configured). */
const struct spa_peer_key_cfg *spa_config_key(const struct spa_config *c,
					      const char *peer);

void spa_config_defaults(struct spa_config *c);
int spa_config_parse(const char *text, struct spa_config *c, char *why,
		     size_t wlen);
int spa_config_load(const char *path, struct spa_config *c, char *why,
		    size_t wlen);
/*
 * Whether @c lets pool @pool borrow @size bytes on demand while this node
 * borrows @borrowed bytes already: 0, or -EPERM (not allowed) or -EDQUOT
 * (over borrow_on_demand's MAX) with the reason.
 */
int spa_demand_allowed(const struct spa_config *c, const char *pool, u64 size,
		       u64 borrowed, char *why, size_t wlen);
/* The free space below which the daemon borrows: bytes, 0 if none. */
u64 spa_demand_level(const struct spa_config *c, u64 total_bytes);

/* Fills hostnqn/hostid from /etc/nvme when the file did not set them. */
int spa_config_host_identity(struct spa_config *c, char *why, size_t wlen);

/* ----------------------------------------------------- spa-nvmet.c */

struct spa_export {
	char subnqn[SPA_NQN_MAX + 1];
	char hostnqn[SPA_NQN_MAX + 1];
	char device[PATH_MAX];
	char uuid[SPU_UUID_STR];
	unsigned int nsid;
	char traddr[SPA_ADDR_MAX + 1];
	unsigned short trsvcid;
	unsigned short port_id;
	/* The standby path (port_id2 0: none), ANA non-optimized. */
	char traddr2[SPA_ADDR_MAX + 1];
	unsigned short trsvcid2;
	unsigned short port_id2;
	/*
	 * DH-HMAC-CHAP secrets of the host ("" none): the host's (nvmet's
	 * dhchap_key) and the controller's (dhchap_ctrl_key).
	 */
	char dhchap_key[SPA_DHCHAP_MAX + 1];
	char dhchap_ctrl_key[SPA_DHCHAP_MAX + 1];
};

int spa_nvmet_export(const struct spa_export *e, char *why, size_t wlen);

/*
 * NVMe in-band authentication (DH-HMAC-CHAP), probed at run time, not by
 * kernel version (Debian's 6.1 builds neither side):
 *
 * the target: nvmet's host entries have a dhchap_key attribute (the
 * first host entry is looked at; with none, a probe entry
 * SPA_DHCHAP_PROBE_NQN is made and removed): 1 offered, 0 absent,
 * -ENOENT when nvmet is not loaded, another -errno when the probe entry
 * cannot be made (not root);
 */
#define SPA_DHCHAP_PROBE_NQN	"nqn.2014-08.org.slicepool:dhchap-probe"
int spa_dhchap_target_probe(void);
/*
 * the host: "dhchap_secret" is one of the options /dev/nvme-fabrics
 * lists (NVME_FABRICS names another file): 1 offered, 0 absent, -errno
 * when it cannot be read (nvme-fabrics not loaded).
 */
int spa_dhchap_host_probe(void);
/* "offered", "absent" or "unknown (nvmet not loaded)"... for a probe. */
const char *spa_dhchap_said(int probe);
/*
 * Sets nvmet host @hostnqn's DH-HMAC-CHAP secrets (HMAC SHA-256, no DH
 * group): -EOPNOTSUPP where its entry has no dhchap_key, or another
 * -errno, with the reason.
 */
int spa_nvmet_host_auth(const char *hostnqn, const char *key,
			const char *ctrl_key, char *why, size_t wlen);
/*
 * Removes a subsystem and what only it used: its links from every port,
 * the ports (@port_id and those) it leaves empty; idempotent.
 */
int spa_nvmet_unexport(const char *subnqn, unsigned short port_id, char *why,
		       size_t wlen);
int spa_nvmet_list(const char *prefix, char ***names, size_t *count);
bool spa_nvmet_exported(const char *subnqn, unsigned short port_id);
/* Makes nvmet read the size of namespace @nsid again (revalidate_size). */
int spa_nvmet_revalidate(const char *subnqn, unsigned int nsid, char *why,
			 size_t wlen);

/* ----------------------------------------------------- spa-state.c */

enum spa_gstate {
	SPA_G_EXPORTING = 1,	/* lender: being set up */
	SPA_G_ACTIVE,		/* both: in service */
	SPA_G_RELEASING,	/* both: being torn down */
	SPA_G_RELEASED,		/* both: gone (kept for the record) */
	SPA_G_REQUESTING,	/* borrower: asked, no answer yet */
	SPA_G_CONNECTING,	/* borrower: granted, not a member yet */
	SPA_G_RESIZING,		/* lender: growing to resize_to */
	SPA_G_REVOKING,		/* lender: asked back, the borrower moves off */
	SPA_G_FENCED,		/* lender: lease expired, export off, data kept */
	SPA_G_MAX
};

struct spa_grant {
	unsigned long long id;
	int state;
	char peer[SPA_NODE_MAX + 1];	/* borrower (lender side) or lender */
	unsigned long long size;	/* bytes asked and granted */
	unsigned long long bytes;	/* lender: whole slices taken */
	char name[SPU_NAME_MAX + 1];	/* lender: volume; borrower: member */
	char uuid[SPU_UUID_STR];
	unsigned char req_id[SPA_ID_LEN];
	unsigned long long created;	/* Unix seconds */
	char hostnqn[SPA_NQN_MAX + 1];
	char subnqn[SPA_NQN_MAX + 1];
	char traddr[SPA_ADDR_MAX + 1];
	unsigned short trsvcid;
	unsigned int nsid;
	/* Lender, resizing: the new size (size and bytes are the old ones). */
	unsigned long long resize_to;
};

struct spa_ledger {
	char path[PATH_MAX];
	bool lender;
	bool existed;		/* the file was there when loaded */
	struct spa_grant *g;
	size_t n;
};

const char *spa_gstate_name(int state);
int spa_ledger_load(struct spa_ledger *l, const char *path, bool lender,
		    char *why, size_t wlen);
int spa_ledger_save(struct spa_ledger *l, char *why, size_t wlen);
void spa_ledger_free(struct spa_ledger *l);
struct spa_grant *spa_ledger_find(struct spa_ledger *l, unsigned long long id);
struct spa_grant *spa_ledger_add(struct spa_ledger *l);
/* Drops released grants beyond the newest @keep of them. */
void spa_ledger_prune(struct spa_ledger *l, size_t keep);
/* An exclusive lock on @path (created); returns the fd or -errno. */
int spa_lock_file(const char *path, bool wait);
/* A grant id as 'status' prints it: 16 hex digits, not 0. */
int spa_grant_id_parse(const char *s, unsigned long long *id);
/*
 * The lender's subsystem names start with "<nqn_prefix>:grant:<node>:"
 * (the grant id in 16 hex digits follows); -ENAMETOOLONG if @len is short.
 */
int spa_subnqn_prefix(const struct spa_config *c, char *buf, size_t len);

/*
 * Calls @fn for each valid line ("peer NAME ADDRESS PORT") of the
 * learned-peers file <state_dir>/peers; -errno when it cannot be read.
 */
int spa_learned_read(const char *path,
		     void (*fn)(const char *name, const char *addr,
				unsigned short port, void *arg),
		     void *arg);

/* A peer as the daemon's table holds it: configured ones, then learned. */
struct spa_known_peer {
	struct spa_peer_cfg p;
	bool configured;
};

/*
 * Fills @out with the peers the daemon of @c knows: its configured peers,
 * then those learned in <state_dir>/peers (not itself, not a configured
 * name again; a name learned twice keeps its last address), at most
 * SPA_PEERS_MAX.  Returns how many, or -errno when the learned-peers file
 * exists but cannot be read.
 */
int spa_known_peers(const struct spa_config *c,
		    struct spa_known_peer out[SPA_PEERS_MAX]);

/* A peer's health, as the daemon's heartbeats found it. */
enum spa_health_state {
	SPA_H_UNKNOWN = 0,	/* not heard yet, timeout not passed */
	SPA_H_UP,		/* heard within heartbeat_timeout */
	SPA_H_DOWN,		/* not heard for heartbeat_timeout: excluded */
};

const char *spa_health_name(int health);

struct spa_health_entry {
	char name[SPA_NODE_MAX + 1];
	int health;			/* enum spa_health_state */
	unsigned long long heard_ms;	/* Unix ms, 0: never */
	unsigned long long lendable;
	unsigned int grants;
};

/* The daemon's view of its peers, as the command line reads it. */
struct spa_health {
	bool fresh;			/* a running daemon wrote it recently */
	unsigned long long updated_ms;	/* Unix ms */
	unsigned int timeout;		/* the daemon's heartbeat_timeout */
	unsigned int n;
	struct spa_health_entry e[SPA_PEERS_MAX];
};

/* Reads it; a missing, unreadable or stale file gives !fresh and n 0. */
void spa_health_load(const struct spa_config *c, unsigned long long now_ms,
		     struct spa_health *h);
const struct spa_health_entry *spa_health_find(const struct spa_health *h,
					       const char *name);

#endif
