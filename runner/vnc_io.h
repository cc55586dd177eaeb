/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VNC client connection's byte stream and the security layers that
 * wrap it (vnc_io.c, vnc_auth.c): plain socket, WebSocket (RFC 6455)
 * framing, TLS (GnuTLS) and SASL's integrity/privacy layer (cyrus-sasl).
 * Layers stack as the handshake adds them: socket -> [TLS] -> [WebSocket]
 * -> [TLS for VeNCrypt] -> [SASL].  All calls block; each connection is
 * used by one thread at a time.
 */
#ifndef KVL_RUNNER_VNC_IO_H
#define KVL_RUNNER_VNC_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vnc_io;

/* Take over connected socket @fd (closed by vnc_io_free()). NULL on ENOMEM. */
struct vnc_io *vnc_io_new(int fd);
void vnc_io_free(struct vnc_io *io);
int vnc_io_fd(const struct vnc_io *io);
/* Bytes are already decoded and buffered in some layer: read without polling the fd first. */
bool vnc_io_pending(const struct vnc_io *io);
/* Read 1..@len bytes (> 0), 0 at end of stream, -1 on error or a protocol violation of a layer. */
ssize_t vnc_io_read(struct vnc_io *io, void *buf, size_t len);
/* Exactly @len bytes: 0, or -1 (error or end of stream). */
int vnc_io_read_full(struct vnc_io *io, void *buf, size_t len);
/* All @len bytes: 0, or -1. */
int vnc_io_write(struct vnc_io *io, const void *buf, size_t len);
/* A short description of the last failure of this connection ("" if none). */
const char *vnc_io_error(const struct vnc_io *io);

/* TLS credentials from a directory (ca-cert.pem, server-cert.pem, server-key.pem), or anonymous DH. */
struct vnc_tls;
/*
 * @dir NULL: anonymous (TLSNone/TLSVnc/TLSSASL; browsers refuse it).
 * @verify: clients must present a certificate signed by ca-cert.pem.
 * NULL on failure with a message in @err.
 */
struct vnc_tls *vnc_tls_new(const char *dir, bool verify, char *err, size_t errlen);
void vnc_tls_free(struct vnc_tls *t);
bool vnc_tls_is_x509(const struct vnc_tls *t);
/* Server-side TLS handshake on @io (adds the TLS layer). 0, or -1 (vnc_io_error() says why). */
int vnc_io_start_tls(struct vnc_io *io, struct vnc_tls *t);
/*
 * Peek (without consuming) at the first byte on the bare socket: true if it
 * is 0x16, a TLS ClientHello (wss on a WebSocket port).  Blocks for it.
 */
bool vnc_io_peek_tls(struct vnc_io *io);
/* The verified client certificate's distinguished name, or NULL. */
const char *vnc_io_peer_dn(const struct vnc_io *io);

/*
 * Server side of the WebSocket upgrade (HTTP/1.1 GET with Upgrade:
 * websocket, version 13; any path; "binary" subprotocol echoed if offered),
 * then binary frames both ways (client frames must be masked; ping
 * answered, close honoured).  0, or -1 after sending a 400 reply.
 */
int vnc_io_start_websocket(struct vnc_io *io);

/* RFB security types and VeNCrypt subtypes. */
#define RFB_SEC_NONE		1
#define RFB_SEC_VNC		2
#define RFB_SEC_VENCRYPT	19
#define RFB_SEC_SASL		20
#define VENCRYPT_TLS_NONE	257
#define VENCRYPT_TLS_VNC	258
#define VENCRYPT_X509_NONE	260
#define VENCRYPT_X509_VNC	261
#define VENCRYPT_TLS_SASL	263
#define VENCRYPT_X509_SASL	264

/*
 * VNC authentication: send a random 16-byte challenge, read the client's
 * DES response and compare it, in constant time, with @password (first 8
 * bytes used, as the protocol defines).  0 if it matches, -1 otherwise.
 * The caller sends SecurityResult.
 */
int vnc_auth_vnc(struct vnc_io *io, const char *password);

/*
 * VeNCrypt (security type 19, already chosen by the client): version
 * 0.2, the list of @nsub subtypes @subs, the client's pick, the ack, and
 * the TLS handshake with @tls.  *@chosen receives the subtype.  0, or -1.
 */
int vnc_auth_vencrypt(struct vnc_io *io, struct vnc_tls *tls, const int *subs, int nsub,
		      int *chosen);

/* cyrus-sasl: sasl_server_init() for service "vnc" (once per process; 0 or -1). */
int vnc_sasl_init(char *err, size_t errlen);
/*
 * The SASL exchange (security type 20 or a *SASL VeNCrypt subtype):
 * mechanism list, start, steps.  @secure: the stream is already TLS or a
 * unix socket (no SSF needed); otherwise an SSF >= 56 is required and the
 * SASL layer is added to @io.  @local/@remote: "ip;port" strings for
 * cyrus-sasl (or NULL).  *@user receives the authenticated user name
 * (malloc()ed).  0 on success, -1 otherwise (the caller sends SecurityResult).
 */
int vnc_auth_sasl(struct vnc_io *io, bool secure, const char *local, const char *remote,
		  char **user);

#endif
