// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the lender's reconcile at start
 * (nvmet-remote-ns/agent/lender.c) on a fake configfs tree: grants the
 * ledger says are being set up, being released or released are torn
 * down; active ones are kept, or exported again after a reboot; agent
 * objects no grant owns are removed, others' never; without a ledger
 * nothing is removed; a corrupt ledger is refused.  With a second export
 * line, a grant is exported on both ports and names the standby path to
 * a borrower that asks for more than one path.  With a tunnel, each
 * borrower's grants are on ports of their own, and the exports' guard
 * (its nftables script, exactly) admits only that borrower's tunnel
 * address to them; it follows every grant, release and reconcile.
 */
#include "remote-test.h"

static struct spa_config ca;

static void fresh(const char *name)
{
	fresh_lender(&ca, name, 64, 0);
	fake_member("pa", "m1", 100, "online", 1);
}

static void make_vol(const char *vol, char uuid[SPU_UUID_STR])
{
	char why[256];

	if (fake_backend.vol_create(fake_backend.ctx, "pa", vol, 64 << 20,
				    uuid, why, sizeof(why)))
		fail("vol %s: %s", vol, why);
}

static void make_export(const char *subnqn)
{
	struct spa_export e = { .nsid = 1 };
	char why[256];

	snprintf(e.subnqn, sizeof(e.subnqn), "%s", subnqn);
	snprintf(e.hostnqn, sizeof(e.hostnqn), HOSTNQN_B);
	if (fake_backend.export(fake_backend.ctx, &e, why, sizeof(why)))
		fail("export %s: %s", subnqn, why);
}

/* Adds grant @id in @state; makes its volume and export if asked. */
static void grant(struct spa_ledger *l, u64 id, int state, bool vol,
		  bool exp)
{
	struct spa_grant *g = spa_ledger_add(l);

	g->id = id;
	g->state = state;
	snprintf(g->peer, sizeof(g->peer), "b");
	g->size = 64 << 20;
	g->bytes = 64 << 20;
	spa_grant_names(&ca, id, g->name, sizeof(g->name), g->subnqn,
			sizeof(g->subnqn));
	snprintf(g->hostnqn, sizeof(g->hostnqn), HOSTNQN_B);
	snprintf(g->traddr, sizeof(g->traddr), "127.0.0.1");
	g->trsvcid = 4420;
	g->nsid = 1;
	g->req_id[0] = (u8)id;
	snprintf(g->uuid, sizeof(g->uuid), "5b1c0000-0000-4000-8000-0000000000b0");
	if (vol)
		make_vol(g->name, g->uuid);
	if (exp)
		make_export(g->subnqn);
}

static bool vol_there(u64 id)
{
	char vol[SPU_NAME_MAX + 1];

	spa_grant_names(&ca, id, vol, sizeof(vol), NULL, 0);
	return spu_vol_bound("pa", vol);
}

static bool export_there(u64 id)
{
	char sub[SPA_NQN_MAX + 1];

	spa_grant_names(&ca, id, NULL, 0, sub, sizeof(sub));
	return fake_backend.exported(NULL, sub, 0);
}

static int state_of(struct spa_lender *l, u64 id)
{
	struct spa_grant *g = spa_ledger_find(&l->ledger, id);

	return g ? g->state : -1;
}

static void t_reconcile(void)
{
	struct spa_ledger l;
	struct spa_lender lender;
	char path[PATH_MAX], why[512], uuid[SPU_UUID_STR], sub[SPA_NQN_MAX + 1];
	int left;

	fresh("r1");
	cap_start();
	snprintf(path, sizeof(path), "%s/grants", ca.state_dir);
	memset(&l, 0, sizeof(l));
	l.lender = true;
	snprintf(l.path, sizeof(l.path), "%s", path);
	grant(&l, 1, SPA_G_ACTIVE, true, true);
	grant(&l, 2, SPA_G_ACTIVE, true, false);
	grant(&l, 3, SPA_G_RELEASING, true, true);
	grant(&l, 4, SPA_G_EXPORTING, true, false);
	grant(&l, 5, SPA_G_RELEASED, true, false);
	grant(&l, 6, SPA_G_ACTIVE, false, false);
	CHECK(!spa_ledger_save(&l, why, sizeof(why)), "%s", why);
	spa_ledger_free(&l);
	make_vol("rg-00000000000000ff", uuid);
	spa_grant_names(&ca, 0xee, NULL, 0, sub, sizeof(sub));
	make_export(sub);
	make_vol("data", uuid);
	make_export("nqn.2014-08.org.other:x");

	CHECK(!spa_lender_init(&lender, &ca, &fake_backend, why, sizeof(why)),
	      "%s", why);
	left = spa_lender_reconcile(&lender);
	CHECK(left == 1, "%d left (the active grant without a volume)", left);
	CHECK(vol_there(1) && export_there(1), "active grant 1 touched");
	CHECK(vol_there(2) && export_there(2) && fake_ctx.restores == 1,
	      "active grant 2 not exported again (%u restores)",
	      fake_ctx.restores);
	CHECK(!vol_there(3) && !export_there(3) &&
	      state_of(&lender, 3) == SPA_G_RELEASED, "releasing grant 3");
	CHECK(!vol_there(4) && state_of(&lender, 4) == SPA_G_RELEASED,
	      "exporting grant 4");
	CHECK(!vol_there(5), "released grant 5 still has its volume");
	CHECK(state_of(&lender, 6) == SPA_G_ACTIVE,
	      "active grant 6 without a volume was given up");
	CHECK(cap_has("grant 0000000000000006", "is missing"), "no log for 6");
	CHECK(!spu_vol_bound("pa", "rg-00000000000000ff") &&
	      !fake_backend.exported(NULL, sub, 0), "objects of no grant kept");
	CHECK(cap_line("reconcile: zeroed and deleted volume pa/rg-00000000000000ff of no grant"),
	      "no log of the deletion");
	/* Grants 3 and 5 given back (5 already released), the stray. */
	CHECK(fake_ctx.zeroes == 3 && fake_ctx.zero_off == 0 &&
	      fake_ctx.zero_len == 64 << 20, "%u zeroings, the last %llu at %llu",
	      fake_ctx.zeroes, fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(spu_vol_bound("pa", "data") &&
	      fake_backend.exported(NULL, "nqn.2014-08.org.other:x", 0),
	      "someone else's volume or export was touched");
	CHECK(lender.quota.grants == 3 && lender.quota.lent == 3 * (64 << 20),
	      "quota: %u grants, %llu lent", lender.quota.grants,
	      lender.quota.lent);
	spa_lender_free(&lender);

	/* The ledger was written back: a second start changes nothing. */
	CHECK(!spa_lender_init(&lender, &ca, &fake_backend, why, sizeof(why)),
	      "%s", why);
	CHECK(state_of(&lender, 3) == SPA_G_RELEASED, "ledger not saved");
	left = spa_lender_reconcile(&lender);
	CHECK(left == 1 && fake_ctx.restores == 1, "second start: %d left",
	      left);
	spa_lender_free(&lender);
	if (!case_ok)
		cap_dump();
}

static void t_no_ledger(void)
{
	struct spa_lender lender;
	char uuid[SPU_UUID_STR], why[512];

	fresh("r2");
	cap_start();
	make_vol("rg-0000000000000001", uuid);
	CHECK(!spa_lender_init(&lender, &ca, &fake_backend, why, sizeof(why)),
	      "%s", why);
	CHECK(spa_lender_reconcile(&lender) == 0, "reconcile");
	CHECK(spu_vol_bound("pa", "rg-0000000000000001") &&
	      !fake_ctx.zeroes && !fake_ctx.deletes,
	      "a volume was zeroed or deleted without a ledger");
	CHECK(cap_has("no ledger", "leaving them alone"), "no warning");
	spa_lender_free(&lender);
}

static void t_teardown_fails(void)
{
	struct spa_ledger l;
	struct spa_lender lender;
	char why[512];

	fresh("r3");
	cap_start();
	memset(&l, 0, sizeof(l));
	l.lender = true;
	snprintf(l.path, sizeof(l.path), "%s/grants", ca.state_dir);
	grant(&l, 9, SPA_G_RELEASING, true, true);
	spa_ledger_save(&l, why, sizeof(why));
	spa_ledger_free(&l);
	fake_ctx.fail_unexport = EBUSY;
	CHECK(!spa_lender_init(&lender, &ca, &fake_backend, why, sizeof(why)),
	      "%s", why);
	CHECK(spa_lender_reconcile(&lender) == 1, "a failed teardown not left");
	CHECK(state_of(&lender, 9) == SPA_G_RELEASING, "state %s",
	      spa_gstate_name(state_of(&lender, 9)));
	CHECK(cap_has("teardown failed", "injected"), "no log");
	fake_ctx.fail_unexport = 0;
	CHECK(spa_lender_reconcile(&lender) == 0 &&
	      state_of(&lender, 9) == SPA_G_RELEASED, "the retry");
	spa_lender_free(&lender);
}

static void corrupt(const char *text, const char *want)
{
	struct spa_lender lender;
	char path[PATH_MAX], why[512] = "";

	snprintf(path, sizeof(path), "%s/grants", ca.state_dir);
	put_file(path, text);
	if (!spa_lender_init(&lender, &ca, &fake_backend, why, sizeof(why))) {
		if (want[0])
			fail("accepted: %s", text);
		spa_lender_free(&lender);
		return;
	}
	if (!want[0]) {
		fail("the good line was refused: %s", why);
		return;
	}
	CHECK(strstr(why, want), "'%s' not in: %s", want, why);
	printf("#   refused: %s\n", why);
}

/* A ledger line of grant @id in @state with volume @name. */
static const char *line(const char *kind, const char *id, const char *state,
			const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
		 "%s %s %s b 4096 4096 %s - 01000000000000000000000000000000 0 - - - 0 1\n",
		 kind, id, state, name);
	return buf;
}

static void t_corrupt_ledger(void)
{
	const char *id = "0000000000000001", *vol = "rg-0000000000000001";

	fresh("r4");
	corrupt(line("grant", id, "active", vol), "");
	corrupt("# x\ngrant 0000000000000001 active b 4096\n", "grants:2:");
	corrupt(line("grant", id, "gone", vol), "grants:1:");
	corrupt(line("grant", "00000000000000zz", "active", vol), "grants:1:");
	corrupt(line("grant", id, "active", "../../etc"), "grants:1:");
	corrupt(line("borrow", id, "active", vol), "grants:1:");
}

/* Lender @l of ca and two messages (request, reply); NULL if not. */
static struct spa_msg *open_lender(struct spa_lender *l)
{
	struct spa_msg *req = calloc(2, sizeof(*req));
	char why[256] = "";

	if (!req || spa_lender_init(l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		free(req);
		return NULL;
	}
	return req;
}

/* A grant carries the standby path only to a borrower that asks for it. */
static void t_two_paths(void)
{
	struct spa_msg *req, *rep;
	struct spa_lender l;

	fresh("r5");
	snprintf(ca.export2_addr, sizeof(ca.export2_addr), "127.0.0.1");
	ca.export2_port = 4421;
	ca.nvmet_port_id2 = 4421;
	req = open_lender(&l);
	if (!req)
		return;
	rep = req + 1;
	spa_msg_init(req, &ca, SPA_REQUEST);
	snprintf(req->node, sizeof(req->node), "b");
	req->fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		       SPA_F(SPA_T_REQ_ID) | SPA_F(SPA_T_MAX_PATHS);
	snprintf(req->hostnqn, sizeof(req->hostnqn), HOSTNQN_B);
	req->size = 64 << 20;
	req->req_id[0] = 1;
	req->max_paths = 2;
	spa_lender_request(&l, req, "test", rep);
	CHECK(rep->type == SPA_GRANT, "granted: %s", rep->err_text);
	CHECK(rep->port == 4420 && (rep->fields & SPA_F(SPA_T_PATH)) &&
	      rep->nr_paths == 1 && rep->paths[0].port == 4421 &&
	      !strcmp(rep->paths[0].addr, "127.0.0.1"),
	      "the grant names both paths (%u further)", rep->nr_paths);
	CHECK(fake_ctx.last.port_id == 4420 && fake_ctx.last.port_id2 == 4421 &&
	      fake_ctx.last.trsvcid2 == 4421 &&
	      !strcmp(fake_ctx.last.traddr2, "127.0.0.1"),
	      "exported on ports %u and %u", fake_ctx.last.port_id,
	      fake_ctx.last.port_id2);
	/* A borrower from before multipath: no path field it cannot read. */
	req->fields &= ~SPA_F(SPA_T_MAX_PATHS);
	req->max_paths = 0;
	req->req_id[0] = 2;
	spa_lender_request(&l, req, "test", rep);
	CHECK(rep->type == SPA_GRANT, "granted: %s", rep->err_text);
	CHECK(!(rep->fields & SPA_F(SPA_T_PATH)) && !rep->nr_paths,
	      "no path field without max_paths");
	/* max_paths 1: the first path only. */
	req->fields |= SPA_F(SPA_T_MAX_PATHS);
	req->max_paths = 1;
	req->req_id[0] = 3;
	spa_lender_request(&l, req, "test", rep);
	CHECK(rep->type == SPA_GRANT && !rep->nr_paths,
	      "no path field for max_paths 1");
	spa_lender_free(&l);
	free(req);
}

/* ------------------------------------------------------- the guard */

#define GUARD_HEAD \
	"# slicepool-agent: who reaches the exports " \
	"(Documentation/nvmet-remote-ns.rst, \"Tunnel\")\n" \
	"table inet slicepool_agent\ndelete table inet slicepool_agent\n"

/* The script, exactly: per port an accept for its borrower, a reset. */
static void t_guard_script(void)
{
	static const char want[] = GUARD_HEAD
		"table inet slicepool_agent {\n"
		"\tchain exports {\n"
		"\t\ttype filter hook input priority 0; policy accept;\n"
		"\t\tip daddr 10.98.0.1 tcp dport 4420 iifname \"spwg0\" ip saddr 10.98.0.2 accept comment \"b\"\n"
		"\t\tip daddr 10.98.0.1 tcp dport 4420 reject with tcp reset\n"
		"\t\tip daddr 10.98.0.1 tcp dport 4421 reject with tcp reset\n"
		"\t}\n}\n";
	static const char want6[] = GUARD_HEAD
		"table inet slicepool_agent {\n"
		"\tchain exports {\n"
		"\t\ttype filter hook input priority 0; policy accept;\n"
		"\t\tip6 daddr fd98::1 tcp dport 4420 iifname \"wg1\" ip6 saddr fd98::2 accept comment \"b\"\n"
		"\t\tip6 daddr fd98::1 tcp dport 4420 reject with tcp reset\n"
		"\t}\n}\n";
	struct spa_guard g = { 0 };
	struct spa_config c;
	char buf[2048];
	int n;

	spa_config_defaults(&c);
	snprintf(c.tunnel_addr, sizeof(c.tunnel_addr), "10.98.0.1");
	n = spa_guard_script(&c, &g, buf, sizeof(buf));
	CHECK(n == (int)strlen(GUARD_HEAD) && !strcmp(buf, GUARD_HEAD),
	      "no port: the table is removed, nothing else:\n%s", buf);
	CHECK(!spa_guard_add(&g, 4420, "b", "10.98.0.2") &&
	      !spa_guard_add(&g, 4420, "b", "10.98.0.2") && g.n == 1,
	      "a port is added once (%u)", g.n);
	/* A port claimed for two addresses admits nobody. */
	CHECK(!spa_guard_add(&g, 4421, "c", "10.98.0.3") &&
	      !spa_guard_add(&g, 4421, "d", "10.98.0.4") && g.n == 2 &&
	      !g.p[1].peer_addr[0], "a port of two borrowers admits nobody");
	n = spa_guard_script(&c, &g, buf, sizeof(buf));
	CHECK(n == (int)strlen(want) && !strcmp(buf, want),
	      "the script:\n%s", buf);
	CHECK(spa_guard_script(&c, &g, buf, strlen(want)) == -ENOSPC,
	      "a buffer one byte short: -ENOSPC");
	snprintf(c.tunnel_addr, sizeof(c.tunnel_addr), "fd98::1");
	snprintf(c.tunnel_if, sizeof(c.tunnel_if), "wg1");
	g.n = 0;
	spa_guard_add(&g, 4420, "b", "fd98::2");
	n = spa_guard_script(&c, &g, buf, sizeof(buf));
	CHECK(n > 0 && !strcmp(buf, want6), "IPv6:\n%s", buf);
	for (n = 0; n < SPA_GUARD_MAX; n++)
		spa_guard_add(&g, 5000 + n, "b", "fd98::2");
	CHECK(g.n == SPA_GUARD_MAX &&
	      spa_guard_add(&g, 6000, "b", "fd98::2") == -ENOSPC, "full");
}

/* The guard as the fake backend holds it: "port=addr ..." in order. */
static const char *guard_is(void)
{
	static char buf[512];
	unsigned int i;
	size_t n = 0;

	buf[0] = '\0';
	for (i = 0; i < fake_ctx.guard.n && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%u=%s",
			      i ? " " : "", fake_ctx.guard.p[i].port,
			      fake_ctx.guard.p[i].peer_addr[0] ?
			      fake_ctx.guard.p[i].peer_addr : "nobody");
	return buf;
}

/* A REQUEST of 64 MiB from @node with request id @rid: the reply's port. */
static int ask(struct spa_lender *l, const char *node, u8 rid,
	       struct spa_msg *req, struct spa_msg *rep)
{
	spa_msg_init(req, &ca, SPA_REQUEST);
	snprintf(req->node, sizeof(req->node), "%s", node);
	req->fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		       SPA_F(SPA_T_REQ_ID);
	snprintf(req->hostnqn, sizeof(req->hostnqn), HOSTNQN_B);
	req->size = 64 << 20;
	memset(req->req_id, 0, SPA_ID_LEN);
	req->req_id[0] = rid;
	spa_lender_request(l, req, "test", rep);
	return rep->type == SPA_GRANT ? rep->port : -1;
}

static bool give_back(struct spa_lender *l, const char *node, u64 id,
		      struct spa_msg *rep)
{
	struct spa_msg req;

	spa_msg_init(&req, &ca, SPA_RELEASE);
	snprintf(req.node, sizeof(req.node), "%s", node);
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = id;
	spa_lender_release(l, &req, "test", rep);
	return rep->type == (SPA_RELEASE | SPA_REPLY);
}

static void tunnel_lender(const char *name)
{
	fresh(name);
	snprintf(ca.tunnel_addr, sizeof(ca.tunnel_addr), "10.98.0.1");
	snprintf(ca.export_addr, sizeof(ca.export_addr), "10.98.0.1");
	ca.nr_tunnels = 2;
	snprintf(ca.tunnels[0].name, sizeof(ca.tunnels[0].name), "b");
	snprintf(ca.tunnels[0].addr, sizeof(ca.tunnels[0].addr), "10.98.0.2");
	snprintf(ca.tunnels[1].name, sizeof(ca.tunnels[1].name), "c");
	snprintf(ca.tunnels[1].addr, sizeof(ca.tunnels[1].addr), "10.98.0.3");
}

/*
 * Each borrower's grants on a port of its own, guarded before it is
 * exported, the guard following grants, releases and the reconcile; a
 * guard that cannot be set refuses the grant (nothing made) or stops
 * the reconcile.
 */
static void t_guard_ports(void)
{
	static const char no_guard[] =
		"cannot set up the exports' guard: injected guard failure: Operation not permitted";
	struct spa_msg *req, *rep;
	unsigned int exports, creates;
	struct spa_lender l;
	u64 b1, b2, c1;
	char why[256];

	tunnel_lender("r6");
	req = open_lender(&l);
	if (!req)
		return;
	rep = req + 1;
	CHECK(ask(&l, "b", 1, req, rep) == 4420 &&
	      fake_ctx.last.port_id == 4420, "b's grant: port 4420 (%s)",
	      rep->err_text);
	b1 = rep->grant_id;
	CHECK(!strcmp(guard_is(), "4420=10.98.0.2"), "guard: %s", guard_is());
	CHECK(ask(&l, "c", 1, req, rep) == 4421 &&
	      fake_ctx.last.port_id == 4421 && fake_ctx.last.trsvcid == 4421,
	      "c's grant: a port of its own, 4421 (%d)", rep->port);
	c1 = rep->grant_id;
	CHECK(!strcmp(guard_is(), "4420=10.98.0.2 4421=10.98.0.3"),
	      "guard: %s", guard_is());
	CHECK(ask(&l, "b", 2, req, rep) == 4420, "b's second grant: 4420 again");
	b2 = rep->grant_id;
	CHECK(give_back(&l, "b", b1, rep) &&
	      !strcmp(guard_is(), "4420=10.98.0.2 4421=10.98.0.3"),
	      "b's first grant back: its port still guarded for the second: %s",
	      guard_is());
	CHECK(give_back(&l, "b", b2, rep) &&
	      !strcmp(guard_is(), "4421=10.98.0.3"),
	      "b's last grant back: its rule goes: %s", guard_is());

	fake_ctx.fail_guard = EPERM;
	exports = fake_ctx.exports;
	creates = fake_ctx.creates;
	CHECK(ask(&l, "b", 3, req, rep) < 0 && rep->err_code == SPA_ERR_FAILED &&
	      !strcmp(rep->err_text, no_guard),
	      "no guard, no grant: %s", rep->err_text);
	CHECK(fake_ctx.exports == exports && fake_ctx.creates == creates,
	      "... nothing made or exported");
	CHECK(spa_lender_reconcile(&l) < 0, "no guard at start: reconcile fails");
	fake_ctx.fail_guard = 0;
	spa_lender_free(&l);

	/* The next start: the guard rebuilt from the ledger. */
	memset(&fake_ctx.guard, 0, sizeof(fake_ctx.guard));
	ca.nr_tunnels = 1;	/* c's peer_tunnel line is gone */
	if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		free(req);
		return;
	}
	CHECK(spa_lender_reconcile(&l) == 0 &&
	      !strcmp(guard_is(), "4421=nobody"),
	      "reconcile: c's grant (c no longer configured) admits nobody: %s",
	      guard_is());
	CHECK(give_back(&l, "c", c1, rep) && !fake_ctx.guard.n,
	      "the last grant back: the guard is empty (%u)",
	      fake_ctx.guard.n);
	spa_lender_free(&l);
	free(req);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "reconcile: tear down, keep, export again, remove strays",
		  t_reconcile },
		{ "reconcile without a ledger removes nothing", t_no_ledger },
		{ "a teardown that fails is left and retried", t_teardown_fails },
		{ "a corrupt ledger is refused with its line", t_corrupt_ledger },
		{ "the standby path: exported, granted only when asked",
		  t_two_paths },
		{ "the exports' guard: its nftables script", t_guard_script },
		{ "the exports' guard: a port per borrower, guarded",
		  t_guard_ports },
	};

	return ktap_run(cases, ARRAY_SIZE(cases));
}
