/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * mbuf(9), the subset sys/netipsec uses: packets as chains of buffers,
 * each with leading and trailing space (ukern.h).
 */

#include <ukern/ukern.h>
#include <ukern/ukern_hook.h>

MALLOC_DEFINE(M_MBUF, "mbuf", "packet buffers");

/* Slack added when a buffer must grow, so that it rarely grows twice. */
#define	UKERN_M_SLACK	256

static uint8_t *
ukern_m_alloc(size_t size, int how)
{

	return (malloc(size, M_MBUF, (how & M_WAITOK) ? M_WAITOK : M_NOWAIT));
}

static struct mbuf *
ukern_m_new(size_t size, size_t lead, int how, int flags)
{
	struct mbuf *m;

	m = malloc(sizeof(*m), M_MBUF, ((how & M_WAITOK) ? M_WAITOK :
	    M_NOWAIT) | M_ZERO);
	if (m == NULL)
		return (NULL);
	m->m_size = size;
	m->m_buf = ukern_m_alloc(m->m_size, how);
	if (m->m_buf == NULL) {
		free(m, M_MBUF);
		return (NULL);
	}
	m->m_data = m->m_buf + lead;
	m->m_flags = flags & M_PKTHDR;
	return (m);
}

struct mbuf *
m_get2(int size, int how, short type __unused, int flags)
{

	if (size < 0)
		return (NULL);
	return (ukern_m_new((size_t)size + max_linkhdr + UKERN_M_SLACK,
	    max_linkhdr, how, flags));
}

struct mbuf *
m_get(int how, short type __unused)
{

	return (ukern_m_new(MLEN, 0, how, 0));
}

void
m_freem(struct mbuf *m)
{
	struct mbuf *n;

	for (; m != NULL; m = n) {
		n = m->m_next;
		/* Packets carry plaintext: erase it, as key material is. */
		zfree(m->m_buf, M_MBUF);
		free(m, M_MBUF);
	}
}

int
ukern_m_grow(struct mbuf *m, int lead, int trail)
{
	uint8_t *nb;
	size_t size;

	if (lead < 0 || trail < 0)
		return (EINVAL);
	if (M_LEADINGSPACE(m) >= lead && M_TRAILINGSPACE(m) >= trail)
		return (0);
	size = (size_t)lead + (size_t)m->m_len + (size_t)trail +
	    max_linkhdr + UKERN_M_SLACK;
	nb = ukern_m_alloc(size, M_NOWAIT);
	if (nb == NULL)
		return (ENOBUFS);
	memcpy(nb + lead + max_linkhdr, m->m_data, m->m_len);
	zfree(m->m_buf, M_MBUF);
	m->m_buf = nb;
	m->m_size = size;
	m->m_data = nb + lead + max_linkhdr;
	return (0);
}

u_int
m_length(struct mbuf *m, struct mbuf **last)
{
	u_int len;

	len = 0;
	for (;;) {
		len += (u_int)m->m_len;
		if (m->m_next == NULL)
			break;
		m = m->m_next;
	}
	if (last != NULL)
		*last = m;
	return (len);
}

int
m_append(struct mbuf *m0, int len, const void *cp)
{
	struct mbuf *m;

	if (len < 0)
		return (0);
	(void)m_length(m0, &m);
	if (ukern_m_grow(m, 0, len) != 0)
		return (0);
	if (len > 0)
		memcpy(m->m_data + m->m_len, cp, len);
	m->m_len += len;
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.len += len;
	return (1);
}

/*
 * req_len > 0 trims from the head, < 0 from the tail; emptied mbufs stay
 * in the chain with m_len 0, as FreeBSD's do.
 */
void
m_adj(struct mbuf *mp, int req_len)
{
	struct mbuf *m;
	int len, n, total;

	if (mp == NULL)
		return;
	if (req_len >= 0) {
		len = req_len;
		for (m = mp; m != NULL && len > 0; m = m->m_next) {
			n = MIN(len, m->m_len);
			m->m_data += n;
			m->m_len -= n;
			len -= n;
		}
		n = req_len - len;
	} else {
		total = (int)m_length(mp, NULL);
		n = MIN(-req_len, total);
		len = total - n;		/* bytes to keep */
		for (m = mp; m != NULL; m = m->m_next) {
			if (m->m_len >= len) {
				m->m_len = len;
				len = 0;
			} else
				len -= m->m_len;
		}
	}
	if (mp->m_flags & M_PKTHDR)
		mp->m_pkthdr.len -= n;
}

void
m_copydata(const struct mbuf *m, int off, int len, void *cp)
{
	uint8_t *p = cp;
	int n;

	KASSERT(off >= 0 && len >= 0, ("m_copydata: off %d len %d", off,
	    len));
	while (m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		KASSERT(m != NULL, ("m_copydata: past the end of the chain"));
		n = MIN(m->m_len - off, len);
		memcpy(p, m->m_data + off, n);
		p += n;
		len -= n;
		off = 0;
		m = m->m_next;
	}
}

void
m_copyback(struct mbuf *m0, int off, int len, const void *cp)
{
	const uint8_t *p = cp;
	struct mbuf *m;
	int n, total;

	KASSERT(off >= 0 && len >= 0, ("m_copyback: off %d len %d", off,
	    len));
	if (len == 0)
		return;
	total = (int)m_length(m0, NULL);
	/* Past the end: the last buffer grows, zeros up to off. */
	if (off + len > total) {
		(void)m_length(m0, &m);
		n = off + len - total;
		if (ukern_m_grow(m, 0, n) != 0)
			return;		/* out of memory: nothing copied */
		memset(m->m_data + m->m_len, 0, n);
		m->m_len += n;
		if (m0->m_flags & M_PKTHDR)
			m0->m_pkthdr.len += n;
	}
	/* Now off + len <= total: the chain holds every byte written. */
	for (m = m0; off >= m->m_len; m = m->m_next)
		off -= m->m_len;
	while (len > 0) {
		KASSERT(m != NULL, ("m_copyback: past the end of the chain"));
		n = MIN(m->m_len - off, len);
		memcpy(m->m_data + off, p, n);
		p += n;
		len -= n;
		off = 0;
		m = m->m_next;
	}
}

struct mbuf *
m_pullup(struct mbuf *m, int len)
{
	struct mbuf *n;
	int need, k;

	if (len <= m->m_len)
		return (m);
	if (len < 0 || (u_int)len > m_length(m, NULL) ||
	    ukern_m_grow(m, 0, len - m->m_len) != 0) {
		m_freem(m);
		return (NULL);
	}
	need = len - m->m_len;
	while (need > 0) {
		n = m->m_next;
		k = MIN(need, n->m_len);
		memcpy(m->m_data + m->m_len, n->m_data, k);
		m->m_len += k;
		n->m_data += k;
		n->m_len -= k;
		need -= k;
		if (n->m_len == 0) {
			m->m_next = n->m_next;
			n->m_next = NULL;
			m_freem(n);
		}
	}
	return (m);
}

void
m_cat(struct mbuf *m, struct mbuf *n)
{

	while (m->m_next != NULL)
		m = m->m_next;
	m->m_next = n;
}

void
m_catpkt(struct mbuf *m, struct mbuf *n)
{

	KASSERT(m->m_flags & M_PKTHDR, ("m_catpkt: no packet header"));
	m->m_pkthdr.len += (int)m_length(n, NULL);
	n->m_flags &= ~M_PKTHDR;
	m_cat(m, n);
}

struct mbuf *
m_devget(char *buf, int totlen, int off, struct ifnet *ifp,
    void (*copy)(char *, char *, u_int))
{
	struct mbuf *m;

	KASSERT(ifp == NULL && copy == NULL, ("m_devget: ifp or copy"));
	if (totlen < 0 || off < 0 || off > max_linkhdr)
		return (NULL);
	/* As FreeBSD's: off is leading space left in the mbuf. */
	m = m_get2(totlen + off, M_NOWAIT, MT_DATA, M_PKTHDR);
	if (m == NULL)
		return (NULL);
	m->m_data += off;
	if (totlen > 0)
		memcpy(m->m_data, buf, totlen);
	m->m_len = m->m_pkthdr.len = totlen;
	return (m);
}

/* For hosts that do not include ukern.h (ukern_hook.h). */
struct mbuf *
ukern_m_frombuf(const void *pkt, size_t len)
{

	if (len > INT_MAX)
		return (NULL);
	return (m_devget((char *)(uintptr_t)pkt, (int)len, 0, NULL, NULL));
}

const void *
ukern_m_flat(struct mbuf **mp, size_t *lenp)
{
	struct mbuf *m = *mp;
	int len;

	len = m->m_pkthdr.len;
	if (m->m_len < len && (m = m_pullup(m, len)) == NULL) {
		*mp = NULL;
		*lenp = 0;
		return (NULL);
	}
	*mp = m;
	*lenp = (size_t)len;
	return (mtod(m, const void *));
}

void
ukern_m_freem(struct mbuf *m)
{

	m_freem(m);
}
