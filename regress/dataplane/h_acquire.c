/*
 * Test helper: a minimal key management daemon.  Registers for ESP on the
 * PF_KEY socket (libpfkey: PFKEY_SOCKET or the abstract default), waits
 * for one SADB_ACQUIRE and prints "acquire seq=N spid=M src=A dst=B",
 * then exits 0; exits 1 after the timeout (seconds, argv[1], default 10).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <libpfkey.h>

static const char *
addr(struct sadb_ext *ext, char *buf, size_t len)
{
	const struct sockaddr *sa;

	if (ext == NULL)
		return ("-");
	sa = PFKEY_ADDR_SADDR(ext);
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr,
		    buf, len);
	else
		inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, buf, len);
	return (buf);
}

int
main(int argc, char **argv)
{
	char *mhp[SADB_EXT_MAX + 1], s[64], d[64];
	struct sadb_x_policy *xpl;
	struct sadb_msg *msg;
	struct pollfd pfd;
	int so, timeout;

	timeout = argc > 1 ? atoi(argv[1]) : 10;
	if ((so = pfkey_open()) < 0) {
		fprintf(stderr, "pfkey_open: %s\n", ipsec_strerror());
		return (1);
	}
	if (pfkey_send_register(so, SADB_SATYPE_ESP) < 0) {
		fprintf(stderr, "register: %s\n", ipsec_strerror());
		return (1);
	}
	printf("registered\n");
	fflush(stdout);
	pfd.fd = so;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, timeout * 1000) <= 0) {
			fprintf(stderr, "no ACQUIRE within %d s\n", timeout);
			return (1);
		}
		if ((msg = pfkey_recv(so)) == NULL)
			return (1);
		if (msg->sadb_msg_type != SADB_ACQUIRE) {
			free(msg);
			continue;
		}
		if (pfkey_align(msg, mhp) < 0) {
			fprintf(stderr, "bad ACQUIRE: %s\n", ipsec_strerror());
			return (1);
		}
		xpl = (struct sadb_x_policy *)(void *)mhp[SADB_X_EXT_POLICY];
		printf("acquire seq=%u spid=%u src=%s dst=%s\n",
		    msg->sadb_msg_seq, xpl != NULL ? xpl->sadb_x_policy_id : 0,
		    addr((struct sadb_ext *)(void *)mhp[SADB_EXT_ADDRESS_SRC],
		    s, sizeof(s)),
		    addr((struct sadb_ext *)(void *)mhp[SADB_EXT_ADDRESS_DST],
		    d, sizeof(d)));
		free(msg);
		pfkey_close(so);
		return (0);
	}
}
