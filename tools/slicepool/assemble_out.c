// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - assemble: the report, as text or JSON
 * (Documentation/slicepool-tool.rst, "assemble").
 */
#include <string.h>

#include "assemble.h"

static void print_missing_text(const struct asm_pool *p)
{
	size_t i, j;

	for (i = 0; i < p->nr_vols; i++) {
		const struct asm_vol *v = &p->vols[i];

		if (!v->missing && v->kernel_missing <= 0)
			continue;
		printf("  MISSING: volume %s: %llu of %llu slices", v->rec.name,
		       (unsigned long long)v->missing,
		       (unsigned long long)v->rec.nr_slices);
		printf(" are not on any member found (logical");
		for (j = 0; j < v->nr_missing_list; j++)
			printf(" %llu", (unsigned long long)v->missing_list[j]);
		printf("%s); I/O to them fails (their member is stale)\n",
		       v->missing > v->nr_missing_list ? " ..." : "");
	}
}

/* "<what> <device>: <reason>" lines. */
static void print_refused(const char *what, const struct asm_refused *r,
			  size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s %s: %s\n", what, r[i].device, r[i].reason);
}

void asm_print_text(const struct asm_state *s)
{
	static const char *const mhdr[] = {
		"MEMBER", "DOMAIN", "DEVICE", "MEMBER_UUID", "SLICES", "RESULT"
	};
	static const char *const vhdr[] = {
		"VOLUME", "SIZE", "SLICES", "FOUND", "MISSING", "DM DEVICE",
		"RESULT"
	};
	char a[32], b[32], c[32], d[32];
	struct spt_table *t;
	size_t i, j;

	for (i = 0; i < s->nr_pools; i++) {
		const struct asm_pool *p = &s->pools[i];

		printf("\npool %s (uuid %s, %s, slice size %llu MiB): %zu %s, %s\n",
		       p->name, p->uuid, "metadata format 3",
		       (unsigned long long)(p->slice_sectors / 2048),
		       p->nr_devs, "device(s) found",
		       p->nr_errors && !p->md3 ? "-" :
		       p->readonly ? "read-only" : "read-write");
		t = tbl_new(ARRAY_SIZE(mhdr), mhdr);
		for (j = 0; j < p->nr_members; j++) {
			const struct asm_member *m = &p->members[j];

			snprintf(a, sizeof(a), "%llu",
				 (unsigned long long)m->slices);
			tbl_add(t, m->name, m->domain,
				m->device ? m->device : "-", m->uuid, a,
				m->result ? m->result : "-");
		}
		tbl_print(t, stdout, "  ");
		tbl_free(t);
		if (p->nr_vols) {
			t = tbl_new(ARRAY_SIZE(vhdr), vhdr);
			for (j = 0; j < p->nr_vols; j++) {
				const struct asm_vol *v = &p->vols[j];

				spu_format_size(v->rec.size, false, a, sizeof(a));
				snprintf(b, sizeof(b), "%llu",
					 (unsigned long long)v->rec.nr_slices);
				snprintf(c, sizeof(c), "%llu",
					 (unsigned long long)v->found);
				snprintf(d, sizeof(d), "%llu",
					 (unsigned long long)v->missing);
				tbl_add(t, v->rec.name, a, b, c, d, v->dm_name,
					v->result ? v->result : "-");
			}
			tbl_print(t, stdout, "  ");
			tbl_free(t);
		} else {
			printf("  (no volumes)\n");
		}
		if (!p->readonly)
			print_missing_text(p);
		asm_md3_print_text(p);
		if (!p->actions && !p->nr_errors)
			printf("  nothing to do: pool %s is assembled%s\n",
			       p->name, p->readonly ?
			       " as far as its members found allow" : "");
		if (p->nr_errors)
			printf("  %zu error(s), see above\n", p->nr_errors);
	}
	print_refused("refused", s->refused, s->nr_refused);
	print_refused("ignored", s->dups, s->nr_dups);
	print_refused("skipped", s->removed, s->nr_removed);
	print_refused("left out", s->diverged, s->nr_diverged);
}

/* The devices refused, ignored or skipped, with why. */
static void json_refused(const char *key, const struct asm_refused *r,
			 size_t n)
{
	size_t i;

	js_open_arr(key);
	for (i = 0; i < n; i++) {
		js_open_obj(NULL);
		js_str("device", r[i].device);
		js_str("reason", r[i].reason);
		js_close();
	}
	js_close();
}

void asm_print_json(const struct asm_state *s)
{
	size_t i, j, k;

	js_open_obj(NULL);
	js_bool("dry_run", s->dry_run);
	js_open_arr("pools");
	for (i = 0; i < s->nr_pools; i++) {
		const struct asm_pool *p = &s->pools[i];

		js_open_obj(NULL);
		js_str("name", p->name);
		js_str("uuid", p->uuid);
		js_int("format", 3);
		js_u64("slice_mb", p->slice_sectors / 2048);
		js_bool("degraded", p->degraded);
		js_u64("changes", p->actions);
		js_open_arr("members");
		for (j = 0; j < p->nr_members; j++) {
			js_open_obj(NULL);
			asm_md3_json_member(&p->members[j]);
			js_str("result", p->members[j].result);
			js_close();
		}
		js_close();
		js_open_arr("volumes");
		for (j = 0; j < p->nr_vols; j++) {
			const struct asm_vol *v = &p->vols[j];

			js_open_obj(NULL);
			js_u64("id", v->id);
			js_str("name", v->rec.name);
			js_str("uuid", v->rec.uuid);
			js_u64("size", v->rec.size);
			js_u64("slices", v->rec.nr_slices);
			js_u64("found_slices", v->found);
			js_u64("missing_slices", v->missing);
			js_open_arr("missing");
			for (k = 0; k < v->nr_missing_list; k++)
				js_u64(NULL, v->missing_list[k]);
			js_close();
			js_s64("kernel_missing_slices", v->kernel_missing);
			js_str("dm_device", v->dm_name);
			js_str("result", v->result);
			js_close();
		}
		js_close();
		asm_md3_json_pool(p);
		js_open_arr("errors");
		for (j = 0; j < p->nr_errors; j++)
			js_str(NULL, p->errors[j]);
		js_close();
		js_close();
	}
	js_close();
	json_refused("refused", s->refused, s->nr_refused);
	json_refused("duplicates", s->dups, s->nr_dups);
	json_refused("removed_devices", s->removed, s->nr_removed);
	json_refused("diverged_devices", s->diverged, s->nr_diverged);
	js_end();
}
