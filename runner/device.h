/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How devices get into a VM.  Two kinds of registration, both made by a
 * constructor in the device's own file, so that adding a device needs no
 * edit in main.c, kvm.c or pci_host.c:
 *
 *  - device_init(fn) / device_late_init(fn): always-present platform
 *    pieces (COM1, the RTC, ACPI, the PCI host bridge).  kvm__init() calls
 *    every device_init fn once the VM and its RAM exist, then creates the
 *    devices the command line asked for (below), then calls every
 *    device_late_init fn (PCI BAR placement, ACPI tables).  An init function
 *    returns 0, or a negative value to abort with its own message.
 *
 *  - device_desc(var): a device the user asks for by name with
 *    "kvmlite run --device NAME[,KEY=VALUE|FLAG...]", any number of times.
 *    The runner's short forms are the same thing: --disk F,opts is
 *    --device virtio-blk,file=F,opts; --rng is --device virtio-rng; --net
 *    tap=X is --device virtio-net,tap=X; --console virtio is --device
 *    virtio-console.  "--device help" prints every descriptor's help line.
 *    Requested devices are created in command-line order (so they take
 *    PCI slots in that order).
 *
 * A descriptor, for instance:
 *
 *	static const char *const rng_keys[] = { NULL };
 *	static int rng_create(struct kvm *kvm, struct device_args *a) { ... }
 *	static struct device_desc rng_desc = {
 *		.name = "virtio-rng",
 *		.help = "a virtio-rng device fed from the host's getrandom()",
 *		.keys = rng_keys,
 *		.create = rng_create,
 *	};
 *	device_desc(rng_desc);
 *
 * Options are parsed generically before any VM exists: each comma-
 * separated item is "key=value" or a bare "flag"; .keys lists the accepted
 * ones, "key=" for those with a value, "flag" for flags.  Unknown keys, a
 * value on a flag or a key without its value are usage errors (exit 2)
 * with the option named as the user wrote it (--disk, --device NAME).
 * .configure then checks the values (still before the VM: call
 * device_usage() on a bad one) and may adjust the config; .create builds
 * the device on the VM (devices/platform.h has the calls it needs) and
 * returns 0, or -1 after printing why (the run then fails with status 1).
 */
#ifndef KVL_RUNNER_DEVICE_H
#define KVL_RUNNER_DEVICE_H

#include <stdbool.h>

struct kvm;
struct kvm_config;

struct device_init {
	const char *name;
	int (*init)(struct kvm *kvm);
	struct device_init *next;
};

void device__register(struct device_init *d);
void device__register_late(struct device_init *d);
int devices__init(struct kvm *kvm);

#define device_init(fn)							\
	static struct device_init __devinit_##fn = { #fn, fn, 0 };	\
	static void __attribute__((constructor)) __devreg_##fn(void)	\
	{								\
		device__register(&__devinit_##fn);			\
	}

/* After every device_init fn and every --device: e.g. placing PCI BARs. */
#define device_late_init(fn)						\
	static struct device_init __devinit_##fn = { #fn, fn, 0 };	\
	static void __attribute__((constructor)) __devreg_##fn(void)	\
	{								\
		device__register_late(&__devinit_##fn);			\
	}

#define DEVICE_MAX_OPTS		16
#define DEVICE_MAX_REQS		32	/* --device (and short forms) per run */

/* One option of a request: val is NULL for a bare flag. */
struct device_opt {
	const char *key, *val;
};

/* One requested device: what the user wrote and its parsed options. */
struct device_args {
	const struct device_desc *desc;
	const char *opt;	/* how it was asked for, for messages: "--disk", "--device virtio-blk" */
	const char *spec;	/* the option's value as written (for messages) */
	char from;		/* the short form that made it ('d' --disk, 'r', 'n', 'c'), else 0 */
	unsigned int nr;
	struct device_opt o[DEVICE_MAX_OPTS];
	int index;		/* 0 for the first request of this descriptor, 1 for the next... */
	void *priv;		/* for the descriptor: configure() may leave parsed values here */
};

struct device_desc {
	const char *name;
	/* One line for "--device help": the options, then what the device is. */
	const char *help;
	/* Accepted options, NULL-terminated: "key=" takes a value, "flag" does not. */
	const char *const *keys;
	/* Before the VM: check values, exit through device_usage(); may be NULL. */
	void (*configure)(struct kvm_config *cfg, struct device_args *a);
	/* Build it on the VM: 0, or -1 after printing why. */
	int (*create)(struct kvm *kvm, struct device_args *a);
	struct device_desc *next;
};

void device__register_desc(struct device_desc *d);

#define device_desc(var)						\
	static void __attribute__((constructor)) __devdesc_##var(void)	\
	{								\
		device__register_desc(&var);				\
	}

/* The descriptor called @name, or NULL. */
const struct device_desc *device__find(const char *name);
/* Print "--device help": every descriptor, sorted by name, to stdout. */
void device__help(void);
/*
 * Parse @spec, the options after the device name ("" or "k=v,flag,..."),
 * into @a for @desc; usage errors exit with status 2 naming @opt.
 * Keeps pointers into a copy of @spec.
 */
void device__parse(struct device_args *a, const struct device_desc *desc, const char *opt,
		   const char *spec, const char *opts);

/* The value of "key=" (the last one given), or NULL when absent. */
const char *device_arg(const struct device_args *a, const char *key);
/* Whether the flag @key was given. */
bool device_flag(const struct device_args *a, const char *key);
/* "kvmlite: OPT: message", "Try 'kvmlite run --help'." and exit(2). */
void device_usage(const struct device_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
