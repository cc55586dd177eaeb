/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The runner's confinement once set-up is over (sandbox.c): a seccomp
 * filter on every thread, a Landlock file-system domain, an optional
 * chroot and a drop to another user.  See Documentation/runner.rst.
 */
#ifndef KVL_RUNNER_SANDBOX_H
#define KVL_RUNNER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sandbox_mode {
	SANDBOX_ON,		/* the default: Landlock where the kernel has it */
	SANDBOX_STRICT,		/* Landlock is required */
	SANDBOX_OFF,
};

#define SANDBOX_MAX_PATHS	8

struct sandbox_opts {
	enum sandbox_mode mode;
	const char *user;	/* --user: drop to this user (name or number) */
	const char *group;	/* --group: and this group (default: the user's) */
	const char *chroot;	/* --chroot: change root to this directory */
	/* Directories the running runner still writes (screendumps) or removes sockets from. */
	const char *write_dirs_of[SANDBOX_MAX_PATHS];	/* paths whose directory is writable */
	int nr_write;
	const char *remove_dirs_of[SANDBOX_MAX_PATHS];	/* paths whose directory may lose files */
	int nr_remove;
	const char *read_paths[SANDBOX_MAX_PATHS];	/* files or trees still read (SASL) */
	int nr_read;
	const char *chown_paths[SANDBOX_MAX_PATHS];	/* sockets handed to --user */
	int nr_chown;
};

/* --sandbox on|strict|off: 0, or -1 for a bad value. */
int sandbox_parse_mode(const char *val, enum sandbox_mode *mode);

/*
 * Check --user/--group/--chroot before any set-up (they must resolve now,
 * while /etc/passwd is still reachable); dies with a message on a bad one.
 */
void sandbox_check(struct sandbox_opts *o);

/*
 * Confine the process: chroot, drop the user, Landlock on every thread,
 * then the seccomp filter on every thread.  Call after every file, socket
 * and device node is open and before the vCPU threads start.  Dies on a
 * failure the mode does not allow.
 */
void sandbox_enter(struct sandbox_opts *o);

#ifdef KVMLITE_TEST_HOOKS
/*
 * Test builds only (runner/kvmlite-test): try the escape @what ("open",
 * "socket", "execve", "ptrace") from the calling thread and describe the
 * outcome in @out.  Seccomp may end the process instead.
 */
void sandbox_test_escape(const char *what, char *out, size_t len);
#endif

#endif
