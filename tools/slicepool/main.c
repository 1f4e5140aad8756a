// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - command line tool for dm-slicepool
 *
 * Command table, help texts, global options and dispatch.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"
#include "spa-state.h"

#define SPT_TOOL_VERSION "0.1"

bool spt_json;

static const char common_help[] =
	"  --json             print the result as JSON\n"
	"  -h, --help         show this help\n";

/* The pool parameters that pool create and pool set both take. */
#define POOL_WEIGHT_HELP \
	"  --weight-space N   weight of used space in a domain's workload, 0..100\n" \
	"  --weight-load N    weight of measured load in a domain's workload, 0..100\n" \
	"  --min-domains N    domains a volume spans when they have space, 1..4096\n"

static const struct spt_cmd commands[] = {
	{ "pool", "create", cmd_pool_create,
	  "<pool> [--slice-mb N] [--weight-space N] [--weight-load N] [--min-domains N]",
	  "Create a pool (configfs directory) and set its parameters.",
	  "  --slice-mb N       slice size in MiB (default: the module's, 64)\n"
	  POOL_WEIGHT_HELP },
	{ "pool", "set", cmd_pool_set,
	  "<pool> [--slice-mb N] [--weight-space N] [--weight-load N] [--min-domains N]",
	  "Change pool parameters (the slice size only while no member is\n"
	  "enabled).",
	  "  --slice-mb N       slice size in MiB\n"
	  POOL_WEIGHT_HELP },
	{ "pool", "list", cmd_pool_list, "",
	  "List pools with their parameters and capacity.", NULL },
	{ "pool", "remove", cmd_pool_remove, "[--unbind] <pool>",
	  "Disable and remove every member, then remove the pool. The members\n"
	  "keep their metadata: 'slicepool assemble' brings the pool back.\n"
	  "Refused while the pool has volumes, unless --unbind is given.",
	  "  --unbind           first remove the volumes' dm devices and unbind\n"
	  "                     the volumes (their data stays on the members)\n" },
	{ "pool", "force", cmd_pool_force, "<pool>",
	  "Force a read-only format-3 pool read-write without its absent\n"
	  "members (those the kernel log names): one metadata transaction marks\n"
	  "them stale for good, and a device of theirs that comes back is\n"
	  "refused. Refused for a pool that is read-write or not format 3.",
	  NULL },
	{ "member", "add", cmd_member_add, "<pool> <name> --path DEV --domain D",
	  "Add a block device to a pool as member <name> and enable it.",
	  "  --path DEV         block device to use (e.g. /dev/vdb)\n"
	  "  --domain D         failure domain label of the device\n" },
	{ "member", "set", cmd_member_set,
	  "<pool> <name> --load-override auto|N",
	  "Pin a member's access load to N (0..100) for placement, or give it\n"
	  "back to measurement with 'auto'.",
	  "  --load-override V  auto, or a load of 0..100\n" },
	{ "member", "remove", cmd_member_remove, "<pool> <name>",
	  "Disable a member and remove it from the pool.", NULL },
	{ "member", "online", cmd_member_online, "<pool> <name>",
	  "Take back a member that an I/O error marked failed, once its device\n"
	  "answers again as that member, without disabling it or unbinding any\n"
	  "volume (a member stale after a failed metadata write rejoins).", NULL },
	{ "member", "evacuate", cmd_member_evacuate,
	  "<pool> <name> [--rate MIBPS]",
	  "Move every slice of every volume off a working member, live, each\n"
	  "where the module's placement rule puts it, so that 'member remove'\n"
	  "can take it out. The member is marked draining first: no new slice\n"
	  "goes to it (left so when done, given back when the evacuation stops\n"
	  "early; run it again to move the rest).",
	  "  --rate MIBPS       copy throttle of each move in MiB/s (default 0: none)\n" },
	{ "vol", "create", cmd_vol_create,
	  "<pool>/<vol> --size SIZE [--borrow [--agent-config FILE]]",
	  "Allocate a volume and create its dm device /dev/mapper/<pool>-<vol>.",
	  "  --size SIZE        size in bytes, or with a K, M, G, T or P suffix\n"
	  "                     (powers of 1024); a multiple of 512 bytes\n"
	  "  --borrow           if the pool has too little space (ENOSPC), borrow\n"
	  "                     what is missing from the peer that can lend the\n"
	  "                     most (slicepool-agent borrow-for; the agent's\n"
	  "                     'borrow_on_demand POOL' must allow it), then\n"
	  "                     try once more\n"
	  "  --agent-config F   the agent's configuration (default\n"
	  "                     /etc/slicepool/agent.conf)\n" },
	{ "vol", "resize", cmd_vol_resize,
	  "<pool>/<vol> --size SIZE [--from-heaviest] [--borrow [--agent-config FILE]]",
	  "Expand or shrink a volume online; the dm device follows.",
	  "  --size SIZE        new size, same syntax as for 'vol create'\n"
	  "  --borrow, --agent-config F  as for 'vol create' (an expand)\n"
	  "  --from-heaviest    (shrink only) release slices of the heaviest\n"
	  "                     domain: each tail slice on another domain first\n"
	  "                     takes a kept slice of the heaviest domain by live\n"
	  "                     migration (needs the volume's dm device)\n" },
	{ "vol", "remove", cmd_vol_remove, "[--unbind] <pool>/<vol>",
	  "Remove the volume's dm device, delete the volume (its slices are\n"
	  "freed) and remove its configfs item.",
	  "  --unbind           do not delete: only remove the dm device and the\n"
	  "                     configfs item; the volume stays on the members\n"
	  "                     and 'slicepool assemble' brings it back\n" },
	{ "vol", "map", cmd_vol_map, "<pool>/<vol>",
	  "Show the slice map: logical slice -> member, physical slice.", NULL },
	{ "image", "create", cmd_image_create, "<pool> <vol>",
	  "Make a volume of a format-3 pool an image, for good: its dm device\n"
	  "is loaded read-only, and the module refuses a read-write table, a\n"
	  "size change and a migration of it from then on.", NULL },
	{ "image", "clone", cmd_image_clone,
	  "<pool> <image> <clone> [--thin-size SIZE] [--meta-size SIZE] [--data-size SIZE]",
	  "Create a clone of an image: a dm-thin thin device\n"
	  "/dev/mapper/<pool>-<clone> whose external origin is the image's dm\n"
	  "device; it reads the image, its writes stay its own. The pool's\n"
	  "thin-pool (<pool>-thinpool, over volumes thinmeta and thindata) is\n"
	  "created on first use.",
	  "  --thin-size SIZE   the clone's size (default: the image's)\n"
	  "  --meta-size SIZE   first use: size of volume thinmeta (default 16M)\n"
	  "  --data-size SIZE   first use: size of volume thindata, the clones'\n"
	  "                     written blocks (default 1G)\n" },
	{ "image", "remove-clone", cmd_image_remove_clone, "<pool> <clone>",
	  "Remove a clone's dm device and delete its thin device (its writes\n"
	  "are gone). Refused while it is open.", NULL },
	{ "image", "list", cmd_image_list, "<pool>",
	  "List a pool's images with their clone counts (the holders of the\n"
	  "image's dm device) and the clones with their image and thin id.",
	  NULL },
	{ "image", "status", cmd_image_status, "<pool> <image>",
	  "Show an image's hot detection: whether it is hot now by its\n"
	  "settings, its clone count and the read latency the module measures\n"
	  "(average and maximum, microseconds), and the settings.", NULL },
	{ "image", "set", cmd_image_set,
	  "<pool> <image> KEY=VALUE...",
	  "Set an image's hot detection (in the module's memory; a module\n"
	  "reload restores the defaults), then show it as 'image status'.",
	  "  hot_refs=N              hot from N clones (1..16777216, default 8)\n"
	  "  hot_read_latency_us=N   hot from an average read latency of N us\n"
	  "                          (1..60000000, default 20000)\n"
	  "  hot_mode=MODE           any (either, the default), all (both), refs,\n"
	  "                          latency or off (never)\n" },
	{ "image", "copy", cmd_image_copy, "<pool>/<image> [--name NEW]",
	  "Write a new copy of an image (a new volume, placed by load ratio),\n"
	  "verify every slice against the image, make it an image, then move\n"
	  "every clone of the image to it (a table reload: their writes stay\n"
	  "theirs). The old image stays; on a failure the clones stay on it\n"
	  "and the copy is removed. Progress on stderr.",
	  "  --name NEW   the copy's name (default <image>.copyN)\n" },
	{ NULL, "migrate", cmd_migrate,
	  "<pool>/<vol> --to <member|domain:LABEL|auto> [--slices A[-B]|all] [--mode M] [--mirror on|off] [--rate MIBPS] [--chunk-kb N] [--threshold N] [--max-passes N] [--depth N] [--busy-share PCT] [--no-wait] | --abort | --set-rate MIBPS | --status",
	  "Move a volume's slices to another member or domain while it is in\n"
	  "use (live migration in the dm target), wait for the job with a\n"
	  "progress display and report it; or abort the running job, change\n"
	  "its copy rate, or show its status.",
	  "  --to DEST          destination: a member, domain:LABEL (its member\n"
	  "                     with the most free slices; slices in the domain\n"
	  "                     already stay where they are), or auto (where the\n"
	  "                     module's placement rule puts new slices, on the\n"
	  "                     members that hold none of the range)\n"
	  "  --slices A[-B]|all logical slices to move (default: all)\n"
	  "  --mode M           write tracking: filter (default), clear or none\n"
	  "  --mirror on|off    write user writes to chunks already copied to both\n"
	  "                     sides, so passes converge (default on)\n"
	  "  --rate MIBPS       copy throttle in MiB/s, 0 for none (default 0)\n"
	  "  --chunk-kb N       copy granularity, a multiple of 4 dividing the\n"
	  "                     slice size (default 512)\n"
	  "  --threshold N      switch when a pass leaves at most N dirty chunks\n"
	  "                     (default 8)\n"
	  "  --max-passes N     switch after N passes at most, 1..1000 (default 5)\n"
	  "  --depth N          chunk copies in flight, 1..8 (default 2)\n"
	  "  --busy-share PCT   while the volume has I/O, copy at about PCT percent of\n"
	  "                     full speed, 1..100 (default 50; 100: no pacing)\n"
	  "  --no-wait          start the job and return\n"
	  "  --abort            abort the running job (the volume stays put)\n"
	  "  --set-rate MIBPS   change the running job's copy throttle\n"
	  "  --status           show the running or last job\n" },
	{ NULL, "rebalance", cmd_rebalance,
	  "<pool> [--band N] [--max-moves N] [--dry-run] [--rate MIBPS]",
	  "Move slices, one live migration at a time, from the heaviest failure\n"
	  "domain to the lightest until their workloads differ by at most the\n"
	  "band.",
	  "  --band N           allowed workload spread, 0..100 (default 20)\n"
	  "  --max-moves N      stop after N moves, 1..10000 (default 16)\n"
	  "  --dry-run          only print the first move it would make\n"
	  "  --rate MIBPS       copy throttle of each move in MiB/s (default 0: none)\n" },
	{ NULL, "status", cmd_status, "[<pool>]",
	  "Show pools, members (domain, state, space, load) and volumes\n"
	  "(size, dm device, I/O status).", NULL },
	{ "remote", "request", cmd_remote_request,
	  "[<peer>] --size SIZE [--agent-config PATH]",
	  "Borrow SIZE from <peer>, or from the peer that is up and can lend\n"
	  "the most: runs 'slicepool-agent borrow', which connects the\n"
	  "namespace over NVMe/TCP and adds it to the pool as a member in\n"
	  "domain remote:<peer>.",
	  "  --size SIZE        bytes, or with a K, M, G, T or P suffix; a multiple\n"
	  "                     of 4 KiB, at most 1 PiB\n"
	  "  --agent-config P   slicepool-agent's configuration file\n"
	  "                     (default " SPA_CONFIG_DEFAULT ")\n" },
	{ "remote", "resize", cmd_remote_resize,
	  "<grant> --size SIZE [--agent-config PATH]",
	  "Grow a borrowed grant to SIZE (the new total): runs 'slicepool-agent\n"
	  "resize', which has the lender grow its volume, waits for the\n"
	  "namespace to show the new size and lets the member take the new\n"
	  "slices. A grant never shrinks.",
	  "  --size SIZE        bytes, or with a K, M, G, T or P suffix; a multiple\n"
	  "                     of 4 KiB, at most 1 PiB, not below the grant's size\n"
	  "  --agent-config P   slicepool-agent's configuration file\n"
	  "                     (default " SPA_CONFIG_DEFAULT ")\n" },
	{ "remote", "release", cmd_remote_release,
	  "<grant> [--agent-config PATH]",
	  "Give a borrowed grant back: runs 'slicepool-agent release', which\n"
	  "removes the member (refused while it holds slices: migrate them\n"
	  "first), disconnects and tells the lender.",
	  "  --agent-config P   slicepool-agent's configuration file\n"
	  "                     (default " SPA_CONFIG_DEFAULT ")\n" },
	{ "remote", "list", cmd_remote_list, "[--all] [--agent-config PATH]",
	  "List the grants this host has borrowed (the agent's ledger).",
	  "  --all              also the grants already given back\n"
	  "  --agent-config P   slicepool-agent's configuration file\n"
	  "                     (default " SPA_CONFIG_DEFAULT ")\n" },
	{ "export", "list", cmd_export_list, "[--all] [--agent-config PATH]",
	  "List the grants this host has lent (the agent's ledger), whether\n"
	  "each is exported in nvmet, and nvmet subsystems of the agent that\n"
	  "no grant owns.",
	  "  --all              also the grants already given back\n"
	  "  --agent-config P   slicepool-agent's configuration file\n"
	  "                     (default " SPA_CONFIG_DEFAULT ")\n" },
	{ "peer", "list", cmd_peer_list, "[--agent-config PATH]",
	  "List the agent's peers with their health as the daemon found it\n"
	  "(up, down: excluded from new grants, unknown), when they were last\n"
	  "heard, and the space they advertise and their grants (load).",
	  "  --agent-config P   slicepool-agent's configuration file\n"
	  "                     (default " SPA_CONFIG_DEFAULT ")\n" },
	{ NULL, "assemble", cmd_assemble,
	  "[--dry-run] [--force] [--prefer MEMBER] [DEVICE...]",
	  "Re-create pools, members and volumes from the metadata on the\n"
	  "members, then create the volumes' dm devices. Without DEVICE\n"
	  "arguments every block device in /proc/partitions is scanned.\n"
	  "Exit 3: slices missing, or a pool read-only (a member absent; it\n"
	  "is named; only --force goes on without it). Exit 1 if a device is\n"
	  "refused, e.g. one of format 2: convert its pool with 'slicepool\n"
	  "upgrade', or if a pool is refused, e.g. its members' journals have\n"
	  "forked: choose a branch with --prefer.",
	  "  --dry-run          only scan and print what would be done\n"
	  "  --force            a pool read-only because current members are\n"
	  "                     absent goes on without them: they are marked\n"
	  "                     stale for good, as 'slicepool pool force' does\n"
	  "  --prefer MEMBER    at a fork of the members' journals, the branch\n"
	  "                     of member id MEMBER wins (the pool's prefer\n"
	  "                     attribute); the other branches' devices are\n"
	  "                     left out, never used. Refused for a pool\n"
	  "                     whose devices hold no fork\n" },
	{ NULL, "inspect", cmd_inspect, "DEVICE...",
	  "Print the pool metadata on member devices or images, format 2 or\n"
	  "format 3: pool, members, domains, volumes with their maps, moves,\n"
	  "and for format 3 the assembly's verdict and winner. Read only:\n"
	  "nothing is ever written.", NULL },
	{ NULL, "upgrade", cmd_upgrade,
	  "[--backup FILE] [--dry-run] [--no-scan] [--weight-space N] [--weight-load N] [--min-domains N] DEVICE... | --resume --backup FILE DEVICE... | --restore FILE DEVICE...",
	  "Convert a format-2 pool to metadata format 3, offline: every member\n"
	  "must be given and none may be in use. The volumes keep their maps\n"
	  "(no data moves). A backup of every member's format-2 metadata is\n"
	  "written first.",
	  "  --backup FILE      the backup file (default: slicepool-upgrade-<pool>-\n"
	  "                     <uuid>.backup in the current directory); never\n"
	  "                     overwritten\n"
	  "  --dry-run          check everything, write nothing, print the plan\n"
	  "  --no-scan          do not look for other members of the pool among\n"
	  "                     the block devices of /proc/partitions\n"
	  "  --weight-space N   the v3 pool's weights and min_domains (format 2\n"
	  "  --weight-load N    keeps them in configfs only; default the module's\n"
	  "  --min-domains N    50, 50 and 2)\n"
	  "  --resume           finish an interrupted upgrade from --backup FILE\n"
	  "  --restore FILE     write the backup's format-2 metadata back\n" },
};

static void print_cmd_line(const struct spt_cmd *c, FILE *f)
{
	const char *sep = c->usage[0] ? " " : "";

	if (c->group)
		fprintf(f, "  slicepool %s %s%s%s\n", c->group, c->verb, sep,
			c->usage);
	else
		fprintf(f, "  slicepool %s%s%s\n", c->verb, sep, c->usage);
}

static void main_help(FILE *f, const char *group)
{
	size_t i;

	fprintf(f, "Usage: slicepool [--json] <command> [arguments]\n\n");
	fprintf(f, "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (group && (!commands[i].group ||
			      strcmp(commands[i].group, group)))
			continue;
		print_cmd_line(&commands[i], f);
	}
	fprintf(f, "\nEvery command accepts --json and --help.\n");
	fprintf(f, "Exit status: 0 success, 1 failure (migrate: also a job that\n");
	fprintf(f, "             ended aborted or failed), 2 usage error,\n");
	fprintf(f, "             3 assembled but degraded (assemble only).\n");
	fprintf(f, "See Documentation/slicepool-tool.rst for the full reference.\n");
}

void spt_cmd_help(const struct spt_cmd *cmd, FILE *f)
{
	fprintf(f, "Usage:\n");
	print_cmd_line(cmd, f);
	fprintf(f, "\n%s\n\nOptions:\n", cmd->summary);
	if (cmd->help)
		fputs(cmd->help, f);
	fputs(common_help, f);
}

static void cmd_words(const struct spt_cmd *cmd, char *buf, size_t len)
{
	if (cmd->group)
		snprintf(buf, len, "%s %s", cmd->group, cmd->verb);
	else
		snprintf(buf, len, "%s", cmd->verb);
}

void spt_usage_fail(const struct spt_cmd *cmd, const char *fmt, ...)
{
	char words[64];
	va_list ap;

	fputs("slicepool: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd) {
		cmd_words(cmd, words, sizeof(words));
		fprintf(stderr, "Usage: slicepool %s %s\n", words, cmd->usage);
		fprintf(stderr, "Try 'slicepool %s --help'.\n", words);
	} else {
		fprintf(stderr, "Try 'slicepool --help'.\n");
	}
	exit(SPT_EXIT_USAGE);
}

static void __noreturn bad_option(const struct spt_cmd *cmd, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (!strncmp(arg, "--", 2) && eq)
		spt_usage_fail(cmd, "option '%.*s' takes no value",
			       (int)(eq - arg), arg);
	spt_usage_fail(cmd, "unknown option '%s'", arg);
}

/* Option ids shared by every command. */
#define OPT_HELP 'h'
#define OPT_JSON 0x1001

int spt_getopt(const struct spt_cmd *cmd, int argc, char **argv,
	       const struct option *opts)
{
	struct option all[24];
	size_t n = 0;
	int c, idx;

	while (opts && opts[n].name) {
		if (n == ARRAY_SIZE(all) - 3) {
			fprintf(stderr, "slicepool: too many options\n");
			exit(SPT_EXIT_FAIL);
		}
		all[n] = opts[n];
		n++;
	}
	all[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	all[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	all[n] = (struct option){ NULL, 0, NULL, 0 };

	opterr = 0;
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, ":h", all, &idx);
		switch (c) {
		case OPT_HELP:
			spt_cmd_help(cmd, stdout);
			exit(SPT_EXIT_OK);
		case OPT_JSON:
			spt_json = true;
			continue;
		case ':':
			spt_usage_fail(cmd, "option '%s' needs a value",
				       argv[optind - 1]);
		case '?':
			bad_option(cmd, argv[optind - 1]);
		default:
			return c;
		}
	}
}

/*
 * spt_getopt() for a command with one option of its own, @name (@has_arg
 * as in struct option), or none (@name NULL): the value of the last one
 * given ("" for a flag), or NULL when it is not given.
 */
const char *spt_getopt_one(const struct spt_cmd *cmd, int argc, char **argv,
			   const char *name, int has_arg)
{
	const struct option opts[] = {
		{ name, has_arg, NULL, 1 },
		{ NULL, 0, NULL, 0 }
	};
	const char *val = NULL;

	while (spt_getopt(cmd, argc, argv, opts) != -1)
		val = has_arg ? optarg : "";
	return val;
}

/* Checks that exactly @want positional arguments remain after options. */
void spt_want_args(const struct spt_cmd *cmd, int argc, char **argv, int want)
{
	if (argc - optind < want)
		spt_usage_fail(cmd, "missing argument");
	if (argc - optind > want)
		spt_usage_fail(cmd, "unexpected argument '%s'",
			       argv[optind + want]);
}

/* Parses the value of a numeric option, exiting 2 when it is bad. */
unsigned long spt_opt_ulong(const struct spt_cmd *cmd, const char *opt,
			    const char *arg, unsigned long min,
			   unsigned long max)
{
	unsigned long v;
	int ret = spt_parse_ulong(arg, min, max, &v);

	if (ret == -ERANGE)
		spt_usage_fail(cmd, "%s: %s is out of range (%lu..%lu)", opt, arg,
			       min, max);
	if (ret)
		spt_usage_fail(cmd, "%s: '%s' is not a number (%lu..%lu)", opt,
			       arg, min, max);
	return v;
}

/*
 * Parses a --size value (the kernel's grammar: bytes, or a number with K,
 * M, G or T), not 0, a multiple of @align (@unit names it), exiting 2 when
 * it is bad.
 */
u64 spt_opt_size(const struct spt_cmd *cmd, const char *arg, u64 align,
		 const char *unit)
{
	u64 v;
	int ret;

	if (!arg)
		spt_usage_fail(cmd, "--size SIZE is required");
	ret = spu_parse_size(arg, SPU_SIZE_MAX, &v);
	if (ret)
		spt_usage_fail(cmd, "--size: '%s' %s", arg, spu_size_why(ret));
	if (v == 0)
		spt_usage_fail(cmd, "--size: the size must not be 0");
	if (v % align)
		spt_usage_fail(cmd, "--size: %s is not a multiple of %s", arg,
			       unit);
	return v;
}

/* Checks a name argument, exiting 2 when it is bad. */
void spt_check_name(const struct spt_cmd *cmd, const char *what,
		    const char *name)
{
	if (!spu_valid_name(name))
		spt_usage_fail(cmd,
			       "bad %s name '%s': use 1..%d of [A-Za-z0-9_.-]",
			      what, name, SPT_NAME_MAX);
}

static const struct spt_cmd *find_cmd(const char *group, const char *verb)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct spt_cmd *c = &commands[i];

		if (!group && !c->group && !strcmp(c->verb, verb))
			return c;
		if (group && c->group && !strcmp(c->group, group) &&
		    !strcmp(c->verb, verb))
			return c;
	}
	return NULL;
}

static bool is_group(const char *word)
{
	return !strcmp(word, "pool") || !strcmp(word, "member") ||
	       !strcmp(word, "vol") || !strcmp(word, "remote") ||
	       !strcmp(word, "peer") || !strcmp(word, "export") ||
	       !strcmp(word, "image");
}

static bool is_help(const char *word)
{
	return !strcmp(word, "-h") || !strcmp(word, "--help") ||
	       !strcmp(word, "help");
}

int main(int argc, char **argv)
{
	const struct spt_cmd *cmd;
	const char *group = NULL;
	int i = 1;

	spu_log_set_ident("slicepool");
	spu_log_set_plain(true);
	/* Global options before the command words. */
	while (i < argc && argv[i][0] == '-') {
		if (is_help(argv[i])) {
			main_help(stdout, NULL);
			return SPT_EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("slicepool %s\n", SPT_TOOL_VERSION);
			return SPT_EXIT_OK;
		}
		if (strcmp(argv[i], "--json"))
			spt_usage_fail(NULL, "unknown option '%s'", argv[i]);
		spt_json = true;
		i++;
	}
	if (i >= argc)
		spt_usage_fail(NULL, "no command given");
	if (!strcmp(argv[i], "help")) {
		main_help(stdout, i + 1 < argc && is_group(argv[i + 1]) ?
			  argv[i + 1] : NULL);
		return SPT_EXIT_OK;
	}
	if (is_group(argv[i])) {
		group = argv[i++];
		if (i >= argc)
			spt_usage_fail(NULL, "'%s' needs a subcommand", group);
		if (is_help(argv[i])) {
			main_help(stdout, group);
			return SPT_EXIT_OK;
		}
	}
	cmd = find_cmd(group, argv[i]);
	if (!cmd) {
		if (group)
			spt_usage_fail(NULL, "unknown command '%s %s'", group,
				       argv[i]);
		spt_usage_fail(NULL, "unknown command '%s'", argv[i]);
	}
	spu_dm_init();
	/* argv[i] becomes argv[0] of the command, for getopt. */
	return cmd->fn(cmd, argc - i, argv + i);
}
