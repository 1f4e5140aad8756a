// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of slicepool-agent's authentication
 * (nvmet-remote-ns/agent/auth.c): HMAC-SHA256 known answers, any change
 * to a sealed frame or another key is refused, the timestamp window, the
 * nonce cache (replays refused, entries expire, a full cache refuses
 * rather than forgets), and the key file checks.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "remote-test.h"

static struct spa_key key;

static void hexcmp(const u8 *got, const char *want_hex, const char *what)
{
	char hex[2 * SPA_MAC_LEN + 1];

	spu_hex(got, SPA_MAC_LEN, hex);
	CHECK(!strcmp(hex, want_hex), "%s: %s", what, hex);
}

/* RFC 4231, test cases 1 and 2: this is HMAC-SHA256. */
static void t_hmac_vectors(void)
{
	struct spa_key k = { .len = 20 };
	u8 mac[SPA_MAC_LEN];

	memset(k.bytes, 0x0b, 20);
	CHECK(!spa_hmac(&k, (const u8 *)"Hi There", 8, mac), "hmac 1");
	hexcmp(mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	       "RFC 4231 case 1");
	k.len = 4;
	memcpy(k.bytes, "Jefe", 4);
	CHECK(!spa_hmac(&k, (const u8 *)"what do ya want for nothing?", 28,
			mac), "hmac 2");
	hexcmp(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "RFC 4231 case 2");
}

static size_t sealed_heartbeat(u8 *buf, u64 ts)
{
	struct spa_msg m;
	size_t len = 0;
	char why[256];

	memset(&m, 0, sizeof(m));
	m.type = SPA_HEARTBEAT;
	m.ts_ms = ts;
	spa_random(m.nonce, sizeof(m.nonce));
	snprintf(m.node, sizeof(m.node), "b");
	snprintf(m.to, sizeof(m.to), "a");
	m.fields = SPA_F(SPA_T_NODE) | SPA_F(SPA_T_TO);
	if (spa_encode(&m, buf, SPA_FRAME_MAX, &len, why, sizeof(why)) ||
	    spa_seal(&key, buf, len))
		fail("encode: %s", why);
	return len;
}

static void t_any_change_refused(void)
{
	u8 buf[SPA_FRAME_MAX];
	unsigned int bit, bad = 0;
	size_t len, i;

	len = sealed_heartbeat(buf, spa_now_ms());
	CHECK(spa_verify(&key, buf, len), "the sealed frame verifies");
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= 1 << bit;
			if (spa_verify(&key, buf, len))
				bad++;
			buf[i] ^= 1 << bit;
		}
	}
	CHECK(!bad, "%u single-bit changes verified", bad);
	CHECK(!spa_verify(&key, buf, len - 1), "one byte short verified");
	CHECK(!spa_verify(&key, buf, SPA_FRAME_MIN - 1), "too short verified");
}

static void t_other_key_refused(void)
{
	struct spa_key other;
	u8 buf[SPA_FRAME_MAX];
	size_t len;

	len = sealed_heartbeat(buf, spa_now_ms());
	test_key(&other, TEST_KEY2_HEX);
	CHECK(!spa_verify(&other, buf, len), "another key verified");
	other.len = 0;
	CHECK(!spa_verify(&other, buf, len), "an empty key verified");
	/*
	 * A prefix of the key is another key (HMAC pads keys with zero
	 * bytes, so the byte it lacks must not be 0 for this to hold).
	 */
	other = key;
	other.len = SPA_KEY_MIN;
	key.len = SPA_KEY_MIN + 1;
	key.bytes[SPA_KEY_MIN] = 0x5a;
	len = sealed_heartbeat(buf, spa_now_ms());
	CHECK(!spa_verify(&other, buf, len), "a key prefix verified");
	test_key(&key, TEST_KEY_HEX);
}

static void t_window(void)
{
	struct spa_replay r;
	u64 now = 1795276407000ULL, w = 30000;
	u8 nonce[SPA_NONCE_LEN];
	char why[256];

	spa_replay_init(&r, 16, w);
	spa_random(nonce, sizeof(nonce));
	CHECK(spa_replay_check(&r, nonce, now - w - 1, now, why, sizeof(why)) ==
	      -SPA_E_STALE, "1 ms too old");
	printf("#   %s\n", why);
	spa_random(nonce, sizeof(nonce));
	CHECK(spa_replay_check(&r, nonce, now + w + 1, now, why, sizeof(why)) ==
	      -SPA_E_STALE, "1 ms too new");
	printf("#   %s\n", why);
	CHECK(r.n == 0, "a stale nonce was recorded");
	spa_random(nonce, sizeof(nonce));
	CHECK(!spa_replay_check(&r, nonce, now - w, now, why, sizeof(why)),
	      "at the old edge: %s", why);
	spa_random(nonce, sizeof(nonce));
	CHECK(!spa_replay_check(&r, nonce, now + w, now, why, sizeof(why)),
	      "at the new edge: %s", why);
	CHECK(spa_replay_check(&r, nonce, 0, now, why, sizeof(why)) ==
	      -SPA_E_STALE, "timestamp 0");
	CHECK(spa_replay_check(&r, nonce, ~0ULL - w, now, why, sizeof(why)) ==
	      -SPA_E_STALE, "timestamp far in the future");
	spa_replay_free(&r);
}

static void t_replay(void)
{
	struct spa_replay r;
	u64 now = 1795276407000ULL, w = 30000;
	u8 a[SPA_NONCE_LEN], b[SPA_NONCE_LEN];
	char why[256];

	spa_replay_init(&r, 16, w);
	spa_random(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[15] ^= 1;
	CHECK(!spa_replay_check(&r, a, now, now, why, sizeof(why)), "first");
	CHECK(spa_replay_check(&r, a, now, now + 1, why, sizeof(why)) ==
	      -SPA_E_REPLAY, "the same nonce again");
	printf("#   %s\n", why);
	CHECK(spa_replay_check(&r, a, now + 1000, now + 1000, why,
			       sizeof(why)) == -SPA_E_REPLAY,
	      "the same nonce with a new timestamp");
	CHECK(!spa_replay_check(&r, b, now, now, why, sizeof(why)),
	      "a nonce one bit away");
	/* Past the window the entry goes; the old frame is stale then. */
	CHECK(spa_replay_check(&r, a, now, now + w + 1, why, sizeof(why)) ==
	      -SPA_E_STALE, "the replay after the window");
	spa_random(a, sizeof(a));
	CHECK(!spa_replay_check(&r, a, now + w + 1, now + w + 1, why,
				sizeof(why)), "new");
	CHECK(r.n == 1, "expired nonces were not dropped (%u kept)", r.n);
	spa_replay_free(&r);
}

static void t_cache_full(void)
{
	struct spa_replay r;
	u64 now = 1795276407000ULL;
	u8 n[SPA_NONCE_LEN], first[SPA_NONCE_LEN];
	unsigned int i;
	char why[256];

	spa_replay_init(&r, 8, 30000);
	for (i = 0; i < 8; i++) {
		spa_random(n, sizeof(n));
		if (!i)
			memcpy(first, n, sizeof(n));
		CHECK(!spa_replay_check(&r, n, now, now, why, sizeof(why)),
		      "nonce %u", i);
	}
	spa_random(n, sizeof(n));
	CHECK(spa_replay_check(&r, n, now, now, why, sizeof(why)) ==
	      -SPA_E_CACHE_FULL, "the ninth nonce");
	printf("#   %s\n", why);
	/* Full does not mean forgetful: the first one is still a replay. */
	CHECK(spa_replay_check(&r, first, now, now, why, sizeof(why)) ==
	      -SPA_E_REPLAY, "the first nonce after the cache filled");
	CHECK(!spa_replay_check(&r, n, now + 30001, now + 30001, why,
				sizeof(why)), "once they expired: %s", why);
	spa_replay_free(&r);
}

static void write_key_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail("cannot write %s", path);
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

static void t_key_files(void)
{
	/* Refused key files; @show: print the reason. */
	static const struct {
		const char *text;
		mode_t mode;
		int ret;
		const char *what;
		bool show;
	} bad[] = {
		{ TEST_KEY_HEX "\n", 0644, -EPERM, "a world-readable key file",
		  true },
		{ TEST_KEY_HEX "\n", 0660, -EPERM, "a group-writable key file",
		  false },
		{ "0011223344556677\n", 0600, -EINVAL, "an 8-byte key", true },
		{ TEST_KEY_HEX "0\n", 0600, -EINVAL, "an odd number of digits",
		  false },
		{ TEST_KEY_HEX " " TEST_KEY_HEX "\n", 0600, -EINVAL, "two words",
		  false },
		{ "zz" TEST_KEY_HEX "\n", 0600, -EINVAL, "not hex", false },
	};
	struct spa_key k;
	char path[PATH_MAX], why[512];
	struct stat st;
	size_t i;

	snprintf(path, sizeof(path), "%s/key", make_test_dir());
	write_key_file(path, TEST_KEY_HEX "\n", 0600);
	CHECK(!spa_key_load(path, &k, why, sizeof(why)), "good key: %s", why);
	CHECK(k.len == 32 && !memcmp(k.bytes, key.bytes, 32), "key bytes");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		write_key_file(path, bad[i].text, bad[i].mode);
		CHECK(spa_key_load(path, &k, why, sizeof(why)) == bad[i].ret,
		      "%s", bad[i].what);
		if (bad[i].show)
			printf("#   %s\n", why);
	}
	unlink(path);
	CHECK(!spa_key_generate(path, why, sizeof(why)), "genkey: %s", why);
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600,
	      "genkey mode %o", st.st_mode & 0777);
	CHECK(!spa_key_load(path, &k, why, sizeof(why)) && k.len == 32,
	      "the generated key loads: %s", why);
	CHECK(spa_key_generate(path, why, sizeof(why)) == -EEXIST,
	      "genkey overwrote a key");
	snprintf(path, sizeof(path), "%s", test_dir);
	CHECK(spa_key_load(path, &k, why, sizeof(why)), "a directory as key");
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "HMAC-SHA256 known answers (RFC 4231)", t_hmac_vectors },
		{ "any single-bit change of a sealed frame is refused",
		  t_any_change_refused },
		{ "another key is refused", t_other_key_refused },
		{ "timestamps outside the window are refused", t_window },
		{ "a replayed nonce is refused; entries expire", t_replay },
		{ "a full nonce cache refuses, it does not forget",
		  t_cache_full },
		{ "key files: mode, length, format; genkey", t_key_files },
	};

	return ktap_run_keyed(&key, cases, ARRAY_SIZE(cases));
}
