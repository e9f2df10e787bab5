/*
 * snapshot_fork.c — writing a snapshot from a forked child (snapshot.h).
 *
 * fork() gives the child a frozen copy-on-write image of the state machine
 * at the instant of the call: the parent's loop is stalled only for the
 * fork itself (page tables), then keeps applying; each page it writes while
 * the child runs is copied once. The child reports one line on a pipe:
 * "ok <bytes>" or "err <reason>".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapshot.h"
#include "snapshot_int.h"

int snapshot_fork_save(const char *dir, const kv_machine *m, const kv_snap_meta *meta,
		       int *child, int *result_fd, char *err, size_t errlen)
{
	int fds[2];
	if (pipe(fds) != 0) {
		snap_errf(err, errlen, "snapshot: pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snap_errf(err, errlen, "snapshot: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		/* Dies with the parent: a writer left behind by a crashed node
		 * would hold its inherited descriptors (the data dir lock) while
		 * the node restarts. Its temporary file is pruned later. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
			_exit(3);
		/* The serving loop comes first: on a busy machine a CPU-bound
		 * writer at the same priority takes the loop's share of the CPU
		 * (seen as ~1 s loop gaps in make bench-snapshot). With Linux's
		 * autogroup scheduling, nice only orders tasks within one
		 * session's group, and a writer always runnable in the node's
		 * group used up the group's share, so the loop, waking for a
		 * peer frame, waited its group's turn behind every other busy
		 * group on the machine: 80 % of the loop periods over 150 ms
		 * under the flood fell while a writer ran (issue 15.4). In a
		 * session of its own the writer is charged to its own group. */
		(void)setsid();
		errno = 0;
		if (nice(10) == -1 && errno != 0) {
			/* not fatal: the snapshot is only slower to compete with */
		}
		char why[400];
		uint64_t bytes = 0;
		char line[512];
		int n;
		if (snapshot_save(dir, m, meta, &bytes, why, sizeof why) == 0)
			n = snprintf(line, sizeof line, "ok %" PRIu64 "\n", bytes);
		else
			n = snprintf(line, sizeof line, "err %s\n", why);
		if (n > 0 && write(fds[1], line, (size_t)n) != n)
			_exit(2);
		_exit(0); /* no atexit handlers, no stdio flush of the parent's buffers */
	}
	close(fds[1]);
	*child = (int)pid;
	*result_fd = fds[0];
	return 0;
}

int snapshot_fork_read(int result_fd, char *line, size_t cap, size_t *have)
{
	for (;;) {
		if (*have + 1 >= cap)
			return 1; /* longer than any result line: judged as it is */
		ssize_t r = read(result_fd, line + *have, cap - 1 - *have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return 1; /* the pipe ended (or broke): whatever came is all */
		*have += (size_t)r;
		line[*have] = 0;
		if (memchr(line, '\n', *have) != NULL)
			return 1;
	}
}

int snapshot_fork_verdict(const char *line, size_t have, uint64_t *bytes, char *err,
			  size_t errlen)
{
	char buf[512];
	size_t n = have < sizeof buf - 1 ? have : sizeof buf - 1;
	memcpy(buf, line, n);
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	if (nl != NULL && strncmp(buf, "ok ", 3) == 0) {
		if (bytes != NULL)
			*bytes = strtoull(buf + 3, NULL, 10);
		return 0;
	}
	if (nl != NULL)
		*nl = 0;
	if (strncmp(buf, "err ", 4) == 0)
		snap_errf(err, errlen, "%s", buf + 4);
	else
		snap_errf(err, errlen, "snapshot: the writer process ended without a result");
	return -1;
}

int snapshot_fork_finish(int child, int result_fd, uint64_t *bytes, char *err, size_t errlen)
{
	char line[512];
	size_t have = 0;
	int fl = fcntl(result_fd, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK) != 0)
		(void)fcntl(result_fd, F_SETFL, fl & ~O_NONBLOCK); /* this one waits */
	for (;;) {
		ssize_t r = read(result_fd, line + have, sizeof line - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have == sizeof line - 1)
			break;
	}
	line[have] = 0;
	close(result_fd);
	int status = 0;
	while (waitpid((pid_t)child, &status, 0) < 0 && errno == EINTR)
		;
	char *nl = strchr(line, '\n');
	if (nl != NULL)
		*nl = 0;
	if (strncmp(line, "ok ", 3) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (bytes != NULL)
			*bytes = strtoull(line + 3, NULL, 10);
		return 0;
	}
	if (strncmp(line, "err ", 4) == 0)
		snap_errf(err, errlen, "%s", line + 4);
	else
		snap_errf(err, errlen, "snapshot: the writer process died (status %d)", status);
	return -1;
}
