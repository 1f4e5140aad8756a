// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of slicepool-agent's configuration file
 * (nvmet-remote-ns/agent/config.c): a full file and its defaults, and
 * each kind of mistake refused with its line number.
 */
#include "remote-test.h"

static const char full[] =
	"# a node that lends\n"
	"node a\n"
	"listen 10.99.0.1 7450   # agents talk here\n"
	"export 10.99.0.1 4421\n"
	"nvmet_port_id 17\n"
	"pool pa\n"
	"state_dir /var/lib/x\n"
	"hostnqn " HOSTNQN_B "\n"
	"hostid 5b1c0000-0000-4000-8000-0000000000b0\n"
	"nqn_prefix nqn.2014-08.com.example\n"
	"nvme_cli /sbin/nvme\n"
	"lend yes\n"
	"keep_free 1G\n"
	"lend_max 2T\n"
	"max_grants 4\n"
	"ctrl_loss_tmo -1\n"
	"reconnect_delay 3\n"
	"max_skew 5\n"
	"heartbeat 0\n"
	"heartbeat_timeout 9\n"
	"io_timeout 7\n"
	"conn_per_source 2\n"
	"\n"
	"peer b 10.99.0.2 7450\n"
	"peer_key b /etc/slicepool/keys/a-b.key\n"
	"peer c fd00::3 7451\n"
	"peer_key c /etc/slicepool/keys/a-c.key /etc/slicepool/keys/a-c.next\n"
	"peer_key d /etc/slicepool/keys/a-d.key   # learned, not configured\n";

static void t_full(void)
{
	struct spa_config c;
	char why[512];

	spa_config_defaults(&c);
	CHECK(!spa_config_parse(full, &c, why, sizeof(why)), "%s", why);
	CHECK(!strcmp(c.node, "a") && !strcmp(c.listen_addr, "10.99.0.1") &&
	      c.listen_port == 7450, "node, listen");
	CHECK(!strcmp(c.advertise, "10.99.0.1"), "advertise %s", c.advertise);
	CHECK(!strcmp(c.export_addr, "10.99.0.1") && c.export_port == 4421 &&
	      c.nvmet_port_id == 17, "export");
	CHECK(!strcmp(c.pool, "pa") && c.lend == 1, "pool, lend");
	CHECK(c.keep_free == 1ULL << 30 && c.lend_max == 2ULL << 40, "sizes");
	CHECK(c.max_grants == 4 && c.ctrl_loss_tmo == -1 &&
	      c.reconnect_delay == 3 && c.max_skew == 5 && !c.heartbeat &&
	      c.heartbeat_timeout == 9 && c.io_timeout == 7, "numbers");
	CHECK(c.nr_peers == 2 && !strcmp(c.peers[1].addr, "fd00::3") &&
	      c.peers[1].port == 7451, "peers");
	CHECK(!strcmp(c.hostnqn, HOSTNQN_B), "hostnqn");
	CHECK(!c.export2_port && !c.export2_addr[0], "one path only");
	CHECK(c.conn_per_source == 2, "conn_per_source %u", c.conn_per_source);
}

/* A key per peer, a next key while rotating, keys of learned peers. */
static void t_peer_keys(void)
{
	const struct spa_peer_key_cfg *k;
	struct spa_config c;
	char why[512];

	spa_config_defaults(&c);
	CHECK(!spa_config_parse(full, &c, why, sizeof(why)), "%s", why);
	CHECK(c.nr_keys == 3, "%u keys", c.nr_keys);
	k = spa_config_key(&c, "b");
	CHECK(k && !strcmp(k->file, "/etc/slicepool/keys/a-b.key") &&
	      !k->next[0], "b: its own key, no next one");
	k = spa_config_key(&c, "c");
	CHECK(k && !strcmp(k->file, "/etc/slicepool/keys/a-c.key") &&
	      !strcmp(k->next, "/etc/slicepool/keys/a-c.next"),
	      "c: a current and a next key");
	k = spa_config_key(&c, "d");
	CHECK(k && !strcmp(k->file, "/etc/slicepool/keys/a-d.key"),
	      "d: a key for a peer that is learned, not configured");
	CHECK(!spa_config_key(&c, "e"), "e: no key");
}

/* A second "export" line: the standby path, nvmet port id = its port. */
static void t_two_paths(void)
{
	struct spa_config c;
	char why[512];

	spa_config_defaults(&c);
	CHECK(!spa_config_parse("node b\nlisten 10.0.0.2 7450\n"
				"export 10.0.0.2 4420\nexport 10.0.1.2 4421\n",
				&c, why, sizeof(why)), "%s", why);
	CHECK(!strcmp(c.export_addr, "10.0.0.2") && c.export_port == 4420 &&
	      c.nvmet_port_id == 4420, "first path");
	CHECK(!strcmp(c.export2_addr, "10.0.1.2") && c.export2_port == 4421 &&
	      c.nvmet_port_id2 == 4421, "second path %s %u id %u",
	      c.export2_addr, c.export2_port, c.nvmet_port_id2);
	spa_config_defaults(&c);
	CHECK(!spa_config_parse("node b\nlisten 10.0.0.2 7450\n"
				"export 10.0.0.2 4420\nnvmet_port_id 1\n"
				"export 10.0.0.2 4421\n", &c, why, sizeof(why)),
	      "%s", why);
	CHECK(c.nvmet_port_id == 1 && c.nvmet_port_id2 == 4421,
	      "ids %u %u", c.nvmet_port_id, c.nvmet_port_id2);
}

#define BASE_B "node b\nlisten 10.0.0.2 7450\n"

static void t_defaults(void)
{
	struct spa_config c;
	char why[512];

	spa_config_defaults(&c);
	CHECK(!spa_config_parse("node b\nlisten 10.0.0.2 7450\n",
				&c, why, sizeof(why)), "%s", why);
	CHECK(!strcmp(c.export_addr, "10.0.0.2") && c.export_port == 4420 &&
	      c.nvmet_port_id == 4420, "export defaults");
	CHECK(!c.lend, "lends without a pool");
	CHECK(!strcmp(c.state_dir, "/var/lib/slicepool-agent"), "state_dir");
	CHECK(c.ctrl_loss_tmo == 600 && c.reconnect_delay == 10 &&
	      c.max_skew == 30 && c.heartbeat == 10 && c.io_timeout == 10 &&
	      c.max_grants == 16, "numbers");
	CHECK(c.heartbeat_timeout == 30, "heartbeat_timeout %u: 3 x heartbeat",
	      c.heartbeat_timeout);
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(BASE_B "heartbeat 2\n", &c, why, sizeof(why)),
	      "%s", why);
	CHECK(c.heartbeat_timeout == 6, "heartbeat_timeout %u follows heartbeat",
	      c.heartbeat_timeout);
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(BASE_B "heartbeat 2\nheartbeat_timeout 3\n", &c,
				why, sizeof(why)), "%s", why);
	CHECK(c.heartbeat == 2 && c.heartbeat_timeout == 3, "heartbeat_timeout %u",
	      c.heartbeat_timeout);
	CHECK(!strcmp(c.nqn_prefix, "nqn.2026-11.io.slicepool"), "prefix");
	CHECK(c.conn_per_source == 4, "conn_per_source %u: 4",
	      c.conn_per_source);
	CHECK(!c.nr_keys && !c.nr_peers, "no peer, no key");
	spa_config_defaults(&c);
	CHECK(!spa_config_parse("node b\nlisten :: 7450\nadvertise fd00::2\npool p\n",
				&c, why, sizeof(why)), "%s", why);
	CHECK(c.lend == 1 && !strcmp(c.export_addr, "fd00::2"),
	      "a pool means lending; export follows advertise");
}

static void bad(const char *text, const char *want)
{
	struct spa_config c;
	char why[512] = "";

	spa_config_defaults(&c);
	if (!spa_config_parse(text, &c, why, sizeof(why)))
		fail("accepted: %s", text);
	else if (!strstr(why, want))
		fail("'%s' not in: %s", want, why);
	else
		printf("#   refused: %s\n", why);
}

#define BASE "node a\nlisten 10.0.0.1 7450\n"

static void t_refused(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "listen 10.0.0.1 7450\n", "'node' is not set" },
		{ "node a\n", "'listen' is not set" },
		{ BASE "colour blue\n", "line 3: unknown key 'colour'" },
		{ BASE "pool\n", "line 3: 'pool' takes" },
		{ BASE "pool a b\n", "line 3: 'pool' takes" },
		{ BASE "node b\n", "line 3: 'node' given twice" },
		{ BASE "peer b 10.0.0.2 1\npeer b 10.0.0.3 1\n",
		  "line 4: peer 'b' given twice" },
		{ BASE "peer a 10.0.0.2 1\npeer_key a /k\n", "own name" },
		{ "node a/b\n", "line 1: bad value for 'node'" },
		{ "node a\nlisten localhost 7450\n", "line 2: bad value for 'listen'" },
		{ "node a\nlisten 10.0.0.1 0\n", "bad value for 'listen'" },
		{ "node a\nlisten 10.0.0.1 65536\n", "bad value for 'listen'" },
		{ "node a\nlisten 0.0.0.0 7450\n", "needs 'advertise" },
		{ BASE "pool a:b\n", "bad value for 'pool'" },
		{ BASE "keep_free 1X\n", "bad value for 'keep_free'" },
		{ BASE "keep_free -1\n", "bad value for 'keep_free'" },
		{ BASE "max_grants 0\n", "bad value for 'max_grants'" },
		{ BASE "max_grants 257\n", "bad value for 'max_grants'" },
		{ BASE "ctrl_loss_tmo -2\n", "bad value for 'ctrl_loss_tmo'" },
		{ BASE "heartbeat 1h\n", "bad value for 'heartbeat'" },
		{ BASE "heartbeat_timeout 0\n", "bad value for 'heartbeat_timeout'" },
		{ BASE "heartbeat_timeout 86401\n",
		  "bad value for 'heartbeat_timeout'" },
		{ BASE "heartbeat 5\nheartbeat_timeout 5\n",
		  "'heartbeat_timeout 5' must be longer than 'heartbeat 5'" },
		{ BASE "lend maybe\n", "bad value for 'lend'" },
		{ BASE "lend yes\n", "needs 'pool'" },
		{ BASE "hostnqn iqn.x\n", "bad value for 'hostnqn'" },
		{ BASE "hostid 1234\n", "bad value for 'hostid'" },
		{ BASE "export 0.0.0.0 4420\n", "bad value for 'export'" },
		{ BASE "export 10.0.0.1 4420\nexport 0.0.0.0 4421\n",
		  "line 4: bad value for 'export'" },
		{ BASE "export 10.0.0.1 4420\nexport 10.0.0.1 4421\n"
		  "export 10.0.0.1 4422\n", "line 5: 'export' given more than twice" },
		{ BASE "export 10.0.0.1 4420\nexport 10.0.0.1 4420\n",
		  "is the first one again" },
		{ BASE "export 10.0.0.1 4420\nnvmet_port_id 4421\n"
		  "export 10.0.0.2 4421\n", "is the first's nvmet_port_id" },
		{ BASE "a b c d e f\n", "too many words" },
		{ BASE "conn_per_source 0\n", "bad value for 'conn_per_source'" },
		{ BASE "conn_per_source 17\n",
		  "bad value for 'conn_per_source'" },
		{ BASE "lease 10m\n", "bad value for 'lease'" },
		{ BASE "lease -1\n", "bad value for 'lease'" },
		{ BASE "lease 604801\n", "bad value for 'lease'" },
		{ BASE "lease 30 60\n", "'lease'" },
		{ BASE "heartbeat 5\nlease 15\n",
		  "'lease 15' must be longer than 'heartbeat_timeout 15'" },
		{ BASE "heartbeat 0\nheartbeat_timeout 9\nlease 60\n",
		  "'lease 60' needs heartbeats" },
		{ BASE "slicepool_cli slicepool\n",
		  "bad value for 'slicepool_cli'" },
	};
	char big[2048];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		bad(cases[i].text, cases[i].want);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad(big, "line 1: longer than");
}

/* Keys: each peer needs one; what a peer_key line may say. */
static void t_key_refused(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ BASE "peer b 10.0.0.2 1\n",
		  "peer 'b' has no key: add 'peer_key b FILE'" },
		{ BASE "peer_key b\n", "line 3: 'peer_key' takes NAME FILE" },
		{ BASE "peer_key b /k /n /x\n", "line 3: 'peer_key' takes" },
		{ BASE "peer_key b k\n", "line 3: bad value for 'peer_key'" },
		{ BASE "peer_key b /k n\n", "line 3: bad value for 'peer_key'" },
		{ BASE "peer_key b /k /k\n", "line 3: bad value for 'peer_key'" },
		{ BASE "peer_key b/c /k\n", "line 3: bad value for 'peer_key'" },
		{ BASE "peer_key b /k\npeer_key b /l\n",
		  "line 4: peer_key 'b' given twice" },
		{ BASE "peer_key a /k\n", "peer_key 'a' names this node" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		bad(cases[i].text, cases[i].want);
}

/* The old single shared key is refused, saying how to convert. */
static void t_old_key_file(void)
{
	bad(BASE "key_file /etc/slicepool/agent.key\npeer b 10.0.0.2 1\n",
	    "line 3: 'key_file' (one key shared by every node) is no longer read");
	bad(BASE "key_file /etc/slicepool/agent.key\n",
	    "write 'peer_key NAME /etc/slicepool/agent.key' for each peer");
}

static void t_sizes(void)
{
	u64 v;

	CHECK(!spu_parse_size("0", SPA_SIZE_MAX, &v) && v == 0, "0");
	CHECK(!spu_parse_size("4096", SPA_SIZE_MAX, &v) && v == 4096, "4096");
	CHECK(!spu_parse_size("256M", SPA_SIZE_MAX, &v) && v == 256ULL << 20, "256M");
	CHECK(!spu_parse_size("1t", SPA_SIZE_MAX, &v) && v == 1ULL << 40, "1t");
	CHECK(spu_parse_size("", SPA_SIZE_MAX, &v) && spu_parse_size("M", SPA_SIZE_MAX, &v) &&
	      spu_parse_size("1.5G", SPA_SIZE_MAX, &v) && spu_parse_size("2P", SPA_SIZE_MAX, &v) &&
	      spu_parse_size("99999999999999999999", SPA_SIZE_MAX, &v) &&
	      spu_parse_size("1025T", SPA_SIZE_MAX, &v), "bad sizes");
}

#define PUB_B "crryTD8I8pIeC6p0fz+ELNVU42OvFXGP4oaRd4ktZFU="
#define PUB_C "4WKZWfJV/K+K/m9UXwI5wS/gRZzJKywLYTJqnJZiDyM="
#define TUN "tunnel 10.98.0.1/24 51820\ntunnel_key /etc/slicepool/wg.key\n"
#define TB "peer_tunnel b " PUB_B " 10.99.0.2:51820 10.98.0.2\n"

/* The WireGuard tunnel: its lines, its defaults, the export on it. */
static void t_tunnel(void)
{
	const struct spa_peer_tunnel_cfg *t;
	struct spa_config c;
	char why[512];

	spa_config_defaults(&c);
	CHECK(!spa_config_parse(BASE "peer b 10.0.0.2 7450\npeer_key b /k\n"
				TUN TB "peer_tunnel c " PUB_C
				" [fd00::3]:51821 10.98.0.3\n", &c, why,
				sizeof(why)), "%s", why);
	CHECK(spa_tunnel_on(&c) && !strcmp(c.tunnel_addr, "10.98.0.1") &&
	      c.tunnel_prefix == 24 && c.tunnel_port == 51820 &&
	      !strcmp(c.tunnel_key, "/etc/slicepool/wg.key"), "tunnel");
	CHECK(!strcmp(c.tunnel_if, "spwg0") && !strcmp(c.wg_cli, "/usr/bin/wg") &&
	      !strcmp(c.ip_cli, "/usr/sbin/ip") &&
	      !strcmp(c.nft_cli, "/usr/sbin/nft"), "defaults: %s %s %s %s",
	      c.tunnel_if, c.wg_cli, c.ip_cli, c.nft_cli);
	CHECK(!strcmp(c.export_addr, "10.98.0.1") && c.export_port == 4420,
	      "grants exported on the tunnel address: %s", c.export_addr);
	t = spa_config_tunnel(&c, "b");
	CHECK(t && !strcmp(t->pubkey, PUB_B) &&
	      !strcmp(t->endpoint, "10.99.0.2:51820") &&
	      !strcmp(t->addr, "10.98.0.2"), "b's tunnel");
	t = spa_config_tunnel(&c, "c");
	CHECK(t && !strcmp(t->endpoint, "[fd00::3]:51821") &&
	      !strcmp(t->addr, "10.98.0.3"), "c's tunnel (a learned peer)");
	CHECK(!spa_config_tunnel(&c, "d"), "no tunnel for d");
	CHECK(!spa_config_tunnel(&c, "b")->psk[0], "no preshared key unless given");

	/* A preshared key per peer, before or after its peer_tunnel line. */
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(BASE TUN "peer_tunnel_psk c /k/a-c.psk\n" TB
				"peer_tunnel c " PUB_C " 10.99.0.3:1 10.98.0.3\n"
				"peer_tunnel_psk b /k/a-b.psk\n", &c, why,
				sizeof(why)), "%s", why);
	CHECK(!strcmp(spa_config_tunnel(&c, "b")->psk, "/k/a-b.psk") &&
	      !strcmp(spa_config_tunnel(&c, "c")->psk, "/k/a-c.psk"),
	      "preshared keys: b %s, c %s", spa_config_tunnel(&c, "b")->psk,
	      spa_config_tunnel(&c, "c")->psk);

	spa_config_defaults(&c);
	CHECK(!spa_config_parse(BASE TUN "tunnel_if wgsp.1\nwg_cli /sbin/wg\n"
				"ip_cli /bin/ip\nexport 10.98.0.1 4421\n"
				"export 10.98.0.1 4422\n", &c, why,
				sizeof(why)), "%s", why);
	CHECK(!strcmp(c.tunnel_if, "wgsp.1") && !strcmp(c.wg_cli, "/sbin/wg") &&
	      !strcmp(c.ip_cli, "/bin/ip"), "tunnel_if, wg_cli, ip_cli");
	CHECK(c.export_port == 4421 && c.export2_port == 4422 &&
	      !strcmp(c.export2_addr, "10.98.0.1"), "two paths in the tunnel");
	/* Two peers: ports 4420..4421 and 4430..4431, apart. */
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(BASE TUN TB "peer_tunnel c " PUB_C
				" 10.99.0.3:1 10.98.0.3\nnft_cli /sbin/nft\n"
				"export 10.98.0.1 4420\nexport 10.98.0.1 4430\n",
				&c, why, sizeof(why)), "%s", why);
	CHECK(!strcmp(c.nft_cli, "/sbin/nft") && c.nvmet_port_id == 4420 &&
	      c.nvmet_port_id2 == 4430, "nft_cli, the ports of two peers");
	CHECK(spa_grant_slot(&c, 4420) == 0 && spa_grant_slot(&c, 4421) == 1 &&
	      spa_grant_slot(&c, 4419) == 0, "a grant's slot is its port's");
	spa_config_defaults(&c);
	CHECK(!spa_config_parse("node a\nlisten fd00::1 7450\n"
				"tunnel fd98::1/64 51820\ntunnel_key /k\n"
				"peer_tunnel b " PUB_B " [fd00::2]:51820 fd98::2\n",
				&c, why, sizeof(why)), "%s", why);
	CHECK(!strcmp(c.export_addr, "fd98::1"), "IPv6 tunnel");
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(BASE, &c, why, sizeof(why)) &&
	      !spa_tunnel_on(&c), "no tunnel unless configured");
	CHECK(spa_valid_wg_key(PUB_B) &&
	      !spa_valid_wg_key("crryTD8I8pIeC6p0fz+ELNVU42OvFXGP4oaRd4ktZFV=") &&
	      !spa_valid_wg_key("crryTD8I8pIeC6p0fz+ELNVU42OvFXGP4oaRd4ktZFU") &&
	      !spa_valid_wg_key("crryTD8I8pIeC6p0fz+ELNVU42OvFXGP4oaRd4ktZF*="),
	      "WireGuard keys: 32 bytes of base64, strictly");
}

/* Tunnel lines refused, each naming what is wrong. */
static void t_tunnel_refused(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ BASE "tunnel 10.98.0.1 51820\n", "line 3: bad value for 'tunnel'" },
		{ BASE "tunnel 10.98.0.1/31 51820\n", "line 3: bad value for 'tunnel'" },
		{ BASE "tunnel 10.98.0.1/7 51820\n", "line 3: bad value for 'tunnel'" },
		{ BASE "tunnel 0.0.0.0/24 51820\n", "line 3: bad value for 'tunnel'" },
		{ BASE "tunnel host/24 51820\n", "line 3: bad value for 'tunnel'" },
		{ BASE "tunnel 10.98.0.1/24 0\n", "line 3: bad value for 'tunnel'" },
		{ BASE "tunnel 10.98.0.1/24\n", "line 3: 'tunnel' takes ADDRESS/PREFIX PORT" },
		{ BASE "tunnel_key wg.key\n", "line 3: bad value for 'tunnel_key'" },
		{ BASE "tunnel_if -x\n", "line 3: bad value for 'tunnel_if'" },
		{ BASE "tunnel_if abcdefghijklmnop\n", "line 3: bad value for 'tunnel_if'" },
		{ BASE "wg_cli wg\n", "line 3: bad value for 'wg_cli'" },
		{ BASE TUN "peer_tunnel b short 10.99.0.2:1 10.98.0.2\n",
		  "line 5: bad value for 'peer_tunnel'" },
		{ BASE TUN "peer_tunnel b " PUB_B " 10.99.0.2 10.98.0.2\n",
		  "line 5: bad value for 'peer_tunnel'" },
		{ BASE TUN "peer_tunnel b " PUB_B " fd00::2:1 10.98.0.2\n",
		  "line 5: bad value for 'peer_tunnel'" },
		{ BASE TUN "peer_tunnel b " PUB_B " [10.99.0.2]:1 10.98.0.2\n",
		  "line 5: bad value for 'peer_tunnel'" },
		{ BASE TUN "peer_tunnel b " PUB_B " 10.99.0.2:0 10.98.0.2\n",
		  "line 5: bad value for 'peer_tunnel'" },
		{ BASE TUN "peer_tunnel b " PUB_B " 10.99.0.2:1 tunnel\n",
		  "line 5: bad value for 'peer_tunnel'" },
		{ BASE TUN "peer_tunnel b " PUB_B " 10.99.0.2:1\n",
		  "line 5: 'peer_tunnel' takes NAME PUBKEY ENDPOINT TUNNEL_ADDR" },
		{ BASE TUN TB TB, "line 6: peer_tunnel 'b' given twice" },
		{ BASE TUN "tunnel 10.98.0.1/24 51820\n", "line 5: 'tunnel' given twice" },
		{ BASE "tunnel_key /k\n", "'tunnel_key' needs 'tunnel ADDRESS/PREFIX PORT'" },
		{ BASE TB, "'peer_tunnel b' needs 'tunnel ADDRESS/PREFIX PORT'" },
		{ BASE "tunnel 10.98.0.1/24 51820\n",
		  "'tunnel' needs 'tunnel_key FILE'" },
		{ BASE TUN "peer b 10.0.0.2 7450\npeer_key b /k\n",
		  "peer 'b' has no tunnel: add 'peer_tunnel b PUBKEY ENDPOINT TUNNEL_ADDR'" },
		{ BASE TUN "export 10.0.0.1 4420\n",
		  "'export 10.0.0.1 4420': with 'tunnel', grants are exported on the tunnel address 10.98.0.1 only"
		},
		{ BASE TUN "export 10.98.0.1 4420\nexport 10.0.0.1 4421\n",
		  "'export 10.0.0.1 4421': with 'tunnel', grants are exported on the tunnel address 10.98.0.1 only"
		},
		{ BASE TUN "peer_tunnel a " PUB_B " 10.99.0.2:1 10.98.0.2\n",
		  "peer_tunnel 'a' names this node" },
		{ BASE TUN "peer_tunnel b " PUB_B " 10.99.0.2:1 10.98.1.2\n",
		  "peer_tunnel 'b': tunnel address 10.98.1.2 is not in this node's tunnel network 10.98.0.1/24"
		},
		{ BASE TUN "peer_tunnel b " PUB_B " 10.99.0.2:1 fd98::2\n",
		  "peer_tunnel 'b': tunnel address fd98::2 is not in this node's tunnel network" },
		{ BASE TUN "peer_tunnel b " PUB_B " 10.99.0.2:1 10.98.0.1\n",
		  "peer_tunnel 'b': tunnel address 10.98.0.1 is this node's own" },
		{ BASE TUN TB "peer_tunnel c " PUB_C " 10.99.0.3:1 10.98.0.2\n",
		  "peer_tunnel 'c' has the tunnel address of peer_tunnel 'b'" },
		{ BASE TUN TB "peer_tunnel c " PUB_B " 10.99.0.3:1 10.98.0.3\n",
		  "peer_tunnel 'c' has the public key of peer_tunnel 'b'" },
		{ BASE "nft_cli nft\n", "line 3: bad value for 'nft_cli'" },
		{ BASE TUN TB "peer_tunnel_psk b k.psk\n",
		  "line 6: bad value for 'peer_tunnel_psk': it takes NAME FILE (an absolute path" },
		{ BASE TUN TB "peer_tunnel_psk b\n",
		  "line 6: 'peer_tunnel_psk' takes NAME FILE" },
		{ BASE TUN TB "peer_tunnel_psk b /k /l\n",
		  "line 6: 'peer_tunnel_psk' takes NAME FILE" },
		{ BASE TUN TB "peer_tunnel_psk -b /k\n",
		  "line 6: bad value for 'peer_tunnel_psk'" },
		{ BASE TUN TB "peer_tunnel_psk b /k\npeer_tunnel_psk b /l\n",
		  "line 7: peer_tunnel_psk 'b' given twice" },
		{ BASE TUN TB "peer_tunnel_psk c /k/a-c.psk\n",
		  "'peer_tunnel_psk c /k/a-c.psk': no 'peer_tunnel c ...' line" },
		{ BASE "peer_tunnel_psk b /k\n",
		  "'peer_tunnel_psk b' needs 'tunnel ADDRESS/PREFIX PORT'" },
		{ BASE TUN TB "peer_tunnel c " PUB_C " 10.99.0.3:1 10.98.0.3\n"
		  "export 10.98.0.1 4420\nexport 10.98.0.1 4421\n",
		  "with 'tunnel', each of the 2 peers has export ports of its own: the first export takes TCP ports 4420..4421 (nvmet port ids 4420..4421), the second 4421..4422 (4421..4422): they overlap"
		},
		{ BASE TUN TB "peer_tunnel c " PUB_C " 10.99.0.3:1 10.98.0.3\n"
		  "export 10.98.0.1 65535\n",
		  "with 'tunnel', each of the 2 peers has export ports of its own: 'export ... 65535' (nvmet port id 65535) would need ports past 65535"
		},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		bad(cases[i].text, cases[i].want);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "a full configuration", t_full },
		{ "defaults", t_defaults },
		{ "two export lines: the optimized and the standby path",
		  t_two_paths },
		{ "mistakes are refused with their line", t_refused },
		{ "a key per peer, a next key, a learned peer's key",
		  t_peer_keys },
		{ "a peer without a key and bad peer_key lines are refused",
		  t_key_refused },
		{ "an old key_file is refused with how to convert",
		  t_old_key_file },
		{ "sizes", t_sizes },
		{ "the WireGuard tunnel's lines", t_tunnel },
		{ "bad tunnel lines, a peer without a tunnel, an export outside it",
		  t_tunnel_refused },
	};

	return ktap_run(cases, ARRAY_SIZE(cases));
}
