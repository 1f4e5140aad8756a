// SPDX-License-Identifier: GPL-2.0
/*
 * fmt2dump - a format-2 pool as the slicepool tool decodes it from its
 * member images, in the line format of selftests/fixtures/fmt2/MANIFEST
 *
 * Usage: fmt2dump IMAGE...
 *
 * Each image is read by the tool's own decoder (tools/slicepool/sb.c,
 * spt_md_read_dev(): superblock, volume and owner tables with their
 * checks) and the pool is decoded by the tool's fmt2.c (spt_fmt2_build():
 * the record winner, the claim rule with the module's fences and the
 * per-slice map that 'slicepool inspect' and 'upgrade' use): this test
 * program has no rule of its own.
 *
 * Prints (member image paths are not printed):
 *   pool NAME UUID SLICE_MB
 *   member NAME DOMAIN SIZE_BYTES DATA_OFFSET_BYTES TOTAL_SLICES FREE_SLICES
 *   volume NAME SIZE_BYTES UUID
 *   map VOLUME LOGICAL MEMBER PHYSICAL      ("- -" when no claim is found)
 *   fence VOLUME FROM TO|- [=]ID
 *   deleted NAME UUID
 *   orphans N
 * and, for the data check, one "slice VOLUME LOGICAL IMAGE BYTE_OFFSET"
 * line per mapped slice.  Exits 1 on a refused image, two pools, or a
 * logical slice claimed twice by one attempt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"
#include "md3dev.h"

/* util.c needs this; fmt2dump never calls it. */
void spt_usage_fail(const struct spt_cmd *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	abort();
}

static void print_fences(const struct spt_disk_vol *v)
{
	unsigned int i;

	for (i = 0; i < v->fences.nr; i++) {
		const struct sp_fence_cpu *f = &v->fences.f[i];

		printf("fence %s %u ", v->name, f->from);
		if (f->to == SP_FENCE_END)
			printf("- ");
		else
			printf("%u ", f->to);
		printf("%s%llu\n", f->exact ? "=" : "",
		       (unsigned long long)f->id);
	}
}

/* The lines of live volume @v of pool @p. */
static int dump_volume(const struct spt_fmt2_pool *p,
		       const struct spt_fmt2_vol *v)
{
	const struct spt_disk_vol *r = &v->rec;
	u64 k;

	printf("volume %s %llu %s\n", r->name, (unsigned long long)r->size,
	       r->uuid);
	print_fences(r);
	for (k = 0; k < r->nr_slices; k++) {
		const struct spt_fmt2_slice *s = &v->map[k];
		const struct spt_disk_member *m;

		if (s->member < 0) {
			printf("map %s %llu - -\n", r->name,
			       (unsigned long long)k);
			continue;
		}
		m = &p->members[s->member];
		printf("map %s %llu %s %llu\n", r->name, (unsigned long long)k,
		       m->sb.member_name, (unsigned long long)s->physical);
		printf("slice %s %llu %s %llu\n", r->name,
		       (unsigned long long)k, m->device,
		       (unsigned long long)(m->sb.data_offset +
					    s->physical * m->sb.slice_sectors) * 512);
	}
	if (v->twice)
		fprintf(stderr, "fmt2dump: %s: %llu slice(s) claimed twice by one attempt\n",
			r->name, (unsigned long long)v->twice);
	return v->twice ? 1 : 0;
}

/* Each deleted volume once, at its winning record (spt_fmt2_rec_newer()). */
static void dump_deleted(const struct spt_fmt2_pool *p)
{
	size_t i, j, a, b;

	for (i = 0; i < p->nr_members; i++)
		for (j = 0; j < p->members[i].nr_vols; j++) {
			const struct spt_disk_vol *v = &p->members[i].vols[j];
			bool won = true;

			for (a = 0; a < p->nr_members && won; a++)
				for (b = 0; b < p->members[a].nr_vols; b++) {
					const struct spt_disk_vol *w =
						&p->members[a].vols[b];

					if (w == v || strcmp(w->uuid, v->uuid))
						continue;
					if (spt_fmt2_rec_newer(w, v) ||
					    (!spt_fmt2_rec_newer(v, w) &&
					     (a < i || (a == i && b < j)))) {
						won = false;
						break;
					}
				}
			if (won && v->state != SP_VOL_LIVE)
				printf("deleted %s %s\n", v->name, v->uuid);
		}
}

int main(int argc, char **argv)
{
	struct spt_disk_member *mem;
	struct spt_fmt2_pool p;
	char why[640];
	int i, ret, bad = 0, nr_mem = argc - 1;
	size_t j;

	if (argc < 2) {
		fprintf(stderr, "usage: fmt2dump IMAGE...\n");
		return 2;
	}
	mem = calloc(nr_mem, sizeof(*mem));
	if (!mem)
		return 1;
	for (i = 0; i < nr_mem; i++) {
		ret = spt_md_read_dev(argv[i + 1], &mem[i], why, sizeof(why));
		if (ret) {
			fprintf(stderr, "fmt2dump: %s: %s\n", argv[i + 1],
				ret == -EINVAL ? why : strerror(-ret));
			return 1;
		}
	}
	ret = spt_fmt2_build(mem, nr_mem, &p, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "fmt2dump: %s\n", why);
		return 1;
	}
	printf("pool %s %s %llu\n", p.name, p.uuid,
	       (unsigned long long)p.slice_sectors / 2048);
	for (j = 0; j < p.nr_members; j++) {
		const struct spt_disk_member *m = &p.members[j];

		printf("member %s %s %llu %llu %llu %llu\n",
		       m->sb.member_name, m->sb.domain,
		       (unsigned long long)m->sb.dev_sectors * 512,
		       (unsigned long long)m->sb.data_offset * 512,
		       (unsigned long long)m->sb.nr_slices,
		       (unsigned long long)(m->sb.nr_slices - m->nr_owners));
	}
	for (j = 0; j < p.nr_vols; j++)
		bad |= dump_volume(&p, &p.vols[j]);
	dump_deleted(&p);
	printf("orphans %llu\n", (unsigned long long)p.orphans);
	spt_fmt2_free(&p);
	return bad;
}
