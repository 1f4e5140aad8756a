/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the host unit tests of slicepool-agent (selftests/remote):
 * a fake slicepool configfs tree (SLICEPOOL_CONFIGFS), a fake lending
 * backend that acts on it as the kernel would (a volume takes whole
 * slices from the members' free_slices, or fails with ENOSPC; it grows and
 * shrinks with its dm device and nvmet namespace as the kernel's do), a
 * capture
 * of the agent's log lines, and a raw frame builder for malformed input.
 * Header-only: each test program is one translation unit.
 */
#ifndef SPA_REMOTE_TEST_H
#define SPA_REMOTE_TEST_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "ktap-unit.h"

#ifndef __maybe_unused
#define __maybe_unused		SPA_ATTR(unused)
#endif

#define TEST_KEY_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define TEST_KEY2_HEX \
	"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff"
#define HOSTNQN_B \
	"nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000b0"

static char test_dir[256] __maybe_unused;

/* A fresh temporary directory for the test; removed at exit. */
static inline void cleanup_dir(void)
{
	char cmd[PATH_MAX + 16];

	if (test_dir[0] && strstr(test_dir, "/spa-test.")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
		if (system(cmd))
			fprintf(stderr, "# cannot remove %s\n", test_dir);
	}
}

static inline const char *make_test_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(test_dir, sizeof(test_dir), "%s/spa-test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(test_dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(cleanup_dir);
	return test_dir;
}

static inline void put_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "%s\n", val);
	fclose(f);
}

static inline void put_u64(const char *path, u64 v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	put_file(path, buf);
}

static inline u64 get_u64(const char *path)
{
	u64 v = ~0ULL;

	spu_read_u64(path, &v);
	return v;
}

/* Removes the files named after @dir (up to a NULL) in it, then @dir. */
static inline void rm_dir(const char *dir, ...)
{
	char path[PATH_MAX + 16];
	const char *name;
	va_list ap;

	va_start(ap, dir);
	while ((name = va_arg(ap, const char *))) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		unlink(path);
	}
	va_end(ap);
	rmdir(dir);
}

static inline void mkdirs(const char *fmt, ...) __printf(1, 2);

static inline void mkdirs(const char *fmt, ...)
{
	char path[PATH_MAX], cmd[PATH_MAX + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	if (system(cmd))
		exit(1);
}

/* ------------------------------------------------------ fake configfs */

/* SLICEPOOL_CONFIGFS=<dir>/sp, NVMET_CONFIGFS=<dir>/nvmet. */
static inline void fake_roots(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sp", dir);
	mkdirs("%s", path);
	setenv("SLICEPOOL_CONFIGFS", path, 1);
	snprintf(path, sizeof(path), "%s/nvmet", dir);
	mkdirs("%s/subsystems", path);
	setenv("NVMET_CONFIGFS", path, 1);
}

/*
 * <test_dir>/<name>, emptied, with fake roots in it (fake_roots()); its
 * path in @dir.
 */
static inline void fresh_roots(char *dir, size_t len, const char *name)
{
	char cmd[PATH_MAX + 16];

	if (!test_dir[0])
		make_test_dir();
	snprintf(dir, len, "%s/%s", test_dir, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		exit(1);
	fake_roots(dir);
}

static inline void fake_member(const char *pool, const char *m, u64 free_slices,
			       const char *state, int enable)
{
	const char *r = spu_configfs_root();
	char path[PATH_MAX];

	mkdirs("%s/%s/members/%s", r, pool, m);
	snprintf(path, sizeof(path), "%s/%s/members/%s/free_slices", r, pool, m);
	put_u64(path, free_slices);
	snprintf(path, sizeof(path), "%s/%s/members/%s/state", r, pool, m);
	put_file(path, state);
	snprintf(path, sizeof(path), "%s/%s/members/%s/enable", r, pool, m);
	put_u64(path, enable);
}

static inline void fake_pool(const char *pool, u64 slice_mb)
{
	const char *r = spu_configfs_root();
	char path[PATH_MAX];

	mkdirs("%s/%s/volumes", r, pool);
	mkdirs("%s/%s/members", r, pool);
	snprintf(path, sizeof(path), "%s/%s/slice_mb", r, pool);
	put_u64(path, slice_mb);
}

static inline u64 fake_free(const char *pool, const char *m)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/members/%s/free_slices",
		 spu_configfs_root(), pool, m);
	return get_u64(path);
}

static inline void fake_set_free(const char *pool, const char *m, u64 v)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/members/%s/free_slices",
		 spu_configfs_root(), pool, m);
	put_u64(path, v);
}

/* --------------------------------------------------- fake backend */

/*
 * Acts on the fake tree as the kernel would: a volume of S bytes takes
 * ceil(S / slice) slices from the online members (first ones first) or
 * fails with ENOSPC; deleting it gives them back.  Its file dm_size is the
 * length of its dm device's table.  Exports are directories
 * nvmet/subsystems/<nqn> holding the host NQN, the device and ns_size,
 * the size nvmet last read from the device (at export or revalidate).
 *
 * Resizing as the kernel does it: a new size takes or frees slices
 * (ENOSPC), a shrink below dm_size is refused (EBUSY: load a shorter
 * table first), a table longer than the volume is refused (EINVAL).
 * Zeroing a range that the dm device shows while nvmet exports it is
 * refused (EPERM): the lender must zero before it reloads, and a grant
 * given back only once it is unexported; so is zeroing a volume that is
 * gone (ENOENT: zeroed after its delete).  vol_info reads a volume's
 * uuid and size files, refusing one without a valid uuid.  Each step can
 * be made to fail (fail_*: an errno, 0 for none).
 *
 * A volume only discovered (fake_unbind(): a reboot, then an assembly
 * that did not bind it) is kept aside, out of volumes/, and listed in
 * <pool>/discovered; vol_bind puts it back.  As the slicepool target
 * takes only a bound volume, zero, vol_info, vol_restore and an export
 * of its device refuse it (ENODEV); vol_delete binds it first, as
 * spu_vol_destroy() does.
 */
struct fake_be {
	pthread_mutex_t lock;	/* protects everything below */
	int fail_export;	/* errno to fail the next exports with */
	int fail_unexport;
	int fail_grow;		/* vol_set_size to a larger size */
	int fail_shrink;	/* vol_set_size to a smaller size */
	int fail_dm_grow;	/* dm_resize to a longer table */
	int fail_dm_shrink;	/* dm_resize to a shorter one */
	int fail_zero;
	int fail_revalidate;
	int fail_guard;
	int fail_bind;
	unsigned int set_sizes;	/* vol_set_size calls */
	unsigned int zeroes;
	unsigned int infos;	/* vol_info calls */
	unsigned int binds;	/* volumes bound by vol_bind */
	unsigned int revalidates;
	u64 zero_off, zero_len;	/* the last range zeroed */
	unsigned int delay_ms;	/* in vol_create: widens race windows */
	unsigned int creates;
	unsigned int deletes;
	unsigned int exports;
	unsigned int restores;
	char last_hostnqn[SPA_NQN_MAX + 1];
	char last_uuid[SPU_UUID_STR];
	struct spa_export last;	/* the last export asked for */
	unsigned int guards;	/* guard calls */
	struct spa_guard guard;	/* the guard as last set */
};

/* Whether the fake kernel allocates from member @m. */
static inline bool fake_usable(const char *pool, const char *m)
{
	char path[PATH_MAX], state[32];

	snprintf(path, sizeof(path), "%s/%s/members/%s/enable", spu_configfs_root(),
		 pool, m);
	if (get_u64(path) != 1)
		return false;
	snprintf(path, sizeof(path), "%s/%s/members/%s/state", spu_configfs_root(),
		 pool, m);
	return !spu_read_buf(path, state, sizeof(state)) &&
	       !strcmp(state, "online");
}

static inline int fake_take(const char *pool, u64 slices, bool give)
{
	char path[PATH_MAX];
	char **m;
	size_t n, i, k;
	u64 have = 0, f;

	snprintf(path, sizeof(path), "%s/%s/members", spu_configfs_root(), pool);
	if (spu_list(path, false, &m, &n))
		return -ENOENT;
	for (i = 0, k = 0; i < n; i++) {
		if (fake_usable(pool, m[i]))
			m[k++] = m[i];
		else
			free(m[i]);
	}
	n = k;
	if (give) {
		if (n)
			fake_set_free(pool, m[0], fake_free(pool, m[0]) + slices);
		spu_free_list(m, n);
		return 0;
	}
	for (i = 0; i < n; i++)
		have += fake_free(pool, m[i]);
	if (have < slices) {
		spu_free_list(m, n);
		return -ENOSPC;
	}
	for (i = 0; i < n && slices; i++) {
		f = fake_free(pool, m[i]);
		if (f > slices) {
			fake_set_free(pool, m[i], f - slices);
			slices = 0;
		} else {
			fake_set_free(pool, m[i], 0);
			slices -= f;
		}
	}
	spu_free_list(m, n);
	return 0;
}

static inline u64 fake_slices(const char *pool, u64 size)
{
	char path[PATH_MAX];
	u64 mb, sb;

	snprintf(path, sizeof(path), "%s/%s/slice_mb", spu_configfs_root(), pool);
	mb = get_u64(path);
	sb = mb << 20;
	return (size + sb - 1) / sb;
}

/* A file of volume @vol of @pool ("size", "dm_size"); ~0 if missing. */
static inline u64 fake_vol_u64(const char *pool, const char *vol,
			       const char *file)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/volumes/%s/%s", spu_configfs_root(),
		 pool, vol, file);
	return get_u64(path);
}

static inline void fake_vol_put(const char *pool, const char *vol,
				const char *file, u64 v)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/volumes/%s/%s", spu_configfs_root(),
		 pool, vol, file);
	put_u64(path, v);
}

/* The dm_size of device /dev/mapper/<pool>-<vol> (pools without '-'). */
static inline u64 fake_dev_size(const char *dev)
{
	char name[PATH_MAX], *vol;

	snprintf(name, sizeof(name), "%s", dev + strlen("/dev/mapper/"));
	vol = strchr(name, '-');
	if (strncmp(dev, "/dev/mapper/", 12) || !vol)
		return ~0ULL;
	*vol++ = '\0';
	return fake_vol_u64(name, vol, "dm_size");
}

/* nvmet's size of the namespace of subsystem @subnqn; ~0 if none. */
static inline u64 fake_ns_size(const char *subnqn)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/subsystems/%s/ns_size",
		 spu_nvmet_root(), subnqn);
	return get_u64(path);
}

/* Where the fake keeps volume @vol of @pool while it is only discovered. */
static inline void fake_aside_dir(char *dir, size_t len, const char *pool,
				  const char *vol)
{
	snprintf(dir, len, "%s/%s/unbound/%s", spu_configfs_root(), pool, vol);
}

/* Whether volume @vol of @pool is only discovered, not bound. */
static inline bool fake_vol_discovered(const char *pool, const char *vol)
{
	char dir[PATH_MAX];

	fake_aside_dir(dir, sizeof(dir), pool, vol);
	return spu_exists(dir);
}

/* <pool>/discovered: the names of the volumes only discovered. */
static inline void fake_discovered_sync(const char *pool)
{
	char path[PATH_MAX];
	char **names = NULL;
	size_t n = 0, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/unbound", spu_configfs_root(),
		 pool);
	if (spu_exists(path) && spu_list(path, true, &names, &n))
		exit(1);
	snprintf(path, sizeof(path), "%s/%s/discovered", spu_configfs_root(),
		 pool);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n", names[i]);
	fclose(f);
	spu_free_list(names, n);
}

/* Moves a volume's files from @from to @to and syncs <pool>/discovered. */
static inline int fake_move(const char *pool, const char *from,
			    const char *to)
{
	int ret = rename(from, to) ? -errno : 0;

	fake_discovered_sync(pool);
	return ret;
}

/* Volume @vol of @pool only discovered: as after a reboot and an assembly. */
static inline void fake_unbind(const char *pool, const char *vol)
{
	char from[PATH_MAX], to[PATH_MAX];

	mkdirs("%s/%s/unbound", spu_configfs_root(), pool);
	snprintf(from, sizeof(from), "%s/%s/volumes/%s", spu_configfs_root(),
		 pool, vol);
	fake_aside_dir(to, sizeof(to), pool, vol);
	if (fake_move(pool, from, to)) {
		perror(from);
		exit(1);
	}
}

/* Binds @vol if it is only discovered; the caller holds the fake's lock. */
static inline int fake_bind(struct fake_be *fb, const char *pool,
			    const char *vol, char *why, size_t wlen)
{
	char from[PATH_MAX], to[PATH_MAX];
	int ret;

	if (spu_vol_bound(pool, vol))
		return 0;
	if (fb->fail_bind) {
		snprintf(why, wlen, "cannot bind volume %s/%s: %s", pool, vol,
			 strerror(fb->fail_bind));
		return -fb->fail_bind;
	}
	if (!fake_vol_discovered(pool, vol)) {
		snprintf(why, wlen, "volume %s/%s is neither bound nor discovered",
			 pool, vol);
		return -ENOENT;
	}
	fake_aside_dir(from, sizeof(from), pool, vol);
	snprintf(to, sizeof(to), "%s/%s/volumes/%s", spu_configfs_root(), pool,
		 vol);
	ret = fake_move(pool, from, to);
	if (ret) {
		snprintf(why, wlen, "cannot bind volume %s/%s: %s", pool, vol,
			 strerror(-ret));
		return ret;
	}
	fb->binds++;
	return 0;
}

/* Refuses volume @vol if it is only discovered: -ENODEV and why. */
static inline int fake_unbound(const char *pool, const char *vol, char *why,
			       size_t wlen)
{
	if (!fake_vol_discovered(pool, vol))
		return 0;
	snprintf(why, wlen, "volume %s/%s is not bound: the slicepool target refuses it",
		 pool, vol);
	return -ENODEV;
}

/* Whether device /dev/mapper/<pool>-<vol> is of a volume only discovered. */
static inline bool fake_dev_unbound(const char *dev)
{
	char name[PATH_MAX], *vol;

	if (strncmp(dev, "/dev/mapper/", 12))
		return false;
	snprintf(name, sizeof(name), "%s", dev + 12);
	vol = strchr(name, '-');
	if (!vol)
		return false;
	*vol++ = '\0';
	return fake_vol_discovered(name, vol);
}

static inline int fb_vol_create(void *ctx, const char *pool, const char *vol,
				u64 size, char uuid[SPU_UUID_STR], char *why,
				size_t wlen)
{
	struct fake_be *fb = ctx;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	u8 u[16];
	int ret;

	if (fb->delay_ms)
		usleep(fb->delay_ms * 1000);
	pthread_mutex_lock(&fb->lock);
	snprintf(dir, sizeof(dir), "%s/%s/volumes/%s", spu_configfs_root(), pool,
		 vol);
	ret = fake_take(pool, fake_slices(pool, size), false);
	if (ret) {
		snprintf(why, wlen, "pool %s refused a volume of %llu bytes: %s",
			 pool, size, strerror(-ret));
		pthread_mutex_unlock(&fb->lock);
		return ret;
	}
	mkdirs("%s", dir);
	snprintf(path, sizeof(path), "%s/size", dir);
	put_u64(path, size);
	snprintf(path, sizeof(path), "%s/dm_size", dir);
	put_u64(path, size);
	spa_random(u, sizeof(u));
	spu_uuid_format(u, uuid);
	snprintf(path, sizeof(path), "%s/uuid", dir);
	put_file(path, uuid);
	fb->creates++;
	pthread_mutex_unlock(&fb->lock);
	return 0;
}

static inline int fb_vol_restore(void *ctx, const char *pool, const char *vol,
				 u64 size, char *why, size_t wlen)
{
	struct fake_be *fb = ctx;
	int ret;

	(void)size;
	pthread_mutex_lock(&fb->lock);
	fb->restores++;
	ret = fake_unbound(pool, vol, why, wlen);
	if (!ret && !spu_vol_bound(pool, vol)) {
		snprintf(why, wlen, "volume %s/%s is neither bound nor discovered",
			 pool, vol);
		ret = -ENOENT;
	}
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static inline int fb_vol_bind(void *ctx, const char *pool, const char *vol,
			      char *why, size_t wlen)
{
	struct fake_be *fb = ctx;
	int ret;

	pthread_mutex_lock(&fb->lock);
	ret = fake_bind(fb, pool, vol, why, wlen);
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static inline int fb_vol_delete(void *ctx, const char *pool, const char *vol,
				char *why, size_t wlen)
{
	struct fake_be *fb = ctx;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	u64 size;
	int ret;

	pthread_mutex_lock(&fb->lock);
	ret = fake_vol_discovered(pool, vol) ?
	      fake_bind(fb, pool, vol, why, wlen) : 0;
	if (ret) {
		pthread_mutex_unlock(&fb->lock);
		return ret;
	}
	snprintf(dir, sizeof(dir), "%s/%s/volumes/%s", spu_configfs_root(), pool,
		 vol);
	if (spu_exists(dir)) {
		snprintf(path, sizeof(path), "%s/size", dir);
		size = get_u64(path);
		fake_take(pool, fake_slices(pool, size), true);
		rm_dir(dir, "size", "uuid", "dm_size", NULL);
		fb->deletes++;
	}
	pthread_mutex_unlock(&fb->lock);
	return 0;
}

static inline int fb_vol_set_size(void *ctx, const char *pool,
				  const char *vol, u64 size, char *why,
				  size_t wlen)
{
	struct fake_be *fb = ctx;
	u64 old, s_old, s_new;
	int ret = 0;

	pthread_mutex_lock(&fb->lock);
	fb->set_sizes++;
	old = fake_vol_u64(pool, vol, "size");
	if (old == ~0ULL) {
		ret = -ENOENT;
	} else if (size > old && fb->fail_grow) {
		ret = -fb->fail_grow;
	} else if (size < old && fb->fail_shrink) {
		ret = -fb->fail_shrink;
	} else if (size < fake_vol_u64(pool, vol, "dm_size")) {
		ret = -EBUSY;	/* a live table is longer */
	} else {
		s_old = fake_slices(pool, old);
		s_new = fake_slices(pool, size);
		if (s_new > s_old)
			ret = fake_take(pool, s_new - s_old, false);
		else if (s_new < s_old)
			fake_take(pool, s_old - s_new, true);
	}
	if (!ret)
		fake_vol_put(pool, vol, "size", size);
	else
		snprintf(why, wlen, "pool %s refused %llu bytes for volume %s: %s",
			 pool, size, vol, strerror(-ret));
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static inline int fb_dm_resize(void *ctx, const char *pool, const char *vol,
			       u64 size, char *why, size_t wlen)
{
	struct fake_be *fb = ctx;
	u64 cur;
	int ret = 0;

	pthread_mutex_lock(&fb->lock);
	cur = fake_vol_u64(pool, vol, "dm_size");
	if (cur == ~0ULL)
		ret = -ENXIO;
	else if (size > cur && fb->fail_dm_grow)
		ret = -fb->fail_dm_grow;
	else if (size < cur && fb->fail_dm_shrink)
		ret = -fb->fail_dm_shrink;
	else if (size > fake_vol_u64(pool, vol, "size"))
		ret = -EINVAL;	/* beyond the volume */
	if (!ret)
		fake_vol_put(pool, vol, "dm_size", size);
	else
		snprintf(why, wlen, "cannot reload dm device %s-%s: %s", pool,
			 vol, strerror(-ret));
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

/* Whether a fake nvmet subsystem exports the dm device of @pool/@vol. */
static inline bool fake_vol_exported(const char *pool, const char *vol)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], dev[PATH_MAX], want[PATH_MAX];
	char **names = NULL;
	size_t n = 0, i;
	bool found = false;

	snprintf(dir, sizeof(dir), "%s/subsystems", spu_nvmet_root());
	if (spu_list(dir, true, &names, &n))
		return false;
	snprintf(want, sizeof(want), "/dev/mapper/%s-%s", pool, vol);
	for (i = 0; i < n && !found; i++) {
		snprintf(path, sizeof(path), "%s/%s/device", dir, names[i]);
		found = !spu_read_line(path, dev, sizeof(dev)) &&
			!strcmp(dev, want);
	}
	spu_free_list(names, n);
	return found;
}

static inline int fb_zero(void *ctx, const char *pool, const char *vol,
			  const char *uuid, u64 off, u64 len, char *why,
			  size_t wlen)
{
	struct fake_be *fb = ctx;
	int ret = 0;

	(void)uuid;
	pthread_mutex_lock(&fb->lock);
	if (fb->fail_zero)
		ret = -fb->fail_zero;
	else if (fake_vol_discovered(pool, vol))
		ret = -ENODEV;	/* not bound: no aside device */
	else if (fake_vol_u64(pool, vol, "size") == ~0ULL)
		ret = -ENOENT;	/* deleted: zeroed too late */
	else if (off + len > fake_vol_u64(pool, vol, "size"))
		ret = -EINVAL;	/* past the volume's end */
	else if (off < fake_vol_u64(pool, vol, "dm_size") &&
		 fake_vol_exported(pool, vol))
		ret = -EPERM;	/* a host sees it already: zeroed too late */
	if (!ret) {
		fb->zeroes++;
		fb->zero_off = off;
		fb->zero_len = len;
	} else {
		snprintf(why, wlen, "cannot zero %s-%s: %s", pool, vol,
			 strerror(-ret));
	}
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static inline int fb_revalidate(void *ctx, const char *subnqn, u32 nsid,
				char *why, size_t wlen)
{
	struct fake_be *fb = ctx;
	char dir[PATH_MAX], path[PATH_MAX + 16], dev[PATH_MAX];
	int ret = 0;

	(void)nsid;
	pthread_mutex_lock(&fb->lock);
	snprintf(dir, sizeof(dir), "%s/subsystems/%s", spu_nvmet_root(),
		 subnqn);
	snprintf(path, sizeof(path), "%s/device", dir);
	if (fb->fail_revalidate)
		ret = -fb->fail_revalidate;
	else if (spu_read_buf(path, dev, sizeof(dev)))
		ret = -ENOENT;
	if (!ret) {
		fb->revalidates++;
		snprintf(path, sizeof(path), "%s/ns_size", dir);
		put_u64(path, fake_dev_size(dev));
	} else {
		snprintf(why, wlen, "nvmet refused to revalidate %s: %s",
			 subnqn, strerror(-ret));
	}
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static inline int fb_vol_list(void *ctx, const char *pool, const char *prefix,
			      char ***names, size_t *count)
{
	(void)ctx;
	return spu_vol_list(pool, prefix, names, count);
}

/* As the kernel's configfs item says: its uuid and size, or a refusal. */
static inline int fb_vol_info(void *ctx, const char *pool, const char *vol,
			      char uuid[SPU_UUID_STR], u64 *size, char *why,
			      size_t wlen)
{
	struct fake_be *fb = ctx;
	char path[PATH_MAX];
	int ret = 0;

	pthread_mutex_lock(&fb->lock);
	fb->infos++;
	*size = fake_vol_u64(pool, vol, "size");
	snprintf(path, sizeof(path), "%s/%s/volumes/%s/uuid",
		 spu_configfs_root(), pool, vol);
	ret = fake_unbound(pool, vol, why, wlen);
	if (!ret && *size == ~0ULL) {
		ret = -ENOENT;
		snprintf(why, wlen, "volume %s/%s is neither bound nor discovered",
			 pool, vol);
	} else if (!ret && (spu_read_buf(path, uuid, SPU_UUID_STR) ||
		   !spu_valid_uuid(uuid))) {
		ret = -EINVAL;
		snprintf(why, wlen, "volume %s/%s has no uuid", pool, vol);
	}
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static inline int fb_export(void *ctx, const struct spa_export *e, char *why,
			    size_t wlen)
{
	struct fake_be *fb = ctx;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int ret = 0;

	pthread_mutex_lock(&fb->lock);
	if (fb->fail_export) {
		ret = -fb->fail_export;
		snprintf(why, wlen, "injected export failure: %s",
			 strerror(fb->fail_export));
		goto out;
	}
	if (fake_dev_unbound(e->device)) {
		ret = -ENODEV;	/* no dm device over an unbound volume */
		snprintf(why, wlen, "no device %s: its volume is not bound",
			 e->device);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/subsystems/%s", spu_nvmet_root(),
		 e->subnqn);
	mkdirs("%s", dir);
	snprintf(path, sizeof(path), "%s/hostnqn", dir);
	put_file(path, e->hostnqn);
	snprintf(path, sizeof(path), "%s/device", dir);
	put_file(path, e->device);
	snprintf(path, sizeof(path), "%s/ns_size", dir);
	put_u64(path, fake_dev_size(e->device));
	snprintf(fb->last_hostnqn, sizeof(fb->last_hostnqn), "%s", e->hostnqn);
	snprintf(fb->last_uuid, sizeof(fb->last_uuid), "%s", e->uuid);
	fb->last = *e;
	fb->exports++;
out:
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static inline int fb_unexport(void *ctx, const char *subnqn, u16 port_id, char *why,
			      size_t wlen)
{
	struct fake_be *fb = ctx;
	char dir[PATH_MAX];

	(void)port_id;
	if (fb->fail_unexport) {
		snprintf(why, wlen, "injected unexport failure");
		return -fb->fail_unexport;
	}
	snprintf(dir, sizeof(dir), "%s/subsystems/%s", spu_nvmet_root(),
		 subnqn);
	rm_dir(dir, "hostnqn", "device", "ns_size", NULL);
	return 0;
}

static inline bool fb_exported(void *ctx, const char *subnqn, u16 port_id)
{
	char dir[PATH_MAX];

	(void)ctx;
	(void)port_id;
	snprintf(dir, sizeof(dir), "%s/subsystems/%s", spu_nvmet_root(),
		 subnqn);
	return spu_exists(dir);
}

static inline int fb_export_list(void *ctx, const char *prefix, char ***names,
				 size_t *count)
{
	(void)ctx;
	return spa_nvmet_list(prefix, names, count);
}

/* The guard as asked for (a failure leaves the last one in place). */
static inline int fb_guard(void *ctx, const struct spa_config *c,
			   const struct spa_guard *g, char *why, size_t wlen)
{
	struct fake_be *fb = ctx;
	int ret = 0;

	(void)c;
	pthread_mutex_lock(&fb->lock);
	if (fb->fail_guard) {
		ret = -fb->fail_guard;
		snprintf(why, wlen, "injected guard failure: %s",
			 strerror(fb->fail_guard));
	} else {
		fb->guard = *g;
		fb->guards++;
	}
	pthread_mutex_unlock(&fb->lock);
	return ret;
}

static struct fake_be fake_ctx __maybe_unused = {
	.lock = PTHREAD_MUTEX_INITIALIZER
};

static const struct spa_backend fake_backend __maybe_unused = {
	.vol_create = fb_vol_create,
	.vol_restore = fb_vol_restore,
	.vol_bind = fb_vol_bind,
	.vol_delete = fb_vol_delete,
	.vol_list = fb_vol_list,
	.vol_info = fb_vol_info,
	.export = fb_export,
	.unexport = fb_unexport,
	.exported = fb_exported,
	.export_list = fb_export_list,
	.vol_set_size = fb_vol_set_size,
	.dm_resize = fb_dm_resize,
	.zero = fb_zero,
	.revalidate = fb_revalidate,
	.guard = fb_guard,
	.ctx = &fake_ctx,
};

/* ------------------------------------------------------ configs */

static inline void test_config(struct spa_config *c, const char *node,
			       const char *state_dir, u16 port)
{
	spa_config_defaults(c);
	snprintf(c->path, sizeof(c->path), "test.conf");
	snprintf(c->node, sizeof(c->node), "%s", node);
	snprintf(c->listen_addr, sizeof(c->listen_addr), "127.0.0.1");
	snprintf(c->advertise, sizeof(c->advertise), "127.0.0.1");
	snprintf(c->export_addr, sizeof(c->export_addr), "127.0.0.1");
	c->listen_port = port;
	c->nvmet_port_id = c->export_port;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", state_dir);
	snprintf(c->hostnqn, sizeof(c->hostnqn), HOSTNQN_B);
	c->lend = 0;
}

/* Lender "a" of pool pa; peer "b" at 127.0.0.1:@peer_port unless 0. */
static inline void test_lender(struct spa_config *c, const char *state_dir,
			       u16 port, u16 peer_port)
{
	test_config(c, "a", state_dir, port);
	c->lend = 1;
	snprintf(c->pool, sizeof(c->pool), "pa");
	if (!peer_port)
		return;
	c->nr_peers = 1;
	snprintf(c->peers[0].name, sizeof(c->peers[0].name), "b");
	snprintf(c->peers[0].addr, sizeof(c->peers[0].addr), "127.0.0.1");
	c->peers[0].port = peer_port;
}

/*
 * A fresh fake tree for @name with pool pa of @slice_mib MiB slices (its
 * members are the caller's) and lender a of it (test_lender, listening on
 * 7450, peer b on @peer_port) with its state in <test_dir>/@name/state;
 * the fake backend's injected failures and counters back to 0.
 */
static inline void fresh_lender(struct spa_config *c, const char *name,
				u64 slice_mib, u16 peer_port)
{
	char dir[PATH_MAX];

	fresh_roots(dir, sizeof(dir), name);
	fake_pool("pa", slice_mib);
	snprintf(dir, sizeof(dir), "%s/%s/state", test_dir, name);
	mkdirs("%s", dir);
	test_lender(c, dir, 7450, peer_port);
	memset(&fake_ctx.fail_export, 0,
	       sizeof(fake_ctx) - offsetof(struct fake_be, fail_export));
}

/*
 * A lender and an agent on @c (reconciled first when @reconcile), and a
 * listening socket on 127.0.0.1 (port in @port): its fd.  Exits when one
 * cannot be set up.
 */
static inline int test_serve_setup(struct spa_lender *l, struct spa_agent *a,
				   const struct spa_config *c,
				   struct spa_keys *k,
				   const struct spa_backend *be,
				   bool reconcile, u16 *port)
{
	char why[512] = "";
	int lfd;

	if (spa_lender_init(l, c, be, why, sizeof(why)) ||
	    (reconcile && spa_lender_reconcile(l) < 0) ||
	    spa_agent_init(a, c, k, l)) {
		fprintf(stderr, "cannot set up: %s\n", why);
		exit(1);
	}
	lfd = spa_listen("127.0.0.1", 0, port, why, sizeof(why));
	if (lfd < 0) {
		fprintf(stderr, "cannot listen: %s\n", why);
		exit(1);
	}
	return lfd;
}

/*
 * Undoes test_serve_setup: stops the server thread @server (it ends on
 * SIGUSR1, read from @sigfd), closes @lfd and @sigfd, frees @a and @l.
 */
static inline void test_serve_teardown(pthread_t server, int lfd, int sigfd,
				       struct spa_agent *a,
				       struct spa_lender *l)
{
	kill(getpid(), SIGUSR1);
	pthread_join(server, NULL);
	close(lfd);
	close(sigfd);
	spa_agent_free(a);
	spa_lender_free(l);
}

static inline void test_key(struct spa_key *k, const char *hex)
{
	if (spa_key_parse(hex, k, NULL, 0)) {
		fprintf(stderr, "bad test key\n");
		exit(1);
	}
}

/*
 * The keys of the test nodes, all @k: one process plays every node, so
 * its client and server sides share one key ring.
 */
static inline void test_keys(struct spa_keys *ks, const struct spa_key *k)
{
	static const char *const names[] = {
		"a", "b", "c", "x", "y", "node-b.1",
	};
	unsigned int i;

	spa_keys_init(ks);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (spa_keys_set(ks, names[i], k, NULL)) {
			fprintf(stderr, "cannot set the test keys\n");
			exit(1);
		}
}

/* The test key ring: test_keys() of the test key (ktap_run_keyed). */
static struct spa_keys keys __maybe_unused;

/*
 * Runs @cases (KTAP) with the test key in @k and the key ring @keys: the
 * exit status.
 */
static inline int ktap_run_keyed(struct spa_key *k,
				 const struct ktap_case *cases,
				 unsigned int nr)
{
	test_key(k, TEST_KEY_HEX);
	test_keys(&keys, k);
	return ktap_run(cases, nr);
}

/*
 * A REQUEST from @c for @size bytes, to be exported to HOSTNQN_B, with a
 * fresh request id, in @req.
 */
static inline void test_request_msg(const struct spa_config *c,
				    struct spa_msg *req, u64 size)
{
	spa_msg_init(req, c, SPA_REQUEST);
	req->fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		       SPA_F(SPA_T_REQ_ID);
	snprintf(req->hostnqn, sizeof(req->hostnqn), HOSTNQN_B);
	req->size = size;
	spa_random(req->req_id, SPA_ID_LEN);
	req->req_id[0] |= 1;
}

/* ------------------------------------------------------ log capture */

static pthread_mutex_t cap_lock __maybe_unused = PTHREAD_MUTEX_INITIALIZER;
static char cap_buf[1048576] __maybe_unused;	/* under cap_lock */
static size_t cap_len __maybe_unused;

static inline void cap_hook(int level, const char *line)
{
	size_t n = strlen(line);

	(void)level;
	pthread_mutex_lock(&cap_lock);
	if (cap_len + n + 2 < sizeof(cap_buf)) {
		memcpy(cap_buf + cap_len, line, n);
		cap_len += n;
		cap_buf[cap_len++] = '\n';
		cap_buf[cap_len] = '\0';
	}
	pthread_mutex_unlock(&cap_lock);
}

static inline void cap_start(void)
{
	pthread_mutex_lock(&cap_lock);
	cap_len = 0;
	cap_buf[0] = '\0';
	pthread_mutex_unlock(&cap_lock);
	spu_log_set_quiet(true);
	spu_log_set_hook(cap_hook);
}

/* True if a captured line contains @s (and @t, if given). */
static inline bool cap_has(const char *s, const char *t)
{
	const char *p, *eol;
	bool found = false;

	pthread_mutex_lock(&cap_lock);
	for (p = cap_buf; *p && !found; p = eol + 1) {
		eol = strchr(p, '\n');
		if (!eol)
			break;
		if (memmem(p, eol - p, s, strlen(s)) &&
		    (!t || memmem(p, eol - p, t, strlen(t))))
			found = true;
	}
	pthread_mutex_unlock(&cap_lock);
	return found;
}

/* True if a captured line is exactly @fmt, formatted. */
static inline bool cap_line(const char *fmt, ...) __printf(1, 2);

static inline bool cap_line(const char *fmt, ...)
{
	const char *p, *eol;
	bool found = false;
	char want[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	n = strlen(want);
	pthread_mutex_lock(&cap_lock);
	for (p = cap_buf; *p && !found; p = eol + 1) {
		eol = strchr(p, '\n');
		if (!eol)
			break;
		found = (size_t)(eol - p) == n && !memcmp(p, want, n);
	}
	pthread_mutex_unlock(&cap_lock);
	return found;
}

static inline void cap_dump(void)
{
	const char *p, *eol;

	pthread_mutex_lock(&cap_lock);
	for (p = cap_buf; *p; p = eol + 1) {
		eol = strchr(p, '\n');
		if (!eol)
			break;
		printf("#   log: %.*s\n", (int)(eol - p), p);
	}
	pthread_mutex_unlock(&cap_lock);
}

/* fresh_lender() of 16 MiB slices with members m1 and m2, 32 free each. */
static inline void fresh_pa2(struct spa_config *c, const char *name)
{
	fresh_lender(c, name, 16, 9);
	fake_member("pa", "m1", 32, "online", 1);
	fake_member("pa", "m2", 32, "online", 1);
	cap_start();
}

/* The free slices of fresh_pa2()'s pool. */
static inline u64 pa2_free(void)
{
	return fake_free("pa", "m1") + fake_free("pa", "m2");
}

/* The volume of grant @id of lender @c. */
static inline const char *grant_vol(const struct spa_config *c, u64 id)
{
	static char vol[SPU_NAME_MAX + 1];

	spa_grant_names(c, id, vol, sizeof(vol), NULL, 0);
	return vol;
}

/* A REQUEST of @size from node b to lender @l on @c: the grant id, or 0. */
static inline u64 grant_to_b(struct spa_lender *l, const struct spa_config *c,
			     u64 size, struct spa_msg *rep)
{
	struct spa_msg req;

	spa_msg_init(&req, c, SPA_REQUEST);
	snprintf(req.node, sizeof(req.node), "b");
	req.fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		      SPA_F(SPA_T_REQ_ID);
	snprintf(req.hostnqn, sizeof(req.hostnqn), HOSTNQN_B);
	req.size = size;
	spa_random(req.req_id, SPA_ID_LEN);
	req.req_id[0] |= 1;
	spa_lender_request(l, &req, "test", rep);
	return rep->type == SPA_GRANT ? rep->grant_id : 0;
}

/* ------------------------------------------------------ served agent */
/*
 * Lender a and its agent served over TCP on 127.0.0.1 by the real server,
 * in a thread of its own (test_server_start() to test_server_stop()).
 */
struct test_server {
	struct spa_lender lender;
	struct spa_agent agent;
	pthread_t thread;	/* runs spa_serve() */
	int lfd;		/* the listening socket */
	int sigfd;		/* SIGUSR1: the server's cue to end */
	u16 port;		/* lfd's */
};

static inline void *test_server_main(void *arg)
{
	struct test_server *s = arg;

	spa_serve(&s->agent, s->lfd, s->sigfd);
	return NULL;
}

/*
 * The fake tree of the served tests, <test_dir>/fs, with pool pa of 64 MiB
 * slices (its members are the caller's), and lender a of it in @ca (its
 * state in <test_dir>/sa): peer b at port 9 and, if @peer_c, c at port 10.
 */
static inline void test_server_config(struct spa_config *ca, bool peer_c)
{
	char dir[300];

	make_test_dir();
	snprintf(dir, sizeof(dir), "%s/fs", test_dir);
	fake_roots(dir);
	fake_pool("pa", 64);
	snprintf(dir, sizeof(dir), "%s/sa", test_dir);
	mkdirs("%s", dir);
	test_lender(ca, dir, 0, 9);
	if (!peer_c)
		return;
	ca->nr_peers = 2;
	snprintf(ca->peers[1].name, sizeof(ca->peers[1].name), "c");
	snprintf(ca->peers[1].addr, sizeof(ca->peers[1].addr), "127.0.0.1");
	ca->peers[1].port = 10;
}

/* Client @node's config (its state in <test_dir>/sb), listening on @port. */
static inline void test_client(struct spa_config *c, const char *node,
			       u16 port)
{
	char dir[300];

	snprintf(dir, sizeof(dir), "%s/sb", test_dir);
	test_config(c, node, dir, port);
}

/*
 * Serves @ca (reconciled first) with key ring @k on the fake backend, the
 * agent's log captured from here on; @ca's listen_port set to the port
 * the server got.  Exits when it cannot be set up.
 */
static inline void test_server_start(struct test_server *s,
				     struct spa_config *ca, struct spa_keys *k)
{
	sigset_t set;

	cap_start();
	s->lfd = test_serve_setup(&s->lender, &s->agent, ca, k, &fake_backend,
				  true, &s->port);
	ca->listen_port = s->port;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	pthread_create(&s->thread, NULL, test_server_main, s);
}

static inline void test_server_stop(struct test_server *s)
{
	test_serve_teardown(s->thread, s->lfd, s->sigfd, &s->agent,
			    &s->lender);
}

/*
 * Runs @cases (KTAP) against @s, then stops it and removes the test
 * directory; the captured log printed if a case failed.  The exit status.
 */
static inline int test_server_run(struct test_server *s,
				  const struct ktap_case *cases,
				  unsigned int nr)
{
	int ret = ktap_run(cases, nr);

	test_server_stop(s);
	if (ret)
		cap_dump();
	cleanup_dir();
	return ret;
}

/* ------------------------------------------------------ raw frames */

struct raw {
	u8 b[70000];
	size_t len;
};

static inline void raw_put(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static inline void raw_be(struct raw *r, u64 v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		r->b[r->len++] = (u8)(v >> (8 * (bytes - 1 - i)));
}

/* A header of @type with the time now and a random nonce. */
static inline void raw_header(struct raw *r, u8 type, u64 ts)
{
	u8 nonce[SPA_NONCE_LEN];

	r->len = 0;
	raw_put(r, SPA_MAGIC, 4);
	raw_be(r, SPA_PROTO_VERSION, 1);
	raw_be(r, type, 1);
	raw_be(r, 0, 2);
	raw_be(r, 0, 4);	/* length, set by raw_finish() */
	raw_be(r, ts, 8);
	spa_random(nonce, sizeof(nonce));
	raw_put(r, nonce, sizeof(nonce));
}

static inline void raw_field(struct raw *r, unsigned int tag, const void *v,
			     size_t n)
{
	raw_be(r, tag, 2);
	raw_be(r, n, 2);
	raw_put(r, v, n);
}

static inline void raw_str(struct raw *r, unsigned int tag, const char *s)
{
	raw_field(r, tag, s, strlen(s));
}

static inline void raw_int(struct raw *r, unsigned int tag, u64 v,
			   unsigned int bytes)
{
	raw_be(r, tag, 2);
	raw_be(r, bytes, 2);
	raw_be(r, v, bytes);
}

/* Appends room for the MAC, sets the length; seals if @key. */
static inline void raw_finish(struct raw *r, const struct spa_key *key)
{
	size_t n = r->len + SPA_MAC_LEN;

	memset(r->b + r->len, 0, SPA_MAC_LEN);
	r->len = n;
	r->b[8] = (u8)(n >> 24);
	r->b[9] = (u8)(n >> 16);
	r->b[10] = (u8)(n >> 8);
	r->b[11] = (u8)n;
	if (key)
		spa_seal(key, r->b, r->len);
}

#endif
