# The top of the tree.  Works with GNU make and with BSD make (bmake): no
# conditionals and no flavour-specific functions here; whatever needs
# logic is in a small script under mk/ that both makes run.
#
#	make [all]	build every directory of SUBDIR, in order
#	make deps	install the packages the build and tests need
#	make check	deps, all, then the Kyua tests under regress/
#	make demo	deps, all, then mk/demo.sh (needs root): the founding
#			sequence, A pings B through iked and netipsecd
#	make demo-setkey  the same layer keyed by hand with setkey
#	make bench	run regress/bench/run.sh
#	make fuzz	run regress/fuzz/run.sh, FUZZ_SECONDS per target
#	make port-check FREEBSD_SYS=dir  sys/netipsec as FreeBSD kernel code
#	make lint	clang-format (report), mandoc -Tlint, cppcheck
#	make install	PREFIX (/usr/local) and DESTDIR as usual
#	make clean
#
# SANITIZE=1, CC=..., PREFIX=..., DESTDIR=... given on the command line
# reach every sub-make.

SUBDIR =	sys lib/libpfkey sbin/netipsecd sbin/ipsecif sbin/setkey sbin/iked \
		sbin/ikectl \
		etc regress

FUZZ_SECONDS ?=	30
SUBMAKE =	MAKE='$(MAKE)' sh mk/subdir.sh

all:
	@$(SUBMAKE) all $(SUBDIR)

deps:
	@sh mk/deps.sh
	@sh mk/user.sh

check:
	@sh mk/deps.sh
	@sh mk/user.sh
	@$(SUBMAKE) all $(SUBDIR)
	@sh mk/check.sh

demo:
	@sh mk/deps.sh
	@sh mk/user.sh
	@$(SUBMAKE) all $(SUBDIR)
	@IKE=$(IKE) AUTH=$(AUTH) sh mk/demo.sh

demo-setkey:
	@sh mk/deps.sh
	@sh mk/user.sh
	@$(SUBMAKE) all $(SUBDIR)
	@sh mk/demo-setkey.sh

bench:
	@sh mk/user.sh
	@$(SUBMAKE) all $(SUBDIR)
	@if [ -f regress/bench/run.sh ]; then \
		MAKE='$(MAKE)' sh regress/bench/run.sh; \
	else \
		echo "bench: regress/bench/run.sh is not written yet"; \
	fi

# sys/netipsec compiled as FreeBSD kernel code (regress/port/port-check.sh,
# sys/netipsec/PORTING.md): FREEBSD_SYS=/path/to/freebsd/sys.
port-check:
	@FREEBSD_SYS='$(FREEBSD_SYS)' sh regress/port/port-check.sh

fuzz:
	@if [ -f regress/fuzz/run.sh ]; then \
		FUZZ_SECONDS=$(FUZZ_SECONDS) MAKE='$(MAKE)' \
		    sh regress/fuzz/run.sh; \
	else \
		echo "fuzz: regress/fuzz/run.sh is not written yet"; \
	fi

lint:
	@sh mk/deps.sh
	@sh mk/lint.sh

install:
	@$(SUBMAKE) install $(SUBDIR)
	@if [ -z "$(DESTDIR)" ]; then sh mk/user.sh; fi

clean:
	@$(SUBMAKE) clean $(SUBDIR) regress/bench
	rm -f kyua-results.db

.PHONY: all deps check demo demo-setkey bench port-check fuzz lint install clean
