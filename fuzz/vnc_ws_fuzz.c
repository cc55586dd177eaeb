// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the VNC server's WebSocket parsers (runner/vnc_io.c,
 * vnc_ws.h).  The input is an HTTP upgrade request head (through the first
 * blank line, or all of it) followed by client frames.  Byte 0 also picks
 * the chunk size the frames are fed in and the output room, so headers and
 * payloads get split at every point.  Asserted: a parsed request yields a
 * 28-character accept key; the decoder always makes progress, never takes
 * or gives more than it was offered, and keeps control payloads within 125
 * bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/vnc_ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnc_ws_dec d = { 0 };
	size_t head, end, chunk, room, pos;
	uint8_t out[300];
	char accept[29];
	bool binary;

	if (!size)
		return 0;
	chunk = 1 + data[0] % 37;
	room = 1 + (data[0] >> 3) * 9;
	head = size > VNC_WS_MAX_REQUEST ? VNC_WS_MAX_REQUEST : size;
	end = vnc_ws_request_end((const char *)data, head);
	if (end > head)
		abort();
	if (vnc_ws_parse_request((const char *)data, end ? end : head, accept, &binary) == 0 &&
	    strlen(accept) != 28)
		abort();
	for (pos = end; pos < size;) {
		size_t n = size - pos < chunk ? size - pos : chunk, used, made;
		enum vnc_ws_event ev = vnc_ws_decode(&d, data + pos, n, &used, out, room, &made);

		if (used > n || made > room || d.ctl_len > sizeof(d.ctl))
			abort();
		if (ev == VNC_WS_ERROR || ev == VNC_WS_CLOSE)
			break;
		if (ev == VNC_WS_MORE && !used && !made)
			abort();	/* no progress */
		pos += used;
	}
	return 0;
}
