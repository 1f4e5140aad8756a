// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the tunnel's reload (nvmet-remote-ns/agent/tunnel.c):
 * its key files read strictly (a preshared key is exactly a 32-byte
 * base64 key, mode 600), the wg commands that take the live interface
 * from the configuration in force to the one read at SIGHUP (only what
 * changed, so unchanged peers keep their sessions; a peer_tunnel line
 * added or removed adds or removes its peer alone; a peer's new tunnel
 * address makes its peer again), the changes a restart takes refused with
 * their value, a new address another moving peer has in force refused,
 * and the commands run through a fake wg_cli that records them (a failure
 * leaves the state marked unsure).
 * No WireGuard, no root.
 */
#include "remote-test.h"

#define PUB_B	"crryTD8I8pIeC6p0fz+ELNVU42OvFXGP4oaRd4ktZFU="
#define PUB_B2	"IyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUI="
#define PUB_C	"4WKZWfJV/K+K/m9UXwI5wS/gRZzJKywLYTJqnJZiDyM="
#define KEY1	"BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY="
#define KEY2	"Dg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0="
#define PSK1	"FRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ="
#define PSK2	"HB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs="

#define TB	"peer_tunnel b " PUB_B " 10.99.0.2:51820 10.98.0.2\n"
#define TB2	"peer_tunnel b " PUB_B2 " 10.99.0.2:51820 10.98.0.2\n"
#define TC	"peer_tunnel c " PUB_C " 10.99.0.3:51820 10.98.0.3\n"

/* A whole peer: "<wg> set spwg0 peer" PUBKEY ENDPOINT TUNNEL_ADDR PSK. */
#define WHOLE	"%s set spwg0 peer %s endpoint %s allowed-ips %s/32 persistent-keepalive 25 preshared-key %s"

static struct spa_tunnel_state s_old, s_new;
static struct spa_wg_cmds cmds;
static const char *dir;

/* Writes secret @text (as is) to <dir>/@name, mode @mode. */
static void put_key(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f) || chmod(path, mode)) {
		perror(path);
		exit(1);
	}
}

/*
 * Parses node a's configuration: its tunnel (key <dir>/wg.key, wg_cli
 * @wg or the default), then @lines; reads its key files into @st.  The
 * result of spa_tunnel_state_read(), its reason in @why.
 */
static int conf_wg(struct spa_tunnel_state *st, const char *wg,
		   const char *lines, char *why, size_t wlen)
{
	static struct spa_config c;
	char text[4096];
	int ret;

	snprintf(text, sizeof(text),
		 "node a\nlisten 10.0.0.1 7450\ntunnel 10.98.0.1/24 51820\n"
		 "tunnel_key %s/wg.key\n%s%s%s%s", dir, wg ? "wg_cli " : "",
		 wg ? wg : "", wg ? "\n" : "", lines);
	spa_config_defaults(&c);
	ret = spa_config_parse(text, &c, why, wlen);
	if (ret) {
		fail("configuration refused: %s", why);
		return ret;
	}
	return spa_tunnel_state_read(st, &c, why, wlen);
}

static int conf(struct spa_tunnel_state *st, const char *lines)
{
	char why[512];
	int ret = conf_wg(st, NULL, lines, why, sizeof(why));

	if (ret)
		fail("key files refused: %s", why);
	return ret;
}

/* The diff of s_old and s_new is exactly the @n commands @want. */
static void want_cmds(const char *what, unsigned int n, ...)
{
	char why[512] = "", got[512];
	const char *want;
	unsigned int i;
	va_list ap;
	int ret;

	ret = spa_tunnel_diff(&s_old, &s_new, &cmds, why, sizeof(why));
	CHECK(!ret, "%s: refused: %s", what, why);
	if (ret)
		return;
	CHECK(cmds.n == n, "%s: %u commands, not %u", what, cmds.n, n);
	va_start(ap, n);
	for (i = 0; i < n && i < cmds.n; i++) {
		want = va_arg(ap, const char *);
		spa_wg_cmd_str(&cmds.c[i], got, sizeof(got));
		CHECK(!strcmp(got, want), "%s: command %u is '%s', not '%s'",
		      what, i, got, want);
		printf("#   %s: %s\n", what, got);
	}
	va_end(ap);
}

/* The diff is exactly one command: peer @pub's preshared key @file in dir. */
static void want_psk(const char *what, const char *pub, const char *file)
{
	char c[512];

	snprintf(c, sizeof(c), "/usr/bin/wg set spwg0 peer %s preshared-key %s/%s",
		 pub, dir, file);
	want_cmds(what, 1, c);
}

/* The diff of s_old and s_new is refused with exactly @want. */
static void want_refused(const char *what, const char *want)
{
	char why[512] = "";
	int ret;

	ret = spa_tunnel_diff(&s_old, &s_new, &cmds, why, sizeof(why));
	CHECK(ret == -EINVAL && !strcmp(why, want),
	      "%s: %d '%s', not '%s'", what, ret, why, want);
	printf("#   %s: refused: %s\n", what, why);
}

static void keys_fresh(void)
{
	put_key("wg.key", KEY1 "\n", 0600);
	put_key("b.psk", PSK1 "\n", 0600);
	put_key("c.psk", PSK2 "\n", 0600);
}

/* Preshared key files: exactly a WireGuard key, a secret's mode. */
static void t_psk_files(void)
{
	static const struct {
		const char *text;
		mode_t mode;
	} bad[] = {
		{ "FRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ\n", 0600 },
		{ PSK1 "\n\n", 0600 },
		{ PSK1 "\r\n", 0600 },
		{ " " PSK1 "\n", 0600 },
		{ PSK1 "\nx\n", 0600 },
		{ "FRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzR=\n", 0600 },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		  0600 },
		{ "", 0600 },
	};
	char why[512], want[1024];
	unsigned int i, checked = 0;
	int ret;

	keys_fresh();
	CHECK(!conf_wg(&s_old, NULL, TB, why, sizeof(why)),
	      "no preshared key: %s", why);
	put_key("b.psk", PSK1, 0600);
	snprintf(want, sizeof(want), TB "peer_tunnel_psk b %s/b.psk\n", dir);
	CHECK(!conf_wg(&s_old, NULL, want, why, sizeof(why)),
	      "a key without a newline: %s", why);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char lines[512];

		put_key("b.psk", bad[i].text, bad[i].mode);
		snprintf(lines, sizeof(lines),
			 TB "peer_tunnel_psk b %s/b.psk\n", dir);
		ret = conf_wg(&s_old, NULL, lines, why, sizeof(why));
		snprintf(want, sizeof(want),
			 "peer_tunnel_psk b: %s/b.psk is not a WireGuard preshared key (exactly 44 characters of base64 for 32 bytes, and a newline: slicepool-agent keygen --psk FILE)",
			 dir);
		CHECK(ret == -EINVAL && !strcmp(why, want),
		      "case %u: %d '%s'", i, ret, why);
		checked++;
	}
	CHECK(checked == ARRAY_SIZE(bad), "%u cases checked", checked);
	put_key("b.psk", PSK1 "\n", 0644);
	snprintf(want, sizeof(want), TB "peer_tunnel_psk b %s/b.psk\n", dir);
	ret = conf_wg(&s_old, NULL, want, why, sizeof(why));
	snprintf(want, sizeof(want),
		 "peer_tunnel_psk b: key file %s/b.psk has mode 0644: others than its owner can use it (chmod 600 %s/b.psk)",
		 dir, dir);
	CHECK(ret == -EPERM && !strcmp(why, want), "mode 644: %d '%s'", ret,
	      why);
	put_key("wg.key", "not a key\n", 0600);
	ret = conf_wg(&s_old, NULL, TB, why, sizeof(why));
	snprintf(want, sizeof(want),
		 "tunnel_key: %s/wg.key is not a WireGuard private key (one line of base64, as 'wg genkey' writes it)",
		 dir);
	CHECK(ret == -EINVAL && !strcmp(why, want), "private key: %d '%s'",
	      ret, why);
}

/* keygen --psk writes a key that the reader takes, mode 600. */
static void t_psk_keygen(void)
{
	char path[PATH_MAX], why[512], text[128], lines[512];
	struct stat st;
	ssize_t n;

	keys_fresh();
	snprintf(path, sizeof(path), "%s/new.psk", dir);
	unlink(path);
	CHECK(!spa_psk_generate(path, why, sizeof(why)), "keygen: %s", why);
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600, "mode %04o",
	      st.st_mode & 0777);
	n = spa_secret_read(path, text, sizeof(text), why, sizeof(why));
	CHECK(n == SPA_WG_KEY_B64 + 1 && text[SPA_WG_KEY_B64] == '\n',
	      "%zd bytes", n);
	text[SPA_WG_KEY_B64] = '\0';
	CHECK(spa_valid_wg_key(text), "a WireGuard key: %s", text);
	CHECK(spa_psk_generate(path, why, sizeof(why)) == -EEXIST,
	      "never over a file: %s", why);
	snprintf(lines, sizeof(lines), TB "peer_tunnel_psk b %s\n", path);
	CHECK(!conf_wg(&s_old, NULL, lines, why, sizeof(why)), "read: %s", why);
}

/* Only what changed becomes a command. */
static void t_diff(void)
{
	char lines[1024], l2[1024], c1[512], c2[512], c3[512];

	keys_fresh();
	snprintf(lines, sizeof(lines), TB TC "peer_tunnel_psk c %s/c.psk\n",
		 dir);
	if (conf(&s_old, lines) || conf(&s_new, lines))
		return;
	want_cmds("the same", 0);

	/* b rotated its key: its old peer goes, the new one comes whole. */
	snprintf(l2, sizeof(l2), TB2 TC "peer_tunnel_psk c %s/c.psk\n", dir);
	if (conf(&s_new, l2))
		return;
	snprintf(c1, sizeof(c1), WHOLE, "/usr/bin/wg", PUB_B2, "10.99.0.2:51820",
		 "10.98.0.2", "/dev/null");
	want_cmds("b's new public key", 2,
		  "/usr/bin/wg set spwg0 peer " PUB_B " remove", c1);

	snprintf(l2, sizeof(l2),
		 "peer_tunnel b " PUB_B " 10.99.1.2:51821 10.98.0.2\n" TC
		 "peer_tunnel_psk c %s/c.psk\n", dir);
	if (conf(&s_new, l2))
		return;
	want_cmds("b's new endpoint", 1,
		  "/usr/bin/wg set spwg0 peer " PUB_B " endpoint 10.99.1.2:51821");

	/*
	 * c's new tunnel address: its tunnel torn down and made again
	 * (its preshared key kept), b untouched.
	 */
	snprintf(l2, sizeof(l2), TB "peer_tunnel c " PUB_C
		 " 10.99.0.3:51820 10.98.0.9\npeer_tunnel_psk c %s/c.psk\n", dir);
	if (conf(&s_new, l2))
		return;
	snprintf(c3, sizeof(c3), "%s/c.psk", dir);
	snprintf(c1, sizeof(c1), WHOLE, "/usr/bin/wg", PUB_C, "10.99.0.3:51820",
		 "10.98.0.9", c3);
	want_cmds("c's new tunnel address", 2,
		  "/usr/bin/wg set spwg0 peer " PUB_C " remove", c1);

	/* Preshared keys: added, rewritten in place, renamed, removed. */
	snprintf(l2, sizeof(l2), TB TC "peer_tunnel_psk c %s/c.psk\n"
		 "peer_tunnel_psk b %s/b.psk\n", dir, dir);
	if (conf(&s_new, l2))
		return;
	want_psk("b's preshared key added", PUB_B, "b.psk");
	put_key("c.psk", PSK1 "\n", 0600);
	if (conf(&s_new, lines))
		return;
	want_psk("c's preshared key rewritten in place", PUB_C, "c.psk");
	put_key("c.psk", PSK2 "\n", 0600);
	put_key("c2.psk", PSK2 "\n", 0600);
	snprintf(l2, sizeof(l2), TB TC "peer_tunnel_psk c %s/c2.psk\n", dir);
	if (conf(&s_new, l2))
		return;
	want_cmds("c's preshared key in another file, the same key", 0);
	if (conf(&s_new, TB TC))
		return;
	want_cmds("c's preshared key removed", 1,
		  "/usr/bin/wg set spwg0 peer " PUB_C " preshared-key /dev/null");
	snprintf(l2, sizeof(l2),
		 "peer_tunnel b " PUB_B " 10.99.1.2:51821 10.98.0.2\n" TC);
	if (conf(&s_new, l2))
		return;
	want_cmds("b's endpoint and c's preshared key", 2,
		  "/usr/bin/wg set spwg0 peer " PUB_B " endpoint 10.99.1.2:51821",
		  "/usr/bin/wg set spwg0 peer " PUB_C " preshared-key /dev/null");

	/* This node's private key: by its content, not its file's name. */
	put_key("wg.key", KEY2 "\n", 0600);
	if (conf(&s_new, lines))
		return;
	snprintf(c2, sizeof(c2), "/usr/bin/wg set spwg0 private-key %s/wg.key",
		 dir);
	want_cmds("this node's new private key", 1, c2);
	put_key("wg.key", KEY1 "\n", 0600);

	/* After a change that failed half way, all of it again. */
	if (conf(&s_new, lines))
		return;
	s_old.unsure = true;
	snprintf(c1, sizeof(c1), WHOLE, "/usr/bin/wg", PUB_B, "10.99.0.2:51820",
		 "10.98.0.2", "/dev/null");
	snprintf(c3, sizeof(c3), "%s/c.psk", dir);
	snprintf(l2, sizeof(l2), WHOLE, "/usr/bin/wg", PUB_C, "10.99.0.3:51820",
		 "10.98.0.3", c3);
	want_cmds("unsure: all again", 3, c2, c1, l2);
	s_old.unsure = false;
}

/*
 * A peer_tunnel line added or removed (SIGHUP adding or removing a peer):
 * its WireGuard peer added whole or removed, the others untouched.
 */
static void t_diff_peers(void)
{
	char c1[1024], c2[1024];

	keys_fresh();
	if (conf(&s_old, TB TC))
		return;
	if (conf(&s_new, TB))
		return;
	snprintf(c1, sizeof(c1), "/usr/bin/wg set spwg0 peer %s remove", PUB_C);
	want_cmds("c removed", 1, c1);
	if (conf(&s_new, TB TC
		 "peer_tunnel d " PUB_B2 " 10.99.0.4:51820 10.98.0.4\n"))
		return;
	snprintf(c2, sizeof(c2), WHOLE, "/usr/bin/wg", PUB_B2,
		 "10.99.0.4:51820", "10.98.0.4", "/dev/null");
	want_cmds("d added", 1, c2);
	/* c goes and d comes, with c's old public key: removed, then added. */
	if (conf(&s_new, TB
		 "peer_tunnel d " PUB_C " 10.99.0.4:51820 10.98.0.4\n"))
		return;
	snprintf(c2, sizeof(c2), WHOLE, "/usr/bin/wg", PUB_C,
		 "10.99.0.4:51820", "10.98.0.4", "/dev/null");
	want_cmds("c replaced by d, same public key", 2, c1, c2);
	/* c removed, and b moves to its address: no grant of c's is left. */
	if (conf(&s_new, "peer_tunnel b " PUB_B " 10.99.0.2:51820 10.98.0.3\n"))
		return;
	snprintf(c2, sizeof(c2), WHOLE, "/usr/bin/wg", PUB_B,
		 "10.99.0.2:51820", "10.98.0.3", "/dev/null");
	want_cmds("c removed, b at its address", 3,
		  "/usr/bin/wg set spwg0 peer " PUB_B " remove", c1, c2);
}

/* What the rest of the agent reads at start only: refused, named. */
static void t_diff_refused(void)
{
	char why[512];

	keys_fresh();
	if (conf(&s_old, TB TC))
		return;
	/* b takes the address c has in force while c moves: refused. */
	if (conf(&s_new, "peer_tunnel b " PUB_B " 10.99.0.2:51820 10.98.0.3\n"
		 "peer_tunnel c " PUB_C " 10.99.0.3:51820 10.98.0.9\n"))
		return;
	want_refused("b takes moving c's address",
		     "'peer_tunnel b': tunnel address 10.98.0.3 is c's in force, and c moves: c's export ports admit it until the exports' guard follows: move c first, then send SIGHUP again");
	/* So does a peer added. */
	if (conf(&s_new, TB "peer_tunnel c " PUB_C " 10.99.0.3:51820 10.98.0.9\n"
		 "peer_tunnel d " PUB_B2 " 10.99.0.4:51820 10.98.0.3\n"))
		return;
	want_refused("d added at moving c's address",
		     "'peer_tunnel d': tunnel address 10.98.0.3 is c's in force, and c moves: c's export ports admit it until the exports' guard follows: move c first, then send SIGHUP again");
	spa_config_defaults(&s_new.cfg);
	CHECK(!spa_config_parse("node a\nlisten 10.0.0.1 7450\n"
				"tunnel 10.98.0.1/24 51821\ntunnel_key /k\n" TB TC,
				&s_new.cfg, why, sizeof(why)), "%s", why);
	want_refused("this node's WireGuard port",
		     "'tunnel 10.98.0.1/24 51821' (in force: '10.98.0.1/24 51820'): this node's tunnel address and WireGuard port are read at start only: restart the agent for it");
	spa_config_defaults(&s_new.cfg);
	CHECK(!spa_config_parse("node a\nlisten 10.0.0.1 7450\n"
				"tunnel 10.98.0.1/24 51820\ntunnel_key /k\n"
				"tunnel_if wg7\n" TB TC,
				&s_new.cfg, why, sizeof(why)), "%s", why);
	want_refused("the interface",
		     "'tunnel_if wg7' (in force: spwg0): the interface is read at start only: restart the agent for it");
}

/* Applied through wg_cli: each command run, in order; a failure stops. */
static void t_apply(void)
{
	char wg[PATH_MAX], script[1024], lines[1024], l2[1024], why[512];
	char log[PATH_MAX], failf[PATH_MAX], got[2048], want[2048];
	static struct spa_tunnel_state live;
	size_t n;
	int ret;

	keys_fresh();
	snprintf(wg, sizeof(wg), "%s/wg", dir);
	snprintf(log, sizeof(log), "%s/wg.log", dir);
	snprintf(failf, sizeof(failf), "%s/wg.fail", dir);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\necho \"$0 $*\" >> '%s'\n"
		 "[ ! -e '%s' ] || { echo 'Unable to modify interface'; exit 1; }\n",
		 log, failf);
	put_key("wg", script, 0755);
	snprintf(lines, sizeof(lines), TB TC);
	snprintf(l2, sizeof(l2), TB2 TC "peer_tunnel_psk c %s/c.psk\n", dir);
	if (conf_wg(&live, wg, lines, why, sizeof(why)) ||
	    conf_wg(&s_new, wg, l2, why, sizeof(why))) {
		fail("%s", why);
		return;
	}
	s_old = live;
	CHECK(!spa_tunnel_diff(&live, &s_new, &cmds, why, sizeof(why)) &&
	      cmds.n == 3, "diff: %u commands: %s", cmds.n, why);

	/* A failure: the first command ran, the state is marked unsure. */
	put_key("wg.fail", "", 0600);
	unlink(log);
	ret = spa_tunnel_apply(&live, &s_new, &cmds, why, sizeof(why));
	snprintf(want, sizeof(want),
		 "%s set spwg0 peer %s remove failed (non-zero exit): Unable to modify interface",
		 wg, PUB_B);
	CHECK(ret == -EIO && !strcmp(why, want), "failed: %d '%s'", ret, why);
	CHECK(live.unsure && !strcmp(live.cfg.tunnels[0].pubkey, PUB_B),
	      "unsure, the old state kept");
	got[0] = '\0';	/* its trailing newline stripped */
	spu_read_buf(log, got, sizeof(got));
	snprintf(want, sizeof(want), "%s set spwg0 peer %s remove", wg, PUB_B);
	CHECK(!strcmp(got, want),
	      "ran: '%s'", got);

	/* Again: all of it, and the state is the new one. */
	unlink(failf);
	unlink(log);
	CHECK(!spa_tunnel_diff(&live, &s_new, &cmds, why, sizeof(why)) &&
	      cmds.n == 4, "unsure diff: %u commands: %s", cmds.n, why);
	cap_start();
	ret = spa_tunnel_apply(&live, &s_new, &cmds, why, sizeof(why));
	CHECK(!ret, "applied: %s", why);
	CHECK(!live.unsure && !strcmp(live.cfg.tunnels[0].pubkey, PUB_B2) &&
	      !memcmp(live.psk_sum[1], s_new.psk_sum[1], SPA_SUM_LEN),
	      "the new state in force");
	got[0] = '\0';
	spu_read_buf(log, got, sizeof(got));
	snprintf(l2, sizeof(l2), "%s/c.psk", dir);
	n = snprintf(want, sizeof(want),
		     "%s set spwg0 private-key %s/wg.key\n%s set spwg0 peer %s remove\n",
		     wg, dir, wg, PUB_B);
	n += snprintf(want + n, sizeof(want) - n, WHOLE "\n", wg, PUB_B2,
		      "10.99.0.2:51820", "10.98.0.2", "/dev/null");
	snprintf(want + n, sizeof(want) - n, WHOLE, wg, PUB_C,
		 "10.99.0.3:51820", "10.98.0.3", l2);
	CHECK(!strcmp(got, want), "ran:\n%s\nnot:\n%s", got, want);
	CHECK(cap_line("tunnel spwg0: %s set spwg0 peer " PUB_B " remove", wg),
	      "each command logged");
	spu_log_set_hook(NULL);
	spu_log_set_quiet(false);

	/* Nothing changed since: nothing to run. */
	CHECK(!spa_tunnel_diff(&live, &s_new, &cmds, why, sizeof(why)) &&
	      cmds.n == 0, "in force: %u commands", cmds.n);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "preshared key files: a 32-byte base64 key, mode 600",
		  t_psk_files },
		{ "keygen --psk", t_psk_keygen },
		{ "SIGHUP's wg commands: only what changed", t_diff },
		{ "a peer_tunnel line added or removed: its peer alone", t_diff_peers },
		{ "changes a restart takes, or an address taken unsafely, are refused",
		  t_diff_refused },
		{ "the commands run through wg_cli; a failure is retried whole",
		  t_apply },
	};

	dir = make_test_dir();
	return ktap_run(cases, ARRAY_SIZE(cases));
}
