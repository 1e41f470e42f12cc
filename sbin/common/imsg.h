/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Typed messages between the processes of one daemon, over a socketpair
 * (OpenBSD's imsg framing, written for this tree: libbsd has none).
 *
 * A message is a 16-byte header (type, total length, flags, peer id,
 * sender's pid, in host order: both ends are the same program on the
 * same host) and up to IMSG_MAXDATA bytes of data, and may carry one
 * descriptor (SCM_RIGHTS).  The receiver treats what it reads like any
 * untrusted input: a length outside [IMSG_HDRLEN, IMSG_MAXSIZE] is a
 * broken peer (imsg_get() fails with EBADMSG and the caller closes the
 * channel), and imsg_get_data() takes a payload only of the exact size
 * the type calls for.
 *
 * On OpenBSD libutil's imsg does the same; this one keeps its classic
 * names where it can (imsg_init, imsg_compose, imsg_read, imsg_get,
 * imsg_free) so that the code reads alike.
 */

#ifndef IMSG_H
#define IMSG_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#define IMSG_HDRLEN	16
#define IMSG_MAXSIZE	16384			/* header and data */
#define IMSG_MAXDATA	(IMSG_MAXSIZE - IMSG_HDRLEN)
#define IMSG_MAXFDS	16			/* received, not yet taken */

struct imsg_hdr {
	uint32_t	 type;
	uint16_t	 len;		/* header and data */
	uint16_t	 flags;		/* IMSGF_* */
	uint32_t	 peerid;
	uint32_t	 pid;
};
#define IMSGF_HASFD	0x0001	/* a descriptor came with it */

struct imsg {
	struct imsg_hdr	 hdr;
	int		 fd;		/* -1: none; the receiver owns it */
	void		*data;		/* hdr.len - IMSG_HDRLEN bytes */
};

struct imsg_out;
TAILQ_HEAD(imsg_outq, imsg_out);

struct imsgbuf {
	int		 fd;		/* the socketpair's end */
	pid_t		 pid;
	struct imsg_outq out;		/* composed, not yet written */
	size_t		 outbytes;
	size_t		 outmax;	/* queued bytes allowed (0: none) */
	uint8_t		*in;		/* read, not yet taken */
	size_t		 inlen;
	int		 fds[IMSG_MAXFDS];	/* received, in order */
	u_int		 nfds;
};

void	 imsg_init(struct imsgbuf *, int);
void	 imsg_clear(struct imsgbuf *);
int	 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 imsg_flush(struct imsgbuf *);
ssize_t	 imsg_read(struct imsgbuf *);
int	 imsg_get(struct imsgbuf *, struct imsg *);
int	 imsg_get_data(const struct imsg *, void *, size_t);
size_t	 imsg_datalen(const struct imsg *);
void	 imsg_free(struct imsg *);

#endif /* IMSG_H */
