// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: volume records and the steps of the cross-member commit
 * protocol (described at the top of sp-pool.c) that the resize, move and
 * reclaim code share: record writing, fences, attempt ids.
 *
 * Everything here runs under pool->lock.
 */
#include <linux/string.h>

#include "sp-core.h"
#include "sp-pool.h"

static int sp_find_slot(struct sp_member *m, const u8 *uuid)
{
	int s, free = -1;

	for (s = 0; s < SP_MAX_VOLUMES; s++) {
		if (m->slots[s].state != SP_VOL_FREE &&
		    !memcmp(m->slots[s].uuid, uuid, SP_UUID_LEN))
			return s;
		if (free < 0 && m->slots[s].state == SP_VOL_FREE)
			free = s;
	}
	return free;
}

void sp_holders_add(struct sp_member **h, unsigned int *n,
		    struct sp_member *m)
{
	unsigned int k;

	if (!m)
		return;
	for (k = 0; k < *n; k++)
		if (h[k] == m)
			return;
	if (*n < SP_MAX_MEMBERS)
		h[(*n)++] = m;
}

/*
 * Write the volume record @val of @v to every holder in @h, one member at
 * a time, each flushed.  With @all, every copy must be durable (step 0 of
 * create/expand); else one durable copy commits.  Returns 0 or the first
 * error.
 */
int sp_write_records(struct sp_volume *v, struct sp_member **h,
		     unsigned int n, const struct sp_rec_val *val,
		     bool all)
{
	struct sp_vol_record rec;
	unsigned int k, i, ok = 0;
	int r, first_err = 0;

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.uuid, v->uuid, SP_UUID_LEN);
	strscpy(rec.name, v->name, sizeof(rec.name));
	rec.size_bytes = cpu_to_le64(val->size_bytes);
	rec.nr_slices = cpu_to_le64(val->nr);
	rec.generation = cpu_to_le64(val->gen);
	rec.started = cpu_to_le64(val->started);
	rec.started_from = cpu_to_le32(v->started_from);
	rec.started_to = cpu_to_le32(v->started_to);
	rec.state = cpu_to_le32(val->state);
	rec.nr_fences = cpu_to_le32(val->fences->nr);
	for (i = 0; i < val->fences->nr; i++) {
		rec.fences[i].from = cpu_to_le32(val->fences->f[i].from |
			(val->fences->f[i].exact ? SP_FENCE_EXACT : 0));
		rec.fences[i].to = cpu_to_le32(val->fences->f[i].to);
		rec.fences[i].id = cpu_to_le64(val->fences->f[i].id);
	}

	for (k = 0; k < n; k++) {
		int s = sp_find_slot(h[k], v->uuid);

		if (s < 0) {
			r = -ENOSPC;
		} else {
			r = sp_md_set_vol(h[k], s, &rec);
			if (!r)
				r = sp_md_commit(h[k]);
		}
		if (r) {
			sp_err("%s: volume record of %s not written to %s: %d",
			       v->pool->name, v->name,
			       config_item_name(&h[k]->item), r);
			if (!first_err)
				first_err = r;
		} else {
			ok++;
		}
	}
	if (all || !ok)
		return first_err;
	return 0;
}

/* sp_fence_add() to @fs of @v, with the refusal logged when it is full. */
int sp_volume_fence(struct sp_volume *v, struct sp_fences *fs,
		    u32 from, u32 to, u64 id, bool exact)
{
	int r = sp_fence_add(fs, from, to, id, exact);

	if (r)
		sp_err("%s: refused: volume %s already has %u fences of interrupted operations; enable every member of the pool, then write 'all' to reclaim",
		       v->pool->name, v->name, fs->nr);
	return r;
}

/*
 * The fences the next record of @v must carry: the committed ones, plus
 * one for a create/expand that started after the last commit and did not
 * commit (its orphans may sit on members that are not enabled now).
 */
int sp_pending_fences(struct sp_volume *v, struct sp_fences *fs)
{
	*fs = v->fences;
	if (v->started <= v->gen)
		return 0;
	return sp_volume_fence(v, fs, v->started_from & ~SP_FENCE_EXACT,
			       v->started_to, v->started,
			       v->started_from & SP_FENCE_EXACT);
}

bool sp_slots_available(struct sp_volume *v, struct sp_member **h,
			unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		if (sp_find_slot(h[k], v->uuid) < 0) {
			sp_err("%s: member %s has no free volume record slot (max %u volumes)",
			       v->pool->name, config_item_name(&h[k]->item),
			       SP_MAX_VOLUMES);
			return false;
		}
	}
	return true;
}

/*
 * A new attempt/commit id for @v: above every id this pool has seen on a
 * superblock, a volume record or an owner record, or has handed out since
 * it was assembled.  Create, expand and move make it durable with
 * sp_attempt_start() before any owner record carries it.
 */
u64 sp_next_gen(struct sp_volume *v)
{
	struct sp_pool *pool = v->pool;

	pool->attempt = max3(pool->attempt, v->gen, v->max_owner_gen) + 1;
	return pool->attempt;
}

static bool sp_holds(struct sp_member **h, unsigned int n,
		     struct sp_member *m)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		if (h[k] == m)
			return true;
	return false;
}

/*
 * Step 0 of create/expand: raise the superblock attempt counter to @id on
 * every enabled member and flush it.  It must be durable on every member
 * in @h (the holders of the current map and the members receiving a new
 * slice) before the first owner record stamped @id is written; elsewhere
 * it is best effort.  Nothing of the attempt is on disk yet if it fails.
 */
static int sp_attempt_persist(struct sp_pool *pool, struct sp_member **h,
			      unsigned int n, u64 id)
{
	struct sp_member *m;
	int r;

	list_for_each_entry(m, &pool->members, list) {
		if (!m->enabled)
			continue;
		r = sp_md_set_attempt(m, id);
		if (!r)
			r = sp_md_commit(m);
		if (!r)
			continue;
		sp_err("%s: attempt id %llu not written to %s: %d",
		       pool->name, id, config_item_name(&m->item), r);
		if (sp_holds(h, n, m))
			return r;
	}
	return 0;
}

/*
 * Step 0 of create/expand and of a move, for the attempt id @gen that
 * writes owner records for the logical slices [@from, @to) (the fence it
 * gets if it does not commit): @gen is made durable in the superblocks
 * (sp_attempt_persist(), @h[0..@n)), then as "started" in the record,
 * with the pending fences @fs, on every holder of the current map
 * (@h[0..@n_old)); @fs then become the volume's.  Returns 0 or the first
 * error.
 */
int sp_attempt_start(struct sp_volume *v, struct sp_member **h,
		     unsigned int n, unsigned int n_old, u64 gen, u32 from,
		     u32 to, const struct sp_fences *fs)
{
	struct sp_rec_val val = { .size_bytes = v->size_bytes,
		.nr = v->nr_slices, .gen = v->gen, .started = gen,
		.state = v->state, .fences = fs };
	int r;

	v->started = gen;
	v->started_from = from;
	v->started_to = to;
	r = sp_attempt_persist(v->pool, h, n, gen);
	if (!r)
		r = sp_write_records(v, h, n_old, &val, true);
	if (!r)
		v->fences = *fs;
	return r;
}

/*
 * Step 1's flush: commit every holder in @h[0..@n) that received one of
 * the owner records of the extents @e[0..@count), the holders from
 * @h[@from] on first, then those before it.  Returns 0 or the first
 * error; nothing after it is committed.
 */
int sp_commit_holders_of(struct sp_member **h, unsigned int n,
			 unsigned int from, const struct sp_extent *e,
			 u64 count)
{
	unsigned int j;
	u64 i;
	int r;

	for (j = 0; j < n; j++) {
		struct sp_member *m = h[(from + j) % n];

		for (i = 0; i < count; i++)
			if (e[i].m == m)
				break;
		if (i == count)
			continue;
		r = sp_md_commit(m);
		if (r)
			return r;
	}
	return 0;
}
