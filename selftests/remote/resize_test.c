// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of growing a grant (RESIZE): the lender's side
 * (nvmet-remote-ns/agent/lender.c) on a fake slicepool and nvmet tree,
 * and the borrower's (borrower.c) against that lender over TCP on
 * 127.0.0.1, with a fake sysfs for the namespace and a fake member.
 *
 * Lender: a grant grows (volume, dm table, zeroes over the new range,
 * nvmet's size, the ledger, the quota); a repeated resize is answered
 * with the size again; shrinking, bad sizes, unknown grants, another
 * node's grant, a released grant, no space, lend_max, keep_free and a
 * node that does not lend are refused with nothing changed; a failure
 * at each step is undone; an undo that fails leaves the grant resizing,
 * which the next resize (or release) settles; reconcile rolls a resizing
 * grant back (before, during and after the grow, with and without its
 * export); the ledger's resizing lines are read strictly.
 *
 * Borrower: "resize" over the wire: the namespace shows the new size
 * (here the fake nvmet's revalidate updates the fake block device, as
 * the AEN and nvme-tcp's rescan do), the member is revalidated, the
 * ledger records the size and the report says what the member took; a
 * rescan is asked when the size does not show; refusals (shrink, an
 * unknown grant, a module that cannot grow members, no namespace, a
 * lender from before resize) change nothing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "remote-test.h"

#define MIB	1048576ULL

static struct spa_config ca;

/* RESIZE of @id to @size from @node; the reply's error code, 0 if RESIZED. */
static unsigned int resize(struct spa_lender *l, const char *node, u64 id,
			   u64 size, struct spa_msg *rep)
{
	struct spa_msg req;

	spa_msg_init(&req, &ca, SPA_RESIZE);
	snprintf(req.node, sizeof(req.node), "%s", node);
	req.fields |= SPA_F(SPA_T_SIZE) | SPA_F(SPA_T_GRANT_ID);
	req.size = size;
	req.grant_id = id;
	spa_lender_resize(l, &req, "test", rep);
	if (rep->type == SPA_ERROR)
		return rep->err_code;
	if (rep->type != SPA_RESIZED || rep->grant_id != id) {
		fail("reply %s for %016llx", spa_type_name(rep->type),
		     rep->grant_id);
		return ~0U;
	}
	return 0;
}

static const char *sub_of(u64 id)
{
	static char sub[SPA_NQN_MAX + 1];

	spa_grant_names(&ca, id, NULL, 0, sub, sizeof(sub));
	return sub;
}

/*
 * The volume, its dm device and nvmet's namespace are all @size, the
 * ledger (memory and file) says active at @size taking @bytes, and the
 * pool has @free slices.
 */
static bool all_agree(struct spa_lender *l, u64 id, u64 size, u64 bytes,
		      u64 free_slices)
{
	struct spa_ledger disk;
	struct spa_grant *g = spa_ledger_find(&l->ledger, id), *d;
	char why[256];
	bool ok = true;

	if (!g || g->state != SPA_G_ACTIVE || g->size != size ||
	    g->bytes != bytes || g->resize_to) {
		fail("grant %016llx: %s, %llu bytes taking %llu", id,
		     g ? spa_gstate_name(g->state) : "missing",
		     g ? g->size : 0, g ? g->bytes : 0);
		ok = false;
	}
	if (spa_ledger_load(&disk, l->ledger.path, true, why, sizeof(why))) {
		fail("ledger: %s", why);
		return false;
	}
	d = spa_ledger_find(&disk, id);
	if (!d || d->state != SPA_G_ACTIVE || d->size != size ||
	    d->bytes != bytes) {
		fail("the ledger file says %s %llu", d ? spa_gstate_name(d->state) :
		     "nothing", d ? d->size : 0);
		ok = false;
	}
	spa_ledger_free(&disk);
	if (fake_vol_u64("pa", grant_vol(&ca, id), "size") != size ||
	    fake_vol_u64("pa", grant_vol(&ca, id), "dm_size") != size ||
	    fake_ns_size(sub_of(id)) != size) {
		fail("volume %llu, dm %llu, nvmet %llu; want %llu",
		     fake_vol_u64("pa", grant_vol(&ca, id), "size"),
		     fake_vol_u64("pa", grant_vol(&ca, id), "dm_size"),
		     fake_ns_size(sub_of(id)), size);
		ok = false;
	}
	if (pa2_free() != free_slices) {
		fail("%llu free slices, want %llu", pa2_free(), free_slices);
		ok = false;
	}
	if (l->quota.reserved || l->quota.pending) {
		fail("quota: %llu reserved, %u pending", l->quota.reserved,
		     l->quota.pending);
		ok = false;
	}
	return ok;
}

static bool lender_init(struct spa_lender *l)
{
	char why[256];

	if (spa_lender_init(l, &ca, &fake_backend, why, sizeof(why))) {
		fail("init: %s", why);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ lender */

/*
 * fresh_pa2(@name) and lender @l on it, which grants b @bytes: *@id (0 if it
 * refused, @rep says why).  False if the lender did not start.
 */
static bool fresh_grant(const char *name, struct spa_lender *l, u64 bytes,
			u64 *id, struct spa_msg *rep)
{
	fresh_pa2(&ca, name);
	if (!lender_init(l))
		return false;
	*id = grant_to_b(l, &ca, bytes, rep);
	return true;
}

static void t_grow(void)
{
	struct spa_lender l;
	struct spa_msg rep;
	unsigned int rv;
	u64 id;

	if (!fresh_grant("grow", &l, 256 * MIB, &id, &rep))
		return;
	CHECK(id, "no grant: %s", rep.err_text);
	CHECK(all_agree(&l, id, 256 * MIB, 256 * MIB, 48), "after the grant");
	rv = fake_ctx.revalidates;
	CHECK(!resize(&l, "b", id, 512 * MIB, &rep), "refused: %s",
	      rep.err_text);
	CHECK(rep.size == 512 * MIB, "resized to %llu", rep.size);
	CHECK(all_agree(&l, id, 512 * MIB, 512 * MIB, 32), "after the resize");
	CHECK(fake_ctx.zero_off == 256 * MIB && fake_ctx.zero_len == 256 * MIB,
	      "zeroed %llu at %llu", fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(fake_ctx.revalidates == rv + 1, "%u revalidations",
	      fake_ctx.revalidates - rv);
	CHECK(l.quota.lent == 512 * MIB && l.quota.grants == 1,
	      "quota: %llu lent, %u grants", l.quota.lent, l.quota.grants);
	CHECK(cap_has("resized", "256 MiB -> 512 MiB"), "not logged");

	/* The same size again (a lost reply): answered, nothing done. */
	rv = fake_ctx.set_sizes;
	CHECK(!resize(&l, "b", id, 512 * MIB, &rep) &&
	      rep.size == 512 * MIB, "repeated: %s", rep.err_text);
	CHECK(fake_ctx.set_sizes == rv, "a repeated resize resized again");
	CHECK(all_agree(&l, id, 512 * MIB, 512 * MIB, 32), "after the repeat");

	/* Within the grant's last slice: no slice more, the range zeroed. */
	spa_lender_free(&l);
	if (!fresh_grant("grow2", &l, 250 * MIB, &id, &rep))
		return;
	CHECK(!resize(&l, "b", id, 256 * MIB, &rep), "refused: %s",
	      rep.err_text);
	CHECK(all_agree(&l, id, 256 * MIB, 256 * MIB, 48),
	      "250 -> 256 MiB takes no slice more");
	CHECK(fake_ctx.zero_off == 250 * MIB && fake_ctx.zero_len == 6 * MIB,
	      "zeroed %llu at %llu", fake_ctx.zero_len, fake_ctx.zero_off);
	CHECK(l.quota.lent == 256 * MIB, "lent %llu", l.quota.lent);
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

static void t_refusals(void)
{
	struct spa_lender l;
	struct spa_msg rep;
	unsigned int calls;
	u64 id, id2;

	if (!fresh_grant("refuse", &l, 256 * MIB, &id, &rep))
		return;
	id2 = grant_to_b(&l, &ca, 64 * MIB, &rep);
	CHECK(id && id2, "grants: %s", rep.err_text);
	calls = fake_ctx.set_sizes + fake_ctx.revalidates + fake_ctx.zeroes;

	CHECK(resize(&l, "b", id, 128 * MIB, &rep) == SPA_ERR_BAD_VALUE,
	      "shrink: %s", spa_err_name(rep.err_code));
	CHECK(strstr(rep.err_text, "shrinking it to 128 MiB is refused") &&
	      strstr(rep.err_text, "cannot shrink under its data"), "%s",
	      rep.err_text);
	printf("#   shrink: %s\n", rep.err_text);
	CHECK(resize(&l, "b", id, 512 * MIB + 100, &rep) == SPA_ERR_BAD_VALUE &&
	      strstr(rep.err_text, "multiple of 512"), "unaligned: %s",
	      rep.err_text);
	CHECK(resize(&l, "b", id, SPA_SIZE_MAX + 4096, &rep) ==
	      SPA_ERR_BAD_VALUE, "above 1 PiB: %s", rep.err_text);
	CHECK(resize(&l, "b", 0x1234, 512 * MIB, &rep) ==
	      SPA_ERR_UNKNOWN_GRANT, "unknown grant: %s", rep.err_text);
	CHECK(resize(&l, "x", id, 512 * MIB, &rep) == SPA_ERR_NOT_OWNER,
	      "x's resize of b's grant: %s", rep.err_text);
	CHECK(resize(&l, "b", id, 2048 * MIB, &rep) == SPA_ERR_NO_SPACE,
	      "no space: %s", rep.err_text);
	CHECK(strstr(rep.err_text, "growing to 2 GiB takes 112 more slices") &&
	      strstr(rep.err_text, "pool pa can lend 704 MiB"), "%s",
	      rep.err_text);
	printf("#   no space: %s\n", rep.err_text);
	l.quota.keep_free = 600 * MIB;
	CHECK(resize(&l, "b", id, 512 * MIB, &rep) == SPA_ERR_NO_SPACE,
	      "keep_free: %s", rep.err_text);
	l.quota.keep_free = 0;
	l.quota.lend_max = 400 * MIB;
	CHECK(resize(&l, "b", id, 512 * MIB, &rep) == SPA_ERR_LIMIT &&
	      strstr(rep.err_text, "lend_max"), "lend_max: %s", rep.err_text);
	l.quota.lend_max = 0;
	/* max_grants does not apply: no grant is added. */
	l.quota.max_grants = 2;
	CHECK(!resize(&l, "b", id2, 80 * MIB, &rep), "max_grants: %s",
	      rep.err_text);
	l.quota.max_grants = 16;
	calls += 3;	/* that resize: size, zeroes, revalidate */
	ca.lend = 0;
	CHECK(resize(&l, "b", id, 512 * MIB, &rep) == SPA_ERR_NOT_LENDING,
	      "not lending: %s", rep.err_text);
	ca.lend = 1;
	l.ledger.g[0].state = SPA_G_RELEASING;
	CHECK(resize(&l, "b", id, 512 * MIB, &rep) == SPA_ERR_BUSY &&
	      strstr(rep.err_text, "is releasing"), "releasing: %s",
	      rep.err_text);
	l.ledger.g[0].state = SPA_G_ACTIVE;
	CHECK(fake_ctx.set_sizes + fake_ctx.revalidates + fake_ctx.zeroes ==
	      calls, "a refused resize touched the volume");
	CHECK(all_agree(&l, id, 256 * MIB, 256 * MIB, 64 - 16 - 5),
	      "after the refusals");
	CHECK(cap_has("refused: bad value", NULL) &&
	      cap_has("refused: no space", NULL) &&
	      cap_has("refused: not the owner", NULL), "refusals not logged");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/* A failure at each step: undone, nothing left, the quota unchanged. */
static void t_step_failures(void)
{
	static const struct {
		const char *what;
		size_t off;	/* of the fail_* field in struct fake_be */
		int err;
		unsigned int code;
	} steps[] = {
		{ "the kernel refuses the size",
		  offsetof(struct fake_be, fail_grow), ENOSPC, SPA_ERR_NO_SPACE },
		{ "the dm reload fails",
		  offsetof(struct fake_be, fail_dm_grow), EIO, SPA_ERR_FAILED },
		{ "zeroing fails", offsetof(struct fake_be, fail_zero), EIO,
		  SPA_ERR_FAILED },
		{ "nvmet's revalidate fails",
		  offsetof(struct fake_be, fail_revalidate), EOPNOTSUPP,
		  SPA_ERR_FAILED },
	};
	struct spa_lender l;
	struct spa_msg rep;
	unsigned int i;
	int *fail_at;
	u64 id;

	if (!fresh_grant("steps", &l, 256 * MIB, &id, &rep))
		return;
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		fail_at = (int *)((char *)&fake_ctx + steps[i].off);
		*fail_at = steps[i].err;
		CHECK(resize(&l, "b", id, 512 * MIB, &rep) == steps[i].code,
		      "%s: %s: %s", steps[i].what, spa_err_name(rep.err_code),
		      rep.err_text);
		CHECK(strstr(rep.err_text, "stays 256 MiB"), "%s: %s",
		      steps[i].what, rep.err_text);
		printf("#   %s: %s\n", steps[i].what, rep.err_text);
		*fail_at = 0;
		CHECK(all_agree(&l, id, 256 * MIB, 256 * MIB, 48), "%s",
		      steps[i].what);
		CHECK(l.quota.lent == 256 * MIB, "%s: lent %llu",
		      steps[i].what, l.quota.lent);
	}
	/* Then it grows. */
	CHECK(!resize(&l, "b", id, 512 * MIB, &rep), "%s", rep.err_text);
	CHECK(all_agree(&l, id, 512 * MIB, 512 * MIB, 32), "the resize after");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/* An undo that fails: the grant stays resizing, then is settled. */
static void t_undo_fails(void)
{
	struct spa_lender l, l2;
	struct spa_grant *g;
	struct spa_msg rep;
	u64 id;

	if (!fresh_grant("undo", &l, 256 * MIB, &id, &rep))
		return;
	fake_ctx.fail_zero = EIO;
	fake_ctx.fail_shrink = EBUSY;
	CHECK(resize(&l, "b", id, 512 * MIB, &rep) == SPA_ERR_FAILED &&
	      strstr(rep.err_text, "the undo failed too") &&
	      strstr(rep.err_text, "stays resizing"), "%s", rep.err_text);
	printf("#   %s\n", rep.err_text);
	g = spa_ledger_find(&l.ledger, id);
	CHECK(g && g->state == SPA_G_RESIZING && g->size == 256 * MIB &&
	      g->resize_to == 512 * MIB, "left %s", g ? spa_gstate_name(g->state) : "-");
	CHECK(l.quota.reserved == 0 && l.quota.lent == 256 * MIB,
	      "quota: %llu reserved, %llu lent", l.quota.reserved,
	      l.quota.lent);
	CHECK(cap_has("cannot undo it", NULL), "not logged as an error");
	/* A second agent reads the resizing line back (16 words). */
	CHECK(lender_init(&l2), "the ledger with a resizing grant is refused");
	g = spa_ledger_find(&l2.ledger, id);
	CHECK(g && g->state == SPA_G_RESIZING && g->resize_to == 512 * MIB,
	      "read back as %s", g ? spa_gstate_name(g->state) : "-");
	CHECK(l2.quota.grants == 1 && l2.quota.lent == 256 * MIB,
	      "recount: %u grants, %llu lent", l2.quota.grants, l2.quota.lent);
	spa_lender_free(&l2);

	/* Still failing: busy, with the reason. */
	CHECK(resize(&l, "b", id, 512 * MIB, &rep) == SPA_ERR_BUSY &&
	      strstr(rep.err_text, "is resizing"), "%s", rep.err_text);
	/* Asked again when it can be undone: settled, then grown. */
	fake_ctx.fail_shrink = 0;
	fake_ctx.fail_zero = 0;
	CHECK(!resize(&l, "b", id, 768 * MIB, &rep), "%s", rep.err_text);
	CHECK(cap_has("was rolled back", NULL), "the roll back not logged");
	CHECK(all_agree(&l, id, 768 * MIB, 768 * MIB, 16), "settled and grown");

	/* A resizing grant can be given back: the whole volume goes. */
	fake_ctx.fail_revalidate = EIO;
	fake_ctx.fail_dm_shrink = EBUSY;
	CHECK(resize(&l, "b", id, 1024 * MIB, &rep) == SPA_ERR_FAILED,
	      "%s", rep.err_text);
	fake_ctx.fail_revalidate = 0;
	fake_ctx.fail_dm_shrink = 0;
	g = spa_ledger_find(&l.ledger, id);
	CHECK(g && g->state == SPA_G_RESIZING, "not left resizing");
	{
		struct spa_msg req;

		spa_msg_init(&req, &ca, SPA_RELEASE);
		snprintf(req.node, sizeof(req.node), "b");
		req.fields |= SPA_F(SPA_T_GRANT_ID);
		req.grant_id = id;
		spa_lender_release(&l, &req, "test", &rep);
	}
	CHECK(rep.type == (SPA_RELEASE | SPA_REPLY), "release: %s",
	      rep.err_text);
	CHECK(pa2_free() == 64 && !spu_vol_bound("pa", grant_vol(&ca, id)) &&
	      l.quota.lent == 0 && l.quota.grants == 0,
	      "after the release: %llu free, lent %llu", pa2_free(),
	      l.quota.lent);
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

/* A ledger with grant @id resizing from 256 to 512 MiB; see below. */
static void resizing_ledger(struct spa_lender *l, u64 id)
{
	struct spa_grant *g = spa_ledger_find(&l->ledger, id);

	g->state = SPA_G_RESIZING;
	g->resize_to = 512 * MIB;
	if (spa_ledger_save(&l->ledger, NULL, 0))
		fail("cannot save the ledger");
}

/*
 * Reconcile of a grant left resizing by a crash: rolled back, whatever
 * step the crash came at; the volume, its dm device, nvmet and the
 * ledger agree again and no slice is left taken.
 */
static void t_reconcile(void)
{
	static const char *const when[] = {
		"before the volume grew", "after the volume grew",
		"after the dm reload", "after nvmet was told",
		"after nvmet was told, then a reboot",
	};
	struct spa_lender l;
	struct spa_msg rep;
	char why[256];
	unsigned int i;
	u64 id;
	int left;

	for (i = 0; i < ARRAY_SIZE(when); i++) {
		if (!fresh_grant("reconcile", &l, 256 * MIB, &id, &rep))
			return;
		resizing_ledger(&l, id);
		if (i >= 1)
			fake_backend.vol_set_size(fake_backend.ctx, "pa",
						  grant_vol(&ca, id), 512 * MIB, why,
						  sizeof(why));
		if (i >= 2)
			fake_backend.dm_resize(fake_backend.ctx, "pa",
					       grant_vol(&ca, id), 512 * MIB, why,
					       sizeof(why));
		if (i >= 3)
			fake_backend.revalidate(fake_backend.ctx, sub_of(id), 1,
						why, sizeof(why));
		if (i >= 4)
			fake_backend.unexport(fake_backend.ctx, sub_of(id),
					      4420, why, sizeof(why));
		spa_lender_free(&l);
		CHECK(pa2_free() == (i >= 1 ? 32 : 48), "%s: %llu free",
		      when[i], pa2_free());

		if (!lender_init(&l))
			return;
		left = spa_lender_reconcile(&l);
		CHECK(left == 0, "%s: %d left", when[i], left);
		CHECK(all_agree(&l, id, 256 * MIB, 256 * MIB, 48),
		      "%s: rolled back", when[i]);
		CHECK(l.quota.lent == 256 * MIB && l.quota.grants == 1,
		      "%s: quota %llu", when[i], l.quota.lent);
		CHECK(cap_has("was rolled back", NULL), "%s: not logged",
		      when[i]);
		/* And it can grow again. */
		CHECK(!resize(&l, "b", id, 512 * MIB, &rep), "%s: %s", when[i],
		      rep.err_text);
		CHECK(all_agree(&l, id, 512 * MIB, 512 * MIB, 32),
		      "%s: grown again", when[i]);
		spa_lender_free(&l);
	}

	/* The roll back refused: left resizing, counted, retried. */
	if (!fresh_grant("reconcile2", &l, 256 * MIB, &id, &rep))
		return;
	resizing_ledger(&l, id);
	fake_backend.vol_set_size(fake_backend.ctx, "pa", grant_vol(&ca, id),
				  512 * MIB, why, sizeof(why));
	spa_lender_free(&l);
	fake_ctx.fail_shrink = EINVAL;
	if (!lender_init(&l))
		return;
	CHECK(spa_lender_reconcile(&l) == 1, "a failed roll back not counted");
	CHECK(l.ledger.g[0].state == SPA_G_RESIZING, "state %s",
	      spa_gstate_name(l.ledger.g[0].state));
	CHECK(cap_has("cannot roll back its resize", NULL), "not logged");
	fake_ctx.fail_shrink = 0;
	CHECK(spa_lender_reconcile(&l) == 0, "the retry");
	CHECK(all_agree(&l, id, 256 * MIB, 256 * MIB, 48), "after the retry");
	spa_lender_free(&l);
	if (!case_ok)
		cap_dump();
}

static void corrupt(const char *line, bool good)
{
	struct spa_lender l;
	char path[PATH_MAX], why[512] = "";

	snprintf(path, sizeof(path), "%s/grants", ca.state_dir);
	put_file(path, line);
	if (!spa_lender_init(&l, &ca, &fake_backend, why, sizeof(why))) {
		if (!good)
			fail("accepted: %s", line);
		spa_lender_free(&l);
		return;
	}
	if (good)
		fail("refused: %s: %s", line, why);
	else
		CHECK(strstr(why, "grants:1:"), "%s", why);
}

/* Grant 1's ledger line in @state with @extra after its 15th word. */
static void try_line(const char *state, const char *extra, bool good)
{
	static const char *const a = "b 268435456 268435456 rg-0000000000000001";
	static const char *const b = "01000000000000000000000000000000 0 - - - 0 1";
	char line[512];

	snprintf(line, sizeof(line), "grant 0000000000000001 %s %s - %s%s",
		 state, a, b, extra);
	corrupt(line, good);
}

static void t_ledger_lines(void)
{
	fresh_pa2(&ca, "ledger");
	try_line("resizing", " 536870912", true);
	try_line("resizing", "", false);		/* no new size */
	try_line("active", " 536870912", false);	/* not resizing */
	try_line("resizing", " 268435456", false);	/* not larger */
	try_line("resizing", " 1x", false);
	try_line("resizing", " 536870912 1", false);	/* 17 words */
}

/* ------------------------------------------------------------ borrower */

static struct spa_config cb;
static struct spa_key key;
static struct spa_lender lender;
static struct spa_agent agent;
static pthread_t server;
static int lfd, sigfd;
static char sysfs[300];
static u64 gid;

static void *serve(void *arg)
{
	(void)arg;
	spa_serve(&agent, lfd, sigfd);
	return NULL;
}

/* The host side of nvmet's notice: the block device gets nvmet's size. */
static int host_revalidate(void *ctx, const char *subnqn, u32 nsid,
			   char *why, size_t wlen)
{
	char path[PATH_MAX];
	int ret;

	ret = fb_revalidate(ctx, subnqn, nsid, why, wlen);
	if (!ret) {
		snprintf(path, sizeof(path), "%s/block/nvme9n1/size", sysfs);
		put_u64(path, fake_ns_size(subnqn) >> 9);
	}
	return ret;
}

static struct spa_backend host_backend;
static bool b_ready;

static void member_put(const char *attr, u64 v)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/pb/members/rm-%016llx/%s",
		 spu_configfs_root(), gid, attr);
	put_u64(path, v);
}

static void b_setup(void)
{
	struct spa_ledger l = { .lender = false };
	char dir[400], why[512], uuid[SPU_UUID_STR];
	struct spa_grant *g;
	struct spa_msg rep;
	sigset_t set;
	u16 port;

	if (b_ready)
		return;
	b_ready = true;
	fresh_pa2(&ca, "borrower");
	host_backend = fake_backend;
	host_backend.revalidate = host_revalidate;
	lfd = test_serve_setup(&lender, &agent, &ca, &keys, &host_backend,
			       false, &port);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	pthread_create(&server, NULL, serve, NULL);

	gid = grant_to_b(&lender, &ca, 256 * MIB, &rep);
	spu_uuid_format(rep.uuid, uuid);
	/* b: pool pb with the member, its namespace in a fake sysfs. */
	snprintf(dir, sizeof(dir), "%s/sb", test_dir);
	mkdirs("%s", dir);
	test_config(&cb, "b", dir, 7);
	snprintf(cb.pool, sizeof(cb.pool), "pb");
	cb.nr_peers = 1;
	snprintf(cb.peers[0].name, sizeof(cb.peers[0].name), "a");
	snprintf(cb.peers[0].addr, sizeof(cb.peers[0].addr), "127.0.0.1");
	cb.peers[0].port = port;
	fake_pool("pb", 16);
	fake_member("pb", "b1", 10, "online", 1);
	fake_member("pb", "x", 0, "online", 1);
	snprintf(dir, sizeof(dir), "rm-%016llx", gid);
	fake_member("pb", dir, 15, "online", 1);
	member_put("total_slices", 15);
	member_put("max_slices", 15);	/* its owner table is full */
	member_put("data_offset", 4 * MIB);
	member_put("revalidate_size", 0);
	snprintf(sysfs, sizeof(sysfs), "%s/sys", test_dir);
	setenv("SLICEPOOL_SYSFS", sysfs, 1);
	mkdirs("%s/block/nvme9n1/device", sysfs);
	mkdirs("%s/class/nvme/nvme9", sysfs);
	snprintf(dir, sizeof(dir), "%s/block/nvme9n1/uuid", sysfs);
	put_file(dir, uuid);
	snprintf(dir, sizeof(dir), "%s/block/nvme9n1/size", sysfs);
	put_u64(dir, 256 * MIB >> 9);
	snprintf(dir, sizeof(dir), "%s/block/nvme9n1/device/subsysnqn", sysfs);
	put_file(dir, rep.subnqn);
	snprintf(dir, sizeof(dir), "%s/class/nvme/nvme9/subsysnqn", sysfs);
	put_file(dir, rep.subnqn);

	snprintf(l.path, sizeof(l.path), "%s/borrowed", cb.state_dir);
	g = spa_ledger_add(&l);
	g->id = gid;
	g->state = SPA_G_ACTIVE;
	snprintf(g->peer, sizeof(g->peer), "a");
	g->size = 256 * MIB;
	snprintf(g->name, sizeof(g->name), "rm-%016llx", gid);
	snprintf(g->uuid, sizeof(g->uuid), "%s", uuid);
	g->req_id[0] = 1;
	snprintf(g->hostnqn, sizeof(g->hostnqn), HOSTNQN_B);
	snprintf(g->subnqn, sizeof(g->subnqn), "%s", rep.subnqn);
	snprintf(g->traddr, sizeof(g->traddr), "127.0.0.1");
	g->trsvcid = 4420;
	g->nsid = 1;
	if (spa_ledger_save(&l, why, sizeof(why))) {
		fprintf(stderr, "cannot save: %s\n", why);
		exit(1);
	}
	spa_ledger_free(&l);
}

static void b_teardown(void)
{
	if (!b_ready)
		return;
	test_serve_teardown(server, lfd, sigfd, &agent, &lender);
	unsetenv("SLICEPOOL_SYSFS");
}

static u64 b_ledger_size(void)
{
	struct spa_ledger l;
	struct spa_grant *g;
	char path[PATH_MAX];
	u64 size = 0;

	snprintf(path, sizeof(path), "%s/borrowed", cb.state_dir);
	if (spa_ledger_load(&l, path, false, NULL, 0))
		return 0;
	g = spa_ledger_find(&l, gid);
	if (g)
		size = g->size;
	spa_ledger_free(&l);
	return size;
}

static u64 lender_size(void)
{
	struct spa_grant *g = spa_ledger_find(&lender.ledger, gid);

	return g ? g->size : 0;
}

static void t_borrower_grow(void)
{
	struct spa_resize_report r;
	char path[PATH_MAX], val[8] = "";
	int ret;

	b_setup();

	cap_start();
	ret = spa_resize(&cb, &keys, gid, 512 * MIB, &r, path, sizeof(path));
	CHECK(ret == 0, "resize: %d %s", ret, path);
	if (ret)
		return;
	CHECK(lender_size() == 512 * MIB && b_ledger_size() == 512 * MIB,
	      "ledgers: lender %llu, borrower %llu", lender_size(),
	      b_ledger_size());
	CHECK(r.old_size == 256 * MIB && r.g.size == 512 * MIB &&
	      !strcmp(r.dev, "/dev/nvme9n1") && !r.rescanned,
	      "report: %llu -> %llu on %s, %u rescans", r.old_size, r.g.size,
	      r.dev, r.rescanned);
	snprintf(path, sizeof(path), "%s/pb/members/rm-%016llx/revalidate_size",
		 spu_configfs_root(), gid);
	spu_read_buf(path, val, sizeof(val));
	CHECK(!strcmp(val, "1"), "revalidate_size got '%s'", val);
	/* (512 - 4) MiB / 16 MiB: room for 31; this member holds 15 at most. */
	CHECK(r.room == 31 && r.max_slices == 15 && r.slice_bytes == 16 * MIB,
	      "room %llu, max_slices %llu", r.room, r.max_slices);
	CHECK(cap_has("took 15 slices of the 31", "at most max_slices"),
	      "the capped member not said");
	CHECK(cap_has("nvmet's namespace-attribute notice", NULL) &&
	      cap_has("recorded at 512 MiB", NULL), "steps not logged");

	/* Again, the same size: answered at once, nothing changes. */
	ret = spa_resize(&cb, &keys, gid, 512 * MIB, &r, path, sizeof(path));
	CHECK(!ret && b_ledger_size() == 512 * MIB, "the same size: %s", path);
	if (!case_ok)
		cap_dump();
}

static void t_borrower_refusals(void)
{
	struct spa_resize_report r;
	char why[1024], path[PATH_MAX];
	u64 rv;
	int ret;

	b_setup();
	rv = fake_ctx.revalidates;

	cap_start();
	ret = spa_resize(&cb, &keys, gid, 256 * MIB, &r, why, sizeof(why));
	CHECK(ret == 1 && strstr(why, "a refused: bad value") &&
	      strstr(why, "shrinking"), "shrink: %d %s", ret, why);
	printf("#   %s\n", why);
	ret = spa_resize(&cb, &keys, gid, 8192 * MIB, &r, why, sizeof(why));
	CHECK(ret == 1 && strstr(why, "a refused: no space"), "no space: %d %s",
	      ret, why);
	ret = spa_resize(&cb, &keys, 0xabc, 1024 * MIB, &r, why, sizeof(why));
	CHECK(ret == -ENOENT && strstr(why, "no borrowed grant"),
	      "unknown grant: %d %s", ret, why);
	ret = spa_resize(&cb, &keys, gid, 1000, &r, why, sizeof(why));
	CHECK(ret == -EINVAL, "1000 bytes: %d %s", ret, why);
	CHECK(lender_size() == 512 * MIB && b_ledger_size() == 512 * MIB &&
	      fake_ctx.revalidates == rv, "a refusal changed something");

	/* A module that cannot grow members: nothing is asked. */
	snprintf(path, sizeof(path), "%s/pb/members/rm-%016llx/revalidate_size",
		 spu_configfs_root(), gid);
	unlink(path);
	ret = spa_resize(&cb, &keys, gid, 768 * MIB, &r, why, sizeof(why));
	CHECK(ret == -EOPNOTSUPP && strstr(why, "nothing was asked"),
	      "no revalidate_size: %d %s", ret, why);
	CHECK(lender_size() == 512 * MIB, "the lender was asked");
	put_file(path, "0");
	/* No namespace connected. */
	setenv("SLICEPOOL_SYSFS", test_dir, 1);
	ret = spa_resize(&cb, &keys, gid, 768 * MIB, &r, why, sizeof(why));
	CHECK(ret == -ENODEV && strstr(why, "is connected"),
	      "not connected: %d %s", ret, why);
	setenv("SLICEPOOL_SYSFS", sysfs, 1);
	CHECK(lender_size() == 512 * MIB, "the lender was asked");
}

/*
 * nvmet's notice lost (the fake host does not update the device): after
 * 10 s the controllers are asked to rescan, which finds the new size.
 */
static void *rescan_host(void *arg)
{
	char path[PATH_MAX], dev[PATH_MAX], val[8];
	int i;

	(void)arg;
	snprintf(path, sizeof(path), "%s/class/nvme/nvme9/rescan_controller",
		 sysfs);
	snprintf(dev, sizeof(dev), "%s/block/nvme9n1/size", sysfs);
	for (i = 0; i < 400; i++) {
		if (!spu_read_buf(path, val, sizeof(val)) && !strcmp(val, "1")) {
			put_u64(dev, 768 * MIB >> 9);
			break;
		}
		usleep(50000);
	}
	return NULL;
}

static void t_borrower_rescan(void)
{
	struct spa_resize_report r;
	char why[1024], path[PATH_MAX];
	pthread_t t;
	int ret;

	b_setup();

	cap_start();
	snprintf(path, sizeof(path), "%s/class/nvme/nvme9/rescan_controller",
		 sysfs);
	put_file(path, "0");
	host_backend.revalidate = fb_revalidate;	/* the notice is lost */
	pthread_create(&t, NULL, rescan_host, NULL);
	ret = spa_resize(&cb, &keys, gid, 768 * MIB, &r, why, sizeof(why));
	pthread_join(t, NULL);
	host_backend.revalidate = host_revalidate;
	CHECK(!ret, "%d %s", ret, why);
	CHECK(r.rescanned == 1 && r.wait_ms >= 10000, "%u rescans after %u ms",
	      r.rescanned, r.wait_ms);
	CHECK(cap_has("asked 1 controller(s)", "to rescan") &&
	      cap_has("after a rescan", NULL), "not logged");
	CHECK(b_ledger_size() == 768 * MIB, "ledger %llu", b_ledger_size());
	if (!case_ok)
		cap_dump();
}

/* A lender from before RESIZE: answers "unknown verb", as proto.c does. */
static void *old_lender(void *arg)
{
	struct pollfd p = { .fd = *(int *)arg, .events = POLLIN };
	u8 in[SPA_FRAME_MAX], out[SPA_FRAME_MAX];
	struct spa_msg rep;
	size_t len, n = 0;
	u32 flen = SPA_FRAME_MIN;
	ssize_t k;
	int fd;

	if (poll(&p, 1, 10000) != 1)
		return NULL;
	fd = accept(p.fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (n < flen && (k = read(fd, in + n, sizeof(in) - n)) > 0) {
		n += k;
		if (spa_check_prefix(in, n, &flen, NULL, 0) == -SPA_E_SIZE)
			break;
	}
	if (n >= flen) {
		spa_msg_init(&rep, &ca, SPA_ERROR);
		rep.err_code = SPA_ERR_UNKNOWN_VERB;
		snprintf(rep.err_text, sizeof(rep.err_text),
			 "unknown message type 0x%02x", in[5]);
		memcpy(rep.reply_to, spa_frame_nonce(in), SPA_NONCE_LEN);
		rep.fields |= SPA_F(SPA_T_REPLY_TO) | SPA_F(SPA_T_ERR_CODE) |
			      SPA_F(SPA_T_ERR_TEXT);
		if (!spa_encode(&rep, out, sizeof(out), &len, NULL, 0) &&
		    !spa_seal(&key, out, len) && write(fd, out, len) < 0)
			perror("write");
	}
	close(fd);
	return NULL;
}

static void t_borrower_old_lender(void)
{
	struct spa_resize_report r;
	char why[1024];
	pthread_t t;
	u16 port, saved;
	int lsock, ret;

	b_setup();
	saved = cb.peers[0].port;

	lsock = spa_listen("127.0.0.1", 0, &port, why, sizeof(why));
	if (lsock < 0) {
		fail("listen: %s", why);
		return;
	}
	pthread_create(&t, NULL, old_lender, &lsock);
	cb.peers[0].port = port;
	ret = spa_resize(&cb, &keys, gid, 1024 * MIB, &r, why, sizeof(why));
	cb.peers[0].port = saved;
	pthread_join(t, NULL);
	close(lsock);
	CHECK(ret == 1 && strstr(why, "does not know the resize request") &&
	      strstr(why, "nothing changed"), "%d %s", ret, why);
	printf("#   %s\n", why);
	CHECK(b_ledger_size() == 768 * MIB, "ledger %llu", b_ledger_size());
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "lender: a grant grows; a repeated resize is answered alike",
		  t_grow },
		{ "lender: shrink, bad sizes, unknown grant, owner, space, limits refused",
		  t_refusals },
		{ "lender: a failure at each step is undone", t_step_failures },
		{ "lender: an undo that fails leaves it resizing, settled later",
		  t_undo_fails },
		{ "lender: reconcile rolls a resizing grant back", t_reconcile },
		{ "lender: resizing lines of the ledger", t_ledger_lines },
		/* These share one lender, set up by the first of them. */
		{ "borrower: resize over the wire: namespace, member, ledger",
		  t_borrower_grow },
		{ "borrower: refusals change nothing", t_borrower_refusals },
		{ "borrower: a lost notice: the controllers are asked to rescan",
		  t_borrower_rescan },
		{ "borrower: a lender from before resize", t_borrower_old_lender },
	};
	int ret;

	ret = ktap_run_keyed(&key, cases, ARRAY_SIZE(cases));
	b_teardown();
	return ret;
}
