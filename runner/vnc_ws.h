/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The WebSocket (RFC 6455) parsers behind vnc_io_start_websocket(), as
 * pure functions over buffers (vnc_io.c; the fuzz target calls them).
 */
#ifndef KVL_RUNNER_VNC_WS_H
#define KVL_RUNNER_VNC_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNC_WS_MAX_REQUEST	8192		/* HTTP request head, bytes */
#define VNC_WS_MAX_FRAME	(1u << 20)	/* payload of one frame */

/*
 * Parse one HTTP upgrade request head (@len bytes, the final blank line
 * included).  On success fill @accept (Sec-WebSocket-Accept, NUL-ended)
 * and *@binary (the client offered the "binary" subprotocol); 0, or -1.
 */
int vnc_ws_parse_request(const char *req, size_t len, char accept[29], bool *binary);

/* Length of the request head in @buf (through "\r\n\r\n"), 0 if incomplete. */
size_t vnc_ws_request_end(const char *buf, size_t len);

enum vnc_ws_event {
	VNC_WS_ERROR = -1,	/* protocol violation: drop the connection */
	VNC_WS_MORE = 0,	/* input used up (or output full): call again */
	VNC_WS_PING,		/* a ping frame ended: answer with d->ctl */
	VNC_WS_PONG,		/* an (unsolicited) pong ended: ignore */
	VNC_WS_CLOSE,		/* a close frame ended: answer it, then end of stream */
};

/* Frame decoder state; zero-initialise. */
struct vnc_ws_dec {
	uint8_t hdr[14];
	unsigned int hdr_len;
	bool in_frame;		/* header done, payload being read */
	bool in_message;	/* a fragmented data message is unfinished */
	uint8_t opcode;		/* of the current frame */
	uint64_t left;		/* payload bytes of the current frame still to come */
	uint8_t mask[4];
	unsigned int mpos;
	uint8_t ctl[125];	/* payload of the current control frame */
	unsigned int ctl_len;
};

/*
 * Decode client frames from @in: data payload goes to @out (at most
 * @outlen bytes), *@used and *@made say how much was taken and given.
 * Stops after each control frame so the caller can answer it.
 */
enum vnc_ws_event vnc_ws_decode(struct vnc_ws_dec *d, const uint8_t *in, size_t inlen,
				size_t *used, uint8_t *out, size_t outlen, size_t *made);

/* A server frame header for @len payload bytes of @opcode into @hdr (10 bytes); its length. */
size_t vnc_ws_frame_header(uint8_t hdr[10], uint8_t opcode, uint64_t len);

#endif
