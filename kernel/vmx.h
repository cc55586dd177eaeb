/* SPDX-License-Identifier: GPL-2.0 */
/* kvmlite: what vmx.c needs from vmx_entry.S. */
#ifndef KVMLITE_VMX_H
#define KVMLITE_VMX_H

#include <linux/types.h>

int kvl_vmx_enter(unsigned long *regs, bool launched);
/* Where a VM exit lands: the VMCS's HOST_RIP. */
extern const char kvl_vmx_exit[];

#endif
