// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the requesting host's side of NVMe/TCP
 *
 * nvme-cli is run directly (fork and execve of the configured absolute
 * path, an argument vector, a fixed environment, no shell), with the
 * values of a grant only after the codec has checked them: a numeric
 * address, a port, and an NQN of [A-Za-z0-9._:-].  Nothing a peer sends
 * is ever run or given to a shell.
 *
 * Also from sysfs: a namespace's block device and its size, the
 * controllers of a subsystem (connected? asked to rescan when a grown
 * namespace does not show its new size).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent.h"

/*
 * Runs argv[0] (an absolute path) with @argv; collects its stdout and
 * stderr in @out (truncated, one line per line).  Returns its exit
 * status, 128 + signal, -ETIMEDOUT (it was killed after @timeout_s) or a
 * negative errno.
 */
int spa_run(const char *const argv[], unsigned int timeout_s, char *out,
	    size_t outlen)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
				     "LC_ALL=C", NULL };
	u64 deadline = spa_mono_ms() + (u64)timeout_s * 1000;
	size_t have = 0;
	int p[2], status, ret = 0, devnull;
	struct pollfd pfd;
	sigset_t none;
	char buf[256];
	pid_t pid;
	ssize_t n;
	u64 now;

	if (out && outlen)
		out[0] = '\0';
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (!pid) {
		/* The daemon blocks and ignores signals; nvme-cli must not. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close_range(3, ~0U, 0);
		execve(argv[0], (char *const *)argv, env);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		now = spa_mono_ms();
		if (now >= deadline) {
			kill(pid, SIGKILL);
			ret = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) < 0) {
			if (errno == EINTR)
				continue;
			kill(pid, SIGKILL);
			ret = -errno;
			break;
		}
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out && have + 1 < outlen) {
			size_t k = (size_t)n < outlen - 1 - have ?
				   (size_t)n : outlen - 1 - have;

			memcpy(out + have, buf, k);
			have += k;
			out[have] = '\0';
		}
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out) {
		while (have && isspace((unsigned char)out[have - 1]))
			out[--have] = '\0';
	}
	if (ret)
		return ret;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int spa_nvme_connect(const struct spa_config *c, const char *traddr,
		     u16 trsvcid, const char *subnqn, const char *secret,
		     const char *ctrl_secret, char *why, size_t wlen)
{
	char svc[8], hostnqn[SPA_NQN_MAX + 16], hostid[SPU_UUID_STR + 16];
	char tmo[32], delay[32], out[512];
	char sec[SPA_DHCHAP_MAX + 32], csec[SPA_DHCHAP_MAX + 32];
	const char *argv[20];
	unsigned int n = 0;
	int ret;

	if (!spa_valid_addr(traddr) || !spa_valid_nqn(subnqn) || !trsvcid ||
	    !spa_valid_nqn(c->hostnqn))
		return spu_reason(why, wlen, -EINVAL, "refusing to connect: bad address or NQN");
	snprintf(svc, sizeof(svc), "%u", trsvcid);
	snprintf(hostnqn, sizeof(hostnqn), "--hostnqn=%s", c->hostnqn);
	snprintf(tmo, sizeof(tmo), "--ctrl-loss-tmo=%d", c->ctrl_loss_tmo);
	snprintf(delay, sizeof(delay), "--reconnect-delay=%u",
		 c->reconnect_delay);
	argv[n++] = c->nvme_cli;
	argv[n++] = "connect";
	argv[n++] = "--transport=tcp";
	argv[n++] = "--traddr";
	argv[n++] = traddr;
	argv[n++] = "--trsvcid";
	argv[n++] = svc;
	argv[n++] = "--nqn";
	argv[n++] = subnqn;
	argv[n++] = hostnqn;
	if (c->hostid[0]) {
		snprintf(hostid, sizeof(hostid), "--hostid=%s", c->hostid);
		argv[n++] = hostid;
	}
	argv[n++] = tmo;
	argv[n++] = delay;
	if (secret && secret[0]) {
		snprintf(sec, sizeof(sec), "--dhchap-secret=%s", secret);
		argv[n++] = sec;
		if (ctrl_secret && ctrl_secret[0]) {
			snprintf(csec, sizeof(csec), "--dhchap-ctrl-secret=%s",
				 ctrl_secret);
			argv[n++] = csec;
		}
	}
	argv[n] = NULL;
	ret = spa_run(argv, 60, out, sizeof(out));
	OPENSSL_cleanse(sec, sizeof(sec));
	OPENSSL_cleanse(csec, sizeof(csec));
	if (ret)
		return spu_reason(why, wlen, ret < 0 ? ret : -EIO,
				  "nvme connect to %s:%s %s failed (%s): %s",
				  traddr, svc, subnqn,
				  ret < 0 ? strerror(-ret) : "non-zero exit",
				  out[0] ? out : "no output");
	return 0;
}

int spa_nvme_disconnect(const struct spa_config *c, const char *subnqn,
			char *why, size_t wlen)
{
	const char *argv[5];
	char out[512];
	int ret;

	argv[0] = c->nvme_cli;
	argv[1] = "disconnect";
	argv[2] = "--nqn";
	argv[3] = subnqn;
	argv[4] = NULL;

	if (!spa_valid_nqn(subnqn))
		return spu_reason(why, wlen, -EINVAL, "bad NQN");
	if (!spa_nvme_connected(subnqn))
		return 0;
	ret = spa_run(argv, 60, out, sizeof(out));
	if (ret || spa_nvme_connected(subnqn))
		return spu_reason(why, wlen, ret < 0 ? ret : -EIO,
				  "nvme disconnect %s failed: %s", subnqn,
				  out[0] ? out : "still connected");
	return 0;
}

static bool nvme_ns_name(const char *s)
{
	size_t i = 4;

	if (strncmp(s, "nvme", 4) || !isdigit((unsigned char)s[i]))
		return false;
	while (isdigit((unsigned char)s[i]))
		i++;
	if (s[i++] != 'n' || !isdigit((unsigned char)s[i]))
		return false;
	while (isdigit((unsigned char)s[i]))
		i++;
	return !s[i];	/* nvmeXcYnZ (a hidden path) and partitions fail */
}

int spa_nvme_find_ns(const char *subnqn, const char *uuid, char *dev,
		     size_t len)
{
	char path[PATH_MAX], val[SPA_NQN_MAX + 2];
	char **names;
	size_t n, i;
	int ret = -ENOENT;

	if (spu_path(path, sizeof(path), "%s/block", spu_sysfs_root()) ||
	    spu_list(path, false, &names, &n))
		return -ENOENT;
	for (i = 0; i < n && ret; i++) {
		if (!nvme_ns_name(names[i]))
			continue;
		if (spu_path(path, sizeof(path), "%s/block/%s/device/subsysnqn",
			     spu_sysfs_root(), names[i]) ||
		    spu_read_buf(path, val, sizeof(val)) || strcmp(val, subnqn))
			continue;
		if (spu_path(path, sizeof(path), "%s/block/%s/uuid",
			     spu_sysfs_root(), names[i]) ||
		    spu_read_buf(path, val, sizeof(val)) ||
		    strcasecmp(val, uuid))
			continue;
		snprintf(dev, len, "/dev/%s", names[i]);
		ret = 0;
	}
	spu_free_list(names, n);
	return ret;
}

/*
 * Calls @fn with the sysfs directory of each controller of @subnqn (all
 * paths of a multipath grant) until it returns true; returns how many
 * controllers it was called for.
 */
static unsigned int walk_ctrls(const char *subnqn,
			       bool (*fn)(const char *dir, void *arg), void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], val[SPA_NQN_MAX + 2];
	unsigned int seen = 0;
	char **names;
	size_t n, i;

	if (spu_path(dir, sizeof(dir), "%s/class/nvme", spu_sysfs_root()) ||
	    spu_list(dir, false, &names, &n))
		return 0;
	for (i = 0; i < n; i++) {
		if (spu_path(dir, sizeof(dir), "%s/class/nvme/%s",
			     spu_sysfs_root(), names[i]))
			continue;
		snprintf(path, sizeof(path), "%s/subsysnqn", dir);
		if (spu_read_buf(path, val, sizeof(val)) || strcmp(val, subnqn))
			continue;
		seen++;
		if (fn(dir, arg))
			break;
	}
	spu_free_list(names, n);
	return seen;
}

static bool first_one(const char *dir, void *arg)
{
	(void)dir;
	(void)arg;
	return true;
}

bool spa_nvme_connected(const char *subnqn)
{
	return walk_ctrls(subnqn, first_one, NULL) > 0;
}

/* nvme-core's rescan_controller: the namespaces are identified again. */
static bool rescan_one(const char *dir, void *arg)
{
	char path[PATH_MAX + 32];
	unsigned int *asked = arg;

	snprintf(path, sizeof(path), "%s/rescan_controller", dir);
	if (spu_exists(path) && !spu_write_file(path, "1"))
		(*asked)++;
	return false;
}

unsigned int spa_nvme_rescan(const char *subnqn)
{
	unsigned int asked = 0;

	walk_ctrls(subnqn, rescan_one, &asked);
	return asked;
}

int spa_blockdev_bytes(const char *dev, u64 *bytes)
{
	const char *name = strrchr(dev, '/');
	char path[PATH_MAX];
	u64 sectors;
	int ret;

	name = name ? name + 1 : dev;
	if (!name[0] || spu_path(path, sizeof(path), "%s/block/%s/size",
				 spu_sysfs_root(), name))
		return -EINVAL;
	ret = spu_read_u64(path, &sectors);
	if (ret)
		return ret;
	*bytes = sectors << 9;
	return 0;
}
