// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the dm device of a lent volume (libdevmapper)
 *
 * Same conventions as the slicepool tool (Documentation/slicepool-tool.rst):
 * the volume <vol> of pool <pool> is the dm device "<pool>-<vol>" with the
 * dm UUID "SLICEPOOL-<volume uuid>" and the table
 * "0 <sectors> slicepool <pool> <vol>".  The UUID prefix also keeps
 * "slicepool assemble" from scanning the device for members (it holds the
 * borrower's member metadata).
 *
 * A grown volume gets a table of its new length (reload and resume, as
 * "slicepool vol resize" does).  Before that, its new range is zeroed
 * through a second, short-lived device of the new length, "<pool>-<vol>-grow"
 * (dm UUID "SLICEPOOL-<volume uuid>-grow"): the volume's own device, which
 * nvmet exports, never shows a range that was not zeroed.
 *
 * libdevmapper is reached through libspu (tools/lib/spu-dm.c), which the tool
 * shares.
 */
#include <errno.h>
#include <stdio.h>

#include "agent.h"
#include "spu.h"

/*
 * Serialises this program's libdevmapper calls (libspu keeps the last
 * error per thread; libdevmapper itself is not made for concurrent use).
 */
static pthread_mutex_t dm_lock = PTHREAD_MUTEX_INITIALIZER;

void spa_dm_init(void)
{
	spu_dm_init();
}

void spa_dm_path(const char *pool, const char *vol, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/mapper/%s-%s", pool, vol);
}

void spa_dm_path_aside(const char *pool, const char *vol, char *buf,
		       size_t len)
{
	snprintf(buf, len, "/dev/mapper/%s-%s" SPA_DM_ASIDE, pool, vol);
}

/*
 * The device of volume @vol, "<pool>-<vol>", or its aside device
 * "<pool>-<vol>-grow" when @aside.
 */
static void dm_name(const char *pool, const char *vol, bool aside, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%s-%s%s", pool, vol, aside ? SPA_DM_ASIDE : "");
}

static void table_params(char *buf, size_t len, const char *pool,
			 const char *vol)
{
	snprintf(buf, len, "%s %s", pool, vol);
}

static int make_dev(const char *pool, const char *vol, bool aside,
		    const char *uuid, u64 sectors, char *why, size_t wlen)
{
	char dmuuid[64], name[2 * SPU_NAME_MAX + 16];
	char params[2 * SPU_NAME_MAX + 2];
	int ret;

	dm_name(pool, vol, aside, name, sizeof(name));
	snprintf(dmuuid, sizeof(dmuuid), "SLICEPOOL-%s%s", uuid,
		 aside ? SPA_DM_ASIDE : "");
	table_params(params, sizeof(params), pool, vol);
	pthread_mutex_lock(&dm_lock);
	ret = spu_dm_create(name, dmuuid, sectors, "slicepool", params);
	if (ret && why)
		snprintf(why, wlen, "cannot create dm device %s: %s", name,
			 spu_dm_last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_create(const char *pool, const char *vol, const char *uuid,
		  u64 sectors, char *why, size_t wlen)
{
	return make_dev(pool, vol, false, uuid, sectors, why, wlen);
}

int spa_dm_create_aside(const char *pool, const char *vol, const char *uuid,
			u64 sectors, char *why, size_t wlen)
{
	return make_dev(pool, vol, true, uuid, sectors, why, wlen);
}

int spa_dm_reload(const char *pool, const char *vol, u64 sectors, char *why,
		  size_t wlen)
{
	char name[2 * SPU_NAME_MAX + 16], params[2 * SPU_NAME_MAX + 2];
	int ret;

	dm_name(pool, vol, false, name, sizeof(name));
	table_params(params, sizeof(params), pool, vol);
	pthread_mutex_lock(&dm_lock);
	ret = spu_dm_reload_resume(name, sectors, "slicepool", params);
	if (ret && why)
		snprintf(why, wlen, "cannot reload dm device %s with %llu sectors: %s",
			 name, sectors, spu_dm_last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

static int exists(const char *pool, const char *vol, bool aside)
{
	char name[2 * SPU_NAME_MAX + 16];
	int ret;

	dm_name(pool, vol, aside, name, sizeof(name));
	pthread_mutex_lock(&dm_lock);
	ret = spu_dm_exists(name);
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_exists(const char *pool, const char *vol)
{
	return exists(pool, vol, false);
}

static int remove_dev(const char *pool, const char *vol, bool aside,
		      char *why, size_t wlen)
{
	char name[2 * SPU_NAME_MAX + 16];
	int ret;

	if (exists(pool, vol, aside) == 0)
		return 0;
	dm_name(pool, vol, aside, name, sizeof(name));
	pthread_mutex_lock(&dm_lock);
	ret = spu_dm_remove(name);
	if (ret && why)
		snprintf(why, wlen, "cannot remove dm device %s: %s", name,
			 spu_dm_last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_remove(const char *pool, const char *vol, char *why, size_t wlen)
{
	return remove_dev(pool, vol, false, why, wlen);
}

int spa_dm_remove_aside(const char *pool, const char *vol, char *why,
			size_t wlen)
{
	return remove_dev(pool, vol, true, why, wlen);
}
