// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - assemble: pools on metadata format 3.
 *
 * The devices of one pool uuid are assembled with md3_assemble() in
 * nowrite mode: the winner rule the module runs when their members are
 * enabled, without writing anything.  From its state come the pool's
 * name and slice size, each member's recorded name, domain and status,
 * the volumes and their maps.  A current member of the state with no
 * device found is absent: the module keeps the pool read-only (it writes
 * nothing and publishes no volume) until it is back, or until the
 * operator forces the pool ('slicepool pool force', or assemble
 * --force).  At a fork of the members' journals that no branch wins the
 * pool is refused unless --prefer MEMBER chooses the branch of that
 * member (md3_assemble_opts.prefer, as the module's prefer attribute
 * does): the devices on the other branches are left out, never used, and
 * a current member whose device is among them is given up (forced).  A
 * device the winner rule does not take (a diverged copy,
 * damaged metadata, an interrupted add) is refused and left alone, as is
 * the device of a member forced out.  The device of a member removed from
 * the pool ('slicepool member remove') is left alone too, but skipped,
 * not refused: that is how a removal leaves it.  When every device found
 * of a pool is such a device, the pool is not assembled at all: its state
 * would come from a removed member's journal as of its removal, and that
 * device is no longer part of the pool.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "assemble.h"

#define SPT_VOL_STATE_LIVE	1

/* Keeps one device per member uuid of a pool: the newest journal head. */
static void md3_drop_duplicates(struct asm_state *s)
{
	char why[640], u[SPT_UUID_STR_LEN];
	size_t i, j, k = 0;

	for (i = 0; i < s->nr_v3; i++) {
		struct spt_md_probe *a = s->v3[i];
		bool keep = true;

		for (j = 0; j < s->nr_v3 && keep; j++) {
			struct spt_md_probe *b = s->v3[j];

			if (i == j ||
			    memcmp(a->pool_uuid, b->pool_uuid, MD3_UUID_LEN) ||
			    memcmp(a->member_uuid, b->member_uuid, MD3_UUID_LEN))
				continue;
			if (b->head_seq > a->head_seq ||
			    (b->head_seq == a->head_seq && j < i)) {
				keep = false;
				spu_uuid_format(a->member_uuid, u);
				snprintf(why, sizeof(why),
					 "duplicate of member %s found on %.256s, which is used",
					 u, b->path);
				asm_add_refused(&s->dups, &s->nr_dups, a->path,
						why);
			}
		}
		if (keep) {
			s->v3[k++] = a;
		} else {
			spt_md_probe_close(a);
			free(a);
		}
	}
	s->nr_v3 = k;
}

/* See assemble.h. */
void asm_md3_group(struct asm_state *s)
{
	char u[SPT_UUID_STR_LEN];
	struct asm_pool *p;
	size_t i, j;

	md3_drop_duplicates(s);
	for (i = 0; i < s->nr_v3; i++) {
		spu_uuid_format(s->v3[i]->pool_uuid, u);
		p = asm_pool_get(s, u);
		p->devs = spt_realloc_array(p->devs, p->nr_devs + 1,
					    sizeof(*p->devs));
		p->devs[p->nr_devs++] = s->v3[i];
	}
	/* Members in both formats: an upgrade was interrupted. */
	for (i = 0; i < s->nr_pools; i++) {
		for (j = 0; j < s->nr_found; j++) {
			if (strcasecmp(s->found[j].sb.pool_uuid,
				       s->pools[i].uuid))
				continue;
			asm_pool_err(&s->pools[i],
				     "has members in format 2 and in format 3: an upgrade was interrupted; finish it with 'slicepool upgrade --resume --backup FILE' and every member");
			break;
		}
	}
}

/* Why the winner rule does not take device @pd of pool @p. */
static void md3_refusal(const struct asm_pool *p, const struct md3_pdev *pd,
			char *why, size_t len)
{
	const char *c = pd->chain.why ? pd->chain.why : "";

	switch (pd->role) {
	case MD3_ROLE_DIVERGED:
		snprintf(why, len,
			 "its metadata is on a branch of pool %s's history that lost (diverged after seq %llu): the module refuses it; leave it out, or wipe its labels (blocks 0 and 1) to add it as a new member",
			 p->name, (unsigned long long)pd->fork_seq);
		break;
	case MD3_ROLE_NOT_MEMBER:
		snprintf(why, len,
			 "not a member of pool %s's current state (removed, or added on a branch that lost): the module refuses it; wipe its labels (blocks 0 and 1) to add it as a new member",
			 p->name);
		break;
	default:
		snprintf(why, len, "unusable format-3 metadata%s%s", *c ? ": " : "",
			 c);
	}
}

/* See assemble.h. */
const struct md3_member *asm_md3_removed(const struct md3_state *st,
					 const struct md3_pdev *pd)
{
	const struct md3_member *m;

	if (!(pd->chain.kind == MD3_CHAIN_ORPHAN &&
	      pd->role == MD3_ROLE_UNUSABLE) &&
	    !(pd->chain.kind == MD3_CHAIN_OK &&
	      pd->role == MD3_ROLE_NOT_MEMBER))
		return NULL;
	m = md3_member_find(st, pd->chain.member_id);
	if (!m || m->status != MD3_REMOVED ||
	    memcmp(m->uuid, pd->chain.member_uuid, MD3_UUID_LEN))
		return NULL;
	return m;
}

/*
 * The device of member @sm on a branch that lost the fork (diverged), or
 * NULL.
 */
static const char *md3_diverged_of(const struct asm_pool *p,
				   const struct md3_member *sm)
{
	const struct md3_pool *m = p->md3;
	u32 i;

	for (i = 0; i < m->nr_devs; i++) {
		const struct md3_pdev *pd = &m->devs[i];

		if (pd->chain.kind == MD3_CHAIN_OK &&
		    pd->role == MD3_ROLE_DIVERGED &&
		    pd->chain.member_id == sm->id &&
		    !memcmp(pd->chain.member_uuid, sm->uuid, MD3_UUID_LEN))
			return pd->dev.name;
	}
	return NULL;
}

/* The device found for member @id (in-sync, lagging or stale), or NULL. */
static const char *md3_device_of(const struct asm_pool *p, u32 id)
{
	const struct md3_pool *m = p->md3;
	u32 i;

	for (i = 0; i < m->nr_devs; i++) {
		const struct md3_pdev *pd = &m->devs[i];

		if (pd->chain.kind == MD3_CHAIN_OK &&
		    pd->chain.member_id == id &&
		    (pd->role == MD3_ROLE_INSYNC ||
		     pd->role == MD3_ROLE_LAGGING ||
		     pd->role == MD3_ROLE_STALE))
			return pd->dev.name;
	}
	return NULL;
}

/*
 * The members of @p's state; *@absent: the current ones with no device
 * found, *@given_up: the current ones whose device is on a branch that
 * lost the fork (--prefer).
 */
static void md3_members(struct asm_pool *p, u32 *absent, u32 *given_up)
{
	const struct md3_state *st = &p->md3->st;
	struct asm_member *am;
	const char *label;
	u32 i;

	*absent = 0;
	*given_up = 0;

	p->members = spt_zalloc((st->nr_members + 1) * sizeof(*p->members));
	for (i = 0; i < st->nr_members; i++) {
		const struct md3_member *sm = &st->members[i];

		if (sm->status == MD3_REMOVED)
			continue;
		am = &p->members[p->nr_members++];
		snprintf(am->name, sizeof(am->name), "%s", sm->name);
		label = md3_domain_label(st, sm->domain);
		snprintf(am->domain, sizeof(am->domain), "%s",
			 label ? label : "");
		spu_uuid_format(sm->uuid, am->uuid);
		am->id = sm->id;
		am->status = sm->status;
		am->slices = sm->nr_slices;
		am->used = md3_member_used(st, sm->id);
		am->device = md3_device_of(p, sm->id);
		am->pass = ASM_PASS_NEVER;
		if (!am->device && md3_diverged_of(p, sm)) {
			am->device = md3_diverged_of(p, sm);
			am->result = "diverged";
			*given_up += sm->status == MD3_CURRENT;
		} else if (sm->status == MD3_CURRENT && !am->device) {
			am->result = "absent";
			(*absent)++;
		} else if (sm->status == MD3_STALE && !am->device) {
			am->result = "stale";
		} else if (sm->status == MD3_STALE &&
			   sm->reason == MD3_R_FORCED) {
			am->result = "forced-out";
		} else if (!spu_valid_name(am->name) ||
			   !spu_valid_domain(am->domain)) {
			asm_pool_err(p, "member %u: its recorded name '%s' or domain '%s' is not a valid configfs name; it is not enabled",
				     sm->id, am->name, am->domain);
			am->result = "failed";
		} else {
			am->pass = sm->status == MD3_CURRENT ?
				   ASM_PASS_CURRENT : ASM_PASS_STALE;
		}
	}
}

/* Whether the member of id @id is enabled by this assembly. */
static bool md3_member_here(const struct asm_pool *p, u32 id)
{
	size_t i;

	for (i = 0; i < p->nr_members; i++)
		if (p->members[i].id == id)
			return p->members[i].pass != ASM_PASS_NEVER;
	return false;
}

static void md3_volumes(struct asm_pool *p)
{
	const struct md3_state *st = &p->md3->st;
	struct asm_vol *v;
	u64 i, l;

	p->vols = spt_zalloc((st->nr_volumes + 1) * sizeof(*p->vols));
	for (i = 0; i < st->nr_volumes; i++) {
		const struct md3_volume *sv = &st->vols[i];

		if (!spu_valid_name(sv->name)) {
			asm_pool_err(p, "volume %llu: its recorded name '%s' is not a valid configfs name",
				     (unsigned long long)sv->id, sv->name);
			continue;
		}
		v = &p->vols[p->nr_vols++];
		v->id = sv->id;
		snprintf(v->rec.name, sizeof(v->rec.name), "%.*s",
			 SPT_NAME_MAX, sv->name);
		spu_uuid_format(sv->uuid, v->rec.uuid);
		v->rec.size = sv->size_bytes;
		v->rec.nr_slices = sv->nr_slices;
		v->rec.state = SPT_VOL_STATE_LIVE;
		v->kernel_missing = -1;
		spt_dm_name(p->name, v->rec.name, v->dm_name,
			    sizeof(v->dm_name));
		v->missing_list = spt_zalloc(ASM_MISSING_LIST * sizeof(u64));
		for (l = 0; l < sv->nr_slices; l++) {
			if (sv->map[l].member != MD3_NO_MEMBER &&
			    md3_member_here(p, sv->map[l].member))
				continue;
			if (v->nr_missing_list < ASM_MISSING_LIST)
				v->missing_list[v->nr_missing_list++] = l;
			v->missing++;
		}
		v->found = v->rec.nr_slices - v->missing;
		if (v->missing)
			p->degraded = true;
	}
}

/* See assemble.h. */
void asm_md3_analyse(struct asm_state *s, struct asm_pool *p)
{
	struct md3_assemble_opts o = {
		.nowrite = true, .have_uuid = true,
		.prefer = s->prefer, .prefer_member = s->prefer_member,
	};
	u32 k, nr_removed, absent, given_up;
	const struct md3_state *st;
	struct md3_dev *devs;
	char why[640], *nl;
	bool forked = false, need;
	size_t i;
	int r;

	if (p->nr_errors)
		return;
	memcpy(o.pool_uuid, p->devs[0]->pool_uuid, MD3_UUID_LEN);
	devs = spt_zalloc(p->nr_devs * sizeof(*devs));
	for (i = 0; i < p->nr_devs; i++)
		devs[i] = p->devs[i]->d.md;
	p->md3 = spt_zalloc(sizeof(*p->md3));
	r = md3_assemble(p->md3, devs, (u32)p->nr_devs, &o);
	free(devs);
	for (nl = p->md3->msg; (nl = strchr(nl, '\n'));)
		*nl = nl[1] ? ';' : '\0';
	if (r) {
		asm_pool_err(p, "cannot read the pool's metadata: %s", strerror(-r));
		return;
	}
	if (p->md3->verdict == MD3_MODE_REFUSED || !p->md3->winner.seq) {
		asm_pool_err(p, "the module would refuse this pool: %s",
			     p->md3->msg[0] ? p->md3->msg : "no usable metadata");
		return;
	}
	st = &p->md3->st;
	snprintf(p->name, sizeof(p->name), "%.*s", SPT_NAME_MAX,
		 st->pool.name);
	for (k = 0; k < p->md3->nr_devs; k++)
		forked |= p->md3->devs[k].role == MD3_ROLE_DIVERGED;
	if (s->prefer && !forked) {
		asm_pool_err(p, "--prefer %u: the devices found of this pool hold no fork, nothing to choose; assemble it without --prefer",
			     s->prefer_member);
		return;
	}
	p->slice_sectors = st->pool.slice_sectors;
	if (!spu_valid_name(st->pool.name)) {
		asm_pool_err(p, "its recorded name '%s' is not a valid configfs name",
			     st->pool.name);
		return;
	}
	for (k = 0, nr_removed = 0; k < p->md3->nr_devs; k++) {
		const struct md3_pdev *pd = &p->md3->devs[k];
		const struct md3_member *rm;

		if (pd->role == MD3_ROLE_INSYNC || pd->role == MD3_ROLE_LAGGING ||
		    pd->role == MD3_ROLE_STALE)
			continue;
		rm = asm_md3_removed(st, pd);
		if (rm) {
			snprintf(why, sizeof(why),
				 "member %s was removed from pool %s (wipe blocks 0 and 1 to reuse the device)",
				 rm->name, p->name);
			asm_add_refused(&s->removed, &s->nr_removed,
					pd->dev.name, why);
			nr_removed++;
			continue;
		}
		if (s->prefer && pd->role == MD3_ROLE_DIVERGED) {
			snprintf(why, sizeof(why),
				 "member %u of pool %s, on a branch that --prefer %u does not choose (diverged after seq %llu): left alone, never used; wipe its labels (blocks 0 and 1) to add it as a new member",
				 pd->chain.member_id, p->name, s->prefer_member,
				 (unsigned long long)pd->fork_seq);
			asm_add_refused(&s->diverged, &s->nr_diverged,
					pd->dev.name, why);
			continue;
		}
		md3_refusal(p, pd, why, sizeof(why));
		asm_add_refused(&s->refused, &s->nr_refused, pd->dev.name, why);
	}
	/* Only removed members' devices: no device is part of the pool. */
	if (nr_removed && nr_removed == p->md3->nr_devs &&
	    nr_removed == p->nr_devs) {
		p->removed_only = true;
		return;
	}
	md3_members(p, &absent, &given_up);
	/*
	 * With --prefer md3's verdict is read-write even with members absent
	 * (the choice forces): absent members need --force all the same.
	 */
	need = p->md3->verdict != MD3_MODE_RW || absent;
	p->readonly = need && !s->force;
	p->force = !p->readonly && (need || given_up);
	if (p->readonly)
		p->degraded = true;
	md3_volumes(p);
}

/* See assemble.h. */
void asm_md3_print_text(const struct asm_pool *p)
{
	const struct md3_state *st;
	size_t i;
	u64 j;

	for (i = 0; i < p->nr_members; i++) {
		const struct asm_member *m = &p->members[i];

		if (!strcmp(m->result ? m->result : "", "absent")) {
			printf("  ABSENT: member %s (id %u, domain %s, uuid %s): no device found\n",
			       m->name, m->id, m->domain, m->uuid);
		} else if (!strcmp(m->result ? m->result : "", "forced-out")) {
			printf("  member %s was forced out of the pool: %s %s is left alone\n",
			       m->name, "its device", m->device);
		} else if (!strcmp(m->result ? m->result : "", "diverged")) {
			printf("  DIVERGED: member %s (id %u): its device %s",
			       m->name, m->id, m->device);
			printf(" is on a branch --prefer does not choose: left alone,");
			printf(" never used%s\n",
			       m->status == MD3_CURRENT ?
			       "; the member is marked stale for good" : "");
		} else if (!strcmp(m->result ? m->result : "", "forced")) {
			printf("  FORCED: member %s (id %u) had no device:",
			       m->name, m->id);
			printf(" marked stale for good (its device is refused if it comes back)\n");
		}
	}
	if (p->readonly) {
		printf("  READ-ONLY: pool %s writes nothing and binds no volume",
		       p->name);
		printf(" until every current member is enabled; bring the absent");
		printf(" member(s) back and run 'slicepool assemble' again, or go");
		printf(" on without them: 'slicepool pool force %s' or", p->name);
		printf(" 'slicepool assemble --force' (they are then marked stale");
		printf(" for good)\n");
	}
	if (!p->md3 || p->nr_errors)
		return;
	st = &p->md3->st;
	for (j = 0; j < st->nr_moves; j++)
		spt_md3_move_text(st, &st->moves[j],
				  "  interrupted migration of volume ",
				  " (copy cursor ",
				  "): the module rolls it back when the pool comes up read-write; start it again");
}

/* See assemble.h. */
void asm_md3_json_member(const struct asm_member *m)
{
	static const char *const status[] = {
		[MD3_CURRENT] = "current", [MD3_STALE] = "stale",
		[MD3_REMOVED] = "removed",
	};

	js_u64("id", m->id);
	js_str("name", m->name);
	js_str("uuid", m->uuid);
	js_str("device", m->device);
	js_str("domain", m->domain);
	js_u64("slices", m->slices);
	js_u64("used_slices", m->used);
	js_str("status", m->status >= 0 && m->status < (int)ARRAY_SIZE(status) ?
	       status[m->status] : "?");
}

/* See assemble.h. */
void asm_md3_json_pool(const struct asm_pool *p)
{
	const struct md3_state *st = p->md3 && !p->nr_errors ? &p->md3->st :
				     NULL;
	size_t i;
	u64 j;

	js_str("mode", !st ? NULL : p->readonly ? "read-only" : "read-write");
	js_bool("forced", p->force && !p->readonly);
	js_open_arr("absent_members");
	for (i = 0; i < p->nr_members; i++)
		if (p->members[i].result &&
		    (!strcmp(p->members[i].result, "absent") ||
		     !strcmp(p->members[i].result, "forced")))
			js_str(NULL, p->members[i].name);
	js_close();
	js_open_arr("moves");
	for (j = 0; st && j < st->nr_moves; j++) {
		js_open_obj(NULL);
		spt_md3_move_json(st, &st->moves[j]);
		js_close();
	}
	js_close();
}

/* See assemble.h. */
void asm_md3_free(struct asm_pool *p)
{
	if (p->md3) {
		md3_pool_free(p->md3);
		free(p->md3);
	}
	free(p->devs);
}
