/*
 * child.c — the node process.
 *
 * fork + execvp rather than uv_spawn: as PID 1 in a container the agent must
 * reap every child, including orphans the node leaves behind, with
 * waitpid(-1); libuv's own SIGCHLD handling only reaps the pids it spawned
 * and would race with that. The node runs in a session (and so a process
 * group) of its own, made before exec, so kill/stop/cont reach anything it
 * forked too (e.g. `sh -c` wrappers), a terminal's Ctrl-C reaches only the
 * agent, which forwards it, and the node's CPU share is its own (see
 * child_exec).
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(agent *a, int report_fd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The agent ignores SIGPIPE; exec keeps ignored signals ignored. */
	signal(SIGPIPE, SIG_DFL);
	/* A session of its own (hence a process group of its own, pgid =
	 * pid): on Linux with autogroup scheduling (the default on desktops
	 * and many servers) each session is one scheduling group, and the
	 * node must not share its CPU share with whatever started the agent
	 * (a load generator on the same machine starved the loop, 5 % of a
	 * core, into elections: issue 15.4). A service manager does the
	 * same (systemd: a cgroup per service). */
	setsid();
	/* If the agent itself is SIGKILLed, the node goes too: nothing is left
	 * running that no one supervises. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	int in = open("/dev/null", O_RDONLY);
	if (in >= 0 && in != STDIN_FILENO) {
		dup2(in, STDIN_FILENO);
		close(in);
	}
	dup2(a->log_fd, STDOUT_FILENO);
	dup2(a->log_fd, STDERR_FILENO);
	execvp(a->argv[0], a->argv);
	int e = errno;
	ssize_t w = write(report_fd, &e, sizeof e);
	(void)w;
	_exit(127);
}

int child_spawn(agent *a, char *err, size_t errlen)
{
	int p[2];
	/* Close-on-exec pipe: EOF means exec succeeded, an int means it failed. */
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child_exec(a, p[1]);
	}
	close(p[1]);

	int e = 0;
	ssize_t n;
	do
		n = read(p[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof e) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		snprintf(err, errlen, "cannot run %s: %s", a->argv[0], strerror(e));
		return -1;
	}
	a->pid = pid;
	a->state = NODE_RUNNING;
	a->dying = false;
	if (a->started_once)
		a->restarts++;
	a->started_once = true;
	agent_log(a, "started node pid %d (restarts %u)", (int)pid, a->restarts);
	return 0;
}

int child_signal(agent *a, int sig)
{
	if (a->pid <= 0)
		return -1;
	if (kill(-a->pid, sig) == 0)
		return 0;
	/* The group exists once exec succeeded (the child made it first);
	 * a child that failed before setsid has none. */
	return kill(a->pid, sig);
}

static void record_exit(agent *a, int st)
{
	a->has_exit = true;
	if (WIFSIGNALED(st)) {
		a->exit_signal = WTERMSIG(st);
		a->exit_status = 128 + a->exit_signal;
	} else {
		a->exit_signal = 0;
		a->exit_status = WEXITSTATUS(st);
	}
	a->state = a->dying ? NODE_STOPPED : NODE_EXITED;
	if (a->exit_signal != 0)
		agent_log(a, "node pid %d %s by signal %d (%s)", (int)a->pid,
			  a->dying ? "killed" : "died", a->exit_signal, strsignal(a->exit_signal));
	else
		agent_log(a, "node pid %d exited with status %d", (int)a->pid, a->exit_status);
	if (!a->dying && a->pid > 0)
		/* Leave no orphan of a node that died holding children. */
		kill(-a->pid, SIGKILL);
	a->pid = 0;
	a->dying = false;
}

void child_on_sigchld(uv_signal_t *h, int signum)
{
	(void)signum;
	agent *a = h->data;
	bool node_exited = false;
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p == 0 || (p < 0 && errno == ECHILD))
			break;
		if (p < 0) {
			if (errno == EINTR)
				continue;
			agent_log(a, "waitpid: %s", strerror(errno));
			break;
		}
		if (p == a->pid && a->pid > 0) {
			record_exit(a, st);
			node_exited = true;
		}
		/* Any other pid: an orphan reparented to us (PID 1); reaped, done. */
	}
	if (node_exited)
		agent_node_exited(a);
}
