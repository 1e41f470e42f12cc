# make install's test suite (mk/install-tests.sh) and service files
# (etc/Makefile): installed under a
# PREFIX of the test's own, with programs standing in for the installed
# ones that record their use and run this tree's; Kyua runs a part of
# the installed suite from its Kyuafile alone, and the tests it runs
# use the installed programs, not the source tree's.

atf_test_case installed cleanup
installed_head()
{
	atf_set "descr" "the installed suite runs with kyua test -k PREFIX/tests/netipsec/Kyuafile, against the installed programs"
	atf_set "require.progs" "kyua"
	atf_set "timeout" "300"
}
installed_body()
{
	TOP="$(atf_get_srcdir)/../.."
	[ -f "$TOP/mk/install-tests.sh" ] ||
	    atf_skip "needs the source tree (mk/install-tests.sh)"
	TOP=$(cd "$TOP" && pwd)
	for p in netipsecd setkey iked ikectl; do
		[ -x "$TOP/sbin/$p/$p" ] || atf_fail "$p is not built"
	done
	prefix=$PWD/inst
	mkdir -p "$prefix/sbin" "$prefix/lib"
	# The "installed" programs: this tree's, each call recorded.
	for p in netipsecd setkey iked ikectl; do
		printf '#!/bin/sh\necho "%s $*" >>%s/used\nexec %s "$@"\n' \
		    "$p" "$PWD" "$TOP/sbin/$p/$p" >"$prefix/sbin/$p"
		chmod 755 "$prefix/sbin/$p"
	done
	cp "$TOP/lib/libpfkey/libpfkey_preload.so" "$prefix/lib/"
	atf_check -s exit:0 -o match:"tests/netipsec" env PREFIX="$prefix" \
	    DESTDIR= sh "$TOP/mk/install-tests.sh"
	t=$prefix/tests/netipsec
	[ -f "$t/Kyuafile" ] || atf_fail "no Kyuafile installed"
	atf_check_equal "$prefix/sbin/iked" "$(readlink "$t/sbin/iked/iked")"
	for f in regress/iked/t_iked regress/iked/privsep_test \
	    regress/lib/netns.subr regress/setkey/t_setkey \
	    share/examples/iked/gateway.conf etc/systemd/iked.service.in; do
		[ -e "$t/$f" ] || atf_fail "$f is not installed"
	done
	find "$t" -name '*.o' -o -name '*.c' | grep -q . &&
	    atf_fail "sources or objects installed"
	# The service files name the installed programs.
	atf_check -s exit:0 -o ignore -e ignore make -C "$TOP/etc" install \
	    PREFIX="$prefix" DESTDIR=
	grep -q "^ExecStart=$prefix/sbin/iked -d" \
	    "$prefix/lib/systemd/system/iked.service" ||
	    atf_fail "iked.service does not start $prefix/sbin/iked"
	grep -q "^ipsec_program=\"$prefix/sbin/setkey\"" \
	    "$prefix/etc/rc.d/ipsec" || atf_fail "rc.d/ipsec: not $prefix's setkey"
	# Kyua from the installed Kyuafile; no source tree in its paths.
	cd "$t"
	kyua test -k "$t/Kyuafile" regress/iked/t_iked regress/common/imsg_test \
	    >"$OLDPWD/kyua.out" 2>&1
	cd "$OLDPWD"
	grep -q -- '->  \(failed\|broken\)' kyua.out &&
	    { cat kyua.out; atf_fail "installed tests failed"; }
	grep -q 'regress/iked/t_iked:canonical  ->  passed' kyua.out ||
	    { cat kyua.out; atf_fail "t_iked did not run"; }
	grep -q 'regress/common/imsg_test:.*passed' kyua.out ||
	    { cat kyua.out; atf_fail "imsg_test did not run"; }
	grep -q '^iked ' used || atf_fail "the tests did not use the installed iked"
}
installed_cleanup()
{
	rm -rf inst
}

atf_init_test_cases()
{
	atf_add_test_case installed
}
