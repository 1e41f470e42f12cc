/*
 * Packets as mbuf chains for the tests of the packet path, from code
 * that does not include ukern.h (mchain.c does, as kernel code).
 */
#ifndef _REGRESS_MCHAIN_H_
#define _REGRESS_MCHAIN_H_

#include <stddef.h>

struct mbuf;

/*
 * The len bytes at pkt as a chain: "first" bytes in the first mbuf (0
 * leaves it empty), the rest in mbufs of "seg" bytes each (0: one).
 * NULL if out of memory.
 */
struct mbuf	*mchain(const void *pkt, size_t len, size_t first, size_t seg);
/* How many mbufs the chain has. */
int		 mchain_count(const struct mbuf *);

#endif
