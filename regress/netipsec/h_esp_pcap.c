/*
 * Test helper: protect UDP packets with ESP through the packet path
 * (ipsec_hook) and write what would go on the wire to a pcap file, so
 * that an independent ESP implementation (tshark) can decrypt it.
 *
 * usage: h_esp_pcap out.pcap mode af ealg ekeyhex aalg akeyhex
 *   mode: transport | tunnel;  af: 4 | 6
 *   ealg, aalg: SADB numbers (e.g. 12 AES-CBC, 20 AES-GCM-16, 15 ChaCha,
 *   13 AES-CTR, 11 NULL; 0 none, 3 HMAC-SHA1, 5 SHA2-256, 6 -384, 7 -512)
 * Each packet's UDP payload is "netipsec-esp-test-N"; SPI is 0x1001.
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

#define	NPKT	5

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n;
	unsigned int b;

	if (strncmp(s, "0x", 2) == 0)
		s += 2;
	for (n = 0; s[0] != '\0' && s[1] != '\0' && n < cap; s += 2, n++) {
		if (sscanf(s, "%2x", &b) != 1)
			exit(2);
		out[n] = (uint8_t)b;
	}
	return (n);
}

static void
pcap_put32(FILE *f, uint32_t v)
{

	fwrite(&v, 4, 1, f);
}

int
main(int argc, char **argv)
{
	uint8_t ekey[64], akey[64], pkt[256];
	const char *src, *dst, *isrc, *idst;
	size_t eklen, aklen, len, hl, i;
	struct sadb_msg *r;
	struct tsock *ts;
	struct pb_msg m;
	void *out;
	size_t olen;
	FILE *f;
	int tunnel, af, ealg, aalg, e;

	if (argc != 8) {
		fprintf(stderr, "usage: h_esp_pcap out mode af ealg ekey "
		    "aalg akey\n");
		return (2);
	}
	tunnel = strcmp(argv[2], "tunnel") == 0;
	af = atoi(argv[3]) == 6 ? AF_INET6 : AF_INET;
	ealg = atoi(argv[4]);
	eklen = unhex(argv[5], ekey, sizeof(ekey));
	aalg = atoi(argv[6]);
	aklen = unhex(argv[7], akey, sizeof(akey));
	src = af == AF_INET ? "192.0.2.1" : "2001:db8::1";
	dst = af == AF_INET ? "192.0.2.2" : "2001:db8::2";
	isrc = af == AF_INET ? "10.1.0.1" : "2001:db8:1::1";
	idst = af == AF_INET ? "10.2.0.1" : "2001:db8:2::1";

	tk_start();
	ts = ts_open();
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, tunnel ? isrc : src, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, tunnel ? idst : dst, 0, -1, 255);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, IPPROTO_ESP, tunnel ? IPSEC_MODE_TUNNEL :
	    IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0, tunnel ? src : NULL,
	    tunnel ? dst : NULL);
	if ((e = ts_call(ts, &m, &r)) != 0) {
		fprintf(stderr, "spdadd: %d\n", e);
		return (1);
	}
	free(r);
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x1001, 8, aalg, ealg, SADB_X_EXT_CYCSEQ);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	if (aalg != 0)
		pb_key(&m, SADB_EXT_KEY_AUTH, akey, aklen);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, ekey, eklen);
	if ((e = ts_call(ts, &m, &r)) != 0) {
		fprintf(stderr, "add: %d\n", e);
		return (1);
	}
	free(r);

	if ((f = fopen(argv[1], "wb")) == NULL) {
		perror(argv[1]);
		return (1);
	}
	/* pcap header, LINKTYPE_RAW (101): packets start at the IP header. */
	pcap_put32(f, 0xa1b2c3d4);
	fwrite("\x02\x00\x04\x00", 4, 1, f);
	pcap_put32(f, 0);
	pcap_put32(f, 0);
	pcap_put32(f, 65535);
	pcap_put32(f, 101);
	for (i = 0; i < NPKT; i++) {
		char payload[64];
		size_t n;

		n = (size_t)snprintf(payload, sizeof(payload),
		    "netipsec-esp-test-%zu", i);
		memset(pkt, 0, sizeof(pkt));
		if (af == AF_INET) {
			hl = 20;
			len = hl + 8 + n;
			pkt[0] = 0x45;
			pkt[2] = len >> 8;
			pkt[3] = len & 0xff;
			pkt[8] = 64;
			pkt[9] = IPPROTO_UDP;
			inet_pton(AF_INET, tunnel ? isrc : src, pkt + 12);
			inet_pton(AF_INET, tunnel ? idst : dst, pkt + 16);
		} else {
			hl = 40;
			len = hl + 8 + n;
			pkt[0] = 0x60;
			pkt[4] = (8 + n) >> 8;
			pkt[5] = (8 + n) & 0xff;
			pkt[6] = IPPROTO_UDP;
			pkt[7] = 64;
			inet_pton(AF_INET6, tunnel ? isrc : src, pkt + 8);
			inet_pton(AF_INET6, tunnel ? idst : dst, pkt + 24);
		}
		pkt[hl + 0] = 0x30;		/* sport 12345 */
		pkt[hl + 1] = 0x39;
		pkt[hl + 2] = 0x30;		/* dport 12346 */
		pkt[hl + 3] = 0x3a;
		pkt[hl + 5] = 8 + n;
		memcpy(pkt + hl + 8, payload, n);
		if (af == AF_INET) {
			uint32_t sum = 0;
			size_t k;

			for (k = 0; k < 20; k += 2)
				sum += (uint32_t)pkt[k] << 8 | pkt[k + 1];
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			pkt[10] = (uint8_t)(~sum >> 8);
			pkt[11] = (uint8_t)~sum;
		}
		if (ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, i, &out,
		    &olen) !=
		    IPSEC_HOOK_REPLACE) {
			fprintf(stderr, "packet %zu not protected\n", i);
			return (1);
		}
		pcap_put32(f, 1000000000u + (uint32_t)i);
		pcap_put32(f, 0);
		pcap_put32(f, (uint32_t)olen);
		pcap_put32(f, (uint32_t)olen);
		fwrite(out, 1, olen, f);
		ipsec_hook_free(out);
	}
	fclose(f);
	ts_close(ts);
	tk_stop();
	return (0);
}
