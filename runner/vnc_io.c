// SPDX-License-Identifier: GPL-2.0
/*
 * A VNC connection's byte stream: the socket, then the layers the
 * handshake stacks on it (TLS, WebSocket, TLS again, SASL).  Layer i
 * reads and writes through layers 0..i-1; layer -1 is the socket.
 * See vnc_io.h.  The WebSocket parsers are pure functions (vnc_ws.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <sasl/sasl.h>
#include "vnc_io.h"
#include "vnc_io_priv.h"
#include "vnc_ws.h"

#define MAX_LAYERS	5
#define WS_RAW_SIZE	16384
#define SASL_RAW_SIZE	8192

enum layer_kind { L_TLS, L_WS, L_SASL };

struct layer {
	struct vnc_io *io;
	int idx;
	enum layer_kind kind;
	/* TLS */
	gnutls_session_t sess;
	/* WebSocket: undecoded bytes read from below */
	struct vnc_ws_dec dec;
	uint8_t *raw;
	size_t raw_pos, raw_len;
	bool eof;
	/* SASL: decoded bytes not yet read */
	sasl_conn_t *sasl;
	uint8_t *dbuf;
	size_t dpos, dlen, dcap;
	unsigned int maxout;
	bool write_plain;
};

struct vnc_io {
	int fd;
	int nlayers;
	struct layer layers[MAX_LAYERS];
	char *peer_dn;
	char err[160];
};

struct vnc_tls {
	bool x509, verify;
	gnutls_certificate_credentials_t cert;
	gnutls_anon_server_credentials_t anon;
};

void vnc_io_set_error(struct vnc_io *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(io->err, sizeof(io->err), fmt, ap);
	va_end(ap);
}

struct vnc_io *vnc_io_new(int fd)
{
	struct vnc_io *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	io->fd = fd;
	return io;
}

static void layer_free(struct layer *l)
{
	switch (l->kind) {
	case L_TLS:
		gnutls_deinit(l->sess);
		break;
	case L_WS:
		free(l->raw);
		break;
	case L_SASL:
		sasl_dispose(&l->sasl);
		free(l->dbuf);
		break;
	}
	memset(l, 0, sizeof(*l));
}

void vnc_io_free(struct vnc_io *io)
{
	if (!io)
		return;
	while (io->nlayers > 0)
		layer_free(&io->layers[--io->nlayers]);
	if (io->fd >= 0)
		close(io->fd);
	free(io->peer_dn);
	free(io);
}

int vnc_io_fd(const struct vnc_io *io)
{
	return io->fd;
}

const char *vnc_io_error(const struct vnc_io *io)
{
	return io->err;
}

const char *vnc_io_peer_dn(const struct vnc_io *io)
{
	return io->peer_dn;
}

bool vnc_io_pending(const struct vnc_io *io)
{
	for (int i = 0; i < io->nlayers; i++) {
		const struct layer *l = &io->layers[i];

		switch (l->kind) {
		case L_TLS:
			if (gnutls_record_check_pending(l->sess) > 0)
				return true;
			break;
		case L_WS:
			if (l->raw_pos < l->raw_len || l->eof)
				return true;
			break;
		case L_SASL:
			if (l->dpos < l->dlen)
				return true;
			break;
		}
	}
	return false;
}

bool vnc_io_peek_tls(struct vnc_io *io)
{
	uint8_t b;
	ssize_t n;

	if (io->nlayers)
		return false;
	do
		n = recv(io->fd, &b, 1, MSG_PEEK);
	while (n < 0 && errno == EINTR);
	return n == 1 && b == 0x16;
}

/* ---- reading and writing through the bottom @n layers ------------------------------ */

static ssize_t io_read(struct vnc_io *io, int n, void *buf, size_t len);
static int io_write(struct vnc_io *io, int n, const void *buf, size_t len);

static ssize_t sock_read(struct vnc_io *io, void *buf, size_t len)
{
	ssize_t r;

	do
		r = read(io->fd, buf, len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		vnc_io_set_error(io, "read: %s", strerror(errno));
	return r;
}

static int sock_write(struct vnc_io *io, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = send(io->fd, p, len, MSG_NOSIGNAL);

		if (r < 0 && errno == ENOTSOCK)
			r = write(io->fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			vnc_io_set_error(io, "write: %s", r < 0 ? strerror(errno) : "short write");
			return -1;
		}
		p += r;
		len -= r;
	}
	return 0;
}

static ssize_t tls_read(struct layer *l, void *buf, size_t len)
{
	for (;;) {
		ssize_t r = gnutls_record_recv(l->sess, buf, len);

		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		vnc_io_set_error(l->io, "TLS: %s", gnutls_strerror(r));
		return -1;
	}
}

static int tls_write(struct layer *l, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = gnutls_record_send(l->sess, p, len);

		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0) {
			vnc_io_set_error(l->io, "TLS: %s", gnutls_strerror(r));
			return -1;
		}
		p += r;
		len -= r;
	}
	return 0;
}

static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct layer *l = ptr;
	ssize_t r = io_read(l->io, l->idx, buf, len);

	if (r < 0)
		gnutls_transport_set_errno(l->sess, EIO);
	return r;
}

static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	struct layer *l = ptr;

	if (io_write(l->io, l->idx, buf, len) < 0) {
		gnutls_transport_set_errno(l->sess, EIO);
		return -1;
	}
	return len;
}

static int ws_send(struct layer *l, uint8_t opcode, const void *buf, size_t len)
{
	uint8_t small[4096 + 10];
	uint8_t hdr[10];
	size_t h = vnc_ws_frame_header(hdr, opcode, len);

	if (len <= 4096) {
		memcpy(small, hdr, h);
		if (len)
			memcpy(small + h, buf, len);
		return io_write(l->io, l->idx, small, h + len);
	}
	if (io_write(l->io, l->idx, hdr, h) < 0)
		return -1;
	return io_write(l->io, l->idx, buf, len);
}

static ssize_t ws_read(struct layer *l, void *buf, size_t len)
{
	if (l->eof)
		return 0;
	for (;;) {
		enum vnc_ws_event ev;
		size_t used, made;

		if (l->raw_pos == l->raw_len) {
			ssize_t r = io_read(l->io, l->idx, l->raw, WS_RAW_SIZE);

			l->raw_pos = l->raw_len = 0;
			if (r <= 0)
				return r;
			l->raw_len = r;
		}
		ev = vnc_ws_decode(&l->dec, l->raw + l->raw_pos, l->raw_len - l->raw_pos, &used,
				   buf, len, &made);
		l->raw_pos += used;
		switch (ev) {
		case VNC_WS_ERROR:
			vnc_io_set_error(l->io, "WebSocket: bad frame");
			return -1;
		case VNC_WS_PING:
			if (ws_send(l, 0xa, l->dec.ctl, l->dec.ctl_len) < 0)
				return -1;
			break;
		case VNC_WS_CLOSE:
			/* Echo the status code, if any, and end the stream. */
			ws_send(l, 0x8, l->dec.ctl, l->dec.ctl_len >= 2 ? 2 : 0);
			l->eof = true;
			return made;
		case VNC_WS_PONG:
		case VNC_WS_MORE:
			break;
		}
		if (made)
			return made;
	}
}

static ssize_t sasl_read(struct layer *l, void *buf, size_t len)
{
	uint8_t raw[SASL_RAW_SIZE];

	l->write_plain = false;
	while (l->dpos == l->dlen) {
		const char *out;
		unsigned int outlen;
		ssize_t r = io_read(l->io, l->idx, raw, sizeof(raw));

		if (r <= 0)
			return r;
		if (sasl_decode(l->sasl, (const char *)raw, r, &out, &outlen) != SASL_OK) {
			vnc_io_set_error(l->io, "SASL: decode: %s", sasl_errdetail(l->sasl));
			return -1;
		}
		if (!outlen)
			continue;
		if (outlen > l->dcap) {
			uint8_t *p = realloc(l->dbuf, outlen);

			if (!p) {
				vnc_io_set_error(l->io, "SASL: out of memory");
				return -1;
			}
			l->dbuf = p;
			l->dcap = outlen;
		}
		memcpy(l->dbuf, out, outlen);
		l->dpos = 0;
		l->dlen = outlen;
	}
	if (len > l->dlen - l->dpos)
		len = l->dlen - l->dpos;
	memcpy(buf, l->dbuf + l->dpos, len);
	l->dpos += len;
	return len;
}

static int sasl_write(struct layer *l, const void *buf, size_t len)
{
	const char *p = buf;

	if (l->write_plain)
		return io_write(l->io, l->idx, buf, len);
	while (len) {
		unsigned int n = len > l->maxout ? l->maxout : len, outlen;
		const char *out;

		if (sasl_encode(l->sasl, p, n, &out, &outlen) != SASL_OK) {
			vnc_io_set_error(l->io, "SASL: encode: %s", sasl_errdetail(l->sasl));
			return -1;
		}
		if (io_write(l->io, l->idx, out, outlen) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static ssize_t io_read(struct vnc_io *io, int n, void *buf, size_t len)
{
	struct layer *l;

	if (n == 0)
		return sock_read(io, buf, len);
	l = &io->layers[n - 1];
	switch (l->kind) {
	case L_TLS:
		return tls_read(l, buf, len);
	case L_WS:
		return ws_read(l, buf, len);
	case L_SASL:
		return sasl_read(l, buf, len);
	}
	return -1;
}

static int io_write(struct vnc_io *io, int n, const void *buf, size_t len)
{
	struct layer *l;

	if (n == 0)
		return sock_write(io, buf, len);
	l = &io->layers[n - 1];
	switch (l->kind) {
	case L_TLS:
		return tls_write(l, buf, len);
	case L_WS:
		/* One binary frame per write; big writes are split to bound frames. */
		while (len) {
			size_t k = len > VNC_WS_MAX_FRAME ? VNC_WS_MAX_FRAME : len;

			if (ws_send(l, 0x2, buf, k) < 0)
				return -1;
			buf = (const uint8_t *)buf + k;
			len -= k;
		}
		return 0;
	case L_SASL:
		return sasl_write(l, buf, len);
	}
	return -1;
}

ssize_t vnc_io_read(struct vnc_io *io, void *buf, size_t len)
{
	if (!len)
		return 0;
	return io_read(io, io->nlayers, buf, len);
}

int vnc_io_read_full(struct vnc_io *io, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = io_read(io, io->nlayers, p, len);

		if (r <= 0) {
			if (r == 0)
				vnc_io_set_error(io, "end of stream");
			return -1;
		}
		p += r;
		len -= r;
	}
	return 0;
}

int vnc_io_write(struct vnc_io *io, const void *buf, size_t len)
{
	if (!len)
		return 0;
	return io_write(io, io->nlayers, buf, len);
}

static struct layer *push_layer(struct vnc_io *io, enum layer_kind kind)
{
	struct layer *l;

	if (io->nlayers == MAX_LAYERS) {
		vnc_io_set_error(io, "too many layers");
		return NULL;
	}
	l = &io->layers[io->nlayers];
	memset(l, 0, sizeof(*l));
	l->io = io;
	l->idx = io->nlayers;
	l->kind = kind;
	return l;
}

/* ---- TLS -------------------------------------------------------------------------- */

static int file_check(const char *dir, const char *name, char *path, size_t plen,
		      char *err, size_t errlen)
{
	snprintf(path, plen, "%s/%s", dir, name);
	if (access(path, R_OK) < 0) {
		snprintf(err, errlen, "TLS: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct vnc_tls *vnc_tls_new(const char *dir, bool verify, char *err, size_t errlen)
{
	char ca[4096], cert[4096], key[4096];
	struct vnc_tls *t;
	int r;

	if (!dir && verify) {
		snprintf(err, errlen, "TLS: client certificates need x509 credentials");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	t->verify = verify;
	if (!dir) {
		r = gnutls_anon_allocate_server_credentials(&t->anon);
		if (r >= 0)
			r = gnutls_anon_set_server_known_dh_params(t->anon,
								   GNUTLS_SEC_PARAM_MEDIUM);
		if (r < 0) {
			snprintf(err, errlen, "TLS: anonymous credentials: %s", gnutls_strerror(r));
			goto fail;
		}
		return t;
	}
	t->x509 = true;
	if (file_check(dir, "ca-cert.pem", ca, sizeof(ca), err, errlen) < 0 ||
	    file_check(dir, "server-cert.pem", cert, sizeof(cert), err, errlen) < 0 ||
	    file_check(dir, "server-key.pem", key, sizeof(key), err, errlen) < 0)
		goto fail;
	r = gnutls_certificate_allocate_credentials(&t->cert);
	if (r < 0) {
		snprintf(err, errlen, "TLS: %s", gnutls_strerror(r));
		goto fail;
	}
	r = gnutls_certificate_set_x509_trust_file(t->cert, ca, GNUTLS_X509_FMT_PEM);
	if (r <= 0) {
		snprintf(err, errlen, "TLS: %s: %s", ca, r ? gnutls_strerror(r) : "no certificate");
		goto fail;
	}
	r = gnutls_certificate_set_x509_key_file(t->cert, cert, key, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		snprintf(err, errlen, "TLS: %s, %s: %s", cert, key, gnutls_strerror(r));
		goto fail;
	}
	r = gnutls_certificate_set_known_dh_params(t->cert, GNUTLS_SEC_PARAM_MEDIUM);
	if (r < 0) {
		snprintf(err, errlen, "TLS: DH parameters: %s", gnutls_strerror(r));
		goto fail;
	}
	return t;
fail:
	vnc_tls_free(t);
	return NULL;
}

void vnc_tls_free(struct vnc_tls *t)
{
	if (!t)
		return;
	if (t->cert)
		gnutls_certificate_free_credentials(t->cert);
	if (t->anon)
		gnutls_anon_free_server_credentials(t->anon);
	free(t);
}

bool vnc_tls_is_x509(const struct vnc_tls *t)
{
	return t->x509;
}

static int tls_verify_peer(struct vnc_io *io, gnutls_session_t sess)
{
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { 0 };
	unsigned int status = 0, n = 0;
	int r;

	if (gnutls_certificate_type_get(sess) != GNUTLS_CRT_X509) {
		vnc_io_set_error(io, "TLS: client certificate is not X.509");
		return -1;
	}
	r = gnutls_certificate_verify_peers3(sess, NULL, &status);
	if (r < 0 || status) {
		gnutls_datum_t msg = { 0 };

		if (r >= 0 && gnutls_certificate_verification_status_print(
			      status, GNUTLS_CRT_X509, &msg, 0) >= 0) {
			vnc_io_set_error(io, "TLS: client certificate: %s", (char *)msg.data);
			gnutls_free(msg.data);
		} else {
			vnc_io_set_error(io, "TLS: client certificate: %s",
					 r < 0 ? gnutls_strerror(r) : "not trusted");
		}
		return -1;
	}
	certs = gnutls_certificate_get_peers(sess, &n);
	if (!certs || !n) {
		vnc_io_set_error(io, "TLS: no client certificate");
		return -1;
	}
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	r = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER);
	if (r >= 0)
		r = gnutls_x509_crt_get_dn2(crt, &dn);
	gnutls_x509_crt_deinit(crt);
	if (r < 0) {
		vnc_io_set_error(io, "TLS: client certificate: %s", gnutls_strerror(r));
		return -1;
	}
	free(io->peer_dn);
	io->peer_dn = strndup((char *)dn.data, dn.size);
	gnutls_free(dn.data);
	return io->peer_dn ? 0 : -1;
}

int vnc_io_start_tls(struct vnc_io *io, struct vnc_tls *t)
{
	struct layer *l = push_layer(io, L_TLS);
	int r;

	if (!l)
		return -1;
	r = gnutls_init(&l->sess, GNUTLS_SERVER);
	if (r < 0) {
		vnc_io_set_error(io, "TLS: %s", gnutls_strerror(r));
		return -1;
	}
	r = gnutls_priority_set_direct(l->sess, t->x509 ? "NORMAL" : "NORMAL:+ANON-ECDH:+ANON-DH",
				       NULL);
	if (r >= 0)
		r = t->x509 ? gnutls_credentials_set(l->sess, GNUTLS_CRD_CERTIFICATE, t->cert)
			    : gnutls_credentials_set(l->sess, GNUTLS_CRD_ANON, t->anon);
	if (r < 0)
		goto fail;
	if (t->x509 && t->verify)
		gnutls_certificate_server_set_request(l->sess, GNUTLS_CERT_REQUIRE);
	gnutls_transport_set_ptr(l->sess, l);
	gnutls_transport_set_pull_function(l->sess, tls_pull);
	gnutls_transport_set_push_function(l->sess, tls_push);
	io->nlayers++;
	do
		r = gnutls_handshake(l->sess);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		io->nlayers--;
		goto fail;
	}
	if (t->x509 && t->verify && tls_verify_peer(io, l->sess) < 0) {
		io->nlayers--;
		layer_free(l);
		return -1;
	}
	return 0;
fail:
	vnc_io_set_error(io, "TLS: %s", gnutls_strerror(r));
	layer_free(l);
	return -1;
}

/* ---- SASL ------------------------------------------------------------------------- */

int vnc_io_push_sasl(struct vnc_io *io, void *conn)
{
	struct layer *l = push_layer(io, L_SASL);
	const void *v = NULL;

	if (!l)
		return -1;
	l->sasl = conn;
	l->maxout = 4096;
	if (sasl_getprop(l->sasl, SASL_MAXOUTBUF, &v) == SASL_OK && v &&
	    *(const unsigned int *)v > 0 && *(const unsigned int *)v < 65536)
		l->maxout = *(const unsigned int *)v;
	l->write_plain = true;
	io->nlayers++;
	return 0;
}

/* ---- WebSocket -------------------------------------------------------------------- */

size_t vnc_ws_request_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* Is @tok one of the comma-separated tokens of @v (@vlen bytes), ignoring case? */
static bool has_token(const char *v, size_t vlen, const char *tok)
{
	size_t tlen = strlen(tok), i = 0;

	while (i < vlen) {
		size_t s, e;

		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < vlen && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tlen && !strncasecmp(v + s, tok, tlen))
			return true;
	}
	return false;
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int vnc_ws_parse_request(const char *req, size_t len, char accept[29], bool *binary)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	bool upgrade = false, connection = false, version = false;
	const char *key = NULL;
	const char *p = req, *end = req + len;
	int line = 0;

	*binary = false;
	accept[0] = 0;
	if (len > VNC_WS_MAX_REQUEST || memchr(req, 0, len))
		return -1;
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *le, *colon, *v, *ve;
		size_t nlen;

		if (!eol || eol == p || eol[-1] != '\r')
			return -1;
		le = eol - 1;		/* at the '\r' */
		if (le == p)		/* the blank line ends the head */
			break;
		if (line++ == 0) {
			/* GET <target> HTTP/1.1 */
			const char *sp1 = memchr(p, ' ', le - p), *sp2;

			if (!sp1 || sp1 - p != 3 || memcmp(p, "GET", 3))
				return -1;
			sp2 = memchr(sp1 + 1, ' ', le - sp1 - 1);
			if (!sp2 || sp2 == sp1 + 1 || le - sp2 - 1 != 8 ||
			    memcmp(sp2 + 1, "HTTP/1.", 7) || sp2[8] < '1' || sp2[8] > '9')
				return -1;
			p = eol + 1;
			continue;
		}
		colon = memchr(p, ':', le - p);
		if (!colon || colon == p)
			return -1;
		nlen = colon - p;
		for (const char *c = p; c < colon; c++)
			if (*c <= ' ' || *c >= 127)
				return -1;
		v = colon + 1;
		ve = le;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
#define HDR(name) (nlen == sizeof(name) - 1 && !strncasecmp(p, name, nlen))
		if (HDR("Upgrade")) {
			upgrade |= has_token(v, ve - v, "websocket");
		} else if (HDR("Connection")) {
			connection |= has_token(v, ve - v, "upgrade");
		} else if (HDR("Sec-WebSocket-Version")) {
			if (version || ve - v != 2 || memcmp(v, "13", 2))
				return -1;
			version = true;
		} else if (HDR("Sec-WebSocket-Key")) {
			if (key || ve - v != 24)
				return -1;
			for (int i = 0; i < 22; i++)
				if (!is_b64(v[i]))
					return -1;
			if (v[22] != '=' || v[23] != '=')
				return -1;
			key = v;
		} else if (HDR("Sec-WebSocket-Protocol")) {
			*binary |= has_token(v, ve - v, "binary");
		}
#undef HDR
		p = eol + 1;
	}
	if (line == 0 || !upgrade || !connection || !version || !key)
		return -1;
	{
		struct sha1_ctx ctx;
		uint8_t digest[SHA1_DIGEST_SIZE];

		sha1_init(&ctx);
		sha1_update(&ctx, 24, (const uint8_t *)key);
		sha1_update(&ctx, sizeof(guid) - 1, (const uint8_t *)guid);
		sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
		base64_encode_raw(accept, SHA1_DIGEST_SIZE, digest);
		accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = 0;
	}
	return 0;
}

size_t vnc_ws_frame_header(uint8_t hdr[10], uint8_t opcode, uint64_t len)
{
	hdr[0] = 0x80 | (opcode & 0xf);
	if (len < 126) {
		hdr[1] = len;
		return 2;
	}
	if (len < 65536) {
		hdr[1] = 126;
		hdr[2] = len >> 8;
		hdr[3] = len;
		return 4;
	}
	hdr[1] = 127;
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = len >> (56 - 8 * i);
	return 10;
}

/* Bytes the header in d->hdr needs in all (valid once two are in). */
static unsigned int hdr_need(const struct vnc_ws_dec *d)
{
	unsigned int l7 = d->hdr[1] & 0x7f;

	return 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + 4;
}

static int frame_start(struct vnc_ws_dec *d)
{
	bool fin = d->hdr[0] & 0x80;
	uint8_t op = d->hdr[0] & 0xf;
	unsigned int l7 = d->hdr[1] & 0x7f, m;
	uint64_t len = l7;

	if (l7 == 126) {
		len = (uint64_t)d->hdr[2] << 8 | d->hdr[3];
	} else if (l7 == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | d->hdr[2 + i];
	}
	if (len > VNC_WS_MAX_FRAME)
		return -1;
	switch (op) {
	case 0x0:		/* continuation */
		if (!d->in_message)
			return -1;
		d->in_message = !fin;
		break;
	case 0x1:		/* text: old clients send base64-less data as text too */
	case 0x2:		/* binary */
		if (d->in_message)
			return -1;
		d->in_message = !fin;
		break;
	case 0x8:
	case 0x9:
	case 0xa:
		if (!fin || len > 125)
			return -1;
		break;
	default:
		return -1;
	}
	m = hdr_need(d) - 4;
	memcpy(d->mask, d->hdr + m, 4);
	d->mpos = 0;
	d->opcode = op;
	d->left = len;
	d->ctl_len = 0;
	d->hdr_len = 0;
	d->in_frame = true;
	return 0;
}

static enum vnc_ws_event frame_end(struct vnc_ws_dec *d)
{
	d->in_frame = false;
	switch (d->opcode) {
	case 0x8:
		return d->ctl_len == 1 ? VNC_WS_ERROR : VNC_WS_CLOSE;
	case 0x9:
		return VNC_WS_PING;
	case 0xa:
		return VNC_WS_PONG;
	default:
		return VNC_WS_MORE;
	}
}

enum vnc_ws_event vnc_ws_decode(struct vnc_ws_dec *d, const uint8_t *in, size_t inlen,
				size_t *used, uint8_t *out, size_t outlen, size_t *made)
{
	enum vnc_ws_event ev = VNC_WS_MORE;
	size_t i = 0, o = 0;

	while (i < inlen) {
		size_t n;

		if (o == outlen)	/* full: leave later frames (a close) for the next call */
			break;
		if (!d->in_frame) {
			d->hdr[d->hdr_len++] = in[i++];
			if (d->hdr_len == 2 && (d->hdr[0] & 0x70 || !(d->hdr[1] & 0x80))) {
				ev = VNC_WS_ERROR;	/* reserved bits, or not masked */
				break;
			}
			if (d->hdr_len < 2 || d->hdr_len < hdr_need(d))
				continue;
			if (frame_start(d) < 0) {
				ev = VNC_WS_ERROR;
				break;
			}
			if (!d->left) {
				ev = frame_end(d);
				if (ev != VNC_WS_MORE)
					break;
			}
			continue;
		}
		n = inlen - i;
		if (n > d->left)
			n = d->left;
		if (d->opcode & 0x8) {
			for (size_t k = 0; k < n; k++)
				d->ctl[d->ctl_len++] = in[i + k] ^ d->mask[d->mpos++ & 3];
		} else {
			if (n > outlen - o)
				n = outlen - o;
			for (size_t k = 0; k < n; k++)
				out[o + k] = in[i + k] ^ d->mask[d->mpos++ & 3];
			o += n;
		}
		i += n;
		d->left -= n;
		if (!d->left) {
			ev = frame_end(d);
			if (ev != VNC_WS_MORE)
				break;
		}
	}
	*used = i;
	*made = o;
	return ev;
}

int vnc_io_start_websocket(struct vnc_io *io)
{
	static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
				  "Connection: close\r\n"
				  "Sec-WebSocket-Version: 13\r\n"
				  "Content-Length: 0\r\n\r\n";
	char *req, accept[29], reply[256];
	size_t have = 0, end;
	struct layer *l;
	bool binary;
	int n;

	req = malloc(VNC_WS_MAX_REQUEST);
	if (!req) {
		vnc_io_set_error(io, "WebSocket: out of memory");
		return -1;
	}
	while (!(end = vnc_ws_request_end(req, have))) {
		ssize_t r;

		if (have == VNC_WS_MAX_REQUEST) {
			vnc_io_set_error(io, "WebSocket: request too long");
			goto bad_request;
		}
		r = io_read(io, io->nlayers, req + have, VNC_WS_MAX_REQUEST - have);
		if (r <= 0) {
			if (!r)
				vnc_io_set_error(io, "WebSocket: end of stream in the request");
			free(req);
			return -1;
		}
		have += r;
	}
	if (vnc_ws_parse_request(req, end, accept, &binary) < 0) {
		vnc_io_set_error(io, "WebSocket: bad upgrade request");
		goto bad_request;
	}
	n = snprintf(reply, sizeof(reply),
		     "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n%s\r\n",
		     accept, binary ? "Sec-WebSocket-Protocol: binary\r\n" : "");
	if (io_write(io, io->nlayers, reply, n) < 0)
		goto fail;
	l = push_layer(io, L_WS);
	if (!l)
		goto fail;
	l->raw = malloc(WS_RAW_SIZE);
	if (!l->raw) {
		vnc_io_set_error(io, "WebSocket: out of memory");
		goto fail;
	}
	/* Frames the client sent right behind its request. */
	memcpy(l->raw, req + end, have - end);
	l->raw_len = have - end;
	io->nlayers++;
	free(req);
	return 0;
bad_request:
	io_write(io, io->nlayers, bad, sizeof(bad) - 1);
fail:
	free(req);
	return -1;
}
