// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - remote, peer and export commands
 *
 * The tool's view of slicepool-agent (nvmet-remote-ns/agent), which lends
 * and borrows pool space between hosts over NVMe/TCP:
 *
 *   remote list, export list, peer list
 *	read the agent's state files under its state_dir (the ledgers of
 *	grants borrowed and lent, the learned peers, the daemon's health
 *	file) and nvmet configfs, with the agent's own readers: state.c,
 *	config.c, proto.c, cfs.c and nvmet.c of the agent are compiled into
 *	the tool (spa-state.h).  Nothing is written.
 *   remote request, remote resize, remote release
 *	run "slicepool-agent -c CONFIG borrow|resize|release ..." (execvp
 *	with an argument vector, no shell), which talks to the peers,
 *	connects or disconnects the namespace, adds, grows or removes the
 *	pool member.  The arguments are checked here first, so that a bad
 *	one is a usage error and the agent is not run.
 *
 * There is no control socket: the state files are the interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slicepool.h"
#include "spa-state.h"

#define OPT_AGENT_CONFIG	0x2001
#define OPT_ALL			0x2002
#define OPT_SIZE		0x2003

/* The agent's binary: $SLICEPOOL_AGENT, else slicepool-agent in $PATH. */
#define SPA_AGENT_ENV		"SLICEPOOL_AGENT"
#define SPA_AGENT_BIN		"slicepool-agent"

/* Agent exit codes (nvmet-remote-ns/agent/main.c). */
#define SPA_EXIT_USAGE		2
#define SPA_EXIT_REFUSED	3
#define SPA_EXIT_NOT_ALLOWED	4

/* The options: --agent-config, and --all (the lists) or --size. */
#define OPTS_AGENT_CONFIG \
	{ "agent-config", required_argument, NULL, OPT_AGENT_CONFIG }
#define OPTS_END		{ NULL, 0, NULL, 0 }

static const struct option conf_opts[] = { OPTS_AGENT_CONFIG, OPTS_END };

static const struct option list_opts[] = {
	OPTS_AGENT_CONFIG, { "all", no_argument, NULL, OPT_ALL }, OPTS_END
};

static const struct option size_opts[] = {
	OPTS_AGENT_CONFIG, { "size", required_argument, NULL, OPT_SIZE },
	OPTS_END
};

struct remote_opts {
	const char *conf;	/* --agent-config */
	const char *size;	/* --size */
	bool all;		/* --all */
};

static void parse_opts(const struct spt_cmd *cmd, int argc, char **argv,
		       const struct option *opts, struct remote_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->conf = SPA_CONFIG_DEFAULT;
	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_AGENT_CONFIG:
			if (!optarg[0])
				spt_usage_fail(cmd, "--agent-config: empty path");
			o->conf = optarg;
			break;
		case OPT_ALL:
			o->all = true;
			break;
		case OPT_SIZE:
			o->size = optarg;
			break;
		}
	}
}

static int load_config(const char *path, struct spa_config *c)
{
	char why[PATH_MAX + 256];

	if (spa_config_load(path, c, why, sizeof(why))) {
		spt_err("slicepool-agent configuration: %s (give its path with --agent-config PATH; default %s)",
			why, SPA_CONFIG_DEFAULT);
		return -EINVAL;
	}
	return 0;
}

/* The state directory must be there and readable: else nothing is known. */
static int check_state_dir(const struct spa_config *c)
{
	struct stat st;
	int err;

	if (stat(c->state_dir, &st)) {
		err = errno;
		if (err == ENOENT)
			spt_err("the agent's state directory %s (state_dir in %s) does not exist: slicepool-agent has not run with this configuration",
				c->state_dir, c->path);
		else
			spt_err("cannot read the agent's state directory %s (state_dir in %s): %s",
				c->state_dir, c->path, strerror(err));
		return -err;
	}
	if (!S_ISDIR(st.st_mode)) {
		spt_err("the agent's state directory %s (state_dir in %s) is not a directory",
			c->state_dir, c->path);
		return -ENOTDIR;
	}
	if (access(c->state_dir, R_OK | X_OK)) {
		err = errno;
		spt_err("cannot read the agent's state directory %s (state_dir in %s): %s",
			c->state_dir, c->path, strerror(err));
		return -err;
	}
	return 0;
}

/* Loads the configuration and the ledger of grants lent or borrowed. */
static int load_ledger(const char *conf, struct spa_config *c, bool lender,
		       struct spa_ledger *l)
{
	char path[PATH_MAX], why[PATH_MAX + 256];

	if (load_config(conf, c) || check_state_dir(c))
		return -EINVAL;
	if (spu_path(path, sizeof(path), "%s/%s", c->state_dir,
		     lender ? "grants" : "borrowed")) {
		spt_err("state_dir %s: path too long", c->state_dir);
		return -ENAMETOOLONG;
	}
	if (spa_ledger_load(l, path, lender, why, sizeof(why))) {
		spt_err("%s", why);
		return -EINVAL;
	}
	return 0;
}

static unsigned long long now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (unsigned long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static const char *or_null(const char *s)
{
	return s[0] ? s : NULL;
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

/* The fields of a grant both ledgers have, in JSON. */
static void json_grant_common(const struct spa_grant *g)
{
	char id[20];

	snprintf(id, sizeof(id), "%016llx", g->id);
	js_str("grant", id);
	js_str("state", spa_gstate_name(g->state));
	js_str("peer", g->peer);
	js_u64("size", g->size);
	js_str("uuid", or_null(g->uuid));
	js_str("hostnqn", or_null(g->hostnqn));
	js_str("subnqn", or_null(g->subnqn));
	js_str("address", or_null(g->traddr));
	js_u64_or_null("port", g->trsvcid, g->trsvcid);
	js_u64_or_null("nsid", g->nsid, g->nsid);
	js_u64("created", g->created);
}

static void addr_str(const struct spa_grant *g, char *buf, size_t len)
{
	if (!g->traddr[0])
		snprintf(buf, len, "-");
	else if (strchr(g->traddr, ':'))
		snprintf(buf, len, "[%s]:%u", g->traddr, g->trsvcid);
	else
		snprintf(buf, len, "%s:%u", g->traddr, g->trsvcid);
}

/* ------------------------------------------- remote list, export list */

/* A list of the grants of a ledger: borrowed, or lent (@lender). */
struct grant_list {
	struct remote_opts o;
	struct spa_config *c;
	struct spa_ledger l;
	struct spt_table *t;
	bool lender;
	size_t next, shown;
	unsigned long long total;	/* of the grants not given back */
};

/* Parses the options and loads the ledger: 0, or SPT_EXIT_FAIL. */
static int list_load(struct grant_list *gl, const struct spt_cmd *cmd,
		     int argc, char **argv, bool lender,
		     const char *const *hdr, unsigned int ncols)
{
	memset(gl, 0, sizeof(*gl));
	gl->c = spt_zalloc(sizeof(*gl->c));
	gl->lender = lender;
	parse_opts(cmd, argc, argv, list_opts, &gl->o);
	spt_want_args(cmd, argc, argv, 0);
	if (load_ledger(gl->o.conf, gl->c, lender, &gl->l)) {
		free(gl->c);
		return SPT_EXIT_FAIL;
	}
	gl->t = tbl_new(ncols, hdr);
	return 0;
}

/* Opens the JSON document: the node and the pool. */
static void list_json_head(const struct grant_list *gl)
{
	js_open_obj(NULL);
	js_str("node", gl->c->node);
	js_str("pool", or_null(gl->c->pool));
}

/*
 * The next grant to show (one given back only with --all), counted in
 * shown and total; NULL after the last. A table row starts with @id and
 * @sz, its id and size.
 */
static const struct spa_grant *list_next(struct grant_list *gl, char id[20],
					 char sz[32])
{
	const struct spa_grant *g;

	while (gl->next < gl->l.n) {
		g = &gl->l.g[gl->next++];
		if (g->state == SPA_G_RELEASED && !gl->o.all)
			continue;
		gl->shown++;
		if (g->state != SPA_G_RELEASED)
			gl->total += gl->lender ? g->bytes : g->size;
		snprintf(id, 20, "%016llx", g->id);
		spu_format_size(g->size, false, sz, 32);
		return g;
	}
	return NULL;
}

/* The table, when it has rows (text only). */
static void list_print(const struct grant_list *gl)
{
	if (gl->shown)
		tbl_print(gl->t, stdout, NULL);
}

static void list_free(struct grant_list *gl)
{
	tbl_free(gl->t);
	spa_ledger_free(&gl->l);
	free(gl->c);
}

int cmd_remote_list(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const char *const hdr[] = {
		"GRANT", "STATE", "LENDER", "SIZE", "MEMBER", "ADDRESS",
		"SUBNQN"
	};
	char id[20], sz[32], addr[SPA_ADDR_MAX + 10], dom[SPA_NODE_MAX + 8];
	const struct spa_grant *g;
	struct grant_list gl;

	if (list_load(&gl, cmd, argc, argv, false, hdr, ARRAY_SIZE(hdr)))
		return SPT_EXIT_FAIL;
	if (spt_json) {
		list_json_head(&gl);
		js_open_arr("borrowed");
	}
	while ((g = list_next(&gl, id, sz))) {
		snprintf(dom, sizeof(dom), "remote:%s", g->peer);
		if (spt_json) {
			js_open_obj(NULL);
			json_grant_common(g);
			js_str("member", or_null(g->name));
			js_str("domain", dom);
			js_close();
			continue;
		}
		addr_str(g, addr, sizeof(addr));
		tbl_add(gl.t, id, spa_gstate_name(g->state), g->peer, sz,
			or_dash(g->name), addr, or_dash(g->subnqn));
	}
	if (spt_json) {
		js_close();
		js_u64("borrowed_bytes", gl.total);
		js_end();
	} else {
		spu_format_size(gl.total, false, sz, sizeof(sz));
		printf("node %s, pool %s: %zu grant(s)%s borrowed, %s\n",
		       gl.c->node, or_dash(gl.c->pool), gl.shown,
		       gl.o.all ? " (with those given back)" : "", sz);
		list_print(&gl);
	}
	list_free(&gl);
	return SPT_EXIT_OK;
}

static bool owned(const struct spa_ledger *l, const char *subnqn)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->g[i].state != SPA_G_RELEASED &&
		    !strcmp(l->g[i].subnqn, subnqn))
			return true;
	return false;
}

int cmd_export_list(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const char *const hdr[] = {
		"GRANT", "STATE", "BORROWER", "SIZE", "VOLUME", "EXPORTED",
		"HOSTNQN", "SUBNQN"
	};
	char id[20], sz[32], prefix[SPA_NQN_MAX + 64];
	const struct spa_config *c;
	char **subs = NULL;
	size_t nsubs = 0, i;
	const struct spa_grant *g;
	struct grant_list gl;
	bool nvmet_ok, exp;
	int ret;

	if (list_load(&gl, cmd, argc, argv, true, hdr, ARRAY_SIZE(hdr)))
		return SPT_EXIT_FAIL;
	c = gl.c;
	ret = spa_subnqn_prefix(c, prefix, sizeof(prefix));
	if (!ret)
		ret = spa_nvmet_list(prefix, &subs, &nsubs);
	nvmet_ok = !ret;
	if (ret)
		spt_warn("cannot list the nvmet subsystems in %s/subsystems: %s: whether grants are exported is not known",
			 spu_nvmet_root(), strerror(-ret));

	if (spt_json) {
		list_json_head(&gl);
		js_bool("lending", c->lend > 0);
		js_u64("nvmet_port_id", c->nvmet_port_id);
		js_open_arr("exports");
	}
	while ((g = list_next(&gl, id, sz))) {
		exp = g->subnqn[0] &&
		      spa_nvmet_exported(g->subnqn, c->nvmet_port_id +
					 spa_grant_slot(c, g->trsvcid));
		if (spt_json) {
			js_open_obj(NULL);
			json_grant_common(g);
			js_u64("bytes", g->bytes);
			js_str("volume", or_null(g->name));
			if (nvmet_ok)
				js_bool("exported", exp);
			else
				js_null("exported");
			js_close();
			continue;
		}
		tbl_add(gl.t, id, spa_gstate_name(g->state), g->peer, sz,
			or_dash(g->name), !nvmet_ok ? "-" : exp ? "yes" : "no",
			or_dash(g->hostnqn), or_dash(g->subnqn));
	}
	if (spt_json) {
		js_close();
		js_u64("lent_bytes", gl.total);
		js_open_arr("stray_subsystems");
		for (i = 0; i < nsubs; i++)
			if (!owned(&gl.l, subs[i]))
				js_str(NULL, subs[i]);
		js_close();
		js_end();
	} else {
		spu_format_size(gl.total, false, sz, sizeof(sz));
		printf("node %s, pool %s%s: %zu grant(s)%s lent, %s of the pool\n",
		       c->node, or_dash(c->pool),
		       c->lend > 0 ? "" : " (not lending)", gl.shown,
		       gl.o.all ? " (with those given back)" : "", sz);
		list_print(&gl);
		for (i = 0; i < nsubs; i++)
			if (!owned(&gl.l, subs[i]))
				printf("stray nvmet subsystem %s: %s\n", subs[i],
				       "no grant owns it (slicepool-agent removes it when it starts)");
	}
	spu_free_list(subs, nsubs);
	list_free(&gl);
	return SPT_EXIT_OK;
}

/* ------------------------------------------------------ peer list */

/* Health of a peer; @e is NULL when the health file does not name it. */
static const char *peer_health(const struct spa_health *h,
			       const struct spa_health_entry *e)
{
	if (!h->fresh || !e)
		return "unknown";
	return spa_health_name(e->health);
}

int cmd_peer_list(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const char *const hdr[] = {
		"PEER", "ADDRESS", "PORT", "ORIGIN", "HEALTH", "LAST HEARD",
		"LENDABLE", "GRANTS"
	};
	struct spa_known_peer *kp = spt_zalloc(SPA_PEERS_MAX * sizeof(*kp));
	struct spa_config *c = spt_zalloc(sizeof(*c));
	struct spa_health *h = spt_zalloc(sizeof(*h));
	const struct spa_health_entry *e;
	unsigned long long now = now_ms();
	char port[8], heard[32], lend[32], grants[16];
	struct remote_opts o;
	struct spt_table *t;
	bool up;
	int i, n;

	parse_opts(cmd, argc, argv, conf_opts, &o);
	spt_want_args(cmd, argc, argv, 0);
	if (load_config(o.conf, c) || check_state_dir(c)) {
		n = -EINVAL;
		goto out;
	}
	n = spa_known_peers(c, kp);
	if (n < 0) {
		spt_err("cannot read the learned peers %s/peers: %s",
			c->state_dir, strerror(-n));
		goto out;
	}
	spa_health_load(c, now, h);

	if (spt_json) {
		js_open_obj(NULL);
		js_str("node", c->node);
		js_open_obj("health");
		js_bool("fresh", h->fresh);
		js_u64_or_null("updated_ms", h->updated_ms, h->updated_ms);
		js_u64_or_null("heartbeat_timeout", h->fresh, h->timeout);
		js_close();
		js_open_arr("peers");
	} else {
		if (h->fresh)
			printf("node %s: health as the daemon found it %llu s ago %s%u s)\n",
			       c->node,
			       now > h->updated_ms ?
			       (now - h->updated_ms) / 1000 : 0,
			       "(heartbeat_timeout ", h->timeout);
		else
			printf("node %s: no health: the daemon is not running, or heartbeat is 0\n",
			       c->node);
	}
	t = tbl_new(ARRAY_SIZE(hdr), hdr);
	for (i = 0; i < n; i++) {
		e = h->fresh ? spa_health_find(h, kp[i].p.name) : NULL;
		up = e && e->health == SPA_H_UP;
		if (spt_json) {
			js_open_obj(NULL);
			js_str("name", kp[i].p.name);
			js_str("address", kp[i].p.addr);
			js_u64("port", kp[i].p.port);
			js_str("origin", kp[i].configured ? "configured" :
			       "learned");
			js_str("health", peer_health(h, e));
			js_bool("excluded", e && e->health == SPA_H_DOWN);
			if (e && e->heard_ms) {
				js_u64("heard_ms", e->heard_ms);
				js_u64("heard_ago_s", now > e->heard_ms ?
				       (now - e->heard_ms) / 1000 : 0);
			} else {
				js_null("heard_ms");
				js_null("heard_ago_s");
			}
			if (up) {
				js_u64("lendable", e->lendable);
				js_u64("grants", e->grants);
			} else {
				js_null("lendable");
				js_null("grants");
			}
			js_close();
			continue;
		}
		snprintf(port, sizeof(port), "%u", kp[i].p.port);
		if (e && e->heard_ms)
			snprintf(heard, sizeof(heard), "%llu s ago",
				 now > e->heard_ms ?
				 (now - e->heard_ms) / 1000 : 0);
		else
			snprintf(heard, sizeof(heard), "%s", e ? "never" : "-");
		if (up) {
			spu_format_size(e->lendable, false, lend, sizeof(lend));
			snprintf(grants, sizeof(grants), "%u", e->grants);
		} else {
			snprintf(lend, sizeof(lend), "-");
			snprintf(grants, sizeof(grants), "-");
		}
		tbl_add(t, kp[i].p.name, kp[i].p.addr, port,
			kp[i].configured ? "configured" : "learned",
			peer_health(h, e), heard, lend, grants);
	}
	if (spt_json) {
		js_close();
		js_end();
	} else if (n) {
		tbl_print(t, stdout, NULL);
	} else {
		printf("no peers (configure 'peer NAME ADDRESS PORT' in %s)\n",
		       c->path);
	}
	tbl_free(t);
out:
	free(kp);
	free(c);
	free(h);
	return n < 0 ? SPT_EXIT_FAIL : SPT_EXIT_OK;
}

/* ------------------------------------------------ running the agent */

static const char *agent_bin(void)
{
	const char *p = getenv(SPA_AGENT_ENV);

	return p && p[0] ? p : SPA_AGENT_BIN;
}

/*
 * Runs the agent with @argv (no shell), its standard output into @out
 * (NUL-terminated, the rest read and dropped), its standard error on ours.
 * Returns its exit code, or -1 when it could not be run or was killed.
 */
static int run_agent_to(char *const argv[], char *out, size_t len,
			bool merge_err)
{
	size_t n = 0;
	ssize_t r;
	char buf[512];
	int pfd[2], status, nul;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC)) {
		spt_err("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		spt_err("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (dup2(pfd[1], STDOUT_FILENO) < 0 ||
		    (merge_err && dup2(pfd[1], STDERR_FILENO) < 0) ||
		    (nul >= 0 && dup2(nul, STDIN_FILENO) < 0))
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr,
			"slicepool: cannot run %s: %s (set %s to the path of slicepool-agent, or put it in PATH)\n",
			argv[0], strerror(errno), SPA_AGENT_ENV);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		r = read(pfd[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n + 1 < len) {
			if ((size_t)r > len - 1 - n)
				r = len - 1 - n;
			memcpy(out + n, buf, r);
			n += r;
		}
	}
	out[n] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			spt_err("waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (WIFSIGNALED(status)) {
		spt_err("%s was killed by signal %d", argv[0],
			WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

static int run_agent(char *const argv[], char *out, size_t len)
{
	return run_agent_to(argv, out, len, false);
}

/* Reports an agent that did not succeed; its own reason is on stderr. */
static int agent_failed(const char *what, int code)
{
	if (code < 0 || code == 127)
		return SPT_EXIT_FAIL;
	spt_err("%s: slicepool-agent exited %d (%s)", what, code,
		code == SPA_EXIT_REFUSED ? "refused by the peer" :
	       code == SPA_EXIT_USAGE ? "bad usage or configuration" :
	       "failed");
	return SPT_EXIT_FAIL;
}

/*
 * Loads the configuration @conf into a new *@cp, then runs
 * "slicepool-agent -c <conf> <verb> [<a>] [<b>]" (a NULL argument is left
 * out) with its output in @out: 0, or the exit code once reported as a
 * failure of @what (*@cp is then freed).
 */
static int agent_verb(const char *what, const char *conf, const char *verb,
		      const char *a, const char *b, char *out, size_t len,
		      struct spa_config **cp)
{
	struct spa_config *c = spt_zalloc(sizeof(*c));
	char *av[7];
	int k = 0, ret;

	if (load_config(conf, c)) {
		free(c);
		return SPT_EXIT_FAIL;
	}
	av[k++] = (char *)agent_bin();
	av[k++] = "-c";
	av[k++] = (char *)conf;
	av[k++] = (char *)verb;
	if (a)
		av[k++] = (char *)a;
	if (b)
		av[k++] = (char *)b;
	av[k] = NULL;
	ret = run_agent(av, out, len);
	if (ret) {
		free(c);
		return agent_failed(what, ret);
	}
	*cp = c;
	return 0;
}

/* The agent succeeded but printed @out, which cannot be read. */
static int unreadable(const char *what, const char *out, struct spa_config *c)
{
	spt_err("%s: slicepool-agent succeeded but printed what this tool cannot read (see 'slicepool remote list'):",
		what);
	fputs(out, stderr);
	free(c);
	return SPT_EXIT_FAIL;
}

/* The value of line "@key value" of the agent's output, or NULL. */
static const char *out_value(const char *out, const char *key, char *buf,
			     size_t len)
{
	size_t k = strlen(key), n;
	const char *p = out;

	while (*p) {
		n = strcspn(p, "\n");
		if (n > k && !strncmp(p, key, k) && p[k] == ' ' &&
		    n - k - 1 < len) {
			memcpy(buf, p + k + 1, n - k - 1);
			buf[n - k - 1] = '\0';
			return buf[0] ? buf : NULL;
		}
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

/* --size of request and resize, in bytes; a bad one is a usage error. */
static u64 grant_size(const struct spt_cmd *cmd, const char *arg)
{
	u64 size = spt_opt_size(cmd, arg, SPA_SIZE_ALIGN, "4 KiB");

	if (size > SPA_SIZE_MAX)
		spt_usage_fail(cmd, "--size: %s is more than 1 PiB, the most a grant can be",
			       arg);
	return size;
}

/* ------------------------------------------------------ remote request */

int cmd_remote_request(const struct spt_cmd *cmd, int argc, char **argv)
{
	char out[4096], sizebuf[32], grant[32], peer[SPA_NODE_MAX + 8];
	char size_s[32], member[SPU_NAME_MAX + 8], subnqn[SPA_NQN_MAX + 8];
	char uuid[SPU_UUID_STR + 8], dom[SPA_NODE_MAX + 16], sz[32];
	struct spa_config *c;
	const char *want = NULL;
	unsigned long long got;
	struct remote_opts o;
	u64 size;
	int ret;

	parse_opts(cmd, argc, argv, size_opts, &o);
	if (argc - optind > 1)
		spt_usage_fail(cmd, "unexpected argument '%s'",
			       argv[optind + 1]);
	if (argc - optind == 1) {
		want = argv[optind];
		if (!spa_valid_node(want))
			spt_usage_fail(cmd,
				       "bad peer name '%s': use 1..%d of [A-Za-z0-9_.-], not starting with '.' or '-'",
				      want, SPA_NODE_MAX);
	}
	size = grant_size(cmd, o.size);

	snprintf(sizebuf, sizeof(sizebuf), "%llu", (unsigned long long)size);
	ret = agent_verb("remote request", o.conf, "borrow", want, sizebuf,
			 out, sizeof(out), &c);
	if (ret)
		return ret;
	if (!out_value(out, "grant", grant, sizeof(grant)) ||
	    !out_value(out, "peer", peer, sizeof(peer)) ||
	    !out_value(out, "size", size_s, sizeof(size_s)) ||
	    !out_value(out, "member", member, sizeof(member)) ||
	    !out_value(out, "subnqn", subnqn, sizeof(subnqn)) ||
	    !out_value(out, "uuid", uuid, sizeof(uuid)) ||
	    spu_parse_uint(size_s, SPA_SIZE_MAX, &got))
		return unreadable("remote request", out, c);
	snprintf(dom, sizeof(dom), "remote:%s", peer);
	if (spt_json) {
		js_begin("remote request", NULL);
		js_str("grant", grant);
		js_str("peer", peer);
		js_u64("size", got);
		js_str("pool", or_null(c->pool));
		js_str("member", member);
		js_str("domain", dom);
		js_str("subnqn", subnqn);
		js_str("uuid", uuid);
		js_end();
	} else {
		spu_format_size(got, false, sz, sizeof(sz));
		printf("borrowed grant %s: %s from %s\n", grant, sz, peer);
		printf("  member  %s/%s (domain %s)\n", or_dash(c->pool),
		       member, dom);
		printf("  subnqn  %s\n", subnqn);
		printf("  uuid    %s\n", uuid);
	}
	free(c);
	return SPT_EXIT_OK;
}

/* ------------------------------------------------------ remote resize */

/* A number the agent printed as "@key N"; false if missing or bad. */
static bool out_u64(const char *out, const char *key, unsigned long long *v)
{
	char buf[32];

	return out_value(out, key, buf, sizeof(buf)) &&
	       !spu_parse_uint(buf, ~0ULL, v);
}

/* Why a grown member has fewer slices than its device has room for. */
static const char *max_note(unsigned long long max)
{
	static char buf[96];

	snprintf(buf, sizeof(buf),
		 "the member holds at most %llu slices (max_slices)", max);
	return buf;
}

/*
 * The GRANT argument of resize and release: its id, and in @idbuf the
 * 16-digit form the agent takes; anything else is a usage error.
 */
static unsigned long long grant_arg(const struct spt_cmd *cmd, const char *arg,
				    char idbuf[20])
{
	unsigned long long id;

	if (spa_grant_id_parse(arg, &id))
		spt_usage_fail(cmd,
			       "bad grant '%s': 16 hex digits, not all 0, as 'slicepool remote list' shows it",
			      arg);
	snprintf(idbuf, 20, "%016llx", id);
	return id;
}

int cmd_remote_resize(const struct spt_cmd *cmd, int argc, char **argv)
{
	unsigned long long old, got, added, total, free_s, max_s, unusable;
	char out[4096], idbuf[20], sizebuf[32], peer[SPA_NODE_MAX + 8];
	char member[SPU_NAME_MAX + 8], dev[72], a[32], b[32];
	struct spa_config *c;
	struct remote_opts o;
	bool has_max;
	int ret;

	parse_opts(cmd, argc, argv, size_opts, &o);
	spt_want_args(cmd, argc, argv, 1);
	grant_arg(cmd, argv[optind], idbuf);
	snprintf(sizebuf, sizeof(sizebuf), "%llu",
		 (unsigned long long)grant_size(cmd, o.size));

	ret = agent_verb("remote resize", o.conf, "resize", idbuf, sizebuf,
			 out, sizeof(out), &c);
	if (ret)
		return ret;
	has_max = out_u64(out, "max_slices", &max_s);
	if (!out_value(out, "peer", peer, sizeof(peer)) ||
	    !out_value(out, "member", member, sizeof(member)) ||
	    !out_value(out, "device", dev, sizeof(dev)) ||
	    !out_u64(out, "old_size", &old) || !out_u64(out, "size", &got) ||
	    !out_u64(out, "added_slices", &added) ||
	    !out_u64(out, "total_slices", &total) ||
	    !out_u64(out, "free_slices", &free_s) ||
	    !out_u64(out, "unusable_slices", &unusable))
		return unreadable("remote resize", out, c);
	if (spt_json) {
		js_begin("remote resize", NULL);
		js_str("grant", idbuf);
		js_str("peer", peer);
		js_u64("old_size", old);
		js_u64("size", got);
		js_str("pool", or_null(c->pool));
		js_str("member", member);
		js_str("device", dev);
		js_u64("added_slices", added);
		js_u64("total_slices", total);
		js_u64("free_slices", free_s);
		js_u64_or_null("max_slices", has_max, max_s);
		js_u64("unusable_slices", unusable);
		js_end();
	} else {
		spu_format_size(old, false, a, sizeof(a));
		spu_format_size(got, false, b, sizeof(b));
		printf("resized grant %s from %s: %s -> %s\n", idbuf, peer, a, b);
		printf("  member  %s/%s: %llu slices (%llu added), %llu free\n",
		       or_dash(c->pool), member, total, added, free_s);
		printf("  device  %s\n", dev);
		if (unusable)
			printf("  note    %llu slice(s) of the grant unusable: %s\n",
			       unusable, max_note(has_max ? max_s : total));
	}
	free(c);
	return SPT_EXIT_OK;
}

/* ------------------------------------------------------ remote release */

int cmd_remote_release(const struct spt_cmd *cmd, int argc, char **argv)
{
	char out[1024], idbuf[20], path[PATH_MAX], why[PATH_MAX + 256];
	const struct spa_grant *g = NULL;
	struct spa_config *c;
	struct spa_ledger l = { 0 };
	struct remote_opts o;
	unsigned long long id;
	size_t i;
	int ret;

	parse_opts(cmd, argc, argv, conf_opts, &o);
	spt_want_args(cmd, argc, argv, 1);
	id = grant_arg(cmd, argv[optind], idbuf);

	ret = agent_verb("remote release", o.conf, "release", idbuf, NULL,
			 out, sizeof(out), &c);
	if (ret)
		return ret;
	/* What was given back, as the ledger now records it. */
	if (!spu_path(path, sizeof(path), "%s/borrowed", c->state_dir) &&
	    !spa_ledger_load(&l, path, false, why, sizeof(why)))
		for (i = 0; i < l.n && !g; i++)
			if (l.g[i].id == id)
				g = &l.g[i];
	if (spt_json) {
		js_begin("remote release", NULL);
		js_str("grant", idbuf);
		js_str("peer", g ? g->peer : NULL);
		if (g)
			js_u64("size", g->size);
		else
			js_null("size");
		js_str("pool", or_null(c->pool));
		js_str("member", g ? or_null(g->name) : NULL);
		js_str("state", g ? spa_gstate_name(g->state) : NULL);
		js_end();
	} else {
		printf("released grant %s%s%s\n", idbuf, g ? " from " : "",
		       g ? g->peer : "");
	}
	spa_ledger_free(&l);
	free(c);
	return SPT_EXIT_OK;
}

/* ------------------------------------------ borrowing on demand (vol) */

/* The line of @out that holds "no borrow made:", from there, or NULL. */
static const char *no_borrow_line(char *out)
{
	char *p = strstr(out, "no borrow made:");

	if (p)
		p[strcspn(p, "\n")] = '\0';
	return p;
}

/* Whether member @m of @pool is enabled and online within @ms. */
static bool member_online(const char *pool, const char *m, unsigned int ms)
{
	char *state = NULL;
	s64 enable = 0;
	unsigned int t;
	bool ok;

	for (t = 0;; t += 200) {
		ok = !cfs_read_s64(&enable, "%s/members/%s/enable", pool, m) &&
		     enable == 1 &&
		     !cfs_read(&state, "%s/members/%s/state", pool, m);
		if (ok) {
			spt_strip(state);
			ok = !strcmp(state, "online");
		}
		free(state);
		state = NULL;
		if (ok || t >= ms)
			return ok;
		usleep(200000);
	}
}

int spt_borrow_for(const char *conf, const char *pool, u64 want, char *why,
		   size_t wlen)
{
	char out[16384], sizebuf[32], peer[SPA_NODE_MAX + 8], grant[32];
	char member[SPU_NAME_MAX + 8], size_s[32], sz[32];
	const char *line;
	struct spu_space sp;
	unsigned long long got;
	u64 have, size;
	char *av[7];
	int ret;

	if (spu_pool_space(pool, &sp, why, wlen))
		return SPT_EXIT_FAIL;
	have = sp.free_slices * sp.slice_bytes;
	size = spu_borrow_bytes(&sp, want > have ? want - have : 1);
	if (!size) {
		snprintf(why, wlen, "no borrow made: pool %s has no slice size",
			 pool);
		return SPT_EXIT_FAIL;
	}
	snprintf(sizebuf, sizeof(sizebuf), "%llu", (unsigned long long)size);
	av[0] = (char *)agent_bin();
	av[1] = "-c";
	av[2] = (char *)conf;
	av[3] = "borrow-for";
	av[4] = (char *)pool;
	av[5] = sizebuf;
	av[6] = NULL;
	ret = run_agent_to(av, out, sizeof(out), true);
	if (ret) {
		line = no_borrow_line(out);
		if (line)
			snprintf(why, wlen, "%s", line);
		else
			snprintf(why, wlen,
				 "no borrow made: slicepool-agent borrow-for %s %s %s %d: %s",
				 pool, sizebuf, ret < 0 || ret == 127 ?
				 "could not run (set " SPA_AGENT_ENV ")" :
				 "exited", ret, out);
		return SPT_EXIT_FAIL;
	}
	if (!out_value(out, "grant", grant, sizeof(grant)) ||
	    !out_value(out, "peer", peer, sizeof(peer)) ||
	    !out_value(out, "size", size_s, sizeof(size_s)) ||
	    !out_value(out, "member", member, sizeof(member)) ||
	    spu_parse_uint(size_s, SPA_SIZE_MAX, &got)) {
		snprintf(why, wlen,
			 "slicepool-agent borrow-for printed what this tool cannot read (see 'slicepool remote list'): %s",
			 out);
		return SPT_EXIT_FAIL;
	}
	if (!member_online(pool, member, 10000)) {
		snprintf(why, wlen,
			 "borrowed grant %s from %s, but member %s/%s is not enabled and online (see dmesg; give it back with 'slicepool remote release %s')",
			 grant, peer, pool, member, grant);
		return SPT_EXIT_FAIL;
	}
	spu_format_size(got, true, sz, sizeof(sz));
	fprintf(spt_json ? stderr : stdout,
		"borrowed %s from %s as member %s (grant %s)\n", sz, peer,
		member, grant);
	return 0;
}
