// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of giving a grant back (RELEASE): the lender
 * (nvmet-remote-ns/agent/lender.c) on a fake slicepool and nvmet tree.
 *
 * Release clears: a grant that was handed out is zeroed whole, after its
 * export is gone (the fake refuses zeroes over what nvmet still exports)
 * and before its volume is deleted (the fake refuses zeroes of a volume
 * that is gone), so its slices reach the pool only once they hold
 * nothing of the borrower's.  A zeroing that fails keeps the volume and
 * its slices, the grant stays releasing and the next release zeroes it
 * again; reconcile at start zeroes a releasing grant, tears an exporting
 * one (never handed out) down without zeroing, and records a releasing
 * grant whose volume is gone already as released.  A volume of no grant
 * (its ledger entry lost) is cleared the same way by reconcile: export
 * removed, zeroed whole, deleted; kept, logged and counted as left when
 * any of that fails; left alone when there is no ledger at all.  A
 * volume the pool only discovered at start (a reboot, then an assembly
 * that did not bind it; the fake refuses to zero, export or read one)
 * is bound first: then zeroed and deleted (a releasing grant's, or one
 * of no grant), or exported again (an active grant's); one that cannot
 * be bound is kept, logged, and cleared by the next start.
 */
#include "remote-test.h"

#define MIB	1048576ULL

static struct spa_config ca;

static bool vol_there(u64 id)
{
	return fake_vol_u64("pa", grant_vol(&ca, id), "size") != ~0ULL;
}

/*
 * fresh_pa2(@name), a lender @l on it, and a grant of 256 MiB to node b:
 * its id, 0 (after a failure) if any of it did not work.
 */
static u64 fresh_grant(const char *name, struct spa_lender *l)
{
	struct spa_msg rep;
	char why[256];
	u64 id;

	fresh_pa2(&ca, name);
	if (spa_lender_init(l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return 0;
	}
	id = grant_to_b(l, &ca, 256 * MIB, &rep);
	if (!id || pa2_free() != 48 || !vol_there(id)) {
		fail("no grant (%s), or %llu free slices", rep.err_text,
		     pa2_free());
		spa_lender_free(l);
		return 0;
	}
	return id;
}

/* Runs @body on a fresh grant (fresh_grant(@name)), then frees it all. */
static void on_grant(const char *name,
		     void (*body)(struct spa_lender *l, u64 id))
{
	struct spa_lender l;
	u64 id = fresh_grant(name, &l);

	if (!id)
		return;
	body(&l, id);
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/* RELEASE of @id from b; the reply's error code, 0 if released. */
static unsigned int release(struct spa_lender *l, u64 id, struct spa_msg *rep)
{
	struct spa_msg req;

	spa_msg_init(&req, &ca, SPA_RELEASE);
	snprintf(req.node, sizeof(req.node), "b");
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = id;
	spa_lender_release(l, &req, "test", rep);
	if (rep->type == SPA_ERROR)
		return rep->err_code;
	return rep->type == (SPA_RELEASE | SPA_REPLY) && rep->grant_id == id ?
	       0 : ~0U;
}

/* The state of grant @id in the ledger file, as the next start reads it. */
static int disk_state(struct spa_lender *l, u64 id)
{
	struct spa_ledger disk;
	struct spa_grant *g;
	char why[256];
	int state = -1;

	if (spa_ledger_load(&disk, l->ledger.path, true, why, sizeof(why))) {
		fail("ledger: %s", why);
		return -1;
	}
	g = spa_ledger_find(&disk, id);
	if (g)
		state = g->state;
	spa_ledger_free(&disk);
	return state;
}

/* Grant @id left in @state by a crash: the ledger file says so. */
static void crash_in(struct spa_lender *l, u64 id, int state)
{
	spa_ledger_find(&l->ledger, id)->state = state;
	if (spa_ledger_save(&l->ledger, NULL, 0))
		fail("cannot save the ledger");
	spa_lender_free(l);
}

static void release_zeroes(struct spa_lender *l, u64 id)
{
	struct spa_msg rep;
	unsigned int z0 = fake_ctx.zeroes;

	CHECK(!release(l, id, &rep), "refused: %s", rep.err_text);
	CHECK(fake_ctx.zeroes == z0 + 1, "%u zeroings", fake_ctx.zeroes - z0);
	CHECK(fake_ctx.zero_off == 0 && fake_ctx.zero_len == 256 * MIB,
	      "zeroed %llu at %llu", fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(!vol_there(id) && pa2_free() == 64,
	      "after the release: volume %s, %llu free slices",
	      vol_there(id) ? "kept" : "gone", pa2_free());
	CHECK(disk_state(l, id) == SPA_G_RELEASED, "ledger");
	CHECK(cap_has("released", "zeroed and removed"), "not logged");
	/* Released already: answered again, nothing zeroed twice. */
	CHECK(!release(l, id, &rep), "again: %s", rep.err_text);
	CHECK(fake_ctx.zeroes == z0 + 1, "zeroed again");
}

static void t_release_zeroes(void)
{
	on_grant("zeroes", release_zeroes);
}

static void zero_fails(struct spa_lender *l, u64 id)
{
	struct spa_msg rep;
	unsigned int z0;

	fake_ctx.fail_zero = EIO;
	CHECK(release(l, id, &rep) == SPA_ERR_FAILED, "answered %s: %s",
	      spa_type_name(rep.type), rep.err_text);
	printf("#   %s\n", rep.err_text);
	fake_ctx.fail_zero = 0;
	CHECK(disk_state(l, id) == SPA_G_RELEASING, "the ledger says %s",
	      spa_gstate_name(disk_state(l, id)));
	CHECK(vol_there(id) && pa2_free() == 48,
	      "the volume %s, %llu free slices", vol_there(id) ? "kept" : "gone",
	      pa2_free());
	CHECK(!fake_vol_exported("pa", grant_vol(&ca, id)), "still exported");
	CHECK(cap_has("release of", "cannot zero"), "not logged");

	z0 = fake_ctx.zeroes;
	CHECK(!release(l, id, &rep), "the retry: %s", rep.err_text);
	CHECK(fake_ctx.zeroes == z0 + 1 && fake_ctx.zero_off == 0 &&
	      fake_ctx.zero_len == 256 * MIB, "the retry zeroed %llu at %llu",
	      fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(!vol_there(id) && pa2_free() == 64 &&
	      disk_state(l, id) == SPA_G_RELEASED,
	      "after the retry: %llu free slices", pa2_free());
}

static void t_zero_fails(void)
{
	on_grant("zero-fails", zero_fails);
}

/*
 * Reconcile after a crash that left a grant in @state: zeroed (@zeroed)
 * or not, then its export and volume gone and the ledger "released".
 * @unexported: its export gone already (a reboot); @deleted: its volume
 * too (the crash came after the delete).
 */
static const struct crash_case {
	const char *what;
	int state;
	bool unexported, deleted, zeroed;
} crash_cases[] = {
	{ "releasing", SPA_G_RELEASING, false, false, true },
	{ "releasing, rebooted", SPA_G_RELEASING, true, false, true },
	{ "releasing, volume gone", SPA_G_RELEASING, true, true, false },
	{ "exporting (never handed out)", SPA_G_EXPORTING, false, false, false },
};

static void t_reconcile(void)
{
	const struct crash_case *k;
	struct spa_lender l;
	char why[256];
	unsigned int z0, z;
	u64 id;

	for (k = crash_cases; k < crash_cases + ARRAY_SIZE(crash_cases); k++) {
		id = fresh_grant("reconcile", &l);
		if (!id)
			return;
		if (k->unexported)
			fake_backend.unexport(fake_backend.ctx,
					      spa_ledger_find(&l.ledger, id)->subnqn,
					      4420, why, sizeof(why));
		if (k->deleted)
			fake_backend.vol_delete(fake_backend.ctx, "pa",
						grant_vol(&ca, id), why,
						sizeof(why));
		crash_in(&l, id, k->state);
		z0 = fake_ctx.zeroes;
		if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
			fail("init: %s", why);
			return;
		}
		CHECK(spa_lender_reconcile(&l) == 0, "%s: left some", k->what);
		z = fake_ctx.zeroes - z0;
		CHECK(z == k->zeroed && (!z || (fake_ctx.zero_off == 0 &&
						fake_ctx.zero_len == 256 * MIB)),
		      "%s: %u zeroings, the last %llu at %llu", k->what, z,
		      fake_ctx.zero_len, fake_ctx.zero_off);
		CHECK(!vol_there(id) && pa2_free() == 64 &&
		      disk_state(&l, id) == SPA_G_RELEASED,
		      "%s: %llu free slices, the ledger says %s", k->what,
		      pa2_free(), spa_gstate_name(disk_state(&l, id)));
		spa_lender_free(&l);
	}
	if (!case_ok)
		cap_dump();
}

/* ------------------------------------------------- volumes of no grant */

/* The reconcile's lines: a volume kept (its name, why), all left alone. */
#define KEPT_FMT "reconcile: cannot zero and delete volume pa/%s of no grant: kept (the next start tries again): %s"
#define ALONE_FMT "reconcile: no ledger (%s) but 1 volume(s) and 1 subsystem(s) named as the agent's: leaving them alone"

static bool export_there(struct spa_lender *l, u64 id)
{
	char sub[SPA_NQN_MAX + 1];

	spa_grant_names(&ca, id, NULL, 0, sub, sizeof(sub));
	return l->be->exported(l->be->ctx, sub, 4420);
}

/*
 * Grant @id made a volume of no grant, as by a ledger lost or replaced
 * (or a crash before the ledger named it): the ledger file kept without
 * its entry, or (@no_ledger) gone.  @unexported: its export gone too (a
 * reboot).  Then the next start: 0 if its lender @l is up again.
 */
static int orphan(struct spa_lender *l, u64 id, bool unexported,
		  bool no_ledger)
{
	char why[256];

	if (unexported)
		fake_backend.unexport(fake_backend.ctx,
				      spa_ledger_find(&l->ledger, id)->subnqn,
				      4420, why, sizeof(why));
	CHECK(l->ledger.n == 1, "%zu grants", l->ledger.n);
	l->ledger.n = 0;
	if (spa_ledger_save(&l->ledger, why, sizeof(why)))
		fail("ledger: %s", why);
	if (no_ledger && unlink(l->ledger.path))
		fail("cannot remove %s", l->ledger.path);
	spa_lender_free(l);
	if (spa_lender_init(l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return -1;
	}
	return 0;
}

/*
 * Reconcile zeroes a volume of no grant whole before it deletes it: after
 * its export is removed (exported, the fake refuses to zero it) and
 * before the delete (it refuses to zero a volume that is gone); the same
 * after a reboot (no export left), and after a reboot and an assembly
 * that did not bind it (bound first: the fake refuses to zero it or read
 * its uuid before).
 */
static void t_orphan_zeroed(void)
{
	static const struct {
		bool unexported, unbound;
	} cases[] = { { false, false }, { true, false }, { true, true } };
	struct spa_lender l;
	unsigned int i, z0, b0;
	int left;
	u64 id;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		id = fresh_grant("orphan", &l);
		if (!id || orphan(&l, id, cases[i].unexported, false))
			return;
		if (cases[i].unbound)
			fake_unbind("pa", grant_vol(&ca, id));
		CHECK(fake_vol_exported("pa", grant_vol(&ca, id)) ==
		      !cases[i].unexported, "case %u: exported before the start",
		      i);
		CHECK(fake_vol_discovered("pa", grant_vol(&ca, id)) ==
		      cases[i].unbound, "case %u: bound before the start", i);
		z0 = fake_ctx.zeroes;
		b0 = fake_ctx.binds;
		left = spa_lender_reconcile(&l);
		CHECK(left == 0, "case %u: %d left", i, left);
		CHECK(fake_ctx.binds == b0 + cases[i].unbound,
		      "case %u: %u volumes bound", i, fake_ctx.binds - b0);
		CHECK(fake_ctx.zeroes == z0 + 1 && fake_ctx.zero_off == 0 &&
		      fake_ctx.zero_len == 256 * MIB,
		      "case %u: %u zeroings, the last %llu bytes at %llu", i,
		      fake_ctx.zeroes - z0, fake_ctx.zero_len,
		      fake_ctx.zero_off);
		CHECK(!vol_there(id) && !export_there(&l, id) &&
		      !fake_vol_discovered("pa", grant_vol(&ca, id)) &&
		      pa2_free() == 64,
		      "case %u: volume %s, export %s, %llu free slices", i,
		      vol_there(id) ? "kept" : "gone",
		      export_there(&l, id) ? "kept" : "gone", pa2_free());
		CHECK(cap_line("reconcile: zeroed and deleted volume pa/%s of no grant",
			       grant_vol(&ca, id)), "case %u: not logged", i);
		spa_lender_free(&l);
		if (!case_ok) {
			cap_dump();
			return;
		}
	}
}

/*
 * Failing to clear a volume of no grant keeps it, with its slices,
 * logs it with the reason and counts it as left; the next start clears
 * it.  @fail_zero, @fail_unexport: errnos to fail those with; @no_uuid:
 * its uuid unreadable.
 */
static const struct kept_case {
	const char *what;
	int fail_zero, fail_unexport;
	bool no_uuid;
	int left;		/* what reconcile returns */
	/* The reason logged, %s the volume (its subsystem if fail_unexport). */
	const char *why;
} kept_cases[] = {
	{ "zeroing fails", EIO, 0, false, 1,
	  "cannot zero pa-%s: Input/output error" },
	{ "its export cannot be removed", 0, EBUSY, false, 2,
	  "its export %s could not be removed: a host could write behind the zeroes" },
	{ "no uuid", 0, 0, true, 1, "volume pa/%s has no uuid" },
};

static void t_orphan_kept(void)
{
	const struct kept_case *k;
	struct spa_lender l;
	char path[PATH_MAX], sub[SPA_NQN_MAX + 1], why[512];
	unsigned int z0;
	int left;
	u64 id;

	for (k = kept_cases; k < kept_cases + ARRAY_SIZE(kept_cases); k++) {
		id = fresh_grant("orphan-kept", &l);
		if (!id || orphan(&l, id, false, false))
			return;
		spa_grant_names(&ca, id, NULL, 0, sub, sizeof(sub));
		if (k->no_uuid) {
			snprintf(path, sizeof(path), "%s/pa/volumes/%s/uuid",
				 spu_configfs_root(), grant_vol(&ca, id));
			unlink(path);
		}
		fake_ctx.fail_zero = k->fail_zero;
		fake_ctx.fail_unexport = k->fail_unexport;
		z0 = fake_ctx.zeroes;
		left = spa_lender_reconcile(&l);
		fake_ctx.fail_zero = 0;
		fake_ctx.fail_unexport = 0;
		CHECK(left == k->left, "%s: %d left", k->what, left);
		CHECK(vol_there(id) && pa2_free() == 48,
		      "%s: volume %s, %llu free slices", k->what,
		      vol_there(id) ? "kept" : "gone", pa2_free());
		CHECK(fake_ctx.zeroes == z0, "%s: zeroed", k->what);
		snprintf(why, sizeof(why), k->why,
			 k->fail_unexport ? sub : grant_vol(&ca, id));
		CHECK(cap_line(KEPT_FMT, grant_vol(&ca, id), why),
		      "%s: not logged: %s", k->what, why);
		if (k->no_uuid) {	/* nothing to clear it with */
			spa_lender_free(&l);
			continue;
		}
		/* The next start clears it. */
		spa_lender_free(&l);
		if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
			fail("init: %s", why);
			return;
		}
		left = spa_lender_reconcile(&l);
		CHECK(left == 0 && fake_ctx.zeroes == z0 + 1 &&
		      fake_ctx.zero_len == 256 * MIB && !vol_there(id) &&
		      pa2_free() == 64,
		      "%s: the next start: %d left, %u zeroings, %llu free slices",
		      k->what, left, fake_ctx.zeroes - z0, pa2_free());
		spa_lender_free(&l);
		if (!case_ok) {
			cap_dump();
			return;
		}
	}
}

/* Without a ledger file the volume and its export are left alone. */
static void t_orphan_no_ledger(void)
{
	struct spa_lender l;
	unsigned int z0, d0;
	u64 id;

	id = fresh_grant("orphan-no-ledger", &l);
	if (!id || orphan(&l, id, false, true))
		return;
	z0 = fake_ctx.zeroes;
	d0 = fake_ctx.deletes;
	CHECK(spa_lender_reconcile(&l) == 0, "reconcile");
	CHECK(vol_there(id) && export_there(&l, id) && pa2_free() == 48 &&
	      fake_ctx.zeroes == z0 && fake_ctx.deletes == d0 &&
	      !fake_ctx.infos, "touched: volume %s, export %s, %u zeroings",
	      vol_there(id) ? "kept" : "gone",
	      export_there(&l, id) ? "kept" : "gone", fake_ctx.zeroes - z0);
	CHECK(cap_line(ALONE_FMT, l.ledger.path), "no warning");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/*
 * A grant whose volume the pool only discovered at start (a reboot, then
 * an assembly that did not bind it), the ledger saying @state.
 */
static u64 unbound_grant(const char *name, struct spa_lender *l, int state)
{
	char why[256];
	u64 id = fresh_grant(name, l);

	if (!id)
		return 0;
	fake_backend.unexport(fake_backend.ctx,
			      spa_ledger_find(&l->ledger, id)->subnqn, 4420,
			      why, sizeof(why));
	fake_unbind("pa", grant_vol(&ca, id));
	crash_in(l, id, state);
	CHECK(!spu_vol_bound("pa", grant_vol(&ca, id)) &&
	      fake_vol_discovered("pa", grant_vol(&ca, id)),
	      "%s: bound before the start", name);
	if (spa_lender_init(l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return 0;
	}
	return id;
}

/*
 * A releasing grant whose volume is only discovered: bound, zeroed whole
 * and deleted, in that order (the fake refuses to zero an unbound volume
 * and one that is gone), the grant released, at the first start.
 */
static void t_releasing_unbound(void)
{
	struct spa_lender l;
	unsigned int b0, z0, d0;
	int left;
	u64 id;

	id = unbound_grant("releasing-unbound", &l, SPA_G_RELEASING);
	if (!id)
		return;
	b0 = fake_ctx.binds;
	z0 = fake_ctx.zeroes;
	d0 = fake_ctx.deletes;
	left = spa_lender_reconcile(&l);
	CHECK(left == 0, "%d left", left);
	CHECK(fake_ctx.binds == b0 + 1, "%u volumes bound", fake_ctx.binds - b0);
	CHECK(fake_ctx.zeroes == z0 + 1 && fake_ctx.zero_off == 0 &&
	      fake_ctx.zero_len == 256 * MIB,
	      "%u zeroings, the last %llu bytes at %llu", fake_ctx.zeroes - z0,
	      fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(fake_ctx.deletes == d0 + 1 && !vol_there(id) &&
	      !fake_vol_discovered("pa", grant_vol(&ca, id)) &&
	      pa2_free() == 64, "%u deletes, volume %s, %llu free slices",
	      fake_ctx.deletes - d0, vol_there(id) ? "kept" : "gone",
	      pa2_free());
	CHECK(disk_state(&l, id) == SPA_G_RELEASED, "the ledger says %s",
	      spa_gstate_name(disk_state(&l, id)));
	CHECK(cap_line("reconcile: grant %016llx of b was releasing: export and volume removed",
		       id), "not logged");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/* The line of a volume only discovered that cannot be bound (EIO). */
#define BIND_FAIL_FMT "cannot bind volume pa/%s (discovered, not bound): cannot bind volume pa/%s: Input/output error"

/*
 * A volume only discovered that cannot be bound is kept, not zeroed, with
 * the reason logged; the grant stays releasing and the next start, the
 * bind working again, clears it.
 */
static void t_bind_fails(void)
{
	const char *vol;
	struct spa_lender l;
	char why[256];
	int left;
	u64 id;

	id = unbound_grant("bind-fails", &l, SPA_G_RELEASING);
	if (!id)
		return;
	vol = grant_vol(&ca, id);
	fake_ctx.fail_bind = EIO;
	left = spa_lender_reconcile(&l);
	fake_ctx.fail_bind = 0;
	CHECK(left == 1, "%d left", left);
	CHECK(fake_vol_discovered("pa", vol) && pa2_free() == 48 &&
	      disk_state(&l, id) == SPA_G_RELEASING,
	      "volume %s, %llu free slices, the ledger says %s",
	      fake_vol_discovered("pa", vol) ? "kept" : "gone", pa2_free(),
	      spa_gstate_name(disk_state(&l, id)));
	CHECK(cap_line(BIND_FAIL_FMT, vol, vol), "not logged");
	spa_lender_free(&l);
	if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return;
	}
	left = spa_lender_reconcile(&l);
	CHECK(left == 0 && !vol_there(id) && !fake_vol_discovered("pa", vol) &&
	      pa2_free() == 64 && disk_state(&l, id) == SPA_G_RELEASED,
	      "the next start: %d left, %llu free slices", left, pa2_free());
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/*
 * An active grant whose volume is only discovered: bound and exported
 * again (the fake refuses to restore or export an unbound volume).
 */
static void t_active_unbound(void)
{
	struct spa_lender l;
	unsigned int b0, e0;
	int left;
	u64 id;

	id = unbound_grant("active-unbound", &l, SPA_G_ACTIVE);
	if (!id)
		return;
	b0 = fake_ctx.binds;
	e0 = fake_ctx.exports;
	left = spa_lender_reconcile(&l);
	CHECK(left == 0, "%d left", left);
	CHECK(fake_ctx.binds == b0 + 1, "%u volumes bound", fake_ctx.binds - b0);
	CHECK(spu_vol_bound("pa", grant_vol(&ca, id)) &&
	      !fake_vol_discovered("pa", grant_vol(&ca, id)) && vol_there(id) &&
	      pa2_free() == 48, "volume %s bound, %llu free slices",
	      spu_vol_bound("pa", grant_vol(&ca, id)) ? "" : "not",
	      pa2_free());
	CHECK(fake_ctx.exports == e0 + 1 && export_there(&l, id) &&
	      fake_vol_exported("pa", grant_vol(&ca, id)),
	      "%u exports, exported %s", fake_ctx.exports - e0,
	      export_there(&l, id) ? "yes" : "no");
	CHECK(disk_state(&l, id) == SPA_G_ACTIVE, "the ledger says %s",
	      spa_gstate_name(disk_state(&l, id)));
	CHECK(cap_line("reconcile: grant %016llx of b exported again as %s", id,
		       spa_ledger_find(&l.ledger, id)->subnqn), "not logged");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "given back: zeroed whole, unexported first, then deleted", t_release_zeroes },
		{ "a failed zeroing keeps the volume; the next release clears it", t_zero_fails },
		{ "reconcile clears releasing grants, not exporting ones", t_reconcile },
		{ "reconcile: a volume of no grant unexported, zeroed whole, then deleted",
		  t_orphan_zeroed },
		{ "reconcile: a volume of no grant that cannot be cleared is kept",
		  t_orphan_kept },
		{ "reconcile without a ledger leaves a volume of no grant alone",
		  t_orphan_no_ledger },
		{ "reconcile: a releasing grant's volume only discovered is bound, zeroed, deleted",
		  t_releasing_unbound },
		{ "reconcile: an active grant's volume only discovered is bound, exported again",
		  t_active_unbound },
		{ "reconcile: a volume only discovered that cannot be bound is kept",
		  t_bind_fails },
	};

	return ktap_run(cases, ARRAY_SIZE(cases));
}
