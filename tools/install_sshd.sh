#!/bin/sh
# OpenSSH's server for tests/test_remote.py (NNI's remote training service, exercised on this
# host). Installs Debian's openssh-server when it is missing and we may (root + apt-get);
# otherwise says why, and the remote test skips with that reason. Starts no service.
set -u
[ -x /usr/sbin/sshd ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_sshd: /usr/sbin/sshd missing and cannot apt-get install openssh-server here" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q openssh-server >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q openssh-server >/dev/null 2>&1; } ||
    { echo "install_sshd: apt-get install openssh-server failed" >&2; exit 1; }
echo "install_sshd: installed $(/usr/sbin/sshd -V 2>&1 | head -1)"
