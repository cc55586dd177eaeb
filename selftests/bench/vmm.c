// SPDX-License-Identifier: GPL-2.0
/*
 * bench_vmm: run a VMM (kvmlite's runner or QEMU), time its guest's output
 * lines and its exit, and sample its memory while the guest idles.
 *
 *   bench_vmm [options] -- COMMAND [ARG...]
 *     --tag NAME        name of this run in the results (default "vmm")
 *     --results FILE    append the results there (default: stdout only)
 *     --mark STR        report when the first line containing STR arrived
 *                       (repeatable, up to 8)
 *     --sample STR      when a line containing STR arrives, wait --delay
 *                       milliseconds (default 500), then read the VMM's
 *                       /proc/PID/status and /proc/PID/smaps
 *     --ram BYTES       guest RAM size: mappings at least this large are
 *                       counted as guest RAM, everything else as the VMM's
 *
 * The clock starts just before fork(): every figure includes exec, dynamic
 * linking and the VMM's own setup.  The VMM's stdout and stderr come
 * through one pipe, so a line is stamped (CLOCK_MONOTONIC) when read()
 * returns it here, and echoed with the time since start.  Results are
 * lines "BENCH-VMM TAG KEY VALUE":
 *   mark:STR_ns      first line containing STR
 *   exit_ns          waitpid() returned; status: the exit status
 *   vm_rss_kb, vm_hwm_kb, rss_anon_kb, rss_file_kb, rss_shmem_kb, threads:
 *                    from /proc/PID/status at the sample
 *   ram_map_kb, ram_rss_kb: size and resident part of the guest RAM
 *                    mappings (smaps), ram_maps: how many there were
 *   other_anon_kb, other_file_kb, other_rss_kb: resident memory of all
 *                    other mappings, anonymous and the rest (file, shared,
 *                    device pages such as kvm_run), and their sum
 *
 * Meant for the AMD emulated host under QEMU -icount, where CLOCK_MONOTONIC
 * counts L1 instructions and the figures repeat run for run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#define MAX_MARKS	8
#define LINE_MAX_LEN	4096

static const char *tag = "vmm";
static FILE *results;
static uint64_t t0;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void report(const char *key, const char *fmt, ...)
{
	char val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	printf("BENCH-VMM %s %s %s\n", tag, key, val);
	fflush(stdout);
	if (results) {
		fprintf(results, "BENCH-VMM %s %s %s\n", tag, key, val);
		fflush(results);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_vmm [--tag NAME] [--results FILE] [--mark STR]... "
		"[--sample STR [--delay MS] [--ram BYTES]] -- COMMAND [ARG...]\n");
	exit(2);
}

/* The value of "Key:   123 kB" lines; -1 if the key is not there. */
static long status_field(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

struct smaps_sum {
	unsigned long ram_maps, ram_size_kb, ram_rss_kb;
	unsigned long other_anon_kb, other_rss_kb;
};

static void account_vma(struct smaps_sum *s, unsigned long long ram,
			unsigned long size_kb, unsigned long rss_kb, unsigned long anon_kb)
{
	if (ram && (unsigned long long)size_kb * 1024 >= ram) {
		s->ram_maps++;
		s->ram_size_kb += size_kb;
		s->ram_rss_kb += rss_kb;
	} else {
		s->other_rss_kb += rss_kb;
		s->other_anon_kb += anon_kb;
	}
}

/*
 * A mapping's header line starts with "start-end "; its fields follow as
 * "Key: value kB" lines.  Sum Size/Rss/Anonymous per mapping.
 */
static int read_smaps(pid_t pid, unsigned long long ram, struct smaps_sum *s)
{
	char path[64], line[512];
	unsigned long size = 0, rss = 0, anon = 0;
	bool in_vma = false;
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char c;

		if (sscanf(line, "%lx-%lx %c", &a, &b, &c) == 3) {
			if (in_vma)
				account_vma(s, ram, size, rss, anon);
			in_vma = true;
			size = rss = anon = 0;
		} else if (!strncmp(line, "Size:", 5)) {
			size = strtoul(line + 5, NULL, 10);
		} else if (!strncmp(line, "Rss:", 4)) {
			rss = strtoul(line + 4, NULL, 10);
		} else if (!strncmp(line, "Anonymous:", 10)) {
			anon = strtoul(line + 10, NULL, 10);
		}
	}
	if (in_vma)
		account_vma(s, ram, size, rss, anon);
	fclose(f);
	return 0;
}

static void sample(pid_t pid, unsigned long long ram)
{
	static const char *const keys[] = {
		"VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads",
	};
	static const char *const names[] = {
		"vm_rss_kb", "vm_hwm_kb", "rss_anon_kb", "rss_file_kb", "rss_shmem_kb", "threads",
	};
	char path[64];
	struct smaps_sum s;
	size_t i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		report(names[i], "%ld", status_field(path, keys[i]));
	if (read_smaps(pid, ram, &s)) {
		report("smaps", "unreadable");
		return;
	}
	report("ram_maps", "%lu", s.ram_maps);
	report("ram_map_kb", "%lu", s.ram_size_kb);
	report("ram_rss_kb", "%lu", s.ram_rss_kb);
	report("other_anon_kb", "%lu", s.other_anon_kb);
	report("other_file_kb", "%lu", s.other_rss_kb - s.other_anon_kb);
	report("other_rss_kb", "%lu", s.other_rss_kb);
}

int main(int argc, char **argv)
{
	const char *marks[MAX_MARKS], *sample_on = NULL;
	bool marked[MAX_MARKS] = { false }, sampled = false;
	unsigned long long ram = 0;
	unsigned long delay_ms = 500;
	char line[LINE_MAX_LEN];
	size_t len = 0, nmarks = 0;
	int i, pfd[2], status;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(o, "--tag")) {
			tag = argv[++i];
		} else if (!strcmp(o, "--results")) {
			results = fopen(argv[++i], "a");
			if (!results) {
				perror(argv[i]);
				return 2;
			}
		} else if (!strcmp(o, "--mark") && nmarks < MAX_MARKS) {
			marks[nmarks++] = argv[++i];
		} else if (!strcmp(o, "--sample")) {
			sample_on = argv[++i];
		} else if (!strcmp(o, "--delay")) {
			delay_ms = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(o, "--ram")) {
			ram = strtoull(argv[++i], NULL, 0);
		} else {
			usage();
		}
	}
	if (i >= argc)
		usage();

	if (pipe(pfd)) {
		perror("pipe");
		return 1;
	}
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		close(pfd[0]);
		close(pfd[1]);
		close(null);
		execvp(argv[i], argv + i);
		fprintf(stderr, "bench_vmm: %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);

	for (;;) {
		char buf[4096];
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		uint64_t t = now_ns() - t0;
		ssize_t k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (k = 0; k < n; k++) {
			size_t m;

			if (buf[k] != '\n' && len < sizeof(line) - 1) {
				if (buf[k] != '\r')
					line[len++] = buf[k];
				continue;
			}
			if (buf[k] != '\n')
				continue;	/* an overlong line: keep its start */
			line[len] = '\0';
			len = 0;
			printf("[%10.6f] %s\n", t / 1e9, line);
			fflush(stdout);
			for (m = 0; m < nmarks; m++) {
				if (!marked[m] && strstr(line, marks[m])) {
					marked[m] = true;
					report("mark", "%s %llu", marks[m], (unsigned long long)t);
				}
			}
			if (sample_on && !sampled && strstr(line, sample_on)) {
				struct timespec d = {
					.tv_sec = delay_ms / 1000,
					.tv_nsec = (long)(delay_ms % 1000) * 1000000,
				};

				sampled = true;
				while (nanosleep(&d, &d) && errno == EINTR)
					;
				sample(pid, ram);
			}
		}
	}
	if (len) {
		line[len] = '\0';
		printf("[%10.6f] %s\n", (now_ns() - t0) / 1e9, line);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return 1;
		}
	}
	report("exit_ns", "%llu", (unsigned long long)(now_ns() - t0));
	if (WIFEXITED(status))
		report("status", "%d", WEXITSTATUS(status));
	else
		report("status", "signal-%d", WTERMSIG(status));
	for (i = 0; i < (int)nmarks; i++)
		if (!marked[i])
			report("mark", "%s none", marks[i]);
	if (sample_on && !sampled)
		report("ram_rss_kb", "none");
	return 0;
}
