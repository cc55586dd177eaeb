/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scroll detection for VNC's CopyRect (vnc_scroll.c): when a guest scrolls
 * (fbcon, a terminal, a web page), most of the damaged area is what the
 * client already has, a few rows up or down.  Finding that offset lets the
 * server send a CopyRect (a few bytes) and only the rows that are new.
 */
#ifndef KVL_RUNNER_VNC_SCROLL_H
#define KVL_RUNNER_VNC_SCROLL_H

#include <stdint.h>
#include "rfb.h"

/* Bands shorter than this are left to the ordinary encoding. */
#define VNC_SCROLL_MIN_ROWS	16

/*
 * In @a of two pictures of @fw pixels a row (@bpp bytes a pixel), @old what
 * the client shows and @cur the new one: the longest band of rows of
 * @cur that @old holds @dy rows lower (content moved up by @dy; negative:
 * down), among the offsets the rows suggest.  Rows of one colour say
 * nothing and are not used to find the offset.  Returns @dy (0: no band
 * of at least VNC_SCROLL_MIN_ROWS rows that differs from @old in place),
 * with *@band the band's rectangle in @cur (its source is band->y + dy).
 * @old_hash (may be NULL): vnc_row_hash() of each of @a's rows of @old
 * (@a->h of them), kept by the caller from before.
 */
int vnc_find_scroll(const uint8_t *old, const uint8_t *cur, uint32_t fw, unsigned int bpp,
		    const struct rfb_rect *a, const uint64_t *old_hash, struct rfb_rect *band);
/* The hash vnc_find_scroll() gives the @n bytes of a row at @p. */
uint64_t vnc_row_hash(const uint8_t *p, size_t n);

#endif
