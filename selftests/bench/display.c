// SPDX-License-Identifier: GPL-2.0
/*
 * bench_display: the host half of the display benchmark
 * (scripts/bench-display).  Starts a VMM whose guest runs fbloop
 * (selftests/guest/fbloop.c), keeps step with it through its console and
 * plays the screendump client:
 *
 *   bench_display --tag TAG --results FILE (--ctl SOCK | --qmp SOCK)
 *                 --dump FILE --watch PHASE [--vnc HOST:PORT [--encoding ENC]
 *                 [--compress N] [--quality Q]] -- COMMAND...
 *
 * The guest's lines (all echoed to stdout):
 *   DISP-PHASE NAME ...      the VMM's CPU time (and KVM's exit count) is sampled
 *   DISP-FRAME I             in the phase named by --watch, one screendump
 *                            (the runner's control socket or QEMU's QMP)
 * With --vnc, a phase named "vnc-ENC-WORKLOAD" (ENC: raw, hextile, zrle,
 * tight, tight-jpeg; another word: --encoding's, default raw) is watched
 * by a VNC client instead (vncwatch.c): at DISP-PHASE, before the CPU
 * sample, it connects, asks that one encoding (with compression level N,
 * default 2, and for tight-jpeg JPEG quality Q, default 8: TigerVNC's
 * defaults) and reads one full update; per DISP-FRAME it sends one
 * incremental FramebufferUpdateRequest and reads the whole update; at
 * DISP-END, after the sample, it disconnects.  Once two phases have
 * failed over VNC, the later ones do not try (each wait is 20 s or more).
 *   DISP-END NAME FRAMES NS  sampled again; one result line is written
 * and each is answered with a line on the VMM's stdin.  CPU time is the
 * sum of the VMM's threads' /proc/PID/task/TID/schedstat run time (ns),
 * next to utime + stime from /proc/PID/stat (ticks, for threads that
 * came and went); exits are KVM's debugfs counters in
 * /sys/kernel/debug/kvm (kvm only; -1 where absent): all exits, nested
 * page faults (what dirty logging costs), MMIO, port I/O and HLT exits.
 * Result lines (to FILE and to stdout):
 *   BENCH-DISPLAY TAG NAME frames F cpu_ns C stat_ticks S guest_ns G dumps D dump_errors X
 *                 exits E pf_taken P mmio_exits M io_exits I halt_exits H
 *                 bytes B updates U vnc_errors V full_bytes FB
 * (B: the VNC bytes of the phase's incremental updates, U of them; FB:
 * the first, full update's; all 0 in a phase without VNC.)
 *   BENCH-DISPLAY TAG status N
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vncwatch.h"

/* KVM's debugfs counters (kvm only; -1 where absent): all exits, then some kinds */
static const char *const stat_names[] = {
	"exits", "pf_taken", "mmio_exits", "io_exits", "halt_exits"
};
#define NSTATS (sizeof(stat_names) / sizeof(stat_names[0]))

struct sample {
	long long cpu_ns, ticks, stat[NSTATS];
};

static pid_t child;
static int ctl_fd = -1;
static FILE *ctl_in;
static bool qmp;

static struct vncw vnc;
static bool vnc_on;

static long long read_ll(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void sample(struct sample *s)
{
	char path[320], buf[1024], *p;
	struct dirent *d;
	unsigned long ut, st;
	unsigned int i;
	DIR *dir;
	FILE *f;

	s->cpu_ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)child);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		long long v;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)child, d->d_name);
		v = read_ll(path);
		if (v > 0)
			s->cpu_ns += v;
	}
	if (dir)
		closedir(dir);
	s->ticks = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
	f = fopen(path, "r");
	if (f) {
		/* after "(comm)": 11 fields, then utime and stime (fields 14 and 15) */
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
			s->ticks = (long long)ut + st;
		fclose(f);
	}
	for (i = 0; i < NSTATS; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%s", stat_names[i]);
		s->stat[i] = read_ll(path);
	}
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, i;

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	for (i = 0; i < 100; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		usleep(100000);
	}
	return -1;
}

/* One request line, then reply lines until one that settles it; 0 if it succeeded. */
static int request(const char *req)
{
	char line[4096];

	if (write(ctl_fd, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	while (fgets(line, sizeof(line), ctl_in)) {
		if (!qmp)
			return strncmp(line, "ok", 2) ? -1 : 0;
		if (!strncmp(line, "{\"return\"", 9))
			return 0;
		if (!strncmp(line, "{\"error\"", 8)) {
			fprintf(stderr, "bench_display: %s", line);
			return -1;
		}
	}
	return -1;
}

static int open_ctl(const char *path)
{
	char line[4096];

	ctl_fd = connect_to(path);
	if (ctl_fd < 0)
		return -1;
	ctl_in = fdopen(dup(ctl_fd), "r");
	if (!ctl_in)
		return -1;
	if (qmp) {
		if (!fgets(line, sizeof(line), ctl_in))	/* the greeting */
			return -1;
		return request("{\"execute\": \"qmp_capabilities\"}\n");
	}
	return 0;
}

/* The encoding a phase named "vnc-ENC-WORKLOAD" asks; -1 for a phase not watched over VNC. */
static int vnc_phase_encoding(const char *name, int dflt)
{
	const char *last = strrchr(name, '-');
	char enc[32];
	int e;

	if (strncmp(name, "vnc-", 4) || last < name + 4 || last - (name + 4) >= (long)sizeof(enc))
		return strncmp(name, "vnc-", 4) ? -1 : dflt;
	memcpy(enc, name + 4, last - (name + 4));
	enc[last - (name + 4)] = 0;
	e = vncw_parse_encoding(enc);
	return e < 0 ? dflt : e;
}

int main(int argc, char **argv)
{
	const char *tag = NULL, *results = NULL, *sock = NULL, *dump = NULL, *watch = "";
	const char *vnc_addr = NULL;
	int in[2], out[2], i, status, dumps = 0, dump_errors = 0;
	int vnc_enc = VNCW_RAW, compress = 2, quality = 8, vnc_errors = 0, vnc_failed_phases = 0;
	unsigned long long vnc_bytes = 0, vnc_updates = 0, full_bytes = 0;
	unsigned int k, len;
	char rline[1024];
	struct sample s0 = { 0 }, s1;
	char line[4096], req[512], name[64] = "";
	FILE *res, *vmm;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--") && i + 1 < argc) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			goto usage;
		if (!strcmp(argv[i], "--tag"))
			tag = argv[++i];
		else if (!strcmp(argv[i], "--results"))
			results = argv[++i];
		else if (!strcmp(argv[i], "--ctl"))
			sock = argv[++i];
		else if (!strcmp(argv[i], "--qmp"))
			sock = argv[++i], qmp = true;
		else if (!strcmp(argv[i], "--dump"))
			dump = argv[++i];
		else if (!strcmp(argv[i], "--watch"))
			watch = argv[++i];
		else if (!strcmp(argv[i], "--vnc"))
			vnc_addr = argv[++i];
		else if (!strcmp(argv[i], "--encoding")) {
			vnc_enc = vncw_parse_encoding(argv[++i]);
			if (vnc_enc < 0)
				goto usage;
		} else if (!strcmp(argv[i], "--compress")) {
			compress = atoi(argv[++i]);
			if (compress < 0 || compress > 9)
				goto usage;
		} else if (!strcmp(argv[i], "--quality")) {
			quality = atoi(argv[++i]);
			if (quality < 0 || quality > 9)
				goto usage;
		} else
			goto usage;
	}
	if (!tag || !results || !sock || !dump || i >= argc || strlen(dump) > 256)
		goto usage;
	res = fopen(results, "a");
	if (!res || pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		perror("bench_display");
		return 1;
	}
	setvbuf(res, NULL, _IOLBF, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	child = fork();
	if (child < 0)
		return 1;
	if (!child) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execvp(argv[i], argv + i);
		perror(argv[i]);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	vmm = fdopen(out[0], "r");
	if (qmp)
		snprintf(req, sizeof(req),
			 "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"%s\", \"format\": \"png\"}}\n",
			 dump);
	else
		snprintf(req, sizeof(req), "screendump %s\n", dump);
	while (vmm && fgets(line, sizeof(line), vmm)) {
		unsigned long long frames, ns;
		char *p = strstr(line, "DISP-");

		fputs(line, stdout);
		fflush(stdout);
		if (!p)
			continue;
		if (sscanf(p, "DISP-PHASE %63s", name) == 1) {
			int e = vnc_addr ? vnc_phase_encoding(name, vnc_enc) : -1;

			dumps = dump_errors = vnc_errors = 0;
			vnc_bytes = vnc_updates = full_bytes = 0;
			if (e >= 0 && vnc_failed_phases >= 2) {
				/* the server is not answering: no more waits */
				vnc_errors++;
			} else if (e >= 0) {
				if (vncw_open(&vnc, vnc_addr, e, compress, quality, 30000) < 0) {
					fprintf(stderr, "bench_display: vnc %s: %s\n", vnc_addr,
						vnc.err);
					vnc_errors++;
				} else {
					vnc_on = true;
					full_bytes = vnc.in.bytes;
				}
			}
			sample(&s0);
		} else if (!strncmp(p, "DISP-FRAME ", 11)) {
			if (vnc_on) {
				long long b = vncw_frame(&vnc);

				if (b < 0) {
					fprintf(stderr, "bench_display: vnc: %s\n", vnc.err);
					vnc_errors++;
					vncw_close(&vnc);
					vnc_on = false;
				} else {
					vnc_bytes += b;
					vnc_updates++;
				}
			} else if (!strcmp(name, watch)) {
				if (ctl_fd < 0 && open_ctl(sock) < 0) {
					fprintf(stderr, "bench_display: cannot talk to %s\n", sock);
					dump_errors++;
				} else if (request(req) < 0) {
					dump_errors++;
				} else {
					dumps++;
				}
			}
		} else if (sscanf(p, "DISP-END %63s %llu %llu", name, &frames, &ns) == 3) {
			sample(&s1);
			len = snprintf(rline, sizeof(rline),
				       "BENCH-DISPLAY %s %s frames %llu cpu_ns %lld stat_ticks %lld guest_ns %llu dumps %d dump_errors %d",
				       tag, name, frames, s1.cpu_ns - s0.cpu_ns, s1.ticks - s0.ticks, ns,
				       dumps, dump_errors);
			for (k = 0; k < NSTATS && len < sizeof(rline); k++)
				len += snprintf(rline + len, sizeof(rline) - len, " %s %lld", stat_names[k],
						s0.stat[k] < 0 || s1.stat[k] < 0 ? -1 : s1.stat[k] - s0.stat[k]);
			if (len < sizeof(rline))
				snprintf(rline + len, sizeof(rline) - len,
					 " bytes %llu updates %llu vnc_errors %d full_bytes %llu",
					 vnc_bytes, vnc_updates, vnc_errors, full_bytes);
			if (vnc_errors)
				vnc_failed_phases++;
			if (vnc_on)
				vncw_close(&vnc);
			vnc_on = false;
			fprintf(res, "%s\n", rline);
			printf("%s\n", rline);
		} else {
			continue;
		}
		if (write(in[1], "\n", 1) != 1)
			break;
	}
	close(in[1]);
	if (waitpid(child, &status, 0) < 0)
		status = -1;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(res, "BENCH-DISPLAY %s status %d\n", tag, status);
	printf("BENCH-DISPLAY %s status %d\n", tag, status);
	return 0;
usage:
	fprintf(stderr, "usage: bench_display --tag TAG --results FILE (--ctl SOCK | --qmp SOCK)\n"
		"                     --dump FILE --watch PHASE\n"
		"                     [--vnc HOST:PORT [--encoding raw|hextile|zrle|tight|tight-jpeg]\n"
		"                     [--compress 0-9] [--quality 0-9]] -- COMMAND...\n");
	return 2;
}
