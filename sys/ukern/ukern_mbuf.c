/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * mbuf(9), the subset sys/netipsec uses: one contiguous buffer per
 * packet, with leading and trailing space.
 */

#include <ukern/ukern.h>

MALLOC_DEFINE(M_MBUF, "mbuf", "packet buffers");

/* Slack added when a buffer must grow, so that it rarely grows twice. */
#define	UKERN_M_SLACK	256

static uint8_t *
ukern_m_alloc(size_t size, int how)
{

	return (malloc(size, M_MBUF, (how & M_WAITOK) ? M_WAITOK : M_NOWAIT));
}

struct mbuf *
m_get2(int size, int how, short type __unused, int flags __unused)
{
	struct mbuf *m;

	if (size < 0)
		return (NULL);
	m = malloc(sizeof(*m), M_MBUF, ((how & M_WAITOK) ? M_WAITOK :
	    M_NOWAIT) | M_ZERO);
	if (m == NULL)
		return (NULL);
	m->m_size = (size_t)size + max_linkhdr + UKERN_M_SLACK;
	m->m_buf = ukern_m_alloc(m->m_size, how);
	if (m->m_buf == NULL) {
		free(m, M_MBUF);
		return (NULL);
	}
	m->m_data = m->m_buf + max_linkhdr;
	m->m_flags = M_PKTHDR;
	return (m);
}

void
m_freem(struct mbuf *m)
{

	if (m == NULL)
		return;
	/* Packets carry plaintext: erase it, as key material is. */
	zfree(m->m_buf, M_MBUF);
	free(m, M_MBUF);
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

int
m_append(struct mbuf *m, int len, const void *cp)
{

	if (len < 0 || ukern_m_grow(m, 0, len) != 0)
		return (0);
	memcpy(m->m_data + m->m_len, cp, len);
	m->m_len += len;
	m->m_pkthdr.len = m->m_len;
	return (1);
}

/* req_len > 0 trims from the head, < 0 from the tail. */
void
m_adj(struct mbuf *m, int req_len)
{
	int n;

	if (req_len >= 0) {
		n = MIN(req_len, m->m_len);
		m->m_data += n;
	} else
		n = MIN(-req_len, m->m_len);
	m->m_len -= n;
	m->m_pkthdr.len = m->m_len;
}

void
m_copydata(const struct mbuf *m, int off, int len, void *cp)
{

	KASSERT(off >= 0 && len >= 0 && off + len <= m->m_len,
	    ("m_copydata: %d+%d > %d", off, len, m->m_len));
	memcpy(cp, m->m_data + off, len);
}
