// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of a whole slicepool-agent over TCP on 127.0.0.1: the real
 * server, dispatcher, lender, quota and ledger, with a fake backend on a
 * fake slicepool configfs tree (no kernel needed).  The verbs, the
 * refusals a lender gives (no space, limits, unknown grants and peers),
 * two concurrent requests for the last free space, and what the wire
 * refuses (garbage, oversized, truncated, slow, forged, replayed, stale,
 * misaddressed frames, unknown verbs, a connection flood), each logged,
 * with the server still serving afterwards.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "remote-test.h"

#define MIB	1048576ULL

static struct spa_config ca, cb, cy;
static struct spa_key key, key2;
static struct spa_keys keys2;
static struct test_server srv;

static void setup(void)
{
	test_server_config(&ca, false);
	fake_member("pa", "m1", 4, "online", 1);
	fake_member("pa", "m2", 4, "online", 1);
	test_key(&key, TEST_KEY_HEX);
	test_key(&key2, TEST_KEY2_HEX);
	test_keys(&keys, &key);
	test_keys(&keys2, &key2);
	test_server_start(&srv, &ca, &keys);
	test_client(&cb, "b", 7);
	test_client(&cy, "y", 8);
	cb.io_timeout = 10;
}

/* A request from @c to a; 0 with the reply in @rep, or the call's error. */
static int call(const struct spa_config *c, struct spa_keys *k,
		struct spa_msg *req, struct spa_msg *rep, char *why,
		size_t wlen)
{
	return spa_call(c, k, "127.0.0.1", srv.port, "a", req, rep, why, wlen);
}

static bool heartbeat_ok(u64 *free_bytes, unsigned int *grants)
{
	struct spa_msg req, rep;
	char why[512];

	spa_msg_init(&req, &cb, SPA_HEARTBEAT);
	if (call(&cb, &keys, &req, &rep, why, sizeof(why))) {
		fail("heartbeat: %s", why);
		return false;
	}
	if (rep.type != (SPA_HEARTBEAT | SPA_REPLY)) {
		fail("heartbeat: reply %s: %s", spa_type_name(rep.type),
		     rep.err_text);
		return false;
	}
	if (free_bytes)
		*free_bytes = rep.free;
	if (grants)
		*grants = rep.grants;
	return true;
}

/* Asks for @size; the grant id, or 0 with @code set to the refusal. */
static u64 request(const struct spa_config *c, u64 size, unsigned int *code,
		   struct spa_msg *grant)
{
	struct spa_msg req, rep;
	char why[512];

	test_request_msg(c, &req, size);
	*code = 0;
	if (call(c, &keys, &req, &rep, why, sizeof(why))) {
		fail("asking failed: %s", why);
		*code = ~0U;
		return 0;
	}
	if (grant)
		*grant = rep;
	if (rep.type == SPA_ERROR) {
		*code = rep.err_code;
		return 0;
	}
	return rep.grant_id;
}

/* Asks a, for @c, to resize grant 1 to 4096 bytes; 0 with @rep a's answer. */
static int resize_grant1(const struct spa_config *c, struct spa_msg *rep,
			 char *why, size_t wlen)
{
	struct spa_msg req;

	spa_msg_init(&req, c, SPA_RESIZE);
	req.fields |= SPA_F(SPA_T_SIZE) | SPA_F(SPA_T_GRANT_ID);
	req.size = 4096;
	req.grant_id = 1;
	return call(c, &keys, &req, rep, why, wlen);
}

static unsigned int release(const struct spa_config *c, u64 id)
{
	struct spa_msg req, rep;
	char why[512];

	spa_msg_init(&req, c, SPA_RELEASE);
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = id;
	if (call(c, &keys, &req, &rep, why, sizeof(why))) {
		fail("giving back failed: %s", why);
		return ~0U;
	}
	if (rep.type == SPA_ERROR)
		return rep.err_code;
	if (rep.type != (SPA_RELEASE | SPA_REPLY) || rep.grant_id != id)
		return ~0U;
	return 0;
}

static bool ledger_says(u64 id, const char *state)
{
	char path[PATH_MAX], line[1024], want[64];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/grants", ca.state_dir);
	snprintf(want, sizeof(want), "grant %016llx %s ", id, state);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			found = true;
	fclose(f);
	return found;
}

static unsigned int count_dir(const char *path)
{
	char **n;
	size_t c;

	if (spu_list(path, false, &n, &c))
		return 0;
	spu_free_list(n, c);
	return (unsigned int)c;
}

static unsigned int nr_volumes(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/pa/volumes", spu_configfs_root());
	return count_dir(path);
}

static unsigned int nr_exports(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/subsystems", spu_nvmet_root());
	return count_dir(path);
}

/* ------------------------------------------------------------- verbs */

static void t_hello_peers(void)
{
	struct spa_msg req, rep;
	char why[512];
	unsigned int i;
	bool self = false, b = false;

	spa_msg_init(&req, &cb, SPA_HELLO);
	req.fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT);
	snprintf(req.addr, sizeof(req.addr), "127.0.0.1");
	req.port = 9;
	CHECK(!call(&cb, &keys, &req, &rep, why, sizeof(why)), "%s", why);
	CHECK(rep.type == (SPA_HELLO | SPA_REPLY), "reply %s %s",
	      spa_type_name(rep.type), rep.err_text);
	for (i = 0; i < rep.nr_peers; i++) {
		if (!strcmp(rep.peers[i].name, "a") &&
		    rep.peers[i].port == srv.port)
			self = true;
		if (!strcmp(rep.peers[i].name, "b"))
			b = true;
	}
	CHECK(self && b, "peer list: a %d, b %d", self, b);

	/* A configured peer cannot be moved by a hello. */
	req.port = 10;
	spa_random(req.nonce, sizeof(req.nonce));
	CHECK(!call(&cb, &keys, &req, &rep, why, sizeof(why)), "%s", why);
	CHECK(rep.type == SPA_ERROR && rep.err_code == SPA_ERR_BAD_VALUE,
	      "moving b: %s %s", spa_type_name(rep.type), rep.err_text);

	/* A new node, x, learns and is learned. */
	snprintf(cy.node, sizeof(cy.node), "x");
	spa_msg_init(&req, &cy, SPA_HELLO);
	req.fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT);
	snprintf(req.addr, sizeof(req.addr), "127.0.0.2");
	req.port = 7450;
	CHECK(!call(&cy, &keys, &req, &rep, why, sizeof(why)), "%s", why);
	snprintf(cy.node, sizeof(cy.node), "y");
	CHECK(cap_has("hello from x", "learned at 127.0.0.2:7450"),
	      "no log of x");
	spa_msg_init(&req, &cb, SPA_PEERS);
	CHECK(!call(&cb, &keys, &req, &rep, why, sizeof(why)), "%s", why);
	CHECK(rep.type == (SPA_PEERS | SPA_REPLY) && rep.nr_peers == 3,
	      "peer list of %u", rep.nr_peers);
}

static void t_heartbeat(void)
{
	unsigned int grants = 99;
	u64 free_bytes = 0;

	if (heartbeat_ok(&free_bytes, &grants))
		CHECK(free_bytes == 512 * MIB && grants == 0,
		      "free %llu, %u grants", free_bytes, grants);
}

static void t_grant_release(void)
{
	struct spa_msg g, req, rep;
	char uuid[SPU_UUID_STR], why[512];
	unsigned int code, exp0 = fake_ctx.exports;
	u64 id, id2, free_bytes = 0;

	id = request(&cb, 200 * MIB, &code, &g);
	CHECK(id && !code, "refused: %s %s", spa_err_name(code), g.err_text);
	if (!id)
		return;
	CHECK(!strcmp(g.addr, "127.0.0.1") && g.port == 4420 && g.nsid == 1 &&
	      g.size == 200 * MIB, "grant %s:%u ns %u size %llu", g.addr,
	      g.port, g.nsid, g.size);
	CHECK(!strncmp(g.subnqn, "nqn.2026-11.io.slicepool:grant:a:", 33),
	      "subnqn %s", g.subnqn);
	spu_uuid_format(g.uuid, uuid);
	CHECK(!strcmp(uuid, fake_ctx.last_uuid), "uuid %s, volume %s", uuid,
	      fake_ctx.last_uuid);
	CHECK(!strcmp(fake_ctx.last_hostnqn, HOSTNQN_B), "exported to %s",
	      fake_ctx.last_hostnqn);
	CHECK(ledger_says(id, "active"), "ledger");
	CHECK(nr_volumes() == 1 && nr_exports() == 1, "%u volumes, %u exports",
	      nr_volumes(), nr_exports());
	CHECK(heartbeat_ok(&free_bytes, NULL) && free_bytes == 256 * MIB,
	      "free after a 200 MiB grant: %llu", free_bytes);

	/* The same request again (a lost reply): the same grant. */
	test_request_msg(&cb, &req, 200 * MIB);
	CHECK(!call(&cb, &keys, &req, &rep, why, sizeof(why)), "%s", why);
	id2 = rep.grant_id;
	spa_random(req.nonce, sizeof(req.nonce));
	CHECK(!call(&cb, &keys, &req, &rep, why, sizeof(why)), "%s", why);
	CHECK(rep.type == SPA_GRANT && rep.grant_id == id2,
	      "a repeated request got %016llx, then %016llx", id2,
	      rep.grant_id);
	CHECK(fake_ctx.exports == exp0 + 2, "%u exports", fake_ctx.exports);
	/* The same request id for something else: refused. */
	req.size = 4096;
	spa_random(req.nonce, sizeof(req.nonce));
	CHECK(!call(&cb, &keys, &req, &rep, why, sizeof(why)), "%s", why);
	CHECK(rep.type == SPA_ERROR && rep.err_code == SPA_ERR_BAD_VALUE,
	      "request id reused: %s", rep.err_text);

	CHECK(release(&cy, id) == SPA_ERR_UNKNOWN_PEER, "release by y");
	snprintf(cy.node, sizeof(cy.node), "x");
	CHECK(release(&cy, id) == SPA_ERR_NOT_OWNER, "release by x");
	snprintf(cy.node, sizeof(cy.node), "y");
	CHECK(release(&cb, 0x1234) == SPA_ERR_UNKNOWN_GRANT, "unknown grant");
	CHECK(!release(&cb, id), "release");
	CHECK(!release(&cb, id), "release again is answered the same");
	CHECK(!release(&cb, id2), "release of the second");
	CHECK(ledger_says(id, "released") && ledger_says(id2, "released"),
	      "ledger");
	CHECK(nr_volumes() == 0 && nr_exports() == 0, "%u volumes, %u exports left",
	      nr_volumes(), nr_exports());
	CHECK(heartbeat_ok(&free_bytes, NULL) && free_bytes == 512 * MIB,
	      "free after the releases: %llu", free_bytes);
	CHECK(cap_has("granted", "exported as") &&
	      cap_has("released", "removed"), "grant and release logged");
}

static void t_refusals(void)
{
	struct spa_msg g;
	unsigned int code;

	CHECK(!request(&cb, 600 * MIB, &code, &g) &&
	      code == SPA_ERR_NO_SPACE, "600 MiB: %s", spa_err_name(code));
	printf("#   %s\n", g.err_text);
	CHECK(strstr(g.err_text, "pool pa can lend 512 MiB"), "%s",
	      g.err_text);
	CHECK(!request(&cy, 4096, &code, &g) && code == SPA_ERR_UNKNOWN_PEER,
	      "from y: %s", spa_err_name(code));
	{
		struct spa_msg rep;
		char why[512];

		CHECK(!resize_grant1(&cy, &rep, why, sizeof(why)) &&
		      rep.type == SPA_ERROR &&
		      rep.err_code == SPA_ERR_UNKNOWN_PEER,
		      "resize from y: %s %s", why, rep.err_text);
		CHECK(!resize_grant1(&cb, &rep, why, sizeof(why)) &&
		      rep.type == SPA_ERROR &&
		      rep.err_code == SPA_ERR_UNKNOWN_GRANT,
		      "resize of no grant: %s %s", why, rep.err_text);
	}
	srv.lender.quota.max_grants = 0;
	CHECK(!request(&cb, 4096, &code, &g) && code == SPA_ERR_LIMIT,
	      "max_grants: %s", spa_err_name(code));
	srv.lender.quota.max_grants = 16;
	fake_ctx.fail_export = EIO;
	CHECK(!request(&cb, 4096, &code, &g) && code == SPA_ERR_FAILED,
	      "export failure: %s", spa_err_name(code));
	printf("#   %s\n", g.err_text);
	fake_ctx.fail_export = 0;
	CHECK(nr_volumes() == 0 && nr_exports() == 0,
	      "a failed grant left %u volumes, %u exports", nr_volumes(),
	      nr_exports());
	CHECK(srv.lender.quota.reserved == 0 && srv.lender.quota.pending == 0 &&
	      srv.lender.quota.grants == 0, "quota after failures");
	CHECK(cap_has("refused: no space", NULL) &&
	      cap_has("refused: limit reached", NULL) &&
	      cap_has("refused: failed: injected export failure", NULL),
	      "refusals logged");
}

/* Two borrowers ask for the last free space at the same moment. */
struct racer {
	pthread_barrier_t *go;
	u64 id;
	unsigned int code;
	struct spa_msg rep;
};

static void *race_one(void *arg)
{
	struct racer *r = arg;
	struct spa_msg req;
	char why[512];

	test_request_msg(&cb, &req, 512 * MIB);
	pthread_barrier_wait(r->go);
	if (call(&cb, &keys, &req, &r->rep, why, sizeof(why))) {
		r->code = ~0U;
		return NULL;
	}
	r->id = r->rep.type == SPA_GRANT ? r->rep.grant_id : 0;
	r->code = r->rep.type == SPA_ERROR ? r->rep.err_code : 0;
	return NULL;
}

static void t_race(void)
{
	pthread_barrier_t go;
	struct racer r[2];
	pthread_t t[2];
	unsigned int round, bad = 0, i, creates = fake_ctx.creates;

	fake_ctx.delay_ms = 20;
	for (round = 0; round < 10; round++) {
		memset(r, 0, sizeof(r));
		pthread_barrier_init(&go, NULL, 2);
		for (i = 0; i < 2; i++) {
			r[i].go = &go;
			pthread_create(&t[i], NULL, race_one, &r[i]);
		}
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		if (!((r[0].id && r[1].code == SPA_ERR_NO_SPACE) ||
		      (r[1].id && r[0].code == SPA_ERR_NO_SPACE))) {
			bad++;
			fail("round %u: %016llx/%s and %016llx/%s", round,
			     r[0].id, spa_err_name(r[0].code), r[1].id,
			     spa_err_name(r[1].code));
		}
		for (i = 0; i < 2; i++)
			if (r[i].id && release(&cb, r[i].id))
				fail("release %016llx", r[i].id);
	}
	fake_ctx.delay_ms = 0;
	CHECK(!bad, "%u rounds without exactly one grant", bad);
	/* The agent refused the loser itself: it never reached the pool. */
	CHECK(fake_ctx.creates - creates == 10, "%u volumes made in 10 rounds",
	      fake_ctx.creates - creates);
	CHECK(nr_volumes() == 0 &&
	      fake_free("pa", "m1") + fake_free("pa", "m2") == 8,
	      "space back after the rounds");
}

/* ------------------------------------------------------------- wire */

static int raw_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	sa.sin_port = htons(srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fail("connect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Reads until EOF (at most @ms); the bytes read. */
static size_t read_reply(int fd, u8 *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t have = 0;
	ssize_t n;

	while (have < cap && poll(&p, 1, ms) > 0) {
		n = read(fd, buf + have, cap - have);
		if (n <= 0)
			break;
		have += n;
	}
	return have;
}

/*
 * Sends @len bytes (closing the write side when @close_after), and
 * returns the decoded reply's type (0: closed without a reply).
 */
static u8 raw_exchange(const u8 *b, size_t len, bool close_after,
		       struct spa_msg *rep)
{
	u8 buf[SPA_FRAME_MAX];
	char why[256];
	size_t n;
	int fd;

	fd = raw_connect();
	if (fd < 0)
		return 0xee;
	if (write(fd, b, len) != (ssize_t)len)
		fail("write");
	if (close_after)
		shutdown(fd, SHUT_WR);
	n = read_reply(fd, buf, sizeof(buf), 10000);
	close(fd);
	if (!n)
		return 0;
	if (!spa_verify(&key, buf, n) || spa_decode(buf, n, rep, why,
						    sizeof(why))) {
		fail("a reply that does not verify or decode (%zu bytes)", n);
		return 0xee;
	}
	return rep->type;
}

static void t_wire_garbage(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct spa_msg rep;
	struct raw r;

	CHECK(raw_exchange((const u8 *)http, sizeof(http) - 1, false, &rep) == 0,
	      "HTTP was answered");
	CHECK(cap_has("refused 127.0.0.1", "bad magic"), "no log line");

	/* Oversized: 1 MB declared, refused after the first 12 bytes. */
	raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
	r.b[9] = 0x10;
	CHECK(raw_exchange(r.b, SPA_PREFIX_LEN, false, &rep) == 0,
	      "1 MB declared was answered");
	CHECK(cap_has("declared length 1048576 outside 68..4096", NULL),
	      "no log line for the oversized frame");

	raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
	r.b[4] = 9;
	CHECK(raw_exchange(r.b, SPA_PREFIX_LEN, false, &rep) == 0,
	      "version 9 was answered");
	CHECK(cap_has("unsupported protocol version 9", NULL), "no log line");

	/* Truncated: 200 bytes declared, 50 sent, then the end. */
	raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
	r.b[11] = 200;
	CHECK(raw_exchange(r.b, 50, true, &rep) == 0, "truncated answered");
	CHECK(cap_has("truncated: connection closed after 50 of 200 bytes",
		      NULL), "no log line for the truncated frame");
	CHECK(heartbeat_ok(NULL, NULL), "the server does not answer");
}

static void t_wire_slow(void)
{
	struct spa_msg rep;
	struct raw r;
	u64 t0 = spa_now_ms();

	raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
	r.b[11] = 200;
	/* 20 bytes, then nothing: dropped after 1 s. */
	CHECK(raw_exchange(r.b, 20, false, &rep) == 0, "answered");
	CHECK(spa_now_ms() - t0 >= 900, "dropped after %llu ms",
	      spa_now_ms() - t0);
	CHECK(cap_has("timed out after 1000 ms with 20 of 200 bytes", NULL),
	      "no log line for the slow sender");
}

/* A heartbeat frame from @node to @to stamped @ts, sealed with @k. */
static void raw_heartbeat(struct raw *r, u64 ts, const char *node,
			  const char *to, const struct spa_key *k)
{
	raw_header(r, SPA_HEARTBEAT, ts);
	raw_str(r, SPA_T_NODE, node);
	raw_str(r, SPA_T_TO, to);
	raw_finish(r, k);
}

static void t_wire_forged(void)
{
	struct spa_msg rep, req, r2;
	struct raw r;
	char why[512];
	int ret;

	raw_heartbeat(&r, spa_now_ms(), "b", "a", &key2);
	CHECK(raw_exchange(r.b, r.len, false, &rep) == 0,
	      "a frame under another key was answered");
	CHECK(cap_has("authentication failed", "HMAC mismatch"),
	      "no log line for the forged frame");
	raw_finish(&r, NULL);
	r.len -= SPA_MAC_LEN;
	raw_finish(&r, NULL);
	CHECK(raw_exchange(r.b, r.len, false, &rep) == 0,
	      "a frame with a zero MAC was answered");

	/* The client's view of another key. */
	spa_msg_init(&req, &cb, SPA_HEARTBEAT);
	ret = call(&cb, &keys2, &req, &r2, why, sizeof(why));
	CHECK(ret && strstr(why, "without a reply"), "another key: %d %s", ret,
	      why);
	printf("#   client: %s\n", why);
}

static void t_wire_authenticated_refusals(void)
{
	struct spa_msg rep;
	struct raw r;
	u8 type;

	raw_header(&r, 0x42, spa_now_ms());
	raw_str(&r, SPA_T_NODE, "b");
	raw_finish(&r, &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && rep.err_code == SPA_ERR_UNKNOWN_VERB,
	      "unknown verb: %s %s", spa_type_name(type),
	      spa_err_name(rep.err_code));
	CHECK(!memcmp(rep.reply_to, r.b + 20, SPA_NONCE_LEN),
	      "the error answers the frame's nonce");
	CHECK(cap_has("unknown verb", "0x42"), "no log line");

	raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
	raw_str(&r, SPA_T_NODE, "b");
	raw_str(&r, SPA_T_NODE, "b");
	raw_str(&r, SPA_T_TO, "a");
	raw_finish(&r, &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && rep.err_code == SPA_ERR_BAD_MESSAGE &&
	      strstr(rep.err_text, "duplicate field node"),
	      "malformed body: %s", rep.err_text);

	raw_heartbeat(&r, spa_now_ms(), "b", "c", &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && strstr(rep.err_text, "addressed to c"),
	      "to c: %s", rep.err_text);

	raw_heartbeat(&r, spa_now_ms(), "a", "a", &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && strstr(rep.err_text, "this node"),
	      "from itself: %s", rep.err_text);

	raw_header(&r, SPA_RELEASE | SPA_REPLY, spa_now_ms());
	raw_str(&r, SPA_T_NODE, "b");
	raw_field(&r, SPA_T_REPLY_TO, r.b + 20, 16);
	raw_int(&r, SPA_T_GRANT_ID, 1, 8);
	raw_finish(&r, &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && strstr(rep.err_text, "not a request"),
	      "a reply as a request: %s", rep.err_text);
}

static void t_wire_replay_stale(void)
{
	struct spa_msg rep;
	struct raw r;
	u8 type;

	raw_heartbeat(&r, spa_now_ms(), "b", "a", &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == (SPA_HEARTBEAT | SPA_REPLY), "first: %s",
	      spa_type_name(type));
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && rep.err_code == SPA_ERR_REPLAY,
	      "replayed: %s", spa_err_name(rep.err_code));
	CHECK(cap_has("replayed nonce", NULL), "no log line");

	raw_heartbeat(&r, spa_now_ms() - 31000, "b", "a", &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && rep.err_code == SPA_ERR_STALE,
	      "31 s old: %s", spa_err_name(rep.err_code));
	raw_heartbeat(&r, spa_now_ms() + 31000, "b", "a", &key);
	type = raw_exchange(r.b, r.len, false, &rep);
	CHECK(type == SPA_ERROR && rep.err_code == SPA_ERR_STALE,
	      "31 s ahead: %s", spa_err_name(rep.err_code));
	CHECK(cap_has("ms in the future", NULL) && cap_has("ms old", NULL),
	      "no log lines");

	/* A captured request, replayed: no second grant. */
	{
		struct spa_msg req;
		u8 buf[SPA_FRAME_MAX];
		size_t len;
		char why[256];

		test_request_msg(&cb, &req, 4096);
		snprintf(req.to, sizeof(req.to), "a");
		req.fields |= SPA_F(SPA_T_TO);
		if (spa_encode(&req, buf, sizeof(buf), &len, why, sizeof(why)) ||
		    spa_seal(&key, buf, len)) {
			fail("encode: %s", why);
			return;
		}
		type = raw_exchange(buf, len, false, &rep);
		CHECK(type == SPA_GRANT, "the request: %s", rep.err_text);
		type = raw_exchange(buf, len, false, &rep);
		CHECK(type == SPA_ERROR && rep.err_code == SPA_ERR_REPLAY,
		      "the replayed request: %s", spa_type_name(type));
		CHECK(nr_volumes() == 1, "%u volumes", nr_volumes());
	}
}

static void t_wire_flood(void)
{
	int fds[24], i, n = 0;

	for (i = 0; i < 24; i++) {
		fds[i] = raw_connect();
		if (fds[i] >= 0)
			n++;
	}
	usleep(300000);
	CHECK(cap_has("4 connections already open from 127.0.0.1 (conn_per_source)",
		      NULL),
	      "no log of the refused connections (%d open)", n);
	for (i = 0; i < 24; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	usleep(100000);
	CHECK(heartbeat_ok(NULL, NULL), "the server does not answer");
}

static void t_still_serving(void)
{
	u64 free_bytes = 0;

	CHECK(heartbeat_ok(&free_bytes, NULL), "no heartbeat");
	if (!case_ok)
		cap_dump();
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "hello and peers: learn, list, a configured peer stays put",
		  t_hello_peers },
		{ "heartbeat: the lendable space", t_heartbeat },
		{ "request, grant, repeat, release: the ledger and the space",
		  t_grant_release },
		{ "refusals: no space, unknown peer or grant, limit, export failure",
		  t_refusals },
		{ "two requests for the last free space: one grant (10 rounds)",
		  t_race },
		{ "wire: garbage, oversized, wrong version, truncated",
		  t_wire_garbage },
		{ "wire: a slow sender is dropped after 1 s", t_wire_slow },
		{ "wire: forged frames are not answered", t_wire_forged },
		{ "wire: unknown verb, bad body, misaddressed, a reply",
		  t_wire_authenticated_refusals },
		{ "wire: replayed and stale frames, a replayed request",
		  t_wire_replay_stale },
		{ "wire: a connection flood", t_wire_flood },
		{ "the server still serves", t_still_serving },
	};
	int ret;

	setup();
	ret = ktap_run(cases, ARRAY_SIZE(cases));
	test_server_stop(&srv);
	return ret;
}
