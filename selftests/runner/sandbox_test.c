// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of runner/sandbox.c: each case forks a child that
 * confines itself as the runner does after set-up and then tries
 * something; this process checks the outcome (errno, or the SIGSYS line
 * and status 1) and the child's threads in /proc.  The Landlock cases
 * skip where the kernel has no Landlock.  Built without sanitizers: their
 * runtimes make system calls the filter rightly refuses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/landlock.h>

#include "kselftest_harness.h"
#include "../../runner/sandbox.h"

/* What sandbox.c takes from the rest of the runner (die() and warn(): runner/log.c). */
void term__restore(void)
{
}

static char dir[64], outside[96];
static int go_pipe[2];

static bool have_landlock(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0,
		       LANDLOCK_CREATE_RULESET_VERSION) >= 1;
}

/* A scratch directory: DIR/ctl.sock's directory is the writable one; OUTSIDE is a file beside it. */
static void setup_dirs(void)
{
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/kvl-sandbox-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(outside, sizeof(outside), "%s.outside", dir);
	fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "x", 1) != 1)
		abort();
	close(fd);
}

static void cleanup_dirs(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/dump.png", dir);
	unlink(p);
	unlink(outside);
	rmdir(dir);
}

/*
 * Run @fn in a child that has entered the sandbox; its stdout and stderr
 * go to @out.  Returns the child's wait status.  @pid_out, when given,
 * gets the child's pid as soon as it prints "CONFINED" (then @probe runs
 * here before the child is told to go on through go_pipe).
 */
static int run_confined(void (*fn)(void), void (*before)(void), char *out, size_t len,
			void (*probe)(pid_t pid))
{
	struct sandbox_opts o = { .mode = SANDBOX_ON };
	char sock[96];
	int p[2], st;
	size_t n = 0;
	ssize_t k;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	if (pipe(p) < 0 || pipe(go_pipe) < 0)
		abort();
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		abort();
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(go_pipe[1]);
		setvbuf(stdout, NULL, _IONBF, 0);
		o.write_dirs_of[o.nr_write++] = sock;
		sandbox_check(&o);
		if (before)
			before();
		sandbox_enter(&o);
		printf("CONFINED\n");
		fn();
		_exit(0);
	}
	close(p[1]);
	close(go_pipe[0]);
	while (n + 1 < len && (k = read(p[0], out + n, len - 1 - n)) > 0) {
		n += k;
		out[n] = 0;
		if (probe && strstr(out, "CONFINED\n")) {
			probe(pid);
			probe = NULL;
			if (write(go_pipe[1], "g", 1) != 1)
				abort();
		}
	}
	out[n] = 0;
	close(p[0]);
	close(go_pipe[1]);
	waitpid(pid, &st, 0);
	return st;
}

static void wait_go(void)
{
	char c;

	if (read(go_pipe[0], &c, 1) != 1)
		_exit(3);
}

static bool exited_with(int st, int code)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == code;
}

/* The SIGSYS handler's line for @call. */
static bool sigsys_line(const char *out, const char *call, int nr)
{
	char want[96];

	snprintf(want, sizeof(want), "made the forbidden system call %s (%d); ending the run\n",
		 call, nr);
	return strstr(out, "kvmlite: sandbox: thread ") && strstr(out, want);
}

static void try_outside(void)
{
	int fd = open(outside, O_RDONLY | O_CLOEXEC);

	printf("outside: %s\n", fd < 0 ? strerror(errno) : "opened");
}

static void try_dump_dir(void)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/dump.png", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	printf("dump dir: %s\n", fd < 0 ? strerror(errno) : "created");
	if (fd >= 0)
		close(fd);
	try_outside();
	fd = open(outside, O_WRONLY | O_CLOEXEC);
	printf("write outside: %s\n", fd < 0 ? strerror(errno) : "opened");
}

TEST(landlock_allows_only_the_ctl_directory)
{
	char out[4096];
	int st;

	if (!have_landlock())
		SKIP(return, "no Landlock in this kernel");
	setup_dirs();
	st = run_confined(try_dump_dir, NULL, out, sizeof(out), NULL);
	cleanup_dirs();
	EXPECT_TRUE(exited_with(st, 0));
	EXPECT_NE(NULL, strstr(out, "dump dir: created\n"));
	EXPECT_NE(NULL, strstr(out, "outside: Permission denied\n"));
	EXPECT_NE(NULL, strstr(out, "write outside: Permission denied\n"));
}

static void try_sockets(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	printf("packet: %s\n", fd < 0 ? strerror(errno) : "made");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	printf("unix: %s\n", fd < 0 ? strerror(errno) : "made");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	printf("inet: %s\n", fd < 0 ? strerror(errno) : "made");
}

TEST(socket_fails_with_eperm_and_the_run_goes_on)
{
	char out[4096];
	int st;

	setup_dirs();
	st = run_confined(try_sockets, NULL, out, sizeof(out), NULL);
	cleanup_dirs();
	EXPECT_TRUE(exited_with(st, 0));
	EXPECT_NE(NULL, strstr(out, "packet: Operation not permitted\n"));
	EXPECT_NE(NULL, strstr(out, "unix: Operation not permitted\n"));
	EXPECT_NE(NULL, strstr(out, "inet: Operation not permitted\n"));
}

static void try_execve(void)
{
	char *const argv[] = { "true", NULL };

	execve("/bin/true", argv, environ);
	printf("AFTER-EXECVE %s\n", strerror(errno));
}

static void try_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, 0, 0);
	printf("AFTER-PTRACE\n");
}

static void try_fork(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	printf("AFTER-FORK %d\n", (int)p);
}

static void try_exec_memory(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	printf("AFTER-MMAP %p\n", m);
}

static void try_kill_parent(void)
{
	kill(getppid(), 0);
	printf("AFTER-KILL\n");
}

static void try_setuid(void)
{
	syscall(SYS_setresuid, 0, 0, 0);
	printf("AFTER-SETUID\n");
}

static const struct {
	const char *call;
	int nr;
	void (*fn)(void);
	const char *after;
} ends[] = {
	{ "execve", __NR_execve, try_execve, "AFTER-EXECVE" },
	{ "ptrace", __NR_ptrace, try_ptrace, "AFTER-PTRACE" },
	{ "clone", __NR_clone, try_fork, "AFTER-FORK" },	/* a process, not a thread */
	{ "mmap", __NR_mmap, try_exec_memory, "AFTER-MMAP" },	/* PROT_EXEC */
	{ "getppid", __NR_getppid, try_kill_parent, "AFTER-KILL" },
	{ "setresuid", __NR_setresuid, try_setuid, "AFTER-SETUID" },
};

TEST(forbidden_calls_end_the_run_with_their_name)
{
	char out[4096];
	unsigned int i;
	int st;

	setup_dirs();
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		st = run_confined(ends[i].fn, NULL, out, sizeof(out), NULL);
		EXPECT_TRUE(exited_with(st, 1)) TH_LOG("%s: status 0x%x", ends[i].call, st);
		EXPECT_TRUE(sigsys_line(out, ends[i].call, ends[i].nr))
			TH_LOG("%s: %s", ends[i].call, out);
		EXPECT_EQ(NULL, strstr(out, ends[i].after)) TH_LOG("%s: %s", ends[i].call, out);
	}
	cleanup_dirs();
}

static void *thread_fn(void *arg)
{
	(void)arg;
	return (void *)42;
}

static void start_thread_after(void)
{
	pthread_t t;
	void *r = NULL;

	if (pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, &r))
		printf("THREAD-FAILED\n");
	else
		printf("THREAD-RETURNED %ld\n", (long)r);
}

TEST(threads_start_after_the_sandbox)
{
	char out[4096];
	int st;

	setup_dirs();
	st = run_confined(start_thread_after, NULL, out, sizeof(out), NULL);
	cleanup_dirs();
	EXPECT_TRUE(exited_with(st, 0)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "THREAD-RETURNED 42\n"));
}

/* A thread started before the sandbox, as the event loop and console threads are. */
static pthread_t early;
static int early_go[2];

static void *early_fn(void *arg)
{
	char c;

	(void)arg;
	if (read(early_go[0], &c, 1) != 1)
		return NULL;
	try_outside();
	syscall(SYS_getppid);	/* forbidden: ends the run, from this thread */
	printf("EARLY-AFTER-GETPPID\n");
	return NULL;
}

static void start_early(void)
{
	if (pipe(early_go) < 0 || pthread_create(&early, NULL, early_fn, NULL))
		_exit(4);
}

static void release_early(void)
{
	wait_go();
	if (write(early_go[1], "g", 1) != 1)
		_exit(5);
	pthread_join(early, NULL);
}

static int threads_ok, threads_seen;

/* Every thread of @pid: seccomp filter, no_new_privs, no capability. */
static void check_threads(pid_t pid)
{
	static const char *const want[] = {
		"Seccomp:\t2\n", "NoNewPrivs:\t1\n", "CapInh:\t0000000000000000\n",
		"CapPrm:\t0000000000000000\n", "CapEff:\t0000000000000000\n",
		"CapAmb:\t0000000000000000\n",
	};
	char path[300], buf[4096];
	struct dirent *e;
	unsigned int i;
	ssize_t n;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		threads_seen++;
		for (i = 0; i < sizeof(want) / sizeof(want[0]) && strstr(buf, want[i]); i++)
			;
		threads_ok += i == sizeof(want) / sizeof(want[0]);
	}
	closedir(d);
}

TEST(threads_started_before_are_confined_too)
{
	char out[4096];
	int st;

	setup_dirs();
	threads_ok = threads_seen = 0;
	st = run_confined(release_early, start_early, out, sizeof(out), check_threads);
	cleanup_dirs();
	EXPECT_EQ(2, threads_seen);	/* the child and its early thread */
	EXPECT_EQ(2, threads_ok);
	if (have_landlock())
		EXPECT_NE(NULL, strstr(out, "outside: Permission denied\n")) TH_LOG("%s", out);
	EXPECT_TRUE(exited_with(st, 1)) TH_LOG("status 0x%x: %s", st, out);
	EXPECT_TRUE(sigsys_line(out, "getppid", __NR_getppid)) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "EARLY-AFTER-GETPPID"));
}

TEST(off_confines_nothing)
{
	struct sandbox_opts o = { .mode = SANDBOX_OFF };
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (!pid) {
		sandbox_enter(&o);
		_exit(syscall(SYS_getppid) > 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	EXPECT_TRUE(exited_with(st, 0));
}

TEST(parse_mode)
{
	enum sandbox_mode m;

	EXPECT_EQ(0, sandbox_parse_mode("on", &m));
	EXPECT_EQ(SANDBOX_ON, m);
	EXPECT_EQ(0, sandbox_parse_mode("strict", &m));
	EXPECT_EQ(SANDBOX_STRICT, m);
	EXPECT_EQ(0, sandbox_parse_mode("off", &m));
	EXPECT_EQ(SANDBOX_OFF, m);
	EXPECT_EQ(-1, sandbox_parse_mode("On", &m));
	EXPECT_EQ(-1, sandbox_parse_mode("", &m));
}

TEST_HARNESS_MAIN
