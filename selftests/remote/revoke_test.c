// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of revocation and leases in slicepool-agent
 * (nvmet-remote-ns/agent/lender.c, revoke.c, ctl.c) on the fake backend.
 *
 * The lender: a revoke takes an active grant to revoking (nothing else:
 * refused, unchanged); only the grant's borrower may report on it (c is
 * refused as not the owner); a refusal report or an undelivered REVOKE
 * takes it back to active with a note 'status' prints; a RELEASE of a
 * revoking grant clears it as any release does.  The lease: a grant
 * whose borrower was not heard for longer than the lease is fenced (its
 * export removed, its volume and slices kept, still counted as lent), not
 * before; unfence exports it again; release-fenced zeroes and deletes it;
 * a restart keeps a fenced grant unexported.  A revocation the borrower
 * accepted (or reported on) whose borrower the health watch then
 * declares down is completed without it: the export withdrawn first (a
 * failure frees nothing, and is tried again), then zeroed and deleted,
 * noted for 'status'.  The borrower: a REVOKE from
 * a peer that is not the grant's lender is refused (not the owner),
 * logged, and nothing changes; unknown and not active grants refused; an
 * accepted one runs 'slicepool member evacuate POOL MEMBER' in a worker
 * and reports the tool's refusal.  The control socket: bad requests are
 * refused with the value named, nothing changed.
 */
#include <signal.h>
#include <sys/signalfd.h>

#include "remote-test.h"

#define MIB	1048576ULL

static struct spa_config ca;
static struct spa_keys ring_a, ring_b, ring_c;

static bool vol_there(u64 id)
{
	return fake_vol_u64("pa", grant_vol(&ca, id), "size") != ~0ULL;
}

static bool export_there(u64 id)
{
	char subnqn[SPA_NQN_MAX + 1];

	spa_grant_names(&ca, id, NULL, 0, subnqn, sizeof(subnqn));
	return fb_exported(NULL, subnqn, ca.nvmet_port_id);
}

static int state_of(struct spa_lender *l, u64 id)
{
	struct spa_grant *g = spa_ledger_find(&l->ledger, id);

	return g ? g->state : 0;
}

/* The note 'status' prints for grant @id ("" if none). */
static const char *note_of(u64 id)
{
	static char text[512];
	char path[PATH_MAX];

	text[0] = '\0';
	if (!spa_note_path(&ca, id, path, sizeof(path)))
		spu_read_buf(path, text, sizeof(text));
	return text;
}

/* A lender on fresh_pa2(@name) with a 256 MiB grant to b: its id, or 0. */
static u64 fresh_grant(const char *name, struct spa_lender *l)
{
	struct spa_msg rep;
	char why[256];
	u64 id;

	fresh_pa2(&ca, name);
	ca.lease = 30;
	ca.nr_peers = 2;
	snprintf(ca.peers[1].name, sizeof(ca.peers[1].name), "c");
	snprintf(ca.peers[1].addr, sizeof(ca.peers[1].addr), "127.0.0.1");
	ca.peers[1].port = 10;
	if (spa_lender_init(l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return 0;
	}
	id = grant_to_b(l, &ca, 256 * MIB, &rep);
	if (!id || !vol_there(id) || !export_there(id)) {
		fail("no grant: %s", rep.err_text);
		spa_lender_free(l);
		return 0;
	}
	return id;
}

/* A REVOKE_REPORT on @id from @node; the reply's error code, 0 if noted. */
static unsigned int report(struct spa_lender *l, const char *node, u64 id,
			   unsigned int code, const char *text)
{
	struct spa_msg req, rep;

	spa_msg_init(&req, &ca, SPA_REVOKE_REPORT);
	snprintf(req.node, sizeof(req.node), "%s", node);
	req.fields |= SPA_F(SPA_T_GRANT_ID) | SPA_F(SPA_T_ERR_TEXT);
	req.grant_id = id;
	snprintf(req.err_text, sizeof(req.err_text), "%s", text);
	if (code) {
		req.fields |= SPA_F(SPA_T_ERR_CODE);
		req.err_code = code;
	}
	spa_lender_revoke_report(l, &req, "test", &rep);
	if (rep.type == SPA_ERROR)
		return rep.err_code;
	return rep.type == (SPA_REVOKE_REPORT | SPA_REPLY) &&
	       rep.grant_id == id ? 0 : ~0U;
}

static void t_revoke_states(void)
{
	char peer[SPA_NODE_MAX + 1] = "", why[512] = "";
	struct spa_msg req, rep;
	struct spa_lender l;
	u64 id = fresh_grant("states", &l), free_before;

	if (!id)
		return;
	CHECK(spa_lender_revoke_begin(&l, id + 1, peer, why, sizeof(why)) &&
	      strstr(why, "no grant"), "unknown grant refused: %s", why);
	CHECK(!spa_lender_revoke_begin(&l, id, peer, why, sizeof(why)) &&
	      !strcmp(peer, "b") && state_of(&l, id) == SPA_G_REVOKING,
	      "active -> revoking, borrower b: %s", why);
	CHECK(!strcmp(note_of(id), "revoke asked: REVOKE sent to b"),
	      "note: %s", note_of(id));
	CHECK(spa_lender_revoke_begin(&l, id, peer, why, sizeof(why)) &&
	      strstr(why, "is revoking: only a grant active can be revoked") &&
	      state_of(&l, id) == SPA_G_REVOKING,
	      "a second revoke refused: %s", why);
	CHECK(report(&l, "c", id, 0, "evil") == SPA_ERR_NOT_OWNER &&
	      state_of(&l, id) == SPA_G_REVOKING &&
	      cap_has("revoke report on", "refused: not the owner"),
	      "c reports on b's grant: refused, logged");
	CHECK(report(&l, "b", id, 0, "moving the slices of member m off") ==
	      0 && state_of(&l, id) == SPA_G_REVOKING &&
	      !strcmp(note_of(id),
		      "revoking: b reports: moving the slices of member m off"),
	      "b's progress noted: %s", note_of(id));
	CHECK(report(&l, "b", id, SPA_ERR_NO_SPACE, "3 slices missing") == 0 &&
	      state_of(&l, id) == SPA_G_ACTIVE && export_there(id) &&
	      !strcmp(note_of(id), "revoke refused by b: 3 slices missing"),
	      "b's refusal: active again, noted: %s", note_of(id));
	CHECK(report(&l, "b", id, 0, "late") == SPA_ERR_BUSY,
	      "a report on an active grant refused");
	/* Asked again; this time b gives it back. */
	CHECK(!spa_lender_revoke_begin(&l, id, peer, why, sizeof(why)),
	      "revoke again: %s", why);
	free_before = pa2_free();
	spa_msg_init(&req, &ca, SPA_RELEASE);
	snprintf(req.node, sizeof(req.node), "b");
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = id;
	spa_lender_release(&l, &req, "test", &rep);
	CHECK(rep.type == (SPA_RELEASE | SPA_REPLY) &&
	      state_of(&l, id) == SPA_G_RELEASED && !vol_there(id) &&
	      !export_there(id) && pa2_free() == free_before + 16,
	      "b's release of the revoking grant: released, slices back (%s)",
	      rep.err_text);
	CHECK(!note_of(id)[0], "the note is gone");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/* The REVOKE cannot be delivered (b does not answer): active again. */
static void t_revoke_undelivered(void)
{
	struct spa_agent a = { .cfg = &ca };
	struct spa_key kb;
	struct spa_lender l;
	char line[64], out[1024];
	u64 id = fresh_grant("undelivered", &l);

	if (!id)
		return;
	a.lender = &l;
	a.keys = &ring_b;	/* a key for peer b: the call is made */
	spa_keys_init(&ring_b);
	test_key(&kb, TEST_KEY_HEX);
	spa_keys_set(&ring_b, "b", &kb, NULL);
	ca.io_timeout = 1;
	snprintf(line, sizeof(line), "revoke %016llx", id);
	spa_ctl_exec(&a, line, out, sizeof(out));
	CHECK(!strncmp(out, "failed ", 7) && strstr(out, "stays active") &&
	      state_of(&l, id) == SPA_G_ACTIVE && export_there(id),
	      "%s", out);
	CHECK(!strncmp(note_of(id), "revoke failed: cannot connect to ", 33),
	      "noted: %s", note_of(id));
	spa_keys_free(&ring_b);
	spa_lender_free(&l);
}

static void t_lease(void)
{
	struct spa_agent a = { .cfg = &ca };
	struct spa_lender l;
	struct spa_peers t;
	char why[512] = "", line[64], out[1024], want[64];
	u64 id = fresh_grant("lease", &l), now, free_before, lent;
	unsigned int grants;

	if (!id)
		return;
	a.lender = &l;
	spa_peers_init(&t, &ca);
	spa_peers_heard(&t, "b");
	CHECK(t.n >= 1 && t.p[0].heard_mono, "b heard");
	now = t.p[0].heard_mono;
	CHECK(spa_lender_lease_check(&l, &t, now + 30000) == 0 &&
	      state_of(&l, id) == SPA_G_ACTIVE && export_there(id),
	      "not fenced within the lease (30 s)");
	free_before = pa2_free();
	CHECK(spa_lender_lease_check(&l, &t, now + 30001) == 1 &&
	      state_of(&l, id) == SPA_G_FENCED, "fenced past the lease");
	spa_lender_stats(&l, &lent, &grants);
	CHECK(!export_there(id) && vol_there(id) &&
	      pa2_free() == free_before && grants == 1,
	      "export removed; volume, slices kept, still lent (%u)", grants);
	CHECK(cap_has("fenced ", "its borrower b was not heard for 30 s (lease 30 s)"),
	      "logged");
	CHECK(!strcmp(note_of(id), "fenced: b not heard for 30 s (lease 30 s)"),
	      "noted: %s", note_of(id));
	CHECK(spa_lender_lease_check(&l, &t, now + 90000) == 0,
	      "fenced once");
	/* A restart keeps it fenced: not exported again. */
	spa_lender_free(&l);
	if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why)) ||
	    spa_lender_reconcile(&l)) {
		fail("restart: %s", why);
		return;
	}
	CHECK(state_of(&l, id) == SPA_G_FENCED && !export_there(id) &&
	      vol_there(id), "after a restart: fenced, unexported, kept");
	snprintf(line, sizeof(line), "unfence %016llx", id);
	spa_ctl_exec(&a, line, out, sizeof(out));
	snprintf(want, sizeof(want), "ok unfenced %016llx", id);
	CHECK(!strcmp(out, want), "%s", out);
	CHECK(state_of(&l, id) == SPA_G_ACTIVE && export_there(id),
	      "unfenced: active and exported again");
	spa_ctl_exec(&a, line, out, sizeof(out));
	CHECK(!strncmp(out, "refused grant ", 14) &&
	      strstr(out, "is active: only a grant fenced can be unfenced"),
	      "unfence of an active grant refused: %s", out);
	snprintf(line, sizeof(line), "release-fenced %016llx", id);
	spa_ctl_exec(&a, line, out, sizeof(out));
	CHECK(!strncmp(out, "refused ", 8) && state_of(&l, id) == SPA_G_ACTIVE &&
	      export_there(id), "release-fenced of an active grant refused: %s",
	      out);
	now = spa_mono_ms();
	CHECK(spa_lender_lease_check(&l, &t, now + 10 * 60000) == 1,
	      "fenced again");
	free_before = pa2_free();
	spa_ctl_exec(&a, line, out, sizeof(out));
	snprintf(want, sizeof(want), "ok released %016llx", id);
	CHECK(!strcmp(out, want), "%s", out);
	CHECK(state_of(&l, id) == SPA_G_RELEASED && !vol_there(id) &&
	      pa2_free() == free_before + 16 && !note_of(id)[0],
	      "released: volume zeroed and deleted, slices back");
	spa_peers_destroy(&t);
	ca.lease = 0;
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/*
 * The borrower accepted the revocation, then was declared down by the
 * health watch: the lender completes it alone (export withdrawn first,
 * then zeroed and deleted, the slices back), logged naming b, shown by
 * 'status'.  Not before the borrower is declared down and silent for
 * heartbeat_timeout since it accepted; never a REVOKE it did not accept;
 * a teardown that fails frees nothing and is tried again.
 */
static void t_revoke_dead(void)
{
	/* What is logged, and the note 'status' shows. */
	static const char *const want[] = {
		"its borrower b accepted it, then was declared down (not heard for 20 s, heartbeat_timeout 20 s): completing it without b",
		"revoked without b: it was declared down during the revocation (not heard for 20 s, heartbeat_timeout 20 s): export withdrawn, volume zeroed and deleted, its space lendable again",
	};
	char peer[SPA_NODE_MAX + 1] = "", why[512] = "", text[512];
	struct spa_grant *g;
	struct spa_lender l;
	struct spa_peers t;
	u64 id = fresh_grant("dead", &l), id2, now, free_before, lent;
	u64 hbt = 20000;
	unsigned int zeroes, grants;
	struct spa_msg rep;

	if (!id)
		return;
	ca.heartbeat_timeout = 20;
	spa_peers_init(&t, &ca);
	spa_peers_heard(&t, "b");
	now = spa_mono_ms();
	CHECK(!spa_lender_revoke_begin(&l, id, peer, why, sizeof(why)),
	      "revoking: %s", why);
	/* Not accepted (REVOKE in flight, or never answered): left alone. */
	spa_peers_check(&t, now + 10 * hbt, hbt);
	CHECK(spa_lender_revoke_check(&l, &t, now + 10 * hbt, hbt) == 0 &&
	      state_of(&l, id) == SPA_G_REVOKING && export_there(id),
	      "b down, but it never accepted the REVOKE: still revoking");

	spa_peers_heard(&t, "b");
	now = spa_mono_ms();
	spa_lender_revoke_accepted(&l, id);
	spa_peers_check(&t, now + hbt, hbt);
	CHECK(spa_lender_revoke_check(&l, &t, now + hbt, hbt) == 0 &&
	      state_of(&l, id) == SPA_G_REVOKING,
	      "accepted, b silent for heartbeat_timeout only: still revoking");
	free_before = pa2_free();
	now = spa_mono_ms();
	spa_peers_check(&t, now + hbt + 1, hbt);
	/* A release zeroing under the lender's lock: the round waits not. */
	pthread_mutex_lock(&l.lock);
	CHECK(spa_lender_revoke_check(&l, &t, now + hbt + 1, hbt) == 0 &&
	      spa_lender_lease_check(&l, &t, now + 10 * 60000) == 0 &&
	      state_of(&l, id) == SPA_G_REVOKING,
	      "the lender busy: the heartbeat thread looks at nothing, waits for nothing");
	pthread_mutex_unlock(&l.lock);
	CHECK(spa_lender_revoke_check(&l, &t, now + hbt + 1, hbt) == 1,
	      "b declared down: handed to the finisher");
	spa_lender_finisher_wait(&l);
	spa_lender_stats(&l, &lent, &grants);
	CHECK(state_of(&l, id) == SPA_G_RELEASED && !export_there(id) &&
	      !vol_there(id) && pa2_free() == free_before + 16 && grants == 0,
	      "released: export withdrawn, volume deleted, 16 slices back, nothing lent (%u)",
	      grants);
	CHECK(cap_has("revoke of ", want[0]) &&
	      cap_has("completed without its borrower b (declared down)", NULL),
	      "logged, naming b");
	g = spa_ledger_find(&l.ledger, id);
	CHECK(g && !spa_grant_note(&ca, g, text, sizeof(text)) &&
	      !strcmp(text, want[1]),
	      "status shows it: %s", g ? text : "no grant");
	CHECK(spa_lender_revoke_check(&l, &t, now + 10 * hbt, hbt) == 0,
	      "done once");

	/* The export cannot be withdrawn: nothing zeroed or freed. */
	id2 = grant_to_b(&l, &ca, 256 * MIB, &rep);
	CHECK(id2 && !spa_lender_revoke_begin(&l, id2, peer, why, sizeof(why)),
	      "a second grant, revoking: %s", why);
	spa_peers_heard(&t, "b");
	spa_lender_revoke_accepted(&l, id2);
	fake_ctx.fail_unexport = EBUSY;
	zeroes = fake_ctx.zeroes;
	free_before = pa2_free();
	now = spa_mono_ms();
	spa_peers_check(&t, now + hbt + 1, hbt);
	CHECK(spa_lender_revoke_check(&l, &t, now + hbt + 1, hbt) == 1,
	      "b down again: handed to the finisher");
	spa_lender_finisher_wait(&l);
	CHECK(state_of(&l, id2) == SPA_G_RELEASING && vol_there(id2) &&
	      fake_ctx.zeroes == zeroes && pa2_free() == free_before,
	      "unexport failed: releasing, volume kept, not zeroed, no slice freed");
	CHECK(!strncmp(note_of(id2), "revoking without b (declared down", 33),
	      "noted: %s", note_of(id2));
	fake_ctx.fail_unexport = 0;
	CHECK(spa_lender_revoke_check(&l, &t, now + hbt + 2, hbt) == 1,
	      "tried again at the next round");
	spa_lender_finisher_wait(&l);
	CHECK(state_of(&l, id2) == SPA_G_RELEASED && !vol_there(id2) &&
	      !export_there(id2) && fake_ctx.zeroes == zeroes + 1 &&
	      pa2_free() == free_before + 16,
	      "then released: exported no more, zeroed once, slices back");

	/*
	 * A restart forgets what was accepted: a report from b says it is
	 * in progress again.
	 */
	id2 = grant_to_b(&l, &ca, 256 * MIB, &rep);
	CHECK(id2 && !spa_lender_revoke_begin(&l, id2, peer, why, sizeof(why)),
	      "a third grant, revoking: %s", why);
	spa_lender_free(&l);
	if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
		fail("restart: %s", why);
		return;
	}
	spa_peers_heard(&t, "b");
	now = spa_mono_ms();
	spa_peers_check(&t, now + hbt + 1, hbt);
	CHECK(spa_lender_revoke_check(&l, &t, now + hbt + 1, hbt) == 0 &&
	      state_of(&l, id2) == SPA_G_REVOKING,
	      "after a restart, not heard of since: still revoking");
	spa_peers_heard(&t, "b");
	CHECK(report(&l, "b", id2, 0, "moving the slices of member m off") == 0,
	      "b reports");
	now = spa_mono_ms();
	spa_peers_check(&t, now + hbt + 1, hbt);
	CHECK(spa_lender_revoke_check(&l, &t, now + hbt + 1, hbt) == 1,
	      "then declared down: completed");
	spa_lender_finisher_wait(&l);
	CHECK(state_of(&l, id2) == SPA_G_RELEASED && !vol_there(id2),
	      "released");
	spa_peers_destroy(&t);
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

static void t_ctl_bad(void)
{
	static const char *const bad[][2] = {
		{ "revoke", "refused bad request 'revoke'" },
		{ "revoke 12", "refused bad request 'revoke 12'" },
		{ "revoke 000000000000000g", "refused bad request 'revoke 000000000000000g'" },
		{ "revoke 0000000000000000", "refused bad request 'revoke 0000000000000000'" },
		{ "revoke 0000000000000001 x", "refused bad request 'revoke 0000000000000001 x'" },
		{ "frob 0000000000000001", "refused unknown request 'frob'" },
		{ "revoke 0000000000000001", "refused no grant 0000000000000001 lent here" },
	};
	struct spa_agent a = { .cfg = &ca };
	struct spa_lender l;
	char out[1024];
	unsigned int i;
	u64 id = fresh_grant("ctl", &l);

	if (!id)
		return;
	a.lender = &l;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		spa_ctl_exec(&a, bad[i][0], out, sizeof(out));
		CHECK(!strcmp(out, bad[i][1]), "'%s': %s", bad[i][0], out);
	}
	CHECK(i == 7 && state_of(&l, id) == SPA_G_ACTIVE && export_there(id),
	      "the grant unchanged");
	a.lender = NULL;
	spa_ctl_exec(&a, "revoke 0000000000000001", out, sizeof(out));
	CHECK(!strcmp(out, "refused node a does not lend"), "%s", out);
	spa_lender_free(&l);
}

/* The socket: a request and its answer, the stop pipe ends the thread. */
static void t_ctl_socket(void)
{
	struct spa_agent a = { .cfg = &ca };
	struct spa_ctl ctl;
	struct spa_lender l;
	char out[1024], why[512] = "";
	int p[2];
	u64 id = fresh_grant("sock", &l);

	if (!id || pipe(p))
		return;
	a.lender = &l;
	CHECK(!spa_ctl_start(&ctl, &a, p[0], why, sizeof(why)), "%s", why);
	CHECK(!spa_ctl_call(&ca, "frob 0000000000000001", out, sizeof(out),
			    why, sizeof(why)) &&
	      !strcmp(out, "refused unknown request 'frob'"), "%s %s", out,
	      why);
	CHECK(write(p[1], "x", 1) == 1, "stop");
	spa_ctl_stop(&ctl);
	CHECK(spa_ctl_call(&ca, "frob 0000000000000001", out, sizeof(out),
			   why, sizeof(why)) &&
	      strstr(why, "cannot reach the daemon"), "stopped: %s", why);
	close(p[0]);
	close(p[1]);
	spa_lender_free(&l);
}

/* ------------------------------------------------ the borrower's side */

static struct test_server srv;
static struct spa_config cb, cc;

#define GID_ACTIVE	0x42ULL
#define GID_CONNECTING	0x44ULL

/* a's borrowed ledger: 0x42 from b (active), 0x44 from b (connecting). */
static void borrowed_ledger(void)
{
	char path[PATH_MAX], why[256];
	struct spa_ledger l;
	struct spa_grant *g;
	u64 ids[] = { GID_ACTIVE, GID_CONNECTING };
	unsigned int i;

	snprintf(path, sizeof(path), "%s/borrowed", ca.state_dir);
	if (spa_ledger_load(&l, path, false, why, sizeof(why)))
		exit(1);
	for (i = 0; i < 2; i++) {
		g = spa_ledger_add(&l);
		g->id = ids[i];
		g->state = i ? SPA_G_CONNECTING : SPA_G_ACTIVE;
		snprintf(g->peer, sizeof(g->peer), "b");
		g->size = 64 * MIB;
		snprintf(g->name, sizeof(g->name), "rm-%016llx", ids[i]);
		g->req_id[0] = 1;
	}
	if (spa_ledger_save(&l, why, sizeof(why)))
		exit(1);
	spa_ledger_free(&l);
}

static bool borrower_setup(void);

static int borrowed_state(u64 id)
{
	char path[PATH_MAX], why[256];
	struct spa_ledger l;
	struct spa_grant *g;
	int state = 0;

	snprintf(path, sizeof(path), "%s/borrowed", ca.state_dir);
	if (spa_ledger_load(&l, path, false, why, sizeof(why)))
		return -1;
	g = spa_ledger_find(&l, id);
	if (g)
		state = g->state;
	spa_ledger_free(&l);
	return state;
}

/* REVOKE of @id to a, sent as @c with @k; the reply's type or error code. */
static unsigned int send_revoke(const struct spa_config *c,
				struct spa_keys *k, u64 id, struct spa_msg *rep)
{
	struct spa_msg req;
	char why[512];

	spa_msg_init(&req, c, SPA_REVOKE);
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = id;
	if (spa_call(c, k, "127.0.0.1", srv.port, "a", &req, rep, why,
		     sizeof(why))) {
		fail("call: %s", why);
		return ~0U;
	}
	return rep->type == SPA_ERROR ? rep->err_code : 0;
}

static void t_borrower_other(void)
{
	struct spa_msg rep;

	if (!borrower_setup()) {
		fail("cannot set up the served agent");
		return;
	}
	CHECK(send_revoke(&cc, &ring_c, GID_ACTIVE, &rep) == SPA_ERR_NOT_OWNER &&
	      strstr(rep.err_text, "was not lent by c"),
	      "c revokes b's grant: %s", rep.err_text);
	CHECK(cap_has("revoke of 0000000000000042 from c: not the owner: ",
		      ": grant 0000000000000042 was not lent by c"),
	      "the refusal is logged");
	CHECK(borrowed_state(GID_ACTIVE) == SPA_G_ACTIVE,
	      "the borrowed grant is unchanged");
}

static void t_borrower_refused(void)
{
	struct spa_msg rep;

	CHECK(send_revoke(&cb, &ring_b, 0x43, &rep) == SPA_ERR_UNKNOWN_GRANT,
	      "unknown grant: %s", rep.err_text);
	CHECK(send_revoke(&cb, &ring_b, GID_CONNECTING, &rep) == SPA_ERR_BUSY &&
	      strstr(rep.err_text, "is connecting here"),
	      "a connecting grant: %s", rep.err_text);
}

/* Accepted from b: the worker runs the tool, whose refusal is reported. */
static void t_borrower_accepted(void)
{
	char args[256] = "", path[PATH_MAX];
	struct spa_msg rep;
	int i;

	CHECK(send_revoke(&cb, &ring_b, GID_ACTIVE, &rep) == 0 &&
	      rep.type == (SPA_REVOKE | SPA_REPLY) &&
	      rep.grant_id == GID_ACTIVE, "b's revoke accepted: %s",
	      spa_type_name(rep.type));
	for (i = 0; i < 100 && !cap_has("revoke of 0000000000000042 refused", NULL);
	     i++)
		usleep(50000);
	CHECK(cap_line("revoke of %016llx refused: %s rm-%016llx failed (exit 1): %s",
		       GID_ACTIVE, "slicepool member evacuate pa", GID_ACTIVE,
		       "slicepool: too few free slices: 3 missing"),
	      "the tool's refusal is reported");
	snprintf(path, sizeof(path), "%s/args", ca.state_dir);
	spu_read_buf(path, args, sizeof(args));
	CHECK(!strcmp(args, "member evacuate pa rm-0000000000000042"),
	      "the tool ran: %s", args);
	CHECK(borrowed_state(GID_ACTIVE) == SPA_G_ACTIVE,
	      "the grant stays in use");
}

/*
 * The evacuation's progress in bytes: member rm-42 of pool pa (64 MiB
 * slices) holds 4 slices; the fake tool frees 2, then the other 2, a
 * second apart, then fails.  The watcher, every 200 ms, reports 256 MiB
 * to move, then 128 MiB (50 %) and 256 MiB (100 %) moved.
 */
#define PROGRESS_PRE \
	"revoke of 0000000000000042: moving the slices of member " \
	"rm-0000000000000042 of pool pa off: "

static void t_borrower_progress(void)
{
	char m[PATH_MAX], path[PATH_MAX + 16], text[2 * PATH_MAX + 256];
	const char *pre = PROGRESS_PRE;
	struct spa_msg rep;
	int i;

	snprintf(m, sizeof(m), "%s/pa/members/rm-%016llx", spu_configfs_root(),
		 GID_ACTIVE);
	fake_member("pa", "rm-0000000000000042", 0, "online", 1);
	snprintf(path, sizeof(path), "%s/total_slices", m);
	put_u64(path, 4);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\nsleep 1\necho 2 > %s/free_slices\nsleep 1\n"
		 "echo 4 > %s/free_slices\nsleep 1\n"
		 "echo 'slicepool: interrupted' >&2\nexit 1\n", m, m);
	put_file(ca.slicepool_cli, text);
	spa_revoke_progress_ms = 200;
	CHECK(send_revoke(&cb, &ring_b, GID_ACTIVE, &rep) == 0,
	      "b's revoke accepted: %s", rep.err_text);
	for (i = 0; i < 200 && !cap_has("slicepool: interrupted", NULL); i++)
		usleep(50000);
	CHECK(cap_line("%s256 MiB (268435456 bytes) to move", pre),
	      "what there is to move, at the start");
	CHECK(cap_line("%s128 MiB of 256 MiB moved (134217728 bytes of 268435456, 50%%)",
		       pre), "half of it moved");
	CHECK(cap_line("%s256 MiB of 256 MiB moved (268435456 bytes of 268435456, 100%%)",
		       pre), "all of it moved");
	CHECK(cap_has("revoke of 0000000000000042 refused", "slicepool: interrupted"),
	      "then the tool's failure");
}

/* A slicepool volume's status line: a migration's bytes, at most its slices'. */
static void t_mig_status(void)
{
	static const char head[] = "10 20 80 160 0 0 2 m1:4:online m2:4:online";
	char st[512];
	u64 sb = 64 * MIB;

	snprintf(st, sizeof(st), "%s migration none", head);
	CHECK(spa_mig_copying(st, sb) == 0, "no migration: 0");
	snprintf(st, sizeof(st),
		 "%s migration copying filter 2-3 m2 1 100 128 28 0 5 1 0 0 100 0 104857600 0 0 0 on 3 50 7",
		 head);
	CHECK(spa_mig_copying(st, sb) == 100 * MIB, "copying: 100 MiB (%llu)",
	      ull(spa_mig_copying(st, sb)));
	snprintf(st, sizeof(st),
		 "%s migration switching filter 2-3 m2 2 0 4 0 0 9 3 0 0 140 12 146800640 0 0 0 on 3 50 7",
		 head);
	CHECK(spa_mig_copying(st, sb) == 128 * MIB,
	      "recopies past its 2 slices: at most 128 MiB (%llu)",
	      ull(spa_mig_copying(st, sb)));
	snprintf(st, sizeof(st),
		 "%s migration done filter 2-3 m2 1 0 0 0 0 0 0 0 0 128 0 134217728 0 900 0 on 0 50 0",
		 head);
	CHECK(spa_mig_copying(st, sb) == 0, "done: counted as slices moved");
	CHECK(spa_mig_copying("garbage migration copying", sb) == 0,
	      "a short line: 0");
}

/* Lender a served with a borrowed ledger and a fake tool (once). */
static bool borrower_setup(void)
{
	static bool started;
	struct spa_key kb, kc;
	FILE *f;

	if (started)
		return true;
	cleanup_dir();
	test_server_config(&ca, true);
	fake_member("pa", "m1", 8, "online", 1);
	snprintf(ca.slicepool_cli, sizeof(ca.slicepool_cli), "%s/evac.sh",
		 ca.state_dir);
	f = fopen(ca.slicepool_cli, "w");
	if (!f)
		return false;
	fprintf(f, "#!/bin/sh\necho \"$*\" > %s/args\n"
		"echo 'evacuate: planning'\n"
		"echo 'slicepool: too few free slices: 3 missing' >&2\nexit 1\n",
		ca.state_dir);
	fclose(f);
	chmod(ca.slicepool_cli, 0755);
	borrowed_ledger();
	test_key(&kb, TEST_KEY_HEX);
	test_key(&kc, TEST_KEY2_HEX);
	spa_keys_init(&ring_a);
	spa_keys_set(&ring_a, "b", &kb, NULL);
	spa_keys_set(&ring_a, "c", &kc, NULL);
	spa_keys_init(&ring_b);
	spa_keys_set(&ring_b, "a", &kb, NULL);
	spa_keys_init(&ring_c);
	spa_keys_set(&ring_c, "a", &kc, NULL);
	ca.io_timeout = 1;
	test_server_start(&srv, &ca, &ring_a);
	test_client(&cb, "b", 7);
	test_client(&cc, "c", 8);
	started = true;
	return true;
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "lender: revoke, reports (the borrower only), refusal, release",
		  t_revoke_states },
		{ "lender: an undelivered REVOKE leaves the grant active",
		  t_revoke_undelivered },
		{ "lender: lease fences, unfence exports again, release-fenced clears",
		  t_lease },
		{ "lender: a revocation whose borrower is declared down is completed",
		  t_revoke_dead },
		{ "control requests: bad input refused, nothing changed",
		  t_ctl_bad },
		{ "control socket: a request and its answer", t_ctl_socket },
		{ "borrower: a REVOKE from another peer is refused, nothing changed",
		  t_borrower_other },
		{ "borrower: unknown and not active grants refused",
		  t_borrower_refused },
		{ "borrower: the lender's REVOKE runs member evacuate in a worker",
		  t_borrower_accepted },
		{ "borrower: the evacuation's progress reported in bytes",
		  t_borrower_progress },
		{ "a volume's status: the bytes its migration copies",
		  t_mig_status },
	};

	return test_server_run(&srv, cases, ARRAY_SIZE(cases));
}
