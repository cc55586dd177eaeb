/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket: "kvmlite run --ctl PATH" serves it on the event
 * loop, "kvmlite ctl PATH COMMAND [ARGS...]" is its client.  The protocol
 * is one line per request and one line per reply; Documentation/runner.rst
 * lists the commands.  ctl_parse.c holds the request parser (host-tested).
 */
#ifndef KVL_RUNNER_CTL_H
#define KVL_RUNNER_CTL_H

/* kvmlite ctl PATH COMMAND [ARGS...] (@argv from PATH on): the exit status. */
int ctl__client(int argc, char **argv);

#endif
