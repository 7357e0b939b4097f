#!/usr/bin/env bash
# `make install` into a prefix: the binary, the config (never overwritten by
# a reinstall), the init script and the contrib files; the installed binary
# checks the installed config.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
BUILD=$(dirname "$CHORUSD")
P=$T/prefix
make -s -C "$BUILD" install prefix="$P" >"$T/install.log" 2>&1
check "make install succeeds" [ $? = 0 ]
check "sbin/chorusd installed" [ -x "$P/sbin/chorusd" ]
check "etc/chorus/config.json installed" [ -f "$P/etc/chorus/config.json" ]
check "etc/chorus/config.json.default installed" [ -f "$P/etc/chorus/config.json.default" ]
check "etc/init.d/chorus installed, executable" [ -x "$P/etc/init.d/chorus" ]
for f in contrib/nginx/chorus.conf contrib/haproxy/chorus.cfg contrib/systemd/chorus.service contrib/logrotate/chorus; do
    check "share/chorus/$f installed" [ -f "$P/share/chorus/$f" ]
done
check "the installed binary accepts the installed config" "$P/sbin/chorusd" -t -c "$P/etc/chorus/config.json"
echo '{"ServiceSettings": {"SiteURL": "https://chat.example.com"}}' >"$P/etc/chorus/config.json"
make -s -C "$BUILD" install prefix="$P" >>"$T/install.log" 2>&1
check "a reinstall keeps an edited config" grep -q chat.example.com "$P/etc/chorus/config.json"
finish
