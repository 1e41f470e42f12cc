/*
 * libFuzzer target: what one process of a daemon reads from another
 * (sbin/common/imsg.c).  A privilege-separated daemon's parent reads
 * what its unprivileged engine writes, and the engine may be subverted
 * by the network: the input is written, in pieces the first bytes
 * choose, to a real socketpair, read with imsg_read() and taken with
 * imsg_get() and imsg_get_data(), as a receiver would.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsgbuf	 ib;
	struct imsg	 im;
	uint64_t	 v;
	size_t		 off = 0, chunk;
	int		 sv[2], r;

	if (size < 1 || size > 4 * IMSG_MAXSIZE)
		return (0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return (0);
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	imsg_init(&ib, sv[1]);
	chunk = (size_t)data[0] * 64 + 1;
	data++;
	size--;
	while (off < size) {
		size_t	 n = size - off < chunk ? size - off : chunk;

		if (write(sv[0], data + off, n) != (ssize_t)n)
			break;
		off += n;
		if (imsg_read(&ib) <= 0)
			break;
		while ((r = imsg_get(&ib, &im)) == 1) {
			/* A typed receiver: exactly 8 bytes, or refused. */
			(void)imsg_get_data(&im, &v, sizeof(v));
			if (im.fd != -1)
				close(im.fd);
			imsg_free(&im);
		}
		if (r == -1)
			break;		/* a broken peer: the channel closes */
	}
	imsg_clear(&ib);
	close(sv[0]);
	close(sv[1]);
	return (0);
}
