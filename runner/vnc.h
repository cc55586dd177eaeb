/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VNC server (vnc.c): serves the console (devices/console.h) to RFB
 * clients.  Each client has its own thread; a slow client blocks only its
 * own thread, and its pending damage merges into one update.
 */
#ifndef KVL_RUNNER_VNC_H
#define KVL_RUNNER_VNC_H

#include <stdbool.h>

struct vnc_opts {
	char addr[108];		/* "127.0.0.1", "::1", "0.0.0.0", or the path for unix: */
	bool unix_socket;
	int port;		/* TCP port (not a display number) */
	int ws_port;		/* WebSocket port, 0: none */
	char password_file[256];/* "" none: VNC authentication with its first line */
	char tls_creds[256];	/* "" none; "anon" for anonymous TLS; else the directory */
	bool x509verify;	/* require client certificates */
	bool sasl;
	bool insecure;		/* allow non-loopback without authentication */
	int max_clients;	/* default 64 */
	bool lossy;		/* allow Tight JPEG when the client asks a quality (default true) */
};

/*
 * Parse "ADDR:PORT[,opt[=val]...]" or "unix:PATH[,...]" (options:
 * password-file=F, tls-creds=DIR|anon, x509verify, sasl, websocket=PORT,
 * insecure, max-clients=N, lossy=on|off).  0, or -1 with a message in @err.
 */
int vnc_parse_opts(const char *spec, struct vnc_opts *o, char *err, unsigned int errlen);
/* Listen and serve on background threads.  0, or -1 with a message in @err. */
int vnc_start(const struct vnc_opts *o, char *err, unsigned int errlen);
/* Close the listeners and drop every client (at exit). */
void vnc_stop(void);
/* For "info" on the control socket: one line per listener and client. */
void vnc_describe(char *buf, unsigned int len);

#endif
