// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool inspect: print the metadata of member devices or images,
 * format 2 (sb.c, fmt2.c) or format 3 (an md3 nowrite assembly), without
 * writing anything.
 *
 * Each device is opened read only and read by spt_md_probe() (md3dev.c,
 * shared with assemble): a device whose block 0 holds format 2's
 * superblock is read by sb.c; any other by md3_read_member().
 * Devices are grouped by pool uuid and format: a format-2 group is decoded
 * by spt_fmt2_build() (the claim rules of assemble), a v3 group is
 * assembled with md3_assemble_opts.nowrite, which reports the verdict and
 * winner a writing assembly would reach and never writes or flushes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md3dev.h"

struct ins_dev {
	struct spt_md_probe x;	/* what the device holds (md3dev.c) */
	bool grouped;
};

static const char *const role_names[] = {
	[MD3_ROLE_INSYNC] = "in-sync", [MD3_ROLE_LAGGING] = "lagging",
	[MD3_ROLE_DIVERGED] = "diverged", [MD3_ROLE_NOT_MEMBER] = "not-member",
	[MD3_ROLE_UNUSABLE] = "unusable", [MD3_ROLE_STALE] = "stale",
};

static const char *const mode_names[] = {
	[MD3_MODE_REFUSED] = "refused", [MD3_MODE_RO] = "read-only",
	[MD3_MODE_RW] = "read-write",
};

static const char *const status_names[] = {
	[MD3_CURRENT] = "current", [MD3_STALE] = "stale",
	[MD3_REMOVED] = "removed",
};

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && names[v] ? names[v] : "?";
}

#define ROLE(r)		name_of(role_names, ARRAY_SIZE(role_names), (r))
#define MODE(m)		name_of(mode_names, ARRAY_SIZE(mode_names), (m))
#define MSTATUS(s)	name_of(status_names, ARRAY_SIZE(status_names), (s))

/* ---- format 2 ---- */

/* The JSON fields of a format-2 member's superblock. */
static void spt_fmt2_member_json(const struct spt_disk_member *m)
{
	js_str("name", m->sb.member_name);
	js_str("uuid", m->sb.member_uuid);
	js_str("device", m->device);
	js_str("domain", m->sb.domain);
	js_u64("slices", m->sb.nr_slices);
	js_u64("generation", m->sb.generation);
	js_u64("attempt", m->sb.attempt);
}

static void spt_fmt2_vol_json(const struct spt_disk_vol *rec)
{
	js_str("name", rec->name);
	js_str("uuid", rec->uuid);
	js_u64("size", rec->size);
	js_u64("slices", rec->nr_slices);
	js_u64("generation", rec->generation);
}

static void f2_print_json(const struct spt_fmt2_pool *p)
{
	size_t i, j;
	u64 l;

	js_open_obj(NULL);
	js_int("format", 2);
	js_str("name", p->name);
	js_str("uuid", p->uuid);
	js_u64("slice_sectors", p->slice_sectors);
	js_u64("orphaned_slices", p->orphans);
	js_open_arr("members");
	for (i = 0; i < p->nr_members; i++) {
		const struct spt_disk_member *m = &p->members[i];

		js_open_obj(NULL);
		spt_fmt2_member_json(m);
		js_u64("data_offset", m->sb.data_offset);
		js_u64("dev_sectors", m->sb.dev_sectors);
		js_close();
	}
	js_close();
	js_open_arr("domains");
	for (i = 0; i < p->nr_members; i++) {
		const char *d = p->members[i].sb.domain;

		for (j = 0; j < i; j++)
			if (!strcmp(p->members[j].sb.domain, d))
				break;
		if (j < i)
			continue;
		js_open_obj(NULL);
		js_str("label", d);
		js_open_arr("members");
		for (j = i; j < p->nr_members; j++)
			if (!strcmp(p->members[j].sb.domain, d))
				js_str(NULL, p->members[j].sb.member_name);
		js_close();
		js_close();
	}
	js_close();
	js_open_arr("volumes");
	for (i = 0; i < p->nr_vols; i++) {
		const struct spt_fmt2_vol *v = &p->vols[i];

		js_open_obj(NULL);
		spt_fmt2_vol_json(&v->rec);
		js_u64("missing_slices", v->missing);
		js_u64("double_owned", v->twice);
		js_open_arr("map");
		for (l = 0; l < v->rec.nr_slices; l++) {
			const struct spt_fmt2_slice *s = &v->map[l];

			js_open_obj(NULL);
			js_u64("logical", l);
			js_str("member", s->member < 0 ? NULL :
			       p->members[s->member].sb.member_name);
			js_u64_or_null("physical", s->member >= 0, s->physical);
			js_close();
		}
		js_close();
		js_close();
	}
	js_close();
	/* format 2 keeps no move at rest: an unfinished one is orphans */
	js_open_arr("moves");
	js_close();
	js_close();
}

static void print_map_line(const char *vol, u64 n, const char *(*member)(const void *, u64),
			   s64 (*phys)(const void *, u64), const void *arg)
{
	u64 l;

	printf("  map %s:", vol);
	for (l = 0; l < n; l++) {
		const char *m = member(arg, l);

		if (m)
			printf(" %llu=%s:%lld", (unsigned long long)l, m,
			       (long long)phys(arg, l));
		else
			printf(" %llu=-", (unsigned long long)l);
	}
	putchar('\n');
}

struct f2_map_arg {
	const struct spt_fmt2_pool *p;
	const struct spt_fmt2_vol *v;
};

static const char *f2_member(const void *arg, u64 l)
{
	const struct f2_map_arg *a = arg;
	s64 m = a->v->map[l].member;

	return m < 0 ? NULL : a->p->members[m].sb.member_name;
}

static s64 f2_phys(const void *arg, u64 l)
{
	const struct f2_map_arg *a = arg;

	return (s64)a->v->map[l].physical;
}

static void f2_print_text(const struct spt_fmt2_pool *p)
{
	static const char *const mhdr[] = {
		"MEMBER", "DOMAIN", "DEVICE", "UUID", "SLICES", "DATA_OFFSET"
	};
	static const char *const vhdr[] = {
		"VOLUME", "SIZE", "SLICES", "MISSING", "UUID"
	};
	char a[32], b[32], c[32];
	struct spt_table *t;
	size_t i;

	printf("pool %s (uuid %s): format 2, slice size %llu MiB, ",
	       p->name, p->uuid, (unsigned long long)(p->slice_sectors / 2048));
	printf("%zu member(s), %llu orphaned slice(s)\n", p->nr_members,
	       (unsigned long long)p->orphans);
	t = tbl_new(ARRAY_SIZE(mhdr), mhdr);
	for (i = 0; i < p->nr_members; i++) {
		const struct spt_disk_member *m = &p->members[i];

		snprintf(a, sizeof(a), "%llu", (unsigned long long)m->sb.nr_slices);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)m->sb.data_offset);
		tbl_add(t, m->sb.member_name, m->sb.domain, m->device,
			m->sb.member_uuid, a, b);
	}
	tbl_print(t, stdout, "  ");
	tbl_free(t);
	if (!p->nr_vols) {
		printf("  (no volumes)\n");
		return;
	}
	t = tbl_new(ARRAY_SIZE(vhdr), vhdr);
	for (i = 0; i < p->nr_vols; i++) {
		const struct spt_fmt2_vol *v = &p->vols[i];

		spu_format_size(v->rec.size, false, a, sizeof(a));
		snprintf(b, sizeof(b), "%llu", (unsigned long long)v->rec.nr_slices);
		snprintf(c, sizeof(c), "%llu", (unsigned long long)v->missing);
		tbl_add(t, v->rec.name, a, b, c, v->rec.uuid);
	}
	tbl_print(t, stdout, "  ");
	tbl_free(t);
	for (i = 0; i < p->nr_vols; i++) {
		struct f2_map_arg arg = { p, &p->vols[i] };

		print_map_line(p->vols[i].rec.name, p->vols[i].rec.nr_slices,
			       f2_member, f2_phys, &arg);
	}
}

/* Decodes and prints the format-2 members of xs[first]'s pool. */
static int inspect_fmt2(struct ins_dev *xs, size_t n, size_t first)
{
	struct spt_disk_member *ms = NULL;
	char why[640], uuid[SPT_UUID_STR_LEN];
	struct spt_fmt2_pool p;
	size_t i, k = 0;
	int r;

	snprintf(uuid, sizeof(uuid), "%s", xs[first].x.m.sb.pool_uuid);
	for (i = first; i < n; i++) {
		if (xs[i].x.kind != SPT_MD_FMT2 || xs[i].grouped ||
		    strcmp(xs[i].x.m.sb.pool_uuid, uuid))
			continue;
		xs[i].grouped = true;
		ms = spt_realloc_array(ms, k + 1, sizeof(*ms));
		ms[k++] = xs[i].x.m;
		memset(&xs[i].x.m, 0, sizeof(xs[i].x.m));
	}
	r = spt_fmt2_build(ms, k, &p, why, sizeof(why));
	if (r) {
		spt_err("%s", why);
		spt_fmt2_free(&p);
		return r;
	}
	if (spt_json)
		f2_print_json(&p);
	else
		f2_print_text(&p);
	spt_fmt2_free(&p);
	return 0;
}

/* ---- format 3 ---- */

/* See md3dev.h. */
void spt_md3_move_json(const struct md3_state *st, const struct md3_move *mv)
{
	const struct md3_volume *v = md3_vol_find(st, mv->vol);

	js_str("volume", v ? v->name : NULL);
	js_u64("first", mv->first);
	js_u64("count", mv->count);
	js_u64("cursor", mv->cursor);
	js_bool("mirror", mv->flags & MD3_MOVE_MIRROR);
}

/* See md3dev.h. */
void spt_md3_move_text(const struct md3_state *st, const struct md3_move *mv,
		       const char *lead, const char *cursor, const char *tail)
{
	const struct md3_volume *v = md3_vol_find(st, mv->vol);

	printf("%s%s, slices %llu-%llu%s%llu%s\n", lead, v ? v->name : "?",
	       (unsigned long long)mv->first,
	       (unsigned long long)(mv->first + mv->count - 1), cursor,
	       (unsigned long long)mv->cursor,
	       tail ? tail : mv->flags & MD3_MOVE_MIRROR ? ", mirror" : "");
}

static const char *v3_member_name(const struct md3_state *st, u32 id)
{
	const struct md3_member *m = md3_member_find(st, id);

	return m ? m->name : NULL;
}

static const char *v3_device_of(const struct md3_pool *p, u32 id)
{
	u32 i;

	for (i = 0; i < p->nr_devs; i++)
		if (p->devs[i].chain.kind == MD3_CHAIN_OK &&
		    p->devs[i].chain.member_id == id &&
		    p->devs[i].role != MD3_ROLE_NOT_MEMBER)
			return p->devs[i].dev.name;
	return NULL;
}

static void v3_json_slices(const char *key, const struct md3_state *st,
			   const struct md3_slice *s, u64 n, bool logical)
{
	u64 l;

	js_open_arr(key);
	for (l = 0; l < n; l++) {
		bool has = s[l].member != MD3_NO_MEMBER;

		js_open_obj(NULL);
		if (logical)
			js_u64("logical", l);
		js_str("member", has ? v3_member_name(st, s[l].member) : NULL);
		js_u64_or_null("physical", has, s[l].pslice);
		js_close();
	}
	js_close();
}

static u64 v3_missing(const struct md3_volume *v)
{
	u64 l, n = 0;

	for (l = 0; l < v->nr_slices; l++)
		n += v->map[l].member == MD3_NO_MEMBER;
	return n;
}

/* The stale legs of @v (Documentation/dm-slicepool-metadata.rst) */
static u64 v3_stale(const struct md3_volume *v)
{
	u64 l, n = 0;
	u32 k;

	for (l = 0; l < v->nr_slices; l++)
		for (k = 0; k < v->copies; k++)
			n += !!(md3_leg(v, l, k)->flags & MD3_LEG_STALE);
	return n;
}

/* Every leg of every logical slice of @v: logical, leg, member, stale */
static void v3_json_legs(const struct md3_state *st, const struct md3_volume *v)
{
	u64 l;
	u32 k;

	js_open_arr("legs");
	for (l = 0; l < v->nr_slices; l++)
		for (k = 0; k < v->copies; k++) {
			const struct md3_slice *s = md3_leg(v, l, k);
			bool has = s->member != MD3_NO_MEMBER;

			js_open_obj(NULL);
			js_u64("logical", l);
			js_u64("leg", k);
			js_str("member", has ? v3_member_name(st, s->member) : NULL);
			js_u64_or_null("physical", has, s->pslice);
			js_bool("stale", s->flags & MD3_LEG_STALE);
			js_close();
		}
	js_close();
}

/* "legs VOL (copies N, K stale): L=MEMBER:P,MEMBER:P(stale) ..." */
static void v3_print_legs(const struct md3_state *st, const struct md3_volume *v)
{
	u64 l;
	u32 k;

	printf("  legs %s (copies %u, %llu stale):", v->name, v->copies,
	       (unsigned long long)v3_stale(v));
	for (l = 0; l < v->nr_slices; l++) {
		printf(" %llu=", (unsigned long long)l);
		for (k = 0; k < v->copies; k++) {
			const struct md3_slice *s = md3_leg(v, l, k);

			if (s->member == MD3_NO_MEMBER)
				printf("%s-", k ? "," : "");
			else
				printf("%s%s:%llu%s", k ? "," : "",
				       v3_member_name(st, s->member),
				       (unsigned long long)s->pslice,
				       s->flags & MD3_LEG_STALE ? "(stale)" : "");
		}
	}
	putchar('\n');
}

static void v3_print_json(const struct md3_pool *p, const char *uuid)
{
	const struct md3_state *st = &p->st;
	char hash[24];
	u64 i, j;

	js_open_obj(NULL);
	js_int("format", 3);
	js_str("name", p->winner.seq ? st->pool.name : NULL);
	js_str("uuid", uuid);
	js_str("verdict", MODE(p->verdict));
	js_str("mode", MODE(p->mode));
	js_open_obj("winner");
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)p->winner.hash);
	js_u64("seq", p->winner.seq);
	js_str("hash", hash);
	js_close();
	js_str("message", p->msg);
	js_u64("slice_sectors", st->pool.slice_sectors);
	js_u64("weight_space", st->pool.w_space);
	js_u64("weight_load", st->pool.w_load);
	js_u64("min_domains", st->pool.min_domains);
	js_open_arr("devices");
	for (i = 0; i < p->nr_devs; i++) {
		const struct md3_pdev *pd = &p->devs[i];
		const struct md3_chain *c = &pd->chain;

		js_open_obj(NULL);
		js_str("device", pd->dev.name);
		js_str("role", ROLE(pd->role));
		js_u64_or_null("member_id", c->kind == MD3_CHAIN_OK, c->member_id);
		js_u64_or_null("head_seq", c->kind == MD3_CHAIN_OK && c->nlinks,
			       c->nlinks ? c->links[c->nlinks - 1].seq : 0);
		js_str("problem", c->kind == MD3_CHAIN_OK ? NULL : c->why);
		js_close();
	}
	js_close();
	js_open_arr("members");
	for (i = 0; i < st->nr_members; i++) {
		const struct md3_member *m = &st->members[i];
		char u[SPT_UUID_STR_LEN];

		spu_uuid_format(m->uuid, u);
		js_open_obj(NULL);
		js_u64("id", m->id);
		js_str("name", m->name);
		js_str("uuid", u);
		js_str("status", MSTATUS(m->status));
		js_bool("draining", m->flags & MD3_MEMBER_DRAIN);
		js_str("domain", md3_domain_label(st, m->domain));
		js_u64("slices", m->nr_slices);
		js_u64("used_slices", md3_member_used(st, m->id));
		js_u64("data_offset", m->data_offset);
		js_str("device", v3_device_of(p, m->id));
		js_close();
	}
	js_close();
	js_open_arr("domains");
	for (i = 0; i < st->nr_domains; i++) {
		js_open_obj(NULL);
		js_u64("id", st->domains[i].id);
		js_str("label", st->domains[i].label);
		js_open_arr("members");
		for (j = 0; j < st->nr_members; j++)
			if (st->members[j].domain == st->domains[i].id)
				js_str(NULL, st->members[j].name);
		js_close();
		js_close();
	}
	js_close();
	js_open_arr("volumes");
	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *v = &st->vols[i];
		char u[SPT_UUID_STR_LEN];

		spu_uuid_format(v->uuid, u);
		js_open_obj(NULL);
		js_u64("id", v->id);
		js_str("name", v->name);
		js_str("uuid", u);
		js_u64("size", v->size_bytes);
		js_u64("slices", v->nr_slices);
		js_u64("missing_slices", v3_missing(v));
		js_u64("copies", v->copies);
		js_u64("stale_legs", v3_stale(v));
		v3_json_slices("map", st, v->map, v->nr_slices, true);
		if (v->copies > 1)
			v3_json_legs(st, v);
		js_close();
	}
	js_close();
	js_open_arr("moves");
	for (i = 0; i < st->nr_moves; i++) {
		const struct md3_move *mv = &st->moves[i];

		js_open_obj(NULL);
		spt_md3_move_json(st, mv);
		v3_json_slices("destination", st, mv->dst, mv->count, false);
		js_close();
	}
	js_close();
	js_close();
}

static const char *v3_member(const void *arg, u64 l)
{
	const struct md3_state *st = ((const void **)arg)[0];
	const struct md3_volume *v = ((const void **)arg)[1];

	if (v->map[l].member == MD3_NO_MEMBER)
		return NULL;
	return v3_member_name(st, v->map[l].member);
}

static s64 v3_phys(const void *arg, u64 l)
{
	const struct md3_volume *v = ((const void **)arg)[1];

	return (s64)v->map[l].pslice;
}

static void v3_print_text(const struct md3_pool *p, const char *uuid)
{
	static const char *const mhdr[] = {
		"ID", "MEMBER", "STATUS", "DOMAIN", "DEVICE", "SLICES", "USED"
	};
	static const char *const vhdr[] = {
		"ID", "VOLUME", "SIZE", "SLICES", "MISSING", "UUID"
	};
	const struct md3_state *st = &p->st;
	char a[32], b[32], c[32], d[32], st_s[32];
	struct spt_table *t;
	u64 i;

	printf("pool %s (uuid %s): format 3, %s (verdict %s), winner seq %llu hash %016llx\n",
	       p->winner.seq ? st->pool.name : "?", uuid, MODE(p->mode),
	       MODE(p->verdict), (unsigned long long)p->winner.seq,
	       (unsigned long long)p->winner.hash);
	for (i = 0; i < p->nr_devs; i++)
		printf("  device %s: %s%s%s\n", p->devs[i].dev.name,
		       ROLE(p->devs[i].role),
		       p->devs[i].chain.why ? ", " : "",
		       p->devs[i].chain.why ? p->devs[i].chain.why : "");
	if (p->msg[0])
		printf("  assembly: %s", p->msg);
	if (!p->winner.seq)
		return;
	printf("  slice size %llu MiB, weights space %u load %u, min_domains %u\n",
	       (unsigned long long)(st->pool.slice_sectors / 2048),
	       st->pool.w_space, st->pool.w_load, st->pool.min_domains);
	t = tbl_new(ARRAY_SIZE(mhdr), mhdr);
	for (i = 0; i < st->nr_members; i++) {
		const struct md3_member *m = &st->members[i];
		const char *dev = v3_device_of(p, m->id);

		snprintf(a, sizeof(a), "%u", m->id);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)m->nr_slices);
		snprintf(c, sizeof(c), "%llu",
			 (unsigned long long)md3_member_used(st, m->id));
		snprintf(st_s, sizeof(st_s), "%s%s", MSTATUS(m->status),
			 m->flags & MD3_MEMBER_DRAIN ? ",draining" : "");
		tbl_add(t, a, m->name, st_s,
			md3_domain_label(st, m->domain), dev ? dev : "-", b, c);
	}
	tbl_print(t, stdout, "  ");
	tbl_free(t);
	if (st->nr_volumes) {
		t = tbl_new(ARRAY_SIZE(vhdr), vhdr);
		for (i = 0; i < st->nr_volumes; i++) {
			const struct md3_volume *v = &st->vols[i];
			char u[SPT_UUID_STR_LEN];

			spu_uuid_format(v->uuid, u);
			snprintf(a, sizeof(a), "%llu", (unsigned long long)v->id);
			spu_format_size(v->size_bytes, false, b, sizeof(b));
			snprintf(c, sizeof(c), "%llu", (unsigned long long)v->nr_slices);
			snprintf(d, sizeof(d), "%llu", (unsigned long long)v3_missing(v));
			tbl_add(t, a, v->name, b, c, d, u);
		}
		tbl_print(t, stdout, "  ");
		tbl_free(t);
	} else {
		printf("  (no volumes)\n");
	}
	for (i = 0; i < st->nr_volumes; i++) {
		const void *arg[2] = { st, &st->vols[i] };

		print_map_line(st->vols[i].name, st->vols[i].nr_slices,
			       v3_member, v3_phys, arg);
		if (st->vols[i].copies > 1)
			v3_print_legs(st, &st->vols[i]);
	}
	for (i = 0; i < st->nr_moves; i++)
		spt_md3_move_text(st, &st->moves[i], "  move ", ", cursor ",
				  NULL);
}

/* Assembles (nowrite) and prints the v3 devices of one pool. */
static int inspect_v3(struct ins_dev *xs, size_t n, size_t first)
{
	struct md3_assemble_opts o = { .nowrite = true, .have_uuid = true };
	struct md3_dev *devs = NULL;
	char uuid[SPT_UUID_STR_LEN];
	struct md3_pool p;
	u32 i, k = 0;
	int r;

	memcpy(o.pool_uuid, xs[first].x.pool_uuid, MD3_UUID_LEN);
	spu_uuid_format(o.pool_uuid, uuid);
	for (i = first; i < n; i++) {
		if (xs[i].x.kind != SPT_MD_V3 || xs[i].grouped ||
		    memcmp(xs[i].x.pool_uuid, o.pool_uuid, MD3_UUID_LEN))
			continue;
		xs[i].grouped = true;
		devs = spt_realloc_array(devs, k + 1, sizeof(*devs));
		devs[k++] = xs[i].x.d.md;
	}
	r = md3_assemble(&p, devs, k, &o);
	if (r) {
		spt_err("pool %s: cannot assemble (no writes): %s", uuid,
			strerror(-r));
	} else if (spt_json) {
		v3_print_json(&p, uuid);
	} else {
		v3_print_text(&p, uuid);
	}
	if (!r && p.mode == MD3_MODE_REFUSED)
		r = -EINVAL;
	md3_pool_free(&p);
	free(devs);
	return r;
}

int cmd_inspect(const struct spt_cmd *cmd, int argc, char **argv)
{
	struct ins_dev *xs;
	bool failed = false;
	size_t i, j, n;
	char u[SPT_UUID_STR_LEN];

	spt_getopt_one(cmd, argc, argv, NULL, 0);
	if (optind >= argc)
		spt_usage_fail(cmd, "missing argument: give the member devices or images");
	n = (size_t)(argc - optind);
	xs = spt_zalloc(n * sizeof(*xs));
	for (i = 0; i < n; i++) {
		spt_md_probe(&xs[i].x, argv[optind + i]);
		if (xs[i].x.kind == SPT_MD_ERROR || xs[i].x.kind == SPT_MD_NONE)
			failed = true;
	}
	if (spt_json) {
		js_open_obj(NULL);
		js_open_arr("devices");
		for (i = 0; i < n; i++) {
			js_open_obj(NULL);
			js_str("device", xs[i].x.path);
			if (xs[i].x.kind == SPT_MD_FMT2 || xs[i].x.kind == SPT_MD_V3)
				js_int("format", xs[i].x.kind == SPT_MD_FMT2 ? 2 : 3);
			else
				js_null("format");
			if (xs[i].x.kind == SPT_MD_V3)
				spu_uuid_format(xs[i].x.pool_uuid, u);
			js_str("pool_uuid", xs[i].x.kind == SPT_MD_FMT2 ?
			       xs[i].x.m.sb.pool_uuid :
			       xs[i].x.kind == SPT_MD_V3 ? u : NULL);
			js_str("problem", xs[i].x.kind == SPT_MD_ERROR ||
			       xs[i].x.kind == SPT_MD_NONE ? xs[i].x.why : NULL);
			js_close();
		}
		js_close();
		js_open_arr("pools");
	} else {
		for (i = 0; i < n; i++)
			if (xs[i].x.kind == SPT_MD_ERROR || xs[i].x.kind == SPT_MD_NONE)
				printf("device %s: %s\n", xs[i].x.path, xs[i].x.why);
	}
	for (i = 0; i < n; i++) {
		if (xs[i].grouped)
			continue;
		if (xs[i].x.kind == SPT_MD_FMT2) {
			/* v3 members of the same pool: an unfinished upgrade */
			for (j = 0; j < n; j++) {
				if (xs[j].x.kind != SPT_MD_V3)
					continue;
				spu_uuid_format(xs[j].x.pool_uuid, u);
				if (!strcasecmp(u, xs[i].x.m.sb.pool_uuid))
					spt_warn("pool %s has members in format 2 and in format 3 (%s): an upgrade was interrupted; finish it with 'slicepool upgrade --resume --backup FILE' and every member",
						 xs[i].x.m.sb.pool_uuid, xs[j].x.path);
			}
			if (inspect_fmt2(xs, n, i))
				failed = true;
		} else if (xs[i].x.kind == SPT_MD_V3) {
			if (inspect_v3(xs, n, i))
				failed = true;
		}
	}
	if (spt_json) {
		js_close();
		js_end();
	}
	for (i = 0; i < n; i++)
		spt_md_probe_close(&xs[i].x);
	free(xs);
	return failed ? SPT_EXIT_FAIL : SPT_EXIT_OK;
}
