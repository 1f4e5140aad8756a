// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the command line
 *
 * Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 the peer
 * refused (its reason is printed), 4 the configuration does not allow a
 * borrow on demand (borrow-for).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "agent.h"

#define EXIT_USAGE	2
#define EXIT_REFUSED	3
#define EXIT_NOT_ALLOWED	4

static const char usage_text[] =
"usage: slicepool-agent [-c CONFIG] COMMAND [ARGS]\n"
"\n"
"  daemon               run the agent in the foreground (systemd)\n"
"  borrow PEER SIZE     borrow SIZE (K/M/G/T) from PEER: connect over\n"
"                       NVMe/TCP and add the namespace to the pool as a\n"
"                       member in domain remote:PEER (refused if PEER is\n"
"                       down)\n"
"  borrow SIZE          the same from the peer that is up and can lend the\n"
"                       most (then has the fewest grants)\n"
"  borrow-for POOL SIZE borrow SIZE for POOL on demand as 'borrow SIZE'\n"
"                       does, if 'borrow_on_demand POOL [MAX]' allows it\n"
"                       (exit 4 if not)\n"
"  resize GRANT SIZE    grow a borrowed grant to SIZE (K/M/G/T: the new\n"
"                       total): the lender grows its volume, the member\n"
"                       takes the new slices (a grant never shrinks)\n"
"  release GRANT        give a borrowed grant back (its member must hold\n"
"                       no slice)\n"
"  revoke GRANT         ask a lent grant back (the daemon): its borrower\n"
"                       moves its slices off, live, then gives it back;\n"
"                       'status' shows how it goes (exit 3 if refused)\n"
"  unfence GRANT        export a grant fenced by its lease again (the\n"
"                       borrower is back)\n"
"  release-fenced GRANT release a grant fenced by its lease: its volume\n"
"                       is zeroed and deleted as for a release\n"
"  status               what this node lent and borrowed\n"
"  hello PEER           introduce this node to PEER, print PEER's peers\n"
"  peers [PEER]         the peers known here and their health, or those\n"
"                       PEER knows\n"
"  heartbeat PEER       ask PEER how much it can lend\n"
"  check-config         read the configuration and the peers' key files\n"
"                       (and the tunnel's)\n"
"  keygen [FILE]        write a new random 32-byte key for a peer pair\n"
"                       (mode 0600, never over an existing file; '-' or\n"
"                       nothing: stdout); genkey is the same\n"
"  keygen --psk [FILE]  the same for a WireGuard preshared key of a peer\n"
"                       pair (base64, as wg genpsk; peer_tunnel_psk)\n"
"\n"
"Each peer has its own key: 'peer_key NAME FILE [NEXT_FILE]' in CONFIG,\n"
"the same key file on both nodes of the pair.  To rotate a key without\n"
"downtime: keygen NEW; on both nodes add NEW as NEXT_FILE and send\n"
"SIGHUP; then swap FILE and NEXT_FILE on both, SIGHUP; then drop the old\n"
"one, SIGHUP.  Both keys are accepted while both are named.  SIGHUP also\n"
"adds and removes peers (their peer, peer_key and peer_tunnel lines); a\n"
"peer with a grant in use, lent or borrowed, is kept (the reload is\n"
"refused, naming the grant) until the grant is released.\n"
"\n"
"With 'tunnel ADDRESS/PREFIX PORT', 'tunnel_key FILE' (wg genkey) and a\n"
"'peer_tunnel NAME PUBKEY ENDPOINT TUNNEL_ADDR' per peer, the daemon sets\n"
"up a WireGuard interface and every NVMe/TCP connection with a peer goes\n"
"through it: grants are exported on the tunnel address only, each\n"
"borrower's on ports of its own that only its tunnel address reaches (an\n"
"nftables table, slicepool_agent, set with nft).  'peer_tunnel_psk NAME\n"
"FILE' adds a preshared key to a peer's tunnel.  SIGHUP applies changed\n"
"tunnel keys (tunnel_key, a peer's PUBKEY, its preshared key), endpoints\n"
"and peers added or removed to the live interface, leaving unchanged\n"
"peers' sessions be.\n"
"\n"
"CONFIG defaults to /etc/slicepool/agent.conf.  Exit codes: 0 done,\n"
"1 failed, 2 bad usage or configuration, 3 refused by the peer (or no\n"
"peer can lend), 4 not allowed (borrow-for).\n"
"See Documentation/nvmet-remote-ns.rst.\n";

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "slicepool-agent: %s\n", msg);
	fputs(usage_text, msg ? stderr : stdout);
	return msg ? EXIT_USAGE : 0;
}

static int fail(int code, const char *msg)
{
	fprintf(stderr, "slicepool-agent: %s\n", msg);
	return code;
}

static int load(const char *path, struct spa_config *c, struct spa_keys *k)
{
	char why[512];

	if (spa_config_load(path, c, why, sizeof(why)))
		return fail(EXIT_USAGE, why);
	if (k && spa_keys_load(k, c, why, sizeof(why)))
		return fail(EXIT_USAGE, why);
	return 0;
}

/* The tunnel's key files: tunnel_key and the preshared keys. */
static int check_tunnel_keys(const struct spa_config *c)
{
	struct spa_tunnel_state *st = malloc(sizeof(*st));
	char why[512];
	int ret;

	if (!st)
		return fail(1, "out of memory");
	ret = spa_tunnel_state_read(st, c, why, sizeof(why));
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
	return ret ? fail(EXIT_USAGE, why) : 0;
}

/* One request to a peer by name; prints the refusal if any. */
static int ask(const struct spa_config *c, struct spa_keys *k,
	       const char *peer, struct spa_msg *req, struct spa_msg *rep)
{
	struct spa_peer_cfg p;
	char why[512];
	int ret;

	if (spa_peer_resolve(c, peer, &p, why, sizeof(why)))
		return fail(1, why);
	ret = spa_call(c, k, p.addr, p.port, p.name, req, rep, why,
		       sizeof(why));
	if (ret)
		return fail(1, why);
	if (rep->type == SPA_ERROR) {
		fprintf(stderr, "slicepool-agent: %s refused: %s: %s\n", peer,
			spa_err_name(rep->err_code), rep->err_text);
		return EXIT_REFUSED;
	}
	return 0;
}

static void print_peers(const struct spa_msg *rep)
{
	unsigned int i;

	for (i = 0; i < rep->nr_peers; i++)
		printf("peer %s %s %u\n", rep->peers[i].name,
		       rep->peers[i].addr, rep->peers[i].port);
}

static int cmd_remote(const struct spa_config *c, struct spa_keys *k,
		      const char *cmd, const char *peer)
{
	struct spa_msg *req, *rep;
	char sz[32];
	int ret;

	req = calloc(2, sizeof(*req));
	if (!req)
		return 1;
	rep = req + 1;
	if (!strcmp(cmd, "hello")) {
		spa_msg_init(req, c, SPA_HELLO);
		req->fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT);
		snprintf(req->addr, sizeof(req->addr), "%s", c->advertise);
		req->port = c->listen_port;
	} else if (!strcmp(cmd, "peers")) {
		spa_msg_init(req, c, SPA_PEERS);
	} else {
		spa_msg_init(req, c, SPA_HEARTBEAT);
	}
	ret = ask(c, k, peer, req, rep);
	if (!ret && req->type == SPA_HEARTBEAT) {
		spu_format_size(rep->free, true, sz, sizeof(sz));
		printf("peer %s up: lendable %llu bytes (%s), %u grant(s) lent\n",
		       rep->node, rep->free, sz, rep->grants);
	} else if (!ret) {
		print_peers(rep);
	}
	free(req);
	return ret;
}

/* What the daemon's health file says of @name, in words. */
static void print_health(const struct spa_health *h, const char *name,
			 u64 now)
{
	const struct spa_health_entry *e = spa_health_find(h, name);
	char sz[32];

	if (!h->fresh) {
		printf("unknown (no health: the daemon is not running, or heartbeat is 0)\n");
		return;
	}
	if (!e || e->health == SPA_H_UNKNOWN) {
		printf("unknown (not heard yet)\n");
		return;
	}
	if (e->health == SPA_H_DOWN) {
		if (e->heard_ms && e->heard_ms <= now)
			printf("down (not heard for %llu s; excluded from new grants)\n",
			       (now - e->heard_ms) / 1000);
		else
			printf("down (never heard; excluded from new grants)\n");
		return;
	}
	spu_format_size(e->lendable, true, sz, sizeof(sz));
	printf("up (heard %llu s ago; lendable %llu bytes (%s), %u grant(s))\n",
	       e->heard_ms <= now ? (now - e->heard_ms) / 1000 : 0,
	       e->lendable, sz, e->grants);
}

static int cmd_local_peers(const struct spa_config *c)
{
	struct spa_health *h;
	struct spa_peers *t;
	u64 now = spa_now_ms();
	unsigned int i;

	t = calloc(1, sizeof(*t));
	h = calloc(1, sizeof(*h));
	if (!t || !h) {
		free(t);
		free(h);
		return fail(1, "out of memory");
	}
	spa_peers_init(t, c);
	spa_peers_load(t);
	spa_health_load(c, now, h);
	for (i = 0; i < t->n; i++) {
		printf("peer %s %s %u %s ", t->p[i].name, t->p[i].addr,
		       t->p[i].port, t->p[i].configured ? "configured" : "learned");
		print_health(h, t->p[i].name, now);
	}
	spa_peers_destroy(t);
	free(t);
	free(h);
	return 0;
}

/* A lent grant's revocation or fencing note (spa_grant_note()), if any. */
static void print_note(const struct spa_config *c, const struct spa_grant *g)
{
	char text[SPA_TEXT_MAX + 64];

	if (!spa_grant_note(c, g, text, sizeof(text)))
		printf("    %s\n", text);
}

static int cmd_status(const struct spa_config *c)
{
	char path[PATH_MAX], why[512], sz[32];
	struct spa_ledger l;
	const struct spa_grant *g;
	int pass, rc = 0;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		if (spu_path(path, sizeof(path), "%s/%s", c->state_dir,
			     pass ? "borrowed" : "grants") ||
		    spa_ledger_load(&l, path, !pass, why, sizeof(why))) {
			fprintf(stderr, "slicepool-agent: %s\n", why);
			rc = 1;
			continue;
		}
		printf("%s:\n", pass ? "borrowed" : "lent");
		for (i = 0; i < l.n; i++) {
			g = &l.g[i];
			spu_format_size(g->size, true, sz, sizeof(sz));
			printf("  %016llx %-10s %s %-8s %-9s %s %s %s\n", g->id,
			       spa_gstate_name(g->state), pass ? "from" : "to",
			       g->peer, sz, pass ? "member" : "volume",
			       g->name[0] ? g->name : "-",
			       g->subnqn[0] ? g->subnqn : "-");
			if (!pass)
				print_note(c, g);
		}
		spa_ledger_free(&l);
	}
	return rc;
}

/* GRANT of resize and release: 0, or the usage error naming it. */
static int grant_arg(const char *s, u64 *id)
{
	char msg[128];

	if (!spa_grant_id_parse(s, id))
		return 0;
	snprintf(msg, sizeof(msg),
		 "GRANT '%.40s': 16 hex digits, as 'status' shows it", s);
	return usage(msg);
}

/* SIZE of borrow and resize; false (with the usage error) if it is bad. */
static bool parse_size_arg(const char *s, u64 *size)
{
	int ret = spu_parse_size(s, SPU_SIZE_MAX, size);

	if (ret) {
		fprintf(stderr, "slicepool-agent: SIZE '%s' %s\n", s,
			spu_size_why(ret));
		return false;
	}
	if (!*size || *size % SPA_SIZE_ALIGN || *size > SPA_SIZE_MAX) {
		fprintf(stderr,
			"slicepool-agent: SIZE '%s': a multiple of 4 KiB up to 1 PiB, with an optional K, M, G or T\n",
			s);
		return false;
	}
	return true;
}

/*
 * What borrow and borrow-for do before they ask: SIZE parsed into @size,
 * this host's identity checked, device-mapper set up.  0, or the exit code.
 */
static int borrow_prep(struct spa_config *c, const char *size_s, u64 *size)
{
	char why[1024];

	if (!parse_size_arg(size_s, size))
		return EXIT_USAGE;
	if (spa_config_host_identity(c, why, sizeof(why)))
		return fail(EXIT_USAGE, why);
	spa_dm_init();
	return 0;
}

static void print_grant(const struct spa_grant *g)
{
	printf("grant %016llx\npeer %s\nsize %llu\nmember %s\nsubnqn %s\nuuid %s\n",
	       g->id, g->peer, g->size, g->name, g->subnqn, g->uuid);
}

static int cmd_borrow(struct spa_config *c, struct spa_keys *k,
		      const char *peer, const char *size_s)
{
	struct spa_grant g;
	char why[1024];
	u64 size;
	int ret;

	ret = borrow_prep(c, size_s, &size);
	if (ret)
		return ret;
	if (peer)
		ret = spa_borrow(c, k, peer, size, &g, why, sizeof(why));
	else
		ret = spa_borrow_any(c, k, size, &g, why, sizeof(why));
	if (ret > 0)
		return fail(EXIT_REFUSED, why);
	if (ret)
		return fail(1, why);
	print_grant(&g);
	return 0;
}

/* borrow-for POOL SIZE: what 'slicepool vol create --borrow' runs. */
static int cmd_borrow_for(struct spa_config *c, struct spa_keys *k,
			  const char *pool, const char *size_s)
{
	char why[1024], msg[1100];
	struct spa_grant g;
	u64 size;
	int ret;

	ret = borrow_prep(c, size_s, &size);
	if (ret)
		return ret;
	ret = spa_borrow_demand(c, k, pool, size, &g, why, sizeof(why));
	if (ret) {
		snprintf(msg, sizeof(msg), "no borrow made: %s", why);
		return fail(ret == -EPERM || ret == -EDQUOT ? EXIT_NOT_ALLOWED :
			    ret > 0 ? EXIT_REFUSED : 1, msg);
	}
	print_grant(&g);
	return 0;
}

static int cmd_resize(struct spa_config *c, struct spa_keys *k, u64 id,
		      u64 size)
{
	struct spa_resize_report r;
	char why[1024];
	u64 unused;
	int ret;

	spa_dm_init();
	ret = spa_resize(c, k, id, size, &r, why, sizeof(why));
	if (ret > 0)
		return fail(EXIT_REFUSED, why);
	if (ret)
		return fail(1, why);
	printf("grant %016llx\npeer %s\nold_size %llu\nsize %llu\nmember %s\ndevice %s\n",
	       r.g.id, r.g.peer, r.old_size, r.g.size, r.g.name, r.dev);
	printf("added_slices %llu\ntotal_slices %llu\nfree_slices %llu\n",
	       r.total_after > r.total_before ?
	       r.total_after - r.total_before : 0, r.total_after,
	       r.free_after);
	if (r.max_slices)
		printf("max_slices %llu\n", r.max_slices);
	/* Slices of the grant the member cannot hold: said, not an error. */
	unused = r.room > r.total_after ? r.room - r.total_after : 0;
	printf("unusable_slices %llu\n", unused);
	return 0;
}

static int cmd_release(const struct spa_config *c, struct spa_keys *k,
		       u64 id)
{
	char why[1024];

	spa_dm_init();
	if (spa_giveback(c, k, id, why, sizeof(why)))
		return fail(1, why);
	printf("released %016llx\n", id);
	return 0;
}

/*
 * revoke, unfence, release-fenced GRANT: a request to the running daemon,
 * which holds the lender's ledger (ctl.c).
 */
static int cmd_ctl(const struct spa_config *c, const char *cmd, u64 id)
{
	char line[64], out[1024], why[512];
	const char *text;

	snprintf(line, sizeof(line), "%s %016llx", cmd, id);
	if (spa_ctl_call(c, line, out, sizeof(out), why, sizeof(why)))
		return fail(1, why);
	text = strchr(out, ' ');
	text = text ? text + 1 : "";
	if (!strncmp(out, "ok ", 3)) {
		printf("%s\n", text);
		return 0;
	}
	fprintf(stderr, "slicepool-agent: %s: %s\n", cmd, text);
	return !strncmp(out, "refused ", 8) ? EXIT_REFUSED : 1;
}

/* The commands that sign what they send, and their arguments. */
static const struct signed_cmd {
	const char *name;
	int min_args, max_args;
	bool grant;		/* the first argument is a GRANT */
	const char *usage;
} signed_cmds[] = {
	{ "hello", 1, 1, false, "this command takes one PEER" },
	{ "peers", 1, 1, false, "this command takes one PEER" },
	{ "heartbeat", 1, 1, false, "this command takes one PEER" },
	{ "borrow", 1, 2, false, "borrow takes [PEER] SIZE" },
	{ "borrow-for", 2, 2, false, "borrow-for takes POOL SIZE" },
	{ "resize", 2, 2, true, "resize takes GRANT SIZE" },
	{ "release", 1, 1, true, "release takes GRANT (16 hex digits)" },
};

static const struct signed_cmd *signed_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(signed_cmds); i++)
		if (!strcmp(signed_cmds[i].name, name))
			return &signed_cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = SPA_CONFIG_DEFAULT, *cmd;
	const struct signed_cmd *sc;
	struct spa_config c;
	struct spa_keys k;
	char why[1024];
	u64 id = 0, size = 0;
	int opt, nargs, ret;
	unsigned int i;

	while ((opt = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return usage(NULL);
		case 'V':
			printf("slicepool-agent %s (protocol %d)\n",
			       SPA_VERSION_STRING, SPA_PROTO_VERSION);
			return 0;
		default:
			return usage("unknown option");
		}
	}
	if (optind >= argc)
		return usage("no command");
	cmd = argv[optind];
	nargs = argc - optind - 1;
	argv += optind + 1;

	if (!strcmp(cmd, "help"))
		return usage(NULL);
	if (!strcmp(cmd, "keygen") || !strcmp(cmd, "genkey")) {
		bool psk = nargs && !strcmp(argv[0], "--psk");

		if (psk) {
			argv++;
			nargs--;
		}
		if (nargs > 1)
			return usage("keygen takes [--psk] and at most a file name");
		if ((psk ? spa_psk_generate : spa_key_generate)
		    (nargs ? argv[0] : NULL, why, sizeof(why)))
			return fail(1, why);
		return 0;
	}
	if (!strcmp(cmd, "check-config")) {
		if (nargs)
			return usage("check-config takes no argument");
		ret = load(conf, &c, &k);
		if (ret)
			return ret;
		ret = spa_tunnel_on(&c) ? check_tunnel_keys(&c) : 0;
		if (ret) {
			spa_keys_free(&k);
			return ret;
		}
		printf("%s: node %s, listening on %s:%u, %s%s, %u peer(s), keys of %u peer(s)\n",
		       conf, c.node, c.listen_addr, c.listen_port,
		       c.lend ? "lending from pool " : "not lending",
		       c.lend ? c.pool : "", c.nr_peers, k.n);
		for (i = 0; i < k.n; i++)
			printf("key %s %s%s\n", k.k[i].name,
			       spa_config_key(&c, k.k[i].name)->file,
			       k.k[i].next.len ? " (and a next key)" : "");
		if (spa_tunnel_on(&c))
			printf("tunnel %s %s/%u, WireGuard on UDP port %u, key %s\n",
			       c.tunnel_if, c.tunnel_addr, c.tunnel_prefix,
			       c.tunnel_port, c.tunnel_key);
		printf("dhchap %s: this kernel's nvmet target %s, nvme host %s\n",
		       c.dhchap ? "on" : "off",
		       spa_dhchap_said(spa_dhchap_target_probe()),
		       spa_dhchap_said(spa_dhchap_host_probe()));
		for (i = 0; i < c.nr_tunnels; i++)
			printf("peer_tunnel %s %s via %s%s%s\n",
			       c.tunnels[i].name, c.tunnels[i].addr,
			       c.tunnels[i].endpoint,
			       c.tunnels[i].psk[0] ? ", preshared key " : "",
			       c.tunnels[i].psk);
		spa_keys_free(&k);
		return 0;
	}
	if (!strcmp(cmd, "daemon")) {
		if (nargs)
			return usage("daemon takes no argument");
		ret = load(conf, &c, NULL);
		if (ret)
			return ret;
		spa_config_host_identity(&c, why, sizeof(why));
		return spa_daemon(&c, &spa_real_backend);
	}
	if (!strcmp(cmd, "status")) {
		if (nargs)
			return usage("status takes no argument");
		ret = load(conf, &c, NULL);
		return ret ? ret : cmd_status(&c);
	}
	if (!strcmp(cmd, "revoke") || !strcmp(cmd, "unfence") ||
	    !strcmp(cmd, "release-fenced")) {
		if (nargs != 1) {
			snprintf(why, sizeof(why),
				 "%s takes GRANT (16 hex digits)", cmd);
			return usage(why);
		}
		ret = grant_arg(argv[0], &id);
		if (!ret)
			ret = load(conf, &c, NULL);
		return ret ? ret : cmd_ctl(&c, cmd, id);
	}
	if (!strcmp(cmd, "peers") && nargs == 0) {
		ret = load(conf, &c, NULL);
		return ret ? ret : cmd_local_peers(&c);
	}
	/* The commands that sign what they send: arguments, then the key. */
	sc = signed_cmd_find(cmd);
	if (!sc)
		return usage("unknown command");
	if (nargs < sc->min_args || nargs > sc->max_args)
		return usage(sc->usage);
	if (sc->grant) {
		ret = grant_arg(argv[0], &id);
		if (ret)
			return ret;
	}
	if (!strcmp(cmd, "resize") && !parse_size_arg(argv[1], &size))
		return EXIT_USAGE;
	ret = load(conf, &c, &k);
	if (ret)
		return ret;
	if (!strcmp(cmd, "borrow"))
		ret = cmd_borrow(&c, &k, nargs == 2 ? argv[0] : NULL,
				 argv[nargs - 1]);
	else if (!strcmp(cmd, "borrow-for"))
		ret = cmd_borrow_for(&c, &k, argv[0], argv[1]);
	else if (!strcmp(cmd, "resize"))
		ret = cmd_resize(&c, &k, id, size);
	else if (!strcmp(cmd, "release"))
		ret = cmd_release(&c, &k, id);
	else
		ret = cmd_remote(&c, &k, cmd, argv[0]);
	spa_keys_free(&k);
	return ret;
}
