// SPDX-License-Identifier: GPL-2.0
/*
 * Confine the runner once set-up is over (sandbox.h).  The runner handles
 * guest-controlled data (virtio rings, the display, USB), so a bug there
 * must not become a host compromise.  In this order:
 *
 *   1. --chroot DIR: chroot(2) and chdir("/") (the fs root is shared by
 *      all threads);
 *   2. on every thread (the caller directly, the others through a signal
 *      each takes in turn, since credentials and Landlock domains are
 *      per thread): drop the capability bounding set, --group/--user
 *      (setgroups, setresgid, setresuid as raw system calls), set
 *      no_new_privs, enter the Landlock domain, clear every capability,
 *      and check that none is left;
 *   3. the seccomp filter of the table below, on every thread at once
 *      (SECCOMP_FILTER_FLAG_TSYNC); threads started later inherit it all.
 *
 * A system call the filter does not allow raises SIGSYS; its handler names
 * the call and ends the run with status 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/kvm.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include "kvm.h"
#include "sandbox.h"
#include "term.h"

/* ------------------------------------------------------------------ */
/* The seccomp table: what each thread of the running runner may call. */

enum rule_kind {
	R_ALLOW,	/* allowed */
	R_ARG,		/* allowed when (arg & mask) == value; rows of one call OR */
	R_ERRNO,	/* fails with errno @value: harmless to refuse, callers cope */
	R_SELF,		/* allowed when argument @arg is this process's id */
};

struct rule {
	const char *name;
	enum rule_kind kind;
	int arg;
	uint64_t mask, value;
};

#define ALLOW(n)		{ n, R_ALLOW, 0, 0, 0 }
#define ARG(n, a, m, v)		{ n, R_ARG, a, m, v }
#define IOCTL(req)		ARG("ioctl", 1, 0xffffffffu, (uint32_t)(req))
#define FAIL(n, e)		{ n, R_ERRNO, 0, 0, e }

static const struct rule rules[] = {
	/* All threads: memory, locks, signals, time, thread exit. */
	ALLOW("read"), ALLOW("write"), ALLOW("readv"), ALLOW("writev"), ALLOW("close"),
	ALLOW("munmap"), ALLOW("madvise"), ALLOW("mremap"), ALLOW("brk"),
	/* No new executable memory: nothing is loaded or generated after set-up (W^X). */
	ARG("mmap", 2, PROT_EXEC, 0), ARG("mprotect", 2, PROT_EXEC, 0),
	ALLOW("futex"), ALLOW("sched_yield"), ALLOW("nanosleep"), ALLOW("clock_nanosleep"),
	ALLOW("clock_gettime"), ALLOW("gettimeofday"),
	ALLOW("rt_sigreturn"), ALLOW("rt_sigprocmask"), ALLOW("rt_sigaction"),
	ALLOW("restart_syscall"), ALLOW("getpid"), ALLOW("gettid"), ALLOW("exit"),
	ALLOW("exit_group"), ALLOW("fcntl"), ALLOW("newfstatat"), ALLOW("fstat"),
	ALLOW("lseek"), ALLOW("getrandom"),
	/*
	 * Starting threads (vCPUs, VNC clients): clone with CLONE_THREAD only,
	 * never a new process; clone3 hides its flags in memory seccomp cannot
	 * read, so it fails with ENOSYS and glibc falls back to clone.
	 */
	ARG("clone", 0, CLONE_THREAD, CLONE_THREAD), FAIL("clone3", ENOSYS),
	ALLOW("set_robust_list"), ALLOW("rseq"),
	/* Main thread: kicking vCPUs out of KVM_RUN (pthread_kill), raise(): own threads only. */
	{ "tgkill", R_SELF, 0, 0, 0 },
	/* vCPU threads: the VM's and vCPUs' ioctls that run time needs. */
	IOCTL(KVM_RUN), IOCTL(KVM_GET_REGS), IOCTL(KVM_GET_SREGS), IOCTL(KVM_CHECK_EXTENSION),
	IOCTL(KVM_IRQ_LINE), IOCTL(KVM_SIGNAL_MSI), IOCTL(KVM_IRQFD), IOCTL(KVM_IOEVENTFD),
	IOCTL(KVM_SET_GSI_ROUTING), IOCTL(KVM_SET_USER_MEMORY_REGION),
	IOCTL(KVM_GET_DIRTY_LOG),
	/* Console input thread and exit: the terminal's mode (tcgetattr, tcsetattr). */
	IOCTL(TCGETS), IOCTL(TCSETS), IOCTL(TCSETSW), IOCTL(TCSETSF), IOCTL(TIOCGWINSZ),
	/* Disk I/O (event-loop and vCPU threads): sync path and io_uring. */
	ALLOW("pread64"), ALLOW("pwrite64"), ALLOW("preadv"), ALLOW("pwritev"),
	ALLOW("fsync"), ALLOW("fdatasync"), ALLOW("io_uring_enter"),
	/* Event loop thread: epoll, eventfds (irqfds made when a guest sets MSI), timerfds. */
	ALLOW("epoll_wait"), ALLOW("epoll_pwait"), ALLOW("epoll_ctl"), ALLOW("eventfd2"),
	ALLOW("timerfd_create"), ALLOW("timerfd_settime"),
	/*
	 * Control socket (event loop) and VNC (accept and client threads):
	 * serving connections that are already listening.  New sockets: see socket.
	 */
	ALLOW("accept4"), ALLOW("accept"), ALLOW("recvfrom"), ALLOW("sendto"), ALLOW("recvmsg"),
	ALLOW("sendmsg"), ALLOW("shutdown"), ALLOW("getsockname"), ALLOW("getpeername"),
	ALLOW("setsockopt"), ALLOW("getsockopt"), ALLOW("poll"), ALLOW("ppoll"),
	ALLOW("pipe2"),
	/*
	 * Control socket: "screendump FILE" creates a PNG (Landlock limits
	 * where), and the sockets are removed at exit.
	 */
	ALLOW("openat"), ALLOW("unlink"), ALLOW("unlinkat"),
	/*
	 * No thread makes a socket after set-up: socket() fails with EPERM for
	 * every family rather than ending the run (a library probing for,
	 * say, nscd is not an attack; the failure is the answer).
	 */
	FAIL("socket", EPERM),
};

#ifdef KVMLITE_TEST_HOOKS
static pid_t test_parent;	/* sandbox_test_escape()'s ptrace target */
#endif

/* Names by number for the SIGSYS handler, resolved before the filter goes in. */
#define NR_NAMES	512
static const char *nr_names[NR_NAMES];

/* Async-signal-safe string building for the SIGSYS handler. */
static size_t put_str(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	buf[at] = 0;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t len, long v)
{
	char d[24];
	int i = sizeof(d) - 1;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	d[i] = 0;
	do
		d[--i] = '0' + u % 10;
	while ((u /= 10) && i > 1);
	if (v < 0)
		d[--i] = '-';
	return put_str(buf, at, len, d + i);
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char msg[192];
	int nr = si->si_syscall;
	bool native = si->si_arch == AUDIT_ARCH_X86_64;
	const char *name = native && nr >= 0 && nr < NR_NAMES && nr_names[nr] ? nr_names[nr] :
			   native ? "?" : "of another ABI";
	size_t n = 0;

	(void)sig;
	(void)uc;
	n = put_str(msg, n, sizeof(msg), "kvmlite: sandbox: thread ");
	n = put_num(msg, n, sizeof(msg), syscall(SYS_gettid));
	n = put_str(msg, n, sizeof(msg), " made the forbidden system call ");
	n = put_str(msg, n, sizeof(msg), name);
	n = put_str(msg, n, sizeof(msg), " (");
	n = put_num(msg, n, sizeof(msg), nr);
	n = put_str(msg, n, sizeof(msg), "); ending the run\n");
	term__restore();
	if (write(STDERR_FILENO, msg, n) < 0)
		_exit(1);
	_exit(1);
}

static void load_seccomp(void)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	unsigned int i;
	int r;

	for (i = 0; i < NR_NAMES; i++)
		nr_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		die("sandbox: sigaction(SIGSYS): %s", strerror(errno));
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		die("sandbox: seccomp_init failed");
	/* Another ABI (int $0x80, x32) is no way around the table either. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r)
		die("sandbox: seccomp attributes: %s", strerror(-r));
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *ru = &rules[i];
		int nr = seccomp_syscall_resolve_name(ru->name);

		if (nr == __NR_SCMP_ERROR)
			die("sandbox: unknown system call '%s' in the table", ru->name);
		switch (ru->kind) {
		case R_ALLOW:
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			break;
		case R_ARG:
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_CMP(ru->arg, SCMP_CMP_MASKED_EQ, ru->mask, ru->value));
			break;
		case R_ERRNO:
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ru->value), nr, 0);
			break;
		case R_SELF:
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_CMP(ru->arg, SCMP_CMP_EQ, (uint64_t)getpid()));
			break;
		}
		if (r)
			die("sandbox: seccomp rule for %s: %s", ru->name, strerror(-r));
	}
	r = seccomp_load(ctx);
	if (r)
		die("sandbox: loading the seccomp filter: %s", strerror(-r));
	seccomp_release(ctx);
}

/* ------------------------------------------------------------------ */
/* Landlock (ABI 1 and 2: Linux 5.13 and 5.19). */

#define LL_ABI1 (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
		 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
		 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
		 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
		 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
		 LANDLOCK_ACCESS_FS_MAKE_SYM)

static int ll_add(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access & handled };
	int r;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return -1;
	r = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	return r;
}

/* The directory part of @path ("." for none), in @buf. */
static const char *dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return ".";
	if (slash == path)
		return "/";
	snprintf(buf, len, "%.*s", (int)(slash - path), path);
	return buf;
}

/* The ruleset for the run: -1 when the kernel has no Landlock (then @why says so). */
static int landlock_ruleset(const struct sandbox_opts *o, const char **why)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = LL_ABI1 };
	char buf[4096];
	int abi, fd, i;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		*why = errno == ENOSYS ? "the kernel has no Landlock" :
		       errno == EOPNOTSUPP ? "Landlock is disabled (lsm= on the kernel command line)" :
		       strerror(errno);
		return -1;
	}
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		die("sandbox: landlock_create_ruleset: %s", strerror(errno));
	for (i = 0; i < o->nr_write; i++)
		if (ll_add(fd, dir_of(o->write_dirs_of[i], buf, sizeof(buf)),
			   LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_WRITE_FILE |
			   LANDLOCK_ACCESS_FS_REMOVE_FILE, attr.handled_access_fs) < 0)
			die("sandbox: Landlock rule for %s: %s", buf, strerror(errno));
	for (i = 0; i < o->nr_remove; i++)
		if (ll_add(fd, dir_of(o->remove_dirs_of[i], buf, sizeof(buf)),
			   LANDLOCK_ACCESS_FS_REMOVE_FILE, attr.handled_access_fs) < 0)
			die("sandbox: Landlock rule for %s: %s", buf, strerror(errno));
	for (i = 0; i < o->nr_read; i++)
		if (ll_add(fd, o->read_paths[i], LANDLOCK_ACCESS_FS_READ_FILE |
			   LANDLOCK_ACCESS_FS_READ_DIR, attr.handled_access_fs) < 0 && errno != ENOENT)
			die("sandbox: Landlock rule for %s: %s", o->read_paths[i], strerror(errno));
	return fd;
}

/* ------------------------------------------------------------------ */
/* Per-thread confinement: credentials, capabilities, Landlock. */

static struct {
	bool set_ids;
	uid_t uid;
	gid_t gid;
	gid_t groups[1];
	int ll_fd;		/* -1: no Landlock */
	sem_t done;
	volatile sig_atomic_t failed;	/* a thread could not confine itself: its step */
} conf = { .ll_fd = -1 };

/* Async-signal-safe: raw system calls only.  0, or the failing step (1..6). */
static int confine_thread(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	bool bset = true;
	int cap;

	/*
	 * The bounding set needs CAP_SETPCAP, so it goes first.  Without it
	 * (started unprivileged) it stays: with no_new_privs and no execve it
	 * can never grant anything.
	 */
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (syscall(SYS_prctl, PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno != EPERM)
				return 1;
			bset = false;
		}
	syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (conf.set_ids &&
	    (syscall(SYS_setgroups, 1, conf.groups) < 0 ||
	     syscall(SYS_setresgid, conf.gid, conf.gid, conf.gid) < 0 ||
	     syscall(SYS_setresuid, conf.uid, conf.uid, conf.uid) < 0))
		return 2;
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 3;
	if (conf.ll_fd >= 0 && syscall(SYS_landlock_restrict_self, conf.ll_fd, 0) < 0)
		return 4;
	if (syscall(SYS_capset, &h, d) < 0)
		return 5;
	/* Verify: nothing effective, permitted, inheritable or bounding. */
	if (syscall(SYS_capget, &h, d) < 0 || d[0].effective || d[0].permitted ||
	    d[0].inheritable || d[1].effective || d[1].permitted || d[1].inheritable ||
	    (bset && syscall(SYS_prctl, PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0))
		return 6;
	return 0;
}

static void on_confine(int sig)
{
	int e = errno, r = confine_thread();

	(void)sig;
	if (r)
		conf.failed = r;
	sem_post(&conf.done);
	errno = e;
}

static const char *const steps[] = {
	"", "dropping the capability bounding set", "changing user and group",
	"setting no_new_privs", "entering the Landlock domain", "clearing capabilities",
	"checking that no capability is left",
};

/*
 * An io_uring worker ("iou-wrk-TID", "iou-sqp-TID") runs no user code and
 * takes no signal handler; it acts with its creator's credentials.
 */
static bool io_worker(int taskdir, const char *tid)
{
	char path[300], comm[16] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/comm", tid);
	fd = openat(taskdir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	return n > 4 && !strncmp(comm, "iou-", 4);
}

/*
 * Every other thread of the process confines itself in turn; @taskdir is
 * /proc/self/task, opened before any chroot.  Threads started meanwhile by
 * an unconfined thread are caught by the next pass; those started by a
 * confined one inherit it (and confine again: harmless).
 */
static void confine_others(int taskdir)
{
	struct sigaction sa = { .sa_handler = on_confine, .sa_flags = SA_RESTART };
	static pid_t done[256];
	int ndone = 0, fresh, sig = SIGRTMIN + 3;
	pid_t self = syscall(SYS_gettid);

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) < 0 || sem_init(&conf.done, 0, 0) < 0)
		die("sandbox: %s", strerror(errno));
	do {
		DIR *d;
		struct dirent *e;
		int dfd = dup(taskdir);

		fresh = 0;
		if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0 || !(d = fdopendir(dfd)))
			die("sandbox: /proc/self/task: %s", strerror(errno));
		while ((e = readdir(d))) {
			pid_t tid = atoi(e->d_name);
			struct timespec ts;
			int i;

			if (tid <= 0 || tid == self || io_worker(dirfd(d), e->d_name))
				continue;
			for (i = 0; i < ndone && done[i] != tid; i++)
				;
			if (i < ndone)
				continue;
			if (ndone == (int)(sizeof(done) / sizeof(done[0])))
				die("sandbox: too many threads");
			done[ndone++] = tid;
			if (syscall(SYS_tgkill, getpid(), tid, sig) < 0) {
				if (errno == ESRCH)	/* it has ended */
					continue;
				die("sandbox: signalling thread %d: %s", tid, strerror(errno));
			}
			fresh++;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 10;
			while (sem_timedwait(&conf.done, &ts) < 0)
				if (errno != EINTR)
					die("sandbox: thread %d did not confine itself", tid);
			if (conf.failed)
				die("sandbox: thread %d: %s failed", tid, steps[conf.failed]);
		}
		closedir(d);
	} while (fresh);
	signal(sig, SIG_IGN);
}

int sandbox_parse_mode(const char *val, enum sandbox_mode *mode)
{
	if (!strcmp(val, "on"))
		*mode = SANDBOX_ON;
	else if (!strcmp(val, "strict"))
		*mode = SANDBOX_STRICT;
	else if (!strcmp(val, "off"))
		*mode = SANDBOX_OFF;
	else
		return -1;
	return 0;
}

void sandbox_check(struct sandbox_opts *o)
{
	struct stat st;
	char *end;

	if (o->user) {
		struct passwd *pw = getpwnam(o->user);
		unsigned long n = strtoul(o->user, &end, 10);

		if (pw) {
			conf.uid = pw->pw_uid;
			conf.gid = pw->pw_gid;
		} else if (*o->user && !*end && n > 0 && n < 0xffffffffUL) {
			conf.uid = n;
			conf.gid = n;
		} else {
			die("--user: no user '%s'", o->user);
		}
		conf.set_ids = true;
	}
	if (o->group) {
		struct group *gr = getgrnam(o->group);
		unsigned long n = strtoul(o->group, &end, 10);

		if (gr)
			conf.gid = gr->gr_gid;
		else if (*o->group && !*end && n < 0xffffffffUL)
			conf.gid = n;
		else
			die("--group: no group '%s'", o->group);
	}
	conf.groups[0] = conf.gid;
	if (conf.set_ids && conf.uid == 0)
		die("--user: '%s' is root; give an unprivileged user", o->user);
	if (o->chroot && (stat(o->chroot, &st) < 0 || !S_ISDIR(st.st_mode)))
		die("--chroot: %s is not a directory", o->chroot);
}

void sandbox_enter(struct sandbox_opts *o)
{
	const char *why = NULL;
	int taskdir, i, r;

#ifdef KVMLITE_TEST_HOOKS
	test_parent = getppid();
#endif
	if (o->mode == SANDBOX_OFF)
		return;
	tzset();	/* the time zone is read now, not by the RTC's first gmtime_r() */
	taskdir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (taskdir < 0)
		die("sandbox: /proc/self/task: %s", strerror(errno));
	conf.ll_fd = landlock_ruleset(o, &why);
	if (conf.ll_fd < 0 && o->mode == SANDBOX_STRICT)
		die("sandbox: --sandbox strict: %s", why);
	if (conf.ll_fd < 0)
		warn("sandbox: %s: running without its file-system confinement", why);
	for (i = 0; conf.set_ids && i < o->nr_chown; i++)
		if (chown(o->chown_paths[i], conf.uid, conf.gid) < 0)
			die("sandbox: chown %s: %s", o->chown_paths[i], strerror(errno));
	if (o->chroot && (chroot(o->chroot) < 0 || chdir("/") < 0))
		die("--chroot %s: %s", o->chroot, strerror(errno));
	confine_others(taskdir);
	r = confine_thread();
	if (r)
		die("sandbox: %s failed: %s", steps[r], strerror(errno));
	close(taskdir);
	if (conf.ll_fd >= 0)
		close(conf.ll_fd);
	load_seccomp();
}

#ifdef KVMLITE_TEST_HOOKS
void sandbox_test_escape(const char *what, char *out, size_t len)
{
	int r;

	if (!strcmp(what, "open")) {
		r = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
		if (r >= 0)
			close(r);
	} else if (!strcmp(what, "socket")) {
		r = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
		if (r >= 0)
			close(r);
	} else if (!strcmp(what, "execve")) {
		char *const argv[] = { "sh", "-c", "echo SANDBOX-ESCAPED-EXECVE", NULL };

		r = execve("/bin/sh", argv, environ);
	} else if (!strcmp(what, "ptrace")) {
		pid_t parent = test_parent;	/* getppid() itself is not in the table */

		r = ptrace(PTRACE_ATTACH, parent, 0, 0);
		if (r == 0) {	/* let it go once it has stopped */
			waitpid(parent, NULL, __WALL);
			ptrace(PTRACE_DETACH, parent, 0, 0);
		}
	} else {
		snprintf(out, len, "error: test-escape open|socket|execve|ptrace");
		return;
	}
	if (r >= 0)
		snprintf(out, len, "ok %s: allowed", what);
	else
		snprintf(out, len, "ok %s: refused: %s", what, strerror(errno));
}
#endif
