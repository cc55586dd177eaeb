// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: a small VMM over the KVM ioctl ABI.  See Documentation/runner.rst.
 *
 *   kvmlite run --kernel BZIMAGE [--initrd FILE] [--append CMDLINE]
 *               [--mem SIZE] [--cpus N] [--dev PATH] [--console serial|virtio]
 *               [--disk FILE[,format=raw|qcow2][,readonly]]... [--rng]
 *               [--device NAME[,KEY=VALUE...]]... [--ctl PATH]
 *               [--vnc ADDR:PORT[,OPTIONS] | --vnc unix:PATH[,OPTIONS]]
 *               [--sandbox on|strict|off] [--user USER [--group GROUP]] [--chroot DIR]
 *   kvmlite run [--dev PATH] [--mem SIZE] [--bios] IMAGE
 *   kvmlite ctl PATH COMMAND [ARGS...]
 *   kvmlite check [--dev PATH]
 *
 * It works on /dev/kvmlite and on KVM's /dev/kvm alike.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../uapi/linux/kvmlite.h"
#include "check.h"
#include "ctl.h"
#include "kvm.h"
#include "sandbox.h"
#include "vnc.h"

static const char usage_text[] =
"usage: kvmlite run --kernel BZIMAGE [--initrd FILE] [--append CMDLINE]\n"
"                   [--mem SIZE] [--cpus N] [--dev PATH] [--console serial|virtio]\n"
"                   [--disk FILE[,format=raw|qcow2][,readonly][,aio=...]]... [--rng]\n"
"                   [--net tap=IFNAME] [--device NAME[,KEY=VALUE|FLAG...]]...\n"
"                   [--ctl PATH] [--vnc ADDR:PORT[,OPTIONS]]\n"
"                   [--sandbox on|strict|off] [--user USER [--group GROUP]] [--chroot DIR]\n"
"       kvmlite run [--dev PATH] [--mem SIZE] [--bios] IMAGE\n"
"       kvmlite ctl PATH COMMAND [ARGS...]\n"
"       kvmlite check [--dev PATH]\n"
"\n"
"  --kernel F      boot a Linux x86-64 bzImage through its 64-bit entry point,\n"
"                  or an ELF vmlinux through its PVH entry point\n"
"  --initrd F      initramfs for it\n"
"  --append S      kernel command line (default \"console=ttyS0\")\n"
"  --mem SIZE      guest RAM; a number with an optional K, M or G suffix,\n"
"                  MiB without one (default 512M for Linux, 2M for IMAGE)\n"
"  --cpus N        vCPUs, 1..64 (default 1)\n"
"  --dev PATH      KVM device (default /dev/kvmlite if present, else /dev/kvm)\n"
"  --console serial  stdin goes to the guest's COM1 (default); on a terminal,\n"
"                  Ctrl-A x ends the run.  COM1 output always goes to stdout\n"
"  --console virtio  stdin goes to a virtio-console device instead (the\n"
"                  guest's hvc0, whose output goes to stdout too)\n"
"  --disk F[,format=raw|qcow2][,readonly][,aio=io_uring|sync]  a virtio-blk\n"
"                  disk on image F (format guessed when not given; up to 8, in\n"
"                  PCI slot order); raw images use io_uring unless aio=sync\n"
"  --rng           a virtio-rng device fed from the host's getrandom()\n"
"  --net tap=IF    a virtio-net device on the host's tap interface IF (created\n"
"                  if missing; bring it up and address it on the host side)\n"
"  --device NAME[,KEY=VALUE|FLAG...]  a device by name, with its options\n"
"                  (repeatable; devices take PCI slots in command-line order);\n"
"                  --device help lists the devices and their options.  --disk,\n"
"                  --rng, --net and --console virtio are short forms of it\n"
"  --ctl PATH      serve the control socket on the unix socket PATH (mode 0600,\n"
"                  removed at exit): kvmlite ctl PATH help lists its commands\n"
"  --vnc ADDR:PORT[,OPTIONS]  serve the display and input over VNC (RFB 3.8) on\n"
"                  TCP ADDR:PORT (e.g. 127.0.0.1:5900; a port, not a display\n"
"                  number).  OPTIONS: password-file=F (VNC authentication with\n"
"                  F's first line), tls-creds=DIR|anon (VeNCrypt; DIR holds\n"
"                  ca-cert.pem, server-cert.pem, server-key.pem), x509verify,\n"
"                  sasl (service \"vnc\"), websocket=PORT, max-clients=N (1..64),\n"
"                  lossy=on|off (Tight JPEG), insecure (allow a non-loopback\n"
"                  address without authentication)\n"
"  --vnc unix:PATH[,OPTIONS]  the same on the unix socket PATH (mode 0600,\n"
"                  removed at exit)\n"
"  --sandbox on|strict|off  after set-up, confine the runner: a seccomp filter\n"
"                  on every thread, Landlock (nothing new on the file system but\n"
"                  screendumps beside the --ctl socket), no capabilities; on\n"
"                  (the default) warns and goes on without Landlock where the\n"
"                  kernel lacks it, strict refuses to run then, off disables it\n"
"  --user USER     after set-up, drop to USER (and its group, or --group GROUP);\n"
"                  the --ctl and --vnc unix sockets are handed to it\n"
"  --group GROUP   the group for --user\n"
"  --chroot DIR    after set-up, change the root directory to DIR\n"
"  --bios IMAGE    a flat real-mode binary run at 0000:1000 (also: IMAGE alone)\n"
"\n"
"kvmlite check tells whether this host can run kvmlite (CPU, firmware, other\n"
"hypervisors, module, device node, IOMMU): one PASS, WARN or FAIL line per item,\n"
"status 1 if anything needed is missing; --dev checks another device node.\n"
"\n"
"The exit status is 0 when the guest powers off (ACPI S5), resets through\n"
"the keyboard controller (reboot) or halts (IMAGE only), the byte a guest\n"
"writes to port 0xf4, 1 on a VM error, 2 on bad usage.\n";

static void usage_error(const char *fmt, const char *arg)
{
	fputs("kvmlite: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'kvmlite run --help'.\n", stderr);
	exit(2);
}

/* Forget the requests an earlier use of short form @from made (--rng, --net, --console). */
static void drop_requests(struct kvm_config *cfg, char from)
{
	int i, n = 0;

	for (i = 0; i < cfg->nr_devices; i++)
		if (cfg->devices[i].from != from)
			cfg->devices[n++] = cfg->devices[i];
	cfg->nr_devices = n;
}

/*
 * Ask for device @name with options @opts ("k=v,flag,..."); @opt and
 * @spec name it in messages.  Options and values are checked now.
 */
static void add_request(struct kvm_config *cfg, const char *name, const char *opt,
			const char *spec, const char *opts, char from)
{
	const struct device_desc *desc = device__find(name);
	struct device_args *a;
	int i, index = 0;

	if (!desc)
		usage_error("--device: unknown device '%s' (--device help lists them)", name);
	if (cfg->nr_devices == DEVICE_MAX_REQS)
		usage_error("%s: too many devices", opt);
	for (i = 0; i < cfg->nr_devices; i++)
		index += cfg->devices[i].desc == desc;
	a = &cfg->devices[cfg->nr_devices];
	device__parse(a, desc, opt, spec, opts);
	a->from = from;
	a->index = index;
	if (desc->configure)
		desc->configure(cfg, a);
	cfg->nr_devices++;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		usage_error("%s", "out of memory");
	return s;
}

/* --device NAME[,OPTS] */
static void parse_device(struct kvm_config *cfg, const char *val)
{
	const char *comma = strchr(val, ',');
	char *name = xasprintf("%.*s", comma ? (int)(comma - val) : (int)strlen(val), val);

	if (!strcmp(name, "help")) {
		device__help();
		exit(0);
	}
	add_request(cfg, name, xasprintf("--device %s", name), val, comma ? comma + 1 : "", 0);
}

/* --disk F[,opts] is --device virtio-blk,file=F[,opts]. */
static void parse_disk(struct kvm_config *cfg, const char *val)
{
	const char *comma = strchr(val, ',');
	int len = comma ? (int)(comma - val) : (int)strlen(val);

	add_request(cfg, "virtio-blk", "--disk", val,
		    xasprintf("file=%.*s%s", len, val, comma ? comma : ""), 'd');
}

static uint64_t parse_size(const char *s)
{
	unsigned long long v;
	unsigned int shift = 20;
	char *end;

	v = strtoull(s, &end, 10);
	if (end == s)
		goto bad;
	if (*end && end[1])
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		goto bad;
	}
	if (v == 0 || v > (1ULL << (40 - shift)) || ((v << shift) & 0xfff))
		goto bad;
	return v << shift;
bad:
	usage_error("--mem: bad size '%s' (e.g. 512M or 2G: K, M or G suffix, 4 KiB multiple, <= 1T)",
		    s);
	return 0;
}

int main(int argc, char **argv)
{
	struct kvm_config cfg = { .nr_cpus = 1 };
	static struct kvm kvm;
	static struct vnc_opts vnc;
	struct sandbox_opts sb = { .mode = SANDBOX_ON };
	bool use_vnc = false;
	int i, status;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "ctl"))
		return ctl__client(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check__main(argc - 2, argv + 2);
	if (argc < 2 || strcmp(argv[1], "run"))
		usage_error("unknown command '%s' (run, ctl, check)", argc < 2 ? "" : argv[1]);

	for (i = 2; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (opt[0] != '-') {
			if (cfg.image)
				usage_error("more than one IMAGE ('%s')", opt);
			cfg.image = opt;
			continue;
		}
		if (!strcmp(opt, "--rng")) {
			drop_requests(&cfg, 'r');
			add_request(&cfg, "virtio-rng", "--rng", "", "", 'r');
			continue;
		}
		if (strcmp(opt, "--kernel") && strcmp(opt, "--initrd") &&
		    strcmp(opt, "--append") && strcmp(opt, "--mem") &&
		    strcmp(opt, "--cpus") && strcmp(opt, "--dev") &&
		    strcmp(opt, "--console") && strcmp(opt, "--bios") &&
		    strcmp(opt, "--disk") && strcmp(opt, "--net") &&
		    strcmp(opt, "--device") && strcmp(opt, "--ctl") && strcmp(opt, "--vnc") &&
		    strcmp(opt, "--sandbox") && strcmp(opt, "--user") && strcmp(opt, "--group") &&
		    strcmp(opt, "--chroot"))
			usage_error("unknown option '%s'", opt);
		if (!val)
			usage_error("%s needs a value", opt);
		i++;
		if (!strcmp(opt, "--kernel")) {
			cfg.kernel = val;
		} else if (!strcmp(opt, "--initrd")) {
			cfg.initrd = val;
		} else if (!strcmp(opt, "--append")) {
			cfg.append = val;
		} else if (!strcmp(opt, "--mem")) {
			cfg.ram_size = parse_size(val);
		} else if (!strcmp(opt, "--cpus")) {
			char *end;
			long n = strtol(val, &end, 10);

			if (*end || end == val || n < 1 || n > KVM_MAX_CPUS)
				usage_error("--cpus: '%s' is not 1..64", val);
			cfg.nr_cpus = n;
		} else if (!strcmp(opt, "--dev")) {
			cfg.dev = val;
		} else if (!strcmp(opt, "--console")) {
			if (strcmp(val, "virtio") && strcmp(val, "serial"))
				usage_error("--console: '%s' is not supported (serial, virtio)", val);
			/* The last --console wins: virtio is --device virtio-console. */
			drop_requests(&cfg, 'c');
			cfg.console = CONSOLE_SERIAL;
			if (!strcmp(val, "virtio"))
				add_request(&cfg, "virtio-console", "--console virtio", val, "", 'c');
		} else if (!strcmp(opt, "--disk")) {
			parse_disk(&cfg, val);
		} else if (!strcmp(opt, "--net")) {
			if (strncmp(val, "tap=", 4) || !val[4] || strchr(val, ','))
				usage_error("--net: '%s' is not tap=IFNAME", val);
			drop_requests(&cfg, 'n');
			add_request(&cfg, "virtio-net", "--net", val, val, 'n');
		} else if (!strcmp(opt, "--device")) {
			parse_device(&cfg, val);
		} else if (!strcmp(opt, "--ctl")) {
			if (!val[0])
				usage_error("%s", "--ctl: empty PATH");
			cfg.ctl = val;
		} else if (!strcmp(opt, "--vnc")) {
			char err[256];

			if (vnc_parse_opts(val, &vnc, err, sizeof(err)) < 0)
				usage_error("%s", err);
			use_vnc = true;
		} else if (!strcmp(opt, "--sandbox")) {
			if (sandbox_parse_mode(val, &sb.mode) < 0)
				usage_error("--sandbox: '%s' is not on, strict or off", val);
		} else if (!strcmp(opt, "--user")) {
			sb.user = val;
		} else if (!strcmp(opt, "--group")) {
			sb.group = val;
		} else if (!strcmp(opt, "--chroot")) {
			sb.chroot = val;
		} else if (!strcmp(opt, "--bios")) {
			if (cfg.image)
				usage_error("more than one IMAGE ('%s')", val);
			cfg.image = val;
		}
	}

	if (cfg.kernel && cfg.image)
		usage_error("%s", "--kernel and a flat IMAGE exclude each other");
	if (!cfg.kernel && !cfg.image)
		usage_error("%s", "nothing to run: give --kernel BZIMAGE or an IMAGE");
	if (!cfg.kernel && (cfg.initrd || cfg.append))
		usage_error("%s", "--initrd and --append need --kernel");
	if (!cfg.kernel && cfg.nr_devices)
		usage_error("%s", "--device, --disk, --net, --rng and --console virtio need --kernel (PCI is a Linux platform)");
	if (cfg.image && cfg.nr_cpus != 1)
		usage_error("%s", "a flat IMAGE runs on one vCPU");
	cfg.boot = cfg.kernel ? BOOT_LINUX : BOOT_FLAT;
	if (!cfg.ram_size)
		cfg.ram_size = cfg.kernel ? 512ULL << 20 : 2ULL << 20;
	if (cfg.kernel && cfg.ram_size < (32ULL << 20))
		usage_error("%s", "--mem: a Linux guest needs at least 32M");
	if (!cfg.dev)
		cfg.dev = access(KVMLITE_DEVICE_PATH, F_OK) == 0 ? KVMLITE_DEVICE_PATH : "/dev/kvm";

	if (sb.mode == SANDBOX_OFF && (sb.user || sb.group || sb.chroot))
		usage_error("%s", "--user, --group and --chroot need the sandbox (not --sandbox off)");
	if (sb.group && !sb.user)
		usage_error("%s", "--group needs --user");
	sandbox_check(&sb);		/* users and groups resolve while /etc is reachable */

	if (cfg.boot == BOOT_LINUX)
		boot_linux__check(&cfg);	/* a bad image fails before any VM exists */
	if (kvm__init(&kvm, &cfg) < 0)
		die("device setup failed");
	if (use_vnc) {
		char err[256];

		/* The devices exist (the display and input sinks are registered); no vCPU runs yet. */
		if (vnc_start(&vnc, err, sizeof(err)) < 0)
			die("--vnc: %s", err);
	}
	/*
	 * Set-up is over: what the run still touches on the file system is the
	 * control socket's directory (screendumps, the socket's removal) and
	 * the VNC unix socket's; SASL reads its user database per login.
	 */
	if (cfg.ctl) {
		sb.write_dirs_of[sb.nr_write++] = cfg.ctl;
		sb.chown_paths[sb.nr_chown++] = cfg.ctl;
	}
	if (use_vnc && vnc.unix_socket) {
		sb.remove_dirs_of[sb.nr_remove++] = vnc.addr;
		sb.chown_paths[sb.nr_chown++] = vnc.addr;
	}
	if (use_vnc && vnc.sasl) {
		sb.read_paths[sb.nr_read++] = "/etc/sasl2";
		sb.read_paths[sb.nr_read++] = "/etc/sasldb2";
	}
	sandbox_enter(&sb);
	status = kvm__run(&kvm);
	vnc_stop();
	return status;
}
