/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvmlite speaks the KVM ioctl ABI of <linux/kvm.h> on its own device.
 * This header only names the device; every ioctl, structure and constant
 * is KVM's.
 */
#ifndef _UAPI_LINUX_KVMLITE_H
#define _UAPI_LINUX_KVMLITE_H

#define KVMLITE_DEVICE_NAME	"kvmlite"
#define KVMLITE_DEVICE_PATH	"/dev/kvmlite"

#endif /* _UAPI_LINUX_KVMLITE_H */
