# Settings shared by every Makefile of the tree.  Portable between GNU make
# (4.x) and bmake: no conditionals, no GNU functions; "VAR != cmd" and
# nested expansion $(X_$(Y)) work in both.  Each directory sets TOP
# (relative path to the top of the tree) before including this file.

CC ?=		cc
AR ?=		ar
PREFIX ?=	/usr/local
DESTDIR ?=

# SANITIZE=1 builds with ASan+UBSan; FUZZ=1 is set by "make fuzz" (clang).
SANITIZE ?=	0
SAN_CFLAGS_0 =
SAN_CFLAGS_1 =	-fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=all
SAN_CFLAGS =	$(SAN_CFLAGS_$(SANITIZE))

# libbsd's overlay gives <sys/queue.h>, <sys/tree.h>, strlcpy() ... the BSD
# way on Linux; on a BSD the command fails and the flags are empty.
BSD_CFLAGS !=	pkg-config --cflags libbsd-overlay 2>/dev/null || true
BSD_LIBS !=	pkg-config --libs libbsd-overlay 2>/dev/null || true

OPT ?=		-O2 -g
WARNS =		-Wall -Wextra -Werror
CPPFLAGS_ALL =	-I$(TOP)/sys -I$(TOP)/lib/libpfkey -D_DEFAULT_SOURCE \
		$(BSD_CFLAGS)
# DIR_CFLAGS: a directory's own flags, set in its Makefile (after the
# include is fine: make expands these late); CFLAGS_EXTRA: the user's.
CFLAGS_ALL =	-std=c11 $(OPT) $(WARNS) -fPIC $(SAN_CFLAGS) \
		$(CPPFLAGS_ALL) $(DIR_CFLAGS) $(CFLAGS_EXTRA)
LDFLAGS_ALL =	$(SAN_CFLAGS) $(LDFLAGS_EXTRA)

# The kernel layer and its host environment, as one archive.
LIBNETIPSEC =	$(TOP)/sys/libnetipsec.a
NETIPSEC_LIBS =	$(LIBNETIPSEC) -lcrypto -lz -lpthread $(BSD_LIBS)

# The PF_KEY client library.
LIBPFKEY =	$(TOP)/lib/libpfkey/libpfkey.a
PFKEY_LIBS =	$(LIBPFKEY) $(BSD_LIBS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# Objects built with other settings are removed before anything is made
# (mk/buildflags.sh keeps the last settings in each directory's
# .buildflags): switching SANITIZE or CC rebuilds, never mixes.
BUILDFLAGS =	$(CC) $(OPT) $(SAN_CFLAGS) $(CFLAGS_EXTRA) $(LDFLAGS_EXTRA)
BUILDFLAGS_CHECKED != sh $(TOP)/mk/buildflags.sh "$(BUILDFLAGS)"
