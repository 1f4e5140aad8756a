// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - a format-2 pool decoded from its members' metadata
 *
 * sb.c reads and checks each member (superblock, volume table, owner
 * table); this file applies format 2's rules across the members, the
 * kernel's rules (Documentation/dm-slicepool.rst, "Commit protocol"):
 *
 * - of the copies of a volume record, the highest generation wins, then
 *   the highest started (spt_fmt2_rec_newer());
 * - an owner record is a claim of the winning record if it names the
 *   volume, its logical slice is within the size, its attempt id is not
 *   newer than the record's generation and no fence excludes it
 *   (spt_fmt2_is_claim(), dm-slicepool/fence.c);
 * - of several claims of one logical slice the highest attempt id wins;
 *   two at the winning id are the same attempt twice (corruption), and
 *   the first is kept (spt_fmt2_map());
 * - every owner record but the claims kept is an orphan, which reclaim
 *   frees (spt_fmt2_is_orphan()).
 *
 * assemble.c uses the same rules for its report; inspect and upgrade use
 * the maps built here.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md3dev.h"

#define SPT_VOL_LIVE	1

bool spt_fmt2_rec_newer(const struct spt_disk_vol *a,
			const struct spt_disk_vol *b)
{
	return a->generation > b->generation ||
	       (a->generation == b->generation && a->started > b->started);
}

bool spt_fmt2_is_claim(const struct spt_disk_vol *v,
		       const struct spt_disk_owner *o)
{
	return !strcmp(o->vol_uuid, v->uuid) && o->logical < v->nr_slices &&
	       o->generation <= v->generation &&
	       sp_fence_claim_ok(&v->fences, o->logical, o->generation);
}

static int cmp_member(const void *a, const void *b)
{
	const struct spt_disk_member *x = a, *y = b;

	return strcmp(x->sb.member_name, y->sb.member_name);
}

static int cmp_vol(const void *a, const void *b)
{
	const struct spt_fmt2_vol *x = a, *y = b;
	int c = strcmp(x->rec.name, y->rec.name);

	return c ? c : strcmp(x->rec.uuid, y->rec.uuid);
}

size_t spt_fmt2_vol_index(const void *vols, size_t n, size_t stride,
			  const char *uuid)
{
	const char *b = vols;
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(((const struct spt_disk_vol *)(b + i * stride))->uuid,
			    uuid))
			break;
	return i;
}

void *spt_fmt2_vol_merge(void *vols, size_t *n, size_t stride,
			 const struct spt_disk_vol *r)
{
	size_t i = spt_fmt2_vol_index(vols, *n, stride, r->uuid);
	struct spt_disk_vol *w;

	if (i == *n) {
		vols = spt_realloc_array(vols, *n + 1, stride);
		w = (void *)((char *)vols + (*n)++ * stride);
		memset(w, 0, stride);
		*w = *r;
	} else {
		w = (void *)((char *)vols + i * stride);
		if (spt_fmt2_rec_newer(r, w))
			*w = *r;
	}
	return vols;
}

static_assert(offsetof(struct spt_fmt2_vol, rec) == 0,
	      "spt_fmt2_vol starts with rec");

static struct spt_fmt2_vol *vol_find(struct spt_fmt2_pool *p, const char *uuid)
{
	size_t i = spt_fmt2_vol_index(p->vols, p->nr_vols, sizeof(*p->vols),
				      uuid);

	return i < p->nr_vols ? &p->vols[i] : NULL;
}

static int check_members(struct spt_fmt2_pool *p, char *why, size_t whylen)
{
	const struct spt_disk_member *a, *b;
	size_t i, j;

	for (i = 0; i < p->nr_members; i++) {
		a = &p->members[i];
		if (strcmp(a->sb.pool_uuid, p->members[0].sb.pool_uuid)) {
			snprintf(why, whylen,
				 "%s is a member of pool %s (%s), %s of pool %s (%s): give the members of one pool",
				 a->device, a->sb.pool_name, a->sb.pool_uuid,
				 p->members[0].device, p->members[0].sb.pool_name,
				 p->members[0].sb.pool_uuid);
			return -EINVAL;
		}
		if (a->sb.slice_sectors != p->members[0].sb.slice_sectors) {
			snprintf(why, whylen,
				 "%s: slice size %llu sectors differs from the %llu of %s",
				 a->device, (unsigned long long)a->sb.slice_sectors,
				 (unsigned long long)p->members[0].sb.slice_sectors,
				 p->members[0].device);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			b = &p->members[j];
			if (!strcmp(a->sb.member_uuid, b->sb.member_uuid) ||
			    !strcmp(a->sb.member_name, b->sb.member_name)) {
				snprintf(why, whylen,
					 "member %s (%s) is on both %s and %s: give each member once",
					 a->sb.member_name, a->sb.member_uuid,
					 b->device, a->device);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The live volumes' winning records, sorted by name. */
static void collect_vols(struct spt_fmt2_pool *p)
{
	size_t i, j, k;

	for (i = 0; i < p->nr_members; i++) {
		const struct spt_disk_member *m = &p->members[i];

		for (j = 0; j < m->nr_vols; j++)
			p->vols = spt_fmt2_vol_merge(p->vols, &p->nr_vols,
						     sizeof(*p->vols),
						     &m->vols[j]);
	}
	for (i = 0, k = 0; i < p->nr_vols; i++)
		if (p->vols[i].rec.state == SPT_VOL_LIVE)
			p->vols[k++] = p->vols[i];
	p->nr_vols = k;
	qsort(p->vols, p->nr_vols, sizeof(*p->vols), cmp_vol);
}

struct spt_fmt2_slice *spt_fmt2_map(const struct spt_disk_vol *rec,
				    const struct spt_disk_member *const *ms,
				    size_t n, u64 *missing, u64 *twice)
{
	u64 nr = rec->nr_slices, l;
	u64 *best = spt_zalloc((nr + 1) * sizeof(*best));	/* id + 1 */
	u8 *ties = spt_zalloc(nr + 1);
	struct spt_fmt2_slice *map = spt_zalloc((nr + 1) * sizeof(*map));
	size_t i, k;

	for (l = 0; l < nr; l++)
		map[l].member = -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < ms[i]->nr_owners; k++) {
			const struct spt_disk_owner *o = &ms[i]->owners[k];

			if (!spt_fmt2_is_claim(rec, o))
				continue;
			l = o->logical;
			if (o->generation + 1 > best[l]) {
				best[l] = o->generation + 1;
				map[l].member = (s64)i;
				map[l].physical = o->physical;
				ties[l] = 1;
			} else if (o->generation + 1 == best[l] && ties[l] < 2) {
				ties[l]++;
			}
		}
	}
	*missing = 0;
	*twice = 0;
	for (l = 0; l < nr; l++) {
		if (map[l].member < 0)
			(*missing)++;
		if (ties[l] > 1)
			(*twice)++;
	}
	free(best);
	free(ties);
	return map;
}

bool spt_fmt2_is_orphan(const struct spt_disk_vol *rec,
			const struct spt_fmt2_slice *map, size_t i,
			const struct spt_disk_owner *o)
{
	return !rec || !spt_fmt2_is_claim(rec, o) ||
	       map[o->logical].member != (s64)i ||
	       map[o->logical].physical != o->physical;
}

static void count_orphans(struct spt_fmt2_pool *p)
{
	size_t i, k;

	for (i = 0; i < p->nr_members; i++) {
		const struct spt_disk_member *m = &p->members[i];

		for (k = 0; k < m->nr_owners; k++) {
			const struct spt_disk_owner *o = &m->owners[k];
			struct spt_fmt2_vol *v = vol_find(p, o->vol_uuid);

			if (spt_fmt2_is_orphan(v ? &v->rec : NULL,
					       v ? v->map : NULL, i, o))
				p->orphans++;
		}
	}
}

int spt_fmt2_build(struct spt_disk_member *ms, size_t n,
		   struct spt_fmt2_pool *p, char *why, size_t whylen)
{
	const struct spt_disk_member **ptrs;
	size_t i, best;
	int r;

	memset(p, 0, sizeof(*p));
	p->members = ms;
	p->nr_members = n;
	if (!n) {
		snprintf(why, whylen, "no format-2 member given");
		return -EINVAL;
	}
	r = check_members(p, why, whylen);
	if (r)
		return r;
	qsort(p->members, n, sizeof(*p->members), cmp_member);
	snprintf(p->uuid, sizeof(p->uuid), "%s", ms[0].sb.pool_uuid);
	p->slice_sectors = ms[0].sb.slice_sectors;
	/* the newest superblock names the pool, as assemble does */
	for (i = 0, best = 0; i < n; i++)
		if (ms[i].sb.generation > ms[best].sb.generation)
			best = i;
	snprintf(p->name, sizeof(p->name), "%s", ms[best].sb.pool_name);
	collect_vols(p);
	ptrs = spt_zalloc(n * sizeof(*ptrs));
	for (i = 0; i < n; i++)
		ptrs[i] = &p->members[i];
	for (i = 0; i < p->nr_vols; i++) {
		struct spt_fmt2_vol *v = &p->vols[i];

		v->map = spt_fmt2_map(&v->rec, ptrs, n, &v->missing, &v->twice);
	}
	free(ptrs);
	count_orphans(p);
	return 0;
}

void spt_fmt2_free(struct spt_fmt2_pool *p)
{
	size_t i;

	for (i = 0; i < p->nr_vols; i++)
		free(p->vols[i].map);
	for (i = 0; i < p->nr_members; i++)
		spt_disk_member_free(&p->members[i]);
	free(p->vols);
	free(p->members);
	memset(p, 0, sizeof(*p));
}
