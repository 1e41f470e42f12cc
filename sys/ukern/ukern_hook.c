/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ipsec_hook(9) over flat buffers (ukern_hook.h).
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/ipsec_hook.h>
#include <netipsec/ipsec_hook_var.h>
#include <ukern/ukern_hook.h>

/* The packet *mp as a flat buffer of the layer's in *outp. */
static int
ukern_hook_out(int v, struct mbuf *m, void **outp, size_t *outlenp)
{
	void *buf;
	int olen;

	if (v == IPSEC_HOOK_REPLACE) {
		olen = m->m_pkthdr.len;
		buf = ipsec_hook_alloc((size_t)MAX(olen, 1));
		if (buf == NULL)
			v = IPSEC_HOOK_DROP;
		else {
			m_copydata(m, 0, olen, buf);
			*outp = buf;
			*outlenp = (size_t)olen;
		}
	}
	if (m != NULL)
		m_freem(m);
	return (v);
}

int
ukern_ipsec_hook(int where, const void *pkt, size_t len, uint64_t cookie,
    void **outp, size_t *outlenp)
{
	struct mbuf *m;
	int v;

	*outp = NULL;
	*outlenp = 0;
	if ((m = ukern_m_frombuf(pkt, len)) == NULL)
		return (IPSEC_HOOK_DROP);
	v = ipsec_hook(where, &m, cookie);
	return (ukern_hook_out(v, m, outp, outlenp));
}

int
ukern_ipsec_if_output(unsigned int ifindex, const void *pkt, size_t len,
    uint64_t cookie, void **outp, size_t *outlenp)
{
	struct mbuf *m;
	int v;

	*outp = NULL;
	*outlenp = 0;
	if ((m = ukern_m_frombuf(pkt, len)) == NULL)
		return (IPSEC_HOOK_DROP);
	v = ipsec_if_output(ifindex, &m, cookie);
	return (ukern_hook_out(v, m, outp, outlenp));
}
