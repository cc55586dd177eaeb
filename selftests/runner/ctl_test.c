// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of runner/ctl.c: the control socket served on the real event
 * loop with the real console, a fake display and keyboard behind it, and
 * "kvmlite ctl" as the client (no VM: the runner's few other calls are
 * stubbed here).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "../../devices/console.h"
#include "../../runner/ctl.h"
#include "../../runner/kvm.h"

/* The runner around ctl.c. */
static struct device_init *late;
static int exits, exit_status, power_presses;

void device__register_late(struct device_init *d)
{
	late = d;
}

void kvm__request_exit(struct kvm *kvm, int status, const char *why)
{
	(void)kvm;
	(void)why;
	exit_status = status;
	__atomic_add_fetch(&exits, 1, __ATOMIC_RELEASE);
}

void acpi_power_button(void)
{
	power_presses++;
}

void die(const char *fmt, ...)
{
	(void)fmt;
	abort();
}

void warn(const char *fmt, ...)
{
	(void)fmt;
}

/* No VNC server in this test: "info" adds nothing for it. */
void vnc_describe(char *buf, unsigned int len)
{
	if (len)
		buf[0] = 0;
}

/* A 4x2 XRGB8888 display and a keyboard. */
static uint8_t fb[4 * 2 * 4];

static void disp_refresh(void *opaque, struct con_surface *s)
{
	(void)opaque;
	*s = (struct con_surface){ .format = CON_FMT_XRGB8888, .width = 4, .height = 2,
				   .stride = 16, .data = fb, .data_len = sizeof(fb),
				   .cursor_x = -1, .cursor_y = -1 };
}

static const struct console_display_ops disp = { .refresh = disp_refresh };

static struct { uint16_t code; bool down; } keylog[16];
static int nkeys;

static void kbd_key(void *opaque, uint16_t code, bool down)
{
	(void)opaque;
	if (nkeys < 16) {
		keylog[nkeys].code = code;
		keylog[nkeys].down = down;
	}
	nkeys++;
}

static const struct console_sink_ops kbd = { .key = kbd_key };

static char dir[64], sock[128];
static struct kvm vm;

static int ctl(const char *a, const char *b)
{
	char *argv[] = { sock, (char *)a, (char *)b, NULL };

	return ctl__client(b ? 3 : 2, argv);
}

/* One raw request line; the reply line into @out. */
static void raw(const char *line, char *out, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	ssize_t n = 0, k;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, sock);
	out[0] = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, line, strlen(line)) < 0) {
		close(fd);
		return;
	}
	while (n < (ssize_t)len - 1 && (k = read(fd, out + n, len - 1 - n)) > 0) {
		n += k;
		if (memchr(out, '\n', n))
			break;
	}
	out[n > 0 ? n : 0] = 0;
	close(fd);
}

static void start(void)
{
	static bool started;

	if (started)
		return;
	started = true;
	/* Each test runs in its own child of the harness: one directory for them all. */
	snprintf(dir, sizeof(dir), "/tmp/kvl-ctl-%d", (int)getppid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		abort();
	snprintf(sock, sizeof(sock), "%s/ctl", dir);
	vm.cfg.ctl = sock;
	console_reset();
	console_set_display(&disp, NULL);
	console_add_sink(CON_SINK_KBD, CON_PRIO_PS2, &kbd, NULL, "test-kbd");
	if (!late || late->init(&vm) < 0)
		abort();
}

TEST(socket_is_private)
{
	struct stat st;

	start();
	ASSERT_EQ(0, stat(sock, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 0777);
}

TEST(screendump_writes_a_png)
{
	char png[160];
	uint8_t head[24];
	int fd;

	start();
	fb[0] = 0xff;		/* pixel 0 blue */
	snprintf(png, sizeof(png), "%s/shot.png", dir);
	ASSERT_EQ(0, ctl("screendump", png));
	fd = open(png, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(24, read(fd, head, 24));
	close(fd);
	EXPECT_EQ(0, memcmp(head, "\x89PNG\r\n\x1a\n", 8));
	EXPECT_EQ(0, memcmp(head + 12, "IHDR", 4));
	EXPECT_EQ(4, head[19]);		/* width, big endian */
	EXPECT_EQ(2, head[23]);		/* height */
	unlink(png);
	/* A directory that does not exist: an error reply, exit status 1. */
	snprintf(png, sizeof(png), "%s/none/shot.png", dir);
	EXPECT_EQ(1, ctl("screendump", png));
}

TEST(key_combo_order)
{
	start();
	nkeys = 0;
	ASSERT_EQ(0, ctl("key", "ctrl-alt-delete"));
	ASSERT_EQ(6, nkeys);
	EXPECT_EQ(0x1d, keylog[0].code);
	EXPECT_TRUE(keylog[0].down);
	EXPECT_EQ(0x38, keylog[1].code);
	EXPECT_EQ(0xe053, keylog[2].code);
	EXPECT_TRUE(keylog[2].down);
	EXPECT_EQ(0xe053, keylog[3].code);
	EXPECT_FALSE(keylog[3].down);
	EXPECT_EQ(0x38, keylog[4].code);
	EXPECT_EQ(0x1d, keylog[5].code);
	EXPECT_FALSE(keylog[5].down);
}

TEST(bad_requests_change_nothing)
{
	char out[256];

	start();
	nkeys = 0;
	/* Caught by the client: a usage error. */
	EXPECT_EQ(2, ctl("key", "a-bogus"));
	EXPECT_EQ(2, ctl("frob", NULL));
	/* Caught by the server. */
	raw("key a ctrl-nope\n", out, sizeof(out));
	EXPECT_EQ(0, strncmp(out, "error: key: unknown key 'nope'", 30)) TH_LOG("%s", out);
	raw("frob\n", out, sizeof(out));
	EXPECT_EQ(0, strncmp(out, "error: unknown command", 22)) TH_LOG("%s", out);
	EXPECT_EQ(0, nkeys);
	EXPECT_EQ(0, exits);
	/* Several requests on one connection, answered in order. */
	raw("help\n", out, sizeof(out));
	EXPECT_EQ(0, strncmp(out, "ok commands:", 12)) TH_LOG("%s", out);
}

TEST(info_powerdown_quit)
{
	char out[512];

	start();
	raw("info\n", out, sizeof(out));
	EXPECT_EQ(0, strncmp(out, "ok devices: none; display:", 26)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "test-kbd"));
	EXPECT_EQ(0, ctl("powerdown", NULL));
	EXPECT_EQ(1, power_presses);
	EXPECT_EQ(0, ctl("quit", NULL));
	/* The server replies first, then asks the run to end: wait for that. */
	for (int i = 0; i < 2000 && !__atomic_load_n(&exits, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	EXPECT_EQ(1, __atomic_load_n(&exits, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, exit_status);
}

TEST(no_server)
{
	char *argv[] = { "/nonexistent/sock", "info", NULL };

	EXPECT_EQ(1, ctl__client(2, argv));
	EXPECT_EQ(2, ctl__client(1, argv));
}

/* Last: a child serving its own socket removes it when it exits. */
TEST(socket_removed_at_exit)
{
	struct stat st;
	pid_t pid;
	int status;

	/* No start(): a fork() beside a running event loop thread could copy a held lock. */
	snprintf(dir, sizeof(dir), "/tmp/kvl-ctl-%d", (int)getppid());
	ASSERT_TRUE(mkdir(dir, 0700) == 0 || errno == EEXIST);
	snprintf(sock, sizeof(sock), "%s/child", dir);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		vm.cfg.ctl = sock;
		late->init(&vm);
		exit(stat(sock, &st) == 0 ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(-1, stat(sock, &st));
	snprintf(sock, sizeof(sock), "%s/ctl", dir);
	unlink(sock);
	EXPECT_EQ(0, rmdir(dir));
}

TEST_HARNESS_MAIN
