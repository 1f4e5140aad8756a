// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - the paths of a member that is an NVMe multipath head
 *
 * With native NVMe multipath (nvme_core.multipath=Y) a namespace reached
 * through several controllers is one head disk, nvmeXnY, whose paths are
 * the hidden disks nvmeXcZnY.  sysfs shows them as:
 *
 *   block/<head>/multipath/<path>            one entry per path (newer
 *                                            kernels); in 6.1 the paths
 *                                            are block/nvmeXc*nY of head
 *                                            nvmeXnY
 *   <path>/ana_state                         optimized, non-optimized,
 *                                            inaccessible, ...
 *   <path>/device/                           the path's controller:
 *                                            state (live, connecting, ...),
 *                                            address, transport
 *   block/<head>/device/iopolicy             numa (default) or round-robin
 *
 * Which path carries the I/O is not in sysfs; it follows from the same
 * rule the kernel applies (drivers/nvme/host/multipath.c): a path is
 * usable when its controller is live and its ANA state optimized or
 * non-optimized.  With the numa policy I/O goes to one optimized path
 * (the first one, all else being equal), or to a non-optimized one when
 * no optimized path is usable; with round-robin it is spread over all
 * usable paths of the better kind.  The other usable paths are standby;
 * the rest are down.  Reading takes a sysfs root, so that the host tests
 * can give it a fake tree.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slicepool.h"

static int read_line(char *buf, size_t len, const char *fmt, ...)
	__printf(3, 4);

/* The first line of a file (spu_read_line) named by a format. */
static int read_line(char *buf, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int ret;

	buf[0] = '\0';
	va_start(ap, fmt);
	ret = spu_vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	return ret ? ret : spu_read_line(path, buf, len);
}

static int cmp_path(const void *a, const void *b)
{
	const struct spt_mpath_path *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static bool usable(const struct spt_mpath_path *p)
{
	return !strcmp(p->state, "live") &&
	       (!strcmp(p->ana_state, "optimized") ||
		!strcmp(p->ana_state, "non-optimized"));
}

/* Marks the paths in use, standby and down (see the top of the file). */
void spt_mpath_choose(struct spt_mpath *mp)
{
	const char *want = "optimized";
	bool rr = !strcmp(mp->iopolicy, "round-robin");
	bool taken = false;
	size_t i;

	for (i = 0; i < mp->nr_paths; i++)
		if (usable(&mp->paths[i]) &&
		    !strcmp(mp->paths[i].ana_state, "optimized"))
			break;
	if (i == mp->nr_paths)
		want = "non-optimized";
	mp->in_use = -1;
	for (i = 0; i < mp->nr_paths; i++) {
		struct spt_mpath_path *p = &mp->paths[i];

		if (!usable(p)) {
			p->role = SPT_PATH_DOWN;
		} else if (!strcmp(p->ana_state, want) && (rr || !taken)) {
			p->role = SPT_PATH_IN_USE;
			if (!taken)
				mp->in_use = (int)i;
			taken = true;
		} else {
			p->role = SPT_PATH_STANDBY;
		}
	}
}

const char *spt_path_role_name(int role)
{
	switch (role) {
	case SPT_PATH_IN_USE:
		return "in-use";
	case SPT_PATH_STANDBY:
		return "standby";
	default:
		return "down";
	}
}

/* "nvme1c2n1" -> "nvme2": the controller instance is after the 'c'. */
static void ctrl_name(const char *path, char *buf, size_t len)
{
	const char *c = strchr(path + 4, 'c');
	size_t n = 0;

	buf[0] = '\0';
	if (strncmp(path, "nvme", 4) || !c)
		return;
	c++;
	while (c[n] >= '0' && c[n] <= '9')
		n++;
	if (n && c[n] == 'n')
		snprintf(buf, len, "nvme%.*s", (int)n, c);
}

/* Digits at @s; their count, 0 if none. */
static size_t digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* @name is nvme<X>c<Z>n<Y> for head nvme<X>n<Y> (@x, @y: "<X>", "<Y>"). */
static bool path_of(const char *name, const char *x, size_t xl,
		    const char *y)
{
	size_t z;

	if (strncmp(name, "nvme", 4) || strncmp(name + 4, x, xl) ||
	    name[4 + xl] != 'c')
		return false;
	name += 5 + xl;
	z = digits(name);
	return z && name[z] == 'n' && !strcmp(name + z + 1, y);
}

int spt_mpath_read(const char *sysroot, const char *disk, struct spt_mpath *mp)
{
	char dir[PATH_MAX];
	const char *y = NULL;
	struct dirent *de;
	size_t xl = 0;
	DIR *d;
	int n;

	memset(mp, 0, sizeof(*mp));
	mp->in_use = -1;
	if (!disk[0] || strchr(disk, '/') || !strcmp(disk, "..") ||
	    !strcmp(disk, "."))
		return -EINVAL;
	n = snprintf(dir, sizeof(dir), "%s/block/%s/multipath", sysroot, disk);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d) {
		/* Without multipath/: the nvmeXc*nY next to nvmeXnY. */
		xl = strncmp(disk, "nvme", 4) ? 0 : digits(disk + 4);
		if (!xl || disk[4 + xl] != 'n' || !digits(disk + 5 + xl) ||
		    disk[5 + xl + digits(disk + 5 + xl)])
			return -ENOENT;
		y = disk + 5 + xl;
		snprintf(dir, sizeof(dir), "%s/block", sysroot);
		d = opendir(dir);
		if (!d)
			return -ENOENT;
	}
	snprintf(mp->head, sizeof(mp->head), "%s", disk);
	read_line(mp->iopolicy, sizeof(mp->iopolicy), "%s/block/%s/device/iopolicy",
		  sysroot, disk);
	if (!mp->iopolicy[0])
		snprintf(mp->iopolicy, sizeof(mp->iopolicy), "numa");
	while ((de = readdir(d))) {
		struct spt_mpath_path *p = NULL;

		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len >= sizeof(p->name))
			continue;
		if (y && !path_of(de->d_name, disk + 4, xl, y))
			continue;
		if (mp->nr_paths == SPT_MPATH_MAX) {
			mp->truncated = true;
			break;
		}
		p = &mp->paths[mp->nr_paths++];
		memcpy(p->name, de->d_name, len + 1);
		ctrl_name(p->name, p->controller, sizeof(p->controller));
		read_line(p->ana_state, sizeof(p->ana_state), "%s/%s/ana_state",
			  dir, p->name);
		read_line(p->state, sizeof(p->state), "%s/%s/device/state",
			  dir, p->name);
		read_line(p->address, sizeof(p->address), "%s/%s/device/address",
			  dir, p->name);
		read_line(p->transport, sizeof(p->transport),
			  "%s/%s/device/transport", dir, p->name);
		if (!p->ana_state[0])
			snprintf(p->ana_state, sizeof(p->ana_state), "unknown");
		if (!p->state[0])
			snprintf(p->state, sizeof(p->state), "unknown");
	}
	closedir(d);
	if (y && !mp->nr_paths)
		return -ENOENT;	/* a namespace without multipath */
	qsort(mp->paths, mp->nr_paths, sizeof(mp->paths[0]), cmp_path);
	spt_mpath_choose(mp);
	return 0;
}

/*
 * The paths of member device @dev (a /dev path, or a link to one):
 * 0 and @mp filled when it is an NVMe multipath head, -ENOENT when it is
 * not, another negative errno when it cannot be resolved.
 */
int spt_mpath_of_dev(const char *dev, struct spt_mpath *mp)
{
	char *real;
	int ret;

	memset(mp, 0, sizeof(*mp));
	if (!dev || !dev[0])
		return -ENOENT;
	real = realpath(dev, NULL);
	if (!real)
		return -errno;
	if (strncmp(real, "/dev/", 5) || strchr(real + 5, '/'))
		ret = -ENOENT;
	else
		ret = spt_mpath_read(spu_sysfs_root(), real + 5, mp);
	free(real);
	return ret;
}
