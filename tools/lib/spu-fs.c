// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - configfs and sysfs files (see spu.h)
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spu.h"

const char *spu_root(const char *env, const char *def)
{
	const char *r = getenv(env);

	return r && *r ? r : def;
}

const char *spu_configfs_root(void)
{
	return spu_root("SLICEPOOL_CONFIGFS", "/sys/kernel/config/slicepool");
}

const char *spu_nvmet_root(void)
{
	return spu_root("NVMET_CONFIGFS", "/sys/kernel/config/nvmet");
}

const char *spu_sysfs_root(void)
{
	return spu_root("SLICEPOOL_SYSFS", "/sys");
}

int spu_reason(char *why, size_t wlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (why && wlen) {
		va_start(ap, fmt);
		vsnprintf(why, wlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int spu_vpath(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len, fmt, ap);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int spu_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = spu_vpath(buf, len, fmt, ap);
	va_end(ap);
	return ret;
}

/*
 * Read @fd to its end into @buf, growing it when @grow (then *@buf is
 * malloc'ed and *@cap its size), else at most *@cap - 1 bytes.
 */
static int read_fd(int fd, char **buf, size_t *cap, size_t *len, bool grow)
{
	ssize_t n;
	char *nb;

	*len = 0;
	for (;;) {
		if (*len + 1 >= *cap) {
			if (!grow)
				break;
			nb = realloc(*buf, *cap * 2);
			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap *= 2;
		}
		n = read(fd, *buf + *len, *cap - 1 - *len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			break;
		*len += (size_t)n;
	}
	(*buf)[*len] = '\0';
	return 0;
}

int spu_read_alloc(const char *path, char **out)
{
	size_t cap = 4096, len;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	ret = buf ? read_fd(fd, &buf, &cap, &len, true) : -ENOMEM;
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	return 0;
}

static void strip_trailing(char *s, size_t len)
{
	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
}

int spu_read_buf(const char *path, char *buf, size_t len)
{
	size_t have;
	int fd, ret;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd(fd, &buf, &len, &have, false);
	close(fd);
	if (!ret)
		strip_trailing(buf, have);
	return ret;
}

int spu_read_line(const char *path, char *buf, size_t len)
{
	int ret = spu_read_buf(path, buf, len);

	if (ret) {
		if (len)
			buf[0] = '\0';
		return ret;
	}
	buf[strcspn(buf, "\n")] = '\0';
	strip_trailing(buf, strlen(buf));
	return 0;
}

int spu_read_s64(const char *path, s64 *out)
{
	char *buf, *p, *end;
	long long v;
	int ret;

	ret = spu_read_alloc(path, &buf);
	if (ret)
		return ret;
	strip_trailing(buf, strlen(buf));
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	errno = 0;
	v = strtoll(p, &end, 0);
	if (errno || end == p || *end)
		ret = -EINVAL;
	else
		*out = v;
	free(buf);
	return ret;
}

int spu_read_u64(const char *path, u64 *out)
{
	unsigned long long v;
	char buf[32];
	int ret;

	ret = spu_read_buf(path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (spu_parse_uint(buf, ~0ULL, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

int spu_write(const char *path, const char *val, bool create)
{
	size_t len = strlen(val);
	int fd, ret = 0;
	ssize_t n;

	fd = create ? open(path, O_WRONLY | O_CLOEXEC | O_CREAT, 0644) :
		      open(path, O_WRONLY | O_CLOEXEC);
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

int spu_mkdir(const char *path)
{
	return mkdir(path, 0755) ? -errno : 0;
}

int spu_rmdir(const char *path)
{
	return rmdir(path) ? -errno : 0;
}

bool spu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool is_dir(const char *dir, const struct dirent *de)
{
	char sub[4096];
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return spu_path(sub, sizeof(sub), "%s/%s", dir, de->d_name) == 0 &&
	       stat(sub, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int spu_list(const char *path, bool dirs_only, char ***names, size_t *count)
{
	char **v = NULL, **nv;
	struct dirent *de;
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
		if (dirs_only && (de->d_name[0] == '.' || !is_dir(path, de)))
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
	spu_free_list(v, n);
	return -ENOMEM;
}

void spu_free_list(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int spu_fsync_dir_of(const char *path)
{
	char tmp[PATH_MAX];
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}
