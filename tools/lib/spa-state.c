// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - the agent's state files
 *
 * <state_dir>/grants (what this node lent) and <state_dir>/borrowed (what
 * it borrowed): a comment line, then one grant a line, fifteen words:
 *
 *   grant|borrow <id> <state> <peer> <size> <bytes> <name> <uuid> <req_id>
 *                <created> <hostnqn> <subnqn> <traddr> <trsvcid> <nsid>
 *                [<resize_to>]
 *
 * "-" stands for an empty string.  A lender's grant in state "resizing"
 * has a sixteenth word, the size it grows to (<size> and <bytes> are still
 * the old ones); no other line has it.  A file is replaced atomically (write a
 * temporary file, fsync, rename, fsync the directory) after every state
 * change, before the change is acted on or answered.  A line that does
 * not parse makes the whole file refused: the agent does not guess about
 * what it lent.
 *
 * Also read here: <state_dir>/peers (the learned peers, peers.c writes it)
 * and <state_dir>/health (the daemon's view of its peers, health.c writes
 * it).  This file needs only the C library: tools/slicepool compiles it
 * too (spa-state.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa-state.h"

static const char *const state_names[SPA_G_MAX] = {
	[SPA_G_EXPORTING] = "exporting",
	[SPA_G_ACTIVE] = "active",
	[SPA_G_RELEASING] = "releasing",
	[SPA_G_RELEASED] = "released",
	[SPA_G_REQUESTING] = "requesting",
	[SPA_G_CONNECTING] = "connecting",
	[SPA_G_RESIZING] = "resizing",
	[SPA_G_REVOKING] = "revoking",
	[SPA_G_FENCED] = "fenced",
};

void *spa_find_name(const void *base, size_t n, size_t size, size_t off,
		    const char *name)
{
	const char *p = base;
	size_t i;

	for (i = 0; i < n; i++, p += size)
		if (!strcmp(p + off, name))
			return (void *)p;
	return NULL;
}

const char *spa_gstate_name(int state)
{
	if (state <= 0 || state >= SPA_G_MAX)
		return "invalid";
	return state_names[state];
}

static int state_parse(const char *s)
{
	int i;

	for (i = 1; i < SPA_G_MAX; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return -1;
}

static const char *dash(const char *s)
{
	return s[0] ? s : "-";
}

static int str_field(const char *w, char *dst, size_t cap,
		     bool (*valid)(const char *))
{
	if (!strcmp(w, "-")) {
		dst[0] = '\0';
		return 0;
	}
	if (strlen(w) >= cap || !valid(w))
		return -EINVAL;
	snprintf(dst, cap, "%s", w);
	return 0;
}

static int parse_line(char *line, const char *kind, struct spa_grant *g)
{
	char *w[17], *s, *save;
	unsigned long long v;
	unsigned int n = 0;
	u8 id[8];
	int i;

	for (s = strtok_r(line, " \t", &save); s;
	     s = strtok_r(NULL, " \t", &save)) {
		if (n == ARRAY_SIZE(w))
			return -EINVAL;
		w[n++] = s;
	}
	if (n < 15 || strcmp(w[0], kind))
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	if (spu_unhex(w[1], id, 8))
		return -EINVAL;
	for (i = 0; i < 8; i++)
		g->id = g->id << 8 | id[i];
	g->state = state_parse(w[2]);
	if (g->state < 0 || (!g->id && g->state != SPA_G_REQUESTING &&
			     g->state != SPA_G_RELEASED))
		return -EINVAL;
	/* Only a lender's resizing grant has the sixteenth word. */
	if (g->state == SPA_G_RESIZING ?
	    n != 16 || strcmp(kind, "grant") : n != 15)
		return -EINVAL;
	if (!spa_valid_node(w[3]))
		return -EINVAL;
	snprintf(g->peer, sizeof(g->peer), "%s", w[3]);
	if (spu_parse_uint(w[4], SPA_SIZE_MAX, &v))
		return -EINVAL;
	g->size = v;
	if (spu_parse_uint(w[5], SPA_SIZE_MAX * 2, &v))
		return -EINVAL;
	g->bytes = v;
	if (str_field(w[6], g->name, sizeof(g->name), spu_valid_name) ||
	    str_field(w[7], g->uuid, sizeof(g->uuid), spu_valid_uuid) ||
	    spu_unhex(w[8], g->req_id, SPA_ID_LEN))
		return -EINVAL;
	if (spu_parse_uint(w[9], ~0ULL, &v))
		return -EINVAL;
	g->created = v;
	if (str_field(w[10], g->hostnqn, sizeof(g->hostnqn), spa_valid_nqn) ||
	    str_field(w[11], g->subnqn, sizeof(g->subnqn), spa_valid_nqn) ||
	    str_field(w[12], g->traddr, sizeof(g->traddr), spa_valid_addr))
		return -EINVAL;
	if (spu_parse_uint(w[13], 65535, &v))
		return -EINVAL;
	g->trsvcid = (u16)v;
	if (spu_parse_uint(w[14], 0xffffffffULL, &v))
		return -EINVAL;
	g->nsid = (u32)v;
	if (n == 16) {
		if (spu_parse_uint(w[15], SPA_SIZE_MAX, &v) || v <= g->size)
			return -EINVAL;
		g->resize_to = v;
	}
	return 0;
}

int spa_ledger_load(struct spa_ledger *l, const char *path, bool lender,
		    char *why, size_t wlen)
{
	const char *kind = lender ? "grant" : "borrow";
	char line[1024];
	unsigned int lineno = 0;
	struct spa_grant *g;
	FILE *f;

	memset(l, 0, sizeof(*l));
	l->lender = lender;
	if (strlen(path) >= sizeof(l->path))
		return spu_reason(why, wlen, -ENAMETOOLONG, "path too long");
	snprintf(l->path, sizeof(l->path), "%s", path);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return spu_reason(why, wlen, -errno, "cannot open %s: %s", path,
				  strerror(errno));
	}
	l->existed = true;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			goto bad;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (l->n >= SPA_GRANTS_MAX)
			goto bad;
		g = spa_ledger_add(l);
		if (!g) {
			fclose(f);
			spa_ledger_free(l);
			return spu_reason(why, wlen, -ENOMEM, "out of memory");
		}
		if (parse_line(line, kind, g)) {
			l->n--;
			goto bad;
		}
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	spa_ledger_free(l);
	return spu_reason(why, wlen, -EINVAL,
			  "%s:%u: not a valid %s line: refusing to guess what was %s (fix or move the file)",
			  path, lineno, kind, lender ? "lent" : "borrowed");
}

int spa_ledger_save(struct spa_ledger *l, char *why, size_t wlen)
{
	const char *kind = l->lender ? "grant" : "borrow";
	char tmp[PATH_MAX + 8], rid[2 * SPA_ID_LEN + 1];
	const struct spa_grant *g;
	size_t i;
	FILE *f;
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", l->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return spu_reason(why, wlen, -errno, "cannot write %s: %s", tmp,
				  strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	}
	fprintf(f, "# slicepool-agent %s v1\n",
		l->lender ? "grants lent" : "grants borrowed");
	fprintf(f, "# %s id state peer size bytes name uuid req_id created\n",
		kind);
	fprintf(f, "#   hostnqn subnqn traddr trsvcid nsid [resize_to]\n");
	for (i = 0; i < l->n; i++) {
		g = &l->g[i];
		spu_hex(g->req_id, SPA_ID_LEN, rid);
		fprintf(f, "%s %016llx %s %s %llu %llu %s %s %s %llu %s %s %s %u %u",
			kind, g->id, spa_gstate_name(g->state), g->peer,
			g->size, g->bytes, dash(g->name), dash(g->uuid), rid,
			g->created, dash(g->hostnqn), dash(g->subnqn),
			dash(g->traddr), g->trsvcid, g->nsid);
		if (g->state == SPA_G_RESIZING)
			fprintf(f, " %llu", g->resize_to);
		fputc('\n', f);
	}
	if (fflush(f) || fsync(fd))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret && rename(tmp, l->path))
		ret = -errno;
	if (!ret)
		ret = spu_fsync_dir_of(l->path);
	if (ret) {
		unlink(tmp);
		return spu_reason(why, wlen, ret, "cannot save %s: %s", l->path,
				  strerror(-ret));
	}
	l->existed = true;
	return 0;
}

void spa_ledger_free(struct spa_ledger *l)
{
	free(l->g);
	l->g = NULL;
	l->n = 0;
}

struct spa_grant *spa_ledger_find(struct spa_ledger *l, u64 id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->g[i].id == id)
			return &l->g[i];
	return NULL;
}

/* A zeroed entry at the end; pointers into the ledger become invalid. */
struct spa_grant *spa_ledger_add(struct spa_ledger *l)
{
	struct spa_grant *g;

	if (l->n >= SPA_GRANTS_MAX)
		return NULL;
	g = realloc(l->g, (l->n + 1) * sizeof(*g));
	if (!g)
		return NULL;
	l->g = g;
	memset(&l->g[l->n], 0, sizeof(*g));
	return &l->g[l->n++];
}

void spa_ledger_prune(struct spa_ledger *l, size_t keep)
{
	size_t i, k, released = 0;

	for (i = 0; i < l->n; i++)
		if (l->g[i].state == SPA_G_RELEASED)
			released++;
	for (i = 0, k = 0; i < l->n; i++) {
		if (l->g[i].state == SPA_G_RELEASED && released > keep) {
			released--;	/* the oldest go first */
			continue;
		}
		l->g[k++] = l->g[i];
	}
	l->n = k;
}

int spa_lock_file(const char *path, bool wait)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) {
		if (errno == EINTR)
			continue;
		close(fd);
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	}
	return fd;
}

int spa_grant_id_parse(const char *s, u64 *id)
{
	u8 b[8];
	int i;

	if (spu_unhex(s, b, 8))
		return -EINVAL;
	*id = 0;
	for (i = 0; i < 8; i++)
		*id = *id << 8 | b[i];
	return *id ? 0 : -EINVAL;
}

int spa_subnqn_prefix(const struct spa_config *c, char *buf, size_t len)
{
	return spu_path(buf, len, "%s:grant:%s:", c->nqn_prefix, c->node);
}

/* ------------------------------------------------ <state_dir>/peers */

int spa_learned_read(const char *path,
		     void (*fn)(const char *name, const char *addr,
				u16 port, void *arg),
		     void *arg)
{
	char line[256], name[64], addr[64];
	unsigned int port;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "peer %63s %63s %u", name, addr, &port) != 3)
			continue;
		if (!spa_valid_node(name) || !spa_valid_addr(addr) || !port ||
		    port > 65535)
			continue;
		fn(name, addr, (u16)port, arg);
	}
	fclose(f);
	return 0;
}

struct known_arg {
	const struct spa_config *c;
	struct spa_known_peer *out;
	unsigned int n;
};

/* As spa_peers_learn() adds a learned peer to the daemon's table. */
static void known_one(const char *name, const char *addr, u16 port,
		      void *arg)
{
	struct known_arg *k = arg;
	struct spa_known_peer *p = NULL;
	unsigned int i;

	if (!strcmp(name, k->c->node))
		return;
	for (i = 0; i < k->n && !p; i++)
		if (!strcmp(k->out[i].p.name, name))
			p = &k->out[i];
	if (p && p->configured)
		return;
	if (!p) {
		if (k->n >= SPA_PEERS_MAX)
			return;
		p = &k->out[k->n++];
		memset(p, 0, sizeof(*p));
		spu_strcpy(p->p.name, sizeof(p->p.name), name);
	}
	spu_strcpy(p->p.addr, sizeof(p->p.addr), addr);
	p->p.port = port;
}

int spa_known_peers(const struct spa_config *c,
		    struct spa_known_peer out[SPA_PEERS_MAX])
{
	struct known_arg k = { .c = c, .out = out };
	char path[PATH_MAX];
	int ret;

	for (k.n = 0; k.n < c->nr_peers && k.n < SPA_PEERS_MAX; k.n++) {
		memset(&out[k.n], 0, sizeof(out[k.n]));
		out[k.n].p = c->peers[k.n];
		out[k.n].configured = true;
	}
	ret = spu_path(path, sizeof(path), "%s/peers", c->state_dir);
	if (!ret)
		ret = spa_learned_read(path, known_one, &k);
	if (ret && ret != -ENOENT)
		return ret;
	return k.n;
}

/* ------------------------------------------------ <state_dir>/health */

static const char *const health_names[] = {
	[SPA_H_UNKNOWN] = "unknown",
	[SPA_H_UP] = "up",
	[SPA_H_DOWN] = "down",
};

const char *spa_health_name(int health)
{
	if (health < 0 || health >= (int)ARRAY_SIZE(health_names))
		return "unknown";
	return health_names[health];
}

static int health_parse(const char *s)
{
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(health_names); i++)
		if (!strcmp(s, health_names[i]))
			return i;
	return -1;
}

void spa_health_load(const struct spa_config *c, u64 now_ms,
		     struct spa_health *h)
{
	char path[PATH_MAX], line[256], name[64], state[16];
	unsigned long long updated, stale, heard, lendable;
	unsigned int timeout, grants;
	struct spa_health_entry *e;
	bool head = false;
	FILE *f;
	int st;

	memset(h, 0, sizeof(*h));
	if (spu_path(path, sizeof(path), "%s/health", c->state_dir))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!head) {
			if (sscanf(line, "updated %llu timeout %u stale %llu",
				   &updated, &timeout, &stale) == 3)
				head = true;
			continue;
		}
		if (sscanf(line, "peer %63s %15s %llu %llu %u", name, state,
			   &heard, &lendable, &grants) != 5)
			continue;
		st = health_parse(state);
		if (st < 0 || !spa_valid_node(name) || h->n >= SPA_PEERS_MAX)
			continue;
		e = &h->e[h->n++];
		spu_strcpy(e->name, sizeof(e->name), name);
		e->health = st;
		e->heard_ms = heard;
		e->lendable = lendable;
		e->grants = grants;
	}
	fclose(f);
	if (!head || now_ms > updated + stale * 1000) {
		/* No daemon wrote it lately: nothing is known. */
		memset(h, 0, sizeof(*h));
		h->updated_ms = head ? updated : 0;
		return;
	}
	h->fresh = true;
	h->updated_ms = updated;
	h->timeout = timeout;
}

const struct spa_health_entry *spa_health_find(const struct spa_health *h,
					       const char *name)
{
	return spa_find_named(h->e, h->n, name, name);
}
