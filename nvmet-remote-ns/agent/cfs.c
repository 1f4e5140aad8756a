// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - configfs and sysfs files
 *
 * The roots are /sys/kernel/config/slicepool, /sys/kernel/config/nvmet
 * and /sys, unless SLICEPOOL_CONFIGFS, NVMET_CONFIGFS or SPA_SYSFS name
 * other directories (the host tests use fake trees).  Every function
 * returns 0 or a negative errno; a refused configfs write returns the
 * errno the kernel gave.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

static const char *root(const char *env, const char *def)
{
	const char *r = getenv(env);

	return r && *r ? r : def;
}

const char *spa_sp_root(void)
{
	return root("SLICEPOOL_CONFIGFS", "/sys/kernel/config/slicepool");
}

const char *spa_nvmet_root(void)
{
	return root("NVMET_CONFIGFS", "/sys/kernel/config/nvmet");
}

const char *spa_sysfs_root(void)
{
	return root("SPA_SYSFS", "/sys");
}

int spa_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Reads a small file; strips trailing white space. */
int spa_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	size_t have = 0;
	int fd, ret = 0;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (have < len - 1) {
		n = read(fd, buf + have, len - 1 - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!n)
			break;
		have += n;
	}
	close(fd);
	if (ret)
		return ret;
	buf[have] = '\0';
	while (have && (buf[have - 1] == '\n' || buf[have - 1] == ' ' ||
			buf[have - 1] == '\t'))
		buf[--have] = '\0';
	return 0;
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
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_CREAT, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int spa_mkdir(const char *path)
{
	return mkdir(path, 0755) ? -errno : 0;
}

int spa_rmdir(const char *path)
{
	return rmdir(path) ? -errno : 0;
}

bool spa_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory but "." and "..", sorted. */
int spa_list_dir(const char *path, char ***names, size_t *count)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t n = 0;
	DIR *d;

	*names = NULL;
	*count = 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			goto nomem;
		v = nv;
		v[n] = strdup(de->d_name);
		if (!v[n])
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*count = n;
	return 0;
nomem:
	closedir(d);
	spa_free_list(v, n);
	return -ENOMEM;
}

void spa_free_list(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
