// SPDX-License-Identifier: GPL-2.0
/* The list of self-registered devices, initialised in link order. */
#include "device.h"
#include "kvm.h"

static struct device_init *head, **tail = &head;

void device__register(struct device_init *d)
{
	d->next = 0;
	*tail = d;
	tail = &d->next;
}

int devices__init(struct kvm *kvm)
{
	struct device_init *d;

	for (d = head; d; d = d->next)
		if (d->init(kvm) < 0) {
			warn("device %s failed to initialise", d->name);
			return -1;
		}
	return 0;
}
