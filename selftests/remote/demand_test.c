// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of borrowing on demand (demand.c, libspu's spa-config.c
 * and spu-pool.c): the configuration keys borrow_on_demand and
 * borrow_threshold, each mistake refused; the permission and its MAX; the
 * bytes a shortfall asks for (whole slices and a member's metadata); the
 * daemon's decision (level in bytes or percent, a borrow in flight, the
 * cool-down, the limit); what is borrowed now, from the ledger; a borrow
 * on demand refused without permission before anything is asked; a
 * member given back leaving a format-3 pool through 'remove'; the
 * heartbeats going on while the daemon's borrow ahead of need is made
 * (in a worker of its own, one at a time).
 */
#include "remote-test.h"

#define BASE	"node b\nlisten 127.0.0.1 7450\npool pb\n"
#define MIB	(1024ULL * 1024)
/* Reasons, whole. */
#define NOT_ALLOWED \
	"pool pb does not allow borrowing on demand (no 'borrow_on_demand pb' in )"
#define PAST_MAX \
	"borrowing 536875008 bytes more than the 512 MiB borrowed now would pass 'borrow_on_demand pb 1 GiB'"
#define NO_ROOM \
	"borrowing no more: borrow_on_demand's limit 1 GiB leaves no slice of room"

static struct spa_config cfg;

static int parse(const char *extra, struct spa_config *c, char *why,
		 size_t wlen)
{
	char text[1024];

	snprintf(text, sizeof(text), BASE "%s", extra);
	spa_config_defaults(c);
	return spa_config_parse(text, c, why, wlen);
}

static void t_config(void)
{
	struct spa_config c;
	char why[512];
	int ret;

	ret = parse("", &c, why, sizeof(why));
	CHECK(!ret && !c.borrow_demand && !c.threshold_pool[0],
	      "by default a pool does not borrow on demand (%d: %s)", ret, why);
	ret = parse("borrow_on_demand pb\n", &c, why, sizeof(why));
	CHECK(!ret && c.borrow_demand && !strcmp(c.borrow_pool, "pb") &&
	      !c.borrow_max, "borrow_on_demand pb, no limit (%d: %s)", ret,
	      why);
	ret = parse("borrow_on_demand pb 2G\nborrow_threshold pb 10%\n", &c,
		    why, sizeof(why));
	CHECK(!ret && c.borrow_max == 2ULL << 30 && c.borrow_below_pct == 10 &&
	      !c.borrow_below && c.borrow_cooldown == 60,
	      "MAX 2G, threshold 10%%, cool-down 60 s by default (%d: %s)", ret,
	      why);
	ret = parse("borrow_on_demand pb\nborrow_threshold pb 256M 5\n", &c,
		    why, sizeof(why));
	CHECK(!ret && c.borrow_below == 256 * MIB && !c.borrow_below_pct &&
	      c.borrow_cooldown == 5, "threshold 256M, cool-down 5 s (%d: %s)",
	      ret, why);
}

static void t_config_bad(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "borrow_on_demand pa\n",
		  "'borrow_on_demand pa': pool pa is not this node's 'pool' (pb): the agent borrows into that pool only"
		},
		{ "borrow_threshold pb 10%\n",
		  "'borrow_threshold pb' needs 'borrow_on_demand pb': the pool must allow borrowing"
		},
		{ "borrow_on_demand pb\nborrow_threshold pa 10%\n",
		  "'borrow_threshold pa' needs 'borrow_on_demand pa': the pool must allow borrowing"
		},
		{ "heartbeat 0\nborrow_on_demand pb\nborrow_threshold pb 1G\n",
		  "'borrow_threshold pb' needs heartbeats: the daemon checks the pool every 'heartbeat' seconds, and it is 0"
		},
		{ "borrow_on_demand pb\nborrow_on_demand pb\n",
		  "line 5: 'borrow_on_demand' given twice"
		},
		{ "borrow_on_demand\n",
		  "line 4: 'borrow_on_demand' takes POOL [MAX] (the 'pool' of this node; MAX a size, the most borrowed in all)"
		},
		{ "borrow_on_demand pb 1G x\n",
		  "line 4: 'borrow_on_demand' takes POOL [MAX] (the 'pool' of this node; MAX a size, the most borrowed in all)"
		},
	};
	static const char *const bad_value[] = {
		"borrow_on_demand pb 0\n",
		"borrow_on_demand pb 1Q\n",
		"borrow_on_demand p/b\n",
		"borrow_on_demand pb\nborrow_threshold pb 0%\n",
		"borrow_on_demand pb\nborrow_threshold pb 100%\n",
		"borrow_on_demand pb\nborrow_threshold pb %\n",
		"borrow_on_demand pb\nborrow_threshold pb 10%%\n",
		"borrow_on_demand pb\nborrow_threshold pb 0\n",
		"borrow_on_demand pb\nborrow_threshold pb 1G 0\n",
		"borrow_on_demand pb\nborrow_threshold pb 1G 86401\n",
		"borrow_on_demand pb\nborrow_threshold pb 1G 5s\n",
	};
	struct spa_config c;
	char why[512], want[256];
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++, n++) {
		ret = parse(bad[i].text, &c, why, sizeof(why));
		CHECK(ret == -EINVAL && !strcmp(why, bad[i].why),
		      "%s: %d: %s", bad[i].text, ret, why);
	}
	for (i = 0; i < ARRAY_SIZE(bad_value); i++, n++) {
		ret = parse(bad_value[i], &c, why, sizeof(why));
		snprintf(want, sizeof(want), "line %u: bad value for '%s'",
			 strchr(bad_value[i], '\n')[1] ? 5 : 4,
			 strchr(bad_value[i], '\n')[1] ?
			 "borrow_threshold" : "borrow_on_demand");
		CHECK(ret == -EINVAL && !strncmp(why, want, strlen(want)),
		      "%s: %d: %s (wanted %s...)", bad_value[i], ret, why, want);
	}
	CHECK(n == 18, "18 mistakes checked, not %u", n);
}

static void t_allowed(void)
{
	struct spa_config c;
	char why[512];
	int ret;

	parse("", &c, why, sizeof(why));
	ret = spa_demand_allowed(&c, "pb", MIB, 0, why, sizeof(why));
	CHECK(ret == -EPERM &&
	      !strcmp(why, NOT_ALLOWED),
	      "without borrow_on_demand: %d: %s", ret, why);
	parse("borrow_on_demand pb 1G\n", &c, why, sizeof(why));
	ret = spa_demand_allowed(&c, "pa", MIB, 0, why, sizeof(why));
	CHECK(ret == -EPERM, "another pool is not allowed (%d)", ret);
	ret = spa_demand_allowed(&c, "pb", 512 * MIB, 512 * MIB, why,
				 sizeof(why));
	CHECK(!ret, "512 MiB more than 512 MiB: within 1G (%d: %s)", ret, why);
	ret = spa_demand_allowed(&c, "pb", 512 * MIB + 4096, 512 * MIB, why,
				 sizeof(why));
	CHECK(ret == -EDQUOT &&
	      !strcmp(why, PAST_MAX),
	      "past MAX: %d: %s", ret, why);
	ret = spa_demand_allowed(&c, "pb", 4096, 2ULL << 30, why, sizeof(why));
	CHECK(ret == -EDQUOT, "already past MAX (%d)", ret);
}

static void t_borrow_bytes(void)
{
	struct spu_space s = { .slice_bytes = 16 * MIB };

	CHECK(spu_borrow_bytes(&s, 1) == 32 * MIB,
	      "1 byte: a slice and 1 MiB of metadata as a slice (%llu)",
	      ull(spu_borrow_bytes(&s, 1)));
	CHECK(spu_borrow_bytes(&s, 16 * MIB) == 32 * MIB,
	      "one slice: %llu", ull(spu_borrow_bytes(&s, 16 * MIB)));
	CHECK(spu_borrow_bytes(&s, 16 * MIB + 1) == 48 * MIB,
	      "a slice and a byte: %llu",
	      ull(spu_borrow_bytes(&s, 16 * MIB + 1)));
	s.md_bytes = 17 * MIB;
	CHECK(spu_borrow_bytes(&s, 100 * MIB) == (7 + 2) * 16 * MIB,
	      "100 MiB with 17 MiB of metadata: 9 slices (%llu)",
	      ull(spu_borrow_bytes(&s, 100 * MIB)));
	s.slice_bytes = 0;
	CHECK(spu_borrow_bytes(&s, MIB) == 0, "no slice size: 0");
}

static void t_decide(void)
{
	struct spu_space s = {
		.slice_bytes = 16 * MIB, .free_slices = 10,
		.total_slices = 100, .md_bytes = MIB, .members = 1,
	};
	struct spa_demand d = { 0 };
	struct spa_config c;
	char why[512];
	u64 now = 1000000, got;

	parse("borrow_on_demand pb\n", &c, why, sizeof(why));
	got = spa_demand_decide(&d, &c, &s, 0, 0, now, why, sizeof(why));
	CHECK(!got && !strcmp(why, "no borrow_threshold"),
	      "no threshold: %llu (%s)", ull(got), why);
	parse("borrow_on_demand pb\nborrow_threshold pb 10%\n", &c, why,
	      sizeof(why));
	CHECK(spa_demand_level(&c, 1600 * MIB) == 160 * MIB,
	      "10%% of 1600 MiB: %llu", ull(spa_demand_level(&c, 1600 * MIB)));
	got = spa_demand_decide(&d, &c, &s, 0, 0, now, why, sizeof(why));
	CHECK(!got && !strcmp(why, "free 160 MiB is not below 160 MiB"),
	      "free at the level: %llu (%s)", ull(got), why);
	s.free_slices = 7;
	got = spa_demand_decide(&d, &c, &s, 0, 0, now, why, sizeof(why));
	CHECK(got == 64 * MIB && !strcmp(why, "free 112 MiB below 160 MiB"),
	      "48 MiB short: 3 slices and one of metadata (%llu, %s)",
	      ull(got), why);
	got = spa_demand_decide(&d, &c, &s, 0, 1, now, why, sizeof(why));
	CHECK(!got && !strcmp(why, "1 borrow(s) in flight"),
	      "a borrow in flight: %llu (%s)", ull(got), why);
	d.in_flight = true;
	got = spa_demand_decide(&d, &c, &s, 0, 0, now, why, sizeof(why));
	CHECK(!got &&
	      !strcmp(why, "the last borrow ahead of need is still being made"),
	      "the worker borrows still: %llu (%s)", ull(got), why);
	d.in_flight = false;
	d.last_mono = now - 30000;
	got = spa_demand_decide(&d, &c, &s, 0, 0, now, why, sizeof(why));
	CHECK(!got && !strcmp(why, "cool-down: 30 s left"),
	      "30 s after the last: %llu (%s)", ull(got), why);
	got = spa_demand_decide(&d, &c, &s, 0, 0, now + 30000, why,
				sizeof(why));
	CHECK(got == 64 * MIB, "60 s after the last: %llu (%s)", ull(got), why);
	d.last_mono = 0;
	parse("borrow_on_demand pb 1G\nborrow_threshold pb 1G\n", &c, why,
	      sizeof(why));
	got = spa_demand_decide(&d, &c, &s, 900 * MIB, 0, now, why,
				sizeof(why));
	CHECK(got == 112 * MIB,
	      "cut to the 124 MiB MAX leaves, in slices: %llu (%s)", ull(got),
	      why);
	got = spa_demand_decide(&d, &c, &s, 1000 * MIB, 0, now, why,
				sizeof(why));
	CHECK(!got &&
	      !strcmp(why, NO_ROOM),
	      "24 MiB of room is only metadata: %llu (%s)", ull(got), why);
	s.members = 0;
	got = spa_demand_decide(&d, &c, &s, 0, 0, now, why, sizeof(why));
	CHECK(!got && !strcmp(why, "pool pb has no enabled, online member"),
	      "no member: %llu (%s)", ull(got), why);
}

/* A borrowed ledger of three grants: active, connecting, released. */
static void write_ledger(void)
{
	char path[PATH_MAX + 16], why[256];
	struct spa_ledger l;
	struct spa_grant *g;
	static const int states[] = {
		SPA_G_ACTIVE, SPA_G_CONNECTING, SPA_G_RELEASED
	};
	unsigned int i;

	snprintf(path, sizeof(path), "%s/borrowed", cfg.state_dir);
	if (spa_ledger_load(&l, path, false, why, sizeof(why)))
		exit(1);
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		g = spa_ledger_add(&l);
		g->id = 0x10 + i;
		g->state = states[i];
		snprintf(g->peer, sizeof(g->peer), "a");
		g->size = (i + 1) * 64 * MIB;
		snprintf(g->name, sizeof(g->name), "rm-%016llx", g->id);
	}
	if (spa_ledger_save(&l, why, sizeof(why)))
		exit(1);
	spa_ledger_free(&l);
}

static void t_borrowed_now(void)
{
	unsigned int in_flight = 9;
	char why[256];
	u64 bytes = 1;
	int ret;

	ret = spa_borrowed_now(&cfg, &bytes, &in_flight, why, sizeof(why));
	CHECK(!ret && !bytes && !in_flight, "no ledger: nothing (%d %llu %u)",
	      ret, ull(bytes), in_flight);
	write_ledger();
	ret = spa_borrowed_now(&cfg, &bytes, &in_flight, why, sizeof(why));
	CHECK(!ret && bytes == 192 * MIB && in_flight == 1,
	      "active 64 MiB and connecting 128 MiB, one in flight (%d %llu %u)",
	      ret, ull(bytes), in_flight);
}

static void t_borrow_refused(void)
{
	struct spa_grant g;
	char path[PATH_MAX + 16], why[512];
	struct spa_ledger l;
	int ret;

	cfg.borrow_demand = false;
	ret = spa_borrow_demand(&cfg, &keys, "pb", 64 * MIB, &g, why,
				sizeof(why));
	CHECK(ret == -EPERM && strstr(why, "does not allow borrowing"),
	      "not allowed: %d: %s", ret, why);
	cfg.borrow_demand = true;
	snprintf(cfg.borrow_pool, sizeof(cfg.borrow_pool), "pb");
	cfg.borrow_max = 256 * MIB;
	ret = spa_borrow_demand(&cfg, &keys, "pb", 128 * MIB, &g, why,
				sizeof(why));
	CHECK(ret == -EDQUOT, "192 MiB borrowed + 128 MiB > 256 MiB: %d: %s",
	      ret, why);
	snprintf(path, sizeof(path), "%s/borrowed", cfg.state_dir);
	CHECK(!spa_ledger_load(&l, path, false, why, sizeof(why)) && l.n == 3,
	      "nothing was asked or recorded (%zu grants)", l.n);
	spa_ledger_free(&l);
	cfg.borrow_max = 0;
	ret = spa_borrow_demand(&cfg, &keys, "pb", 64 * MIB, &g, why,
				sizeof(why));
	CHECK(ret == 1 && !strcmp(why, "no peer is known (configure one)"),
	      "allowed, no peer: %d: %s", ret, why);
}

/*
 * Giving a borrowed member back: format 3 writes 'remove' (the member
 * leaves the pool's member list), format 2 'enable' 0.  The fake tree's
 * rmdir fails (its attributes are files): what was written is the test.
 */
static void t_member_remove(void)
{
	const char *r = spu_configfs_root();
	char path[PATH_MAX], why[512];
	int ret;

	fake_pool("pf", 16);
	fake_member("pf", "m", 8, "online", 1);
	ret = spu_member_remove("pf", "m", why, sizeof(why));
	CHECK(ret == -ENOTEMPTY, "the fake rmdir fails (%d: %s)", ret, why);
	snprintf(path, sizeof(path), "%s/pf/members/m/enable", r);
	CHECK(get_u64(path) == 1, "enable is %llu (not written)",
	      get_u64(path));
	snprintf(path, sizeof(path), "%s/pf/members/m/remove", r);
	CHECK(get_u64(path) == 1, "remove is %llu", get_u64(path));
	unlink(path);
}

/* ------------------------------------- a borrow ahead of need in a worker */

#define SLOW_MAX_MS	20000	/* the slow borrow gives up after this */
#define BORROWED \
	"borrowed 64 MiB from a as member rm-test (grant 0000000000000042) ahead of need"
#define DECIDED \
	"pool pb: free 32 MiB below 80 MiB (borrow_threshold): borrowing 64 MiB ahead of need"

static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
/* protected by slow_lock */
static bool slow_release;
static unsigned int slow_calls;
static u64 slow_size, slow_start_mono;

/* A borrow that takes until the test lets it end (or SLOW_MAX_MS). */
static int slow_borrow(const struct spa_config *c, struct spa_keys *key,
		       const char *pool, u64 size, struct spa_grant *out,
		       char *why, size_t wlen)
{
	struct timespec ts;

	(void)c;
	(void)key;
	(void)pool;
	(void)why;
	(void)wlen;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SLOW_MAX_MS / 1000;
	pthread_mutex_lock(&slow_lock);
	slow_calls++;
	slow_size = size;
	slow_start_mono = spa_mono_ms();
	pthread_cond_broadcast(&slow_cond);
	while (!slow_release &&
	       pthread_cond_timedwait(&slow_cond, &slow_lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&slow_lock);
	out->id = 0x42;
	snprintf(out->peer, sizeof(out->peer), "a");
	snprintf(out->name, sizeof(out->name), "rm-test");
	return 0;
}

/* Waits up to @ms for the slow borrow to have been called; its calls. */
static unsigned int slow_wait_called(unsigned int ms)
{
	struct timespec ts;
	unsigned int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	pthread_mutex_lock(&slow_lock);
	while (!slow_calls &&
	       pthread_cond_timedwait(&slow_cond, &slow_lock, &ts) != ETIMEDOUT)
		;
	n = slow_calls;
	pthread_mutex_unlock(&slow_lock);
	return n;
}

/* When @t's peer @name was last heard (monotonic ms), 0 if never. */
static u64 heard(struct spa_peers *t, const char *name)
{
	struct spa_peer p;

	return spa_peers_find(t, name, &p) ? p.heard_mono : 0;
}

/*
 * b's heartbeat thread, with borrow_threshold, against lender a served
 * over TCP: the borrow it starts takes 4 s (a slow lender), and
 * heartbeats keep going both ways meanwhile (a hears b, b hears a, b's
 * health file is rewritten); the next checks start no second borrow; the
 * borrow, let go, is logged and the daemon stops cleanly.
 */
static void t_heartbeats_during_borrow(void)
{
	struct test_server *s = calloc(1, sizeof(*s));
	struct spa_config *ca = calloc(1, sizeof(*ca));
	struct spa_config *cb = calloc(1, sizeof(*cb));
	struct spa_agent *ab = calloc(1, sizeof(*ab));
	struct spa_hb hb = { .demand.borrow = slow_borrow };
	char sa[PATH_MAX], sb[PATH_MAX], path[PATH_MAX + 16], busy_why[64];
	u64 start, a_heard, b_heard, upd0 = 0, upd1 = 0, t;
	struct spa_health *h = calloc(1, sizeof(*h));
	int pipefd[2], ret;
	unsigned int calls;
	bool busy, idle = false;

	if (!s || !ca || !cb || !ab || !h || pipe(pipefd))
		exit(1);
	snprintf(sa, sizeof(sa), "%s/hb-a", test_dir);
	snprintf(sb, sizeof(sb), "%s/hb-b", test_dir);
	mkdirs("%s", sa);
	mkdirs("%s", sb);
	fake_pool("pa", 64);
	test_lender(ca, sa, 0, 9);
	test_server_start(s, ca, &keys);

	/* b: 10 slices of 16 MiB, 2 free; borrows below 50 % (80 MiB). */
	fake_member("pb", "hb1", 2, "online", 1);
	snprintf(path, sizeof(path), "%s/pb/members/hb1/total_slices",
		 spu_configfs_root());
	put_u64(path, 10);
	test_config(cb, "b", sb, 9);
	snprintf(cb->pool, sizeof(cb->pool), "pb");
	cb->heartbeat = 1;
	cb->heartbeat_timeout = 3;
	cb->io_timeout = 2;
	cb->nr_peers = 1;
	snprintf(cb->peers[0].name, sizeof(cb->peers[0].name), "a");
	snprintf(cb->peers[0].addr, sizeof(cb->peers[0].addr), "127.0.0.1");
	cb->peers[0].port = ca->listen_port;
	cb->borrow_demand = true;
	snprintf(cb->borrow_pool, sizeof(cb->borrow_pool), "pb");
	snprintf(cb->threshold_pool, sizeof(cb->threshold_pool), "pb");
	cb->borrow_below_pct = 50;
	cb->borrow_cooldown = 60;
	if (spa_agent_init(ab, cb, &keys, NULL))
		exit(1);
	ret = spa_hb_start(&hb, ab, pipefd[0]);
	CHECK(!ret, "heartbeat thread started (%d)", ret);
	if (ret)
		goto out;

	calls = slow_wait_called(10000);
	CHECK(calls == 1, "the threshold started a borrow (%u call(s))", calls);
	if (calls != 1)
		goto stop;
	pthread_mutex_lock(&slow_lock);
	start = slow_start_mono;
	CHECK(slow_size == 64 * MIB,
	      "of 48 MiB short: 3 slices and one of metadata (%llu)",
	      ull(slow_size));
	pthread_mutex_unlock(&slow_lock);
	spa_health_load(cb, spa_now_ms(), h);
	upd0 = h->updated_ms;
	/* The borrow takes 4 s: heartbeats are every second. */
	usleep(4000 * 1000);
	t = spa_mono_ms();
	a_heard = heard(&s->agent.peers, "b");
	b_heard = heard(&ab->peers, "a");
	spa_health_load(cb, spa_now_ms(), h);
	upd1 = h->updated_ms;
	CHECK(a_heard > start + 2000,
	      "a heard b's heartbeat %lld ms after the borrow began (4 s ago)",
	      (long long)(a_heard - start));
	CHECK(b_heard > start + 2000,
	      "b heard a %lld ms after the borrow began",
	      (long long)(b_heard - start));
	CHECK(upd1 > upd0 + 1500,
	      "b's health file was rewritten meanwhile (%llu ms later)",
	      ull(upd1 - upd0));
	busy = spa_demand_busy(&hb.demand);
	pthread_mutex_lock(&slow_lock);
	calls = slow_calls;
	slow_release = true;
	pthread_cond_broadcast(&slow_cond);
	pthread_mutex_unlock(&slow_lock);
	CHECK(busy && calls == 1,
	      "the borrow still in flight, no second one started (%u)", calls);
	for (t = 0; t < 50 && !idle; t++) {
		idle = !spa_demand_busy(&hb.demand);
		if (!idle)
			usleep(100 * 1000);
	}
	snprintf(busy_why, sizeof(busy_why), "%s", idle ? "ended" : "busy");
	CHECK(idle && cap_line("%s", BORROWED), "the borrow %s and was logged",
	      busy_why);
	CHECK(cap_line("%s", DECIDED), "the decision was logged");
stop:
	if (write(pipefd[1], "x", 1) != 1)
		exit(1);
	pthread_mutex_lock(&slow_lock);
	slow_release = true;
	pthread_cond_broadcast(&slow_cond);
	pthread_mutex_unlock(&slow_lock);
	spa_hb_join(&hb);
out:
	test_server_stop(s);
	spa_agent_free(ab);
	close(pipefd[0]);
	close(pipefd[1]);
	if (!case_ok)
		cap_dump();
	free(h);
	free(ab);
	free(cb);
	free(ca);
	free(s);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "borrow_on_demand and borrow_threshold are parsed", t_config },
		{ "each mistake in them is refused", t_config_bad },
		{ "the permission and its MAX", t_allowed },
		{ "a shortfall in whole slices and a member's metadata", t_borrow_bytes },
		{ "threshold, borrow in flight, cool-down, limit", t_decide },
		{ "what is borrowed now, from the ledger", t_borrowed_now },
		{ "a borrow on demand refused before anything is asked", t_borrow_refused },
		{ "a member leaves the pool through remove", t_member_remove },
		{ "heartbeats go on while a borrow ahead of need is made",
		  t_heartbeats_during_borrow },
	};
	const char *dir = make_test_dir();
	char state[PATH_MAX];
	static struct spa_key key;

	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	test_config(&cfg, "b", state, 1);
	snprintf(cfg.pool, sizeof(cfg.pool), "pb");
	test_key(&key, TEST_KEY_HEX);
	test_keys(&keys, &key);
	fake_roots(dir);
	fake_pool("pb", 16);
	return ktap_run(cases, ARRAY_SIZE(cases));
}
