// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of per-peer identity in slicepool-agent, over TCP on
 * 127.0.0.1 with the real server and lender on a fake backend: each peer
 * has its own key (b and c here), a frame is verified with the key of the
 * peer it claims to come from, and the lender authorises every request
 * against that peer: c, with its own valid key, cannot release or resize
 * b's grant, nor pass for b.  Replayed and forged frames, a peer with no
 * key, key rotation (a current and a next key, both accepted until the
 * old one goes; reloading from the key files, all or nothing) and the
 * one field read before the MAC.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "remote-test.h"

#define MIB	1048576ULL
#define KB2_HEX \
	"5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b"

static struct spa_config ca, cb, cc, cz;
static struct spa_key kb, kc, kb2;
/* The lender's keys; b's and c's views (their key for a). */
static struct spa_keys ring_a, ring_b, ring_c, ring_b2, ring_c_as_b;
static struct test_server srv;
static u64 gid;

static void ring(struct spa_keys *ks, const char *peer,
		 const struct spa_key *k)
{
	spa_keys_init(ks);
	if (spa_keys_set(ks, peer, k, NULL))
		exit(1);
}

static void setup(void)
{
	test_server_config(&ca, true);
	fake_member("pa", "m1", 8, "online", 1);
	test_key(&kb, TEST_KEY_HEX);
	test_key(&kc, TEST_KEY2_HEX);
	test_key(&kb2, KB2_HEX);
	ring(&ring_a, "b", &kb);
	spa_keys_set(&ring_a, "c", &kc, NULL);
	ring(&ring_b, "a", &kb);
	ring(&ring_c, "a", &kc);
	ring(&ring_b2, "a", &kb2);
	ring(&ring_c_as_b, "a", &kc);
	test_server_start(&srv, &ca, &ring_a);
	test_client(&cb, "b", 7);
	test_client(&cc, "c", 8);
	test_client(&cz, "z", 11);
}

static int call(const struct spa_config *c, struct spa_keys *k,
		struct spa_msg *req, struct spa_msg *rep, char *why,
		size_t wlen)
{
	return spa_call(c, k, "127.0.0.1", srv.port, "a", req, rep, why, wlen);
}

/* The lender's view of grant @id: its state and size (under its lock). */
static int grant_state(u64 id, u64 *size)
{
	struct spa_grant *g;
	int state = 0;

	pthread_mutex_lock(&srv.lender.lock);
	g = spa_ledger_find(&srv.lender.ledger, id);
	if (g) {
		state = g->state;
		*size = g->size;
	}
	pthread_mutex_unlock(&srv.lender.lock);
	return state;
}

static bool grant_intact(u64 id)
{
	char vol[SPU_NAME_MAX + 1], subnqn[SPA_NQN_MAX + 1];
	u64 size = 0;

	spa_grant_names(&ca, id, vol, sizeof(vol), subnqn, sizeof(subnqn));
	return grant_state(id, &size) == SPA_G_ACTIVE && size == 64 * MIB &&
	       fb_exported(NULL, subnqn, ca.nvmet_port_id);
}

static void t_borrow(void)
{
	struct spa_msg req, rep;
	char why[512];

	test_request_msg(&cb, &req, 64 * MIB);
	CHECK(!call(&cb, &ring_b, &req, &rep, why, sizeof(why)), "%s", why);
	CHECK(rep.type == SPA_GRANT, "b got %s: %s", spa_type_name(rep.type),
	      rep.err_text);
	gid = rep.grant_id;
	CHECK(grant_intact(gid), "b's grant %llx is active and exported", gid);
}

/* Sends RELEASE or RESIZE of b's grant as @c with @k; the reply in @rep. */
static int touch_grant(const struct spa_config *c, struct spa_keys *k,
		       u8 type, struct spa_msg *rep, char *why, size_t wlen)
{
	struct spa_msg req;

	spa_msg_init(&req, c, type);
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = gid;
	if (type == SPA_RESIZE) {
		req.fields |= SPA_F(SPA_T_SIZE);
		req.size = 128 * MIB;
	}
	return call(c, k, &req, rep, why, wlen);
}

/*
 * c, with its own valid key, @doing (@type) b's grant: refused as not the
 * owner, the grant unchanged; logged as @logged unless NULL.
 */
static void other_touch(u8 type, const char *doing, const char *logged)
{
	struct spa_msg rep;
	char why[512];

	CHECK(!touch_grant(&cc, &ring_c, type, &rep, why, sizeof(why)),
	      "%s", why);
	CHECK(rep.type == SPA_ERROR && rep.err_code == SPA_ERR_NOT_OWNER &&
	      strstr(rep.err_text, "is not c's"),
	      "c %s b's grant: %s %s", doing, spa_type_name(rep.type),
	      rep.err_text);
	CHECK(grant_intact(gid), "b's grant unchanged (64 MiB)");
	if (logged)
		CHECK(cap_has(logged, "refused: not the owner"), "logged");
}

static void t_other_release(void)
{
	other_touch(SPA_RELEASE, "releasing", "release of");
}

static void t_other_resize(void)
{
	other_touch(SPA_RESIZE, "resizing", NULL);
}

static void t_pass_for_b(void)
{
	struct spa_msg rep;
	char why[512] = "";
	int ret;

	/* c's valid key, b's name: the MAC is checked with b's key. */
	ret = touch_grant(&cb, &ring_c_as_b, SPA_RELEASE, &rep, why,
			  sizeof(why));
	CHECK(ret && strstr(why, "without a reply"),
	      "c passing for b got an answer: %d %s", ret, why);
	CHECK(cap_has("from b: authentication failed", "not b's key"),
	      "the refusal is logged");
	CHECK(grant_intact(gid), "b's grant unchanged");
}

static void t_no_key(void)
{
	struct spa_msg req, rep;
	char why[512] = "";
	int ret;

	spa_msg_init(&req, &cz, SPA_HEARTBEAT);
	ret = call(&cz, &ring_b, &req, &rep, why, sizeof(why));
	CHECK(ret && strstr(why, "without a reply"),
	      "a node without a key got an answer: %d %s", ret, why);
	CHECK(cap_has("claims to come from z, which has no key here", NULL),
	      "logged");
	spa_msg_init(&req, &cb, SPA_HEARTBEAT);
	ret = spa_call(&cb, &ring_b, "127.0.0.1", srv.port, "q", &req, &rep, why,
		       sizeof(why));
	CHECK(ret == -ENOKEY && strstr(why, "no key for peer q"),
	      "calling a peer this node has no key for: %d %s", ret, why);
}

/* Sends the raw frame @f; 1 and the reply (b's key) in @rep, 0: none. */
static int raw_send(const u8 *f, size_t len, const struct spa_key *k,
		    struct spa_msg *rep)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	u8 buf[SPA_FRAME_MAX];
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;
	char why[256];

	sa.sin_port = htons(srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, f, len) != (ssize_t)len)
		goto out;
	while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += n;
	if (got && spa_verify(k, buf, got) &&
	    !spa_decode(buf, got, rep, why, sizeof(why)))
		ret = 1;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* b's own RELEASE, captured: answered once, then refused as a replay. */
static void t_replay_and_forgery(void)
{
	struct spa_msg req, rep;
	u8 f[SPA_FRAME_MAX], forged[SPA_FRAME_MAX];
	char why[256];
	size_t len;

	spa_msg_init(&req, &cb, SPA_RELEASE);
	req.fields |= SPA_F(SPA_T_GRANT_ID) | SPA_F(SPA_T_TO);
	req.grant_id = gid;
	snprintf(req.to, sizeof(req.to), "a");
	CHECK(!spa_encode(&req, f, sizeof(f), &len, why, sizeof(why)) &&
	      !spa_seal(&kb, f, len), "%s", why);
	/* Forged: the grant id's last byte changed, the MAC left. */
	memcpy(forged, f, len);
	forged[len - SPA_MAC_LEN - 1] ^= 1;
	CHECK(!raw_send(forged, len, &kb, &rep), "a forged frame was answered");
	CHECK(grant_intact(gid), "nothing changed after the forgery");
	CHECK(raw_send(f, len, &kb, &rep) && rep.type == (SPA_RELEASE |
							    SPA_REPLY),
	      "b's release: %s %s", spa_type_name(rep.type), rep.err_text);
	CHECK(raw_send(f, len, &kb, &rep) && rep.type == SPA_ERROR &&
	      rep.err_code == SPA_ERR_REPLAY,
	      "the same frame again: %s %s", spa_type_name(rep.type),
	      rep.err_text);
	CHECK(cap_has("replay", NULL), "the replay is logged");
}

/* A heartbeat from @c (b unless said) with @k: answered? */
static bool heartbeat_as(const struct spa_config *c, struct spa_keys *k)
{
	struct spa_msg req, rep;
	char why[512];

	spa_msg_init(&req, c, SPA_HEARTBEAT);
	return !call(c, k, &req, &rep, why, sizeof(why)) &&
	       rep.type == (SPA_HEARTBEAT | SPA_REPLY);
}

static bool heartbeat_with(struct spa_keys *k)
{
	return heartbeat_as(&cb, k);
}

static void t_rotation(void)
{
	CHECK(heartbeat_with(&ring_b) && !heartbeat_with(&ring_b2),
	      "before: only b's current key");
	spa_keys_set(&ring_a, "b", &kb, &kb2);
	CHECK(heartbeat_with(&ring_b), "rotating: the current key still works");
	CHECK(heartbeat_with(&ring_b2),
	      "rotating: the next key works (and the reply is sealed with it)");
	spa_keys_set(&ring_a, "b", &kb2, &kb);
	CHECK(heartbeat_with(&ring_b) && heartbeat_with(&ring_b2),
	      "swapped: both still work");
	spa_keys_set(&ring_a, "b", &kb2, NULL);
	CHECK(!heartbeat_with(&ring_b) && heartbeat_with(&ring_b2),
	      "the old key removed: refused, the new one works");
	CHECK(heartbeat_as(&cc, &ring_c), "c unaffected");
}

static void key_file(const char *name, char *path, size_t len)
{
	char why[256];

	snprintf(path, len, "%s/%s", test_dir, name);
	unlink(path);
	if (spa_key_generate(path, why, sizeof(why))) {
		fail("%s", why);
		exit(1);
	}
}

/* What SIGHUP does: the key files read again, all or nothing. */
static void t_reload(void)
{
	struct spa_config c;
	struct spa_keys ks;
	char f1[PATH_MAX], f2[PATH_MAX], text[2048], why[512];

	key_file("k1", f1, sizeof(f1));
	key_file("k2", f2, sizeof(f2));
	snprintf(text, sizeof(text),
		 "node a\nlisten 127.0.0.1 1\npeer_key b %s %s\n", f1, f2);
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(text, &c, why, sizeof(why)), "%s", why);
	CHECK(!spa_keys_load(&ks, &c, why, sizeof(why)), "%s", why);
	CHECK(ks.n == 1 && ks.k[0].cur.len == 32 && ks.k[0].next.len == 32,
	      "b: a current and a next key");
	snprintf(text, sizeof(text),
		 "node a\nlisten 127.0.0.1 1\npeer_key b %s\npeer_key c %s/none\n",
		 f2, test_dir);
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(text, &c, why, sizeof(why)), "%s", why);
	CHECK(spa_keys_reload(&ks, &c, why, sizeof(why)) &&
	      strstr(why, "none"), "a missing key file refused: %s", why);
	CHECK(ks.n == 1 && ks.k[0].next.len == 32,
	      "the keys in use stay after a failed reload");
	snprintf(text, sizeof(text),
		 "node a\nlisten 127.0.0.1 1\npeer_key b %s\n", f2);
	spa_config_defaults(&c);
	CHECK(!spa_config_parse(text, &c, why, sizeof(why)), "%s", why);
	CHECK(!spa_keys_reload(&ks, &c, why, sizeof(why)), "%s", why);
	CHECK(ks.n == 1 && !ks.k[0].next.len, "the old key is gone");
	snprintf(text, sizeof(text),
		 "node a\nlisten 127.0.0.1 1\npeer_key b %s %s\n", f2, f2);
	spa_config_defaults(&c);
	CHECK(spa_config_parse(text, &c, why, sizeof(why)),
	      "the same file as current and next accepted");
	spa_keys_free(&ks);
}

/* The one field read before the MAC: the sender's name, strictly. */
static void t_frame_node(void)
{
	static const struct {
		unsigned int tag;
		const char *name;
		size_t len;
		const char *what;
	} bad[] = {
		{ SPA_T_TO, "b", 1, "another field first" },
		{ SPA_T_NODE, "", 0, "an empty name" },
		{ SPA_T_NODE, "abcdefghijklmnopqrstuvwxy", 25, "25 characters" },
		{ SPA_T_NODE, "b/c", 3, "a slash" },
		{ SPA_T_NODE, "b\0c", 3, "a NUL" },
	};
	char name[SPA_NODE_MAX + 1];
	struct raw r;
	size_t i;

	raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
	raw_str(&r, SPA_T_NODE, "node-b.1");
	raw_finish(&r, &kb);
	CHECK(!spa_frame_node(r.b, r.len, name) && !strcmp(name, "node-b.1"),
	      "a good name read");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
		raw_field(&r, bad[i].tag, bad[i].name, bad[i].len);
		raw_finish(&r, &kb);
		CHECK(spa_frame_node(r.b, r.len, name), "%s read",
		      bad[i].what);
	}
	/* A length running into the MAC. */
	raw_header(&r, SPA_HEARTBEAT, spa_now_ms());
	raw_be(&r, SPA_T_NODE, 2);
	raw_be(&r, 20, 2);
	raw_put(&r, "b", 1);
	raw_finish(&r, &kb);
	CHECK(spa_frame_node(r.b, r.len, name), "a name into the MAC read");
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "b borrows with its own key", t_borrow },
		{ "c, with its own valid key, cannot release b's grant",
		  t_other_release },
		{ "c, with its own valid key, cannot resize b's grant",
		  t_other_resize },
		{ "c cannot pass for b: b's key checks b's frames",
		  t_pass_for_b },
		{ "a node without a key is not answered", t_no_key },
		{ "a forged frame is not answered; b's release replayed is refused",
		  t_replay_and_forgery },
		{ "rotation: a current and a next key, then the old one removed",
		  t_rotation },
		{ "reloading the key files: all or nothing", t_reload },
		{ "the sender's name is the one field read before the MAC",
		  t_frame_node },
	};

	setup();
	return test_server_run(&srv, cases, ARRAY_SIZE(cases));
}
