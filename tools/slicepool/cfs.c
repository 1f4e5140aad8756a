// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - configfs access
 *
 * All paths are relative to the slicepool configfs root, which is
 * /sys/kernel/config/slicepool unless the environment variable
 * SLICEPOOL_CONFIGFS names another directory (used by the host tests).
 * Functions return 0 or a negative errno and print nothing, except
 * cfs_check_root().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slicepool.h"

const char *cfs_root(void)
{
	const char *r = getenv("SLICEPOOL_CONFIGFS");

	return r && *r ? r : SP_CONFIGFS_DEFAULT;
}

static int vpath(char *buf, size_t len, const char *fmt, va_list ap)
{
	char rel[PATH_MAX];
	int n;

	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	n = snprintf(buf, len, "%s/%s", cfs_root(), rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
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
		sp_err("%s is not a directory", root);
		return -ENOTDIR;
	}
	err = errno;
	if (err == ENOENT && !strcmp(root, SP_CONFIGFS_DEFAULT) &&
	    configfs_unmounted())
		sp_err("cannot open %s: configfs is not mounted (mount -t configfs none /sys/kernel/config) or the dm-slicepool module is not loaded (modprobe dm-slicepool)",
		       root);
	else if (err == ENOENT)
		sp_err("cannot open %s: is the dm-slicepool module loaded? (modprobe dm-slicepool)",
		       root);
	else
		sp_err("cannot open %s: %s%s", root, strerror(err),
		       sp_errno_hint(err));
	return -err;
}

bool cfs_exists(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	return !ret && access(path, F_OK) == 0;
}

static int read_path(const char *path, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = sp_zalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = sp_realloc_array(buf, cap + 1, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* Reads a whole attribute into a malloc'ed, NUL-terminated string. */
int cfs_read(char **out, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	return read_path(path, out);
}

/* Reads a numeric attribute. */
int cfs_read_s64(s64 *out, const char *fmt, ...)
{
	char path[PATH_MAX];
	long long v;
	char *buf, *end;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	ret = read_path(path, &buf);
	if (ret)
		return ret;
	sp_strip(buf);
	errno = 0;
	v = strtoll(buf, &end, 0);
	if (errno || end == buf || *end)
		ret = -EINVAL;
	else
		*out = v;
	free(buf);
	return ret;
}

/* Writes @val (without a newline) to an attribute in one write(). */
int cfs_write(const char *val, const char *fmt, ...)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	va_list ap;
	ssize_t n;
	int fd, ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
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

int cfs_mkdir(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	return mkdir(path, 0755) ? -errno : 0;
}

int cfs_rmdir(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	return rmdir(path) ? -errno : 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the subdirectories of a directory, sorted by name. */
int cfs_list(char ***names, size_t *count, const char *fmt, ...)
{
	char path[PATH_MAX], sub[PATH_MAX];
	char **v = NULL;
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	va_list ap;
	DIR *d;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR) {
			if (de->d_type != DT_UNKNOWN)
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path,
				     de->d_name) >= (int)sizeof(sub) ||
			    stat(sub, &st) || !S_ISDIR(st.st_mode))
				continue;
		}
		v = sp_realloc_array(v, n + 1, sizeof(*v));
		v[n++] = sp_strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*count = n;
	return 0;
}

void cfs_free_list(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
