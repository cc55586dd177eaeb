/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The runner's console on stdio.  When stdin is a terminal it is put in
 * raw mode (restored at exit) and Ctrl-A x ends the run; Ctrl-A Ctrl-A
 * sends one Ctrl-A.  Input bytes go to one sink, which returns -1 while
 * it cannot take more (the byte is offered again a little later).
 */
#ifndef KVL_RUNNER_TERM_H
#define KVL_RUNNER_TERM_H

#include <stdint.h>

struct kvm;

void term__init(struct kvm *kvm, int (*sink)(void *opaque, uint8_t byte), void *opaque);
void term__putc(uint8_t byte);
/* The terminal's mode from before term__init() (async-signal-safe: for fatal paths). */
void term__restore(void);

#endif
