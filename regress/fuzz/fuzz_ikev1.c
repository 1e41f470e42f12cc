/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target for IKEv1 (ISAKMP) messages (sbin/iked/ikemsg.c,
 * ikev1_pld.c): the datagram parsed (the first input byte chooses port
 * 500 or 4500), then every payload decoded: SA proposals, transforms
 * and their TV/TLV attributes, IDs, notifies, deletes, NAT-OA.  With
 * the E flag the body is treated as already decrypted (a null cipher)
 * and parsed as the inner chain, padding allowed.
 *
 * Built and run by regress/fuzz/run.sh, seeds in corpus/ikev1 (the
 * messages of regress/iked/ikev1_msg_test.c).
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"
#include "ikev1.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ikemsg		 m;
static struct ikemsg_sa		 sa;
static struct ikemsg_stats	 st;
static volatile u_int		 sink;	/* keeps the reads */

static void
walk(const struct ikemsg *msg)
{
	const struct ikemsg_pld	*pld;
	const struct ikemsg_attr *at;
	struct ikemsg_notify	 n;
	struct ikemsg_delete	 d;
	struct ikemsg_id	 id;
	const uint8_t		*data;
	size_t			 len;
	uint8_t			 u8;
	u_int			 i, j;

	for (i = 0; i < msg->msg_npld; i++) {
		pld = &msg->msg_pld[i];
		data = ikemsg_pld_body(pld, &len);
		if (len > 0)
			sink += data[len - 1];
		switch (pld->pld_type) {
		case IKEV1_PAYLOAD_SA:
			if (ikev1_pld_sa(pld, &sa) != IKEMSG_OK)
				abort();	/* checked during the parse */
			for (j = 0; j < sa.sa_nattr; j++) {
				at = &sa.sa_attr[j];
				if (!at->at_tv && at->at_len > 0)
					sink += at->at_data[at->at_len - 1];
			}
			for (j = 0; j < sa.sa_nxf; j++)
				if ((at = ikemsg_xf_attr(&sa, &sa.sa_xf[j],
				    IKEV1_ATTR_LIFE_DURATION)) != NULL)
					sink += at->at_val;
			break;
		case IKEV1_PAYLOAD_ID:
			if (ikev1_pld_id(pld, &id) != IKEMSG_OK)
				abort();
			sink += id.id_data[id.id_len - 1];
			break;
		case IKEV1_PAYLOAD_NOTIFY:
			if (ikev1_pld_notify(pld, &n) != IKEMSG_OK)
				abort();
			if (n.n_datalen > 0)
				sink += n.n_data[n.n_datalen - 1];
			break;
		case IKEV1_PAYLOAD_DELETE:
			if (ikev1_pld_delete(pld, &d) != IKEMSG_OK)
				abort();
			sink += d.d_spi[(size_t)d.d_nspi * d.d_spisize - 1];
			break;
		case IKEV1_PAYLOAD_NAT_OA:
		case IKEV1_PAYLOAD_NAT_OA_DRAFT:
			if (ikev1_pld_natoa(pld, &u8, &data, &len) !=
			    IKEMSG_OK)
				abort();
			break;
		case IKEV1_PAYLOAD_CERT:
		case IKEV1_PAYLOAD_CR:
			if (ikemsg_pld_cert(pld, &u8, &data, &len) != IKEMSG_OK)
				abort();
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		*buf, *body;
	u_int		 flags;

	if (size < 1)
		return (0);
	flags = data[0] & 1 ? IKEMSG_F_NATT : 0;
	data++;
	size--;
	if ((buf = malloc(size ? size : 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	if (ikemsg_parse(&m, buf, size, flags, &st) == IKEMSG_OK &&
	    m.msg_version == 1) {
		walk(&m);
		if (m.msg_encoff != 0) {
			/* "Decrypted" into its own exact-size buffer. */
			if ((body = malloc(m.msg_enclen)) != NULL) {
				memcpy(body, m.msg_buf + m.msg_encoff,
				    m.msg_enclen);
				if (ikemsg_parse_inner(&m, body, m.msg_enclen,
				    &st) == IKEMSG_OK)
					walk(&m);
				free(body);
			}
		}
	}
	free(buf);
	return (0);
}
