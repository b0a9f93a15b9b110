#!/bin/sh
# The hardening configure adds by default (issue 16), read back from the built binary with
# readelf: PIE, full RELRO (GNU_RELRO and BIND_NOW), the stack protector and
# _FORTIFY_SOURCE. A build configured with --disable-hardening skips (exit 77).
: "${TCPTOP:=$(pwd)/tcptop}"
if [ "${TCPTOP_HARDENING:-yes}" != yes ]; then
	echo "configured with --disable-hardening"
	exit 77
fi
if ! command -v readelf >/dev/null 2>&1; then
	echo "check-hardening.sh: readelf (Debian package: binutils) is missing" >&2
	exit 99
fi
status=0
fail() {
	echo "check-hardening.sh: $TCPTOP: $*" >&2
	status=1
}
headers=$(readelf -h "$TCPTOP") || exit 99
segments=$(readelf -lW "$TCPTOP") || exit 99
dynamic=$(readelf -dW "$TCPTOP") || exit 99
symbols=$(readelf --dyn-syms -W "$TCPTOP") || exit 99

echo "$headers" | grep -q 'Type:[[:space:]]*DYN' || fail "not position-independent (PIE)"
echo "$dynamic" | grep -q 'FLAGS_1.*PIE' || fail "no PIE flag in the dynamic section"
echo "$segments" | grep -q 'GNU_RELRO' || fail "no GNU_RELRO segment (-z relro)"
echo "$dynamic" | grep -Eq 'BIND_NOW|FLAGS.*[[:space:]]NOW' || fail "no BIND_NOW (-z now)"
echo "$symbols" | grep -q '__stack_chk_fail' || fail "no stack protector (__stack_chk_fail)"
echo "$symbols" | grep -Eq '__[a-z]+_chk(@|[[:space:]]|$)' ||
	fail "no fortified calls (_FORTIFY_SOURCE: no __*_chk symbol)"
[ $status -eq 0 ] && echo "hardened: PIE, full RELRO, stack protector, _FORTIFY_SOURCE"
exit $status
