// SPDX-License-Identifier: GPL-2.0
/*
 * unit - host unit checks of the slicepool tool's pure code
 *
 * Usage: unit crc32c|size|number|name|parse|mpath|md3dev|sb <file> <expect>
 *        unit md3asm <image>...
 * Prints one "# ..." line per failed check and exits 0 when all hold.
 * For "sb", <expect> is "ok", "none" (no magic) or a word that must appear
 * in the refusal message.  "md3asm" assembles v3 images for writing
 * (md3_assemble(), as the module will) through md3dev.c and prints the
 * mode and each volume's map as "map VOL: L=MEMBER:P ..." (the format of
 * "slicepool inspect").  "md3rm NEW IMAGE..." adds the blank image NEW
 * to the pool of the IMAGEs as member m2 and removes it (test_md3rm()).
 * "md3copies IMAGE..." creates volume r2 of copies 2 (one slice, a leg
 * on each of the first two members) and marks its leg 1 stale
 * (test_md3copies()).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md3dev.h"

static int failures;

/* util.c needs this; the unit program never calls it. */
void spt_usage_fail(const struct spt_cmd *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	abort();
}

static void __printf(2, 3) check(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return;
	failures++;
	printf("# FAILED: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void test_crc32c(void)
{
	u8 buf[32];
	int i;

	/* The standard check value. */
	check((~md3_crc32c(~0u, "123456789", 9)) == 0xE3069283u,
	      "crc32c(\"123456789\") = 0x%08x, want 0xe3069283",
	      ~md3_crc32c(~0u, "123456789", 9));
	/* RFC 3720 B.4 vectors. */
	memset(buf, 0, sizeof(buf));
	check(~md3_crc32c(~0u, buf, 32) == 0x8A9136AAu, "32 zero bytes");
	memset(buf, 0xff, sizeof(buf));
	check(~md3_crc32c(~0u, buf, 32) == 0x62A8AB43u, "32 0xff bytes");
	for (i = 0; i < 32; i++)
		buf[i] = (u8)i;
	check(~md3_crc32c(~0u, buf, 32) == 0x46DD794Eu, "bytes 0..31");
	/* Incremental use gives the same result as one call. */
	check(md3_crc32c(md3_crc32c(~0u, "1234", 4), "56789", 5) ==
	      md3_crc32c(~0u, "123456789", 9), "incremental crc32c");
	check(md3_crc32c(0x12345678, "", 0) == 0x12345678,
	      "empty buffer returns the seed");
}

static void test_size(void)
{
	static const struct {
		const char *in;
		int ret;
		u64 val;
	} cases[] = {
		{ "512", 0, 512 },
		{ "0", 0, 0 },
		{ "1K", 0, 1024 },
		{ "1k", 0, 1024 },
		{ "4M", 0, 4ULL << 20 },
		{ "1G", 0, 1ULL << 30 },
		{ "3T", 0, 3ULL << 40 },
		{ "32767T", 0, 32767ULL << 40 },
		{ "36028797018963967", 0, ~0ULL >> 9 },
		{ "2P", -EINVAL, 0 },
		{ "1GiB", -EINVAL, 0 },
		{ "1GB", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "G", -EINVAL, 0 },
		{ "abc", -EINVAL, 0 },
		{ "1X", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1G ", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 },
		{ "1GiBx", -EINVAL, 0 },
		{ "1 G", -EINVAL, 0 },
		{ "0123456789012345678901234567890123456789x", -EINVAL, 0 },
		{ "36028797018963968", -ERANGE, 0 },
		{ "32768T", -ERANGE, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 v = 0;
		int ret = spu_parse_size(cases[i].in, SPU_SIZE_MAX, &v);

		check(ret == cases[i].ret, "size '%s': ret %d, want %d",
		      cases[i].in, ret, cases[i].ret);
		check(ret || v == cases[i].val, "size '%s': %llu, want %llu",
		      cases[i].in, (unsigned long long)v,
		      (unsigned long long)cases[i].val);
	}
}

static void test_number(void)
{
	static const struct {
		const char *in;
		int ret;
	} cases[] = {
		{ "0", 0 }, { "100", 0 }, { "50", 0 },
		{ "101", -ERANGE }, { "-1", -EINVAL }, { "", -EINVAL },
		{ "1e2", -EINVAL }, { "0x10", -EINVAL }, { "5 ", -EINVAL },
		{ "99999999999999999999999", -ERANGE },
	};
	unsigned long v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int ret = spt_parse_ulong(cases[i].in, 0, 100, &v);

		check(ret == cases[i].ret, "number '%s': ret %d, want %d",
		      cases[i].in, ret, cases[i].ret);
	}
	check(!spt_parse_ulong("7", 0, 100, &v) && v == 7, "number 7");
	/* A maximum below 10: the digit alone is out of range. */
	check(spt_parse_ulong("9", 1, 8, &v) == -ERANGE, "9 of 1..8");
	check(!spt_parse_ulong("8", 1, 8, &v) && v == 8, "8 of 1..8");
}

static void test_name(void)
{
	static const char *const good[] = {
		"a", "pool0", "A_b.c-d", "01234567890123456789012345678901",
	};
	static const char *const bad[] = {
		"", ".", "..", "a/b", "a b", "a\nb", "é",
		"012345678901234567890123456789012",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		check(spu_valid_name(good[i]), "name '%s' refused", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		check(!spu_valid_name(bad[i]), "name '%s' accepted", bad[i]);
}

/* Parses a status line without members whose migration part is @fields. */
static int mig_parse(const char *fields, struct spt_mig_status *ms)
{
	char line[512];

	snprintf(line, sizeof(line), "0 0 0 0 0 0 0 migration %s", fields);
	return spt_mig_status_parse(line, ms);
}

static void test_mig_status(void)
{
	/* The status line in three parts (members, job, counters). */
	static const char *const full[] = {
		"1 2 3 4 0 0 2 migration:3:online m1:1:online",
		"migration copying filter 2-5 domain:dD",
		"3 17 40 23 6 100 30 12 0 90 20 47185920 2 0 0 on 44 50 120",
	};
	static const char *const failed[] = {
		"0 0 0 0 0 0 1 m0:4:online",
		"migration failed none 0-3 m2",
		"5 0 0 0 0 9 9 0 0 64 0 8388608 0 1500 -5 off 0 100 0\n",
	};
	/* Migration fields that are refused, and why. */
	static const struct {
		const char *fields, *why;
	} bad[] = {
		{ "copying filter 0-1 m1 1 0 4 4 0",
		  "truncated migration fields" },
		{ "done filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0",
		  "migration fields without mirror" },
		{ "done filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 on 0",
		  "migration fields without pacing" },
		{ "done filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 on 0 0 0",
		  "migration busy_share 0" },
		{ "done filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 on 0 101 0",
		  "migration busy_share over 100" },
		{ "done filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 yes 0 50 0",
		  "migration mirror neither on nor off" },
		{ "resting filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 on 0 50 0",
		  "unknown migration state" },
		{ "done filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 on 0 50 0 7",
		  "migration fields with one too many" },
		{ "done filter 3-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 off 0 50 0",
		  "migration range backwards" },
	};
	char line[512];
	struct spt_mig_status ms;
	size_t i;
	int ret;

	snprintf(line, sizeof(line), "%s %s %s", full[0], full[1], full[2]);
	ret = spt_mig_status_parse(line, &ms);
	check(!ret, "migration status: ret %d", ret);
	check(!ret && ms.job && !strcmp(ms.state, "copying") &&
	      !strcmp(ms.mode, "filter") && ms.first == 2 && ms.last == 5 &&
	      !strcmp(ms.dest, "domain:dD"), "migration status: job fields");
	check(!ret && ms.pass == 3 && ms.cursor == 17 && ms.planned == 40 &&
	      ms.remaining == 23 && ms.dirty == 6, "migration status: pass");
	check(!ret && ms.writes_seen == 100 && ms.dirty_set == 30 &&
	      ms.filtered == 12 && ms.cleared == 0 && ms.copied == 90 &&
	      ms.recopied == 20 && ms.bytes_copied == 47185920 &&
	      ms.rate == 2 && ms.hold_us == 0 && ms.error == 0 &&
	      ms.mirror && ms.mirrored == 44 && ms.busy_share == 50 &&
	      ms.paced_ms == 120,
	      "migration status: counters");
	check(spt_mig_running(&ms), "copying is running");
	snprintf(line, sizeof(line), "%s %s %s", failed[0], failed[1],
		 failed[2]);
	ret = spt_mig_status_parse(line, &ms);
	check(!ret && !strcmp(ms.state, "failed") && ms.error == -5 &&
	      ms.hold_us == 1500 && !ms.mirror && !spt_mig_running(&ms),
	      "migration status: a failed job (ret %d)", ret);
	ret = mig_parse("none", &ms);
	check(!ret && !ms.job && !spt_mig_running(&ms),
	      "migration none: ret %d", ret);
	check(spt_mig_status_parse("0 0 0 0 0 0 0", &ms) == -ENODATA,
	      "status without migration fields");
	check(mig_parse("none x", &ms) == -EINVAL,
	      "migration none with trailing words");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		check(mig_parse(bad[i].fields, &ms) == -EINVAL, "%s",
		      bad[i].why);
	check(!mig_parse("done filter 0-1 m1 1 0 4 4 0 0 0 0 0 0 0 0 0 0 0 off 0 50 0",
			 &ms) && !strcmp(ms.state, "done") && ms.last == 1,
	      "a done job");
}

static void test_parse(void)
{
	struct spt_map_entry *map = NULL;
	struct spt_dm_status st;
	size_t n = 0;
	int ret;

	ret = spt_map_parse("0 m0 3\n1 - -\n2 m1 0\n", &map, &n);
	check(!ret && n == 3, "map: ret %d, %zu entries", ret, n);
	if (!ret && n == 3) {
		check(!strcmp(map[0].member, "m0") && map[0].physical == 3 &&
		      map[0].logical == 0, "map entry 0");
		check(!map[1].member[0] && map[1].physical == -1,
		      "map entry 1 is missing");
		check(!strcmp(map[2].member, "m1") && map[2].physical == 0,
		      "map entry 2");
	}
	if (!ret) {
		memset(&st, 0, sizeof(st));
		st.nr_members = 2;
		strcpy(st.members[0].name, "m0");
		strcpy(st.members[1].name, "m1");
		check(!spt_table_stale(&st, map, n),
		      "table knowing m0 and m1 is not stale");
		st.nr_members = 1;
		check(spt_table_stale(&st, map, n),
		      "table without m1 is stale for a map using m1");
	}
	free(map);
	check(!spt_map_parse("", &map, &n) && n == 0, "empty map");
	free(map);
	check(spt_map_parse("0 m0\n", &map, &n) == -EINVAL, "short map line");
	check(spt_map_parse("0 m0 x\n", &map, &n) == -EINVAL,
	      "non-numeric physical slice");
	check(spt_map_parse("zero m0 1\n", &map, &n) == -EINVAL,
	      "non-numeric logical slice");

	ret = spt_dm_status_parse("10 20 80 160 1 2 2 m0:3:online m1:4:failed",
				  &st);
	check(!ret, "status: ret %d", ret);
	check(!ret && st.reads == 10 && st.writes == 20 &&
	      st.read_sectors == 80 && st.write_sectors == 160 &&
	      st.io_errors == 1 && st.missing == 2 && st.nr_members == 2,
	      "status counters");
	check(!ret && !strcmp(st.members[0].name, "m0") &&
	      st.members[0].slices == 3 &&
	      !strcmp(st.members[0].state, "online") &&
	      !strcmp(st.members[1].name, "m1") &&
	      st.members[1].slices == 4 &&
	      !strcmp(st.members[1].state, "failed"), "status members");
	check(!spt_dm_status_parse("0 0 0 0 0 0 0", &st) && !st.nr_members,
	      "status with no member");
	check(spt_dm_status_parse("1 2 3", &st) == -EINVAL, "short status");
	check(spt_dm_status_parse("1 2 3 4 5 6 2 m0:1:online", &st) == -EINVAL,
	      "status with fewer members than announced");
	check(spt_dm_status_parse("1 2 3 4 5 6 1 m0-1-online", &st) == -EINVAL,
	      "malformed member in status");
	check(spt_dm_status_parse("1 2 3 4 5 6 1 m0:x:online", &st) == -EINVAL,
	      "non-numeric slice count in status");
	ret = spt_dm_status_parse("1 2 3 4 0 0 1 m0:1:online image 2 migration none",
				  &st);
	check(!ret && st.image && st.clones == 2 && st.nr_members == 1,
	      "image status: ret %d, image %d, clones %llu", ret, st.image,
	      (unsigned long long)st.clones);
	ret = spt_dm_status_parse("1 2 3 4 0 0 1 m0:1:online migration none",
				  &st);
	check(!ret && !st.image && !st.clones, "status of a volume, not an image");
	check(spt_dm_status_parse("1 2 3 4 0 0 0 image x", &st) == -EINVAL,
	      "non-numeric clone count in status");
	test_mig_status();
}

static void test_sb(const char *file, const char *expect)
{
	struct spt_disk_member m;
	char why[640];
	int ret;

	ret = spt_md_read_dev(file, &m, why, sizeof(why));
	if (!strcmp(expect, "ok") || !strcmp(expect, "grown")) {
		/* grown: a member that revalidate_size took to 127 slices */
		u64 nr = strcmp(expect, "ok") ? SP_OWNERS_PER_BLOCK : 15;

		check(ret == 0, "%s: ret %d (%s)", file, ret, why);
		if (!ret) {
			check(!strcmp(m.sb.pool_name, "tp"), "pool name");
			check(m.sb.slice_sectors == 2048, "slice size");
			check(m.sb.nr_slices == nr, "nr_slices %llu",
			      (unsigned long long)m.sb.nr_slices);
			check(!strcmp(m.sb.pool_uuid,
				      "11111111-1111-1111-1111-111111111111"),
			      "pool uuid %s", m.sb.pool_uuid);
			check(m.nr_vols >= 1 && !strcmp(m.vols[0].name, "v1") &&
			      m.vols[0].nr_slices == 4 &&
			      m.vols[0].generation == 2, "volume record");
			check(m.nr_owners >= 2, "owner records");
			spt_disk_member_free(&m);
		}
	} else if (!strcmp(expect, "none")) {
		check(ret == -ENODATA, "%s: ret %d, want -ENODATA", file, ret);
	} else {
		check(ret == -EINVAL, "%s: ret %d, want -EINVAL", file, ret);
		check(ret != -EINVAL || strstr(why, expect),
		      "%s: message '%s' lacks '%s'", file, why, expect);
		printf("# refusal: %s\n", why);
	}
}

/* ------------------------------------------------ multipath (mpath.c) */

static char mp_root[64];

/* Writes @val to the file named by @fmt, making its directories. */
static void __printf(2, 3) mp_put(const char *val, const char *fmt, ...)
{
	char path[PATH_MAX], *slash;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			abort();
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f, "%s\n", val);
	fclose(f);
}

/* Path @c of head nvme1n1: controller nvme<c>, state and ANA state. */
static void mp_path(int c, const char *state, const char *ana)
{
	mp_put(ana, "%s/block/nvme1n1/multipath/nvme1c%dn1/ana_state",
	       mp_root, c);
	mp_put(state, "%s/block/nvme1n1/multipath/nvme1c%dn1/device/state",
	       mp_root, c);
	mp_put(c == 1 ? "traddr=10.99.0.1,trsvcid=4420,src_addr=10.99.0.2" :
	       "traddr=10.99.0.1,trsvcid=4421,src_addr=10.99.0.2",
	       "%s/block/nvme1n1/multipath/nvme1c%dn1/device/address",
	       mp_root, c);
	mp_put("tcp", "%s/block/nvme1n1/multipath/nvme1c%dn1/device/transport",
	       mp_root, c);
}

static const char *mp_roles(const struct spt_mpath *mp)
{
	static char buf[128];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < mp->nr_paths && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s=%s",
			      i ? " " : "", mp->paths[i].name,
			      spt_path_role_name(mp->paths[i].role));
	return buf;
}

static void mp_expect(const char *what, const char *roles, int in_use)
{
	struct spt_mpath mp;
	int ret;

	ret = spt_mpath_read(mp_root, "nvme1n1", &mp);
	check(!ret, "%s: read: %d", what, ret);
	check(!strcmp(mp_roles(&mp), roles), "%s: %s, want %s", what,
	      mp_roles(&mp), roles);
	check(mp.in_use == in_use, "%s: in_use %d, want %d", what, mp.in_use,
	      in_use);
}

static void test_mpath(void)
{
	struct spt_mpath mp;
	char cmd[128];

	snprintf(mp_root, sizeof(mp_root), "/tmp/sp-unit-mpath.XXXXXX");
	if (!mkdtemp(mp_root))
		abort();
	/* Two paths: optimized and non-optimized, both live. */
	mp_put("numa", "%s/block/nvme1n1/device/iopolicy", mp_root);
	mp_path(2, "live", "non-optimized");
	mp_path(1, "live", "optimized");
	check(!spt_mpath_read(mp_root, "nvme1n1", &mp), "read");
	check(!strcmp(mp.head, "nvme1n1") && !strcmp(mp.iopolicy, "numa") &&
	      mp.nr_paths == 2, "head %s policy %s, %zu paths", mp.head,
	      mp.iopolicy, mp.nr_paths);
	check(!strcmp(mp.paths[0].controller, "nvme1") &&
	      !strcmp(mp.paths[1].controller, "nvme2"), "controllers %s %s",
	      mp.paths[0].controller, mp.paths[1].controller);
	check(!strcmp(mp.paths[1].address,
		      "traddr=10.99.0.1,trsvcid=4421,src_addr=10.99.0.2") &&
	      !strcmp(mp.paths[0].transport, "tcp") &&
	      !strcmp(mp.paths[0].state, "live") &&
	      !strcmp(mp.paths[1].ana_state, "non-optimized"),
	      "path attributes");
	mp_expect("both live", "nvme1c1n1=in-use nvme1c2n1=standby", 0);
	/* The optimized path's controller reconnects: the standby serves. */
	mp_path(1, "connecting", "optimized");
	mp_expect("optimized path cut", "nvme1c1n1=down nvme1c2n1=in-use", 1);
	mp_path(1, "resetting", "optimized");
	mp_expect("optimized path resetting",
		  "nvme1c1n1=down nvme1c2n1=in-use", 1);
	/* Back: the optimized path again. */
	mp_path(1, "live", "optimized");
	mp_expect("restored", "nvme1c1n1=in-use nvme1c2n1=standby", 0);
	/* An inaccessible ANA group is not usable, live or not. */
	mp_path(1, "live", "inaccessible");
	mp_expect("inaccessible", "nvme1c1n1=down nvme1c2n1=in-use", 1);
	mp_path(2, "deleting", "non-optimized");
	mp_expect("no usable path", "nvme1c1n1=down nvme1c2n1=down", -1);
	/* round-robin uses every optimized path; numa the first one. */
	mp_path(1, "live", "optimized");
	mp_path(2, "live", "optimized");
	mp_path(3, "live", "non-optimized");
	mp_expect("numa, two optimized",
		  "nvme1c1n1=in-use nvme1c2n1=standby nvme1c3n1=standby", 0);
	mp_put("round-robin", "%s/block/nvme1n1/device/iopolicy", mp_root);
	mp_expect("round-robin, two optimized",
		  "nvme1c1n1=in-use nvme1c2n1=in-use nvme1c3n1=standby", 0);
	/* Not a head, no such disk, and names that are not a disk. */
	mp_put("0", "%s/block/nvme0n1/ro", mp_root);
	check(spt_mpath_read(mp_root, "nvme0n1", &mp) == -ENOENT,
	      "a disk without multipath is not a head");
	check(spt_mpath_read(mp_root, "nvme9n9", &mp) == -ENOENT, "no disk");
	check(spt_mpath_read(mp_root, "../nvme1n1", &mp) == -EINVAL &&
	      spt_mpath_read(mp_root, "..", &mp) == -EINVAL &&
	      spt_mpath_read(mp_root, "", &mp) == -EINVAL, "bad disk names");
	/* 6.1: no multipath/ directory, the paths are block/nvme1c*n1. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/block'", mp_root);
	if (system(cmd))
		abort();
	mp_put("numa", "%s/block/nvme1n1/device/iopolicy", mp_root);
	mp_put("0", "%s/block/nvme1n10/ro", mp_root);
	mp_put("optimized", "%s/block/nvme1c3n10/ana_state", mp_root);
	mp_put("optimized", "%s/block/nvme11c3n1/ana_state", mp_root);
	mp_put("connecting", "%s/block/nvme1c1n1/device/state", mp_root);
	mp_put("optimized", "%s/block/nvme1c1n1/ana_state", mp_root);
	mp_put("live", "%s/block/nvme1c2n1/device/state", mp_root);
	mp_put("non-optimized", "%s/block/nvme1c2n1/ana_state", mp_root);
	mp_put("traddr=10.99.0.1,trsvcid=4421",
	       "%s/block/nvme1c2n1/device/address", mp_root);
	mp_expect("6.1 layout, optimized path cut",
		  "nvme1c1n1=down nvme1c2n1=in-use", 1);
	check(!spt_mpath_read(mp_root, "nvme1n1", &mp) &&
	      !strcmp(mp.paths[1].address, "traddr=10.99.0.1,trsvcid=4421"),
	      "6.1 layout: address");
	check(spt_mpath_read(mp_root, "nvme1n10", &mp) == 0 &&
	      mp.nr_paths == 1, "6.1 layout: nsid 10 has its own path");
	mp_put("0", "%s/block/nvme2n1/ro", mp_root);
	check(spt_mpath_read(mp_root, "nvme2n1", &mp) == -ENOENT,
	      "6.1 layout: a namespace without paths is not a head");
	check(spt_mpath_read(mp_root, "vda", &mp) == -ENOENT &&
	      spt_mpath_read(mp_root, "nvme1c1n1", &mp) == -ENOENT,
	      "6.1 layout: other disks and path disks are not heads");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", mp_root);
	if (system(cmd))
		check(false, "cannot remove %s", mp_root);
}

/* md3dev.c: block I/O, short transfers, read-only, the device size. */
static void test_md3dev(void)
{
	char path[] = "/tmp/sp-md3dev-XXXXXX", why[512];
	static u8 a[MD3_BLOCK_SIZE], b[MD3_BLOCK_SIZE];
	struct spt_md3dev d;
	int fd = mkstemp(path);

	check(fd >= 0 && !ftruncate(fd, 2 * MD3_BLOCK_SIZE + 512),
	      "cannot make %s", path);
	close(fd);
	memset(a, 0x5a, sizeof(a));
	check(!spt_md3dev_open(&d, path, SPT_MD3DEV_RW | SPT_MD3DEV_EXCL, why,
			       sizeof(why)), "open rw: %s", why);
	check(d.md.dev_sectors == 17, "size: %llu sectors, want 17",
	      (unsigned long long)d.md.dev_sectors);
	check(!d.md.ops->write(d.md.ctx, 1, a) && !d.md.ops->flush(d.md.ctx) &&
	      !d.md.ops->read(d.md.ctx, 1, b) && !memcmp(a, b, sizeof(a)),
	      "block 1 written, flushed and read back");
	check(d.md.ops->read(d.md.ctx, 2, b) == -EIO,
	      "a short read (block 2 of 2.125) is -EIO");
	check(d.md.ops->read(d.md.ctx, 9, b) == -EIO, "a read past the end is -EIO");
	check(spt_md3dev_pread(&d, 0, b, 100) == -EINVAL,
	      "a transfer of part of a block is -EINVAL");
	spt_md3dev_close(&d);
	check(!spt_md3dev_open(&d, path, 0, why, sizeof(why)), "open ro: %s", why);
	check(d.md.ops->write(d.md.ctx, 0, a) == -EROFS &&
	      d.md.ops->flush(d.md.ctx) == -EROFS, "read only: write and flush -EROFS");
	spt_md3dev_close(&d);
	check(spt_md3dev_open(&d, "/nonexistent/x", 0, why, sizeof(why)) == -ENOENT &&
	      strstr(why, "/nonexistent/x"), "a missing file: -ENOENT, named");
	check(spt_md3dev_open(&d, "/dev/null", 0, why, sizeof(why)) == -EINVAL,
	      "a character device is refused");
	unlink(path);
}

/*
 * A writing v3 assembly of @n images (forced: md3_assemble_opts.force,
 * as 'slicepool pool force'): its mode and maps on stdout.
 */
static void test_md3asm(char **paths, int n, bool force)
{
	struct md3_assemble_opts o = { .force = force };
	struct spt_md3dev *d = calloc(n, sizeof(*d));
	struct md3_dev *devs = calloc(n, sizeof(*devs));
	struct md3_pool p;
	char why[512];
	u64 i, l;
	int k;

	for (k = 0; k < n; k++) {
		check(!spt_md3dev_open(&d[k], paths[k], SPT_MD3DEV_RW, why,
				       sizeof(why)), "open: %s", why);
		devs[k] = d[k].md;
	}
	check(!md3_assemble(&p, devs, n, &o), "md3_assemble failed");
	printf("mode %d seq %llu\n", p.mode, (unsigned long long)p.winner.seq);
	for (i = 0; i < p.st.nr_volumes; i++) {
		const struct md3_volume *v = &p.st.vols[i];

		printf("  map %s:", v->name);
		for (l = 0; l < v->nr_slices; l++)
			if (v->map[l].member == MD3_NO_MEMBER)
				printf(" %llu=-", (unsigned long long)l);
			else
				printf(" %llu=%s:%llu", (unsigned long long)l,
				       md3_member_find(&p.st, v->map[l].member)->name,
				       (unsigned long long)v->map[l].pslice);
		putchar('\n');
	}
	md3_pool_free(&p);
	for (k = 0; k < n; k++)
		spt_md3dev_close(&d[k]);
	free(d);
	free(devs);
}

/*
 * 'slicepool member remove' of a new member, as the module does it: a
 * writing assembly of the pool images @paths[1..@n-1], member m2 (domain
 * dC) added on the blank image @paths[0], then removed.  The image keeps
 * the labels of a removed member.
 */
static void test_md3rm(char **paths, int n)
{
	static const u8 uuid[MD3_UUID_LEN] = {
		0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
		0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	};
	struct md3_assemble_opts o = { 0 };
	struct spt_md3dev *d = calloc(n, sizeof(*d));
	struct md3_dev *devs = calloc(n, sizeof(*devs));
	struct md3_pool p;
	char why[512];
	u32 id = 0;
	int k;

	for (k = 0; k < n; k++) {
		check(!spt_md3dev_open(&d[k], paths[k], SPT_MD3DEV_RW, why,
				       sizeof(why)), "open: %s", why);
		devs[k] = d[k].md;
	}
	check(!md3_assemble(&p, devs + 1, n - 1, &o) && p.mode == MD3_MODE_RW,
	      "md3_assemble: not read-write");
	check(!md3_member_add(&p, &devs[0], uuid, "m2", "dC", 0, NULL, &id),
	      "md3_member_add failed");
	check(!md3_member_remove(&p, id), "md3_member_remove failed");
	md3_pool_free(&p);
	for (k = 0; k < n; k++)
		spt_md3dev_close(&d[k]);
	free(d);
	free(devs);
}

/*
 * A redundant volume for "slicepool inspect": a writing assembly of the
 * pool images @paths, volume r2 of copies 2 with its one slice's legs on
 * the first free slices of members 0 and 1 (two domains), leg 1 marked
 * stale.
 */
static void test_md3copies(char **paths, int n)
{
	struct md3_assemble_opts o = { 0 };
	struct spt_md3dev *d = calloc(n, sizeof(*d));
	struct md3_dev *devs = calloc(n, sizeof(*devs));
	struct md3_slice l[2] = { { .member = 0 }, { .member = 1 } };
	struct md3_leg_ref ref = { .slice = 0, .leg = 1 };
	struct md3_pool p;
	char why[512];
	int k;

	for (k = 0; k < n; k++) {
		check(!spt_md3dev_open(&d[k], paths[k], SPT_MD3DEV_RW, why,
				       sizeof(why)), "open: %s", why);
		devs[k] = d[k].md;
	}
	check(!md3_assemble(&p, devs, n, &o) && p.mode == MD3_MODE_RW,
	      "md3_assemble: not read-write");
	check(!md3_alloc_free(&p.st, 0, 0, &l[0].pslice) &&
	      !md3_alloc_free(&p.st, 1, 0, &l[1].pslice), "no free slices");
	check(!md3_vol_create_copies(&p, &ref.vol, NULL, "r2",
				     p.st.pool.slice_sectors * 512, 2, l, 1),
	      "md3_vol_create_copies failed");
	check(!md3_legs_set_stale(&p, &ref, 1, true), "md3_legs_set_stale failed");
	md3_pool_free(&p);
	for (k = 0; k < n; k++)
		spt_md3dev_close(&d[k]);
	free(d);
	free(devs);
}

/* The tests "unit NAME" runs; "unit sb FILE EXPECT" is test_sb(). */
static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "crc32c", test_crc32c },
	{ "size", test_size },
	{ "number", test_number },
	{ "name", test_name },
	{ "parse", test_parse },
	{ "mpath", test_mpath },
	{ "md3dev", test_md3dev },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc == 2 && i < ARRAY_SIZE(tests); i++)
		if (!strcmp(argv[1], tests[i].name))
			break;
	if (argc == 2 && i < ARRAY_SIZE(tests)) {
		tests[i].fn();
	} else if (argc == 4 && !strcmp(argv[1], "sb")) {
		test_sb(argv[2], argv[3]);
	} else if (argc > 2 && !strcmp(argv[1], "md3asm")) {
		test_md3asm(argv + 2, argc - 2, false);
	} else if (argc > 2 && !strcmp(argv[1], "md3copies")) {
		test_md3copies(argv + 2, argc - 2);
	} else if (argc > 2 && !strcmp(argv[1], "md3force")) {
		test_md3asm(argv + 2, argc - 2, true);
	} else if (argc > 3 && !strcmp(argv[1], "md3rm")) {
		test_md3rm(argv + 2, argc - 2);
	} else {
		fprintf(stderr,
			"usage: unit crc32c|size|number|name|parse|mpath|md3dev|sb FILE EXPECT|md3asm IMAGE...|md3force IMAGE...|md3rm NEW IMAGE...\n");
		return 2;
	}
	return failures ? 1 : 0;
}
