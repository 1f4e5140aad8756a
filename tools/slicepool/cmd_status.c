// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - status command and the shared printing of pools
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

static void size_str(char *buf, size_t len, s64 v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		spu_format_size((u64)v, false, buf, len);
}

static const char *dm_state(const struct spt_volume *v)
{
	if (v->dm_err)
		return "unknown";
	if (!v->dm.exists)
		return "absent";
	if (!v->dm.live_table)
		return "no-table";
	if (strcmp(v->dm.target, SPT_TARGET_NAME))
		return "foreign";
	if (v->dm.suspended)
		return "suspended";
	return v->stale ? "stale" : "active";
}

static void json_mpath(const struct spt_mpath *mp)
{
	size_t i;

	js_open_obj("multipath");
	js_str("head", mp->head);
	js_str("iopolicy", mp->iopolicy);
	js_str("in_use", mp->in_use >= 0 ? mp->paths[mp->in_use].name : NULL);
	js_open_arr("paths");
	for (i = 0; i < mp->nr_paths; i++) {
		const struct spt_mpath_path *p = &mp->paths[i];

		js_open_obj(NULL);
		js_str("name", p->name);
		js_str("controller", p->controller);
		js_str("transport", p->transport);
		js_str("address", p->address);
		js_str("state", p->state);
		js_str("ana_state", p->ana_state);
		js_str("role", spt_path_role_name(p->role));
		js_close();
	}
	js_close();
	js_bool("truncated", mp->truncated);
	js_close();
}

void spt_json_member(const char *key, const struct spt_member *m)
{
	struct spt_mpath mp;

	js_open_obj(key);
	js_str("name", m->name);
	js_str("path", m->path);
	js_str("domain", m->domain);
	if (m->enable < 0)
		js_null("enabled");
	else
		js_bool("enabled", m->enable > 0);
	js_str("state", m->state);
	if (m->drain < 0)
		js_null("draining");
	else
		js_bool("draining", m->drain == 1);
	js_s64("size", m->size);
	js_s64("total_slices", m->total_slices);
	js_s64("free_slices", m->free_slices);
	js_s64("load", m->load);
	js_str("load_override", m->load_override);
	if (!spt_mpath_of_dev(m->path, &mp))
		json_mpath(&mp);
	else
		js_null("multipath");
	js_close();
}

/* The paths of the members that are NVMe multipath heads. */
static void print_paths(const struct spt_pool *p)
{
	static const char *const hdr[] = {
		"PATH", "CONTROLLER", "STATE", "ANA", "ADDRESS", "USE"
	};
	struct spt_mpath mp;
	struct spt_table *t;
	size_t i, k;

	for (i = 0; i < p->nr_members; i++) {
		const struct spt_member *m = &p->members[i];

		if (spt_mpath_of_dev(m->path, &mp))
			continue;
		printf("  member %s: NVMe multipath %s, iopolicy %s, %zu path(s), %s%s\n",
		       m->name, mp.head, mp.iopolicy, mp.nr_paths,
		       mp.in_use >= 0 ? "in use: " : "no usable path",
		       mp.in_use >= 0 ? mp.paths[mp.in_use].name : "");
		t = tbl_new(ARRAY_SIZE(hdr), hdr);
		for (k = 0; k < mp.nr_paths; k++) {
			const struct spt_mpath_path *pa = &mp.paths[k];

			tbl_add(t, pa->name, pa->controller[0] ?
				pa->controller : "-", pa->state, pa->ana_state,
				pa->address[0] ? pa->address : "-",
				spt_path_role_name(pa->role));
		}
		tbl_print(t, stdout, "    ");
		tbl_free(t);
	}
}

void spt_json_volume(const char *key, const struct spt_volume *v)
{
	bool ex = v->dm.exists, tbl = ex && v->dm.live_table;
	char dev[96];

	js_open_obj(key);
	js_str("name", v->name);
	js_str("uuid", v->uuid);
	js_s64("size", v->size);
	js_s64("slices", v->slices);
	js_s64("missing_slices", v->missing);
	js_open_obj("dm");
	js_str("name", v->dm_name);
	js_str("state", dm_state(v));
	/* Null without a device (!ex), or without a table (!tbl). */
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", v->dm_name);
	js_str("device", ex ? dev : NULL);
	js_u64_or_null("major", ex, v->dm.major);
	js_u64_or_null("minor", ex, v->dm.minor);
	js_s64("open_count", ex ? v->dm.open_count : -1);
	js_u64_or_null("length_sectors", tbl, v->dm.length);
	js_str("target", tbl ? v->dm.target : NULL);
	js_str("table", tbl ? v->dm.params : NULL);
	js_str("status", tbl ? v->dm.status : NULL);
	js_bool("stale", v->stale);
	if (v->status_ok) {
		const struct spt_dm_status *st = &v->status;
		unsigned int i;

		js_open_obj("io");
		js_u64("reads", st->reads);
		js_u64("writes", st->writes);
		js_u64("read_sectors", st->read_sectors);
		js_u64("write_sectors", st->write_sectors);
		js_s64("io_errors", st->io_errors);
		js_u64("missing_slices", st->missing);
		js_open_arr("members");
		for (i = 0; i < st->nr_members; i++) {
			js_open_obj(NULL);
			js_str("name", st->members[i].name);
			js_u64("slices", st->members[i].slices);
			js_str("state", st->members[i].state);
			js_close();
		}
		js_close();
		js_close();
	} else {
		js_null("io");
	}
	if (v->mig_ok && v->mig.job)
		spt_mig_json("migration", &v->mig);
	else
		js_null("migration");
	js_close();
	js_close();
}

void spt_json_domain(const char *key, const struct spt_domain *d)
{
	js_open_obj(key);
	js_str("name", d->name);
	js_s64("members", d->members);
	js_s64("total_slices", d->total_slices);
	js_s64("free_slices", d->free_slices);
	js_s64("load", d->load);
	js_s64("workload", d->workload);
	js_close();
}

void spt_json_pool(const char *key, const struct spt_pool *p)
{
	size_t i;

	js_open_obj(key);
	js_str("name", p->name);
	js_str("uuid", p->uuid);
	js_s64("slice_mb", p->slice_mb);
	js_s64("weight_space", p->weight_space);
	js_s64("weight_load", p->weight_load);
	js_s64("min_domains", p->min_domains);
	js_open_arr("domains");
	for (i = 0; i < p->nr_domains; i++)
		spt_json_domain(NULL, &p->domains[i]);
	js_close();
	js_open_arr("members");
	for (i = 0; i < p->nr_members; i++)
		spt_json_member(NULL, &p->members[i]);
	js_close();
	js_open_arr("volumes");
	for (i = 0; i < p->nr_volumes; i++)
		spt_json_volume(NULL, &p->volumes[i]);
	js_close();
	js_close();
}

void spt_print_pool(const struct spt_pool *p)
{
	static const char *const mhdr[] = {
		"MEMBER", "DOMAIN", "STATE", "PATH", "SIZE", "SLICES", "FREE",
		"LOAD", "OVERRIDE"
	};
	static const char *const dhdr[] = {
		"DOMAIN", "MEMBERS", "SLICES", "FREE", "LOAD", "WORKLOAD"
	};
	static const char *const vhdr[] = {
		"VOLUME", "SIZE", "SLICES", "MISSING", "DEVICE", "DM", "READS",
		"WRITES", "ERRORS", "SLICES PER MEMBER"
	};
	char a[32], d[32], e[32], f[32], dev[96], per[256], st[48];
	char n[5][SPT_NUM_CELL];
	struct spt_table *t;
	size_t i;

	printf("pool %s  uuid %s  slice %lld MiB", p->name,
	       p->uuid ? p->uuid : "-", (long long)p->slice_mb);
	printf("  weight_space %lld  weight_load %lld  min_domains %lld\n",
	       (long long)p->weight_space, (long long)p->weight_load,
	       (long long)p->min_domains);
	if (!p->nr_members) {
		printf("  (no members: add one with 'slicepool member add %s %s')\n",
		       p->name, "<name> --path DEV --domain D");
	} else {
		t = tbl_new(ARRAY_SIZE(mhdr), mhdr);
		for (i = 0; i < p->nr_members; i++) {
			const struct spt_member *m = &p->members[i];
			const s64 v[] = { m->total_slices, m->free_slices,
					  m->load };

			size_str(a, sizeof(a), m->size);
			tbl_nums(n, v, ARRAY_SIZE(v));
			snprintf(st, sizeof(st), "%s%s",
				 m->state ? m->state : "-",
				 m->drain == 1 ? ",draining" : "");
			tbl_add(t, m->name, m->domain ? m->domain : "-", st,
				m->path ? m->path : "-", a, n[0], n[1], n[2],
				m->load_override ? m->load_override : "-");
		}
		tbl_print(t, stdout, "  ");
		tbl_free(t);
		print_paths(p);
	}
	if (p->nr_domains) {
		t = tbl_new(ARRAY_SIZE(dhdr), dhdr);
		for (i = 0; i < p->nr_domains; i++) {
			const struct spt_domain *dm = &p->domains[i];
			const s64 v[] = { dm->members, dm->total_slices,
					  dm->free_slices, dm->load,
					  dm->workload };

			tbl_nums(n, v, ARRAY_SIZE(v));
			tbl_add(t, dm->name, n[0], n[1], n[2], n[3], n[4]);
		}
		tbl_print(t, stdout, "  ");
		tbl_free(t);
	}
	if (!p->nr_volumes) {
		printf("  (no volumes)\n");
		return;
	}
	t = tbl_new(ARRAY_SIZE(vhdr), vhdr);
	for (i = 0; i < p->nr_volumes; i++) {
		const struct spt_volume *v = &p->volumes[i];
		const s64 vn[] = { v->slices, v->missing };

		size_str(a, sizeof(a), v->size);
		tbl_nums(n, vn, ARRAY_SIZE(vn));
		snprintf(dev, sizeof(dev), "/dev/mapper/%s", v->dm_name);
		per[0] = '\0';
		strcpy(d, "-");
		strcpy(e, "-");
		strcpy(f, "-");
		if (v->status_ok) {
			const struct spt_dm_status *st = &v->status;
			unsigned int k;
			size_t len = 0;

			snprintf(d, sizeof(d), "%llu",
				 (unsigned long long)st->reads);
			snprintf(e, sizeof(e), "%llu",
				 (unsigned long long)st->writes);
			snprintf(f, sizeof(f), "%lld",
				 (long long)st->io_errors);
			for (k = 0; k < st->nr_members && len < sizeof(per);
			     k++)
				len += snprintf(per + len, sizeof(per) - len,
						"%s%s:%llu%s", k ? "," : "",
						st->members[k].name,
						(unsigned long long)st->members[k].slices,
						strcmp(st->members[k].state,
						       "online") ? "(failed)" : "");
		}
		tbl_add(t, v->name, a, n[0], n[1], v->dm.exists ? dev : "-",
			dm_state(v), d, e, f, per[0] ? per : "-");
	}
	tbl_print(t, stdout, "  ");
	tbl_free(t);
	for (i = 0; i < p->nr_volumes; i++) {
		const struct spt_mig_status *ms = &p->volumes[i].mig;

		if (!p->volumes[i].mig_ok || !spt_mig_running(ms))
			continue;
		spu_format_size(ms->bytes_copied, false, a, sizeof(a));
		printf("  volume %s: migration of slices %llu-%llu to %s %s,",
		       p->volumes[i].name, (unsigned long long)ms->first,
		       (unsigned long long)ms->last, ms->dest, ms->state);
		printf(" pass %llu, %llu of %llu chunks left, %llu dirty, %s copied\n",
		       (unsigned long long)ms->pass,
		       (unsigned long long)ms->remaining,
		       (unsigned long long)ms->planned,
		       (unsigned long long)ms->dirty, a);
	}
}

int cmd_status(const struct spt_cmd *cmd, int argc, char **argv)
{
	char **names = NULL;
	size_t i, n = 0;
	int ret, rc = SPT_EXIT_OK;

	spt_getopt_one(cmd, argc, argv, NULL, 0);
	if (argc - optind > 1)
		spt_usage_fail(cmd, "unexpected argument '%s'",
			       argv[optind + 1]);
	if (argc - optind == 1) {
		spt_check_name(cmd, "pool", argv[optind]);
		if (spt_pool_require(argv[optind]))
			return SPT_EXIT_FAIL;
		names = spt_zalloc(sizeof(*names));
		names[0] = spt_strdup(argv[optind]);
		n = 1;
	} else {
		if (cfs_check_root())
			return SPT_EXIT_FAIL;
		ret = cfs_list(&names, &n, ".");
		if (ret) {
			spt_err("cannot list %s: %s", cfs_root(),
				strerror(-ret));
			return SPT_EXIT_FAIL;
		}
	}
	if (spt_json) {
		js_open_obj(NULL);
		js_open_arr("pools");
	} else if (!n) {
		puts("no pools (create one with 'slicepool pool create <pool>',");
		puts("or run 'slicepool assemble')");
	}
	for (i = 0; i < n; i++) {
		struct spt_pool p;

		ret = spt_pool_load(names[i], &p);
		if (ret) {
			spt_err("cannot read pool '%s': %s", names[i],
				strerror(-ret));
			rc = SPT_EXIT_FAIL;
		} else if (spt_json) {
			spt_json_pool(NULL, &p);
		} else {
			if (i)
				putchar('\n');
			spt_print_pool(&p);
		}
		spt_pool_free(&p);
	}
	if (spt_json) {
		js_close();
		js_end();
	}
	cfs_free_list(names, n);
	return rc;
}
