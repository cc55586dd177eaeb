// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the RFB client-to-server message parser
 * (runner/rfb_msg.c).  The input is a client's byte stream after the
 * handshake; it is parsed message by message as the server does until
 * more bytes are needed or a message is refused.  Asserted: a parsed
 * message lies within the input and its fields within their limits, the
 * same bytes one short only ask for more (never more than the message), a
 * request for more is for more than there is and at most RFB_MAX_MSG, and
 * a refusal says why.  libFuzzer's input buffer is exactly @size bytes, so
 * ASan catches any read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/rfb.h"

static void check_msg(const struct rfb_cmsg *m, const uint8_t *buf, long rc)
{
	const uint8_t *end = buf + rc;

	switch (m->type) {
	case RFB_MSG_SET_PIXEL_FORMAT:
		if (rc != 20 || rfb_pixfmt_check(&m->pf))
			abort();
		break;
	case RFB_MSG_SET_ENCODINGS:
		if (rc != 4 + 4 * (long)m->enc.count || m->enc.list != buf + 4 ||
		    m->enc.list + 4 * (size_t)m->enc.count != end)
			abort();
		break;
	case RFB_MSG_FB_UPDATE_REQUEST:
		if (rc != 10)
			abort();
		break;
	case RFB_MSG_KEY_EVENT:
		if (rc != 8)
			abort();
		break;
	case RFB_MSG_POINTER_EVENT:
		if (rc != 6)
			abort();
		break;
	case RFB_MSG_CLIENT_CUT_TEXT:
		if (m->cut.len > RFB_MAX_CUT_TEXT || m->cut.text != buf + 8 ||
		    m->cut.text + m->cut.len != end)
			abort();
		break;
	case RFB_MSG_SET_DESKTOP_SIZE:
		if (m->desktop.screens < 1 || m->desktop.screens > RFB_MAX_SCREENS ||
		    rc != 8 + 16 * (long)m->desktop.screens)
			abort();
		break;
	case RFB_MSG_QEMU:
		if (rc != 12 || buf[1] != RFB_QEMU_EXT_KEY)
			abort();
		break;
	default:
		abort();
	}
	if (m->type != buf[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfb_cmsg m, m2;
	size_t off = 0, need, need2;
	const char *why;
	uint8_t *copy;
	long rc, rc2;

	for (;;) {
		why = NULL;
		need = 0;
		rc = rfb_parse_cmsg(data + off, size - off, &m, &need, &why);
		if (rc < 0) {
			if (rc != -1 || !why || !why[0])
				abort();
			return 0;
		}
		if (rc == 0) {
			if (need <= size - off || need > RFB_MAX_MSG)
				abort();
			return 0;
		}
		if ((size_t)rc > size - off || rc > (long)RFB_MAX_MSG)
			abort();
		check_msg(&m, data + off, rc);

		/*
		 * One byte short, in a buffer of exactly that size: a request for
		 * exactly the rest (the last byte never decides a length).
		 */
		copy = malloc(rc - 1 ? rc - 1 : 1);
		if (!copy)
			abort();
		memcpy(copy, data + off, rc - 1);
		rc2 = rfb_parse_cmsg(copy, rc - 1, &m2, &need2, &why);
		free(copy);
		if (rc2 != 0 || need2 != (size_t)rc)
			abort();
		off += rc;
	}
}
