/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Devices add themselves: each file ends with device_init(fn), and
 * kvm__init() calls every registered fn once the VM exists.  An init
 * function returns 0, or a negative value to abort with its own message.
 */
#ifndef KVL_RUNNER_DEVICE_H
#define KVL_RUNNER_DEVICE_H

struct kvm;

struct device_init {
	const char *name;
	int (*init)(struct kvm *kvm);
	struct device_init *next;
};

void device__register(struct device_init *d);
int devices__init(struct kvm *kvm);

#define device_init(fn)							\
	static struct device_init __devinit_##fn = { #fn, fn, 0 };	\
	static void __attribute__((constructor)) __devreg_##fn(void)	\
	{								\
		device__register(&__devinit_##fn);			\
	}

#endif
