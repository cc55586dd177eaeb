/* SPDX-License-Identifier: GPL-2.0 */
/* kvmlite: what svm.c needs from svm_entry.S. */
#ifndef KVMLITE_SVM_H
#define KVMLITE_SVM_H

void kvl_svm_enter(unsigned long vmcb_pa, unsigned long *regs, unsigned long host_save_pa,
		   unsigned long shadow);

#endif
