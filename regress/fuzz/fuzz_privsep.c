/*
 * libFuzzer target: what each side of iked's privilege separation reads
 * from the other.  The first byte chooses: the parent's check of a
 * PF_KEY message from the engine (sbin/iked/pfkey_filter.c, which the
 * network may have subverted), with what it learns from the kernel's
 * replies; or a sequence of configuration messages as the engine takes
 * them (sbin/iked/cfgmsg.c): each a type byte, a 16-bit length and that
 * many bytes.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "iked.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
filter(const uint8_t *data, size_t size)
{
	static struct pfkey_ids	*ids;

	if (ids == NULL && (ids = pfkey_ids_new()) == NULL)
		return;
	(void)pfkey_filter(data, size, 4242, ids);
	pfkey_filter_learn(data, size, 4242, ids);
	(void)pfkey_filter(data, size, 4242, ids);
	if (pfkey_ids_count(ids) > 1000) {
		pfkey_ids_free(ids);
		ids = NULL;
	}
}

static void
config(const uint8_t *data, size_t size)
{
	struct cfgmsg_state	 cs;
	struct iked_config	*cf = NULL;
	struct imsg		 im;
	uint8_t			*buf;
	size_t			 off = 0, len;

	memset(&cs, 0, sizeof(cs));
	while (off + 3 <= size) {
		memset(&im, 0, sizeof(im));
		im.hdr.type = IMSG_CFG_START + data[off] % 6;
		len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > IMSG_MAXDATA)
			len = IMSG_MAXDATA;
		/* Exactly len bytes, so that ASan sees any overread. */
		if ((buf = malloc(len > 0 ? len : 1)) == NULL)
			break;
		memcpy(buf, data + off, len);
		off += len;
		im.hdr.len = (uint16_t)(IMSG_HDRLEN + len);
		im.data = len > 0 ? buf : NULL;
		im.fd = -1;
		if (cfgmsg_recv(&cs, &im, &cf) == 1) {
			config_free(cf);
			cf = NULL;
		}
		free(buf);
	}
	cfgmsg_abort(&cs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 once;

	if (!once) {
		log_init(1, LOG_DAEMON);
		log_setverbose(0);
		once = 1;
	}
	if (size < 1)
		return (0);
	if (data[0] & 1)
		filter(data + 1, size - 1);
	else
		config(data + 1, size - 1);
	return (0);
}
