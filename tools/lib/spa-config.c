// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - the agent's configuration file (see spa-state.h)
 *
 * One directive a line, "key value...", words separated by blanks; '#'
 * starts a comment.  Every key but "peer" may appear once; unknown keys,
 * extra words and bad values are refused with the line number.  The keys
 * and their defaults are documented in Documentation/nvmet-remote-ns.rst
 * ("Configuration").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spa-state.h"

#define SPA_CONFIG_MAX		65536
#define SPA_LINE_MAX		1024
#define SPA_WORDS_MAX		5

/* ------------------------------------------------------- validators */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool valid_label(const char *s, size_t max)
{
	size_t i;

	if (!s[0] || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; s[i]; i++)
		if (i >= max || !name_char(s[i]))
			return false;
	return true;
}

/* Node names: 1..24 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
bool spa_valid_node(const char *s)
{
	return valid_label(s, SPA_NODE_MAX);
}

/*
 * NQNs: "nqn." and 7..219 more of [A-Za-z0-9._:-] (a subset of what NVMe
 * allows: enough for the reverse-domain and uuid forms, and nothing a
 * shell, a path or configfs could read differently).
 */
bool spa_valid_nqn(const char *s)
{
	size_t i;

	if (strncmp(s, "nqn.", 4))
		return false;
	for (i = 0; s[i]; i++)
		if (i >= SPA_NQN_MAX || !(name_char(s[i]) || s[i] == ':'))
			return false;
	return i >= SPA_NQN_MIN;
}

/* A numeric IPv4 or IPv6 address, never a host name. */
bool spa_valid_addr(const char *s)
{
	u8 buf[16];

	if (strlen(s) > SPA_ADDR_MAX)
		return false;
	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

/* A WireGuard key: 43 characters of base64 and '=' (32 bytes). */
bool spa_valid_wg_key(const char *s)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p;
	size_t i;

	if (strlen(s) != SPA_WG_KEY_B64 || s[SPA_WG_KEY_B64 - 1] != '=')
		return false;
	for (i = 0; i < SPA_WG_KEY_B64 - 1; i++)
		if (!strchr(b64, s[i]))
			return false;
	/* 43 characters hold 258 bits: the last one's 2 low bits are 0. */
	p = strchr(b64, s[SPA_WG_KEY_B64 - 2]);
	return ((p - b64) & 3) == 0;
}

/* The family of numeric address @s (its bytes in @b), or 0. */
static int addr_bytes(const char *s, u8 b[16])
{
	if (strlen(s) > SPA_ADDR_MAX)
		return 0;
	if (inet_pton(AF_INET, s, b) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, b) == 1)
		return AF_INET6;
	return 0;
}

void spa_config_defaults(struct spa_config *c)
{
	memset(c, 0, sizeof(*c));
	c->export_port = 4420;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/slicepool-agent");
	snprintf(c->nqn_prefix, sizeof(c->nqn_prefix),
		 "nqn.2026-11.io.slicepool");
	snprintf(c->nvme_cli, sizeof(c->nvme_cli), "/usr/sbin/nvme");
	snprintf(c->slicepool_cli, sizeof(c->slicepool_cli),
		 "/usr/local/sbin/slicepool");
	c->lend = -1;
	c->max_grants = 16;
	c->ctrl_loss_tmo = 600;
	c->reconnect_delay = 10;
	c->max_skew = 30;
	c->heartbeat = 10;
	c->io_timeout = 10;
	c->conn_per_source = 4;
	c->borrow_cooldown = 60;
	snprintf(c->tunnel_if, sizeof(c->tunnel_if), "spwg0");
	snprintf(c->wg_cli, sizeof(c->wg_cli), "/usr/bin/wg");
	snprintf(c->ip_cli, sizeof(c->ip_cli), "/usr/sbin/ip");
	snprintf(c->nft_cli, sizeof(c->nft_cli), "/usr/sbin/nft");
}

const struct spa_peer_key_cfg *spa_config_key(const struct spa_config *c,
					      const char *peer)
{
	return spa_find_named(c->keys, c->nr_keys, name, peer);
}

const struct spa_peer_tunnel_cfg *spa_config_tunnel(const struct spa_config *c,
						    const char *peer)
{
	return spa_find_named(c->tunnels, c->nr_tunnels, name, peer);
}

static bool wildcard(const char *addr)
{
	return !strcmp(addr, "0.0.0.0") || !strcmp(addr, "::");
}

static int abs_path(const char *v, char *dst, size_t cap)
{
	if (v[0] != '/' || strlen(v) >= cap)
		return -EINVAL;
	snprintf(dst, cap, "%s", v);
	return 0;
}

static int set_port(const char *v, u16 *port)
{
	unsigned long long p;

	if (spu_parse_uint(v, 65535, &p) || !p)
		return -EINVAL;
	*port = (u16)p;
	return 0;
}

/* An address a peer can reach: not a wildcard. */
static bool routable(const char *addr)
{
	return spa_valid_addr(addr) && !wildcard(addr);
}

/* A prefix that leaves room for the grant's part of a subsystem NQN. */
static bool nqn_prefix_ok(const char *v)
{
	return spa_valid_nqn(v) && strlen(v) <= 175;
}

/* Copies @v to @dst (@cap bytes) when @valid takes it; else -EINVAL. */
static int set_str(const char *v, bool (*valid)(const char *), char *dst,
		   size_t cap)
{
	if (!valid(v))
		return -EINVAL;
	snprintf(dst, cap, "%s", v);
	return 0;
}

/* ADDRESS PORT (a wildcard address only if @any); else -EINVAL. */
static int set_addr(const char *v, const char *port, bool any, char *dst,
		    size_t cap, u16 *p)
{
	if (!(any ? spa_valid_addr(v) : routable(v)) || set_port(port, p))
		return -EINVAL;
	snprintf(dst, cap, "%s", v);
	return 0;
}

static int set_uint(const char *v, unsigned long long min,
		    unsigned long long max, unsigned int *out)
{
	unsigned long long n;

	if (spu_parse_uint(v, max, &n) || n < min)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

/* Interface names: 1..15 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
static bool valid_ifname(const char *s)
{
	return valid_label(s, SPA_IFNAME_MAX);
}

/* "tunnel ADDRESS/PREFIX PORT": a host address, a prefix of 8..30 (IPv4) or 8..126 (IPv6). */
static int set_tunnel(struct spa_config *c, const char *v, const char *port)
{
	const char *slash = strchr(v, '/');
	char a[SPA_ADDR_MAX + 1];
	unsigned long long n;
	u8 b[16];
	int fam;

	if (!slash || (size_t)(slash - v) > SPA_ADDR_MAX)
		return -EINVAL;
	memcpy(a, v, slash - v);
	a[slash - v] = '\0';
	fam = addr_bytes(a, b);
	if (!fam || wildcard(a) ||
	    spu_parse_uint(slash + 1, fam == AF_INET ? 30 : 126, &n) || n < 8 ||
	    set_port(port, &c->tunnel_port))
		return -EINVAL;
	snprintf(c->tunnel_addr, sizeof(c->tunnel_addr), "%s", a);
	c->tunnel_prefix = (unsigned int)n;
	return 0;
}

/* A WireGuard endpoint: ADDRESS:PORT, or [ADDRESS]:PORT for IPv6. */
static bool valid_endpoint(const char *v)
{
	char a[SPA_ADDR_MAX + 1];
	const char *start = v, *end;
	u16 port;
	u8 b[16];
	int want = AF_INET;

	if (v[0] == '[') {
		start = v + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			return false;
		want = AF_INET6;
	} else {
		end = strrchr(v, ':');
		if (!end)
			return false;
	}
	if ((size_t)(end - start) > SPA_ADDR_MAX)
		return false;
	memcpy(a, start, end - start);
	a[end - start] = '\0';
	return addr_bytes(a, b) == want && !wildcard(a) &&
	       !set_port(end + (want == AF_INET6 ? 2 : 1), &port);
}

/* "peer_tunnel NAME PUBKEY ENDPOINT TUNNEL_ADDR" */
static int add_tunnel(struct spa_config *c, char **w)
{
	struct spa_peer_tunnel_cfg *t;

	if (c->nr_tunnels >= SPA_PEERS_MAX)
		return -ENOSPC;
	if (!spa_valid_node(w[1]) || !spa_valid_wg_key(w[2]) ||
	    !valid_endpoint(w[3]) || !routable(w[4]))
		return -EINVAL;
	if (spa_config_tunnel(c, w[1]))
		return -EEXIST;
	t = &c->tunnels[c->nr_tunnels++];
	snprintf(t->name, sizeof(t->name), "%s", w[1]);
	snprintf(t->pubkey, sizeof(t->pubkey), "%s", w[2]);
	snprintf(t->endpoint, sizeof(t->endpoint), "%s", w[3]);
	snprintf(t->addr, sizeof(t->addr), "%s", w[4]);
	return 0;
}

/* "peer_tunnel_psk NAME FILE" */
static int add_psk(struct spa_config *c, char **w)
{
	struct spa_peer_psk_cfg *k;

	if (c->nr_psks >= SPA_PEERS_MAX)
		return -ENOSPC;
	if (!spa_valid_node(w[1]))
		return -EINVAL;
	if (spa_find_named(c->psks, c->nr_psks, name, w[1]))
		return -EEXIST;
	k = &c->psks[c->nr_psks];
	if (abs_path(w[2], k->file, sizeof(k->file)))
		return -EINVAL;
	snprintf(k->name, sizeof(k->name), "%s", w[1]);
	c->nr_psks++;
	return 0;
}

struct key_desc {
	const char *key;
	unsigned int words;	/* values after the key */
	const char *what;	/* for error messages */
	unsigned int opt;	/* optional values after those */
};

static const struct key_desc keys[] = {
	{ "node", 1, "a node name (1..24 of [A-Za-z0-9_.-])", 0 },
	{ "listen", 2, "ADDRESS PORT", 0 },
	{ "advertise", 1, "a numeric address", 0 },
	{ "export", 2, "ADDRESS PORT", 0 },
	{ "nvmet_port_id", 1, "1..65535", 0 },
	{ "key_file", 1, "an absolute path", 0 },	/* refused: see apply() */
	{ "pool", 1, "a pool name", 0 },
	{ "state_dir", 1, "an absolute path", 0 },
	{ "hostnqn", 1, "an NQN (nqn.* of [A-Za-z0-9._:-])", 0 },
	{ "hostid", 1, "a UUID", 0 },
	{ "nqn_prefix", 1, "an NQN of at most 175 characters", 0 },
	{ "nvme_cli", 1, "an absolute path", 0 },
	{ "slicepool_cli", 1, "an absolute path", 0 },
	{ "lease", 1, "0 (off) or 1..604800 seconds", 0 },
	{ "lend", 1, "yes or no", 0 },
	{ "dhchap", 1, "on or off", 0 },
	{ "keep_free", 1, "a size (K, M, G, T suffixes)", 0 },
	{ "lend_max", 1, "a size (0: no limit)", 0 },
	{ "max_grants", 1, "1..256", 0 },
	{ "ctrl_loss_tmo", 1, "-1 (reconnect forever) or 0..86400 seconds", 0 },
	{ "reconnect_delay", 1, "1..3600 seconds", 0 },
	{ "max_skew", 1, "1..3600 seconds", 0 },
	{ "heartbeat", 1, "0 (off) or 1..3600 seconds", 0 },
	{ "heartbeat_timeout", 1, "1..86400 seconds", 0 },
	{ "io_timeout", 1, "1..300 seconds", 0 },
	{ "conn_per_source", 1, "1..16 connections", 0 },
	{ "peer", 3, "NAME ADDRESS PORT", 0 },
	/* One more word is optional: the next key (a rotation). */
	{ "peer_key", 2, "NAME FILE [NEXT_FILE] (absolute paths)", 1 },
	{ "tunnel", 2, "ADDRESS/PREFIX PORT (this node in the tunnel, WireGuard's UDP port)", 0 },
	{ "tunnel_key", 1, "an absolute path (this node's WireGuard private key)", 0 },
	{ "tunnel_if", 1, "an interface name (1..15 of [A-Za-z0-9_.-])", 0 },
	{ "peer_tunnel", 4,
	  "NAME PUBKEY ENDPOINT TUNNEL_ADDR (a WireGuard public key, ADDRESS:PORT or [ADDRESS]:PORT, a numeric address)",
	  0 },
	{ "peer_tunnel_psk", 2,
	  "NAME FILE (an absolute path: the WireGuard preshared key of the tunnel with NAME)",
	  0 },
	{ "wg_cli", 1, "an absolute path", 0 },
	{ "ip_cli", 1, "an absolute path", 0 },
	{ "nft_cli", 1, "an absolute path", 0 },
	{ "borrow_on_demand", 1,
	  "POOL [MAX] (the 'pool' of this node; MAX a size, the most borrowed in all)",
	  1 },
	{ "borrow_threshold", 2,
	  "POOL LEVEL [COOLDOWN] (LEVEL a size or 1..99% of the pool's space, COOLDOWN 1..86400 seconds)",
	  1 },
};

/* The keys of a plain number: its bounds and its field. */
struct uint_key {
	char key[24];
	unsigned int min, max;
	size_t off;		/* of an unsigned int in struct spa_config */
};

#define UINT_KEY(name, lo, hi) \
	{ #name, lo, hi, offsetof(struct spa_config, name) }

static const struct uint_key uint_keys[] = {
	UINT_KEY(max_grants, 1, 256),
	UINT_KEY(reconnect_delay, 1, 3600),
	UINT_KEY(max_skew, 1, 3600),
	UINT_KEY(heartbeat, 0, 3600),
	UINT_KEY(heartbeat_timeout, 1, 86400),
	UINT_KEY(io_timeout, 1, 300),
	UINT_KEY(conn_per_source, 1, 16),
	UINT_KEY(lease, 0, 604800),
};

/*
 * "borrow_threshold POOL LEVEL [COOLDOWN]": LEVEL a size (not 0) or
 * "N%" with N 1..99, exactly.
 */
static int set_threshold(struct spa_config *c, char **w)
{
	size_t len = strlen(w[2]);
	unsigned long long n;
	char num[4];

	if (set_str(w[1], spu_valid_name, c->threshold_pool,
		    sizeof(c->threshold_pool)))
		return -EINVAL;
	if (len > 1 && w[2][len - 1] == '%') {
		if (len > sizeof(num))
			return -EINVAL;
		memcpy(num, w[2], len - 1);
		num[len - 1] = '\0';
		if (spu_parse_uint(num, 99, &n) || !n)
			return -EINVAL;
		c->borrow_below_pct = n;
		c->borrow_below = 0;
	} else {
		if (spu_parse_size(w[2], SPA_SIZE_MAX, &c->borrow_below) ||
		    !c->borrow_below)
			return -EINVAL;
		c->borrow_below_pct = 0;
	}
	if (w[3])
		return set_uint(w[3], 1, 86400, &c->borrow_cooldown);
	return 0;
}

/* Applies one directive; 0 or -EINVAL (the caller names the line). */
static int apply(struct spa_config *c, unsigned int k, char **w)
{
	const char *key = keys[k].key, *v = w[1];
	const struct uint_key *u;
	unsigned long long n;
	struct spa_peer_cfg *p;

	u = spa_find_named(uint_keys, ARRAY_SIZE(uint_keys), key, key);
	if (u)
		return set_uint(v, u->min, u->max,
				(unsigned int *)((char *)c + u->off));
	if (!strcmp(key, "node")) {
		return set_str(v, spa_valid_node, c->node, sizeof(c->node));
	} else if (!strcmp(key, "listen")) {
		return set_addr(v, w[2], true, c->listen_addr,
				sizeof(c->listen_addr), &c->listen_port);
	} else if (!strcmp(key, "advertise")) {
		return set_str(v, routable, c->advertise, sizeof(c->advertise));
	} else if (!strcmp(key, "export") && c->export_addr[0]) {
		/* The second line: the standby path. */
		return set_addr(v, w[2], false, c->export2_addr,
				sizeof(c->export2_addr), &c->export2_port);
	} else if (!strcmp(key, "export")) {
		return set_addr(v, w[2], false, c->export_addr,
				sizeof(c->export_addr), &c->export_port);
	} else if (!strcmp(key, "nvmet_port_id")) {
		return set_port(v, &c->nvmet_port_id);
	} else if (!strcmp(key, "key_file")) {
		return -EOPNOTSUPP;
	} else if (!strcmp(key, "pool")) {
		return set_str(v, spu_valid_name, c->pool, sizeof(c->pool));
	} else if (!strcmp(key, "state_dir")) {
		return abs_path(v, c->state_dir, sizeof(c->state_dir));
	} else if (!strcmp(key, "hostnqn")) {
		return set_str(v, spa_valid_nqn, c->hostnqn, sizeof(c->hostnqn));
	} else if (!strcmp(key, "hostid")) {
		return set_str(v, spu_valid_uuid, c->hostid, sizeof(c->hostid));
	} else if (!strcmp(key, "nqn_prefix")) {
		return set_str(v, nqn_prefix_ok, c->nqn_prefix,
			       sizeof(c->nqn_prefix));
	} else if (!strcmp(key, "nvme_cli")) {
		return abs_path(v, c->nvme_cli, sizeof(c->nvme_cli));
	} else if (!strcmp(key, "slicepool_cli")) {
		return abs_path(v, c->slicepool_cli, sizeof(c->slicepool_cli));
	} else if (!strcmp(key, "lend")) {
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return -EINVAL;
		c->lend = !strcmp(v, "yes");
	} else if (!strcmp(key, "dhchap")) {
		if (strcmp(v, "on") && strcmp(v, "off"))
			return -EINVAL;
		c->dhchap = !strcmp(v, "on");
	} else if (!strcmp(key, "keep_free")) {
		return spu_parse_size(v, SPA_SIZE_MAX, &c->keep_free);
	} else if (!strcmp(key, "lend_max")) {
		return spu_parse_size(v, SPA_SIZE_MAX, &c->lend_max);
	} else if (!strcmp(key, "ctrl_loss_tmo")) {
		if (!strcmp(v, "-1")) {
			c->ctrl_loss_tmo = -1;
			return 0;
		}
		if (spu_parse_uint(v, 86400, &n))
			return -EINVAL;
		c->ctrl_loss_tmo = (int)n;
	} else if (!strcmp(key, "peer_key")) {
		struct spa_peer_key_cfg *k;

		if (c->nr_keys >= SPA_PEERS_MAX)
			return -ENOSPC;
		if (!spa_valid_node(v))
			return -EINVAL;
		if (spa_config_key(c, v))
			return -EEXIST;
		k = &c->keys[c->nr_keys];
		if (abs_path(w[2], k->file, sizeof(k->file)) ||
		    (w[3] && abs_path(w[3], k->next, sizeof(k->next))))
			return -EINVAL;
		if (w[3] && !strcmp(w[2], w[3]))
			return -EINVAL;
		snprintf(k->name, sizeof(k->name), "%s", v);
		c->nr_keys++;
	} else if (!strcmp(key, "tunnel")) {
		return set_tunnel(c, v, w[2]);
	} else if (!strcmp(key, "tunnel_key")) {
		return abs_path(v, c->tunnel_key, sizeof(c->tunnel_key));
	} else if (!strcmp(key, "tunnel_if")) {
		return set_str(v, valid_ifname, c->tunnel_if,
			       sizeof(c->tunnel_if));
	} else if (!strcmp(key, "peer_tunnel")) {
		return add_tunnel(c, w);
	} else if (!strcmp(key, "peer_tunnel_psk")) {
		return add_psk(c, w);
	} else if (!strcmp(key, "wg_cli")) {
		return abs_path(v, c->wg_cli, sizeof(c->wg_cli));
	} else if (!strcmp(key, "ip_cli")) {
		return abs_path(v, c->ip_cli, sizeof(c->ip_cli));
	} else if (!strcmp(key, "nft_cli")) {
		return abs_path(v, c->nft_cli, sizeof(c->nft_cli));
	} else if (!strcmp(key, "borrow_on_demand")) {
		if (set_str(v, spu_valid_name, c->borrow_pool,
			    sizeof(c->borrow_pool)) ||
		    (w[2] && (spu_parse_size(w[2], SPA_SIZE_MAX, &n) || !n)))
			return -EINVAL;
		c->borrow_demand = true;
		c->borrow_max = w[2] ? n : 0;
	} else if (!strcmp(key, "borrow_threshold")) {
		return set_threshold(c, w);
	} else if (!strcmp(key, "peer")) {
		if (c->nr_peers >= SPA_PEERS_MAX)
			return -ENOSPC;
		p = &c->peers[c->nr_peers];
		if (!spa_valid_node(v) || !routable(w[2]) ||
		    set_port(w[3], &p->port))
			return -EINVAL;
		if (spa_find_named(c->peers, c->nr_peers, name, v))
			return -EEXIST;
		snprintf(p->name, sizeof(p->name), "%s", v);
		snprintf(p->addr, sizeof(p->addr), "%s", w[2]);
		c->nr_peers++;
	}
	return 0;
}

/* The first @bits bits of @a and @b are the same. */
static bool same_net(const u8 *a, const u8 *b, unsigned int bits)
{
	unsigned int i;

	for (i = 0; i < bits; i++)
		if ((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

/*
 * The tunnel lines together: all or none, every configured peer in the
 * tunnel, peers' tunnel addresses in this node's tunnel network and
 * distinct, grants exported on the tunnel address only.
 */
static int tunnel_finish(struct spa_config *c, char *why, size_t wlen)
{
	const struct spa_peer_tunnel_cfg *t, *u;
	u8 own[16], b[16];
	unsigned int i, j;
	int fam;

	if (!spa_tunnel_on(c)) {
		if (c->tunnel_key[0])
			return spu_reason(why, wlen, -EINVAL,
					  "'tunnel_key' needs 'tunnel ADDRESS/PREFIX PORT': this node's address in the tunnel and WireGuard's UDP port");
		if (c->nr_tunnels)
			return spu_reason(why, wlen, -EINVAL,
					  "'peer_tunnel %s' needs 'tunnel ADDRESS/PREFIX PORT': this node's address in the tunnel and WireGuard's UDP port",
					  c->tunnels[0].name);
		if (c->nr_psks)
			return spu_reason(why, wlen, -EINVAL,
					  "'peer_tunnel_psk %s' needs 'tunnel ADDRESS/PREFIX PORT': this node's address in the tunnel and WireGuard's UDP port",
					  c->psks[0].name);
		return 0;
	}
	for (i = 0; i < c->nr_psks; i++) {
		struct spa_peer_tunnel_cfg *pt;

		pt = spa_find_named(c->tunnels, c->nr_tunnels, name,
				    c->psks[i].name);
		if (!pt)
			return spu_reason(why, wlen, -EINVAL,
					  "'peer_tunnel_psk %s %s': no 'peer_tunnel %s ...' line (a preshared key is for a peer's tunnel)",
					  c->psks[i].name, c->psks[i].file,
					  c->psks[i].name);
		snprintf(pt->psk, sizeof(pt->psk), "%s", c->psks[i].file);
	}
	if (!c->tunnel_key[0])
		return spu_reason(why, wlen, -EINVAL,
				  "'tunnel' needs 'tunnel_key FILE': this node's WireGuard private key (wg genkey > FILE, mode 600)");
	if (c->export_addr[0] && strcmp(c->export_addr, c->tunnel_addr))
		return spu_reason(why, wlen, -EINVAL,
				  "'export %s %u': with 'tunnel', grants are exported on the tunnel address %s only",
				  c->export_addr, c->export_port, c->tunnel_addr);
	if (c->export2_addr[0] && strcmp(c->export2_addr, c->tunnel_addr))
		return spu_reason(why, wlen, -EINVAL,
				  "'export %s %u': with 'tunnel', grants are exported on the tunnel address %s only",
				  c->export2_addr, c->export2_port,
				  c->tunnel_addr);
	snprintf(c->export_addr, sizeof(c->export_addr), "%s", c->tunnel_addr);
	for (i = 0; i < c->nr_peers; i++)
		if (!spa_config_tunnel(c, c->peers[i].name))
			return spu_reason(why, wlen, -EINVAL,
					  "peer '%s' has no tunnel: add 'peer_tunnel %s PUBKEY ENDPOINT TUNNEL_ADDR' (with 'tunnel', every NVMe/TCP connection with a peer goes through WireGuard)",
					  c->peers[i].name, c->peers[i].name);
	fam = addr_bytes(c->tunnel_addr, own);
	for (i = 0; i < c->nr_tunnels; i++) {
		t = &c->tunnels[i];
		if (!strcmp(t->name, c->node))
			return spu_reason(why, wlen, -EINVAL,
					  "peer_tunnel '%s' names this node", c->node);
		if (addr_bytes(t->addr, b) != fam ||
		    !same_net(own, b, c->tunnel_prefix))
			return spu_reason(why, wlen, -EINVAL,
					  "peer_tunnel '%s': tunnel address %s is not in this node's tunnel network %s/%u",
					  t->name, t->addr, c->tunnel_addr,
					  c->tunnel_prefix);
		if (!memcmp(own, b, fam == AF_INET ? 4 : 16))
			return spu_reason(why, wlen, -EINVAL,
					  "peer_tunnel '%s': tunnel address %s is this node's own",
					  t->name, t->addr);
		for (j = 0; j < i; j++) {
			u = &c->tunnels[j];
			if (!strcmp(u->addr, t->addr) ||
			    !strcmp(u->pubkey, t->pubkey))
				return spu_reason(why, wlen, -EINVAL,
						  "peer_tunnel '%s' has the %s of peer_tunnel '%s'",
						  t->name,
						  strcmp(u->addr, t->addr) ?
						  "public key" : "tunnel address",
						  u->name);
		}
	}
	return 0;
}

/* Whether [@a, @a + @n) and [@b, @b + @n) share a number. */
static bool ranges_meet(unsigned int a, unsigned int b, unsigned int n)
{
	return a < b + n && b < a + n;
}

/*
 * With 'tunnel' each peer has ports of its own (spa_grant_slot()): the
 * TCP ports and nvmet port ids of each export line take one per
 * peer_tunnel line, within 65535, and the two lines' ranges do not meet.
 */
static int slots_finish(const struct spa_config *c, char *why, size_t wlen)
{
	unsigned int n = c->nr_tunnels;

	if (!spa_tunnel_on(c) || !n)
		return 0;
	if (c->export_port + n - 1 > 65535 || c->nvmet_port_id + n - 1 > 65535 ||
	    (c->export2_port && c->export2_port + n - 1 > 65535))
		return spu_reason(why, wlen, -EINVAL,
				  "with 'tunnel', each of the %u peers has export ports of its own: 'export ... %u' (nvmet port id %u)%s would need ports past 65535",
				  n, c->export_port, c->nvmet_port_id,
				  c->export2_port ? " or the second 'export'" : "");
	if (c->export2_port &&
	    (ranges_meet(c->export_port, c->export2_port, n) ||
	     ranges_meet(c->nvmet_port_id, c->nvmet_port_id2, n)))
		return spu_reason(why, wlen, -EINVAL,
				  "with 'tunnel', each of the %u peers has export ports of its own: the first export takes TCP ports %u..%u (nvmet port ids %u..%u), the second %u..%u (%u..%u): they overlap",
				  n, c->export_port, c->export_port + n - 1,
				  c->nvmet_port_id, c->nvmet_port_id + n - 1,
				  c->export2_port, c->export2_port + n - 1,
				  c->nvmet_port_id2, c->nvmet_port_id2 + n - 1);
	return 0;
}

/* Borrowing on demand is for this node's own pool, and the threshold too. */
static int demand_finish(const struct spa_config *c, char *why, size_t wlen)
{
	if (c->borrow_demand && strcmp(c->borrow_pool, c->pool))
		return spu_reason(why, wlen, -EINVAL,
				  "'borrow_on_demand %s': pool %s is not this node's 'pool' (%s): the agent borrows into that pool only",
				  c->borrow_pool, c->borrow_pool,
				  c->pool[0] ? c->pool : "not set");
	if (c->threshold_pool[0] &&
	    (!c->borrow_demand || strcmp(c->threshold_pool, c->borrow_pool)))
		return spu_reason(why, wlen, -EINVAL,
				  "'borrow_threshold %s' needs 'borrow_on_demand %s': the pool must allow borrowing",
				  c->threshold_pool, c->threshold_pool);
	if (c->threshold_pool[0] && !c->heartbeat)
		return spu_reason(why, wlen, -EINVAL,
				  "'borrow_threshold %s' needs heartbeats: the daemon checks the pool every 'heartbeat' seconds, and it is 0",
				  c->threshold_pool);
	return 0;
}

int spa_demand_allowed(const struct spa_config *c, const char *pool, u64 size,
		       u64 borrowed, char *why, size_t wlen)
{
	char a[32], b[32];

	if (!c->borrow_demand || strcmp(c->borrow_pool, pool))
		return spu_reason(why, wlen, -EPERM,
				  "pool %s does not allow borrowing on demand (no 'borrow_on_demand %s' in %s)",
				  pool, pool, c->path);
	if (c->borrow_max && (borrowed > c->borrow_max ||
			      size > c->borrow_max - borrowed)) {
		spu_format_size(borrowed, true, a, sizeof(a));
		spu_format_size(c->borrow_max, true, b, sizeof(b));
		return spu_reason(why, wlen, -EDQUOT,
				  "borrowing %llu bytes more than the %s borrowed now would pass 'borrow_on_demand %s %s'",
				  (unsigned long long)size, a, pool, b);
	}
	return 0;
}

u64 spa_demand_level(const struct spa_config *c, u64 total_bytes)
{
	if (!c->threshold_pool[0])
		return 0;
	if (c->borrow_below_pct)
		return total_bytes / 100 * c->borrow_below_pct +
		       total_bytes % 100 * c->borrow_below_pct / 100;
	return c->borrow_below;
}

/* Checks what needs the whole file, and fills the derived defaults. */
static int finish(struct spa_config *c, char *why, size_t wlen)
{
	unsigned int i;
	int ret;

	if (!c->node[0])
		return spu_reason(why, wlen, -EINVAL, "'node' is not set");
	if (!c->listen_addr[0])
		return spu_reason(why, wlen, -EINVAL, "'listen' is not set");
	if (!c->advertise[0]) {
		if (wildcard(c->listen_addr))
			return spu_reason(why, wlen, -EINVAL,
					  "'listen %s' needs 'advertise ADDRESS': the address peers reach this node at",
					  c->listen_addr);
		snprintf(c->advertise, sizeof(c->advertise), "%s",
			 c->listen_addr);
	}
	ret = tunnel_finish(c, why, wlen);
	if (ret)
		return ret;
	if (!c->export_addr[0])
		snprintf(c->export_addr, sizeof(c->export_addr), "%s",
			 c->advertise);
	if (!c->nvmet_port_id)
		c->nvmet_port_id = c->export_port;
	if (c->export2_port) {
		c->nvmet_port_id2 = c->export2_port;
		if (c->export2_port == c->export_port &&
		    !strcmp(c->export2_addr, c->export_addr))
			return spu_reason(why, wlen, -EINVAL,
					  "the second 'export %s %u' is the first one again",
					  c->export2_addr, c->export2_port);
		if (c->nvmet_port_id2 == c->nvmet_port_id)
			return spu_reason(why, wlen, -EINVAL,
					  "the second export's nvmet port id (its TCP port, %u) is the first's nvmet_port_id",
					  c->nvmet_port_id2);
	}
	ret = slots_finish(c, why, wlen);
	if (ret)
		return ret;
	if (c->lend < 0)
		c->lend = c->pool[0] ? 1 : 0;
	if (c->lend && !c->pool[0])
		return spu_reason(why, wlen, -EINVAL,
				  "'lend yes' needs 'pool': the pool to lend from");
	for (i = 0; i < c->nr_peers; i++) {
		if (!strcmp(c->peers[i].name, c->node))
			return spu_reason(why, wlen, -EINVAL,
					  "peer '%s' has this node's own name",
					  c->node);
		if (!spa_config_key(c, c->peers[i].name))
			return spu_reason(why, wlen, -EINVAL,
					  "peer '%s' has no key: add 'peer_key %s FILE' (slicepool-agent keygen FILE, the same key on both nodes)",
					  c->peers[i].name, c->peers[i].name);
	}
	for (i = 0; i < c->nr_keys; i++)
		if (!strcmp(c->keys[i].name, c->node))
			return spu_reason(why, wlen, -EINVAL,
					  "peer_key '%s' names this node", c->node);
	ret = demand_finish(c, why, wlen);
	if (ret)
		return ret;
	if (!c->heartbeat_timeout)
		c->heartbeat_timeout = 3 * c->heartbeat;
	else if (c->heartbeat && c->heartbeat_timeout <= c->heartbeat)
		return spu_reason(why, wlen, -EINVAL,
				  "'heartbeat_timeout %u' must be longer than 'heartbeat %u'",
				  c->heartbeat_timeout, c->heartbeat);
	if (c->lease && !c->heartbeat)
		return spu_reason(why, wlen, -EINVAL,
				  "'lease %u' needs heartbeats ('heartbeat 0' turns them off)",
				  c->lease);
	if (c->lease && c->lease <= c->heartbeat_timeout)
		return spu_reason(why, wlen, -EINVAL,
				  "'lease %u' must be longer than 'heartbeat_timeout %u'",
				  c->lease, c->heartbeat_timeout);
	return 0;
}

int spa_config_parse(const char *text, struct spa_config *c, char *why,
		     size_t wlen)
{
	char line[SPA_LINE_MAX + 1], *w[SPA_WORDS_MAX + 1], *s, *save;
	unsigned int seen[ARRAY_SIZE(keys)] = { 0 };
	unsigned int lineno = 0, nw, k;
	const char *p = text, *nl;
	size_t len;
	int ret;

	while (*p) {
		lineno++;
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > SPA_LINE_MAX)
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: longer than %d characters",
					  lineno, SPA_LINE_MAX);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		s = strchr(line, '#');
		if (s)
			*s = '\0';
		nw = 0;
		for (s = strtok_r(line, " \t\r", &save); s;
		     s = strtok_r(NULL, " \t\r", &save)) {
			if (nw == SPA_WORDS_MAX)
				return spu_reason(why, wlen, -EINVAL,
						  "line %u: too many words", lineno);
			w[nw++] = s;
		}
		if (!nw)
			continue;
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (!strcmp(w[0], keys[k].key))
				break;
		if (k == ARRAY_SIZE(keys))
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: unknown key '%s'", lineno, w[0]);
		if (nw < keys[k].words + 1 ||
		    nw > keys[k].words + 1 + keys[k].opt)
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: '%s' takes %s", lineno, w[0],
					  keys[k].what);
		w[nw] = NULL;
		if (seen[k]++ && strcmp(w[0], "peer") &&
		    strcmp(w[0], "peer_key") && strcmp(w[0], "peer_tunnel") &&
		    strcmp(w[0], "peer_tunnel_psk") &&
		    (strcmp(w[0], "export") || seen[k] > 2))
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: '%s' given %s", lineno, w[0],
					  strcmp(w[0], "export") ? "twice" :
					  "more than twice (two paths)");
		ret = apply(c, k, w);
		if (ret == -EOPNOTSUPP)
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: 'key_file' (one key shared by every node) is no longer read: give each peer its own key with 'peer_key NAME FILE' (to convert, write 'peer_key NAME %s' for each peer, then replace it pair by pair with 'slicepool-agent keygen'; see Documentation/nvmet-remote-ns.rst)",
					  lineno, w[1]);
		if (ret == -EEXIST)
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: %s '%s' given twice", lineno,
					  w[0], w[1]);
		if (ret == -ENOSPC)
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: more than %d peers", lineno,
					  SPA_PEERS_MAX);
		if (ret)
			return spu_reason(why, wlen, -EINVAL,
					  "line %u: bad value for '%s': it takes %s",
					  lineno, w[0], keys[k].what);
	}
	return finish(c, why, wlen);
}

int spa_config_load(const char *path, struct spa_config *c, char *why,
		    size_t wlen)
{
	char *text, tmp[512];
	ssize_t n;
	size_t have = 0;
	int fd, ret;

	spa_config_defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spu_reason(why, wlen, -errno, "cannot open %s: %s", path,
				  strerror(errno));
	text = malloc(SPA_CONFIG_MAX + 1);
	if (!text) {
		close(fd);
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	}
	while ((n = read(fd, text + have, SPA_CONFIG_MAX + 1 - have)) > 0) {
		have += n;
		if (have > SPA_CONFIG_MAX)
			break;
	}
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (!ret && have > SPA_CONFIG_MAX)
		ret = spu_reason(why, wlen, -EFBIG, "%s: larger than %d bytes",
				 path, SPA_CONFIG_MAX);
	else if (ret)
		spu_reason(why, wlen, ret, "cannot read %s: %s", path,
			   strerror(-ret));
	if (!ret) {
		text[have] = '\0';
		if (strlen(text) != have)
			ret = spu_reason(why, wlen, -EINVAL, "%s: contains a NUL byte",
					 path);
	}
	if (!ret) {
		ret = spa_config_parse(text, c, tmp, sizeof(tmp));
		if (ret)
			spu_reason(why, wlen, ret, "%s: %s", path, tmp);
	}
	free(text);
	return ret;
}

/* The first word of @path's first line; 0 or -errno. */
static int first_word(const char *path, char *buf, size_t len)
{
	int ret = spu_read_line(path, buf, len);

	buf[strcspn(buf, " \t")] = '\0';
	return ret;
}

int spa_config_host_identity(struct spa_config *c, char *why, size_t wlen)
{
	char buf[SPA_NQN_MAX + 2];

	if (!c->hostnqn[0]) {
		if (first_word("/etc/nvme/hostnqn", buf, sizeof(buf)) ||
		    !spa_valid_nqn(buf))
			return spu_reason(why, wlen, -EINVAL,
					  "no 'hostnqn' in %s and no valid /etc/nvme/hostnqn (nvme gen-hostnqn > /etc/nvme/hostnqn)",
					  c->path);
		spu_strcpy(c->hostnqn, sizeof(c->hostnqn), buf);
	}
	if (!c->hostid[0] && !first_word("/etc/nvme/hostid", buf, sizeof(buf)) &&
	    spu_valid_uuid(buf))
		spu_strcpy(c->hostid, sizeof(c->hostid), buf);
	return 0;
}
