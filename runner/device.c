// SPDX-License-Identifier: GPL-2.0
/*
 * The self-registered devices: platform pieces initialised in link order,
 * the --device descriptors found by name, and the generic option parser.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "kvm.h"

static struct device_init *head, **tail = &head;
static struct device_init *late_head, **late_tail = &late_head;
static struct device_desc *descs;

void device__register(struct device_init *d)
{
	d->next = 0;
	*tail = d;
	tail = &d->next;
}

void device__register_late(struct device_init *d)
{
	d->next = 0;
	*late_tail = d;
	late_tail = &d->next;
}

/* Kept sorted by name, for "--device help". */
void device__register_desc(struct device_desc *d)
{
	struct device_desc **p = &descs;

	while (*p && strcmp((*p)->name, d->name) < 0)
		p = &(*p)->next;
	d->next = *p;
	*p = d;
}

const struct device_desc *device__find(const char *name)
{
	const struct device_desc *d;

	for (d = descs; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

void device__help(void)
{
	const struct device_desc *d;

	puts("Devices for --device NAME[,KEY=VALUE|FLAG...]:");
	for (d = descs; d; d = d->next)
		printf("  %-16s %s\n", d->name, d->help ? d->help : "");
}

void device_usage(const struct device_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "kvmlite: %s: ", a->opt);
	vfprintf(stderr, fmt, ap);
	fputs("\nTry 'kvmlite run --help'.\n", stderr);
	va_end(ap);
	exit(2);
}

/* The accepted options for messages: "file=, format=, readonly". */
static void key_list(const struct device_desc *desc, char *buf, size_t len)
{
	const char *const *k;
	size_t n = 0;

	buf[0] = 0;
	for (k = desc->keys; k && *k && n < len; k++)
		n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", *k);
	if (!buf[0])
		snprintf(buf, len, "none");
}

void device__parse(struct device_args *a, const struct device_desc *desc, const char *opt,
		   const char *spec, const char *opts)
{
	char *copy, *item, *save = NULL, keys[256];

	memset(a, 0, sizeof(*a));
	a->desc = desc;
	a->opt = opt;
	a->spec = spec;
	copy = strdup(opts);
	if (!copy)
		device_usage(a, "out of memory");
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		const char *const *k;
		char *eq = strchr(item, '=');
		size_t klen = eq ? (size_t)(eq - item) : strlen(item);
		bool found = false;

		for (k = desc->keys; k && *k; k++) {
			size_t l = strlen(*k);
			bool valued = l && (*k)[l - 1] == '=';

			if ((valued ? l - 1 : l) != klen || strncmp(*k, item, klen))
				continue;
			if (valued && !eq)
				device_usage(a, "option '%s' needs a value (%s=...)", item, item);
			if (!valued && eq)
				device_usage(a, "option '%.*s' takes no value ('%s')", (int)klen,
					     item, item);
			found = true;
			break;
		}
		if (!found) {
			key_list(desc, keys, sizeof(keys));
			device_usage(a, "unknown option '%s' (%s)", item, keys);
		}
		if (a->nr == DEVICE_MAX_OPTS)
			device_usage(a, "more than %d options in '%s'", DEVICE_MAX_OPTS, spec);
		if (eq)
			*eq = 0;
		a->o[a->nr++] = (struct device_opt){ item, eq ? eq + 1 : NULL };
	}
}

const char *device_arg(const struct device_args *a, const char *key)
{
	const char *v = NULL;
	unsigned int i;

	for (i = 0; i < a->nr; i++)
		if (a->o[i].val && !strcmp(a->o[i].key, key))
			v = a->o[i].val;
	return v;
}

bool device_flag(const struct device_args *a, const char *key)
{
	unsigned int i;

	for (i = 0; i < a->nr; i++)
		if (!a->o[i].val && !strcmp(a->o[i].key, key))
			return true;
	return false;
}

static int run_inits(struct device_init *d, struct kvm *kvm)
{
	for (; d; d = d->next)
		if (d->init(kvm) < 0) {
			warn("device %s failed to initialise", d->name);
			return -1;
		}
	return 0;
}

int devices__init(struct kvm *kvm)
{
	int i;

	if (run_inits(head, kvm) < 0)
		return -1;
	for (i = 0; i < kvm->cfg.nr_devices; i++) {
		struct device_args *a = &kvm->cfg.devices[i];

		if (a->desc->create(kvm, a) < 0) {
			warn("%s: device %s failed to initialise", a->opt, a->desc->name);
			return -1;
		}
	}
	return run_inits(late_head, kvm);
}
