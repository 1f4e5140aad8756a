// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the borrower's check of a granted namespace before it
 * becomes a member (spa_member_check), on image files: blank (the first
 * metadata area all zero) or this pool's own member (a re-import) pass;
 * another pool's metadata, another member's or domain's, a damaged or
 * unknown superblock, stray bytes in the metadata area are refused.  The
 * format-2 members are crafted by tools/slicepool/tests/mkimage (pool
 * UUID 11..11, member m0 in domain dA).
 */
#include <fcntl.h>

#include "remote-test.h"

#define MIB		1048576ULL
#define OUR_POOL	"11111111-1111-1111-1111-111111111111"
#define OTHER_POOL	"22222222-2222-2222-2222-222222222222"

static char mkimage[PATH_MAX];

static void img_path(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s.img", test_dir, name);
}

/* A sparse, all-zero image of @bytes; then @n bytes 0x5a at @off. */
static void blank_img(const char *name, u64 bytes, u64 off, size_t n)
{
	char path[PATH_MAX];
	u8 junk[16];
	int fd;

	img_path(name, path, sizeof(path));
	memset(junk, 0x5a, sizeof(junk));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, bytes) ||
	    (n && pwrite(fd, junk, n, off) != (ssize_t)n)) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
	close(fd);
}

static void made_img(const char *kind)
{
	char path[PATH_MAX], cmd[3 * PATH_MAX];

	img_path(kind, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "'%s' %s '%s'", mkimage, kind, path);
	if (system(cmd)) {
		fprintf(stderr, "mkimage %s failed\n", kind);
		exit(1);
	}
}

static int check(const char *name, const char *pool, const char *member,
		 const char *domain, char *why, size_t wlen)
{
	char path[PATH_MAX];
	int ret;

	img_path(name, path, sizeof(path));
	why[0] = '\0';
	ret = spa_member_check(path, pool, member, domain, why, wlen);
	if (ret < 0)
		printf("#   %s: refused: %s\n", name, why);
	return ret;
}

static void setup(void)
{
	static const char *const kinds[] = {
		"m0", "badmagic", "badcrc", "badversion", "blocknr",
	};
	const char *top = getenv("SP_TOP");
	char cmd[2 * PATH_MAX];
	size_t i;

	make_test_dir();
	snprintf(mkimage, sizeof(mkimage), "%s/tools/slicepool/tests/mkimage",
		 top ? top : ".");
	if (access(mkimage, X_OK)) {
		snprintf(cmd, sizeof(cmd), "make -s -C '%s/tools/slicepool' tests/mkimage",
			 top ? top : ".");
		if (system(cmd) || access(mkimage, X_OK)) {
			fprintf(stderr, "# cannot build %s\n", mkimage);
			exit(1);
		}
	}
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		made_img(kinds[i]);
	blank_img("blank", 16 * MIB, 0, 0);
	blank_img("stray", 16 * MIB, 600 * 1024, 1);
	blank_img("data", 16 * MIB, 2 * MIB, 16);
	blank_img("garbage", 16 * MIB, 100, 16);
	blank_img("short", 1024, 0, 0);
}

static void t_blank(void)
{
	char why[512];

	CHECK(check("blank", OUR_POOL, "rm-1", "remote:a", why, sizeof(why)) ==
	      SPA_MEMBER_BLANK, "a blank namespace: %s", why);
	CHECK(check("data", OUR_POOL, "rm-1", "remote:a", why, sizeof(why)) ==
	      SPA_MEMBER_BLANK, "bytes past the first MiB (the data area): %s",
	      why);
}

static void t_stray(void)
{
	char why[512];

	CHECK(check("stray", OUR_POOL, "rm-1", "remote:a", why, sizeof(why)) ==
	      -EILSEQ && strstr(why, "byte 614400 is not"),
	      "a byte in the metadata area past block 0: %s", why);
	CHECK(check("garbage", OUR_POOL, "rm-1", "remote:a", why, sizeof(why)) ==
	      -EILSEQ && strstr(why, "neither blank nor a slicepool superblock"),
	      "garbage in block 0: %s", why);
}

static void t_ours(void)
{
	char why[512];

	CHECK(check("m0", OUR_POOL, "m0", "dA", why, sizeof(why)) ==
	      SPA_MEMBER_OURS, "this pool's member m0 in dA (re-import): %s",
	      why);
	CHECK(check("m0", "11111111-1111-1111-1111-111111111111", "m0", "dA", why,
		    sizeof(why)) == SPA_MEMBER_OURS, "again");
}

static void t_foreign(void)
{
	char why[512];

	CHECK(check("m0", OTHER_POOL, "m0", "dA", why, sizeof(why)) ==
	      -EILSEQ && strstr(why, "another pool (uuid " OUR_POOL),
	      "another pool's metadata: %s", why);
	CHECK(check("m0", OUR_POOL, "rm-1", "dA", why, sizeof(why)) == -EILSEQ &&
	      strstr(why, "member 'm0', not of rm-1"),
	      "this pool's metadata of another member: %s", why);
	CHECK(check("m0", OUR_POOL, "m0", "remote:a", why, sizeof(why)) ==
	      -EILSEQ && strstr(why, "domain 'dA', not remote:a"),
	      "the member in another domain: %s", why);
	CHECK(check("m0", OUR_POOL, "m", "dA", why, sizeof(why)) == -EILSEQ,
	      "a member name that is a prefix");
}

static void t_damaged(void)
{
	char why[512];

	CHECK(check("badcrc", OUR_POOL, "m0", "dA", why, sizeof(why)) ==
	      -EILSEQ && strstr(why, "checksum mismatch"), "a bad checksum: %s", why);
	CHECK(check("badmagic", OUR_POOL, "m0", "dA", why, sizeof(why)) ==
	      -EILSEQ && strstr(why, "neither blank"), "a bad magic: %s", why);
	CHECK(check("badversion", OUR_POOL, "m0", "dA", why, sizeof(why)) ==
	      -EILSEQ && strstr(why, "version 3"), "another version: %s", why);
	CHECK(check("blocknr", OUR_POOL, "m0", "dA", why, sizeof(why)) ==
	      -EILSEQ, "a superblock that says it is block 5: %s", why);
	CHECK(check("short", OUR_POOL, "m0", "dA", why, sizeof(why)) < 0 &&
	      strstr(why, "shorter than a block"), "a 1 KiB device: %s", why);
	CHECK(check("none", OUR_POOL, "m0", "dA", why, sizeof(why)) == -ENOENT,
	      "no device: %s", why);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "a blank namespace passes", t_blank },
		{ "stray bytes in the first metadata area are refused", t_stray },
		{ "this pool's own member passes (re-import)", t_ours },
		{ "another pool's, member's or domain's metadata is refused",
		  t_foreign },
		{ "a damaged or unknown superblock is refused", t_damaged },
	};

	setup();
	return ktap_run(cases, ARRAY_SIZE(cases));
}
