/*
 * Test helper: the packet path (ipsec_hook) as a filter, for checks
 * against an independent IPsec implementation (scapy).  It installs a
 * policy pair and one SA from src to dst, then reads lines "out HEX" or
 * "in HEX" (an IP packet, src to dst) from standard input and answers
 * each with the verdict and, when the layer replaced the packet, what
 * it made of it: "replace HEX", "pass", "drop".
 *
 * usage: h_hook proto mode af aalg akeyhex [ealg ekeyhex]
 *   proto: esp | ah;  mode: transport | tunnel;  af: 4 | 6
 *   aalg, ealg: SADB numbers (3 HMAC-SHA1, 5 SHA2-256, 6 -384, 7 -512)
 * Addresses: 192.0.2.1 -> 192.0.2.2 (2001:db8::1 -> ::2); in tunnel
 * mode those are the endpoints and the packets 10.1.0.1 -> 10.2.0.1
 * (2001:db8:1::1 -> 2001:db8:2::1).  SPI 0x1001.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytest.h"
#include <netipsec/key.h>
#include <netipsec/ipsec_hook.h>
#include <ukern/ukern_hook.h>

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n;
	unsigned int b;

	if (strncmp(s, "0x", 2) == 0)
		s += 2;
	for (n = 0; s[0] != '\0' && s[0] != '\n' && s[1] != '\0' &&
	    n < cap; s += 2, n++) {
		if (sscanf(s, "%2x", &b) != 1)
			exit(2);
		out[n] = (uint8_t)b;
	}
	return (n);
}

static int
policy(struct tsock *ts, int dir, int proto, int tunnel, const char *src,
    const char *dst, const char *isrc, const char *idst)
{
	struct sadb_msg *r;
	struct pb_msg m;
	int e;

	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, tunnel ? isrc : src, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, tunnel ? idst : dst, 0, -1, 255);
	pb_policy(&m, dir, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, proto, tunnel ? IPSEC_MODE_TUNNEL :
	    IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0, tunnel ? src : NULL,
	    tunnel ? dst : NULL);
	if ((e = ts_call(ts, &m, &r)) == 0)
		free(r);
	return (e);
}

int
main(int argc, char **argv)
{
	static char line[1 << 17];
	static uint8_t pkt[1 << 16];
	uint8_t ekey[64], akey[64];
	const char *src, *dst, *isrc, *idst;
	const uint8_t *o;
	size_t eklen, aklen, len, olen, i;
	struct sadb_msg *r;
	struct tsock *ts;
	struct pb_msg m;
	void *out;
	int proto, tunnel, af, ealg, aalg, e, v, where;

	if (argc != 6 && argc != 8) {
		fprintf(stderr, "usage: h_hook proto mode af aalg akey "
		    "[ealg ekey]\n");
		return (2);
	}
	proto = strcmp(argv[1], "ah") == 0 ? IPPROTO_AH : IPPROTO_ESP;
	tunnel = strcmp(argv[2], "tunnel") == 0;
	af = atoi(argv[3]) == 6 ? AF_INET6 : AF_INET;
	aalg = atoi(argv[4]);
	aklen = unhex(argv[5], akey, sizeof(akey));
	ealg = argc == 8 ? atoi(argv[6]) : 0;
	eklen = argc == 8 ? unhex(argv[7], ekey, sizeof(ekey)) : 0;
	src = af == AF_INET ? "192.0.2.1" : "2001:db8::1";
	dst = af == AF_INET ? "192.0.2.2" : "2001:db8::2";
	isrc = af == AF_INET ? "10.1.0.1" : "2001:db8:1::1";
	idst = af == AF_INET ? "10.2.0.1" : "2001:db8:2::1";

	tk_start();
	ts = ts_open();
	if ((e = policy(ts, IPSEC_DIR_OUTBOUND, proto, tunnel, src, dst,
	    isrc, idst)) != 0 || (e = policy(ts, IPSEC_DIR_INBOUND, proto,
	    tunnel, src, dst, isrc, idst)) != 0) {
		fprintf(stderr, "spdadd: %d\n", e);
		return (1);
	}
	pb_init(&m, SADB_ADD, proto == IPPROTO_AH ? SADB_SATYPE_AH :
	    SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x1001, 8, aalg, ealg, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	if (aalg != 0)
		pb_key(&m, SADB_EXT_KEY_AUTH, akey, aklen);
	if (proto == IPPROTO_ESP)
		pb_key(&m, SADB_EXT_KEY_ENCRYPT, ekey, eklen);
	if ((e = ts_call(ts, &m, &r)) != 0) {
		fprintf(stderr, "add: %d\n", e);
		return (1);
	}
	free(r);

	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strncmp(line, "out ", 4) == 0)
			where = IPSEC_HOOK_OUT;
		else if (strncmp(line, "in ", 3) == 0)
			where = IPSEC_HOOK_IN;
		else
			continue;
		len = unhex(strchr(line, ' ') + 1, pkt, sizeof(pkt));
		v = ukern_ipsec_hook(where, pkt, len, 1, &out, &olen);
		switch (v) {
		case IPSEC_HOOK_REPLACE:
			printf("replace ");
			o = out;
			for (i = 0; i < olen; i++)
				printf("%02x", o[i]);
			printf("\n");
			ipsec_hook_free(out);
			break;
		case IPSEC_HOOK_PASS:
			printf("pass\n");
			break;
		default:
			printf("drop\n");
			break;
		}
		fflush(stdout);
	}
	ts_close(ts);
	tk_stop();
	return (0);
}
