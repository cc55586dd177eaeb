// SPDX-License-Identifier: GPL-2.0
/*
 * The --vnc option: "ADDR:PORT[,opt[=val]...]" or "unix:PATH[,...]".
 *
 * ADDR is an IPv4 address, an IPv6 address in brackets, "localhost", or
 * empty (127.0.0.1).  Names are not resolved: what is checked for being
 * loopback is exactly what vnc_start() binds.  Listening beyond loopback
 * without authentication (a password, SASL, or client certificates) needs
 * the explicit "insecure".
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnc.h"

#define VNC_DEFAULT_MAX_CLIENTS	64

static int fail(char *err, unsigned int errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Decimal @s (@n bytes, digits only) in @lo..@hi into *@v; false if not. */
static bool parse_num(const char *s, size_t n, long lo, long hi, int *v)
{
	long x = 0;
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
		if (x > hi)
			return false;
	}
	if (x < lo)
		return false;
	*v = (int)x;
	return true;
}

/* Is the text address @a (as stored in struct vnc_opts) loopback? */
static bool is_loopback(const char *a)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, a, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, a, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return true;
	/* ::ffff:127.x.y.z reaches the same place as 127.x.y.z. */
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

/* "ADDR:PORT" (@n bytes at @s) into @o. */
static int parse_tcp(const char *s, size_t n, struct vnc_opts *o, char *err, unsigned int errlen)
{
	const char *colon, *port;
	struct in6_addr a6;
	struct in_addr a4;
	size_t alen;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return fail(err, errlen, "--vnc: missing ']' after the IPv6 address");
		alen = close - s - 1;
		if (alen >= sizeof(o->addr))
			return fail(err, errlen, "--vnc: address too long");
		memcpy(o->addr, s + 1, alen);
		o->addr[alen] = 0;
		if (inet_pton(AF_INET6, o->addr, &a6) != 1)
			return fail(err, errlen, "--vnc: '%s' is not an IPv6 address", o->addr);
		colon = close + 1;
		if (colon == s + n || *colon != ':')
			return fail(err, errlen, "--vnc: expected ':PORT' after ']'");
	} else {
		colon = memchr(s, ':', n);
		if (!colon)
			return fail(err, errlen, "--vnc: expected ADDR:PORT or unix:PATH");
		if (memchr(colon + 1, ':', n - (colon + 1 - s)))
			return fail(err, errlen,
				    "--vnc: write an IPv6 address in brackets, e.g. [::1]:5900");
		alen = colon - s;
		if (alen >= sizeof(o->addr))
			return fail(err, errlen, "--vnc: address too long");
		memcpy(o->addr, s, alen);
		o->addr[alen] = 0;
		if (!alen || !strcmp(o->addr, "localhost"))
			strcpy(o->addr, "127.0.0.1");
		else if (inet_pton(AF_INET, o->addr, &a4) != 1)
			return fail(err, errlen, "--vnc: '%s' is not an IPv4 address or localhost",
				    o->addr);
	}
	port = colon + 1;
	if (!parse_num(port, n - (port - s), 1, 65535, &o->port))
		return fail(err, errlen, "--vnc: bad port '%.*s' (1..65535)", (int)(n - (port - s)),
			    port);
	return 0;
}

/* A string option's value into @dst (@size bytes with the NUL). */
static int set_str(char *dst, size_t size, const char *name, const char *v, size_t vlen,
		   char *err, unsigned int errlen)
{
	if (!vlen)
		return fail(err, errlen, "--vnc: %s= needs a value", name);
	if (vlen >= size)
		return fail(err, errlen, "--vnc: %s value too long (at most %zu bytes)", name,
			    size - 1);
	memcpy(dst, v, vlen);
	dst[vlen] = 0;
	return 0;
}

/* One option "name[=value]" (@n bytes at @s). */
static int parse_opt(const char *s, size_t n, struct vnc_opts *o, char *err, unsigned int errlen)
{
	const char *eq = memchr(s, '=', n), *v = NULL;
	size_t nlen = n, vlen = 0;
	char name[32];

	if (!n)
		return fail(err, errlen, "--vnc: empty option (stray ',')");
	if (eq) {
		nlen = eq - s;
		v = eq + 1;
		vlen = n - nlen - 1;
	}
	if (nlen >= sizeof(name))
		return fail(err, errlen, "--vnc: unknown option '%.*s'", (int)nlen, s);
	memcpy(name, s, nlen);
	name[nlen] = 0;

	if (!strcmp(name, "password-file"))
		return set_str(o->password_file, sizeof(o->password_file), name, v, vlen, err,
			       errlen);
	if (!strcmp(name, "tls-creds"))
		return set_str(o->tls_creds, sizeof(o->tls_creds), name, v, vlen, err, errlen);
	if (!strcmp(name, "websocket")) {
		if (!parse_num(v, vlen, 1, 65535, &o->ws_port))
			return fail(err, errlen, "--vnc: bad websocket port '%.*s' (1..65535)",
				    (int)vlen, v ? v : "");
		return 0;
	}
	if (!strcmp(name, "max-clients")) {
		if (!parse_num(v, vlen, 1, 64, &o->max_clients))
			return fail(err, errlen, "--vnc: bad max-clients '%.*s' (1..64)", (int)vlen,
				    v ? v : "");
		return 0;
	}
	if (!strcmp(name, "lossy")) {
		if (vlen == 2 && !memcmp(v, "on", 2))
			o->lossy = true;
		else if (vlen == 3 && !memcmp(v, "off", 3))
			o->lossy = false;
		else
			return fail(err, errlen, "--vnc: lossy= takes on or off");
		return 0;
	}
	if (!strcmp(name, "x509verify") || !strcmp(name, "sasl") || !strcmp(name, "insecure")) {
		if (eq)
			return fail(err, errlen, "--vnc: %s takes no value", name);
		if (name[0] == 'x')
			o->x509verify = true;
		else if (name[0] == 's')
			o->sasl = true;
		else
			o->insecure = true;
		return 0;
	}
	return fail(err, errlen, "--vnc: unknown option '%s'", name);
}

int vnc_parse_opts(const char *spec, struct vnc_opts *out, char *err, unsigned int errlen)
{
	struct vnc_opts o;
	const char *end, *p;
	bool authenticated;
	size_t n;

	memset(&o, 0, sizeof(o));
	o.max_clients = VNC_DEFAULT_MAX_CLIENTS;
	o.lossy = true;
	if (err && errlen)
		err[0] = 0;
	if (!spec || !spec[0])
		return fail(err, errlen, "--vnc: expected ADDR:PORT[,OPTIONS] or unix:PATH");

	end = strchr(spec, ',');
	if (!end)
		end = spec + strlen(spec);
	n = end - spec;
	if (n >= 5 && !memcmp(spec, "unix:", 5)) {
		o.unix_socket = true;
		if (n == 5)
			return fail(err, errlen, "--vnc: unix: needs a socket path");
		if (n - 5 >= sizeof(o.addr))
			return fail(err, errlen, "--vnc: unix socket path too long (at most %zu)",
				    sizeof(o.addr) - 1);
		memcpy(o.addr, spec + 5, n - 5);
		o.addr[n - 5] = 0;
	} else if (parse_tcp(spec, n, &o, err, errlen)) {
		return -1;
	}

	for (p = end; *p; p = end) {
		p++;			/* the ',' */
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (parse_opt(p, end - p, &o, err, errlen))
			return -1;
	}

	if (o.x509verify && (!o.tls_creds[0] || !strcmp(o.tls_creds, "anon")))
		return fail(err, errlen,
			    "--vnc: x509verify needs tls-creds=DIR (certificates, not anon)");
	if (o.ws_port) {
		if (o.unix_socket)
			return fail(err, errlen,
				    "--vnc: websocket= listens on ADDR: not with a unix: socket");
		if (o.ws_port == o.port)
			return fail(err, errlen, "--vnc: the websocket port must differ from PORT");
	}
	authenticated = o.password_file[0] || o.sasl ||
			(o.tls_creds[0] && strcmp(o.tls_creds, "anon") && o.x509verify);
	if (!o.unix_socket && !is_loopback(o.addr) && !authenticated && !o.insecure)
		return fail(err, errlen, "--vnc: %s is not loopback: %s", o.addr,
			    "add password-file=, sasl or tls-creds=DIR,x509verify (or insecure)");
	*out = o;
	return 0;
}
