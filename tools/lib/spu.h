/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libspu - the user-space library of slicepool, shared by the slicepool
 * tool (tools/slicepool) and slicepool-agent (nvmet-remote-ns/agent).
 *
 * Built as libspu.a (tools/lib/Makefile); both programs link it, and
 * neither compiles a file of the other's directory.  One copy of:
 *   spu-fs.c     configfs and sysfs files: whole-file reads and
 *                single-write stores (as configfs wants them),
 *                directories, sorted listings, roots that the host tests
 *                can redirect
 *   spu-dm.c     device-mapper through libdevmapper: create, reload and
 *                resume, remove, info, target messages and status, with
 *                libdevmapper's own messages captured for ours
 *   spu-parse.c  the size grammar (the kernel's), numbers, names as the
 *                kernel checks them, sizes for people, hex and UUIDs
 *   spu-log.c    logging: plain lines for a command, journal or stamped
 *                lines for the daemon, rate-limited refusals
 *   spu-pool.c   the pool model through configfs: free space, volumes
 *                (create, resize, bind, delete, list), members
 *   spa-*.c      the agent's files, read by the tool too (spa-state.h)
 *
 * Names start with spu_ (slicepool user space), never sp_: the kernel
 * module owns sp_; the tool's own are spt_, the agent's spa_.  Every
 * function returns 0 or a negative errno and prints nothing, but the
 * logging ones.
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
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define SPU_NAME_MAX		32	/* pool, member and volume names */
#define SPU_UUID_STR		37	/* 36 characters and a NUL */
/* The largest size the kernel takes: its sectors fit in a u64. */
#define SPU_SIZE_MAX		(~0ULL >> 9)

/* Copies a string, truncated to fit @cap (a NUL always ends it). */
static inline void spu_strcpy(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	while (src[n] && n + 1 < cap)
		n++;
	__builtin_memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- spu-fs.c: files of configfs and sysfs ---------------------------- */

/* $env if set and not empty, else @def: where a host test can redirect. */
const char *spu_root(const char *env, const char *def);
/* $SLICEPOOL_CONFIGFS, else /sys/kernel/config/slicepool. */
const char *spu_configfs_root(void);
/* $NVMET_CONFIGFS, else /sys/kernel/config/nvmet. */
const char *spu_nvmet_root(void);
/* $SLICEPOOL_SYSFS, else /sys. */
const char *spu_sysfs_root(void);

/* Formats the reason into @why (if any) and returns @ret (an -errno). */
int spu_reason(char *why, size_t wlen, int ret, const char *fmt, ...)
	__printf(4, 5);

/* printf into @buf; -ENAMETOOLONG when it does not fit. */
int spu_path(char *buf, size_t len, const char *fmt, ...) __printf(3, 4);
/*
 * Syncs the directory that holds @path, so that a file just created or
 * renamed there survives a crash: 0 or -errno.
 */
int spu_fsync_dir_of(const char *path);
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
 * The first line of the file (a sysfs attribute, /etc/nvme/hostnqn) into
 * @buf, at most @len - 1 bytes, trailing white space stripped; @buf is ""
 * when the file cannot be read (the error is returned).
 */
int spu_read_line(const char *path, char *buf, size_t len);
/*
 * A number (strtoll, base 0: decimal, 0x hex, 0 octal) and nothing else
 * but surrounding white space; -EINVAL otherwise.
 */
int spu_read_s64(const char *path, s64 *out);
/* Decimal digits and nothing else but surrounding white space. */
int spu_read_u64(const char *path, u64 *out);
/*
 * @val in one write(2), as configfs wants it; -EIO on a short write.
 * @create: make the file if it does not exist (state files, not configfs).
 */
int spu_write(const char *path, const char *val, bool create);
/* spu_write(), creating the file (what the agent's fake trees need). */
static inline int spu_write_file(const char *path, const char *val)
{
	return spu_write(path, val, true);
}

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

/* ---- spu-parse.c: sizes, numbers, names ------------------------------- */

/* Decimal digits only, at most @max; -EINVAL or -ERANGE. */
int spu_parse_uint(const char *s, unsigned long long max,
		   unsigned long long *out);
/*
 * A size in bytes, in the kernel's grammar (sp-configfs.c): decimal digits
 * and an optional K, M, G or T (binary units, either case); -EINVAL when
 * it is not one, -ERANGE above @max (SPU_SIZE_MAX: the kernel's bound).
 */
int spu_parse_size(const char *s, u64 max, u64 *out);
/* What is wrong with a size spu_parse_size() refused with @err. */
const char *spu_size_why(int err);
/*
 * @bytes for people: "256MiB", "1.5GiB" (the largest unit), or with
 * @exact the largest unit that divides it, spaced: "256 MiB", "1536 MiB".
 */
void spu_format_size(u64 bytes, bool exact, char *buf, size_t len);
/* Pool, member and volume names: 1..32 of [A-Za-z0-9_.-], not . or .. */
bool spu_valid_name(const char *s);
/* Failure domain labels: 1..32 of [A-Za-z0-9:_.-]. */
bool spu_valid_domain(const char *s);
void spu_hex(const u8 *b, size_t n, char *out);
/* Exactly 2 * @n hex digits. */
int spu_unhex(const char *s, u8 *b, size_t n);
void spu_uuid_format(const u8 uuid[16], char out[SPU_UUID_STR]);
/* The 36-character form, lower or upper case. */
int spu_uuid_parse(const char *s, u8 uuid[16]);
bool spu_valid_uuid(const char *s);

/* ---- spu-log.c: logging ----------------------------------------------- */

/* @level is syslog's (LOG_ERR, LOG_WARNING, LOG_INFO, ...). */
typedef void (*spu_log_hook_fn)(int level, const char *line);

void spu_log(int level, const char *fmt, ...) __printf(2, 3);
/* A refused message or connection; rate limited (see spu-log.c). */
void spu_refuse(const char *from, const char *fmt, ...) __printf(2, 3);
void spu_log_set_hook(spu_log_hook_fn fn);
void spu_log_set_quiet(bool quiet);
void spu_log_set_ident(const char *ident);
/* "<ident>: [warning: ]<msg>": a command's messages, not a daemon's. */
void spu_log_set_plain(bool plain);

/* ---- spu-pool.c: the pool model, through configfs --------------------- */

/*
 * These fill @why (if not NULL) with a sentence saying what failed; @pool,
 * @vol and @name are names under spu_configfs_root().
 */
struct spu_space {
	u64 slice_bytes;
	u64 free_slices;
	u64 total_slices;
	u64 md_bytes;		/* the largest data_offset of those members */
	unsigned int members;	/* enabled and online */
};

int spu_pool_space(const char *pool, struct spu_space *s, char *why,
		   size_t wlen);
/*
 * What to borrow so that @s gets @missing bytes more: whole slices, and
 * the new member's metadata (as large as the largest member's, at least
 * 1 MiB) rounded up to whole slices.  0 when @s has no slice size.
 */
u64 spu_borrow_bytes(const struct spu_space *s, u64 missing);
/* Creates a volume of @size bytes; @uuid gets its UUID. */
int spu_vol_make(const char *pool, const char *vol, u64 size,
		 char uuid[SPU_UUID_STR], char *why, size_t wlen);
/* Writes the size of a bound volume: grows or shrinks it online. */
int spu_vol_set_size(const char *pool, const char *vol, u64 size, char *why,
		     size_t wlen);
/* Binds a volume that is only in <pool>/discovered (after a reboot). */
int spu_vol_bind(const char *pool, const char *vol, char *why, size_t wlen);
/* Size 0 and rmdir, binding it first if need be; a missing one is fine. */
int spu_vol_destroy(const char *pool, const char *vol, char *why,
		    size_t wlen);
bool spu_vol_bound(const char *pool, const char *vol);
/* Names of volumes with @prefix, bound or only discovered. */
int spu_vol_list(const char *pool, const char *prefix, char ***names,
		 size_t *count);
bool spu_vol_discovered(const char *pool, const char *vol);
/* mkdir, path, domain, enable 1; undone on a refusal. */
int spu_member_add(const char *pool, const char *name, const char *path,
		   const char *domain, char *why, size_t wlen);
/*
 * enable 0 (format 3: remove 1, out of the member list) and rmdir; a
 * missing one is fine.
 */
int spu_member_remove(const char *pool, const char *name, char *why,
		      size_t wlen);
bool spu_member_exists(const char *pool, const char *name);

#endif /* SPU_H */
