// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the WireGuard tunnel of the data path
 *
 * With "tunnel ADDRESS/PREFIX PORT" every NVMe/TCP connection between
 * two peers goes through one WireGuard interface (tunnel_if, "spwg0"):
 * one WireGuard peer per "peer_tunnel" line, its allowed IPs its tunnel
 * address alone, so a packet that arrives from a peer's tunnel address
 * was sealed with that peer's key (Curve25519, per pair of nodes).  The
 * lender's nvmet port listens on its tunnel address only; the borrower
 * connects to the lender's tunnel address (borrower.c) after a probe
 * that the tunnel carries traffic (a peer without it gets a refusal
 * naming the handshake, not a hang).  See
 * Documentation/nvmet-remote-ns.rst, "Tunnel".
 *
 * The interface is driven with the stock tools, ip (iproute2) and wg
 * (wireguard-tools), run like nvme-cli (host.c: an absolute path, an
 * argument vector, no shell), with values the configuration parser
 * checked.  Genetlink directly would save two programs but repeat what
 * they do (and their error texts), for a step taken once at start.
 *
 * The tunnel says who sent a packet (its source address inside the
 * tunnel), not where it may go: every peer in it reaches every port of
 * the tunnel address.  So each borrower gets export ports of its own
 * (spa_grant_slot()), and the guard, one nftables table of the agent's
 * (nft, run the same way), lets only the borrower's own tunnel address,
 * on the tunnel interface, reach them; the lender rewrites it whenever
 * its grants change (lender.c).  A peer that says another's host NQN
 * then gets a reset, not its namespace.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent.h"

#define SPA_TUNNEL_CMD_S	10	/* seconds for one ip or wg command */
#define SPA_WG_KEEPALIVE	"25"	/* seconds: keeps the handshake fresh */
#define SPA_WG_NO_PSK		"/dev/null"	/* wg: no preshared key */

/* Runs @argv; 0, or the reason naming the command and its output. */
static int run(const char *const argv[], char *why, size_t wlen)
{
	char out[512], cmd[256];
	size_t n = 0;
	int ret, i;

	ret = spa_run(argv, SPA_TUNNEL_CMD_S, out, sizeof(out));
	if (!ret)
		return 0;
	cmd[0] = '\0';
	for (i = 0; argv[i] && n < sizeof(cmd); i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "",
			      argv[i]);
	return spu_reason(why, wlen, ret < 0 ? ret : -EIO, "%s failed (%s): %s",
			  cmd, ret < 0 ? strerror(-ret) : "non-zero exit",
			  out[0] ? out : "no output");
}

/* Runs @prog with the arguments after it, up to a NULL (run()). */
static int runv(char *why, size_t wlen, const char *prog, ...)
	__attribute__((sentinel));

static int runv(char *why, size_t wlen, const char *prog, ...)
{
	const char *argv[16];
	unsigned int n = 0;
	va_list ap;

	argv[n++] = prog;
	va_start(ap, prog);
	do {
		argv[n] = va_arg(ap, const char *);
	} while (argv[n] && ++n < ARRAY_SIZE(argv) - 1);
	va_end(ap);
	argv[n] = NULL;
	return run(argv, why, wlen);
}

/* "wg show <tunnel_if> @what" into @out; its exit status (spa_run()). */
static int wg_show(const struct spa_config *c, const char *what, char *out,
		   size_t len)
{
	const char *argv[5];

	argv[0] = c->wg_cli;
	argv[1] = "show";
	argv[2] = c->tunnel_if;
	argv[3] = what;
	argv[4] = NULL;
	return spa_run(argv, SPA_TUNNEL_CMD_S, out, len);
}

/* 1 if the interface exists, 0 if not. */
static int if_exists(const struct spa_config *c)
{
	char path[PATH_MAX];

	if (spu_path(path, sizeof(path), "/sys/class/net/%s", c->tunnel_if))
		return 0;
	return spu_exists(path);
}

int spa_tunnel_check(const struct spa_config *c, char *why, size_t wlen)
{
	char path[PATH_MAX], line[128];
	FILE *f;
	bool wg = false;

	if (!if_exists(c))
		return spu_reason(why, wlen, -ENODEV,
				  "the tunnel interface %s does not exist (the daemon sets it up: slicepool-agent daemon)",
				  c->tunnel_if);
	if (spu_path(path, sizeof(path), "/sys/class/net/%s/uevent",
		     c->tunnel_if))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strcmp(line, "DEVTYPE=wireguard\n"))
			wg = true;
	if (f)
		fclose(f);
	if (!wg)
		return spu_reason(why, wlen, -EEXIST,
				  "interface %s exists and is not a WireGuard interface (tunnel_if names another)",
				  c->tunnel_if);
	return 0;
}

/*
 * Key file @path of line @line holds a WireGuard key: 0 and the key's
 * SHA-256 in @sum, or the reason.  @psk: a preshared key, exactly the key
 * and an optional newline; else a private key, its first line (as 'wg'
 * reads it).
 */
static int read_wg_key(const char *line, const char *path, bool psk,
		       u8 sum[SPA_SUM_LEN], char *why, size_t wlen)
{
	static const char *const what[] = {
		"WireGuard private key (one line of base64, as 'wg genkey' writes it)",
		"WireGuard preshared key (exactly 44 characters of base64 for 32 bytes, and a newline: slicepool-agent keygen --psk FILE)",
	};
	char text[4 * SPA_WG_KEY_B64], tmp[384];
	ssize_t n;
	bool ok = true;

	n = spa_secret_read(path, text, sizeof(text), tmp, sizeof(tmp));
	if (n < 0)
		return spu_reason(why, wlen, n, "%s: %s", line, tmp);
	if (psk)
		ok = n == SPA_WG_KEY_B64 ||
		     (n == SPA_WG_KEY_B64 + 1 && text[n - 1] == '\n');
	text[strcspn(text, "\n")] = '\0';
	ok = ok && spa_valid_wg_key(text);
	if (ok && !EVP_Digest(text, SPA_WG_KEY_B64, sum, NULL, EVP_sha256(),
			      NULL))
		ok = false;
	OPENSSL_cleanse(text, sizeof(text));
	if (!ok)
		return spu_reason(why, wlen, -EINVAL, "%s: %s is not a %s", line,
				  path, what[psk]);
	return 0;
}

int spa_tunnel_state_read(struct spa_tunnel_state *st,
			  const struct spa_config *c, char *why, size_t wlen)
{
	const struct spa_peer_tunnel_cfg *t;
	char line[SPA_NODE_MAX + 24];
	unsigned int i;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = read_wg_key("tunnel_key", c->tunnel_key, false, st->key_sum, why,
			  wlen);
	for (i = 0; !ret && i < c->nr_tunnels; i++) {
		t = &c->tunnels[i];
		snprintf(line, sizeof(line), "peer_tunnel_psk %s", t->name);
		if (t->psk[0])
			ret = read_wg_key(line, t->psk, true, st->psk_sum[i], why,
					  wlen);
	}
	if (ret)
		return ret;
	st->cfg = *c;
	return 0;
}

/* Removes the WireGuard peers that no peer_tunnel line names. */
static int drop_strangers(const struct spa_config *c, char *why, size_t wlen)
{
	char out[SPA_PEERS_MAX * (SPA_WG_KEY_B64 + 1) * 2], *s, *save;
	unsigned int i;
	int ret;

	ret = wg_show(c, "peers", out, sizeof(out));
	if (ret)
		return spu_reason(why, wlen, ret < 0 ? ret : -EIO,
				  "wg show %s peers failed: %s", c->tunnel_if,
				  out[0] ? out : "no output");
	for (s = strtok_r(out, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < c->nr_tunnels; i++)
			if (!strcmp(c->tunnels[i].pubkey, s))
				break;
		if (i < c->nr_tunnels || !spa_valid_wg_key(s))
			continue;
		ret = runv(why, wlen, c->wg_cli, "set", c->tunnel_if, "peer", s,
			   "remove", NULL);
		if (ret)
			return ret;
		spa_info("tunnel %s: removed WireGuard peer %s (no peer_tunnel names it)",
			 c->tunnel_if, s);
	}
	return 0;
}

/* A new "wg set <tunnel_if>" (of peer @pub if not NULL) at the end of @out. */
static struct spa_wg_cmd *cmd_new(struct spa_wg_cmds *out,
				  const struct spa_config *c, const char *pub)
{
	struct spa_wg_cmd *cmd = &out->c[out->n++];

	memset(cmd, 0, sizeof(*cmd));
	cmd->argv[cmd->argc++] = c->wg_cli;
	cmd->argv[cmd->argc++] = "set";
	cmd->argv[cmd->argc++] = c->tunnel_if;
	if (pub) {
		cmd->argv[cmd->argc++] = "peer";
		cmd->argv[cmd->argc++] = pub;
	}
	return cmd;
}

/* Appends "@opt @val" to @cmd (SPA_WG_ARGV holds the longest). */
static void cmd_arg(struct spa_wg_cmd *cmd, const char *opt, const char *val)
{
	cmd->argv[cmd->argc++] = opt;
	if (val)
		cmd->argv[cmd->argc++] = val;
}

/* The whole of peer @t: endpoint, allowed IPs, keepalive, preshared key. */
static void peer_full(struct spa_wg_cmds *out, const struct spa_config *c,
		      const struct spa_peer_tunnel_cfg *t)
{
	struct spa_wg_cmd *cmd = cmd_new(out, c, t->pubkey);

	snprintf(cmd->allowed, sizeof(cmd->allowed), "%s/%u", t->addr,
		 strchr(t->addr, ':') ? 128 : 32);
	cmd_arg(cmd, "endpoint", t->endpoint);
	cmd_arg(cmd, "allowed-ips", cmd->allowed);
	cmd_arg(cmd, "persistent-keepalive", SPA_WG_KEEPALIVE);
	cmd_arg(cmd, "preshared-key", t->psk[0] ? t->psk : SPA_WG_NO_PSK);
}

void spa_wg_cmd_str(const struct spa_wg_cmd *cmd, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	if (!len)
		return;
	buf[0] = '\0';
	for (i = 0; i < cmd->argc && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "",
			      cmd->argv[i]);
}

int spa_tunnel_up(const struct spa_config *c, struct spa_tunnel_state *st,
		  char *why, size_t wlen)
{
	char port[8], cidr[SPA_ADDR_MAX + 8];
	struct spa_tunnel_state *mine = NULL;
	struct spa_wg_cmds *cmds;
	struct spa_wg_cmd *cmd;
	unsigned int i;
	int ret;

	cmds = calloc(1, sizeof(*cmds));
	if (!st)
		mine = malloc(sizeof(*st));
	if (mine)
		st = mine;
	if (!cmds || !st) {
		free(cmds);
		free(mine);
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	}
	ret = spa_tunnel_state_read(st, c, why, wlen);
	free(mine);
	if (!ret && !if_exists(c))
		ret = runv(why, wlen, c->ip_cli, "link", "add", "dev",
			   c->tunnel_if, "type", "wireguard", NULL);
	if (!ret)
		ret = spa_tunnel_check(c, why, wlen);
	snprintf(port, sizeof(port), "%u", c->tunnel_port);
	cmd = cmd_new(cmds, c, NULL);
	cmd_arg(cmd, "private-key", c->tunnel_key);
	cmd_arg(cmd, "listen-port", port);
	for (i = 0; i < c->nr_tunnels; i++)
		peer_full(cmds, c, &c->tunnels[i]);
	for (i = 0; !ret && i < cmds->n; i++)
		ret = run(cmds->c[i].argv, why, wlen);
	free(cmds);
	if (!ret)
		ret = drop_strangers(c, why, wlen);
	snprintf(cidr, sizeof(cidr), "%s/%u", c->tunnel_addr, c->tunnel_prefix);
	if (!ret)
		ret = runv(why, wlen, c->ip_cli, "address", "replace", cidr,
			   "dev", c->tunnel_if, NULL);
	if (!ret)
		ret = runv(why, wlen, c->ip_cli, "link", "set", c->tunnel_if,
			   "up", NULL);
	if (ret)
		return ret;
	spa_info("tunnel %s up: %s, WireGuard on UDP port %u, %u peer(s)",
		 c->tunnel_if, cidr, c->tunnel_port, c->nr_tunnels);
	return 0;
}

/* The index of @name in @c's peer_tunnel lines, or -1. */
static int tunnel_index(const struct spa_config *c, const char *name)
{
	const struct spa_peer_tunnel_cfg *t = spa_config_tunnel(c, name);

	return t ? (int)(t - c->tunnels) : -1;
}

/* The peer_tunnel line of @c with tunnel address @addr, or NULL. */
static const struct spa_peer_tunnel_cfg *
tunnel_by_addr(const struct spa_config *c, const char *addr)
{
	unsigned int i;

	for (i = 0; i < c->nr_tunnels; i++)
		if (!strcmp(c->tunnels[i].addr, addr))
			return &c->tunnels[i];
	return NULL;
}

/* Peer @name has a peer_tunnel line in @o and @n, with other addresses. */
static bool moved(const struct spa_config *o, const struct spa_config *n,
		  const char *name)
{
	const struct spa_peer_tunnel_cfg *t = spa_config_tunnel(o, name);
	const struct spa_peer_tunnel_cfg *u = spa_config_tunnel(n, name);

	return t && u && strcmp(t->addr, u->addr);
}

/*
 * What spa_tunnel_diff() refuses: a change a restart takes, or an
 * address taken over unsafely; 0 if none.
 */
static int diff_refused(const struct spa_config *o, const struct spa_config *n,
			char *why, size_t wlen)
{
	const struct spa_peer_tunnel_cfg *t, *u;
	unsigned int i;

	if (strcmp(o->tunnel_addr, n->tunnel_addr) ||
	    o->tunnel_prefix != n->tunnel_prefix ||
	    o->tunnel_port != n->tunnel_port)
		return spu_reason(why, wlen, -EINVAL,
				  "'tunnel %s/%u %u' (in force: '%s/%u %u'): this node's tunnel address and WireGuard port are read at start only: restart the agent for it",
				  n->tunnel_addr, n->tunnel_prefix, n->tunnel_port,
				  o->tunnel_addr, o->tunnel_prefix, o->tunnel_port);
	if (strcmp(o->tunnel_if, n->tunnel_if))
		return spu_reason(why, wlen, -EINVAL,
				  "'tunnel_if %s' (in force: %s): the interface is read at start only: restart the agent for it",
				  n->tunnel_if, o->tunnel_if);
	/*
	 * A peer's new tunnel address may not be one another peer that
	 * moves has in force: until the guard follows (after the wg
	 * commands), that peer's export ports still admit it.
	 */
	for (i = 0; i < n->nr_tunnels; i++) {
		u = &n->tunnels[i];
		t = spa_config_tunnel(o, u->name);
		if (t && !strcmp(t->addr, u->addr))
			continue;	/* not new, not moved */
		t = tunnel_by_addr(o, u->addr);
		if (t && strcmp(t->name, u->name) && moved(o, n, t->name))
			return spu_reason(why, wlen, -EINVAL,
					  "'peer_tunnel %s': tunnel address %s is %s's in force, and %s moves: %s's export ports admit it until the exports' guard follows: move %s first, then send SIGHUP again",
					  u->name, u->addr, t->name, t->name,
					  t->name, t->name);
	}
	return 0;
}

int spa_tunnel_diff(const struct spa_tunnel_state *old,
		    const struct spa_tunnel_state *new,
		    struct spa_wg_cmds *out, char *why, size_t wlen)
{
	const struct spa_config *o = &old->cfg, *n = &new->cfg;
	const struct spa_peer_tunnel_cfg *t, *u;
	struct spa_wg_cmd *cmd;
	unsigned int i;
	int j, ret;

	out->n = 0;
	ret = diff_refused(o, n, why, wlen);
	if (ret)
		return ret;
	if (old->unsure || memcmp(old->key_sum, new->key_sum, SPA_SUM_LEN))
		cmd_arg(cmd_new(out, n, NULL), "private-key", n->tunnel_key);
	/*
	 * A peer_tunnel line removed (SIGHUP checked that no grant with
	 * that peer is in use): its WireGuard peer goes.  A new public key
	 * is another WireGuard peer: the old one goes too.  A new tunnel
	 * address: the peer's tunnel is torn down (its session ends) and
	 * made again with the address as its only allowed IP.
	 */
	for (i = 0; i < o->nr_tunnels; i++) {
		t = &o->tunnels[i];
		u = spa_config_tunnel(n, t->name);
		if (!u || strcmp(t->pubkey, u->pubkey) ||
		    strcmp(t->addr, u->addr))
			cmd_arg(cmd_new(out, n, t->pubkey), "remove", NULL);
	}
	/* Then each peer added, whose key or address changed, whole. */
	for (i = 0; i < n->nr_tunnels; i++) {
		u = &n->tunnels[i];
		j = tunnel_index(o, u->name);
		t = j < 0 ? NULL : &o->tunnels[j];
		if (!t || old->unsure || strcmp(t->pubkey, u->pubkey) ||
		    strcmp(t->addr, u->addr)) {
			peer_full(out, n, u);
			continue;
		}
		cmd = NULL;
		if (strcmp(t->endpoint, u->endpoint)) {
			cmd = cmd_new(out, n, u->pubkey);
			cmd_arg(cmd, "endpoint", u->endpoint);
		}
		if (!t->psk[0] != !u->psk[0] ||
		    memcmp(old->psk_sum[j], new->psk_sum[i], SPA_SUM_LEN)) {
			if (!cmd)
				cmd = cmd_new(out, n, u->pubkey);
			cmd_arg(cmd, "preshared-key",
				u->psk[0] ? u->psk : SPA_WG_NO_PSK);
		}
	}
	return 0;
}

int spa_tunnel_apply(struct spa_tunnel_state *live,
		     const struct spa_tunnel_state *next,
		     const struct spa_wg_cmds *cmds, char *why, size_t wlen)
{
	char line[512];
	unsigned int i;
	int ret;

	for (i = 0; i < cmds->n; i++) {
		spa_wg_cmd_str(&cmds->c[i], line, sizeof(line));
		ret = run(cmds->c[i].argv, why, wlen);
		if (ret) {
			live->unsure = true;
			return ret;
		}
		spa_info("tunnel %s: %s", next->cfg.tunnel_if, line);
	}
	*live = *next;
	live->unsure = false;
	return 0;
}

int spa_tunnel_down(const struct spa_config *c, char *why, size_t wlen)
{
	int ret;

	if (!if_exists(c))
		return 0;
	ret = runv(why, wlen, c->ip_cli, "link", "del", "dev", c->tunnel_if,
		   NULL);
	if (!ret)
		spa_info("tunnel %s removed", c->tunnel_if);
	return ret;
}

const char *spa_tunnel_peer_addr(const struct spa_config *c, const char *peer,
				 const char *plain)
{
	const struct spa_peer_tunnel_cfg *t;

	if (!spa_tunnel_on(c))
		return plain;
	t = spa_config_tunnel(c, peer);
	return t ? t->addr : NULL;
}

/* What WireGuard says of the last handshake with @t, in words. */
static void handshake_said(const struct spa_config *c,
			   const struct spa_peer_tunnel_cfg *t, char *buf,
			   size_t len)
{
	char out[SPA_PEERS_MAX * 80], *s, *save, *tab;
	unsigned long long ts = 0;
	bool found = false;

	if (wg_show(c, "latest-handshakes", out, sizeof(out))) {
		snprintf(buf, len, "wg show %s failed", c->tunnel_if);
		return;
	}
	for (s = strtok_r(out, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		tab = strchr(s, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		if (strcmp(s, t->pubkey))
			continue;
		found = true;
		ts = strtoull(tab + 1, NULL, 10);
	}
	if (!found)
		snprintf(buf, len, "%s is not a peer of interface %s",
			 t->name, c->tunnel_if);
	else if (!ts)
		snprintf(buf, len,
			 "no WireGuard handshake with %s (%s): the keys (tunnel_key, peer_tunnel) or the endpoints do not match on the two nodes, or %s's tunnel is not up",
			 t->name, t->endpoint, t->name);
	else
		snprintf(buf, len, "the last WireGuard handshake with %s was %llu s ago",
			 t->name, (unsigned long long)(spa_now_ms() / 1000) - ts);
}

int spa_tunnel_probe(const struct spa_config *c, const char *peer,
		     const char *addr, u16 port, unsigned int timeout_s,
		     char *why, size_t wlen)
{
	const struct spa_peer_tunnel_cfg *t = spa_config_tunnel(c, peer);
	char tmp[256], said[384];
	int fd, ret;

	if (!t)
		return spu_reason(why, wlen, -ENOKEY,
				  "%s has no tunnel here (peer_tunnel %s ...)",
				  peer, peer);
	ret = spa_tunnel_check(c, why, wlen);
	if (ret)
		return ret;
	fd = spa_connect_to(addr, port, timeout_s, tmp, sizeof(tmp));
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	handshake_said(c, t, said, sizeof(said));
	return spu_reason(why, wlen, fd,
			  "the tunnel to %s does not carry its export: %s; %s",
			  peer, tmp, said);
}

/* ------------------------------------------------------- the guard */

#define SPA_GUARD_SCRIPT_MAX	(32 << 10)

int spa_guard_add(struct spa_guard *g, u16 port, const char *peer,
		  const char *peer_addr)
{
	struct spa_guard_port *p;
	unsigned int i;

	for (i = 0; i < g->n; i++) {
		p = &g->p[i];
		if (p->port != port)
			continue;
		if (strcmp(p->peer_addr, peer_addr))
			p->peer_addr[0] = '\0';
		return 0;
	}
	if (g->n >= SPA_GUARD_MAX)
		return -ENOSPC;
	p = &g->p[g->n++];
	p->port = port;
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	snprintf(p->peer_addr, sizeof(p->peer_addr), "%s", peer_addr);
	return 0;
}

/* Appends to @buf (of @len) at *@n; *@n counts past @len when it is full. */
static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__printf(4, 5);

static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf + (*n < len ? *n : len - 1), *n < len ? len - *n : 1,
		      fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += k;
}

/*
 * One table of the agent's own, replaced whole in one transaction (the
 * "table; delete table; table { ... }" idiom of nft -f: it exists before
 * it is deleted, so the script works whether it was there or not).  Per
 * port: what comes from the borrower's tunnel address on the tunnel
 * interface goes on to nvmet; anything else is reset, so a connection
 * from another peer in the tunnel, or from outside it to the tunnel
 * address (a host routes any local address), is refused at once.  The
 * interface is matched by name (iifname), not index: the rule holds for
 * an interface made again after the table was loaded (a restart).
 */
int spa_guard_script(const struct spa_config *c, const struct spa_guard *g,
		     char *buf, size_t len)
{
	const char *fam = strchr(c->tunnel_addr, ':') ? "ip6" : "ip";
	const struct spa_guard_port *p;
	unsigned int i;
	size_t n = 0;

	if (!len)
		return -ENOSPC;
	put(buf, len, &n,
	    "# slicepool-agent: who reaches the exports (Documentation/nvmet-remote-ns.rst, \"Tunnel\")\n"
	    "table inet %s\ndelete table inet %s\n",
	    SPA_GUARD_TABLE, SPA_GUARD_TABLE);
	if (g->n) {
		put(buf, len, &n,
		    "table inet %s {\n\tchain exports {\n\t\ttype filter hook input priority 0; policy accept;\n",
		    SPA_GUARD_TABLE);
	}
	for (i = 0; i < g->n; i++) {
		p = &g->p[i];
		if (p->peer_addr[0])
			put(buf, len, &n,
			    "\t\t%s daddr %s tcp dport %u iifname \"%s\" %s saddr %s accept comment \"%s\"\n",
			    fam, c->tunnel_addr, p->port, c->tunnel_if, fam,
			    p->peer_addr, p->peer);
		put(buf, len, &n,
		    "\t\t%s daddr %s tcp dport %u reject with tcp reset\n",
		    fam, c->tunnel_addr, p->port);
	}
	if (g->n)
		put(buf, len, &n, "\t}\n}\n");
	return n < len ? (int)n : -ENOSPC;
}

int spa_guard_apply(const struct spa_config *c, const struct spa_guard *g,
		    char *why, size_t wlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], *buf;
	FILE *f;
	int n, ret;

	if (access(c->nft_cli, X_OK))
		return spu_reason(why, wlen, -ENOENT,
				  "nft_cli %s: %s (nftables: with 'tunnel', each borrower's export ports are guarded by an nftables rule)",
				  c->nft_cli, strerror(errno));
	if (spu_path(path, sizeof(path), "%s/guard.nft", c->state_dir))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	buf = malloc(SPA_GUARD_SCRIPT_MAX);
	if (!buf)
		return -ENOMEM;
	n = spa_guard_script(c, g, buf, SPA_GUARD_SCRIPT_MAX);
	ret = n < 0 ? n : 0;
	f = ret ? NULL : fopen(tmp, "we");
	if (!ret && !f)
		ret = -errno;
	if (f) {
		if (fwrite(buf, 1, n, f) != (size_t)n)
			ret = -EIO;
		if (fclose(f) && !ret)
			ret = -EIO;
	}
	free(buf);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		return spu_reason(why, wlen, ret, "cannot write %s: %s", path,
				  strerror(-ret));
	return runv(why, wlen, c->nft_cli, "-f", path, NULL);
}
