/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * RFC 7383 reassembly of IKEv2 fragments, after each fragment has been
 * decrypted and unpadded on its own (2.6).  Bounded in count
 * (IKEMSG_FRAG_MAX) and size (IKEMSG_FRAG_SIZE), and linear: each
 * fragment is stored in its slot, duplicates are dropped, and the
 * message is put together once, when the last one arrives (racoon's
 * CVE-2016-10396 was a reassembly whose cost grew with each fragment).
 * The caller drops an unfinished reassembly on its own timer with
 * ikemsg_frag_clear().
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"
#include "ikev2.h"

void
ikemsg_frag_init(struct ikemsg_frag *fr)
{
	memset(fr, 0, sizeof(*fr));
}

void
ikemsg_frag_clear(struct ikemsg_frag *fr)
{
	u_int	 i;

	for (i = 0; i < IKEMSG_FRAG_MAX; i++) {
		if (fr->fr_data[i] != NULL) {
			explicit_bzero(fr->fr_data[i], fr->fr_len[i]);
			free(fr->fr_data[i]);
		}
	}
	memset(fr, 0, sizeof(*fr));
}

/*
 * Add the plaintext of fragment m (already authenticated); *complete is
 * set when all have arrived.  A fragment of another message, or one
 * with a larger total (the sender fragmented again, 2.6), starts over;
 * one with a smaller total and duplicates are dropped (IKEMSG_OK).
 */
int
ikemsg_frag_add(struct ikemsg_frag *fr, const struct ikemsg *m,
    const uint8_t *plain, size_t len, int *complete)
{
	uint16_t	 num = m->msg_fragnum, total = m->msg_fragtotal;
	uint8_t		*copy;

	*complete = 0;
	if (m->msg_enctype != IKEV2_PAYLOAD_SKF || num == 0 || total == 0 || num > total ||
	    total > IKEMSG_FRAG_MAX)
		return (IKEMSG_EFRAG);
	if (fr->fr_total != 0 && (m->msg_msgid != fr->fr_msgid ||
	    total > fr->fr_total))
		ikemsg_frag_clear(fr);
	if (fr->fr_total == 0) {
		fr->fr_msgid = m->msg_msgid;
		fr->fr_total = total;
	} else if (total < fr->fr_total)
		return (IKEMSG_OK);
	if (fr->fr_data[num - 1] != NULL)
		return (IKEMSG_OK);
	if (len > IKEMSG_FRAG_SIZE - fr->fr_size)
		return (IKEMSG_ETOOMANY);
	/* Empty fragments are kept, as a one-byte allocation. */
	if ((copy = malloc(len ? len : 1)) == NULL)
		return (IKEMSG_ETOOMANY);
	if (len > 0)
		memcpy(copy, plain, len);
	fr->fr_data[num - 1] = copy;
	fr->fr_len[num - 1] = (uint16_t)len;
	fr->fr_size += len;
	fr->fr_count++;
	if (num == 1)
		fr->fr_first = m->msg_encnext;
	*complete = fr->fr_count == fr->fr_total;
	return (IKEMSG_OK);
}

/*
 * The reassembled inner payloads (malloc'd, the caller frees) and the
 * type of the first; clears fr.  Parse them with ikemsg_parse_inner()
 * after setting msg_encnext to *first.
 */
int
ikemsg_frag_take(struct ikemsg_frag *fr, uint8_t **buf, size_t *len,
    uint8_t *first)
{
	uint8_t	*p;
	size_t	 off = 0;
	u_int	 i;

	*buf = NULL;
	*len = 0;
	*first = 0;
	if (fr->fr_total == 0 || fr->fr_count != fr->fr_total)
		return (IKEMSG_EFRAG);
	if ((p = malloc(fr->fr_size ? fr->fr_size : 1)) == NULL)
		return (IKEMSG_ETOOMANY);
	for (i = 0; i < fr->fr_total; i++) {
		memcpy(p + off, fr->fr_data[i], fr->fr_len[i]);
		off += fr->fr_len[i];
	}
	*buf = p;
	*len = off;
	*first = fr->fr_first;
	ikemsg_frag_clear(fr);
	return (IKEMSG_OK);
}
