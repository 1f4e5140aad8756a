/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: what the files of the configfs tree share among
 * themselves: sp-configfs.c (root, pools, the helpers below),
 * sp-configfs-member.c and sp-configfs-vol.c.
 */
#ifndef SP_CONFIGFS_H
#define SP_CONFIGFS_H

#include <linux/configfs.h>
#include <linux/types.h>

/* The most a binary attribute returns (map, clone_list, discovered, domains) */
#define SP_MAP_MAX_SIZE		(64U << 20)

/* Accumulates text for a binary attribute (first call with buf == NULL). */
struct sp_out {
	char *buf;
	size_t size;
	size_t pos;
};

bool sp_valid_name(const char *name, const char *extra);
bool sp_valid_item_name(const char *name, const char *what);
int sp_parse_u32(const char *page, u32 min, u32 max, u32 *out,
		 const char *what);
__printf(2, 3) void sp_emit(struct sp_out *o, const char *fmt, ...);
ssize_t sp_out_done(struct sp_out *o);
/* A trigger attribute takes "1" only (sp-configfs-member.c) */
int sp_cfs_trigger(struct config_item *item, const char *attr,
		   const char *page);

extern const struct config_item_type sp_members_type;
extern const struct config_item_type sp_volumes_type;

#endif
