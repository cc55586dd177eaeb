// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (ctl.h, ctl_parse.h): a unix stream socket served on
 * the event loop, one request line at a time per connection, and its
 * command-line client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../devices/acpi.h"
#include "../devices/console.h"
#include "ctl.h"
#include "ctl_parse.h"
#include "device.h"
#include "evloop.h"
#include "kvm.h"
#include "sandbox.h"
#include "vnc.h"

struct conn {
	int fd;
	size_t len;
	char buf[CTL_LINE_MAX];
};

static struct kvm *ctl_kvm;
static const char *ctl_path;
static struct sigaction old_act[4];
static const int fatal_sigs[4] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

static void remove_socket(void)
{
	if (ctl_path)
		unlink(ctl_path);
}

/* A fatal signal: remove the socket, then whatever was there before (term.c) runs. */
static void on_signal(int sig)
{
	int i;

	remove_socket();
	for (i = 0; i < 4; i++)
		if (fatal_sigs[i] == sig && old_act[i].sa_handler != SIG_DFL &&
		    old_act[i].sa_handler != SIG_IGN) {
			old_act[i].sa_handler(sig);
			return;
		}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int write_png(const char *path, const uint8_t *rgb, uint32_t w, uint32_t h,
		     char *err, size_t len)
{
	png_structp png;
	png_infop info;
	FILE *f;
	uint32_t y;

	f = fopen(path, "wb");
	if (!f) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(f);
		unlink(path);
		snprintf(err, len, "%s: PNG encoding failed", path);
		return -1;
	}
	png_init_io(png, f);
	/*
	 * Fast over small: libpng's defaults (zlib level 6, adaptive filters)
	 * took 420 of a watched frame's 425 ms in make bench's display run;
	 * level 1 with the SUB filter is 4.5 times faster, the file 40% larger.
	 */
	png_set_compression_level(png, 1);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < h; y++)
		png_write_row(png, rgb + (size_t)y * w * 3);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	if (fclose(f)) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Lines of @s joined with ';' (the last newline dropped). */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n')
			*s = s[1] ? ';' : 0;
}

/* "info": the devices, then the console's and the VNC server's lines, all on one line. */
static void info(char *out, size_t len)
{
	char con[1024], vnc[1024];
	size_t n;
	int i;

	n = snprintf(out, len, "ok devices:");
	for (i = 0; i < ctl_kvm->cfg.nr_devices && n < len; i++) {
		const struct device_args *a = &ctl_kvm->cfg.devices[i];

		n += snprintf(out + n, len - n, "%s %s", i ? "," : "", a->desc->name);
	}
	if (!ctl_kvm->cfg.nr_devices && n < len)
		n += snprintf(out + n, len - n, " none");
	console_describe(con, sizeof(con));
	one_line(con);
	if (n < len)
		n += snprintf(out + n, len - n, "; %s", con);
	vnc_describe(vnc, sizeof(vnc));
	one_line(vnc);
	if (vnc[0] && n < len)
		snprintf(out + n, len - n, "; %s", vnc);
}

/* Test builds only (runner/kvmlite-test): "test-escape WHAT" tries to get out of the sandbox. */
static bool test_hook(const char *line)
{
#ifdef KVMLITE_TEST_HOOKS
	return !strncmp(line, "test-escape ", 12);
#else
	(void)line;
	return false;
#endif
}

/* Carry out one request; the reply (no newline) goes to @out. */
static void handle(const char *line, char *out, size_t len, bool *quit)
{
	struct ctl_req *r = malloc(sizeof(*r));
	char err[256];
	uint8_t *rgb;
	uint32_t w, h;
	unsigned int i, k;

	if (!r) {
		snprintf(out, len, "error: out of memory");
		return;
	}
#ifdef KVMLITE_TEST_HOOKS
	if (test_hook(line)) {
		sandbox_test_escape(line + 12, out, len);
		free(r);
		return;
	}
#endif
	if (ctl_parse(line, r, err, sizeof(err)) < 0) {
		snprintf(out, len, "error: %s", err);
		free(r);
		return;
	}
	snprintf(out, len, "ok");
	switch (r->cmd) {
	case CTL_SCREENDUMP:
		if (console_snapshot(-1, &rgb, &w, &h, NULL) < 0) {
			snprintf(out, len, "error: no display, or it shows nothing");
			break;
		}
		if (write_png(r->path, rgb, w, h, err, sizeof(err)) < 0)
			snprintf(out, len, "error: %s", err);
		else
			snprintf(out, len, "ok %ux%u", w, h);
		free(rgb);
		break;
	case CTL_KEY:
		for (i = 0; i < r->ncombos; i++) {
			for (k = 0; k < r->combo[i].n; k++)
				console_key(r->combo[i].code[k], true);
			for (k = r->combo[i].n; k-- > 0;)
				console_key(r->combo[i].code[k], false);
		}
		break;
	case CTL_POINTER:
		console_pointer_px(r->x, r->y, r->buttons, 0);
		break;
	case CTL_INFO:
		info(out, len);
		break;
	case CTL_POWERDOWN:
		acpi_power_button();
		break;
	case CTL_QUIT:
		*quit = true;
		break;
	case CTL_HELP:
		snprintf(out, len, "ok %s", ctl_help);
		break;
	}
	free(r);
}

static void conn_close(struct conn *c)
{
	evloop__del(c->fd);
	close(c->fd);
	free(c);
}

static void reply(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	/* Replies are short; a client that does not read them is dropped. */
	if (send(c->fd, s, n, MSG_NOSIGNAL) != (ssize_t)n ||
	    send(c->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		shutdown(c->fd, SHUT_RDWR);
}

static void conn_ready(void *opaque, int fd)
{
	struct conn *c = opaque;
	char out[2048], *nl;
	bool quit = false;
	ssize_t n;

	n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += n;
	c->buf[c->len] = 0;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		*nl = 0;
		handle(c->buf, out, sizeof(out), &quit);
		reply(c, out);
		c->len -= nl + 1 - c->buf;
		memmove(c->buf, nl + 1, c->len);
		c->buf[c->len] = 0;
		if (quit) {
			kvm__request_exit(ctl_kvm, 0, "quit (control socket)");
			return;
		}
	}
	if (c->len == sizeof(c->buf) - 1) {
		reply(c, "error: request too long");
		conn_close(c);
	}
}

static void accept_ready(void *opaque, int fd)
{
	struct conn *c;
	int cfd;

	(void)opaque;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || evloop__add(cfd, conn_ready, c) < 0) {
		free(c);
		close(cfd);
		return;
	}
	c->fd = cfd;
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

/* A socket file no one listens on (a run that was killed) may be replaced. */
static bool stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return r < 0 && errno == ECONNREFUSED;
}

static int ctl_init(struct kvm *kvm)
{
	struct sockaddr_un sa;
	struct sigaction act = { .sa_handler = on_signal };
	mode_t old;
	int fd, i;

	if (!kvm->cfg.ctl)
		return 0;
	ctl_kvm = kvm;
	if (fill_addr(&sa, kvm->cfg.ctl) < 0)
		die("--ctl %s: path too long for a unix socket", kvm->cfg.ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("--ctl: socket: %s", strerror(errno));
	if (stale(kvm->cfg.ctl, &sa))
		unlink(kvm->cfg.ctl);
	old = umask(0177);	/* the socket is the owner's only: mode 0600 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		die("--ctl %s: %s", kvm->cfg.ctl, strerror(errno));
	}
	umask(old);
	ctl_path = kvm->cfg.ctl;
	atexit(remove_socket);
	sigemptyset(&act.sa_mask);
	for (i = 0; i < 4; i++)
		sigaction(fatal_sigs[i], &act, &old_act[i]);
	if (listen(fd, 8) < 0 || evloop__add(fd, accept_ready, NULL) < 0)
		die("--ctl %s: %s", kvm->cfg.ctl, strerror(errno));
	return 0;
}
device_late_init(ctl_init);

/* The client: send one request, print the reply. */
int ctl__client(int argc, char **argv)
{
	char line[CTL_LINE_MAX], buf[4096], err[256];
	struct sockaddr_un sa;
	struct ctl_req *r;
	size_t n = 0, got = 0;
	ssize_t k;
	int fd, i;

	if (argc < 2) {
		fputs("usage: kvmlite ctl PATH COMMAND [ARGS...]\n", stderr);
		fprintf(stderr, "  %s\n", ctl_help);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		int w = snprintf(line + n, sizeof(line) - n, "%s%s", i > 1 ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof(line) - n) {
			fputs("kvmlite: ctl: request too long\n", stderr);
			return 2;
		}
		n += w;
	}
	/* Bad requests are usage errors here already; the runner checks them again. */
	r = malloc(sizeof(*r));
	if (!r || (!test_hook(line) && ctl_parse(line, r, err, sizeof(err)) < 0)) {
		fprintf(stderr, "kvmlite: ctl: %s\n", r ? err : "out of memory");
		free(r);
		return 2;
	}
	free(r);
	if (fill_addr(&sa, argv[0]) < 0) {
		fprintf(stderr, "kvmlite: ctl: %s: path too long\n", argv[0]);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "kvmlite: ctl: %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	line[n++] = '\n';
	if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n) {
		fprintf(stderr, "kvmlite: ctl: %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
		k = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += k;
	}
	close(fd);
	buf[got] = 0;
	if (!got) {
		fprintf(stderr, "kvmlite: ctl: %s: no reply\n", argv[0]);
		return 1;
	}
	fputs(buf, stdout);
	if (buf[got - 1] != '\n')
		putchar('\n');
	return strncmp(buf, "ok", 2) || (buf[2] && buf[2] != ' ' && buf[2] != '\n') ? 1 : 0;
}
