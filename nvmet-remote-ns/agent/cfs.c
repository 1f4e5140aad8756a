// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - configfs and sysfs files
 *
 * The roots are /sys/kernel/config/slicepool, /sys/kernel/config/nvmet
 * and /sys, unless SLICEPOOL_CONFIGFS, NVMET_CONFIGFS or SPA_SYSFS name
 * other directories (the host tests use fake trees).  Every function
 * returns 0 or a negative errno; a refused configfs write returns the
 * errno the kernel gave.  The file operations are libspu's
 * (tools/lib/spu-fs.c), shared with the slicepool tool.
 */
#include <errno.h>

#include "agent.h"
#include "spu.h"

const char *spa_sp_root(void)
{
	return spu_root("SLICEPOOL_CONFIGFS", "/sys/kernel/config/slicepool");
}

const char *spa_nvmet_root(void)
{
	return spu_root("NVMET_CONFIGFS", "/sys/kernel/config/nvmet");
}

const char *spa_sysfs_root(void)
{
	return spu_root("SPA_SYSFS", "/sys");
}

/* Reads a small file; strips trailing white space. */
int spa_read_file(const char *path, char *buf, size_t len)
{
	return spu_read_buf(path, buf, len);
}

int spa_read_u64(const char *path, u64 *out)
{
	unsigned long long v;
	char buf[32];
	int ret;

	ret = spa_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (spa_parse_uint(buf, ~0ULL, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

/* One write(2) of the whole value, as configfs wants it. */
int spa_write_file(const char *path, const char *val)
{
	return spu_write(path, val, true);
}

int spa_mkdir(const char *path)
{
	return spu_mkdir(path);
}

int spa_rmdir(const char *path)
{
	return spu_rmdir(path);
}

bool spa_exists(const char *path)
{
	return spu_exists(path);
}

/* The entries of a directory but "." and "..", sorted. */
int spa_list_dir(const char *path, char ***names, size_t *count)
{
	return spu_list(path, false, names, count);
}

void spa_free_list(char **names, size_t count)
{
	spu_free_list(names, count);
}
