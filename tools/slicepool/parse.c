// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - parsers of the module's outputs: a volume's map attribute
 * and a slicepool target's dm status line (both described in
 * Documentation/dm-slicepool.rst). Pure code, unit tested on the host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

/*
 * Parses a volume's map attribute: lines "<logical> <member> <physical>",
 * or "<logical> - -" for a slice whose member is missing.
 */
int sp_map_parse(const char *text, struct sp_map_entry **out, size_t *n)
{
	struct sp_map_entry *v = NULL, *e;
	char member[SP_NAME_MAX + 1], phys[32];
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
		v = sp_realloc_array(v, cnt + 1, sizeof(*v));
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
int sp_dm_status_parse(const char *text, struct sp_dm_status *st)
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
	if (n > SP_STATUS_MEMBERS)
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
		if (!c1 || !c2 || c1 - item > SP_NAME_MAX)
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
	return 0;
}

/*
 * True when the map places a slice on a member that the live table's
 * status does not list: the table was loaded while that member was
 * missing, and the module only reaches the slice after a table reload.
 */
bool sp_table_stale(const struct sp_dm_status *st,
		    const struct sp_map_entry *map, size_t n)
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
