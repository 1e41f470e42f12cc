/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Typed messages between the processes of one daemon (imsg.h).
 *
 * Writing: each composed message waits in a queue until imsg_flush()
 * has written it whole; a message with a descriptor goes out in its
 * own sendmsg(2), the descriptor with its first byte, and our copy of
 * the descriptor is closed once it is sent.  The queue is bounded
 * (imsgbuf.outmax): a peer that stops reading cannot make us grow
 * without end; imsg_compose() then fails with ENOBUFS.
 *
 * Reading: imsg_read() appends what the socket has to a buffer of four
 * maximal messages and keeps the descriptors that came with it, in
 * order; imsg_get() takes one whole message at a time and checks its
 * length before anything else.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_INBUF	(4 * IMSG_MAXSIZE)
#define IMSG_OUTMAX	(1024 * 1024)	/* default bound of the queue */

struct imsg_out {
	TAILQ_ENTRY(imsg_out)	 entry;
	int			 fd;	/* to send with the first byte */
	size_t			 len;
	size_t			 off;	/* written so far */
	uint8_t			 buf[];
};

void
imsg_init(struct imsgbuf *ib, int fd)
{
	memset(ib, 0, sizeof(*ib));
	ib->fd = fd;
	ib->pid = getpid();
	ib->outmax = IMSG_OUTMAX;
	TAILQ_INIT(&ib->out);
}

/* Everything queued or received and not taken goes; fd stays open. */
void
imsg_clear(struct imsgbuf *ib)
{
	struct imsg_out	*o;
	u_int		 i;

	while ((o = TAILQ_FIRST(&ib->out)) != NULL) {
		TAILQ_REMOVE(&ib->out, o, entry);
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	ib->outbytes = 0;
	for (i = 0; i < ib->nfds; i++)
		close(ib->fds[i]);
	ib->nfds = 0;
	free(ib->in);
	ib->in = NULL;
	ib->inlen = 0;
}

/*
 * Queue a message of type with len bytes of data and, if fd is not -1,
 * that descriptor, which the queue then owns (closed once sent, or by
 * imsg_clear()).  -1 with errno: EMSGSIZE (too much data), ENOBUFS (the
 * queue is full: the peer does not read), ENOMEM; the caller keeps fd.
 */
int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct imsg_out	*o;
	struct imsg_hdr	 hdr;

	if (len > IMSG_MAXDATA) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (ib->outmax != 0 &&
	    ib->outbytes + IMSG_HDRLEN + len > ib->outmax) {
		errno = ENOBUFS;
		return (-1);
	}
	if ((o = malloc(sizeof(*o) + IMSG_HDRLEN + len)) == NULL)
		return (-1);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint16_t)(IMSG_HDRLEN + len);
	hdr.flags = fd != -1 ? IMSGF_HASFD : 0;
	hdr.peerid = peerid;
	hdr.pid = (uint32_t)ib->pid;
	memcpy(o->buf, &hdr, IMSG_HDRLEN);
	if (len > 0)
		memcpy(o->buf + IMSG_HDRLEN, data, len);
	o->fd = fd;
	o->len = IMSG_HDRLEN + len;
	o->off = 0;
	TAILQ_INSERT_TAIL(&ib->out, o, entry);
	ib->outbytes += o->len;
	return (0);
}

/*
 * Write what is queued: 0 when all is written, 1 when the socket is
 * full (call again when it is writable), -1 with errno on an error (a
 * peer gone: EPIPE).
 */
int
imsg_flush(struct imsgbuf *ib)
{
	struct imsg_out	*o;
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(int))];
	}		 cbuf;
	struct cmsghdr	*cm;
	ssize_t		 n;
	int		 flags = 0;

#ifdef MSG_NOSIGNAL
	flags = MSG_NOSIGNAL;	/* EPIPE, not SIGPIPE (BSD: SO_NOSIGPIPE) */
#endif
	while ((o = TAILQ_FIRST(&ib->out)) != NULL) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = o->buf + o->off;
		iov.iov_len = o->len - o->off;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (o->fd != -1 && o->off == 0) {
			memset(&cbuf, 0, sizeof(cbuf));
			mh.msg_control = &cbuf;
			mh.msg_controllen = sizeof(cbuf.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &o->fd, sizeof(int));
		}
		if ((n = sendmsg(ib->fd, &mh, flags)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return (1);
			return (-1);
		}
		if (o->fd != -1) {
			/* The peer has its own copy now. */
			close(o->fd);
			o->fd = -1;
		}
		o->off += (size_t)n;
		if (o->off < o->len)
			continue;
		TAILQ_REMOVE(&ib->out, o, entry);
		ib->outbytes -= o->len;
		free(o);
	}
	return (0);
}

/*
 * Read what the socket has: the bytes read, 0 at end of file, -1 with
 * errno (EAGAIN: nothing now; EBADMSG: descriptors lost or too many,
 * a broken peer).  Take the messages with imsg_get() before the next
 * read: with a full buffer this fails with ENOBUFS.
 */
ssize_t
imsg_read(struct imsgbuf *ib)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(int) * IMSG_MAXFDS)];
	}		 cbuf;
	struct cmsghdr	*cm;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 fd, flags = 0, bad = 0;

	if (ib->in == NULL && (ib->in = malloc(IMSG_INBUF)) == NULL)
		return (-1);
	if (ib->inlen == IMSG_INBUF) {
		errno = ENOBUFS;
		return (-1);
	}
#ifdef MSG_CMSG_CLOEXEC
	flags = MSG_CMSG_CLOEXEC;
#endif
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = ib->in + ib->inlen;
	iov.iov_len = IMSG_INBUF - ib->inlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &cbuf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do {
		n = recvmsg(ib->fd, &mh, flags);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
			if (ib->nfds < IMSG_MAXFDS)
				ib->fds[ib->nfds++] = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	ib->inlen += (size_t)n;
	if (bad || (mh.msg_flags & MSG_CTRUNC)) {
		errno = EBADMSG;
		return (-1);
	}
	return (n);
}

/*
 * The next whole message: 1, and it is the caller's (imsg_free(), and
 * its fd if not -1); 0 when none is whole yet; -1 with errno EBADMSG
 * when the peer is broken (a length out of bounds, a descriptor
 * announced and not received): close the channel.
 */
int
imsg_get(struct imsgbuf *ib, struct imsg *im)
{
	struct imsg_hdr	 hdr;
	size_t		 dlen;

	memset(im, 0, sizeof(*im));
	im->fd = -1;
	if (ib->inlen < IMSG_HDRLEN)
		return (0);
	memcpy(&hdr, ib->in, IMSG_HDRLEN);
	if (hdr.len < IMSG_HDRLEN || hdr.len > IMSG_MAXSIZE ||
	    (hdr.flags & ~IMSGF_HASFD) != 0) {
		errno = EBADMSG;
		return (-1);
	}
	if (ib->inlen < hdr.len)
		return (0);
	if ((hdr.flags & IMSGF_HASFD) && ib->nfds == 0) {
		errno = EBADMSG;
		return (-1);
	}
	dlen = hdr.len - IMSG_HDRLEN;
	if (dlen > 0) {
		if ((im->data = malloc(dlen)) == NULL)
			return (-1);
		memcpy(im->data, ib->in + IMSG_HDRLEN, dlen);
	}
	if (hdr.flags & IMSGF_HASFD) {
		im->fd = ib->fds[0];
		memmove(ib->fds, ib->fds + 1, --ib->nfds * sizeof(int));
	}
	im->hdr = hdr;
	ib->inlen -= hdr.len;
	memmove(ib->in, ib->in + hdr.len, ib->inlen);
	return (1);
}

size_t
imsg_datalen(const struct imsg *im)
{
	return (im->hdr.len - IMSG_HDRLEN);
}

/* The data, of exactly len bytes (its type's size): 0, or -1 EBADMSG. */
int
imsg_get_data(const struct imsg *im, void *buf, size_t len)
{
	if (imsg_datalen(im) != len || (len > 0 && im->data == NULL)) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(buf, im->data, len);
	return (0);
}

/* The message's data; its descriptor, if any, stays the caller's. */
void
imsg_free(struct imsg *im)
{
	free(im->data);
	im->data = NULL;
}
