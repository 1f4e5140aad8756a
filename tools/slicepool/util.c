// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - errno hints, numbers, small helpers
 *
 * Messages (spt_err() and the like), names and sizes for people are
 * libspu's (spu_log(), spu_valid_name(), spu_format_size()), and so is the
 * size grammar (spu_parse_size(), the kernel's).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

/* What an operator can do about an errno returned by a configfs write. */
const char *spt_errno_hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return " (run as root)";
	case EBUSY:
		return " (it is in use: enabled, or used by a volume or a live dm table)";
	case EEXIST:
		return " (it already exists)";
	case ENOSPC:
		return " (the pool has no free slices for this: add members or use a smaller size)";
	case ENOENT:
		return " (no such object: check the names with 'slicepool status')";
	case EINVAL:
	case ERANGE:
		return " (the module refused the value: see Documentation/dm-slicepool.rst)";
	case ENODEV:
	case ENXIO:
		return " (no such device)";
	default:
		return "";
	}
}

/* Parses a decimal integer in [min, max]. Returns 0 or -EINVAL/-ERANGE. */
int spt_parse_ulong(const char *s, unsigned long min, unsigned long max,
		    unsigned long *out)
{
	unsigned long long v;
	int ret = spu_parse_uint(s, max, &v);

	if (ret)
		return ret;
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

void *spt_zalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p) {
		spt_err("out of memory");
		exit(SPT_EXIT_FAIL);
	}
	return p;
}

void *spt_realloc_array(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		spt_err("out of memory");
		exit(SPT_EXIT_FAIL);
	}
	p = realloc(p, n && size ? n * size : 1);
	if (!p) {
		spt_err("out of memory");
		exit(SPT_EXIT_FAIL);
	}
	return p;
}

char *spt_strdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p) {
		spt_err("out of memory");
		exit(SPT_EXIT_FAIL);
	}
	return p;
}

/* Removes trailing whitespace (configfs attributes end in a newline). */
void spt_strip(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/*
 * Splits "<pool>/<vol>" into @pool and @vol (each SPT_NAME_MAX + 1 bytes),
 * exiting with a usage error when it is malformed.
 */
int spt_split_volspec(const struct spt_cmd *cmd, const char *spec,
		      char *pool, char *vol)
{
	const char *slash = strchr(spec, '/');
	size_t plen;

	if (!slash)
		spt_usage_fail(cmd, "'%s' is not of the form <pool>/<volume>",
			       spec);
	plen = (size_t)(slash - spec);
	if (plen == 0 || plen > SPT_NAME_MAX)
		spt_usage_fail(cmd, "bad pool name in '%s'", spec);
	memcpy(pool, spec, plen);
	pool[plen] = '\0';
	if (!spu_valid_name(pool))
		spt_usage_fail(cmd,
			       "bad pool name '%s': use 1..%d of [A-Za-z0-9_.-]",
			      pool, SPT_NAME_MAX);
	if (!spu_valid_name(slash + 1))
		spt_usage_fail(cmd,
			       "bad volume name '%s': use 1..%d of [A-Za-z0-9_.-]",
			      slash + 1, SPT_NAME_MAX);
	snprintf(vol, SPT_NAME_MAX + 1, "%s", slash + 1);
	return 0;
}
