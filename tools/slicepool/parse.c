// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - parsers of the module's outputs: a volume's map attribute
 * and a slicepool target's dm status line (both described in
 * Documentation/dm-slicepool.rst). Pure code, unit tested on the host.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

/*
 * Parses a volume's map attribute: lines "<logical> <member> <physical>",
 * or "<logical> - -" for a slice whose member is missing.
 */
int spt_map_parse(const char *text, struct spt_map_entry **out, size_t *n)
{
	struct spt_map_entry *v = NULL, *e;
	char member[SPT_NAME_MAX + 1], phys[32];
	unsigned long long logical;
	const char *line = text;
	size_t cnt = 0;
	char *end;

	while (line && *line) {
		const char *nl = strchr(line, '\n');

		if (nl == line) {
			line++;
			continue;
		}
		if (sscanf(line, "%llu %32s %31s", &logical, member, phys) != 3) {
			free(v);
			return -EINVAL;
		}
		v = spt_realloc_array(v, cnt + 1, sizeof(*v));
		e = &v[cnt++];
		e->logical = logical;
		if (!strcmp(member, "-")) {
			e->member[0] = '\0';
			e->physical = -1;
		} else {
			memcpy(e->member, member, sizeof(e->member));
			e->physical = strtoll(phys, &end, 10);
			if (*end || e->physical < 0) {
				free(v);
				return -EINVAL;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* Parses a dm status line; returns 0 or -EINVAL. */
int spt_dm_status_parse(const char *text, struct spt_dm_status *st)
{
	unsigned long long r, w, rs, ws, miss;
	long long err;
	unsigned int n, i;
	int pos = 0, len;

	memset(st, 0, sizeof(*st));
	if (sscanf(text, "%llu %llu %llu %llu %lld %llu %u%n", &r, &w, &rs,
		   &ws, &err, &miss, &n, &pos) != 7)
		return -EINVAL;
	st->reads = r;
	st->writes = w;
	st->read_sectors = rs;
	st->write_sectors = ws;
	st->io_errors = err;
	st->missing = miss;
	if (n > SPT_STATUS_MEMBERS)
		return -EINVAL;
	st->nr_members = n;
	for (i = 0; i < n; i++) {
		char item[128], *c1, *c2, *end;

		len = 0;
		if (sscanf(text + pos, " %127s%n", item, &len) != 1)
			return -EINVAL;
		pos += len;
		c1 = strchr(item, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c1 - item > SPT_NAME_MAX)
			return -EINVAL;
		*c1 = '\0';
		*c2 = '\0';
		memcpy(st->members[i].name, item, (size_t)(c1 - item) + 1);
		st->members[i].slices = strtoull(c1 + 1, &end, 10);
		if (*end)
			return -EINVAL;
		snprintf(st->members[i].state, sizeof(st->members[i].state),
			 "%.15s", c2 + 1);
	}
	/* An image's table: "image <clones>" before "migration" */
	len = 0;
	if (sscanf(text + pos, " image%n", &len) == 0 && len) {
		unsigned long long c;

		pos += len;
		len = 0;
		if (!isspace((unsigned char)text[pos]) ||
		    sscanf(text + pos, " %llu%n", &c, &len) != 1 || !len ||
		    (text[pos + len] && !isspace((unsigned char)text[pos + len])))
			return -EINVAL;
		st->image = true;
		st->clones = c;
	}
	return 0;
}

/*
 * True when the map places a slice on a member that the live table's
 * status does not list: with an older module, whose tables reached only
 * the members enabled at load, the table was loaded while that member
 * was missing and reaches the slice only after a table reload.  Tables
 * of this module reach members through the map: never stale.
 */
bool spt_table_stale(const struct spt_dm_status *st,
		     const struct spt_map_entry *map, size_t n)
{
	unsigned int k;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!map[i].member[0])
			continue;
		for (k = 0; k < st->nr_members; k++)
			if (!strcmp(st->members[k].name, map[i].member))
				break;
		if (k == st->nr_members)
			return true;
	}
	return false;
}

/*
 * Parses the migration fields of a slicepool status line: everything after
 * the word "migration" (a member item always holds ':', so the first bare
 * "migration" token is the keyword). Returns 0, -ENODATA when the line has
 * no migration part (a module without live migration) or -EINVAL.
 */
int spt_mig_status_parse(const char *text, struct spt_mig_status *ms)
{
	static const char *const states[] = {
		"copying", "switching", "done", "aborted", "failed",
	};
	unsigned long long v[15];
	const char *p = text;
	long long hold;
	unsigned long long mirrored, share, paced;
	char word[16];
	size_t i, len;
	int n = 0;
	bool known = false;

	memset(ms, 0, sizeof(*ms));
	for (;;) {
		p += strspn(p, " \t\n");
		if (!*p)
			return -ENODATA;
		len = strcspn(p, " \t\n");
		if (len == 9 && !strncmp(p, "migration", 9))
			break;
		p += len;
	}
	p += 9;
	if (sscanf(p, " %15s%n", word, &n) != 1)
		return -EINVAL;
	if (!strcmp(word, "none")) {
		p += n;
		return p[strspn(p, " \t\n")] ? -EINVAL : 0;
	}
	n = 0;
	if (sscanf(p, " %15s %15s %llu-%llu %39s%n", ms->state, ms->mode,
		   &v[0], &v[1], ms->dest, &n) != 5 || !n)
		return -EINVAL;
	p += n;
	/* <pass> ... <rate>: 13 unsigned numbers, then <hold_us> <error>. */
	for (i = 2; i < ARRAY_SIZE(v); i++) {
		n = 0;
		if (sscanf(p, " %llu%n", &v[i], &n) != 1 || !n ||
		    !isspace((unsigned char)*p))
			return -EINVAL;
		p += n;
	}
	n = 0;
	if (sscanf(p, " %lld %d %3s %llu %llu %llu%n", &hold, &ms->error,
		   word, &mirrored, &share, &paced, &n) != 6 || !n)
		return -EINVAL;
	p += n;
	if (strcmp(word, "on") && strcmp(word, "off"))
		return -EINVAL;
	ms->mirror = !strcmp(word, "on");
	ms->mirrored = mirrored;
	ms->busy_share = share;
	ms->paced_ms = paced;
	if (p[strspn(p, " \t\n")])
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(states); i++)
		known |= !strcmp(ms->state, states[i]);
	if (!known || v[1] < v[0] || hold < 0 || !share || share > 100)
		return -EINVAL;
	ms->job = true;
	ms->first = v[0];
	ms->last = v[1];
	ms->pass = v[2];
	ms->cursor = v[3];
	ms->planned = v[4];
	ms->remaining = v[5];
	ms->dirty = v[6];
	ms->writes_seen = v[7];
	ms->dirty_set = v[8];
	ms->filtered = v[9];
	ms->cleared = v[10];
	ms->copied = v[11];
	ms->recopied = v[12];
	ms->bytes_copied = v[13];
	ms->rate = v[14];
	ms->hold_us = hold;
	return 0;
}

/* True while the job copies or switches (it has not ended). */
bool spt_mig_running(const struct spt_mig_status *ms)
{
	return ms->job && (!strcmp(ms->state, "copying") ||
			   !strcmp(ms->state, "switching"));
}
