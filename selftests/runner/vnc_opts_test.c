// SPDX-License-Identifier: GPL-2.0
/* Host unit test of runner/vnc_opts.c: the --vnc option. */
#include <stdlib.h>
#include "kselftest_harness.h"
#include "../../runner/vnc.h"

static struct vnc_opts o;
static char err[256];

static int parse(const char *spec)
{
	memset(&o, 0x5a, sizeof(o));
	err[0] = 0;
	return vnc_parse_opts(spec, &o, err, sizeof(err));
}

/* @spec is refused with a message containing @why. */
#define REFUSED(spec, why) do {						\
	EXPECT_EQ(-1, parse(spec)) TH_LOG("'%s' accepted", spec);	\
	EXPECT_NE(NULL, strstr(err, why)) TH_LOG("'%s': %s", spec, err);	\
} while (0)

TEST(defaults)
{
	ASSERT_EQ(0, parse("127.0.0.1:5900")) TH_LOG("%s", err);
	EXPECT_STREQ("127.0.0.1", o.addr);
	EXPECT_FALSE(o.unix_socket);
	EXPECT_EQ(5900, o.port);
	EXPECT_EQ(0, o.ws_port);
	EXPECT_STREQ("", o.password_file);
	EXPECT_STREQ("", o.tls_creds);
	EXPECT_FALSE(o.x509verify);
	EXPECT_FALSE(o.sasl);
	EXPECT_FALSE(o.insecure);
	EXPECT_EQ(64, o.max_clients);
	EXPECT_TRUE(o.lossy);
}

TEST(addresses)
{
	ASSERT_EQ(0, parse(":5901")) TH_LOG("%s", err);
	EXPECT_STREQ("127.0.0.1", o.addr);
	EXPECT_EQ(5901, o.port);
	ASSERT_EQ(0, parse("localhost:1")) TH_LOG("%s", err);
	EXPECT_STREQ("127.0.0.1", o.addr);
	EXPECT_EQ(1, o.port);
	ASSERT_EQ(0, parse("127.1.2.3:65535")) TH_LOG("%s", err);
	EXPECT_STREQ("127.1.2.3", o.addr);
	EXPECT_EQ(65535, o.port);
	ASSERT_EQ(0, parse("[::1]:5900")) TH_LOG("%s", err);
	EXPECT_STREQ("::1", o.addr);
	EXPECT_EQ(5900, o.port);
	ASSERT_EQ(0, parse("[::ffff:127.0.0.1]:5900")) TH_LOG("%s", err);
	EXPECT_STREQ("::ffff:127.0.0.1", o.addr);
	ASSERT_EQ(0, parse("0.0.0.0:5900,insecure")) TH_LOG("%s", err);
	EXPECT_STREQ("0.0.0.0", o.addr);
	EXPECT_TRUE(o.insecure);
	ASSERT_EQ(0, parse("[::]:5900,insecure")) TH_LOG("%s", err);
	EXPECT_STREQ("::", o.addr);
}

TEST(unix_socket)
{
	char spec[200];

	ASSERT_EQ(0, parse("unix:/run/vm/vnc.sock")) TH_LOG("%s", err);
	EXPECT_TRUE(o.unix_socket);
	EXPECT_STREQ("/run/vm/vnc.sock", o.addr);
	ASSERT_EQ(0, parse("unix:rel.sock,max-clients=2,lossy=off")) TH_LOG("%s", err);
	EXPECT_STREQ("rel.sock", o.addr);
	EXPECT_EQ(2, o.max_clients);
	EXPECT_FALSE(o.lossy);
	/* The longest path sun_path holds: 107 bytes; one more is refused. */
	strcpy(spec, "unix:");
	memset(spec + 5, 'p', 107);
	spec[112] = 0;
	ASSERT_EQ(0, parse(spec)) TH_LOG("%s", err);
	EXPECT_EQ(107, strlen(o.addr));
	strcpy(spec + 112, "q,sasl");
	REFUSED(spec, "too long");
	REFUSED("unix:", "path");
	REFUSED("unix:,sasl", "path");
	REFUSED("unix:/s,websocket=5700", "unix");
}

TEST(options)
{
	ASSERT_EQ(0, parse(":5900,password-file=/etc/kvmlite/vnc.pw,tls-creds=/etc/pki/vnc,"
			   "x509verify,sasl,websocket=5700,max-clients=1,lossy=off,insecure"))
		TH_LOG("%s", err);
	EXPECT_STREQ("/etc/kvmlite/vnc.pw", o.password_file);
	EXPECT_STREQ("/etc/pki/vnc", o.tls_creds);
	EXPECT_TRUE(o.x509verify);
	EXPECT_TRUE(o.sasl);
	EXPECT_EQ(5700, o.ws_port);
	EXPECT_EQ(1, o.max_clients);
	EXPECT_FALSE(o.lossy);
	EXPECT_TRUE(o.insecure);

	ASSERT_EQ(0, parse(":5900,tls-creds=anon,lossy=off,lossy=on,max-clients=64"))
		TH_LOG("%s", err);
	EXPECT_STREQ("anon", o.tls_creds);
	EXPECT_TRUE(o.lossy);
	EXPECT_EQ(64, o.max_clients);
	/* The password file is only named here: vnc_start() reads it. */
	ASSERT_EQ(0, parse(":5900,password-file=/nonexistent")) TH_LOG("%s", err);
	EXPECT_STREQ("/nonexistent", o.password_file);
}

TEST(bad_ports)
{
	REFUSED("127.0.0.1:0", "port");
	REFUSED("127.0.0.1:65536", "port");
	REFUSED("127.0.0.1:99999999999999999999", "port");
	REFUSED("127.0.0.1:", "port");
	REFUSED("127.0.0.1:-1", "port");
	REFUSED("127.0.0.1:+5", "port");
	REFUSED("127.0.0.1: 5900", "port");
	REFUSED("127.0.0.1:59x0", "port");
	REFUSED("127.0.0.1:5900x,sasl", "port");
	REFUSED("[::1]:0", "port");
	REFUSED(":5900,websocket=0", "websocket");
	REFUSED(":5900,websocket=65536", "websocket");
	REFUSED(":5900,websocket=", "websocket");
	REFUSED(":5900,websocket", "websocket");
	REFUSED(":5900,websocket=5900", "differ");
}

TEST(bad_addresses)
{
	REFUSED("5900", "ADDR:PORT");
	REFUSED("", "ADDR:PORT");
	REFUSED("::1:5900", "brackets");
	REFUSED("[::1:5900", "]");
	REFUSED("[::1]5900", "PORT");
	REFUSED("[::1]", "PORT");
	REFUSED("[127.0.0.1]:5900", "IPv6");
	REFUSED("[]:5900", "IPv6");
	REFUSED("example.org:5900", "IPv4");
	REFUSED("127.1:5900", "IPv4");
	REFUSED("256.0.0.1:5900", "IPv4");
	REFUSED("Localhost:5900", "IPv4");
}

TEST(bad_options)
{
	char spec[400];

	REFUSED(":5900,frob", "unknown option 'frob'");
	REFUSED(":5900,frob=1", "unknown option 'frob'");
	REFUSED(":5900,password=secret", "unknown option 'password'");
	REFUSED(":5900,,sasl", "empty");
	REFUSED(":5900,", "empty");
	REFUSED(":5900,sasl=yes", "no value");
	REFUSED(":5900,insecure=1", "no value");
	REFUSED(":5900,x509verify=on,tls-creds=/d", "no value");
	REFUSED(":5900,password-file=", "value");
	REFUSED(":5900,password-file", "value");
	REFUSED(":5900,tls-creds=", "value");
	REFUSED(":5900,max-clients=0", "max-clients");
	REFUSED(":5900,max-clients=65", "max-clients");
	REFUSED(":5900,max-clients=1O", "max-clients");
	REFUSED(":5900,max-clients", "max-clients");
	REFUSED(":5900,lossy=yes", "lossy");
	REFUSED(":5900,lossy", "lossy");
	REFUSED(":5900,lossy=ON", "lossy");
	REFUSED(":5900,x509verify", "x509verify");
	REFUSED(":5900,tls-creds=anon,x509verify", "x509verify");
	REFUSED(":5900,x509verify,sasl", "x509verify");

	/* Paths: 255 bytes fit, 256 do not. */
	strcpy(spec, ":5900,password-file=");
	memset(spec + strlen(spec), 'f', 255);
	spec[20 + 255] = 0;
	ASSERT_EQ(0, parse(spec)) TH_LOG("%s", err);
	EXPECT_EQ(255, strlen(o.password_file));
	strcat(spec, "f");
	REFUSED(spec, "too long");
	strcpy(spec, ":5900,tls-creds=");
	memset(spec + strlen(spec), 'd', 256);
	spec[16 + 256] = 0;
	REFUSED(spec, "too long");
}

/* Beyond loopback, the server must authenticate its clients, or be told not to. */
TEST(non_loopback_needs_authentication)
{
	REFUSED("0.0.0.0:5900", "insecure");
	REFUSED("192.168.1.2:5900", "insecure");
	REFUSED("[::]:5900", "insecure");
	REFUSED("[2001:db8::1]:5900", "insecure");
	REFUSED("128.0.0.1:5900", "insecure");
	REFUSED("[::ffff:10.0.0.1]:5900", "insecure");
	/* TLS alone encrypts but does not say who the client is. */
	REFUSED("0.0.0.0:5900,tls-creds=anon", "insecure");
	REFUSED("0.0.0.0:5900,tls-creds=/etc/pki/vnc", "insecure");
	REFUSED("0.0.0.0:5900,websocket=5700,lossy=off", "insecure");

	EXPECT_EQ(0, parse("0.0.0.0:5900,password-file=/etc/vnc.pw")) TH_LOG("%s", err);
	EXPECT_EQ(0, parse("0.0.0.0:5900,sasl")) TH_LOG("%s", err);
	EXPECT_EQ(0, parse("0.0.0.0:5900,tls-creds=/etc/pki/vnc,x509verify")) TH_LOG("%s", err);
	EXPECT_EQ(0, parse("0.0.0.0:5900,tls-creds=anon,password-file=p")) TH_LOG("%s", err);
	EXPECT_EQ(0, parse("[2001:db8::1]:5900,insecure")) TH_LOG("%s", err);
	/* Loopback and unix sockets need nothing. */
	EXPECT_EQ(0, parse("127.255.255.254:5900")) TH_LOG("%s", err);
	EXPECT_EQ(0, parse("[::1]:5900,websocket=5700")) TH_LOG("%s", err);
	EXPECT_EQ(0, parse("unix:/tmp/v.sock")) TH_LOG("%s", err);
}

/* A refused spec leaves the caller's options alone; a short error buffer is fine. */
TEST(errors_do_not_clobber)
{
	struct vnc_opts keep;
	char small[8];

	ASSERT_EQ(0, vnc_parse_opts(":5900", &keep, err, sizeof(err)));
	EXPECT_EQ(-1, vnc_parse_opts("0.0.0.0:1,max-clients=9", &keep, small, sizeof(small)));
	EXPECT_EQ(strlen(small), sizeof(small) - 1);
	EXPECT_EQ(5900, keep.port);
	EXPECT_EQ(64, keep.max_clients);
	EXPECT_EQ(-1, vnc_parse_opts("x", &keep, NULL, 0));
	EXPECT_EQ(-1, vnc_parse_opts(NULL, &keep, err, sizeof(err)));
}

TEST_HARNESS_MAIN
