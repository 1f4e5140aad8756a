// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - block access for the metadata v3 library (md3.c) in user
 * space: an md3_dev_ops over the file descriptor of a block device or an
 * image file.
 *
 * read and write are one pread/pwrite of a 4 KiB block at byte offset
 * block * 4096, O_DIRECT when the file allows it (so that a block device
 * is read past the page cache, as the kernel writes it); flush is
 * fdatasync(), which on a block device also flushes the device's write
 * cache.  A short read or write (past the end of the device) is -EIO, as
 * is an I/O error; nothing is retried but EINTR.
 *
 * Used by every v3 command of the tool (assemble, inspect, upgrade), as
 * is spt_md_probe(), which tells what a device holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "md3dev.h"
#include "sp-format.h"

/* Test knob: see spt_md3dev_stop_after() */
static u64 stop_after, writes_done;

void spt_md3dev_stop_after(u64 n)
{
	stop_after = n;
	writes_done = 0;
}

/* Reopens @d without O_DIRECT (a file system that refuses it). */
static int md3dev_reopen(struct spt_md3dev *d)
{
	int fd = open(d->path, d->oflags & ~O_DIRECT);

	if (fd < 0)
		return -errno;
	close(d->fd);
	d->fd = fd;
	d->oflags &= ~O_DIRECT;
	d->direct = false;
	return 0;
}

static int md3dev_io(struct spt_md3dev *d, bool wr, u64 off, void *buf,
		     size_t len)
{
	size_t done = 0;
	ssize_t n;
	int r;

	if (off % MD3_BLOCK_SIZE || len % MD3_BLOCK_SIZE)
		return -EINVAL;
	if (wr && d->readonly)
		return -EROFS;
	while (done < len) {
		if (wr)
			n = pwrite(d->fd, (u8 *)buf + done, len - done,
				   (off_t)(off + done));
		else
			n = pread(d->fd, (u8 *)buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && d->direct) {
			r = md3dev_reopen(d);
			if (r)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* past the end: a short transfer */
		done += (size_t)n;
	}
	return 0;
}

int spt_md3dev_pread(struct spt_md3dev *d, u64 off, void *buf, size_t len)
{
	size_t i;
	int r;

	if (len % MD3_BLOCK_SIZE)
		return -EINVAL;
	/* through the aligned bounce buffer: @buf may be any memory */
	for (i = 0; i < len; i += MD3_BLOCK_SIZE) {
		r = md3dev_io(d, false, off + i, d->bounce, MD3_BLOCK_SIZE);
		if (r)
			return r;
		memcpy((u8 *)buf + i, d->bounce, MD3_BLOCK_SIZE);
	}
	return 0;
}

int spt_md3dev_pwrite(struct spt_md3dev *d, u64 off, const void *buf,
		      size_t len)
{
	size_t i;
	int r;

	if (len % MD3_BLOCK_SIZE)
		return -EINVAL;
	/* block by block, so that the test knob counts every block */
	for (i = 0; i < len; i += MD3_BLOCK_SIZE) {
		memcpy(d->bounce, (const u8 *)buf + i, MD3_BLOCK_SIZE);
		r = md3dev_io(d, true, off + i, d->bounce, MD3_BLOCK_SIZE);
		if (r)
			return r;
		if (stop_after && ++writes_done == stop_after)
			_exit(SPT_MD3DEV_STOPPED);
	}
	return 0;
}

int spt_md3dev_flush(struct spt_md3dev *d)
{
	if (d->readonly)
		return -EROFS;
	while (fdatasync(d->fd)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int md3dev_read(void *ctx, u64 block, void *buf)
{
	return spt_md3dev_pread(ctx, block * MD3_BLOCK_SIZE, buf,
				MD3_BLOCK_SIZE);
}

static int md3dev_write(void *ctx, u64 block, const void *buf)
{
	return spt_md3dev_pwrite(ctx, block * MD3_BLOCK_SIZE, buf,
				 MD3_BLOCK_SIZE);
}

static int md3dev_flush(void *ctx)
{
	return spt_md3dev_flush(ctx);
}

static const struct md3_dev_ops md3dev_ops = {
	.read = md3dev_read,
	.write = md3dev_write,
	.flush = md3dev_flush,
};

/*
 * Opens @path for md3: read only, or read-write (SPT_MD3DEV_RW); with
 * SPT_MD3DEV_EXCL a block device is opened O_EXCL (refused with -EBUSY
 * while the kernel holds it: a mounted file system, a dm table, a bound
 * pool member) and an image file is locked with flock().  @why says what
 * failed.
 */
int spt_md3dev_open(struct spt_md3dev *d, const char *path, unsigned int flags,
		    char *why, size_t whylen)
{
	static const char busy[] =
		" (in use: mounted, in a dm table or a bound pool member; stop that first)";
	struct stat st;
	u64 bytes;
	int r;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->readonly = !(flags & SPT_MD3DEV_RW);
	if (stat(path, &st)) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
		return r;
	}
	d->blockdev = S_ISBLK(st.st_mode);
	if (!d->blockdev && !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a block device or a file", path);
		return -EINVAL;
	}
	d->oflags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT;
	if (d->blockdev && (flags & SPT_MD3DEV_EXCL))
		d->oflags |= O_EXCL;
	d->direct = true;
	d->fd = open(path, d->oflags);
	if (d->fd < 0 && errno == EINVAL) {
		d->oflags &= ~O_DIRECT;
		d->direct = false;
		d->fd = open(path, d->oflags);
	}
	if (d->fd < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s%s", path, strerror(-r),
			 r == -EBUSY ? busy : "");
		return r;
	}
	if (!d->blockdev && (flags & SPT_MD3DEV_EXCL) &&
	    flock(d->fd, LOCK_EX | LOCK_NB)) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(why, whylen,
			 "%s: %s (another process holds the image; wait for it to end)",
			 path, strerror(-r));
		spt_md3dev_close(d);
		return r;
	}
	if (d->blockdev) {
		if (ioctl(d->fd, BLKGETSIZE64, &bytes)) {
			r = -errno;
			snprintf(why, whylen, "%s: cannot read its size: %s",
				 path, strerror(-r));
			spt_md3dev_close(d);
			return r;
		}
	} else {
		bytes = (u64)st.st_size;
	}
	if (posix_memalign(&d->bounce, MD3_BLOCK_SIZE, MD3_BLOCK_SIZE)) {
		spt_md3dev_close(d);
		snprintf(why, whylen, "%s: out of memory", path);
		return -ENOMEM;
	}
	d->md.ops = &md3dev_ops;
	d->md.ctx = d;
	d->md.name = d->path;
	d->md.dev_sectors = bytes >> 9;
	return 0;
}

void spt_md3dev_close(struct spt_md3dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	free(d->bounce);
	d->bounce = NULL;
}

/* See md3dev.h. */
void spt_md_probe(struct spt_md_probe *x, const char *path)
{
	u32 magic;
	struct md3_chain c;
	u8 *blk;
	int r;

	memset(x, 0, sizeof(*x));
	x->d.fd = -1;
	snprintf(x->path, sizeof(x->path), "%s", path);
	x->kind = SPT_MD_ERROR;
	r = spt_md3dev_open(&x->d, path, 0, x->why, sizeof(x->why));
	if (r) {
		x->err = r;
		return;
	}
	blk = spt_zalloc(MD3_BLOCK_SIZE);
	r = spt_md3dev_pread(&x->d, 0, blk, MD3_BLOCK_SIZE);
	magic = le32toh(((struct sp_block_header *)blk)->magic);
	if (r) {
		snprintf(x->why, sizeof(x->why), "cannot read block 0: %s",
			 strerror(-r));
		x->err = r;
	} else if (magic == SP_SB_MAGIC) {
		r = spt_md_read_dev(path, &x->m, x->why, sizeof(x->why));
		x->kind = r ? SPT_MD_ERROR : SPT_MD_FMT2;
		x->err = r;
		if (r && r != -EINVAL)
			snprintf(x->why, sizeof(x->why), "cannot read: %s",
				 strerror(-r));
	} else if (magic == SPT_UPGRADE_MARK_MAGIC) {
		snprintf(x->why, sizeof(x->why),
			 "an upgrade of its pool to format 3 was interrupted: finish it with 'slicepool upgrade --resume --backup FILE' and every member");
		x->err = -EINVAL;
	} else if (md3_read_member(&x->d.md, &c)) {
		snprintf(x->why, sizeof(x->why), "cannot read its v3 labels");
		x->err = -EIO;
	} else {
		if (c.kind == MD3_CHAIN_BLANK) {
			x->kind = SPT_MD_NONE;
			snprintf(x->why, sizeof(x->why),
				 "no slicepool metadata (neither format 2 nor 3)");
		} else {
			x->kind = SPT_MD_V3;
			memcpy(x->pool_uuid, c.pool_uuid, MD3_UUID_LEN);
			memcpy(x->member_uuid, c.member_uuid, MD3_UUID_LEN);
			if (c.kind == MD3_CHAIN_OK && c.nlinks)
				x->head_seq = c.links[c.nlinks - 1].seq;
		}
		md3_chain_free(&c);
	}
	free(blk);
	if (x->kind != SPT_MD_V3)
		spt_md3dev_close(&x->d);
}

void spt_md_probe_close(struct spt_md_probe *x)
{
	spt_disk_member_free(&x->m);
	spt_md3dev_close(&x->d);
}
