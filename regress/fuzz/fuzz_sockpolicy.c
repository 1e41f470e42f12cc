/*
 * libFuzzer target: sockets' policies (ipsec_pcb_setpolicy(), what a
 * client of netipsecd's policy socket sends, or a program's
 * setsockopt(IP_IPSEC_POLICY) through the preload shim), then packets of
 * and around that socket through the packet path, getsockopt and close.
 * Byte 0: the socket (address, port, privilege, family) and whether it
 * closes at the end; the rest: the sadb_x_policy with its requests.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../netipsec/keytest.h"
#include <netipsec/key.h>
#include <netipsec/ipsec_hook.h>
#include <ukern/ukern_hook.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
islocal(void *arg, int af, const void *addr)
{

	(void)arg;
	return (af == AF_INET && memcmp(addr, "\xc0\x00\x02\x01", 4) == 0);
}

/* A UDP packet 192.0.2.x:sport -> 192.0.2.y:dport. */
static size_t
udp(uint8_t *p, int s, int d, int sport, int dport)
{

	memset(p, 0, 36);
	p[0] = 0x45;
	p[3] = 36;
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	p[12] = 192; p[14] = 2; p[15] = (uint8_t)s;
	p[16] = 192; p[18] = 2; p[19] = (uint8_t)d;
	p[20] = (uint8_t)(sport >> 8); p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8); p[23] = (uint8_t)dport;
	p[25] = 16;
	p[28] = 1;
	return (36);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int ports[] = { 500, 4500, 7000, 0 };
	static int inited;
	struct sockaddr_storage ss;
	uint8_t pkt[64], buf[1024];
	void *out;
	size_t len, olen;
	int v, port, dir;

	if (!inited) {
		tk_start();
		ipsec_hook_setlocal(islocal, NULL);
		inited = 1;
	}
	if (size < 1)
		return (0);
	port = ports[data[0] & 3];
	if (data[0] & 0x20)
		pb_sockaddr(&ss, "2001:db8::1", port);
	else
		pb_sockaddr(&ss, (data[0] & 4) ? "0.0.0.0" : "192.0.2.1",
		    port);
	(void)ipsec_pcb_setpolicy((struct sockaddr *)&ss,
	    (data[0] & 0x40) ? IPPROTO_TCP : IPPROTO_UDP, 1 + (data[0] & 4),
	    1, (data[0] & 8) != 0, data + 1, size - 1);
	for (dir = IPSEC_DIR_ANY; dir <= IPSEC_DIR_MAX; dir++) {
		len = (data[0] & 0x80) ? 8 : sizeof(buf);
		(void)ipsec_pcb_getpolicy((struct sockaddr *)&ss, IPPROTO_UDP,
		    dir, buf, &len);
	}
	len = udp(pkt, 1, 2, port, 9999);
	v = ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen);
	if (v == IPSEC_HOOK_REPLACE)
		ipsec_hook_free(out);
	len = udp(pkt, 2, 1, 9999, port);
	v = ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen);
	if (v == IPSEC_HOOK_REPLACE)
		ipsec_hook_free(out);
	len = udp(pkt, 2, 3, 9999, port);
	v = ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen);
	if (v == IPSEC_HOOK_REPLACE)
		ipsec_hook_free(out);
	if (data[0] & 0x10) {
		(void)ipsec_pcb_detach(1);
		(void)ipsec_pcb_detach(5);
	}
	return (0);
}
