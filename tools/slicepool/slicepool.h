/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slicepool - command line tool for dm-slicepool
 *
 * Shared declarations of the tool's modules: argument helpers (main.c,
 * util.c), configfs access (cfs.c), device-mapper access (dm.c), output
 * (out.c), pool model (model.c), superblock parsing (sb.c) and
 * the commands (cmd_*.c, assemble.c).  cmd_remote.c also uses the agent's
 * state-file readers (libspu's spa-state.h).
 *
 * The tool's names start with spt_ (SPT_ for macros): sp_ and SP_ are the
 * kernel module's, and the tool uses the module's own only where they are
 * the same thing, from its headers (sp-format.h, fence.h).  libspu's are
 * spu_ (spu.h).
 */
#ifndef SLICEPOOL_H
#define SLICEPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <getopt.h>
#include <syslog.h>
#include <linux/types.h>

#include "fence.h"
#include "spu.h"
#include "spu-fmt2.h"

/* The kernel's names for the <stdint.h> types (uint64_t is u64 here). */

/* Exit codes, documented in Documentation/slicepool-tool.rst. */
#define SPT_EXIT_OK		0
#define SPT_EXIT_FAIL		1
#define SPT_EXIT_USAGE		2
#define SPT_EXIT_DEGRADED	3

#define SPT_NAME_MAX		SPU_NAME_MAX	/* pool, member and volume names */
/* Members per pool, the module's SP_MAX_MEMBERS: the most min_domains. */
#define SPT_MAX_MEMBERS		4096
#define SPT_CONFIGFS_DEFAULT	"/sys/kernel/config/slicepool"
#define SPT_TARGET_NAME		"slicepool"
#define SPT_DM_UUID_PREFIX	"SLICEPOOL-"

#ifndef __noreturn
#define __noreturn		SPU_ATTR(noreturn)
#endif

/* ---- main.c: command table and option parsing ---- */

struct spt_cmd;
typedef int (*spt_cmd_fn)(const struct spt_cmd *cmd, int argc, char **argv);

struct spt_cmd {
	/* "pool", "member", "vol", "image", "remote", "peer", "export" or NULL */
	const char *group;
	const char *verb;	/* "create", ..., or "status"/"assemble" */
	spt_cmd_fn fn;
	const char *usage;	/* arguments after the command words */
	const char *summary;	/* one line */
	const char *help;	/* option descriptions, may be NULL */
};

extern bool spt_json;		/* --json given */

/* Prints "slicepool: <msg>" and a pointer to --help, then exits 2. */
void spt_usage_fail(const struct spt_cmd *cmd, const char *fmt, ...)
	__noreturn __printf(2, 3);
/*
 * getopt_long() wrapper: handles --help (prints help, exits 0), --json,
 * unknown options and missing values (exit 2). Returns like getopt_long.
 */
int spt_getopt(const struct spt_cmd *cmd, int argc, char **argv,
	       const struct option *opts);
const char *spt_getopt_one(const struct spt_cmd *cmd, int argc, char **argv,
			   const char *name, int has_arg);
void spt_cmd_help(const struct spt_cmd *cmd, FILE *f);
void spt_want_args(const struct spt_cmd *cmd, int argc, char **argv, int want);
unsigned long spt_opt_ulong(const struct spt_cmd *cmd, const char *opt,
			    const char *arg, unsigned long min,
			   unsigned long max);
u64 spt_opt_size(const struct spt_cmd *cmd, const char *arg, u64 align,
		 const char *unit);
void spt_check_name(const struct spt_cmd *cmd, const char *what,
		    const char *name);

/* ---- util.c ---- */

/* "slicepool: <msg>" on stderr (libspu's plain style, set by main()). */
#define spt_err(...)		spu_log(LOG_ERR, __VA_ARGS__)
#define spt_warn(...)		spu_log(LOG_WARNING, __VA_ARGS__)
/* Progress messages: stderr, so that stdout stays machine readable. */
#define spt_info(...)		spu_log(LOG_INFO, __VA_ARGS__)
const char *spt_errno_hint(int err);
int spt_parse_ulong(const char *s, unsigned long min, unsigned long max,
		    unsigned long *out);
void *spt_zalloc(size_t size);
void *spt_realloc_array(void *p, size_t n, size_t size);
char *spt_strdup(const char *s);
void spt_strip(char *s);
int spt_split_volspec(const struct spt_cmd *cmd, const char *spec,
		      char *pool, char *vol);

/* ---- cfs.c: configfs access, rooted at $SLICEPOOL_CONFIGFS ---- */

const char *cfs_root(void);
int cfs_check_root(void);
enum cfs_op { CFS_EXISTS, CFS_READ, CFS_READ_S64, CFS_WRITE, CFS_MKDIR,
	      CFS_RMDIR, CFS_LIST };

/*
 * @op on the path made from @fmt: exists (0 or -ENOENT), read a whole
 * attribute into a malloc'ed string (*@out), read a number (s64 *@out),
 * write @val in one write(), mkdir, rmdir, list the subdirectories sorted
 * (char ***@out, *@count).  The cfs_*() macros below name them.
 */
int cfs_op(enum cfs_op op, void *out, size_t *count, const char *val,
	   const char *fmt, ...) __printf(5, 6);

#define cfs_exists(...)		(!cfs_op(CFS_EXISTS, NULL, NULL, NULL, __VA_ARGS__))
#define cfs_read(out, ...)	cfs_op(CFS_READ, out, NULL, NULL, __VA_ARGS__)
#define cfs_read_s64(out, ...)	cfs_op(CFS_READ_S64, out, NULL, NULL, __VA_ARGS__)
#define cfs_write(val, ...)	cfs_op(CFS_WRITE, NULL, NULL, val, __VA_ARGS__)
#define cfs_mkdir(...)		cfs_op(CFS_MKDIR, NULL, NULL, NULL, __VA_ARGS__)
#define cfs_rmdir(...)		cfs_op(CFS_RMDIR, NULL, NULL, NULL, __VA_ARGS__)
#define cfs_list(names, count, ...) \
	cfs_op(CFS_LIST, names, count, NULL, __VA_ARGS__)
void cfs_free_list(char **names, size_t count);

/*
 * ---- dm.c: a volume's dm device (libspu's spu_dm_* for the rest:
 * init, last error, info, remove, message) ----
 */

void spt_dm_name(const char *pool, const char *vol, char *buf, size_t len);
int spt_dm_create(const char *name, const char *uuid, u64 sectors,
		  const char *pool, const char *vol);
int spt_dm_reload_resume(const char *name, u64 sectors, const char *pool,
			 const char *vol);
int spt_dm_status_text(const char *name, char **out);
int spt_dm_load(const char *name, const char *uuid, bool create, bool ro,
		u64 sectors, const char *target, const char *params);

/* ---- out.c: aligned tables and JSON ---- */

struct spt_table;

struct spt_table *tbl_new(unsigned int ncols, const char *const *headers);
void tbl_add(struct spt_table *t, ...);	/* ncols strings */
void tbl_print(struct spt_table *t, FILE *f, const char *indent);
void tbl_free(struct spt_table *t);
/* Cells of the numbers @v[0..@n): "-" for an unknown (negative) one. */
#define SPT_NUM_CELL		24
void tbl_nums(char (*cells)[SPT_NUM_CELL], const s64 *v, size_t n);

void js_open_obj(const char *key);
void js_open_arr(const char *key);
void js_close(void);
void js_str(const char *key, const char *val);
void js_s64(const char *key, s64 val);	/* val < 0: null */
void js_u64(const char *key, u64 val);
void js_u64_or_null(const char *key, bool has, u64 val);	/* !has: null */
void js_int(const char *key, s64 val);	/* signed, never null */
void js_bool(const char *key, bool val);
void js_null(const char *key);
/* Opens a command's document: its object, "action" and "pool" when given. */
void js_begin(const char *action, const char *pool);
/* Closes the document's object (the outermost) and ends it with a newline. */
void js_end(void);

/* ---- cmd_status.c: shared printing of pools ---- */

struct spt_pool;
struct spt_member;
struct spt_volume;
struct spt_domain;

void spt_json_pool(const char *key, const struct spt_pool *p);
void spt_json_member(const char *key, const struct spt_member *m);
void spt_json_domain(const char *key, const struct spt_domain *d);
void spt_json_volume(const char *key, const struct spt_volume *v);
void spt_print_pool(const struct spt_pool *p);

/* ---- mpath.c: the paths of an NVMe multipath head ---- */

#define SPT_MPATH_MAX		8

enum spt_path_role { SPT_PATH_DOWN, SPT_PATH_STANDBY, SPT_PATH_IN_USE };

struct spt_mpath_path {
	char name[32];		/* nvmeXcZnY */
	char controller[32];	/* nvmeZ */
	char ana_state[24];
	char state[24];		/* the controller's */
	char address[256];	/* traddr=...,trsvcid=... */
	char transport[16];
	int role;		/* enum spt_path_role */
};

struct spt_mpath {
	char head[32];		/* nvmeXnY */
	char iopolicy[24];
	size_t nr_paths;
	bool truncated;		/* more than SPT_MPATH_MAX paths */
	int in_use;		/* index of the (first) path in use, or -1 */
	struct spt_mpath_path paths[SPT_MPATH_MAX];
};

/* 0 if block device @disk under @sysroot is a head, -ENOENT if not. */
int spt_mpath_read(const char *sysroot, const char *disk, struct spt_mpath *mp);
int spt_mpath_of_dev(const char *dev, struct spt_mpath *mp);
void spt_mpath_choose(struct spt_mpath *mp);
const char *spt_path_role_name(int role);

/* ---- model.c: a pool as read from configfs ---- */

struct spt_member {
	char name[SPT_NAME_MAX + 1];
	char *path, *domain, *state, *load_override;
	s64 enable, size, total_slices, free_slices, load;
	s64 drain;		/* 1: takes no new slice; -1: unknown */
};

#define SPT_STATUS_MEMBERS	64

/*
 * The dm status line of a slicepool target (Documentation/dm-slicepool.rst):
 * <reads> <writes> <read_sectors> <write_sectors> <io_errors>
 * <missing_slices> <#members> {<member>:<slices>:<online|failed>}...
 * [image <clones>]
 */
struct spt_dm_status {
	u64 reads, writes, read_sectors, write_sectors, missing;
	s64 io_errors;
	bool image;		/* "image <clones>" present */
	u64 clones;		/* the image's clone count */
	unsigned int nr_members;
	struct {
		char name[SPT_NAME_MAX + 1];
		u64 slices;
		char state[16];
	} members[SPT_STATUS_MEMBERS];
};

/*
 * The migration fields of a slicepool status line, after the word
 * "migration" (Documentation/dm-slicepool.rst, "Live migration"):
 * "none", or <state> <mode> <first>-<last> <dest> <pass> <cursor>
 * <planned> <remaining> <dirty> <writes_seen> <dirty_set> <filtered>
 * <cleared> <copied> <recopied> <bytes_copied> <rate> <hold_us> <error>
 * <mirror> <mirrored> <busy_share> <paced_ms>.
 */
struct spt_mig_status {
	bool job;			/* false: "migration none" */
	char state[16];			/* copying, switching, done, ... */
	char mode[16];
	u64 first, last;
	char dest[SPT_NAME_MAX + 8];	/* member or domain:<label> */
	u64 pass, cursor, planned, remaining, dirty;
	u64 writes_seen, dirty_set, filtered, cleared, copied, recopied;
	u64 bytes_copied, rate;
	s64 hold_us;
	int error;			/* 0 or a negative errno */
	bool mirror;			/* writes to copied chunks mirrored */
	u64 mirrored;			/* mirrored writes that needed no bit */
	u64 busy_share;			/* pacing under I/O, percent */
	u64 paced_ms;			/* pauses pacing scheduled */
};

struct spt_volume {
	char name[SPT_NAME_MAX + 1];
	char *uuid;
	s64 size;
	char dm_name[2 * SPT_NAME_MAX + 2];
	struct spu_dm_info dm;
	int dm_err;
	bool status_ok;		/* dm.status parsed into status */
	bool stale;		/* the table must be reloaded (spt_table_stale) */
	struct spt_dm_status status;
	bool mig_ok;		/* dm.status has migration fields: mig */
	struct spt_mig_status mig;
	s64 slices, missing;
};

/* A line of <pool>/domains: "<domain> <#members> <total> <free> <load> <workload>". */
struct spt_domain {
	char name[SPT_NAME_MAX + 1];
	s64 members, total_slices, free_slices, load, workload;
};

struct spt_pool {
	char name[SPT_NAME_MAX + 1];
	char *uuid;
	s64 slice_mb, weight_space, weight_load, min_domains;
	struct spt_member *members;
	size_t nr_members;
	struct spt_volume *volumes;
	size_t nr_volumes;
	struct spt_domain *domains;
	size_t nr_domains;
};

struct spt_map_entry {
	u64 logical;
	char member[SPT_NAME_MAX + 1];	/* "" when missing */
	s64 physical;			/* -1 when missing */
};

int spt_pool_load(const char *name, struct spt_pool *p);
void spt_pool_free(struct spt_pool *p);
int spt_pool_reload(const char *pool, struct spt_pool *p, const char *done);
int spt_map_parse(const char *text, struct spt_map_entry **out, size_t *n);
int spt_dm_status_parse(const char *text, struct spt_dm_status *st);
bool spt_table_stale(const struct spt_dm_status *st,
		     const struct spt_map_entry *map, size_t n);

int spt_mig_status_parse(const char *text, struct spt_mig_status *ms);
bool spt_mig_running(const struct spt_mig_status *ms);
int spt_pool_require(const char *pool);
int spt_item_require(const char *pool, const char *kind, const char *name);
int spt_vol_map_read(const char *pool, const char *vol,
		     struct spt_map_entry **map, size_t *n);
s64 spt_map_missing(const struct spt_map_entry *map, size_t n);
int spt_vol_teardown(const char *pool, const char *vol, bool unbind,
		     bool *had_dm);
int spt_vol_make(const char *pool, const char *vol, u64 size);
struct spt_domain *spt_heaviest_domain(struct spt_pool *p);
struct spt_domain *spt_lightest_domain(struct spt_pool *p);
const char *spt_member_domain(const struct spt_pool *p, const char *member);

/* ---- migrate.c: running live migrations ---- */

/* The arguments of "migrate start" (Documentation/slicepool-tool.rst). */
struct spt_mig_req {
	bool all;			/* every slice, else first..last */
	u64 first, last;
	char dest[SPT_NAME_MAX + 8];	/* member or domain:<label> */
	const char *mode;		/* NULL: the module's default */
	const char *mirror;		/* on, off, NULL: the default */
	long rate;			/* MiB/s, -1: the module's default */
	unsigned long chunk_kb;		/* always sent */
	long threshold;			/* -1: the module's default */
	long max_passes;		/* -1: the module's default */
	long depth;			/* -1: the module's default */
	long busy_share;		/* -1: the module's default */
};

#define SPT_MIG_DEPTH_MAX	8	/* the module's SP_MIG_SLOTS */

#define SPT_MIG_CHUNK_KB		512	/* the module's default chunk */
/* The destination chosen by the module's placement rule. */
#define SPT_MIG_AUTO			"auto"

/* What a job that was waited for ended with. */
struct spt_mig_result {
	struct spt_mig_status st;	/* the last status read */
	u64 duration_ms;		/* from the start message to the end */
	bool interrupted;		/* SIGINT/SIGTERM while waiting */
};

void spt_mig_req_init(struct spt_mig_req *req);
int spt_mig_read(const char *dm_name, struct spt_mig_status *ms);
int spt_mig_check(const char *pool, const char *vol, const char *dm_name,
		  const struct spt_mig_req *req);
int spt_mig_start(const char *pool, const char *vol, const char *dm_name,
		  const struct spt_mig_req *req);
int spt_mig_wait(const char *pool, const char *vol, const char *dm_name,
		 unsigned long chunk_kb, struct spt_mig_result *res);
int spt_mig_run(const char *pool, const char *vol,
		const struct spt_mig_req *req, struct spt_mig_result *res);
int spt_mig_move_slice(const char *pool, const char *vol, u64 logical,
		       const char *dest, struct spt_mig_req *req,
		       struct spt_mig_result *res, char *to_member, size_t len);
void spt_mig_json(const char *key, const struct spt_mig_status *ms);

/* One job of a batch (spt_mig_batch_run()): slices first..last of vol. */
struct spt_mig_job {
	char vol[SPT_NAME_MAX + 1];
	u64 first, last;
	bool ran;			/* started */
	struct spt_mig_result res;	/* when it ran */
};

int spt_mig_batch_run(const char *pool, const char *label,
		      struct spt_mig_job *jobs, size_t n,
		      const struct spt_mig_req *tmpl, u64 slice_bytes);
void spt_mig_print_failure(const char *pool, const char *vol,
			   const struct spt_mig_result *res);
bool spt_mig_interrupted(void);
void spt_mig_catch_signals(void);

/* ---- sb.c: on-disk member metadata (dm-slicepool/sp-format.h) ---- */

#define SPT_UUID_STR_LEN		SPU_UUID_STR

/* A volume record found on a member. */
struct spt_disk_vol {
	char uuid[SPT_UUID_STR_LEN];
	char name[SPT_NAME_MAX + 1];
	u64 size;		/* bytes */
	u64 nr_slices;
	u64 generation;
	u64 started;		/* highest create/expand attempt */
	u32 state;		/* 1 live, 2 deleted */
	struct sp_fences fences;
};

/* A non-free owner record found on a member. */
struct spt_disk_owner {
	char vol_uuid[SPT_UUID_STR_LEN];
	u64 physical;
	u64 logical;
	u64 generation;
};

struct spt_disk_member {
	char device[256];
	struct spu_fmt2_sb sb;
	struct spt_disk_vol *vols;
	size_t nr_vols;
	struct spt_disk_owner *owners;
	size_t nr_owners;
};

/*
 * The parsers return 0 on success, -ENODATA when there is no slicepool
 * superblock magic (not a member: not an error), or -EINVAL with @why set
 * when the metadata is refused (bad checksum, version, layout or names).
 */
int spt_md_read_dev(const char *path, struct spt_disk_member *m,
		    char *why, size_t whylen);
void spt_disk_member_free(struct spt_disk_member *m);

/* ---- commands ---- */

int cmd_pool_create(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_pool_list(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_pool_remove(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_pool_force(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_pool_set(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_member_set(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_member_add(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_member_remove(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_member_online(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_vol_create(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_vol_resize(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_vol_remove(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_vol_map(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_image_create(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_image_clone(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_image_remove_clone(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_image_list(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_image_status(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_image_set(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_image_copy(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_status(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_assemble(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_inspect(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_upgrade(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_migrate(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_rebalance(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_member_evacuate(const struct spt_cmd *cmd, int argc, char **argv);
/*
 * Borrows for @pool what it needs to hold @want bytes more than it has
 * free (slicepool-agent -c @conf borrow-for: whole slices and a member's
 * metadata, from the peer that can lend the most), waits for the member
 * to be enabled and online, and prints "borrowed SIZE from PEER as member
 * NAME (grant ID)" (on stderr with --json).  0, or SPT_EXIT_FAIL with the
 * one-line reason in @why ("no borrow made: ..." when nothing was).
 */
int spt_borrow_for(const char *conf, const char *pool, u64 want, char *why,
		   size_t wlen);
int cmd_remote_request(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_remote_release(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_remote_resize(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_remote_list(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_export_list(const struct spt_cmd *cmd, int argc, char **argv);
int cmd_peer_list(const struct spt_cmd *cmd, int argc, char **argv);

#endif /* SLICEPOOL_H */
