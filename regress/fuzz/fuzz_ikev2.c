/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target for IKEv2 messages (sbin/iked/ikemsg.c, ikev2_pld.c):
 * the datagram parsed (the first input byte chooses port 500 or 4500),
 * then every payload decoded: SA proposals, transforms and attributes,
 * traffic selectors, notifies, deletes, IDs.  An SK or SKF payload's
 * body is treated as already decrypted (a null cipher: no IV, no ICV),
 * unpadded, fed through reassembly and parsed as the inner chain, so
 * the inner payloads are fuzzed the same way.
 *
 * Built and run by regress/fuzz/run.sh, seeds in corpus/ikev2 (the
 * messages of regress/iked/ikev2_msg_test.c).
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"
#include "ikev2.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ikemsg		 m;
static struct ikemsg_sa		 sa;
static struct ikemsg_stats	 st;
static volatile u_int		 sink;	/* keeps the reads */

static void
walk(const struct ikemsg *msg)
{
	const struct ikemsg_pld	*pld;
	struct ikemsg_ts	 ts[IKEMSG_TS_MAX];
	struct ikemsg_notify	 n;
	struct ikemsg_delete	 d;
	struct ikemsg_id	 id;
	const uint8_t		*data;
	size_t			 len;
	uint16_t		 group;
	uint8_t			 u8;
	u_int			 i, j, k, nts;

	for (i = 0; i < msg->msg_npld; i++) {
		pld = &msg->msg_pld[i];
		data = ikemsg_pld_body(pld, &len);
		if (len > 0)
			sink += data[len - 1];
		switch (pld->pld_type) {
		case IKEV2_PAYLOAD_SA:
			if (ikev2_pld_sa(pld, &sa) != IKEMSG_OK)
				abort();	/* checked during the parse */
			for (j = 0; j < sa.sa_nprop; j++)
				for (k = 0; k < sa.sa_prop[j].p_nxf; k++) {
					const struct ikemsg_xf *xf = &sa.sa_xf[
					    sa.sa_prop[j].p_xf + k];
					const struct ikemsg_attr *at =
					    ikemsg_xf_attr(&sa, xf,
					    IKEV2_ATTR_KEY_LENGTH);
					sink += xf->xf_id;
					if (at != NULL && !at->at_tv &&
					    at->at_len > 0)
						sink += at->at_data[
						    at->at_len - 1];
				}
			break;
		case IKEV2_PAYLOAD_TSi:
		case IKEV2_PAYLOAD_TSr:
			if (ikev2_pld_ts(pld, ts, IKEMSG_TS_MAX, &nts) !=
			    IKEMSG_OK)
				abort();
			for (j = 0; j < nts; j++)
				sink += ts[j].ts_eaddr[15];
			break;
		case IKEV2_PAYLOAD_NOTIFY:
			if (ikev2_pld_notify(pld, &n) != IKEMSG_OK)
				abort();
			if (n.n_datalen > 0)
				sink += n.n_data[n.n_datalen - 1];
			break;
		case IKEV2_PAYLOAD_DELETE:
			if (ikev2_pld_delete(pld, &d) != IKEMSG_OK)
				abort();
			if (d.d_nspi > 0)
				sink += d.d_spi[(size_t)d.d_nspi *
				    d.d_spisize - 1];
			break;
		case IKEV2_PAYLOAD_IDi:
		case IKEV2_PAYLOAD_IDr:
			if (ikev2_pld_id(pld, &id) != IKEMSG_OK)
				abort();
			break;
		case IKEV2_PAYLOAD_KE:
			if (ikev2_pld_ke(pld, &group, &data, &len) !=
			    IKEMSG_OK)
				abort();
			break;
		case IKEV2_PAYLOAD_AUTH:
			if (ikev2_pld_auth(pld, &u8, &data, &len) != IKEMSG_OK)
				abort();
			break;
		case IKEV2_PAYLOAD_CERT:
		case IKEV2_PAYLOAD_CERTREQ:
			/* What v2_verify_peer() takes the chain from. */
			if (ikemsg_pld_cert(pld, &u8, &data, &len) !=
			    IKEMSG_OK)
				abort();
			if (len > 0)
				sink += data[len - 1];
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ikemsg_frag	 fr;
	struct ikemsg_sk	 sk;
	uint8_t			*buf, *whole;
	size_t			 plen, wlen;
	uint8_t			 first;
	int			 complete;
	u_int			 flags;

	if (size < 1)
		return (0);
	flags = data[0] & 1 ? IKEMSG_F_NATT : 0;
	data++;
	size--;
	/* An exact-size copy: ASan catches a read one byte past. */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	/* IKEv1 messages are fuzz_ikev1's. */
	if (ikemsg_parse(&m, buf, size, flags, &st) != IKEMSG_OK ||
	    m.msg_version != 2) {
		free(buf);
		return (0);
	}
	walk(&m);
	if (m.msg_enctype != 0 && ikemsg_sk(&m, 0, 0, &sk) == IKEMSG_OK &&
	    ikemsg_sk_unpad(sk.sk_data, sk.sk_datalen, &plen) == IKEMSG_OK) {
		if (m.msg_enctype == IKEV2_PAYLOAD_SKF) {
			ikemsg_frag_init(&fr);
			if (ikemsg_frag_add(&fr, &m, sk.sk_data, plen,
			    &complete) == IKEMSG_OK && complete &&
			    ikemsg_frag_take(&fr, &whole, &wlen, &first) ==
			    IKEMSG_OK) {
				m.msg_encnext = first;
				if (ikemsg_parse_inner(&m, whole, wlen, &st) ==
				    IKEMSG_OK)
					walk(&m);
				free(whole);
			}
			ikemsg_frag_clear(&fr);
		} else if (ikemsg_parse_inner(&m, sk.sk_data, plen, &st) ==
		    IKEMSG_OK)
			walk(&m);
	}
	free(buf);
	return (0);
}
