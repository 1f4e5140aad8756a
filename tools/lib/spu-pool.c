// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - the pool model, through the slicepool configfs tree
 * (Documentation/dm-slicepool.rst, "configfs")
 *
 *   space      slice_mb and the free_slices of the enabled, online members
 *   volumes    mkdir volumes/<v> and write size (create); write a larger
 *              size (grow: the kernel places the new slices) or the old
 *              one back (undo); write size 0 and rmdir (delete); a
 *              volume only in "discovered" (not bound after a reboot) is
 *              bound first
 *   members    mkdir members/<m>, path, domain, enable 1; enable 0, rmdir
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spu.h"

int spu_pool_space(const char *pool, struct spu_space *s, char *why,
		   size_t wlen)
{
	char path[PATH_MAX], buf[64];
	const char *r = spu_configfs_root();
	u64 mb, enable, free_slices, v;
	char **names;
	size_t n, i;
	int ret;

	memset(s, 0, sizeof(*s));
	if (spu_path(path, sizeof(path), "%s/%s/slice_mb", r, pool))
		return -ENAMETOOLONG;
	ret = spu_read_u64(path, &mb);
	if (ret)
		return spu_reason(why, wlen, ret,
				  "cannot read %s: %s (is pool %s assembled?)",
				  path, strerror(-ret), pool);
	if (!mb)
		return spu_reason(why, wlen, -EINVAL, "pool %s: slice_mb is 0",
				  pool);
	s->slice_bytes = mb << 20;
	if (spu_path(path, sizeof(path), "%s/%s/members", r, pool))
		return -ENAMETOOLONG;
	ret = spu_list(path, false, &names, &n);
	if (ret)
		return spu_reason(why, wlen, ret, "cannot list %s: %s", path,
				  strerror(-ret));
	for (i = 0; i < n; i++) {
		if (spu_path(path, sizeof(path), "%s/%s/members/%s/enable", r,
			     pool, names[i]) ||
		    spu_read_u64(path, &enable) || enable != 1)
			continue;
		if (spu_path(path, sizeof(path), "%s/%s/members/%s/state", r,
			     pool, names[i]) ||
		    spu_read_buf(path, buf, sizeof(buf)) ||
		    strcmp(buf, "online"))
			continue;
		if (spu_path(path, sizeof(path),
			     "%s/%s/members/%s/free_slices", r, pool,
			     names[i]) ||
		    spu_read_u64(path, &free_slices))
			continue;
		s->free_slices += free_slices;
		s->members++;
		if (!spu_path(path, sizeof(path),
			      "%s/%s/members/%s/total_slices", r, pool,
			      names[i]) && !spu_read_u64(path, &v))
			s->total_slices += v;
		if (!spu_path(path, sizeof(path),
			      "%s/%s/members/%s/data_offset", r, pool,
			      names[i]) && !spu_read_u64(path, &v) &&
		    v > s->md_bytes)
			s->md_bytes = v;
	}
	spu_free_list(names, n);
	return 0;
}

u64 spu_borrow_bytes(const struct spu_space *s, u64 missing)
{
	u64 sb = s->slice_bytes, md = s->md_bytes < (1ULL << 20) ?
		1ULL << 20 : s->md_bytes;

	if (!sb)
		return 0;
	return ((missing + sb - 1) / sb + (md + sb - 1) / sb) * sb;
}

bool spu_vol_bound(const char *pool, const char *vol)
{
	char path[PATH_MAX];

	return !spu_path(path, sizeof(path), "%s/%s/volumes/%s",
			 spu_configfs_root(), pool, vol) && spu_exists(path);
}

/* Calls @fn for the name on each line of <pool>/discovered. */
static int for_discovered(const char *pool,
			  bool (*fn)(const char *name, void *arg), void *arg)
{
	char path[PATH_MAX], line[256];
	size_t n;
	FILE *f;

	if (spu_path(path, sizeof(path), "%s/%s/discovered", spu_configfs_root(),
		     pool))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		n = strcspn(line, " \t\n");
		line[n] = '\0';
		if (n && fn(line, arg))
			break;
	}
	fclose(f);
	return 0;
}

static bool match_name(const char *name, void *arg)
{
	const char **want = arg;

	if (strcmp(name, want[0]))
		return false;
	want[1] = want[0];	/* found */
	return true;
}

bool spu_vol_discovered(const char *pool, const char *vol)
{
	const char *want[2] = { vol, NULL };

	for_discovered(pool, match_name, want);
	return want[1];
}

int spu_vol_set_size(const char *pool, const char *vol, u64 size, char *why,
		     size_t wlen)
{
	char path[PATH_MAX], val[32];
	int ret;

	if (spu_path(path, sizeof(path), "%s/%s/volumes/%s/size",
		     spu_configfs_root(), pool, vol))
		return -ENAMETOOLONG;
	snprintf(val, sizeof(val), "%llu", size);
	ret = spu_write_file(path, val);
	if (ret)
		return spu_reason(why, wlen, ret,
				  "pool %s refused %llu bytes for volume %s: %s",
				  pool, size, vol, strerror(-ret));
	return 0;
}

int spu_vol_make(const char *pool, const char *vol, u64 size,
		 char uuid[SPU_UUID_STR], char *why, size_t wlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int ret, r2;

	if (spu_path(dir, sizeof(dir), "%s/%s/volumes/%s", spu_configfs_root(),
		     pool, vol))
		return -ENAMETOOLONG;
	ret = spu_mkdir(dir);
	if (ret)
		return spu_reason(why, wlen, ret, "cannot create volume %s/%s: %s",
				  pool, vol, strerror(-ret));
	ret = spu_vol_set_size(pool, vol, size, why, wlen);
	if (ret)
		goto undo;
	snprintf(path, sizeof(path), "%s/uuid", dir);
	r2 = spu_read_buf(path, uuid, SPU_UUID_STR);
	if (r2 || !spu_valid_uuid(uuid)) {
		ret = r2 ? r2 : -EINVAL;
		spu_reason(why, wlen, ret, "volume %s/%s has no valid uuid", pool,
			   vol);
		snprintf(path, sizeof(path), "%s/size", dir);
		spu_write_file(path, "0");
		goto undo;
	}
	return 0;
undo:
	spu_rmdir(dir);
	return ret;
}

int spu_vol_bind(const char *pool, const char *vol, char *why, size_t wlen)
{
	char dir[PATH_MAX];
	int ret;

	if (spu_vol_bound(pool, vol))
		return 0;
	if (!spu_vol_discovered(pool, vol))
		return spu_reason(why, wlen, -ENOENT,
				  "volume %s/%s is neither bound nor discovered",
				  pool, vol);
	if (spu_path(dir, sizeof(dir), "%s/%s/volumes/%s", spu_configfs_root(),
		     pool, vol))
		return -ENAMETOOLONG;
	ret = spu_mkdir(dir);
	if (ret && ret != -EEXIST)
		return spu_reason(why, wlen, ret, "cannot bind volume %s/%s: %s",
				  pool, vol, strerror(-ret));
	return 0;
}

int spu_vol_destroy(const char *pool, const char *vol, char *why,
		    size_t wlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int ret;

	if (!spu_vol_bound(pool, vol)) {
		if (!spu_vol_discovered(pool, vol))
			return 0;
		ret = spu_vol_bind(pool, vol, why, wlen);
		if (ret)
			return ret;
	}
	if (spu_path(dir, sizeof(dir), "%s/%s/volumes/%s", spu_configfs_root(),
		     pool, vol))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/size", dir);
	ret = spu_write_file(path, "0");
	if (ret)
		return spu_reason(why, wlen, ret,
				  "cannot delete volume %s/%s (size 0): %s", pool,
				  vol, strerror(-ret));
	ret = spu_rmdir(dir);
	if (ret)
		return spu_reason(why, wlen, ret, "cannot remove %s: %s", dir,
				  strerror(-ret));
	return 0;
}

struct vol_list {
	const char *prefix;
	char **v;
	size_t n;
	int err;
};

static bool add_name(const char *name, void *arg)
{
	struct vol_list *l = arg;
	char **nv;
	size_t i;

	if (strncmp(name, l->prefix, strlen(l->prefix)) || l->err)
		return false;
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return false;
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv) {
		l->err = -ENOMEM;
		return true;
	}
	l->v = nv;
	l->v[l->n] = strdup(name);
	if (!l->v[l->n]) {
		l->err = -ENOMEM;
		return true;
	}
	l->n++;
	return false;
}

int spu_vol_list(const char *pool, const char *prefix, char ***names,
		 size_t *count)
{
	struct vol_list l = { .prefix = prefix };
	char path[PATH_MAX];
	char **bound;
	size_t nb, i;
	int ret;

	*names = NULL;
	*count = 0;
	if (spu_path(path, sizeof(path), "%s/%s/volumes", spu_configfs_root(), pool))
		return -ENAMETOOLONG;
	ret = spu_list(path, false, &bound, &nb);
	if (ret)
		return ret;
	for (i = 0; i < nb; i++)
		add_name(bound[i], &l);
	spu_free_list(bound, nb);
	ret = for_discovered(pool, add_name, &l);
	if (ret == -ENOENT)
		ret = 0;
	if (!ret)
		ret = l.err;
	if (ret) {
		spu_free_list(l.v, l.n);
		return ret;
	}
	*names = l.v;
	*count = l.n;
	return 0;
}

bool spu_member_exists(const char *pool, const char *name)
{
	char path[PATH_MAX];

	return !spu_path(path, sizeof(path), "%s/%s/members/%s",
			 spu_configfs_root(), pool, name) && spu_exists(path);
}

int spu_member_add(const char *pool, const char *name, const char *dev,
		   const char *domain, char *why, size_t wlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int ret;

	if (spu_path(dir, sizeof(dir), "%s/%s/members/%s", spu_configfs_root(),
		     pool, name))
		return -ENAMETOOLONG;
	ret = spu_mkdir(dir);
	if (ret)
		return spu_reason(why, wlen, ret,
				  "cannot create member %s of pool %s: %s", name,
				  pool, strerror(-ret));
	snprintf(path, sizeof(path), "%s/path", dir);
	ret = spu_write_file(path, dev);
	if (ret) {
		spu_reason(why, wlen, ret, "member %s: path %s refused: %s", name,
			   dev, strerror(-ret));
		goto undo;
	}
	snprintf(path, sizeof(path), "%s/domain", dir);
	ret = spu_write_file(path, domain);
	if (ret) {
		spu_reason(why, wlen, ret, "member %s: domain %s refused: %s",
			   name, domain, strerror(-ret));
		goto undo;
	}
	snprintf(path, sizeof(path), "%s/enable", dir);
	ret = spu_write_file(path, "1");
	if (ret) {
		spu_reason(why, wlen, ret,
			   "cannot enable member %s (%s) in pool %s: %s (see dmesg)",
			   name, dev, pool, strerror(-ret));
		goto undo;
	}
	return 0;
undo:
	spu_rmdir(dir);
	return ret;
}

int spu_member_remove(const char *pool, const char *name, char *why,
		      size_t wlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	u64 enable = 0;
	int ret;

	if (spu_path(dir, sizeof(dir), "%s/%s/members/%s", spu_configfs_root(),
		     pool, name))
		return -ENAMETOOLONG;
	if (!spu_exists(dir))
		return 0;
	snprintf(path, sizeof(path), "%s/enable", dir);
	if (!spu_read_u64(path, &enable) && enable) {
		/*
		 * The pool keeps a member list: 'remove' takes the member out
		 * of it, then disables it.  Disabling alone would leave it
		 * current without a device, and the pool refusing every
		 * metadata write (EROFS).
		 */
		snprintf(path, sizeof(path), "%s/remove", dir);
		ret = spu_write_file(path, "1");
		if (ret == -EBUSY)
			return spu_reason(why, wlen, ret,
					  "member %s of pool %s still holds slices of a volume: move them off (slicepool migrate) or remove the volumes first",
					  name, pool);
		if (ret)
			return spu_reason(why, wlen, ret,
					  "cannot remove member %s of pool %s: %s",
					  name, pool, strerror(-ret));
	}
	ret = spu_rmdir(dir);
	if (ret)
		return spu_reason(why, wlen, ret, "cannot remove member %s: %s",
				  name, strerror(-ret));
	return 0;
}
