// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of runner/vnc_io.c and runner/vnc_auth.c: the server side on
 * one end of a socketpair, a client written here (GnuTLS client sessions,
 * libsasl2's client, nettle's DES, masked WebSocket frames) on the other,
 * in a thread.  Certificates (certtool) and a SASL password database
 * (saslpasswd2) are made at start-up in a temporary directory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <nettle/base64.h>
#include <nettle/des.h>
#include <nettle/sha1.h>
#include <sasl/sasl.h>
#include "kselftest_harness.h"
#include "../../runner/vnc_io.h"
#include "../../runner/vnc_ws.h"

/* ---- fixtures made once, in the harness's parent ---------------------------------- */

static char tmp[64], certs[128], sasl_dir[128];
static bool have_certs, have_sasl;
static pid_t creator;

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* A key and a certificate signed by the test CA, from template NAME.info. */
#define SIGN(name) \
	"certtool -p --key-type=ecdsa --outfile pki/" name "-key.pem && " \
	"certtool -c --load-privkey pki/" name "-key.pem --load-ca-certificate pki/ca-cert.pem " \
	"--load-ca-privkey pki/ca-key.pem --template " name ".info " \
	"--outfile pki/" name "-cert.pem"

__attribute__((constructor)) static void make_fixtures(void)
{
	strcpy(tmp, "/tmp/kvl-vncio-XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	creator = getpid();
	snprintf(certs, sizeof(certs), "%s/pki", tmp);
	snprintf(sasl_dir, sizeof(sasl_dir), "%s/sasl", tmp);
	mkdir(certs, 0700);
	mkdir(sasl_dir, 0700);
	put_file(tmp, "ca.info", "cn = kvl test CA\nca\ncert_signing_key\nexpiration_days = 2\n");
	put_file(tmp, "server.info", "organization = kvl\ncn = localhost\ndns_name = localhost\n"
		 "ip_address = 127.0.0.1\ntls_www_server\nencryption_key\nsigning_key\n"
		 "expiration_days = 2\n");
	put_file(tmp, "client.info", "organization = kvl\ncn = kvl client\ntls_www_client\n"
		 "encryption_key\nsigning_key\nexpiration_days = 2\n");
	/* certtool is chatty: its output goes to /dev/null. */
	have_certs = !sh("cd %s && (certtool -p --key-type=ecdsa --outfile pki/ca-key.pem && "
			 "certtool -s --load-privkey pki/ca-key.pem --template ca.info "
			 "--outfile pki/ca-cert.pem && " SIGN("server") " && " SIGN("client")
			 ") >/dev/null 2>&1", tmp);
	{
		char conf[512];

		snprintf(conf, sizeof(conf), "mech_list: SCRAM-SHA-256 DIGEST-MD5 PLAIN\n"
			 "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
			 "sasldb_path: %s/sasldb2\n", sasl_dir);
		put_file(sasl_dir, "vnc.conf", conf);
	}
	have_sasl = !sh("echo -n s3cret | saslpasswd2 -f %s/sasldb2 -a vnc -c -p alice",
			sasl_dir);
}

__attribute__((destructor)) static void remove_fixtures(void)
{
	if (getpid() == creator && tmp[0])
		sh("rm -rf %s", tmp);
}

/* ---- the client --------------------------------------------------------------------- */

struct cli {
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t xcred;
	gnutls_anon_client_credentials_t acred;
	bool ws;
	uint8_t wbuf[1 << 16];		/* a server frame's payload not yet read */
	size_t wpos, wlen;
	sasl_conn_t *sasl;
	bool sasl_on;
	uint8_t sbuf[1 << 16];
	size_t spos, slen;
};

static int raw_write(struct cli *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = c->tls ? gnutls_record_send(c->tls, p, len)
				   : send(c->fd, p, len, MSG_NOSIGNAL);

		if (r <= 0)
			return -1;
		p += r;
		len -= r;
	}
	return 0;
}

static ssize_t raw_read(struct cli *c, void *buf, size_t len)
{
	return c->tls ? gnutls_record_recv(c->tls, buf, len) : read(c->fd, buf, len);
}

static int raw_read_full(struct cli *c, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = raw_read(c, p, len);

		if (r <= 0)
			return -1;
		p += r;
		len -= r;
	}
	return 0;
}

/* One masked client frame. */
static int ws_frame(struct cli *c, uint8_t b0, const void *buf, size_t len, bool masked)
{
	uint8_t *f = malloc(len + 14), mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t h = 2;
	int r;

	f[0] = b0;
	if (len < 126) {
		f[1] = len;
	} else if (len < 65536) {
		f[1] = 126;
		f[2] = len >> 8;
		f[3] = len;
		h = 4;
	} else {
		f[1] = 127;
		for (int i = 0; i < 8; i++)
			f[2 + i] = (uint64_t)len >> (56 - 8 * i);
		h = 10;
	}
	if (masked) {
		f[1] |= 0x80;
		memcpy(f + h, mask, 4);
		h += 4;
	}
	for (size_t i = 0; i < len; i++)
		f[h + i] = ((const uint8_t *)buf)[i] ^ (masked ? mask[i & 3] : 0);
	r = raw_write(c, f, h + len);
	free(f);
	return r;
}

/* A server frame: its opcode (and payload in wbuf), or -1. */
static int ws_read_frame(struct cli *c)
{
	uint8_t h[10];
	uint64_t len;

	if (raw_read_full(c, h, 2) < 0 || (h[1] & 0x80) || !(h[0] & 0x80))
		return -1;
	len = h[1] & 0x7f;
	if (len == 126) {
		if (raw_read_full(c, h + 2, 2) < 0)
			return -1;
		len = h[2] << 8 | h[3];
	} else if (len == 127) {
		if (raw_read_full(c, h + 2, 8) < 0)
			return -1;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
	}
	if (len > sizeof(c->wbuf) || raw_read_full(c, c->wbuf, len) < 0)
		return -1;
	c->wpos = 0;
	c->wlen = len;
	return h[0] & 0xf;
}

static ssize_t ws_read(struct cli *c, void *buf, size_t len)
{
	while (c->wpos == c->wlen) {
		int op = ws_read_frame(c);

		if (op < 0 || op == 8)
			return -1;
		if (op != 2)
			return -1;
	}
	if (len > c->wlen - c->wpos)
		len = c->wlen - c->wpos;
	memcpy(buf, c->wbuf + c->wpos, len);
	c->wpos += len;
	return len;
}

static int mid_write(struct cli *c, const void *buf, size_t len)
{
	return c->ws ? ws_frame(c, 0x82, buf, len, true) : raw_write(c, buf, len);
}

static ssize_t mid_read(struct cli *c, void *buf, size_t len)
{
	return c->ws ? ws_read(c, buf, len) : raw_read(c, buf, len);
}

static int c_write(struct cli *c, const void *buf, size_t len)
{
	const char *out;
	unsigned int outlen;

	if (!c->sasl_on)
		return mid_write(c, buf, len);
	if (sasl_encode(c->sasl, buf, len, &out, &outlen) != SASL_OK)
		return -1;
	return mid_write(c, out, outlen);
}

static int c_read_full(struct cli *c, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r;

		if (c->sasl_on) {
			while (c->spos == c->slen) {
				uint8_t raw[8192];
				const char *out;
				unsigned int outlen;

				r = mid_read(c, raw, sizeof(raw));
				if (r <= 0 || sasl_decode(c->sasl, (char *)raw, r, &out,
							  &outlen) != SASL_OK ||
				    outlen > sizeof(c->sbuf))
					return -1;
				memcpy(c->sbuf, out, outlen);
				c->spos = 0;
				c->slen = outlen;
			}
			r = c->slen - c->spos < len ? c->slen - c->spos : len;
			memcpy(p, c->sbuf + c->spos, r);
			c->spos += r;
		} else {
			r = mid_read(c, p, len);
			if (r <= 0)
				return -1;
		}
		p += r;
		len -= r;
	}
	return 0;
}

static int c_u32(struct cli *c, uint32_t *v)
{
	uint8_t b[4];

	if (c_read_full(c, b, 4) < 0)
		return -1;
	*v = (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	return 0;
}

static int c_put32(struct cli *c, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	return c_write(c, b, 4);
}

enum { TLS_ANON, TLS_X509, TLS_X509_CLIENT };

static int c_start_tls(struct cli *c, int kind)
{
	char path[256], key[256];
	int r;

	if (gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) < 0)
		return -1;
	if (kind == TLS_ANON) {
		gnutls_anon_allocate_client_credentials(&c->acred);
		gnutls_priority_set_direct(c->tls, "NORMAL:+ANON-ECDH:+ANON-DH", NULL);
		gnutls_credentials_set(c->tls, GNUTLS_CRD_ANON, c->acred);
	} else {
		gnutls_certificate_allocate_credentials(&c->xcred);
		snprintf(path, sizeof(path), "%s/ca-cert.pem", certs);
		if (gnutls_certificate_set_x509_trust_file(c->xcred, path,
							   GNUTLS_X509_FMT_PEM) <= 0)
			return -1;
		if (kind == TLS_X509_CLIENT) {
			snprintf(path, sizeof(path), "%s/client-cert.pem", certs);
			snprintf(key, sizeof(key), "%s/client-key.pem", certs);
			if (gnutls_certificate_set_x509_key_file(c->xcred, path, key,
								 GNUTLS_X509_FMT_PEM) < 0)
				return -1;
		}
		gnutls_priority_set_direct(c->tls, "NORMAL", NULL);
		gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->xcred);
		gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, "localhost", 9);
		/* The server's certificate must check out for "localhost". */
		gnutls_session_set_verify_cert(c->tls, "localhost", 0);
	}
	gnutls_transport_set_int(c->tls, c->fd);
	do
		r = gnutls_handshake(c->tls);
	while (r < 0 && !gnutls_error_is_fatal(r));
	return r < 0 ? -1 : 0;
}

static void c_free(struct cli *c)
{
	if (c->sasl)
		sasl_dispose(&c->sasl);
	if (c->tls)
		gnutls_deinit(c->tls);
	if (c->xcred)
		gnutls_certificate_free_credentials(c->xcred);
	if (c->acred)
		gnutls_anon_free_client_credentials(c->acred);
	close(c->fd);
	free(c);
}

/* ---- running a client beside the server ------------------------------------------ */

struct run {
	pthread_t th;
	struct cli *c;
	int (*fn)(struct cli *c, void *arg);
	void *arg;
	int result;
};

static void *client_main(void *p)
{
	struct run *r = p;

	r->result = r->fn(r->c, r->arg);
	/* Close at once so the server sees the end of the stream. */
	shutdown(r->c->fd, SHUT_RDWR);
	return NULL;
}

/* The server's io; the client runs @fn(arg) on the other end. */
static struct vnc_io *start(struct run *r, int (*fn)(struct cli *, void *), void *arg)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	r->c = calloc(1, sizeof(*r->c));
	r->c->fd = sv[1];
	r->fn = fn;
	r->arg = arg;
	if (pthread_create(&r->th, NULL, client_main, r))
		abort();
	return vnc_io_new(sv[0]);
}

/* Free the server's io, wait for the client: its result. */
static int finish(struct run *r, struct vnc_io *io)
{
	vnc_io_free(io);
	pthread_join(r->th, NULL);
	c_free(r->c);
	return r->result;
}

/* Echo test over whatever stack: the client sends "ping", expects "pong!". */
static int c_echo(struct cli *c)
{
	char buf[5];

	if (c_write(c, "ping", 4) < 0 || c_read_full(c, buf, 5) < 0)
		return -1;
	return memcmp(buf, "pong!", 5) ? -1 : 0;
}

static int s_echo(struct vnc_io *io)
{
	char buf[4];

	if (vnc_io_read_full(io, buf, 4) < 0 || memcmp(buf, "ping", 4))
		return -1;
	return vnc_io_write(io, "pong!", 5);
}

/* ---- plain ------------------------------------------------------------------------ */

static int c_plain(struct cli *c, void *arg)
{
	(void)arg;
	return c_echo(c);
}

TEST(plain_read_write)
{
	struct run r;
	struct vnc_io *io = start(&r, c_plain, NULL);
	char buf[8];

	ASSERT_NE(NULL, io);
	EXPECT_FALSE(vnc_io_pending(io));
	EXPECT_EQ(0, s_echo(io));
	/* The client closed: end of stream. */
	EXPECT_EQ(0, vnc_io_read(io, buf, sizeof(buf)));
	EXPECT_EQ(-1, vnc_io_read_full(io, buf, 1));
	EXPECT_STRNE("", vnc_io_error(io));
	EXPECT_EQ(0, finish(&r, io));
}

/* ---- VNC authentication ------------------------------------------------------------ */

static uint8_t rev(uint8_t b)
{
	uint8_t o = 0;

	for (int i = 0; i < 8; i++)
		if (b & (1 << i))
			o |= 0x80 >> i;
	return o;
}

static int c_vncauth(struct cli *c, void *arg)
{
	const char *pw = arg;
	uint8_t ch[16], resp[16], key[8] = { 0 };
	struct des_ctx des;

	if (c_read_full(c, ch, 16) < 0)
		return -1;
	for (int i = 0; i < 8 && pw[i]; i++)
		key[i] = rev(pw[i]);
	des_set_key(&des, key);
	des_encrypt(&des, 16, resp, ch);
	return c_write(c, resp, 16);
}

TEST(vnc_auth_password)
{
	struct run r;
	struct vnc_io *io;

	/* Only the first 8 characters count. */
	io = start(&r, c_vncauth, "password-and-more");
	EXPECT_EQ(0, vnc_auth_vnc(io, "password"));
	EXPECT_EQ(0, finish(&r, io));

	io = start(&r, c_vncauth, "passwore");
	EXPECT_EQ(-1, vnc_auth_vnc(io, "password"));
	EXPECT_EQ(0, finish(&r, io));

	io = start(&r, c_vncauth, "");
	EXPECT_EQ(-1, vnc_auth_vnc(io, "x"));
	EXPECT_EQ(0, finish(&r, io));
}

/* ---- VeNCrypt and TLS ------------------------------------------------------------- */

struct venc {
	uint32_t pick;
	int tls;		/* TLS_* */
	const char *pw;		/* VNC auth inside, or NULL */
	uint8_t ack;
	int nsub;
};

static int c_vencrypt(struct cli *c, void *arg)
{
	struct venc *v = arg;
	uint8_t ver[2], st, n, list[4 * 255];

	if (c_read_full(c, ver, 2) < 0 || ver[0] != 0 || ver[1] != 2)
		return -1;
	if (c_write(c, ver, 2) < 0 || c_read_full(c, &st, 1) < 0 || st != 0)
		return -1;
	if (c_read_full(c, &n, 1) < 0 || c_read_full(c, list, 4 * n) < 0)
		return -1;
	v->nsub = n;
	if (c_put32(c, v->pick) < 0 || c_read_full(c, &v->ack, 1) < 0)
		return -1;
	if (v->ack != 1)
		return 0;
	if (c_start_tls(c, v->tls) < 0)
		return -2;
	if (v->pw && c_vncauth(c, (void *)v->pw) < 0)
		return -1;
	return c_echo(c);
}

static struct vnc_tls *x509(bool verify)
{
	char err[256];
	struct vnc_tls *t = vnc_tls_new(certs, verify, err, sizeof(err));

	if (!t)
		fprintf(stderr, "# %s\n", err);
	return t;
}

static const int subs[] = { VENCRYPT_X509_NONE, VENCRYPT_X509_VNC, VENCRYPT_X509_SASL };

TEST(vencrypt_x509_none)
{
	struct venc v = { .pick = VENCRYPT_X509_NONE, .tls = TLS_X509 };
	struct vnc_tls *t;
	struct run r;
	struct vnc_io *io;
	int chosen = 0;

	if (!have_certs)
		SKIP(return, "certtool failed");
	t = x509(false);
	ASSERT_NE(NULL, t);
	EXPECT_TRUE(vnc_tls_is_x509(t));
	io = start(&r, c_vencrypt, &v);
	ASSERT_EQ(0, vnc_auth_vencrypt(io, t, subs, 3, &chosen)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(VENCRYPT_X509_NONE, chosen);
	{
		/* One record of 4 bytes, read 1 then 3: TLS holds the rest. */
		char buf[4];

		ASSERT_EQ(1, vnc_io_read(io, buf, 1));
		EXPECT_TRUE(vnc_io_pending(io));
		ASSERT_EQ(0, vnc_io_read_full(io, buf + 1, 3));
		EXPECT_EQ(0, memcmp(buf, "ping", 4));
		EXPECT_FALSE(vnc_io_pending(io));
		EXPECT_EQ(0, vnc_io_write(io, "pong!", 5));
	}
	EXPECT_EQ(NULL, vnc_io_peer_dn(io));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_EQ(3, v.nsub);
	EXPECT_EQ(1, v.ack);
	vnc_tls_free(t);
}

TEST(vencrypt_x509_vnc)
{
	struct venc v = { .pick = VENCRYPT_X509_VNC, .tls = TLS_X509, .pw = "sesame" };
	struct vnc_tls *t;
	struct run r;
	struct vnc_io *io;
	int chosen = 0;

	if (!have_certs)
		SKIP(return, "certtool failed");
	t = x509(false);
	ASSERT_NE(NULL, t);
	io = start(&r, c_vencrypt, &v);
	ASSERT_EQ(0, vnc_auth_vencrypt(io, t, subs, 3, &chosen)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(VENCRYPT_X509_VNC, chosen);
	EXPECT_EQ(0, vnc_auth_vnc(io, "sesame"));
	EXPECT_EQ(0, s_echo(io));
	EXPECT_EQ(0, finish(&r, io));
	vnc_tls_free(t);
}

TEST(vencrypt_tls_none_anonymous)
{
	static const int anon[] = { VENCRYPT_TLS_NONE, VENCRYPT_TLS_VNC };
	struct venc v = { .pick = VENCRYPT_TLS_NONE, .tls = TLS_ANON };
	char err[128];
	struct vnc_tls *t = vnc_tls_new(NULL, false, err, sizeof(err));
	struct run r;
	struct vnc_io *io;
	int chosen = 0;

	ASSERT_NE(NULL, t) TH_LOG("%s", err);
	EXPECT_FALSE(vnc_tls_is_x509(t));
	io = start(&r, c_vencrypt, &v);
	ASSERT_EQ(0, vnc_auth_vencrypt(io, t, anon, 2, &chosen)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(VENCRYPT_TLS_NONE, chosen);
	EXPECT_EQ(0, s_echo(io));
	EXPECT_EQ(0, finish(&r, io));
	vnc_tls_free(t);
	/* Anonymous credentials cannot check client certificates. */
	EXPECT_EQ(NULL, vnc_tls_new(NULL, true, err, sizeof(err)));
}

TEST(vencrypt_pick_not_offered)
{
	static const int one[] = { VENCRYPT_X509_VNC };
	struct venc v = { .pick = VENCRYPT_X509_NONE, .tls = TLS_X509 };
	struct vnc_tls *t;
	struct run r;
	struct vnc_io *io;
	int chosen = 0;

	if (!have_certs)
		SKIP(return, "certtool failed");
	t = x509(false);
	ASSERT_NE(NULL, t);
	io = start(&r, c_vencrypt, &v);
	EXPECT_EQ(-1, vnc_auth_vencrypt(io, t, one, 1, &chosen));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_EQ(0, v.ack);
	EXPECT_EQ(1, v.nsub);
	/* An anonymous subtype on x509 credentials is refused too. */
	v = (struct venc){ .pick = VENCRYPT_TLS_NONE, .tls = TLS_ANON };
	{
		static const int mixed[] = { VENCRYPT_TLS_NONE, VENCRYPT_X509_NONE };

		io = start(&r, c_vencrypt, &v);
		EXPECT_EQ(-1, vnc_auth_vencrypt(io, t, mixed, 2, &chosen));
		EXPECT_EQ(0, finish(&r, io));
		EXPECT_EQ(0, v.ack);
	}
	vnc_tls_free(t);
}

static int c_bad_version(struct cli *c, void *arg)
{
	uint8_t ver[2], st = 0;

	(void)arg;
	if (c_read_full(c, ver, 2) < 0)
		return -1;
	ver[1] = 1;
	if (c_write(c, ver, 2) < 0 || c_read_full(c, &st, 1) < 0)
		return -1;
	return st;
}

TEST(vencrypt_bad_version)
{
	struct vnc_tls *t;
	struct run r;
	struct vnc_io *io;
	int chosen;

	if (!have_certs)
		SKIP(return, "certtool failed");
	t = x509(false);
	io = start(&r, c_bad_version, NULL);
	EXPECT_EQ(-1, vnc_auth_vencrypt(io, t, subs, 3, &chosen));
	EXPECT_NE(0, finish(&r, io));		/* a nonzero status byte */
	vnc_tls_free(t);
}

TEST(x509_verify_client_certificate)
{
	struct venc v = { .pick = VENCRYPT_X509_NONE, .tls = TLS_X509_CLIENT };
	struct vnc_tls *t;
	struct run r;
	struct vnc_io *io;
	int chosen = 0;

	if (!have_certs)
		SKIP(return, "certtool failed");
	t = x509(true);
	ASSERT_NE(NULL, t);
	io = start(&r, c_vencrypt, &v);
	ASSERT_EQ(0, vnc_auth_vencrypt(io, t, subs, 3, &chosen)) TH_LOG("%s", vnc_io_error(io));
	ASSERT_NE(NULL, vnc_io_peer_dn(io));
	EXPECT_NE(NULL, strstr(vnc_io_peer_dn(io), "CN=kvl client")) TH_LOG("%s",
									 vnc_io_peer_dn(io));
	EXPECT_EQ(0, s_echo(io));
	EXPECT_EQ(0, finish(&r, io));

	/* No client certificate: the handshake fails. */
	v = (struct venc){ .pick = VENCRYPT_X509_NONE, .tls = TLS_X509 };
	io = start(&r, c_vencrypt, &v);
	EXPECT_EQ(-1, vnc_auth_vencrypt(io, t, subs, 3, &chosen));
	EXPECT_STRNE("", vnc_io_error(io));
	EXPECT_EQ(NULL, vnc_io_peer_dn(io));
	EXPECT_GT(0, finish(&r, io));
	vnc_tls_free(t);
}

TEST(tls_missing_files)
{
	char dir[256], err[512], cmd[600];

	if (!have_certs)
		SKIP(return, "certtool failed");
	snprintf(dir, sizeof(dir), "%s/partial-%d", tmp, (int)getpid());
	mkdir(dir, 0700);
	EXPECT_EQ(NULL, vnc_tls_new(dir, false, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "ca-cert.pem")) TH_LOG("%s", err);
	snprintf(cmd, sizeof(cmd), "cp %s/ca-cert.pem %s/server-cert.pem %s/", certs, certs, dir);
	ASSERT_EQ(0, system(cmd));
	EXPECT_EQ(NULL, vnc_tls_new(dir, false, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "server-key.pem")) TH_LOG("%s", err);
	/* A key that does not match the certificate. */
	snprintf(cmd, sizeof(cmd), "cp %s/client-key.pem %s/server-key.pem", certs, dir);
	ASSERT_EQ(0, system(cmd));
	EXPECT_EQ(NULL, vnc_tls_new(dir, false, err, sizeof(err)));
	EXPECT_STRNE("", err);
}

/* ---- SASL ------------------------------------------------------------------------- */

#define BIG_LAYER_DATA 40000

struct sasl_cli {
	const char *mech;	/* forced, or NULL: the server's list */
	const char *user, *pass;
	bool secure;		/* no layer wanted */
	bool tls;		/* VeNCrypt X509SASL first */
	char mechlist[256];
	uint32_t result;
	const char *fake_len;	/* send a bogus mechanism name length */
};

static int cb_user(void *ctx, int id, const char **res, unsigned int *len)
{
	struct sasl_cli *s = ctx;

	(void)id;
	*res = s->user;
	if (len)
		*len = strlen(s->user);
	return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **ps)
{
	static __thread union { sasl_secret_t s; char b[sizeof(sasl_secret_t) + 64]; } sec;
	struct sasl_cli *s = ctx;

	(void)conn;
	(void)id;
	sec.s.len = strlen(s->pass);
	memcpy(sec.s.data, s->pass, sec.s.len + 1);
	*ps = &sec.s;
	return SASL_OK;
}

static int c_send_data(struct cli *c, const char *d, unsigned int n)
{
	if (!d)
		return c_put32(c, 0);
	if (c_put32(c, n + 1) < 0 || c_write(c, d, n) < 0)
		return -1;
	return c_write(c, "", 1);
}

static int c_sasl(struct cli *c, void *arg)
{
	struct sasl_cli *s = arg;
	sasl_callback_t cbs[] = {
		{ SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))cb_user, s },
		{ SASL_CB_USER, (int (*)(void))(void (*)(void))cb_user, s },
		{ SASL_CB_PASS, (int (*)(void))(void (*)(void))cb_pass, s },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_security_properties_t props = { .maxbufsize = 8192 };
	const char *out, *mech;
	unsigned int outlen;
	uint32_t n;
	char in[4096];
	uint8_t complete;
	int r;

	if (s->tls) {
		struct venc v = { .pick = VENCRYPT_X509_SASL, .tls = TLS_X509 };
		uint8_t ver[2], st, nsub, list[4 * 255];

		if (c_read_full(c, ver, 2) < 0 || c_write(c, ver, 2) < 0 ||
		    c_read_full(c, &st, 1) < 0 || c_read_full(c, &nsub, 1) < 0 ||
		    c_read_full(c, list, 4 * nsub) < 0 || c_put32(c, v.pick) < 0 ||
		    c_read_full(c, &st, 1) < 0 || st != 1 || c_start_tls(c, v.tls) < 0)
			return -1;
	}
	if (c_u32(c, &n) < 0 || n >= sizeof(s->mechlist) || c_read_full(c, s->mechlist, n) < 0)
		return -1;
	s->mechlist[n] = 0;
	if (s->fake_len) {
		c_write(c, s->fake_len, 4);
		return 0;
	}
	if (sasl_client_new("vnc", "localhost", NULL, NULL, cbs, 0, &c->sasl) != SASL_OK)
		return -1;
	if (!s->secure) {
		props.min_ssf = 56;
		props.max_ssf = 100000;
	}
	sasl_setprop(c->sasl, SASL_SEC_PROPS, &props);
	r = sasl_client_start(c->sasl, s->mech ? s->mech : s->mechlist, NULL, &out, &outlen,
			      &mech);
	if (r != SASL_OK && r != SASL_CONTINUE)
		return -3;
	if (c_put32(c, strlen(mech)) < 0 || c_write(c, mech, strlen(mech)) < 0 ||
	    c_send_data(c, out, outlen) < 0)
		return -1;
	for (;;) {
		if (c_u32(c, &n) < 0 || n > sizeof(in) || (n && c_read_full(c, in, n) < 0) ||
		    c_read_full(c, &complete, 1) < 0)
			return -1;
		if (n && in[n - 1])
			return -1;
		if (complete && !n)
			break;
		r = sasl_client_step(c->sasl, n ? in : NULL, n ? n - 1 : 0, NULL, &out, &outlen);
		if (r != SASL_OK && r != SASL_CONTINUE)
			return -4;
		if (complete)
			break;
		if (c_send_data(c, out, outlen) < 0)
			return -1;
	}
	/* SecurityResult comes in clear; after it, the layer if any. */
	if (c_u32(c, &s->result) < 0)
		return -1;
	if (s->result)
		return 0;
	if (!s->secure) {
		const void *v;

		if (sasl_getprop(c->sasl, SASL_SSF, &v) != SASL_OK || *(const int *)v < 56)
			return -5;
		c->sasl_on = true;
	}
	if (c_echo(c) < 0)
		return -1;
	if (!s->secure) {
		/* More than one SASL buffer's worth, the other way. */
		static uint8_t big[BIG_LAYER_DATA];

		if (c_read_full(c, big, sizeof(big)) < 0)
			return -6;
		for (size_t i = 0; i < sizeof(big); i++)
			if (big[i] != (uint8_t)(i * 13))
				return -7;
	}
	return 0;
}

static void sasl_setup(void)
{
	char err[128];

	sasl_set_path(SASL_PATH_TYPE_CONFIG, sasl_dir);
	if (vnc_sasl_init(err, sizeof(err)) < 0 || sasl_client_init(NULL) != SASL_OK)
		abort();
	/* Once is enough. */
	if (vnc_sasl_init(err, sizeof(err)) < 0)
		abort();
}

/* The server half: the exchange, SecurityResult, then the echo if it worked. */
static int s_sasl(struct vnc_io *io, bool secure, char **user)
{
	int r = vnc_auth_sasl(io, secure, "127.0.0.1;5900", "127.0.0.1;40000", user);
	uint8_t res[4] = { 0, 0, 0, !!r };

	if (vnc_io_write(io, res, 4) < 0)
		return -1;
	if (r)
		return r;
	if (s_echo(io) < 0)
		return -1;
	if (!secure) {
		static uint8_t big[BIG_LAYER_DATA];

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = i * 13;
		return vnc_io_write(io, big, sizeof(big));
	}
	return 0;
}

TEST(sasl_scram_password)
{
	struct sasl_cli s = { .mech = "SCRAM-SHA-256", .user = "alice", .pass = "s3cret",
			      .secure = true };
	struct run r;
	struct vnc_io *io;
	char *user = NULL;

	if (!have_sasl)
		SKIP(return, "saslpasswd2 failed");
	sasl_setup();
	io = start(&r, c_sasl, &s);
	EXPECT_EQ(0, s_sasl(io, true, &user)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_EQ(0, s.result);
	ASSERT_NE(NULL, user);
	EXPECT_STREQ("alice", user);
	free(user);
	EXPECT_NE(NULL, strstr(s.mechlist, "SCRAM-SHA-256")) TH_LOG("%s", s.mechlist);
	EXPECT_NE(NULL, strstr(s.mechlist, "PLAIN")) TH_LOG("%s", s.mechlist);

	s.pass = "wrong";
	s.result = 99;
	io = start(&r, c_sasl, &s);
	EXPECT_EQ(-1, s_sasl(io, true, &user));
	EXPECT_EQ(NULL, user);
	finish(&r, io);
	EXPECT_NE(0, s.result);
}

TEST(sasl_digest_layer_without_tls)
{
	struct sasl_cli s = { .mech = "DIGEST-MD5", .user = "alice", .pass = "s3cret" };
	struct run r;
	struct vnc_io *io;
	char *user = NULL;

	if (!have_sasl)
		SKIP(return, "saslpasswd2 failed");
	sasl_setup();
	io = start(&r, c_sasl, &s);
	EXPECT_EQ(0, s_sasl(io, false, &user)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_EQ(0, s.result);
	free(user);
	/* Not secure: only mechanisms with a security layer are offered. */
	EXPECT_EQ(NULL, strstr(s.mechlist, "PLAIN")) TH_LOG("%s", s.mechlist);
	EXPECT_EQ(NULL, strstr(s.mechlist, "SCRAM")) TH_LOG("%s", s.mechlist);
}

TEST(sasl_plain_needs_tls)
{
	struct sasl_cli s = { .mech = "PLAIN", .user = "alice", .pass = "s3cret",
			      .secure = true };
	struct vnc_tls *t;
	struct run r;
	struct vnc_io *io;
	char *user = NULL;
	int chosen;

	if (!have_sasl || !have_certs)
		SKIP(return, "saslpasswd2 or certtool failed");
	sasl_setup();
	/* In clear: refused (not offered). */
	io = start(&r, c_sasl, &s);
	EXPECT_EQ(-1, s_sasl(io, false, &user));
	finish(&r, io);
	EXPECT_EQ(NULL, user);
	/* Over VeNCrypt X509SASL: allowed. */
	t = x509(false);
	s.tls = true;
	io = start(&r, c_sasl, &s);
	ASSERT_EQ(0, vnc_auth_vencrypt(io, t, subs, 3, &chosen)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(VENCRYPT_X509_SASL, chosen);
	EXPECT_EQ(0, s_sasl(io, true, &user)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_EQ(0, s.result);
	ASSERT_NE(NULL, user);
	EXPECT_STREQ("alice", user);
	free(user);
	vnc_tls_free(t);
}

TEST(sasl_bounds)
{
	struct sasl_cli s = { .user = "alice", .pass = "s3cret", .secure = true,
			      .fake_len = "\0\0\0\x65" };	/* 101 */
	struct run r;
	struct vnc_io *io;
	char *user = NULL;

	if (!have_sasl)
		SKIP(return, "saslpasswd2 failed");
	sasl_setup();
	io = start(&r, c_sasl, &s);
	EXPECT_EQ(-1, vnc_auth_sasl(io, true, NULL, NULL, &user));
	EXPECT_NE(NULL, strstr(vnc_io_error(io), "length")) TH_LOG("%s", vnc_io_error(io));
	finish(&r, io);
	s.fake_len = "\xff\xff\xff\xff";
	io = start(&r, c_sasl, &s);
	EXPECT_EQ(-1, vnc_auth_sasl(io, true, NULL, NULL, &user));
	finish(&r, io);
	EXPECT_EQ(NULL, user);
}

/* ---- WebSocket -------------------------------------------------------------------- */

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define KEY_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="	/* RFC 6455 section 1.3 */

static const char good_req[] =
	"GET /websockify?token=1 HTTP/1.1\r\n"
	"Host: localhost:5700\r\n"
	"upgrade: WebSocket\r\n"
	"Connection: keep-alive, Upgrade\r\n"
	"Sec-WebSocket-Key: " KEY "\r\n"
	"Sec-WebSocket-Protocol: base64, binary\r\n"
	"sec-websocket-version: 13\r\n\r\n";

struct ws_cli {
	const char *req;
	char reply[1024];
	int (*then)(struct cli *c);
};

static int c_ws(struct cli *c, void *arg)
{
	struct ws_cli *w = arg;
	size_t n = 0;

	if (raw_write(c, w->req, strlen(w->req)) < 0)
		return -1;
	while (n < sizeof(w->reply) - 1 && !strstr(w->reply, "\r\n\r\n")) {
		if (raw_read(c, w->reply + n, 1) != 1)
			break;
		w->reply[++n] = 0;
	}
	if (strncmp(w->reply, "HTTP/1.1 101 ", 13))
		return 1;
	c->ws = true;
	return w->then ? w->then(c) : 0;
}

TEST(ws_accept_key)
{
	char accept[29];
	bool bin;

	ASSERT_EQ(0, vnc_ws_parse_request(good_req, strlen(good_req), accept, &bin));
	EXPECT_STREQ(KEY_ACCEPT, accept);
	EXPECT_TRUE(bin);
	EXPECT_EQ(strlen(good_req), vnc_ws_request_end(good_req, strlen(good_req)));
	EXPECT_EQ(0, vnc_ws_request_end(good_req, strlen(good_req) - 1));
}

TEST(ws_handshake)
{
	struct ws_cli w = { .req = good_req, .then = c_echo };
	struct run r;
	struct vnc_io *io = start(&r, c_ws, &w);

	ASSERT_EQ(0, vnc_io_start_websocket(io)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(0, s_echo(io));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_NE(NULL, strstr(w.reply, "Sec-WebSocket-Accept: " KEY_ACCEPT "\r\n"));
	EXPECT_NE(NULL, strstr(w.reply, "Sec-WebSocket-Protocol: binary\r\n"));
	EXPECT_NE(NULL, strstr(w.reply, "Upgrade: websocket\r\n"));

	/* No subprotocol offered: none echoed; any path is fine. */
	w.reply[0] = 0;
	w.req = "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n";
	io = start(&r, c_ws, &w);
	ASSERT_EQ(0, vnc_io_start_websocket(io)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(0, s_echo(io));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_EQ(NULL, strstr(w.reply, "Sec-WebSocket-Protocol"));
}

TEST(ws_bad_requests)
{
	static const char *const bad[] = {
		/* POST */
		"POST / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* HTTP/1.0 */
		"GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* no Upgrade */
		"GET / HTTP/1.1\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* Upgrade to something else */
		"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* Connection without upgrade */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* version 8 */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* no version */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: " KEY "\r\n\r\n",
		/* no key */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n",
		/* short key */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n\r\n",
		/* key not base64 */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\n\r\n",
		/* two keys */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n"
		"Sec-WebSocket-Key: " KEY "\r\n\r\n",
		/* a header line without a colon */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nbogus\r\n"
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* bare LF line ends */
		"GET / HTTP/1.1\nUpgrade: websocket\nConnection: Upgrade\n"
		"Sec-WebSocket-Version: 13\nSec-WebSocket-Key: " KEY "\r\n\r\n",
		/* not HTTP at all */
		"RFB 003.008\n\r\n\r\n",
	};
	char big[9000];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ws_cli w = { .req = bad[i] };
		struct run r;
		struct vnc_io *io = start(&r, c_ws, &w);

		EXPECT_EQ(-1, vnc_io_start_websocket(io)) TH_LOG("request %zu", i);
		EXPECT_EQ(1, finish(&r, io));
		EXPECT_EQ(0, strncmp(w.reply, "HTTP/1.1 400 ", 13)) TH_LOG("request %zu: %s", i,
									   w.reply);
	}
	/* A head over 8 KiB. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	big[sizeof(big) - 1] = 0;
	{
		struct ws_cli w = { .req = big };
		struct run r;
		struct vnc_io *io = start(&r, c_ws, &w);

		EXPECT_EQ(-1, vnc_io_start_websocket(io));
		EXPECT_EQ(1, finish(&r, io));
		EXPECT_EQ(0, strncmp(w.reply, "HTTP/1.1 400 ", 13));
	}
}

/* Fragments (text, then continuations, a ping between them), a large frame, close. */
static int c_ws_frames(struct cli *c)
{
	static uint8_t big[VNC_WS_MAX_FRAME];
	int op;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i * 7;
	if (ws_frame(c, 0x01, "he", 2, true) < 0 ||		/* text, not final */
	    ws_frame(c, 0x89, "hb", 2, true) < 0 ||		/* ping between fragments */
	    ws_frame(c, 0x00, "l", 1, true) < 0 ||		/* continuation */
	    ws_frame(c, 0x80, "lo", 2, true) < 0)		/* final continuation */
		return -1;
	op = ws_read_frame(c);
	if (op != 0xa || c->wlen != 2 || memcmp(c->wbuf, "hb", 2))
		return -2;
	if (ws_frame(c, 0x82, "", 0, true) < 0 ||		/* empty binary frame */
	    ws_frame(c, 0x82, big, sizeof(big), true) < 0)
		return -1;
	/* Close with status 1000: the server answers with a close frame. */
	if (ws_frame(c, 0x88, "\x03\xe8", 2, true) < 0)
		return -1;
	op = ws_read_frame(c);
	if (op != 2 || c->wlen != 3 || memcmp(c->wbuf, "ok!", 3))
		return -3;
	op = ws_read_frame(c);
	if (op != 8 || c->wlen != 2 || memcmp(c->wbuf, "\x03\xe8", 2))
		return -4;
	return 0;
}

TEST(ws_frames)
{
	struct ws_cli w = { .req = good_req, .then = c_ws_frames };
	struct run r;
	struct vnc_io *io = start(&r, c_ws, &w);
	static uint8_t big[VNC_WS_MAX_FRAME];
	char buf[5];

	ASSERT_EQ(0, vnc_io_start_websocket(io)) TH_LOG("%s", vnc_io_error(io));
	ASSERT_EQ(0, vnc_io_read_full(io, buf, 5)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(0, vnc_io_read_full(io, big, sizeof(big))) TH_LOG("%s", vnc_io_error(io));
	for (size_t i = 0; i < sizeof(big); i += 4099)
		ASSERT_EQ((uint8_t)(i * 7), big[i]);
	EXPECT_EQ(0, vnc_io_write(io, "ok!", 3));
	EXPECT_EQ(0, vnc_io_read(io, buf, 5));		/* closed */
	EXPECT_TRUE(vnc_io_pending(io));		/* the end of stream is ready at once */
	EXPECT_EQ(0, finish(&r, io));
}

static int c_ws_raw(struct cli *c, const uint8_t *b, size_t n)
{
	return raw_write(c, b, n);
}

static int c_ws_unmasked(struct cli *c)
{
	return ws_frame(c, 0x82, "abc", 3, false);
}

static int c_ws_too_big(struct cli *c)
{
	/* A header claiming 1 MiB + 1 bytes. */
	static const uint8_t h[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 1, 1, 2, 3, 4 };

	return c_ws_raw(c, h, sizeof(h));
}

static int c_ws_bad_seq(struct cli *c)
{
	/* A continuation with no message started. */
	return ws_frame(c, 0x80, "x", 1, true);
}

static int c_ws_rsv(struct cli *c)
{
	return ws_frame(c, 0xc2, "x", 1, true);
}

static int c_ws_long_ping(struct cli *c)
{
	static char p[126];

	return ws_frame(c, 0x89, p, sizeof(p), true);
}

static int c_ws_frag_ping(struct cli *c)
{
	return ws_frame(c, 0x09, "x", 1, true);
}

static int c_ws_interleave(struct cli *c)
{
	/* A new binary message inside an unfinished one. */
	if (ws_frame(c, 0x02, "a", 1, true) < 0)
		return -1;
	return ws_frame(c, 0x82, "b", 1, true);
}

TEST(ws_bad_frames)
{
	int (*const bad[])(struct cli *) = {
		c_ws_unmasked, c_ws_too_big, c_ws_bad_seq, c_ws_rsv, c_ws_long_ping,
		c_ws_frag_ping, c_ws_interleave,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ws_cli w = { .req = good_req, .then = bad[i] };
		struct run r;
		struct vnc_io *io = start(&r, c_ws, &w);
		char buf[8];
		ssize_t n;

		ASSERT_EQ(0, vnc_io_start_websocket(io));
		do
			n = vnc_io_read(io, buf, sizeof(buf));
		while (n > 0);
		EXPECT_EQ(-1, n) TH_LOG("frame %zu", i);
		EXPECT_NE(NULL, strstr(vnc_io_error(io), "WebSocket")) TH_LOG("%s",
									  vnc_io_error(io));
		finish(&r, io);
	}
}

TEST(ws_decoder_byte_by_byte)
{
	/* "Hello" in a masked text frame, RFC 6455 section 5.7, one byte at a time. */
	static const uint8_t f[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,
				     0x4d, 0x51, 0x58 };
	struct vnc_ws_dec d = { 0 };
	uint8_t out[8];
	size_t used, made, total = 0;

	for (size_t i = 0; i < sizeof(f); i++) {
		EXPECT_EQ(VNC_WS_MORE, vnc_ws_decode(&d, f + i, 1, &used, out + total,
						     sizeof(out) - total, &made));
		EXPECT_EQ(1, used);
		total += made;
	}
	ASSERT_EQ(5, total);
	EXPECT_EQ(0, memcmp(out, "Hello", 5));
}

static int c_wss(struct cli *c, void *arg)
{
	if (c_start_tls(c, TLS_X509) < 0)
		return -1;
	return c_ws(c, arg);
}

TEST(wss)
{
	struct ws_cli w = { .req = good_req, .then = c_echo };
	struct vnc_tls *t;
	struct run r;
	struct vnc_io *io;

	if (!have_certs)
		SKIP(return, "certtool failed");
	t = x509(false);
	io = start(&r, c_wss, &w);
	ASSERT_TRUE(vnc_io_peek_tls(io));
	ASSERT_EQ(0, vnc_io_start_tls(io, t)) TH_LOG("%s", vnc_io_error(io));
	ASSERT_EQ(0, vnc_io_start_websocket(io)) TH_LOG("%s", vnc_io_error(io));
	EXPECT_EQ(0, s_echo(io));
	EXPECT_EQ(0, finish(&r, io));
	EXPECT_NE(NULL, strstr(w.reply, KEY_ACCEPT));
	vnc_tls_free(t);

	/* A plain WebSocket client: no TLS byte first. */
	w.reply[0] = 0;
	io = start(&r, c_ws, &w);
	EXPECT_FALSE(vnc_io_peek_tls(io));
	ASSERT_EQ(0, vnc_io_start_websocket(io));
	EXPECT_EQ(0, s_echo(io));
	EXPECT_EQ(0, finish(&r, io));
}

TEST_HARNESS_MAIN
