// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of SIGHUP's peers (nvmet-remote-ns/agent/reload.c):
 * lender a, served over TCP on 127.0.0.1 with its configuration and key
 * files on disk, reads them again (spa_agent_reload(), what SIGHUP runs).
 * A peer added (peer and peer_key lines) is answered and in the peer
 * table at once; a peer's new address is taken; a peer removed while a
 * grant lent to it is in use is refused, naming the grant, and nothing
 * changes (its key still answered); once released, the removal goes
 * through (its frames no longer answered, out of the table, no longer
 * resolved); the same for a grant borrowed from a peer; a key rotated
 * for a peer kept.  With a tunnel: a peer's new tunnel address makes its
 * WireGuard peer again (the others untouched) and the exports' guard
 * admits the new address; a bad address, or a lender this node borrows
 * from moving, is refused with nothing changed.
 */
#include "remote-test.h"

#define MIB	(1024ULL * 1024)

static struct test_server srv;
static struct spa_config ca, cb, cc;
static struct spa_keys ka, kb, kc;
static struct spa_key k1, k2;
static char conf_path[PATH_MAX], kb_path[PATH_MAX], kc_path[PATH_MAX];
static char kb2_path[PATH_MAX];

static void put_secret(const char *path, const char *text)
{
	put_file(path, text);
	if (chmod(path, 0600)) {
		perror(path);
		exit(1);
	}
}

/* a's configuration: peer b (key file @kb) if @kb, and @extra lines. */
static void write_conf(const char *kb, const char *extra)
{
	char text[4096], b[PATH_MAX + 64] = "";

	if (kb)
		snprintf(b, sizeof(b), "peer b 127.0.0.1 9\npeer_key b %s\n",
			 kb);
	snprintf(text, sizeof(text),
		 "node a\nlisten 127.0.0.1 7450\nexport 127.0.0.1 4420\n"
		 "pool pa\nstate_dir %s/sa\nheartbeat 0\n%s%s", test_dir, b,
		 extra);
	put_file(conf_path, text);
}

static const char *c_lines(void)
{
	static char lines[PATH_MAX + 64];

	snprintf(lines, sizeof(lines), "peer c 127.0.0.1 10\npeer_key c %s\n",
		 kc_path);
	return lines;
}

/* A HEARTBEAT from @c (its key ring @k) to a: 1 answered, 0 error, -1 none. */
static int heartbeat(const struct spa_config *c, struct spa_keys *k,
		     char *why, size_t wlen)
{
	struct spa_msg req, rep;

	spa_msg_init(&req, c, SPA_HEARTBEAT);
	if (spa_call(c, k, "127.0.0.1", srv.port, "a", &req, &rep, why,
		     wlen))
		return -1;
	if (rep.type == SPA_ERROR) {
		snprintf(why, wlen, "%s: %s", spa_err_name(rep.err_code),
			 rep.err_text);
		return 0;
	}
	return rep.type == (SPA_HEARTBEAT | SPA_REPLY);
}

static bool in_table(const char *name, struct spa_peer *p)
{
	return spa_peers_find(&srv.agent.peers, name, p);
}

static int reload(void)
{
	return spa_agent_reload(&srv.agent, conf_path);
}

static void t_add(void)
{
	struct spa_peer_cfg pc;
	struct spa_peer p;
	char why[512] = "";
	int ret;

	ret = heartbeat(&cc, &kc, why, sizeof(why));
	CHECK(ret < 0, "before: c is not answered (%d: %s)", ret, why);
	write_conf(kb_path, c_lines());
	ret = reload();
	CHECK(!ret, "reloaded (%d)", ret);
	CHECK(cap_has("SIGHUP: keys of 2 peer(s) reloaded", "peers added: c, removed: none"),
	      "logged");
	ret = heartbeat(&cc, &kc, why, sizeof(why));
	CHECK(ret == 1, "c is answered at once (%d: %s)", ret, why);
	CHECK(in_table("c", &p) && p.configured && p.port == 10,
	      "c is a configured peer in the table");
	ret = spa_peer_resolve(&ca, "c", &pc, why, sizeof(why));
	CHECK(!ret && pc.port == 10, "c resolves (%d: %s)", ret, why);
	ret = heartbeat(&cb, &kb, why, sizeof(why));
	CHECK(ret == 1, "b still answered (%d: %s)", ret, why);
}

static void t_moved(void)
{
	struct spa_peer_cfg pc;
	struct spa_peer p;
	char why[512] = "", lines[PATH_MAX + 64];
	int ret;

	snprintf(lines, sizeof(lines), "peer c 127.0.0.1 19\npeer_key c %s\n",
		 kc_path);
	write_conf(kb_path, lines);
	ret = reload();
	CHECK(!ret, "reloaded (%d)", ret);
	CHECK(in_table("c", &p) && p.port == 19, "the table has c at port %u",
	      p.port);
	ret = spa_peer_resolve(&ca, "c", &pc, why, sizeof(why));
	CHECK(!ret && pc.port == 19, "c resolves to port %u", pc.port);
	CHECK(cap_line("peer c: now at 127.0.0.1:19 (was 127.0.0.1:10)"),
	      "logged");
	write_conf(kb_path, c_lines());
	CHECK(!reload(), "back at port 10");
}

static void t_rotate(void)
{
	char why[512] = "", lines[3 * PATH_MAX];
	int ret;

	/* b's next key named: b, still under the old one, is answered. */
	snprintf(lines, sizeof(lines), "peer b 127.0.0.1 9\npeer_key b %s %s\n%s",
		 kb_path, kb2_path, c_lines());
	write_conf(NULL, lines);
	CHECK(!reload(), "next key named");
	ret = heartbeat(&cb, &kb, why, sizeof(why));
	CHECK(ret == 1, "b under its old key (%d: %s)", ret, why);
	/* The new key alone: the old one is refused. */
	write_conf(kb2_path, c_lines());
	CHECK(!reload(), "the new key alone");
	ret = heartbeat(&cb, &kb, why, sizeof(why));
	CHECK(ret < 0, "the old key is refused (%d)", ret);
	write_conf(kb_path, c_lines());
	CHECK(!reload(), "b's key back");
	ret = heartbeat(&cb, &kb, why, sizeof(why));
	CHECK(ret == 1, "b answered again (%d: %s)", ret, why);
	CHECK(cap_has("peers added: none, removed: none", NULL),
	      "a rotation adds and removes no peer");
}

/* b lent a grant: b cannot go until it is released. */
static void t_remove_lent(void)
{
	struct spa_msg rep, req;
	struct spa_peer_cfg pc;
	struct spa_peer p;
	char why[512] = "", want[512];
	int ret;
	u64 id;

	id = grant_to_b(&srv.lender, &ca, 64 * MIB, &rep);
	CHECK(id, "granted to b: %s", rep.err_text);
	write_conf(NULL, c_lines());
	ret = reload();
	snprintf(want, sizeof(want),
		 "SIGHUP: configuration not reloaded, the old one stays in force: peer b: its 'peer' line is removed, but grant %016llx lent to it is active (release it, or 'slicepool-agent revoke %016llx'): a peer stays while a grant with it is in use",
		 ull(id), ull(id));
	CHECK(ret == -EBUSY && cap_line("%s", want),
	      "refused (%d), named: %s", ret, want);
	ret = heartbeat(&cb, &kb, why, sizeof(why));
	CHECK(ret == 1, "b is still answered (%d: %s)", ret, why);
	CHECK(in_table("b", &p) && p.configured, "b is still in the table");

	spa_msg_init(&req, &ca, SPA_RELEASE);
	snprintf(req.node, sizeof(req.node), "b");
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = id;
	spa_lender_release(&srv.lender, &req, "test", &rep);
	CHECK(rep.type == (SPA_RELEASE | SPA_REPLY), "released: %s",
	      rep.err_text);
	ret = reload();
	CHECK(!ret, "released: b may go (%d)", ret);
	CHECK(cap_has("peers added: none, removed: b", NULL), "logged");
	ret = heartbeat(&cb, &kb, why, sizeof(why));
	CHECK(ret < 0, "b is no longer answered (%d: %s)", ret, why);
	CHECK(!in_table("b", &p), "b is out of the table");
	ret = spa_peer_resolve(&ca, "b", &pc, why, sizeof(why));
	CHECK(ret == -ENOENT, "b no longer resolves (%d)", ret);
}

/* A ledger of grants borrowed from c: one in @state. */
static void borrowed_from_c(u64 id, int state)
{
	char path[PATH_MAX + 16], why[256];
	struct spa_ledger l;
	struct spa_grant *g;

	snprintf(path, sizeof(path), "%s/borrowed", ca.state_dir);
	if (spa_ledger_load(&l, path, false, why, sizeof(why)))
		exit(1);
	g = spa_ledger_find(&l, id);
	if (!g) {
		g = spa_ledger_add(&l);
		g->id = id;
		snprintf(g->peer, sizeof(g->peer), "c");
		g->size = 64 * MIB;
		snprintf(g->name, sizeof(g->name), "rm-%016llx", ull(id));
	}
	g->state = state;
	if (spa_ledger_save(&l, why, sizeof(why)))
		exit(1);
	spa_ledger_free(&l);
}

/* c lent this node a grant: c cannot go until it is given back. */
static void t_remove_borrowed(void)
{
	char want[512];
	int ret;

	borrowed_from_c(0x77, SPA_G_ACTIVE);
	write_conf(NULL, "");
	ret = reload();
	snprintf(want, sizeof(want),
		 "peer c: its 'peer' line is removed, but grant 0000000000000077 borrowed from it is active (give it back: 'slicepool-agent release 0000000000000077')");
	CHECK(ret == -EBUSY && cap_has(want, NULL), "refused (%d)", ret);
	CHECK(in_table("c", NULL), "c is still in the table");
	borrowed_from_c(0x77, SPA_G_RELEASED);
	ret = reload();
	CHECK(!ret && !in_table("c", NULL), "given back: c goes (%d)", ret);
	CHECK(cap_has("peers added: none, removed: c", NULL), "logged");
}

/* ------------------------------------------- a peer's tunnel address */

#define PUB_B	"crryTD8I8pIeC6p0fz+ELNVU42OvFXGP4oaRd4ktZFU="
#define PUB_C	"4WKZWfJV/K+K/m9UXwI5wS/gRZzJKywLYTJqnJZiDyM="
#define WG_KEY	"BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY="

static char tconf_path[PATH_MAX], wg_log[PATH_MAX];

/* Node a with a tunnel (a fake wg_cli), b and c at tunnel @b and @c. */
static void write_tconf(const char *b, const char *c)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "node a\nlisten 127.0.0.1 7450\npool pa\nstate_dir %s/st\n"
		 "heartbeat 0\ntunnel 10.98.0.1/24 51820\ntunnel_key %s/wg.key\n"
		 "wg_cli %s/wg\n"
		 "peer b 127.0.0.1 9\npeer_key b %s\n"
		 "peer_tunnel b " PUB_B " 10.99.0.2:51820 %s\n"
		 "peer c 127.0.0.1 10\npeer_key c %s\n"
		 "peer_tunnel c " PUB_C " 10.99.0.3:51820 %s\n",
		 test_dir, test_dir, test_dir, kb_path, b, kc_path, c);
	put_file(tconf_path, text);
}

/* The wg commands run since the last call, one a line ("" if none). */
static const char *wg_ran(void)
{
	static char got[2048];

	got[0] = '\0';
	spu_read_buf(wg_log, got, sizeof(got));
	unlink(wg_log);
	return got;
}

/* The tunnel address of @peer in @c ("" if none). */
static const char *taddr(const struct spa_config *c, const char *peer)
{
	const struct spa_peer_tunnel_cfg *t = spa_config_tunnel(c, peer);

	return t ? t->addr : "";
}

/*
 * SIGHUP takes a peer's new tunnel address: its WireGuard peer removed
 * and made again (the other peer untouched), the exports' guard admits
 * the new address to its borrower's ports.  A bad address, or a move of
 * a lender this node borrows from, is refused: nothing run, the old
 * address in force.
 */
static void t_tunnel_addr(void)
{
	/* What is logged: the move, a bad address, a lender's move. */
	static const char *const said[] = {
		"SIGHUP: peer b: tunnel address now 10.98.0.12 (was 10.98.0.2): its WireGuard peer made again, the other peers untouched",
		"peer_tunnel 'b': tunnel address 10.97.0.5 is not in this node's tunnel network 10.98.0.1/24",
		"'peer_tunnel c': tunnel address 10.98.0.13 (in force: 10.98.0.3), but grant 0000000000000099 borrowed from it is active",
		"its NVMe/TCP connections are to 10.98.0.3 and would never reach 10.98.0.13",
	};
	static struct spa_config tc;
	static struct spa_tunnel_state tun;
	static struct spa_agent ag;
	static struct spa_lender l;
	struct spa_keys keys;
	struct spa_ledger led;
	struct spa_grant *g;
	char why[512] = "", want[1024], path[PATH_MAX + 16];
	unsigned int guards;
	struct spa_msg rep;
	u64 id;

	snprintf(path, sizeof(path), "%s/wg.key", test_dir);
	put_secret(path, WG_KEY);
	snprintf(path, sizeof(path), "%s/wg", test_dir);
	snprintf(want, sizeof(want), "#!/bin/sh\necho \"$0 $*\" >> '%s'\n",
		 wg_log);
	put_file(path, want);
	CHECK(!chmod(path, 0755), "a fake wg");
	mkdirs("%s/st", test_dir);
	write_tconf("10.98.0.2", "10.98.0.3");
	spa_keys_init(&keys);
	if (spa_config_load(tconf_path, &tc, why, sizeof(why)) ||
	    spa_keys_load(&keys, &tc, why, sizeof(why)) ||
	    spa_tunnel_state_read(&tun, &tc, why, sizeof(why)) ||
	    spa_lender_init(&l, &tc, &fake_backend, why, sizeof(why)) ||
	    spa_agent_init(&ag, &tc, &keys, &l)) {
		fail("set up: %s", why);
		return;
	}
	ag.tun = &tun;
	ag.live = &tc;
	id = grant_to_b(&l, &tc, 64 * MIB, &rep);
	CHECK(id && fake_ctx.guard.n == 1 && fake_ctx.guard.p[0].port == 4420 &&
	      !strcmp(fake_ctx.guard.p[0].peer_addr, "10.98.0.2"),
	      "granted to b, port 4420 admits 10.98.0.2: %s", rep.err_text);

	/* b moves. */
	cap_start();
	write_tconf("10.98.0.12", "10.98.0.3");
	CHECK(!spa_agent_reload(&ag, tconf_path), "reloaded");
	snprintf(want, sizeof(want),
		 "%s/wg set spwg0 peer %s remove\n%s/wg set spwg0 peer %s %s",
		 test_dir, PUB_B, test_dir, PUB_B,
		 "endpoint 10.99.0.2:51820 allowed-ips 10.98.0.12/32 persistent-keepalive 25 preshared-key /dev/null");
	CHECK(!strcmp(wg_ran(), want),
	      "b's WireGuard peer removed and made again, c untouched");
	CHECK(!strcmp(taddr(&tc, "b"), "10.98.0.12") &&
	      !strcmp(taddr(&tun.cfg, "b"), "10.98.0.12") &&
	      !strcmp(taddr(&tc, "c"), "10.98.0.3"),
	      "in force: b at %s, the tunnel's state too", taddr(&tc, "b"));
	CHECK(fake_ctx.guard.n == 1 && fake_ctx.guard.p[0].port == 4420 &&
	      !strcmp(fake_ctx.guard.p[0].peer_addr, "10.98.0.12"),
	      "the guard: port 4420 admits b's new address %s",
	      fake_ctx.guard.p[0].peer_addr);
	CHECK(cap_line("%s", said[0]), "logged");

	/* A bad address: refused, nothing run, the old one in force. */
	guards = fake_ctx.guards;
	write_tconf("10.97.0.5", "10.98.0.3");
	CHECK(spa_agent_reload(&ag, tconf_path) == -EINVAL,
	      "an address outside the tunnel network refused");
	CHECK(cap_has("SIGHUP: configuration not reloaded, the old one stays in force: ",
		      said[1]), "the reason names it");
	CHECK(!wg_ran()[0] && fake_ctx.guards == guards &&
	      !strcmp(taddr(&tc, "b"), "10.98.0.12") &&
	      !strcmp(taddr(&tun.cfg, "b"), "10.98.0.12"),
	      "nothing run, the guard untouched, b still at %s",
	      taddr(&tc, "b"));

	/* c lent this node a grant: c's address may not change. */
	snprintf(path, sizeof(path), "%s/st/borrowed", test_dir);
	if (spa_ledger_load(&led, path, false, why, sizeof(why)))
		return;
	g = spa_ledger_add(&led);
	g->id = 0x99;
	g->state = SPA_G_ACTIVE;
	snprintf(g->peer, sizeof(g->peer), "c");
	g->size = 64 * MIB;
	snprintf(g->name, sizeof(g->name), "rm-99");
	CHECK(!spa_ledger_save(&led, why, sizeof(why)), "%s", why);
	spa_ledger_free(&led);
	write_tconf("10.98.0.12", "10.98.0.13");
	CHECK(spa_agent_reload(&ag, tconf_path) == -EBUSY &&
	      cap_has(said[2], said[3]),
	      "a lender this node borrows from may not move: refused, named");
	CHECK(!wg_ran()[0] && !strcmp(taddr(&tc, "c"), "10.98.0.3"),
	      "nothing run, c still at %s", taddr(&tc, "c"));
	spu_log_set_hook(NULL);
	spu_log_set_quiet(false);
	spa_agent_free(&ag);
	spa_lender_free(&l);
	spa_keys_free(&keys);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "a peer added is answered and in the table at once", t_add },
		{ "a peer's new address is taken", t_moved },
		{ "a kept peer's key rotated", t_rotate },
		{ "a peer with a grant lent to it stays until it is released",
		  t_remove_lent },
		{ "a peer that lent a grant stays until it is given back",
		  t_remove_borrowed },
		{ "a peer's new tunnel address: its tunnel made again, the guard follows",
		  t_tunnel_addr },
	};
	char dir[PATH_MAX], why[512];

	make_test_dir();
	snprintf(dir, sizeof(dir), "%s/fs", test_dir);
	fake_roots(dir);
	fake_pool("pa", 64);
	fake_member("pa", "m1", 8, "online", 1);
	mkdirs("%s/sa", test_dir);
	snprintf(conf_path, sizeof(conf_path), "%s/a.conf", test_dir);
	snprintf(kb_path, sizeof(kb_path), "%s/kb", test_dir);
	snprintf(kb2_path, sizeof(kb2_path), "%s/kb2", test_dir);
	snprintf(kc_path, sizeof(kc_path), "%s/kc", test_dir);
	snprintf(tconf_path, sizeof(tconf_path), "%s/t.conf", test_dir);
	snprintf(wg_log, sizeof(wg_log), "%s/wg.log", test_dir);
	put_secret(kb_path, TEST_KEY_HEX);
	put_secret(kc_path, TEST_KEY2_HEX);
	test_key(&k1, TEST_KEY_HEX);
	test_key(&k2, TEST_KEY2_HEX);
	/* b's next key: b itself still sends under the first one. */
	put_secret(kb2_path,
		   "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000");
	write_conf(kb_path, "");
	if (spa_config_load(conf_path, &ca, why, sizeof(why)) ||
	    spa_keys_load(&ka, &ca, why, sizeof(why))) {
		fprintf(stderr, "cannot set up: %s\n", why);
		return 1;
	}
	spa_keys_init(&kb);
	spa_keys_init(&kc);
	if (spa_keys_set(&kb, "a", &k1, NULL) ||
	    spa_keys_set(&kc, "a", &k2, NULL))
		return 1;
	test_server_start(&srv, &ca, &ka);
	srv.agent.live = &ca;
	test_client(&cb, "b", 9);
	test_client(&cc, "c", 10);
	return test_server_run(&srv, cases, ARRAY_SIZE(cases));
}
