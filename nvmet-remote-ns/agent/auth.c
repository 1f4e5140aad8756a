// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - authentication and replay protection
 *
 * Every frame carries an HMAC-SHA256 of all its other bytes under the
 * pre-shared key (OpenSSL libcrypto).  A request is accepted only if the
 * MAC matches (compared in constant time), its timestamp is within
 * max_skew of this host's clock, and its nonce was not seen within that
 * window.  Nonces are remembered until their timestamp leaves the window,
 * after which the timestamp check alone refuses a replay; the cache is
 * bounded and refuses (never forgets) when full.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "agent.h"

u64 spa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

u64 spa_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static ssize_t random_some(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	return getrandom(buf, len, 0);
}

int spa_random(void *buf, size_t len)
{
	return spa_xfer_all(random_some, NULL, buf, len, NULL);
}

/* ------------------------------------------------------------ keys */

/*
 * A key is 64..128 hex digits (32..64 bytes), on one line; surrounding
 * white space is ignored.
 */
int spa_key_parse(const char *text, struct spa_key *key, char *why,
		  size_t wlen)
{
	char hex[2 * SPA_KEY_MAX + 1];
	size_t n;

	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	n = strcspn(text, " \t\r\n");
	if (text[n + strspn(text + n, " \t\r\n")])
		return spu_reason(why, wlen, -EINVAL,
				  "the key must be one word of hex digits");
	if (n % 2 || n < 2 * SPA_KEY_MIN || n > 2 * SPA_KEY_MAX)
		return spu_reason(why, wlen, -EINVAL,
				  "the key has %zu hex digits: it needs an even number from %d to %d (%d..%d bytes)",
				  n, 2 * SPA_KEY_MIN, 2 * SPA_KEY_MAX, SPA_KEY_MIN,
				  SPA_KEY_MAX);
	memcpy(hex, text, n);
	hex[n] = '\0';
	if (spu_unhex(hex, key->bytes, n / 2)) {
		OPENSSL_cleanse(hex, sizeof(hex));
		return spu_reason(why, wlen, -EINVAL,
				  "the key is not hexadecimal");
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	key->len = n / 2;
	return 0;
}

int spa_secret_open(const char *path, char *why, size_t wlen)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return spu_reason(why, wlen, -errno, "cannot open key file %s: %s",
				  path, strerror(errno));
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		return spu_reason(why, wlen, ret, "cannot stat key file %s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return spu_reason(why, wlen, -EINVAL,
				  "key file %s is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return spu_reason(why, wlen, -EPERM,
				  "key file %s has mode %04o: others than its owner can use it (chmod 600 %s)",
				  path, st.st_mode & 07777, path);
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		return spu_reason(why, wlen, -EPERM,
				  "key file %s belongs to uid %u, not to root or this user",
				  path, st.st_uid);
	}
	return fd;
}

ssize_t spa_secret_read(const char *path, char *buf, size_t size, char *why,
			size_t wlen)
{
	ssize_t n;
	int fd, ret;

	fd = spa_secret_open(path, why, wlen);
	if (fd < 0)
		return fd;
	n = read(fd, buf, size - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return spu_reason(why, wlen, ret, "cannot read key file %s", path);
	if ((size_t)n >= size - 1) {
		OPENSSL_cleanse(buf, size);
		return spu_reason(why, wlen, -EINVAL, "key file %s is too long",
				  path);
	}
	buf[n] = '\0';
	return n;
}

int spa_key_load(const char *path, struct spa_key *key, char *why,
		 size_t wlen)
{
	char text[4 * SPA_KEY_MAX];
	ssize_t n;
	int ret;

	n = spa_secret_read(path, text, sizeof(text), why, wlen);
	if (n < 0)
		return n;
	ret = spa_key_parse(text, key, why, wlen);
	OPENSSL_cleanse(text, sizeof(text));
	if (ret && why && wlen) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "key file %s: %s", path, why);
		snprintf(why, wlen, "%s", tmp);
	}
	return ret;
}

/*
 * Writes @len bytes of secret @text to @path (created mode 0600, never
 * over an existing file) or, for NULL or "-", to stdout; cleanses @text.
 */
static int secret_write(const char *path, char *text, size_t len, char *why,
			size_t wlen)
{
	int fd, ret;

	if (!path || !strcmp(path, "-")) {
		ret = write(STDOUT_FILENO, text, len) == (ssize_t)len ? 0 : -EIO;
		OPENSSL_cleanse(text, len);
		return ret ? spu_reason(why, wlen, ret, "cannot write the key") : 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		OPENSSL_cleanse(text, len);
		return spu_reason(why, wlen, -errno, "cannot create %s: %s", path,
				  strerror(errno));
	}
	ret = write(fd, text, len) == (ssize_t)len && !fsync(fd) ? 0 : -EIO;
	OPENSSL_cleanse(text, len);
	if (close(fd))
		ret = -EIO;
	if (ret) {
		unlink(path);
		return spu_reason(why, wlen, ret, "cannot write %s", path);
	}
	return 0;
}

/* Writes a new 32-byte key as hex; refuses to overwrite a file. */
int spa_key_generate(const char *path, char *why, size_t wlen)
{
	u8 k[32];
	char hex[2 * sizeof(k) + 2];
	size_t len;
	int ret;

	ret = spa_random(k, sizeof(k));
	if (ret)
		return spu_reason(why, wlen, ret, "no random bytes: %s",
				  strerror(-ret));
	spu_hex(k, sizeof(k), hex);
	OPENSSL_cleanse(k, sizeof(k));
	len = strlen(hex);
	hex[len++] = '\n';
	return secret_write(path, hex, len, why, wlen);
}

int spa_psk_generate(const char *path, char *why, size_t wlen)
{
	u8 k[32];
	char b64[SPA_WG_KEY_B64 + 2];	/* EVP_EncodeBlock() adds a NUL */
	int ret;

	ret = spa_random(k, sizeof(k));
	if (ret)
		return spu_reason(why, wlen, ret, "no random bytes: %s",
				  strerror(-ret));
	ret = EVP_EncodeBlock((unsigned char *)b64, k, sizeof(k));
	OPENSSL_cleanse(k, sizeof(k));
	if (ret != SPA_WG_KEY_B64) {
		OPENSSL_cleanse(b64, sizeof(b64));
		return spu_reason(why, wlen, -EIO, "cannot encode the key");
	}
	b64[SPA_WG_KEY_B64] = '\n';
	return secret_write(path, b64, SPA_WG_KEY_B64 + 1, why, wlen);
}

void spa_key_wipe(struct spa_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

/* ------------------------------------------------------------ peer keys */

void spa_keys_init(struct spa_keys *ks)
{
	memset(ks, 0, sizeof(*ks));
	pthread_mutex_init(&ks->lock, NULL);
}

static struct spa_peer_keys *keys_find(struct spa_keys *ks, const char *peer)
{
	return spa_find_named(ks->k, ks->n, name, peer);
}

int spa_keys_set(struct spa_keys *ks, const char *peer,
		 const struct spa_key *cur, const struct spa_key *next)
{
	struct spa_peer_keys *pk;

	pthread_mutex_lock(&ks->lock);
	pk = keys_find(ks, peer);
	if (!pk) {
		if (ks->n >= SPA_PEERS_MAX) {
			pthread_mutex_unlock(&ks->lock);
			return -ENOSPC;
		}
		pk = &ks->k[ks->n++];
	}
	memset(pk, 0, sizeof(*pk));
	snprintf(pk->name, sizeof(pk->name), "%s", peer);
	pk->cur = *cur;
	if (next)
		pk->next = *next;
	pthread_mutex_unlock(&ks->lock);
	return 0;
}

/* Loads every key file of @c into @ks (not locked: a private set). */
static int keys_read(struct spa_keys *ks, const struct spa_config *c,
		     char *why, size_t wlen)
{
	const struct spa_peer_key_cfg *kc;
	struct spa_peer_keys *pk;
	unsigned int i;
	int ret;

	for (i = 0; i < c->nr_keys; i++) {
		kc = &c->keys[i];
		pk = &ks->k[ks->n];
		memset(pk, 0, sizeof(*pk));
		snprintf(pk->name, sizeof(pk->name), "%s", kc->name);
		ret = spa_key_load(kc->file, &pk->cur, why, wlen);
		if (!ret && kc->next[0])
			ret = spa_key_load(kc->next, &pk->next, why, wlen);
		if (!ret && pk->next.len && pk->next.len == pk->cur.len &&
		    !CRYPTO_memcmp(pk->next.bytes, pk->cur.bytes, pk->cur.len))
			ret = spu_reason(why, wlen, -EINVAL,
					 "peer %s: %s and %s hold the same key",
					 kc->name, kc->file, kc->next);
		if (ret) {
			OPENSSL_cleanse(pk, sizeof(*pk));
			return ret;
		}
		ks->n++;
	}
	return 0;
}

int spa_keys_load(struct spa_keys *ks, const struct spa_config *c,
		  char *why, size_t wlen)
{
	int ret;

	spa_keys_init(ks);
	ret = keys_read(ks, c, why, wlen);
	if (ret)
		spa_keys_free(ks);
	return ret;
}

int spa_keys_reload(struct spa_keys *ks, const struct spa_config *c,
		    char *why, size_t wlen)
{
	struct spa_keys *tmp;
	int ret;

	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	ret = keys_read(tmp, c, why, wlen);
	if (!ret) {
		pthread_mutex_lock(&ks->lock);
		OPENSSL_cleanse(ks->k, sizeof(ks->k));
		memcpy(ks->k, tmp->k, sizeof(ks->k));
		ks->n = tmp->n;
		pthread_mutex_unlock(&ks->lock);
	}
	OPENSSL_cleanse(tmp, sizeof(*tmp));
	free(tmp);
	return ret;
}

void spa_keys_free(struct spa_keys *ks)
{
	OPENSSL_cleanse(ks->k, sizeof(ks->k));
	ks->n = 0;
	pthread_mutex_destroy(&ks->lock);
}

bool spa_keys_has(struct spa_keys *ks, const char *peer)
{
	bool ret;

	pthread_mutex_lock(&ks->lock);
	ret = keys_find(ks, peer);
	pthread_mutex_unlock(&ks->lock);
	return ret;
}

int spa_keys_seal(struct spa_keys *ks, const char *peer, int which,
		  u8 *frame, size_t len)
{
	struct spa_peer_keys *pk;
	int ret = -ENOKEY;

	pthread_mutex_lock(&ks->lock);
	pk = keys_find(ks, peer);
	if (pk)
		ret = spa_seal(which == SPA_KEY_NEXT && pk->next.len ?
			       &pk->next : &pk->cur, frame, len);
	pthread_mutex_unlock(&ks->lock);
	return ret;
}

int spa_keys_verify(struct spa_keys *ks, const char *peer, const u8 *frame,
		    size_t len)
{
	struct spa_peer_keys *pk;
	int ret = -ENOKEY;

	pthread_mutex_lock(&ks->lock);
	pk = keys_find(ks, peer);
	if (pk) {
		ret = -EBADMSG;
		if (spa_verify(&pk->cur, frame, len))
			ret = SPA_KEY_CUR;
		else if (pk->next.len && spa_verify(&pk->next, frame, len))
			ret = SPA_KEY_NEXT;
	}
	pthread_mutex_unlock(&ks->lock);
	return ret;
}

/*
 * The one look at an unauthenticated body: a request or a reply starts
 * with the sender's "node" field (tag 1, 1..24 bytes of a node name),
 * whose key then verifies the MAC over the whole frame.
 */
int spa_frame_node(const u8 *frame, size_t len, char name[SPA_NODE_MAX + 1])
{
	const u8 *f = frame + SPA_HDR_LEN;
	size_t n;

	if (len < SPA_FRAME_MIN + 4)
		return -EBADMSG;
	n = (size_t)f[2] << 8 | f[3];
	if ((f[0] << 8 | f[1]) != SPA_T_NODE || !n || n > SPA_NODE_MAX ||
	    SPA_HDR_LEN + 4 + n > len - SPA_MAC_LEN)
		return -EBADMSG;
	memcpy(name, f + 4, n);
	name[n] = '\0';
	if (strlen(name) != n || !spa_valid_node(name))
		return -EBADMSG;
	return 0;
}

/* ------------------------------------------------------------ MACs */

int spa_hmac(const struct spa_key *key, const u8 *data, size_t len,
	     u8 out[SPA_MAC_LEN])
{
	unsigned int olen = 0;

	if (!key->len)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, data, len, out,
		  &olen) || olen != SPA_MAC_LEN)
		return -EIO;
	return 0;
}

/* Fills the last SPA_MAC_LEN bytes of @frame. */
int spa_seal(const struct spa_key *key, u8 *frame, size_t len)
{
	if (len < SPA_FRAME_MIN)
		return -EINVAL;
	return spa_hmac(key, frame, len - SPA_MAC_LEN,
			frame + len - SPA_MAC_LEN);
}

bool spa_verify(const struct spa_key *key, const u8 *frame, size_t len)
{
	u8 mac[SPA_MAC_LEN];
	bool ok;

	if (len < SPA_FRAME_MIN)
		return false;
	if (spa_hmac(key, frame, len - SPA_MAC_LEN, mac))
		return false;
	ok = !CRYPTO_memcmp(mac, frame + len - SPA_MAC_LEN, SPA_MAC_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* ------------------------------------------------------------ replay */

int spa_replay_init(struct spa_replay *r, unsigned int cap, u64 window_ms)
{
	memset(r, 0, sizeof(*r));
	r->e = calloc(cap, sizeof(*r->e));
	if (!r->e)
		return -ENOMEM;
	r->cap = cap;
	r->window_ms = window_ms;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void spa_replay_free(struct spa_replay *r)
{
	free(r->e);
	r->e = NULL;
	pthread_mutex_destroy(&r->lock);
}

int spa_window_check(u64 window_ms, u64 ts_ms, u64 now_ms, char *why,
		     size_t wlen)
{
	if (ts_ms + window_ms < now_ms)
		return spu_reason(why, wlen, -SPA_E_STALE,
				  "timestamp %llu ms old, the window is %llu ms",
				  now_ms - ts_ms, window_ms);
	if (ts_ms > now_ms + window_ms)
		return spu_reason(why, wlen, -SPA_E_STALE,
				  "timestamp %llu ms in the future, the window is %llu ms",
				  ts_ms - now_ms, window_ms);
	return 0;
}

int spa_replay_check(struct spa_replay *r, const u8 nonce[SPA_NONCE_LEN],
		     u64 ts_ms, u64 now_ms, char *why, size_t wlen)
{
	unsigned int i, k;
	int ret;

	ret = spa_window_check(r->window_ms, ts_ms, now_ms, why, wlen);
	if (ret)
		return ret;
	pthread_mutex_lock(&r->lock);
	for (i = 0, k = 0; i < r->n; i++)
		if (r->e[i].expires_ms >= now_ms)
			r->e[k++] = r->e[i];
	r->n = k;
	for (i = 0; i < r->n; i++) {
		if (!memcmp(r->e[i].nonce, nonce, SPA_NONCE_LEN)) {
			pthread_mutex_unlock(&r->lock);
			return spu_reason(why, wlen, -SPA_E_REPLAY,
					  "nonce already used within the window");
		}
	}
	if (r->n >= r->cap) {
		pthread_mutex_unlock(&r->lock);
		return spu_reason(why, wlen, -SPA_E_CACHE_FULL,
				  "%u nonces within the window: refusing until some expire",
				  r->cap);
	}
	memcpy(r->e[r->n].nonce, nonce, SPA_NONCE_LEN);
	r->e[r->n].expires_ms = ts_ms + r->window_ms;
	r->n++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* ------------------------------------------------------- DH-HMAC-CHAP */

/* CRC-32 (IEEE 802.3, reflected; zlib's and nvme-cli's). */
static u32 crc32_ieee(const u8 *p, size_t len)
{
	u32 crc = 0xffffffff;
	unsigned int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

int spa_dhchap_format(const u8 *secret, size_t len,
		      char out[SPA_DHCHAP_MAX + 1])
{
	u8 buf[64 + 4];
	char b64[((sizeof(buf) + 2) / 3) * 4 + 1];
	u32 crc;

	if (len != 32 && len != 48 && len != 64)
		return -EINVAL;
	memcpy(buf, secret, len);
	crc = crc32_ieee(secret, len);
	buf[len] = crc & 0xff;
	buf[len + 1] = (crc >> 8) & 0xff;
	buf[len + 2] = (crc >> 16) & 0xff;
	buf[len + 3] = crc >> 24;
	EVP_EncodeBlock((unsigned char *)b64, buf, (int)len + 4);
	snprintf(out, SPA_DHCHAP_MAX + 1, "DHHC-1:00:%s:", b64);
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(b64, sizeof(b64));
	return 0;
}

int spa_dhchap_derive(const struct spa_key *pair, const char *role,
		      const char *hostnqn, char out[SPA_DHCHAP_MAX + 1])
{
	char label[SPA_NQN_MAX + 64];
	u8 mac[SPA_MAC_LEN];
	int n, ret;

	n = snprintf(label, sizeof(label), "slicepool-agent dhchap %s %s",
		     role, hostnqn);
	if (n < 0 || (size_t)n >= sizeof(label))
		return -ENAMETOOLONG;
	ret = spa_hmac(pair, (const u8 *)label, n, mac);
	if (!ret)
		ret = spa_dhchap_format(mac, sizeof(mac), out);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ret;
}

int spa_keys_dhchap(struct spa_keys *ks, const char *peer,
		    const char *hostnqn, char key[SPA_DHCHAP_MAX + 1],
		    char ctrl_key[SPA_DHCHAP_MAX + 1])
{
	struct spa_peer_keys *pk;
	int ret = -ENOKEY;

	pthread_mutex_lock(&ks->lock);
	pk = keys_find(ks, peer);
	if (pk) {
		ret = spa_dhchap_derive(&pk->cur, "host", hostnqn, key);
		if (!ret)
			ret = spa_dhchap_derive(&pk->cur, "ctrl", hostnqn,
						ctrl_key);
	}
	pthread_mutex_unlock(&ks->lock);
	return ret;
}
