/* SPDX-License-Identifier: GPL-2.0 */
/* Between vnc_io.c and vnc_auth.c only. */
#ifndef KVL_RUNNER_VNC_IO_PRIV_H
#define KVL_RUNNER_VNC_IO_PRIV_H

#include "vnc_io.h"

/* Record why @io failed (printf-style). */
void vnc_io_set_error(struct vnc_io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Wrap @io in cyrus-sasl's security layer of @conn (a sasl_conn_t *; freed
 * with @io).  Reads are decoded at once; writes stay plain until the first
 * read, so the SecurityResult that follows the exchange goes out in clear
 * (what QEMU and gtk-vnc do).  0, or -1.
 */
int vnc_io_push_sasl(struct vnc_io *io, void *conn);

#endif
