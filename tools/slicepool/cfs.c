// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - configfs access
 *
 * All paths are relative to the slicepool configfs root, which is
 * /sys/kernel/config/slicepool unless the environment variable
 * SLICEPOOL_CONFIGFS names another directory (used by the host tests).
 * The file operations are libspu's (tools/lib/spu-fs.c, shared with the agent);
 * this file adds the tool's root and printf-style paths.  Functions
 * return 0 or a negative errno and print nothing, except cfs_check_root().
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slicepool.h"

const char *cfs_root(void)
{
	return spu_configfs_root();
}

static int vpath(char *buf, size_t len, const char *fmt, va_list ap)
{
	char rel[PATH_MAX];
	int ret;

	ret = spu_vpath(rel, sizeof(rel), fmt, ap);
	return ret ? ret : spu_path(buf, len, "%s/%s", cfs_root(), rel);
}

/* True when configfs is not mounted at /sys/kernel/config (empty dir). */
static bool configfs_unmounted(void)
{
	struct dirent *de;
	bool empty = true;
	DIR *d;

	d = opendir("/sys/kernel/config");
	if (!d)
		return true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

int cfs_check_root(void)
{
	const char *root = cfs_root();
	struct stat st;
	int err;

	if (stat(root, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		spt_err("%s is not a directory", root);
		return -ENOTDIR;
	}
	err = errno;
	if (err == ENOENT && !strcmp(root, SPT_CONFIGFS_DEFAULT) &&
	    configfs_unmounted())
		spt_err("cannot open %s: configfs is not mounted (mount -t configfs none /sys/kernel/config) or the dm-slicepool module is not loaded (modprobe dm-slicepool)",
			root);
	else if (err == ENOENT)
		spt_err("cannot open %s: is the dm-slicepool module loaded? (modprobe dm-slicepool)",
			root);
	else
		spt_err("cannot open %s: %s%s", root, strerror(err),
			spt_errno_hint(err));
	return -err;
}

/* One operation on the configfs path made from @fmt and its arguments. */
int cfs_op(enum cfs_op op, void *out, size_t *count, const char *val,
	   const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	switch (op) {
	case CFS_EXISTS:
		return spu_exists(path) ? 0 : -ENOENT;
	case CFS_READ:
		return spu_read_alloc(path, out);
	case CFS_READ_S64:
		return spu_read_s64(path, out);
	case CFS_WRITE:
		return spu_write(path, val, false);
	case CFS_MKDIR:
		return spu_mkdir(path);
	case CFS_RMDIR:
		return spu_rmdir(path);
	case CFS_LIST:
		return spu_list(path, true, out, count);
	}
	return -EINVAL;
}

void cfs_free_list(char **names, size_t count)
{
	spu_free_list(names, count);
}
