// SPDX-License-Identifier: GPL-2.0
/*
 * RFB authentication exchanges on a struct vnc_io: VNC authentication
 * (DES challenge/response), VeNCrypt (subtype negotiation, then TLS) and
 * SASL (cyrus-sasl, with its security layer when no TLS is underneath).
 * See vnc_io.h.  Every length the client sends is bounded before use.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/des.h>
#include <sasl/sasl.h>
#include "vnc_io.h"
#include "vnc_io_priv.h"

#define SASL_MAX_MECHNAME	100
#define SASL_MAX_DATA		65536
#define SASL_MAX_STEPS		32

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int read_be32(struct vnc_io *io, uint32_t *v)
{
	uint8_t b[4];

	if (vnc_io_read_full(io, b, 4) < 0)
		return -1;
	*v = get_be32(b);
	return 0;
}

static int write_be32(struct vnc_io *io, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	return vnc_io_write(io, b, 4);
}

/* ---- VNC authentication ----------------------------------------------------------- */

static uint8_t bitrev8(uint8_t b)
{
	b = (b & 0xf0) >> 4 | (b & 0x0f) << 4;
	b = (b & 0xcc) >> 2 | (b & 0x33) << 2;
	return (b & 0xaa) >> 1 | (b & 0x55) << 1;
}

int vnc_auth_vnc(struct vnc_io *io, const char *password)
{
	uint8_t challenge[16], response[16], expect[16], key[8] = { 0 }, diff = 0;
	struct des_ctx des;
	size_t plen = password ? strlen(password) : 0;
	int r;

	if (gnutls_rnd(GNUTLS_RND_RANDOM, challenge, sizeof(challenge)) < 0) {
		vnc_io_set_error(io, "VNC auth: no random numbers");
		return -1;
	}
	if (vnc_io_write(io, challenge, sizeof(challenge)) < 0 ||
	    vnc_io_read_full(io, response, sizeof(response)) < 0)
		return -1;
	/* The protocol's DES key: the first 8 bytes, each with its bits reversed. */
	for (size_t i = 0; i < 8 && i < plen; i++)
		key[i] = bitrev8(password[i]);
	des_set_key(&des, key);	/* a weak key (empty password) is still a key */
	des_encrypt(&des, sizeof(expect), expect, challenge);
	for (size_t i = 0; i < sizeof(expect); i++)
		diff |= expect[i] ^ response[i];
	r = diff ? -1 : 0;
	gnutls_memset(key, 0, sizeof(key));
	gnutls_memset(expect, 0, sizeof(expect));
	gnutls_memset(&des, 0, sizeof(des));
	if (r)
		vnc_io_set_error(io, "VNC auth: wrong password");
	return r;
}

/* ---- VeNCrypt --------------------------------------------------------------------- */

int vnc_auth_vencrypt(struct vnc_io *io, struct vnc_tls *tls, const int *subs, int nsub,
		      int *chosen)
{
	uint8_t ver[2] = { 0, 2 }, list[1 + 4 * 255], ok;
	uint32_t pick;
	bool x509;
	int i;

	if (nsub < 1 || nsub > 255 || !tls) {
		vnc_io_set_error(io, "VeNCrypt: no subtypes");
		return -1;
	}
	if (vnc_io_write(io, ver, 2) < 0 || vnc_io_read_full(io, ver, 2) < 0)
		return -1;
	ok = !(ver[0] == 0 && ver[1] == 2);
	if (vnc_io_write(io, &ok, 1) < 0)
		return -1;
	if (ok) {
		vnc_io_set_error(io, "VeNCrypt: client version %u.%u", ver[0], ver[1]);
		return -1;
	}
	list[0] = nsub;
	for (i = 0; i < nsub; i++)
		put_be32(list + 1 + 4 * i, subs[i]);
	if (vnc_io_write(io, list, 1 + 4 * nsub) < 0 || read_be32(io, &pick) < 0)
		return -1;
	for (i = 0; i < nsub; i++)
		if ((uint32_t)subs[i] == pick)
			break;
	x509 = pick == VENCRYPT_X509_NONE || pick == VENCRYPT_X509_VNC ||
	       pick == VENCRYPT_X509_SASL;
	ok = i < nsub && (x509 || pick == VENCRYPT_TLS_NONE || pick == VENCRYPT_TLS_VNC ||
			  pick == VENCRYPT_TLS_SASL) && x509 == vnc_tls_is_x509(tls);
	if (vnc_io_write(io, &ok, 1) < 0)
		return -1;
	if (!ok) {
		vnc_io_set_error(io, "VeNCrypt: subtype %u not offered", pick);
		return -1;
	}
	*chosen = pick;
	return vnc_io_start_tls(io, tls);
}

/* ---- SASL ------------------------------------------------------------------------- */

static bool sasl_ready;

int vnc_sasl_init(char *err, size_t errlen)
{
	int r;

	if (sasl_ready)
		return 0;
	r = sasl_server_init(NULL, "vnc");
	if (r != SASL_OK) {
		snprintf(err, errlen, "SASL: %s", sasl_errstring(r, NULL, NULL));
		return -1;
	}
	sasl_ready = true;
	return 0;
}

/* Send a server challenge: u32 length (0 = none) and the data with a NUL, as QEMU does. */
static int sasl_send(struct vnc_io *io, const char *out, unsigned int outlen)
{
	if (!out)
		return write_be32(io, 0);
	if (outlen > SASL_MAX_DATA) {
		vnc_io_set_error(io, "SASL: server data too long");
		return -1;
	}
	if (write_be32(io, outlen + 1) < 0 || vnc_io_write(io, out, outlen) < 0)
		return -1;
	return vnc_io_write(io, "", 1);
}

/*
 * Read client data: u32 length (0 = none) and the bytes; clients send a
 * trailing NUL that is not part of the data (gtk-vnc, as QEMU expects).
 */
static int sasl_recv(struct vnc_io *io, char **data, unsigned int *len)
{
	uint32_t n;

	*data = NULL;
	*len = 0;
	if (read_be32(io, &n) < 0)
		return -1;
	if (n > SASL_MAX_DATA) {
		vnc_io_set_error(io, "SASL: client data too long (%u)", n);
		return -1;
	}
	if (!n)
		return 0;
	*data = malloc(n);
	if (!*data || vnc_io_read_full(io, *data, n) < 0) {
		free(*data);
		*data = NULL;
		return -1;
	}
	(*data)[n - 1] = 0;
	*len = n - 1;
	return 0;
}

static bool mech_listed(const char *list, const char *mech)
{
	size_t n = strlen(mech);

	for (const char *p = list; (p = strstr(p, mech)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

int vnc_auth_sasl(struct vnc_io *io, bool secure, const char *local, const char *remote,
		  char **user)
{
	sasl_security_properties_t props = { .maxbufsize = 8192 };
	char mech[SASL_MAX_MECHNAME + 1], *data = NULL;
	const char *mechlist, *out;
	unsigned int mlen, outlen, dlen;
	sasl_conn_t *conn = NULL;
	const void *v;
	uint32_t n;
	int r, steps = 0;

	*user = NULL;
	if (!sasl_ready) {
		vnc_io_set_error(io, "SASL: not initialised");
		return -1;
	}
	r = sasl_server_new("vnc", NULL, NULL, local, remote, NULL, SASL_SUCCESS_DATA, &conn);
	if (r != SASL_OK) {
		vnc_io_set_error(io, "SASL: %s", sasl_errstring(r, NULL, NULL));
		return -1;
	}
	if (!secure) {
		/* No TLS underneath: a security layer is required. */
		props.min_ssf = 56;
		props.max_ssf = 100000;
		props.security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT;
	}
	r = sasl_setprop(conn, SASL_SEC_PROPS, &props);
	if (r == SASL_OK)
		r = sasl_listmech(conn, NULL, "", ",", "", &mechlist, &mlen, NULL);
	if (r != SASL_OK) {
		vnc_io_set_error(io, "SASL: mechanisms: %s", sasl_errdetail(conn));
		goto fail;
	}
	if (write_be32(io, mlen) < 0 || vnc_io_write(io, mechlist, mlen) < 0)
		goto fail;
	/* The client's mechanism: u32 length, then the name. */
	if (read_be32(io, &n) < 0)
		goto fail;
	if (n < 1 || n > SASL_MAX_MECHNAME) {
		vnc_io_set_error(io, "SASL: bad mechanism name length %u", n);
		goto fail;
	}
	if (vnc_io_read_full(io, mech, n) < 0)
		goto fail;
	mech[n] = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!isupper((unsigned char)mech[i]) && !isdigit((unsigned char)mech[i]) &&
		    mech[i] != '-' && mech[i] != '_') {
			vnc_io_set_error(io, "SASL: bad mechanism name");
			goto fail;
		}
	}
	if (!mech_listed(mechlist, mech)) {
		vnc_io_set_error(io, "SASL: mechanism %s not offered", mech);
		goto fail;
	}
	if (sasl_recv(io, &data, &dlen) < 0)
		goto fail;
	r = sasl_server_start(conn, mech, data, dlen, &out, &outlen);
	for (;;) {
		free(data);
		data = NULL;
		if (r != SASL_OK && r != SASL_CONTINUE) {
			vnc_io_set_error(io, "SASL: %s: %s", mech, sasl_errdetail(conn));
			goto fail;
		}
		if (sasl_send(io, out, outlen) < 0)
			goto fail;
		if (vnc_io_write(io, r == SASL_OK ? "\1" : "\0", 1) < 0)
			goto fail;
		if (r == SASL_OK)
			break;
		if (++steps > SASL_MAX_STEPS) {
			vnc_io_set_error(io, "SASL: too many steps");
			goto fail;
		}
		if (sasl_recv(io, &data, &dlen) < 0)
			goto fail;
		r = sasl_server_step(conn, data, dlen, &out, &outlen);
	}
	if (sasl_getprop(conn, SASL_USERNAME, &v) != SASL_OK || !v) {
		vnc_io_set_error(io, "SASL: no user name");
		goto fail;
	}
	*user = strdup(v);
	if (!*user)
		goto fail;
	if (!secure) {
		if (sasl_getprop(conn, SASL_SSF, &v) != SASL_OK || !v ||
		    *(const int *)v < 56) {
			vnc_io_set_error(io, "SASL: %s: security strength too low", mech);
			goto fail;
		}
		if (vnc_io_push_sasl(io, conn) < 0)
			goto fail;
		return 0;
	}
	sasl_dispose(&conn);
	return 0;
fail:
	free(data);
	free(*user);
	*user = NULL;
	sasl_dispose(&conn);
	return -1;
}
