// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - a volume's device-mapper device
 *
 * A volume <vol> of pool <pool> is exposed as the dm device "<pool>-<vol>"
 * (/dev/mapper/<pool>-<vol>) with the dm UUID "SLICEPOOL-<volume uuid>"
 * and the single-target table "0 <sectors> slicepool <pool> <vol>".
 * libdevmapper itself is reached through libspu (tools/lib/spu-dm.c), which the
 * agent shares.
 */
#include "slicepool.h"

void spt_dm_name(const char *pool, const char *vol, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s", pool, vol);
}

static void table_params(char *buf, size_t len, const char *pool,
			 const char *vol)
{
	snprintf(buf, len, "%s %s", pool, vol);
}

int spt_dm_create(const char *name, const char *uuid, u64 sectors,
		  const char *pool, const char *vol)
{
	char dmuuid[129], params[2 * SPT_NAME_MAX + 8];	/* DM_UUID_LEN */

	dmuuid[0] = '\0';
	if (uuid && *uuid)
		snprintf(dmuuid, sizeof(dmuuid), "%s%s", SPT_DM_UUID_PREFIX,
			 uuid);
	table_params(params, sizeof(params), pool, vol);
	return spu_dm_create(name, dmuuid, sectors, SPT_TARGET_NAME, params);
}

/* Loads a table of the new length and resumes: an online resize. */
int spt_dm_reload_resume(const char *name, u64 sectors, const char *pool,
			 const char *vol)
{
	char params[2 * SPT_NAME_MAX + 8];

	table_params(params, sizeof(params), pool, vol);
	return spu_dm_reload_resume(name, sectors, SPT_TARGET_NAME, params);
}

/*
 * The whole status parameters of the slicepool table of @name, in a
 * malloc'ed string. Returns 0, -ENODEV when the device does not exist or
 * has no live slicepool table, or -EIO.
 */
int spt_dm_status_text(const char *name, char **out)
{
	return spu_dm_status(name, SPT_TARGET_NAME, out);
}
