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
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent.h"

#define SPA_TUNNEL_CMD_S	10	/* seconds for one ip or wg command */
#define SPA_WG_KEEPALIVE	"25"	/* seconds: keeps the handshake fresh */

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

/* The private key file is a secret and a WireGuard key. */
static int check_key(const struct spa_config *c, char *why, size_t wlen)
{
	char text[SPA_WG_KEY_B64 + 8];
	ssize_t n;

	n = spa_secret_read(c->tunnel_key, text, sizeof(text), why, wlen);
	if (n < 0)
		return n;
	text[strcspn(text, "\n")] = '\0';
	n = spa_valid_wg_key(text);
	OPENSSL_cleanse(text, sizeof(text));
	if (!n)
		return spu_reason(why, wlen, -EINVAL,
				  "tunnel_key %s is not a WireGuard private key (one line of base64, as 'wg genkey' writes it)",
				  c->tunnel_key);
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

int spa_tunnel_up(const struct spa_config *c, char *why, size_t wlen)
{
	char port[8], cidr[SPA_ADDR_MAX + 8], allowed[SPA_ADDR_MAX + 8];
	const struct spa_peer_tunnel_cfg *t;
	unsigned int i;
	int ret;

	ret = check_key(c, why, wlen);
	if (!ret && !if_exists(c))
		ret = runv(why, wlen, c->ip_cli, "link", "add", "dev",
			   c->tunnel_if, "type", "wireguard", NULL);
	if (!ret)
		ret = spa_tunnel_check(c, why, wlen);
	snprintf(port, sizeof(port), "%u", c->tunnel_port);
	if (!ret)
		ret = runv(why, wlen, c->wg_cli, "set", c->tunnel_if,
			   "private-key", c->tunnel_key, "listen-port", port,
			   NULL);
	for (i = 0; !ret && i < c->nr_tunnels; i++) {
		t = &c->tunnels[i];
		snprintf(allowed, sizeof(allowed), "%s/%u", t->addr,
			 strchr(t->addr, ':') ? 128 : 32);
		ret = runv(why, wlen, c->wg_cli, "set", c->tunnel_if, "peer",
			   t->pubkey, "endpoint", t->endpoint, "allowed-ips",
			   allowed, "persistent-keepalive", SPA_WG_KEEPALIVE,
			   NULL);
	}
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
