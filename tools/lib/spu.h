/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libspu - the user-space library of slicepool, shared by the slicepool
 * tool (tools/slicepool) and slicepool-agent (nvmet-remote-ns/agent).
 *
 * One copy of what both talk to the kernel through:
 *   spu-fs.c  configfs and sysfs files: whole-file reads and single-write
 *             stores (as configfs wants them), directories, sorted
 *             listings, roots that the host tests can redirect
 *   spu-dm.c  device-mapper through libdevmapper: create, reload and
 *             resume, remove, info, target messages and status, with
 *             libdevmapper's own messages captured for ours
 *
 * Names start with spu_ (slicepool user space), never sp_ or spa_: the
 * kernel module owns sp_, and each program keeps its own names for its
 * own logic.  Every function returns 0 or a negative errno and prints
 * nothing.
 */
#ifndef SPU_H
#define SPU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The kernel's integer names, with the kernel's definitions (u64 is
 * unsigned long long on every architecture, as in asm-generic/int-ll64.h),
 * for the tool, the agent and this library alike: their one copy.
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;

#define SPU_ATTR(x)		__attribute__((x))
#ifndef __printf
#define __printf(a, b)		SPU_ATTR(format(printf, a, b))
#endif

/* ---- spu-fs.c: files of configfs and sysfs ---------------------------- */

/* $env if set and not empty, else @def: where a host test can redirect. */
const char *spu_root(const char *env, const char *def);

/* printf into @buf; -ENAMETOOLONG when it does not fit. */
int spu_path(char *buf, size_t len, const char *fmt, ...) __printf(3, 4);
int spu_vpath(char *buf, size_t len, const char *fmt, va_list ap)
	__printf(3, 0);

/* The whole file, in a malloc'ed NUL-terminated string (kept as read). */
int spu_read_alloc(const char *path, char **out);
/*
 * At most @len - 1 bytes of the file into @buf, trailing white space
 * stripped (a configfs attribute's value without its newline).
 */
int spu_read_buf(const char *path, char *buf, size_t len);
/*
 * A number (strtoll, base 0: decimal, 0x hex, 0 octal) and nothing else
 * but surrounding white space; -EINVAL otherwise.
 */
int spu_read_s64(const char *path, s64 *out);
/*
 * @val in one write(2), as configfs wants it; -EIO on a short write.
 * @create: make the file if it does not exist (state files, not configfs).
 */
int spu_write(const char *path, const char *val, bool create);
int spu_mkdir(const char *path);
int spu_rmdir(const char *path);
/* Whether the path names anything, a dangling symbolic link included. */
bool spu_exists(const char *path);
/*
 * The entries of a directory but "." and ".." (@dirs_only: only its
 * subdirectories, and no name starting with '.'), sorted by name.
 * Free with spu_free_list().
 */
int spu_list(const char *path, bool dirs_only, char ***names, size_t *count);
void spu_free_list(char **names, size_t count);

/* ---- spu-dm.c: device-mapper ------------------------------------------ */

struct spu_dm_info {
	bool exists;
	bool suspended;
	bool live_table;
	int open_count;
	u32 major, minor;
	u64 length;	/* sectors of the live table's first target */
	char target[32];	/* its type */
	char params[512];	/* its table parameters */
	char status[1024];	/* its status parameters */
};

/* Capture libdevmapper's messages (once, before any other call). */
void spu_dm_init(void);
/* The last error libdevmapper reported in this thread, or a generic one. */
const char *spu_dm_last_error(void);
/*
 * Create @name with the one-target table "0 @sectors @target @params",
 * and the dm UUID @uuid unless it is NULL or empty; waits for its node.
 */
int spu_dm_create(const char *name, const char *uuid, u64 sectors,
		  const char *target, const char *params);
/*
 * Load "0 @sectors @target @params" and resume: an online resize.  If the
 * resume fails, the inactive table is cleared so that it pins nothing;
 * the resume's error is the one reported.
 */
int spu_dm_reload_resume(const char *name, u64 sectors,
			 const char *target, const char *params);
/* Remove @name (retrying while udev holds it open); waits for its node. */
int spu_dm_remove(const char *name);
/* 1 when @name exists, 0 when not, -EIO when device-mapper cannot say. */
int spu_dm_exists(const char *name);
/* @info of @name (info->exists says whether it exists), or -EIO. */
int spu_dm_info(const char *name, struct spu_dm_info *info);
/*
 * The target message @msg to sector 0 of @name ("dmsetup message @name 0
 * @msg"); @resp, if not NULL, gets the reply.  Returns 0 or the negative
 * errno that the target refused the message with.
 */
int spu_dm_message(const char *name, const char *msg, char *resp,
		   size_t len);
/*
 * The status parameters of @name's first target, in a malloc'ed string,
 * if that target is of type @target; -ENODEV when the device does not
 * exist or has no live table of that type; -EIO.
 */
int spu_dm_status(const char *name, const char *target, char **out);

#endif /* SPU_H */
