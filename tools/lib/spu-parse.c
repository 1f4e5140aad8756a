// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - parsers and formatters (see spu.h)
 *
 * One grammar for sizes in user space, the kernel's: the one that
 * dm-slicepool reads from a volume's configfs "size" attribute
 * (sp-configfs.c): decimal digits, optionally followed by one of K, M, G
 * or T (binary units, either case), and nothing else.  "1G" is 2^30
 * bytes; "1GiB", "1GB", "1.5G", "1P" and " 1G" are refused.
 *
 * Names of pools, members and volumes, and domain labels, are checked as
 * the kernel checks them (1..32 of [A-Za-z0-9_.-], [A-Za-z0-9:_.-] for
 * labels), "." and ".." refused as mkdir(2) refuses them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spu.h"

/* The first @len characters of @s: decimal digits only, at most @max. */
static int parse_digits(const char *s, size_t len, unsigned long long max,
			unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int d;
	size_t i;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	for (i = 0; i < len; i++) {
		d = (unsigned int)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int spu_parse_uint(const char *s, unsigned long long max,
		   unsigned long long *out)
{
	return parse_digits(s, s ? strlen(s) : 0, max, out);
}

int spu_parse_size(const char *s, u64 max, u64 *out)
{
	static const char suffixes[] = "kmgt";
	unsigned long long v;
	unsigned int shift = 0;
	const char *p;
	size_t n;
	int ret;

	n = s ? strlen(s) : 0;
	if (!n)
		return -EINVAL;
	p = strchr(suffixes, s[n - 1] | 0x20);
	if (p && *p) {
		shift = 10 * (unsigned int)(p - suffixes + 1);
		n--;
	}
	ret = parse_digits(s, n, ~0ULL, &v);
	if (ret)
		return ret;
	if (v > (max >> shift))
		return -ERANGE;
	*out = (u64)v << shift;
	return 0;
}

const char *spu_size_why(int err)
{
	if (err == -ERANGE)
		return "is too large";
	return "is not a size (bytes, or a number with K, M, G or T)";
}

void spu_format_size(u64 bytes, bool exact, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					      "PiB" };
	unsigned int u = 0;
	u64 div = 1;

	while (u + 1 < ARRAY_SIZE(units) && bytes >= div * 1024 &&
	       (!exact || !(bytes % (div * 1024)))) {
		div *= 1024;
		u++;
	}
	if (exact)
		snprintf(buf, len, "%llu %s", bytes / div, units[u]);
	else if (bytes % div == 0)
		snprintf(buf, len, "%llu%s", bytes / div, units[u]);
	else
		snprintf(buf, len, "%.1f%s", (double)bytes / (double)div,
			 units[u]);
}

static bool valid_label(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > SPU_NAME_MAX)
		return false;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9'))
			continue;
		if (!strchr(extra, *s))
			return false;
	}
	return true;
}

bool spu_valid_name(const char *s)
{
	return valid_label(s, "_.-");
}

bool spu_valid_domain(const char *s)
{
	return valid_label(s, ":_.-");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void spu_hex(const u8 *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int spu_unhex(const char *s, u8 *b, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		hi = hexval(s[2 * i]);
		lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		b[i] = (u8)(hi << 4 | lo);
	}
	return 0;
}

void spu_uuid_format(const u8 uuid[16], char out[SPU_UUID_STR])
{
	char hex[33];

	spu_hex(uuid, 16, hex);
	snprintf(out, SPU_UUID_STR, "%.8s-%.4s-%.4s-%.4s-%.12s", hex,
		 hex + 8, hex + 12, hex + 16, hex + 20);
}

int spu_uuid_parse(const char *s, u8 uuid[16])
{
	char hex[33];
	size_t i, j = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hex[j++] = s[i];
	}
	hex[j] = '\0';
	return spu_unhex(hex, uuid, 16);
}

bool spu_valid_uuid(const char *s)
{
	u8 u[16];

	return spu_uuid_parse(s, u) == 0;
}
