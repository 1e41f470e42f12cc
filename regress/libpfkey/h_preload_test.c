/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Helper of pfkey_socket_test:preload, standing for an unmodified PF_KEY
 * program: it opens socket(PF_KEY, SOCK_RAW, PF_KEY_V2) itself, sends an
 * SADB_FLUSH with write(2), reads the reply with read(2), then checks
 * that other sockets are left alone.  Built without sanitizers, which
 * cannot run under LD_PRELOAD.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <net/pfkeyv2.h>

int
main(void)
{
	struct sadb_msg m, reply;
	socklen_t len;
	int s, u, domain;

	if ((s = socket(PF_KEY, SOCK_RAW, PF_KEY_V2)) < 0) {
		printf("socket: %s\n", strerror(errno));
		return (1);
	}
	/*
	 * Never talk to a real PF_KEY here: without the shim this flush
	 * would reach the host's kernel.
	 */
	len = sizeof(domain);
	if (getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    domain != AF_UNIX) {
		printf("not intercepted\n");
		return (1);
	}

	memset(&m, 0, sizeof(m));
	m.sadb_msg_version = PF_KEY_V2;
	m.sadb_msg_type = SADB_FLUSH;
	m.sadb_msg_len = PFKEY_UNIT64(sizeof(m));
	m.sadb_msg_pid = (uint32_t)getpid();
	if (write(s, &m, sizeof(m)) != (ssize_t)sizeof(m)) {
		printf("write: %s\n", strerror(errno));
		return (1);
	}
	if (read(s, &reply, sizeof(reply)) != (ssize_t)sizeof(reply)) {
		printf("read: %s\n", strerror(errno));
		return (1);
	}
	if ((u = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		printf("udp socket: %s\n", strerror(errno));
		return (1);
	}
	len = sizeof(domain);
	if (getsockopt(u, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    domain != AF_INET) {
		printf("udp socket intercepted\n");
		return (1);
	}
	printf("reply type %u udp ok\n", reply.sadb_msg_type);
	close(u);
	close(s);
	return (0);
}
