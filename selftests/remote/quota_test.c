// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of slicepool-agent's lending quota
 * (nvmet-remote-ns/agent/quota.c) against a fake slicepool configfs tree:
 * what counts as free, whole slices, keep_free, lend_max, max_grants, and
 * that concurrent requests for the last free space never both succeed.
 */
#include "remote-test.h"

#define MIB	1048576ULL

static void setup(void)
{
	char dir[PATH_MAX];

	fresh_roots(dir, sizeof(dir), "q");
	fake_pool("pa", 64);
	fake_member("pa", "m1", 3, "online", 1);
	fake_member("pa", "m2", 2, "online", 1);
	fake_member("pa", "m3", 10, "failed", 1);
	fake_member("pa", "m4", 10, "disabled", 0);
}

static void t_space(void)
{
	struct spu_space s;
	char why[256];

	setup();
	CHECK(!spu_pool_space("pa", &s, why, sizeof(why)), "%s", why);
	CHECK(s.slice_bytes == 64 * MIB, "slice %llu", s.slice_bytes);
	CHECK(s.free_slices == 5, "free %llu (failed and disabled members count)",
	      s.free_slices);
	CHECK(s.members == 2, "%u members", s.members);
	CHECK(spu_pool_space("nopool", &s, why, sizeof(why)) == -ENOENT,
	      "a missing pool");
	printf("#   %s\n", why);
}

static void t_whole_slices(void)
{
	struct spa_quota q;
	char why[256];
	u64 bytes = 0;

	setup();
	spa_quota_init(&q, 0, 0, 16);
	CHECK(spa_quota_lendable(&q, "pa") == 320 * MIB, "lendable");
	CHECK(!spa_quota_reserve(&q, "pa", 100 * MIB, &bytes, why, sizeof(why)),
	      "%s", why);
	CHECK(bytes == 128 * MIB, "100 MiB took %llu", bytes);
	CHECK(spa_quota_lendable(&q, "pa") == 192 * MIB, "after one");
	CHECK(spa_quota_reserve(&q, "pa", 193 * MIB, &bytes, why,
				sizeof(why)) == -ENOSPC, "193 MiB more");
	printf("#   %s\n", why);
	CHECK(!spa_quota_reserve(&q, "pa", 192 * MIB, &bytes, why, sizeof(why)),
	      "the rest: %s", why);
	CHECK(spa_quota_lendable(&q, "pa") == 0, "nothing left");
	spa_quota_cancel(&q, 192 * MIB);
	CHECK(spa_quota_lendable(&q, "pa") == 192 * MIB, "cancel gives back");
	spa_quota_destroy(&q);
}

static void t_limits(void)
{
	struct spa_quota q;
	char why[256];
	u64 bytes = 0;

	setup();
	spa_quota_init(&q, 64 * MIB, 0, 16);
	CHECK(spa_quota_lendable(&q, "pa") == 256 * MIB, "keep_free 64 MiB");
	CHECK(spa_quota_reserve(&q, "pa", 320 * MIB, &bytes, why,
				sizeof(why)) == -ENOSPC, "into keep_free");
	spa_quota_destroy(&q);

	spa_quota_init(&q, 0, 128 * MIB, 16);
	CHECK(!spa_quota_reserve(&q, "pa", 64 * MIB, &bytes, why, sizeof(why)),
	      "%s", why);
	spa_quota_commit(&q, bytes);
	CHECK(spa_quota_reserve(&q, "pa", 128 * MIB, &bytes, why,
				sizeof(why)) == -EDQUOT, "past lend_max");
	printf("#   %s\n", why);
	CHECK(spa_quota_lendable(&q, "pa") == 64 * MIB, "lend_max room");
	spa_quota_return(&q, 64 * MIB);
	CHECK(!spa_quota_reserve(&q, "pa", 128 * MIB, &bytes, why, sizeof(why)),
	      "after a return: %s", why);
	spa_quota_destroy(&q);

	spa_quota_init(&q, 0, 0, 2);
	CHECK(!spa_quota_reserve(&q, "pa", 4096, &bytes, why, sizeof(why)), "1");
	CHECK(!spa_quota_reserve(&q, "pa", 4096, &bytes, why, sizeof(why)), "2");
	CHECK(spa_quota_reserve(&q, "pa", 4096, &bytes, why, sizeof(why)) ==
	      -EDQUOT, "a third grant with max_grants 2");
	printf("#   %s\n", why);
	spa_quota_destroy(&q);
}

/* ---------------------------------------------- the last free space */

#define THREADS	8
#define ROUNDS	200

struct race {
	struct spa_quota *q;
	pthread_barrier_t go;
	pthread_barrier_t done;
	unsigned int wins;	/* this round, under win_lock */
	pthread_mutex_t win_lock;	/* wins */
};

static void *racer(void *arg)
{
	struct race *r = arg;
	char why[256];
	u64 bytes;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&r->go);
		if (!spa_quota_reserve(r->q, "pa", 320 * MIB, &bytes, why,
				       sizeof(why))) {
			pthread_mutex_lock(&r->win_lock);
			r->wins++;
			pthread_mutex_unlock(&r->win_lock);
		}
		pthread_barrier_wait(&r->done);
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

static void t_race_last_space(void)
{
	struct spa_quota q;
	struct race r = { .q = &q };
	pthread_t t[THREADS];
	unsigned int i, bad = 0;

	setup();
	spa_quota_init(&q, 0, 0, 16);
	pthread_barrier_init(&r.go, NULL, THREADS);
	pthread_barrier_init(&r.done, NULL, THREADS + 1);
	pthread_mutex_init(&r.win_lock, NULL);
	/* The threads wait at "go" among themselves; "done" includes us. */
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, racer, &r);
	for (i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&r.done);
		if (r.wins != 1)
			bad++;
		if (r.wins)
			spa_quota_cancel(&q, 320 * MIB);
		r.wins = 0;
		pthread_barrier_wait(&r.done);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(!bad, "%u of %u rounds did not have exactly one winner", bad,
	      ROUNDS);
	printf("#   %d rounds of %d threads asking for the last 320 MiB: one winner each\n",
	       ROUNDS, THREADS);
	spa_quota_destroy(&q);
}

/*
 * Reserve, create (the fake kernel takes the slices), commit, with 16
 * threads until the pool is empty: exactly as many grants as fit, and
 * never a create that the fake kernel refuses for lack of space (which
 * would mean the quota let one too many through).
 */
struct fill {
	struct spa_quota *q;
	pthread_mutex_t lock;	/* granted, overcommit */
	unsigned int granted;
	unsigned int overcommit;
	unsigned int id;
};

static void *filler(void *arg)
{
	struct fill *f = arg;
	char why[256], vol[32], uuid[SPU_UUID_STR];
	unsigned int n;
	u64 bytes;
	int ret;

	for (;;) {
		ret = spa_quota_reserve(f->q, "pa", 64 * MIB, &bytes, why,
					sizeof(why));
		if (ret) {
			/*
			 * A grant between its create and its commit is
			 * counted twice for a moment (a refusal, never an
			 * overcommit): try again until none is in flight.
			 */
			pthread_mutex_lock(&f->q->lock);
			n = f->q->pending;
			pthread_mutex_unlock(&f->q->lock);
			if (!n)
				return NULL;
			usleep(100);
			continue;
		}
		pthread_mutex_lock(&f->lock);
		n = ++f->id;
		pthread_mutex_unlock(&f->lock);
		snprintf(vol, sizeof(vol), "rg-%u", n);
		ret = fake_backend.vol_create(fake_backend.ctx, "pa", vol,
					      bytes, uuid, why, sizeof(why));
		pthread_mutex_lock(&f->lock);
		if (ret) {
			f->overcommit++;
			spa_quota_cancel(f->q, bytes);
		} else {
			f->granted++;
			spa_quota_commit(f->q, bytes);
		}
		pthread_mutex_unlock(&f->lock);
	}
}

static void t_race_fill(void)
{
	struct spa_quota q;
	struct fill f = { .q = &q };
	pthread_t t[16];
	unsigned int i;

	setup();
	fake_set_free("pa", "m1", 40);
	fake_set_free("pa", "m2", 23);
	spa_quota_init(&q, 0, 0, 256);
	pthread_mutex_init(&f.lock, NULL);
	fake_ctx.delay_ms = 1;
	for (i = 0; i < ARRAY_SIZE(t); i++)
		pthread_create(&t[i], NULL, filler, &f);
	for (i = 0; i < ARRAY_SIZE(t); i++)
		pthread_join(t[i], NULL);
	fake_ctx.delay_ms = 0;
	CHECK(f.granted == 63, "%u grants of one slice from 63", f.granted);
	CHECK(!f.overcommit, "%u creates failed for lack of space",
	      f.overcommit);
	CHECK(fake_free("pa", "m1") == 0 && fake_free("pa", "m2") == 0,
	      "free left: %llu %llu", fake_free("pa", "m1"),
	      fake_free("pa", "m2"));
	CHECK(q.grants == 63 && q.reserved == 0 && q.pending == 0,
	      "quota: %u grants, %llu reserved, %u pending", q.grants,
	      q.reserved, q.pending);
	spa_quota_destroy(&q);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "free space: online enabled members only", t_space },
		{ "grants take whole slices; cancel gives back", t_whole_slices },
		{ "keep_free, lend_max and max_grants hold", t_limits },
		{ "8 threads for the last space: exactly one wins (200 rounds)",
		  t_race_last_space },
		{ "16 threads fill the pool: exactly what fits, no overcommit",
		  t_race_fill },
	};

	make_test_dir();
	return ktap_run(cases, ARRAY_SIZE(cases));
}
