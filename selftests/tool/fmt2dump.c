// SPDX-License-Identifier: GPL-2.0
/*
 * fmt2dump - a format-2 pool as the slicepool tool decodes it from its
 * member images, in the line format of selftests/fixtures/fmt2/MANIFEST
 *
 * Usage: fmt2dump IMAGE...
 *
 * Each image is read by the tool's own decoder (tools/slicepool/sb.c,
 * spt_md_read_dev(): superblock, volume and owner tables with their
 * checks) and the claims are decided by the module's fence rule
 * (dm-slicepool/fence.c).  The winner rule is the one of the tool's
 * assemble (tools/slicepool/assemble.c, analyse(), which is static and
 * prints no per-slice map): per volume the record of the highest
 * generation, then the highest started, wins; an owner record naming
 * the volume is a claim if its logical slice is below the size, its
 * attempt id not above the record's generation and no fence excludes
 * it; of several claims of one logical slice the highest id wins.
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

/* util.c needs this; fmt2dump never calls it. */
void spt_usage_fail(const struct spt_cmd *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	abort();
}

struct claim {
	const struct spt_disk_member *m;
	const struct spt_disk_owner *o;
	int ties;
};

static struct spt_disk_member *mem;
static int nr_mem;

static const struct spt_disk_vol *winner(const char *uuid)
{
	const struct spt_disk_vol *best = NULL;
	int i;
	size_t j;

	for (i = 0; i < nr_mem; i++)
		for (j = 0; j < mem[i].nr_vols; j++) {
			const struct spt_disk_vol *r = &mem[i].vols[j];

			if (strcmp(r->uuid, uuid))
				continue;
			if (!best || r->generation > best->generation ||
			    (r->generation == best->generation &&
			     r->started > best->started))
				best = r;
		}
	return best;
}

static bool is_claim(const struct spt_disk_vol *v,
		     const struct spt_disk_owner *o)
{
	return !strcmp(o->vol_uuid, v->uuid) && o->logical < v->nr_slices &&
	       o->generation <= v->generation &&
	       sp_fence_claim_ok(&v->fences, o->logical, o->generation);
}

/* The winning claim of each logical slice of @v into @c (nr_slices). */
static void claims(const struct spt_disk_vol *v, struct claim *c)
{
	int i;
	size_t k;

	for (i = 0; i < nr_mem; i++)
		for (k = 0; k < mem[i].nr_owners; k++) {
			const struct spt_disk_owner *o = &mem[i].owners[k];
			struct claim *b;

			if (!is_claim(v, o))
				continue;
			b = &c[o->logical];
			if (!b->o || o->generation > b->o->generation) {
				b->m = &mem[i];
				b->o = o;
				b->ties = 0;
			} else if (o->generation == b->o->generation) {
				b->ties++;
			}
		}
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

/* The lines of live volume @v; adds its claimed slices to @claimed. */
static int dump_volume(const struct spt_disk_vol *v,
		       unsigned long long *claimed)
{
	struct claim *c = calloc(v->nr_slices + 1, sizeof(*c));
	int bad = 0;
	u64 k;

	if (!c)
		return 1;
	printf("volume %s %llu %s\n", v->name, (unsigned long long)v->size,
	       v->uuid);
	print_fences(v);
	claims(v, c);
	for (k = 0; k < v->nr_slices; k++) {
		const struct spt_disk_member *m = c[k].m;
		unsigned long long off;

		if (!c[k].o) {
			printf("map %s %llu - -\n", v->name,
			       (unsigned long long)k);
			continue;
		}
		(*claimed)++;
		if (c[k].ties) {
			fprintf(stderr,
				"fmt2dump: %s slice %llu claimed twice by attempt %llu\n",
				v->name, (unsigned long long)k,
				(unsigned long long)c[k].o->generation);
			bad = 1;
		}
		off = (m->sb.data_offset +
		       c[k].o->physical * m->sb.slice_sectors) * 512;
		printf("map %s %llu %s %llu\n", v->name, (unsigned long long)k,
		       m->sb.member_name, (unsigned long long)c[k].o->physical);
		printf("slice %s %llu %s %llu\n", v->name,
		       (unsigned long long)k, m->device, off);
	}
	free(c);
	return bad;
}

int main(int argc, char **argv)
{
	char why[640];
	unsigned long long orphans = 0, claimed = 0;
	int i, ret, bad = 0;
	size_t j;

	if (argc < 2) {
		fprintf(stderr, "usage: fmt2dump IMAGE...\n");
		return 2;
	}
	nr_mem = argc - 1;
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
		if (strcmp(mem[i].sb.pool_uuid, mem[0].sb.pool_uuid)) {
			fprintf(stderr, "fmt2dump: %s: another pool\n",
				argv[i + 1]);
			return 1;
		}
	}
	printf("pool %s %s %llu\n", mem[0].sb.pool_name, mem[0].sb.pool_uuid,
	       (unsigned long long)mem[0].sb.slice_sectors / 2048);
	for (i = 0; i < nr_mem; i++)
		printf("member %s %s %llu %llu %llu %llu\n",
		       mem[i].sb.member_name, mem[i].sb.domain,
		       (unsigned long long)mem[i].sb.dev_sectors * 512,
		       (unsigned long long)mem[i].sb.data_offset * 512,
		       (unsigned long long)mem[i].sb.nr_slices,
		       (unsigned long long)(mem[i].sb.nr_slices -
					    mem[i].nr_owners));

	for (i = 0; i < nr_mem; i++)
		for (j = 0; j < mem[i].nr_vols; j++) {
			const struct spt_disk_vol *v = mem[i].vols + j;

			/* Each volume once: at its winning record. */
			if (winner(v->uuid) != v)
				continue;
			if (v->state == SP_VOL_LIVE)
				bad |= dump_volume(v, &claimed);
			else
				printf("deleted %s %s\n", v->name, v->uuid);
		}
	for (i = 0; i < nr_mem; i++)
		orphans += mem[i].nr_owners;
	printf("orphans %llu\n", orphans - claimed);
	for (i = 0; i < nr_mem; i++)
		spt_disk_member_free(&mem[i]);
	free(mem);
	return bad;
}
