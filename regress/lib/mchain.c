/*
 * mchain.h: chains built with the mbuf(9) calls of sys/ukern.
 */
#include <ukern/ukern.h>

#include "mchain.h"

static struct mbuf *
mchain_append(struct mbuf *m, const uint8_t *p, size_t n)
{
	struct mbuf *t;

	if ((t = m_get(M_NOWAIT, MT_DATA)) == NULL ||
	    !m_append(t, (int)n, p)) {
		if (t != NULL)
			m_freem(t);
		m_freem(m);
		return (NULL);
	}
	m_catpkt(m, t);
	return (m);
}

struct mbuf *
mchain(const void *pkt, size_t len, size_t first, size_t seg)
{
	const uint8_t *p = pkt;
	struct mbuf *m;
	size_t off, n;

	if (first > len)
		first = len;
	if ((m = m_get2((int)first, M_NOWAIT, MT_DATA, M_PKTHDR)) == NULL)
		return (NULL);
	if (!m_append(m, (int)first, p)) {
		m_freem(m);
		return (NULL);
	}
	for (off = first; off < len; off += n) {
		n = seg == 0 ? len - off : MIN(seg, len - off);
		if ((m = mchain_append(m, p + off, n)) == NULL)
			return (NULL);
	}
	return (m);
}

int
mchain_count(const struct mbuf *m)
{
	int n;

	for (n = 0; m != NULL; m = m->m_next)
		n++;
	return (n);
}
