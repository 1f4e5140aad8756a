// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of slicepool-agent's peer health (peers.c, health.c,
 * borrower.c): up while heard within heartbeat_timeout, down after it
 * (logged once), up again when heard; the health file the daemon writes
 * and the command line reads (fresh, stale, missing); a down peer refused
 * by "borrow PEER" and passed over by "borrow SIZE"; the order peers are
 * chosen in.
 */
#include "remote-test.h"

#define TIMEOUT_MS	4000

static struct spa_config cfg;
static struct spa_key key;

static void setup(void)
{
	const char *dir = make_test_dir();
	char state[PATH_MAX];

	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	test_config(&cfg, "b", state, 1);
	snprintf(cfg.pool, sizeof(cfg.pool), "pb");
	cfg.heartbeat = 1;
	cfg.heartbeat_timeout = TIMEOUT_MS / 1000;
	cfg.io_timeout = 1;
	/* Nothing listens on port 1 of 127.0.0.1: calls fail at once. */
	cfg.nr_peers = 2;
	snprintf(cfg.peers[0].name, sizeof(cfg.peers[0].name), "a");
	snprintf(cfg.peers[0].addr, sizeof(cfg.peers[0].addr), "127.0.0.1");
	cfg.peers[0].port = 1;
	snprintf(cfg.peers[1].name, sizeof(cfg.peers[1].name), "c");
	snprintf(cfg.peers[1].addr, sizeof(cfg.peers[1].addr), "127.0.0.1");
	cfg.peers[1].port = 1;
	test_key(&key, TEST_KEY_HEX);
	test_keys(&keys, &key);
	fake_roots(dir);
	fake_pool("pb", 64);
	cap_start();
}

static int health_of(struct spa_peers *t, const char *name)
{
	struct spa_peer p;

	if (!spa_peers_find(t, name, &p))
		return -1;
	return p.health;
}

static void t_transitions(void)
{
	struct spa_peers t;
	u64 now;

	spa_peers_init(&t, &cfg);
	now = spa_mono_ms();
	CHECK(health_of(&t, "a") == SPA_H_UNKNOWN, "a new peer is unknown");
	CHECK(spa_peers_check(&t, now + 1000, TIMEOUT_MS) == 0,
	      "nobody is down before the timeout");
	CHECK(health_of(&t, "a") == SPA_H_UNKNOWN, "still unknown");
	spa_peers_heard(&t, "a");
	CHECK(health_of(&t, "a") == SPA_H_UP, "heard: up");
	CHECK(cap_has("peer a (127.0.0.1:1) is up", NULL), "logged up");
	now = spa_mono_ms();
	CHECK(spa_peers_check(&t, now + TIMEOUT_MS - 500, TIMEOUT_MS) == 0,
	      "heard within the timeout: not down");
	CHECK(health_of(&t, "a") == SPA_H_UP, "still up");
	CHECK(spa_peers_check(&t, now + TIMEOUT_MS + 1000, TIMEOUT_MS) == 2,
	      "a (silent) and c (never heard) are down after the timeout");
	CHECK(health_of(&t, "a") == SPA_H_DOWN && health_of(&t, "c") ==
	      SPA_H_DOWN, "down");
	CHECK(cap_has("peer a (127.0.0.1:1) is down: not heard for",
		      "excluded from new grants"), "a's exclusion is logged");
	CHECK(cap_has("peer c (127.0.0.1:1) is down: never heard", NULL),
	      "c's is logged");
	spa_peers_heard(&t, "a");
	CHECK(health_of(&t, "a") == SPA_H_UP, "heard again: up");
	CHECK(cap_has("peer a (127.0.0.1:1) is up again", NULL),
	      "rejoining is logged");
	CHECK(spa_peers_check(&t, spa_mono_ms(), TIMEOUT_MS) == 1,
	      "only c is down now");
	CHECK(spa_peers_check(&t, spa_mono_ms() + 3600000, 0) == 1,
	      "timeout 0 (heartbeat off) decides nothing");
	spa_peers_destroy(&t);
}

/* A table as the daemon has it: a down, c up with 512 MiB lendable. */
static void daemon_view(struct spa_peers *t)
{
	u64 now;

	spa_peers_init(t, &cfg);
	spa_peers_heard(t, "a");
	spa_peers_heard(t, "c");
	t->p[1].lendable = 512ULL << 20;
	t->p[1].grants = 2;
	now = spa_mono_ms();
	/* c is heard again just before the check; a is not. */
	t->p[1].heard_mono = now + TIMEOUT_MS;
	spa_peers_check(t, now + TIMEOUT_MS + 1000, TIMEOUT_MS);
}

static void t_file(void)
{
	const struct spa_health_entry *e;
	struct spa_health h;
	struct spa_peers t;
	char why[512] = "";
	u64 now;

	spa_health_remove(&cfg);
	spa_health_load(&cfg, spa_now_ms(), &h);
	CHECK(!h.fresh && !h.n, "no file: nothing known");
	CHECK(!spa_health_excluded(&cfg, "a", why, sizeof(why)),
	      "no file: nobody excluded");

	daemon_view(&t);
	CHECK(!spa_health_save(&t, &cfg), "saved");
	spa_peers_destroy(&t);
	now = spa_now_ms();
	spa_health_load(&cfg, now, &h);
	CHECK(h.fresh && h.n == 2 && h.timeout == TIMEOUT_MS / 1000,
	      "fresh, 2 peers, timeout %u", h.timeout);
	e = spa_health_find(&h, "a");
	CHECK(e && e->health == SPA_H_DOWN && e->heard_ms, "a is down");
	e = spa_health_find(&h, "c");
	CHECK(e && e->health == SPA_H_UP && e->lendable == 512ULL << 20 &&
	      e->grants == 2, "c is up, 512 MiB, 2 grants");
	CHECK(spa_health_excluded(&cfg, "a", why, sizeof(why)) == 1 &&
	      strstr(why, "peer a is down: not heard for") &&
	      strstr(why, "excluded from new grants until it is heard again"),
	      "a is excluded: %s", why);
	CHECK(!spa_health_excluded(&cfg, "c", why, sizeof(why)),
	      "c is not excluded");
	CHECK(!spa_health_excluded(&cfg, "x", why, sizeof(why)),
	      "an unknown name is not excluded by health");

	/* heartbeat 1 + timeout 4 + 2 peers x 2 calls x io_timeout 1 = 9 s */
	spa_health_load(&cfg, now + 8000, &h);
	CHECK(h.fresh, "still believed after 8 s");
	spa_health_load(&cfg, now + 10000, &h);
	CHECK(!h.fresh && !h.n, "stale after 10 s: nothing known");
	CHECK(!spa_health_down(&h, "a", now + 10000, why, sizeof(why)),
	      "a stale file excludes nobody");
	spa_health_remove(&cfg);
	CHECK(!spa_health_excluded(&cfg, "a", why, sizeof(why)),
	      "removed (daemon stopped): nobody excluded");
}

static bool ledger_empty(void)
{
	char path[PATH_MAX + 16];
	struct spa_ledger l;
	char why[256];
	bool empty;

	snprintf(path, sizeof(path), "%s/borrowed", cfg.state_dir);
	if (spa_ledger_load(&l, path, false, why, sizeof(why)))
		return false;
	empty = l.n == 0;
	spa_ledger_free(&l);
	return empty;
}

static void t_borrow_refused(void)
{
	struct spa_peers t;
	struct spa_grant g;
	char why[1024] = "";
	int ret;

	daemon_view(&t);
	CHECK(!spa_health_save(&t, &cfg), "saved");
	spa_peers_destroy(&t);
	ret = spa_borrow(&cfg, &keys, "a", 64ULL << 20, &g, why, sizeof(why));
	CHECK(ret == 1 && strstr(why, "peer a is down"),
	      "borrow a: refused (%d): %s", ret, why);
	CHECK(ledger_empty(), "nothing was asked or recorded");
	ret = spa_borrow_any(&cfg, &keys, 64ULL << 20, &g, why, sizeof(why));
	CHECK(ret == 1 && strstr(why, "no peer can lend 64 MiB now") &&
	      strstr(why, "peer a is down") && strstr(why, "c: no answer"),
	      "borrow 64M: refused (%d): %s", ret, why);
	CHECK(ledger_empty(), "nothing was asked or recorded");
	spa_health_remove(&cfg);
	ret = spa_borrow_any(&cfg, &keys, 64ULL << 20, &g, why, sizeof(why));
	CHECK(ret == 1 && strstr(why, "a: no answer") &&
	      strstr(why, "c: no answer"),
	      "without health both are asked (%d): %s", ret, why);
}

static void t_choose(void)
{
	struct spa_candidate c[5];
	unsigned int n;

	memset(c, 0, sizeof(c));
	snprintf(c[0].name, sizeof(c[0].name), "down");
	c[0].lendable = 10ULL << 30;	/* stale numbers of an excluded peer */
	snprintf(c[1].name, sizeof(c[1].name), "small");
	c[1].usable = true;
	c[1].lendable = 32ULL << 20;
	snprintf(c[2].name, sizeof(c[2].name), "busy");
	c[2].usable = true;
	c[2].lendable = 1ULL << 30;
	c[2].grants = 7;
	snprintf(c[3].name, sizeof(c[3].name), "idle");
	c[3].usable = true;
	c[3].lendable = 1ULL << 30;
	c[3].grants = 1;
	snprintf(c[4].name, sizeof(c[4].name), "big");
	c[4].usable = true;
	c[4].lendable = 2ULL << 30;
	c[4].grants = 9;
	n = spa_choose_peers(c, 5, 64ULL << 20);
	CHECK(n == 3, "3 can lend 64 MiB, not %u", n);
	CHECK(!strcmp(c[0].name, "big") && !strcmp(c[1].name, "idle") &&
	      !strcmp(c[2].name, "busy"),
	      "most space first, then fewest grants: %s %s %s", c[0].name,
	      c[1].name, c[2].name);
	CHECK(!c[3].fits && !c[4].fits, "the others last: %s %s", c[3].name,
	      c[4].name);
	CHECK(!strcmp(c[3].name, "down") || !strcmp(c[4].name, "down"),
	      "the down peer is among the last");
	n = spa_choose_peers(c, 5, 4ULL << 30);
	CHECK(n == 0, "nobody can lend 4 GiB (%u)", n);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "up when heard, down after heartbeat_timeout, up again", t_transitions },
		{ "the health file: fresh, stale, removed", t_file },
		{ "a down peer is refused and not chosen", t_borrow_refused },
		{ "peers are chosen by lendable space, then grants", t_choose },
	};
	int ret;

	setup();
	ret = ktap_run(cases, ARRAY_SIZE(cases));
	if (ret)
		cap_dump();
	return ret;
}
