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
 * grant whose volume is gone already as released.
 */
#include "remote-test.h"

#define MIB	1048576ULL

static struct spa_config ca;

/* A fresh fake tree and ledger: pool pa, 16 MiB slices, 2 x 32 free. */
static void fresh(const char *name)
{
	fresh_lender(&ca, name, 16, 9);
	fake_member("pa", "m1", 32, "online", 1);
	fake_member("pa", "m2", 32, "online", 1);
	cap_start();
}

static u64 pool_free(void)
{
	return fake_free("pa", "m1") + fake_free("pa", "m2");
}

static const char *vol_of(u64 id)
{
	static char vol[SPU_NAME_MAX + 1];

	spa_grant_names(&ca, id, vol, sizeof(vol), NULL, 0);
	return vol;
}

static bool vol_there(u64 id)
{
	return fake_vol_u64("pa", vol_of(id), "size") != ~0ULL;
}

/*
 * fresh(@name), a lender @l on it, and a grant of 256 MiB to node b:
 * its id, 0 (after a failure) if any of it did not work.
 */
static u64 fresh_grant(const char *name, struct spa_lender *l)
{
	struct spa_msg req, rep;
	char why[256];

	fresh(name);
	if (spa_lender_init(l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return 0;
	}
	spa_msg_init(&req, &ca, SPA_REQUEST);
	snprintf(req.node, sizeof(req.node), "b");
	req.fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		      SPA_F(SPA_T_REQ_ID);
	snprintf(req.hostnqn, sizeof(req.hostnqn), HOSTNQN_B);
	req.size = 256 * MIB;
	spa_random(req.req_id, SPA_ID_LEN);
	req.req_id[0] |= 1;
	spa_lender_request(l, &req, "test", &rep);
	if (rep.type != SPA_GRANT) {
		fail("no grant: %s", rep.err_text);
		spa_lender_free(l);
		return 0;
	}
	if (pool_free() != 48 || !vol_there(rep.grant_id)) {
		fail("after the grant: %llu free slices", pool_free());
		spa_lender_free(l);
		return 0;
	}
	return rep.grant_id;
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

static void t_release_zeroes(void)
{
	struct spa_lender l;
	struct spa_msg rep;
	unsigned int z0;
	u64 id;

	id = fresh_grant("zeroes", &l);
	if (!id)
		return;
	z0 = fake_ctx.zeroes;
	CHECK(!release(&l, id, &rep), "refused: %s", rep.err_text);
	CHECK(fake_ctx.zeroes == z0 + 1, "%u zeroings", fake_ctx.zeroes - z0);
	CHECK(fake_ctx.zero_off == 0 && fake_ctx.zero_len == 256 * MIB,
	      "zeroed %llu at %llu", fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(!vol_there(id) && pool_free() == 64,
	      "after the release: volume %s, %llu free slices",
	      vol_there(id) ? "kept" : "gone", pool_free());
	CHECK(disk_state(&l, id) == SPA_G_RELEASED, "ledger");
	CHECK(cap_has("released", "zeroed and removed"), "not logged");
	/* Released already: answered again, nothing zeroed twice. */
	CHECK(!release(&l, id, &rep), "again: %s", rep.err_text);
	CHECK(fake_ctx.zeroes == z0 + 1, "zeroed again");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

static void t_zero_fails(void)
{
	struct spa_lender l;
	struct spa_msg rep;
	unsigned int z0;
	u64 id;

	id = fresh_grant("zero-fails", &l);
	if (!id)
		return;
	fake_ctx.fail_zero = EIO;
	CHECK(release(&l, id, &rep) == SPA_ERR_FAILED, "answered %s: %s",
	      spa_type_name(rep.type), rep.err_text);
	printf("#   %s\n", rep.err_text);
	fake_ctx.fail_zero = 0;
	CHECK(disk_state(&l, id) == SPA_G_RELEASING, "the ledger says %s",
	      spa_gstate_name(disk_state(&l, id)));
	CHECK(vol_there(id) && pool_free() == 48,
	      "the volume %s, %llu free slices", vol_there(id) ? "kept" : "gone",
	      pool_free());
	CHECK(!fake_vol_exported("pa", vol_of(id)), "still exported");
	CHECK(cap_has("release of", "cannot zero"), "not logged");

	z0 = fake_ctx.zeroes;
	CHECK(!release(&l, id, &rep), "the retry: %s", rep.err_text);
	CHECK(fake_ctx.zeroes == z0 + 1 && fake_ctx.zero_off == 0 &&
	      fake_ctx.zero_len == 256 * MIB, "the retry zeroed %llu at %llu",
	      fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(!vol_there(id) && pool_free() == 64 &&
	      disk_state(&l, id) == SPA_G_RELEASED,
	      "after the retry: %llu free slices", pool_free());
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

static void t_reconcile(void)
{
	struct spa_lender l;
	char why[256];
	unsigned int z0;
	u64 id;

	/* Releasing, with and without its export (after a reboot). */
	for (int reboot = 0; reboot < 2; reboot++) {
		id = fresh_grant("reconcile", &l);
		if (!id)
			return;
		if (reboot)
			fake_backend.unexport(fake_backend.ctx,
					      spa_ledger_find(&l.ledger, id)->subnqn,
					      4420, why, sizeof(why));
		crash_in(&l, id, SPA_G_RELEASING);
		z0 = fake_ctx.zeroes;
		if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
			fail("init: %s", why);
			return;
		}
		CHECK(spa_lender_reconcile(&l) == 0, "reconcile: left some");
		CHECK(fake_ctx.zeroes == z0 + 1 && fake_ctx.zero_off == 0 &&
		      fake_ctx.zero_len == 256 * MIB,
		      "releasing%s: %u zeroings, %llu at %llu",
		      reboot ? " (rebooted)" : "", fake_ctx.zeroes - z0,
		      fake_ctx.zero_len, fake_ctx.zero_off);
		CHECK(!vol_there(id) && pool_free() == 64 &&
		      disk_state(&l, id) == SPA_G_RELEASED,
		      "releasing: %llu free slices", pool_free());
		spa_lender_free(&l);
	}

	/* Exporting: the borrower never had it; nothing to clear. */
	id = fresh_grant("reconcile-exporting", &l);
	if (!id)
		return;
	crash_in(&l, id, SPA_G_EXPORTING);
	z0 = fake_ctx.zeroes;
	if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return;
	}
	CHECK(spa_lender_reconcile(&l) == 0, "reconcile: left some");
	CHECK(fake_ctx.zeroes == z0, "an exporting grant was zeroed");
	CHECK(!vol_there(id) && pool_free() == 64, "exporting: %llu free",
	      pool_free());
	spa_lender_free(&l);

	/* Releasing, its volume deleted before the crash: released. */
	id = fresh_grant("reconcile-gone", &l);
	if (!id)
		return;
	fake_backend.unexport(fake_backend.ctx,
			      spa_ledger_find(&l.ledger, id)->subnqn, 4420,
			      why, sizeof(why));
	fake_backend.vol_delete(fake_backend.ctx, "pa", vol_of(id), why,
				sizeof(why));
	crash_in(&l, id, SPA_G_RELEASING);
	z0 = fake_ctx.zeroes;
	if (spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return;
	}
	CHECK(spa_lender_reconcile(&l) == 0, "a grant with no volume left");
	CHECK(fake_ctx.zeroes == z0 && disk_state(&l, id) == SPA_G_RELEASED,
	      "no volume: %u zeroings, ledger %s", fake_ctx.zeroes - z0,
	      spa_gstate_name(disk_state(&l, id)));
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "a grant given back is zeroed whole, unexported first, then deleted",
		  t_release_zeroes },
		{ "a failed zeroing keeps the volume; the next release clears it",
		  t_zero_fails },
		{ "reconcile clears releasing grants, not exporting ones",
		  t_reconcile },
	};

	return ktap_run(cases, ARRAY_SIZE(cases));
}
