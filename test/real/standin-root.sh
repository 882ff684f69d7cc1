#!/usr/bin/env bash
# standin-root.sh CACHE_DIR
#
# Builds (once per machine) the closest stand-in for live-bootstrap 1.0 output that Debian's
# packages allow, and prints the path of the finished root on stdout (last line). Everything
# else goes to stderr. docs/standin-root.md lists every way the root differs from real
# live-bootstrap output and what a test run in it can and cannot show.
#
# The root is Debian bookworm, minbase, 32-bit x86 (i386, as live-bootstrap is x86), with the
# compilers and tools the recipe's first phases and Portage need, then laid out as
# live-bootstrap leaves its target/ folder: /steps/{env,manifest,bootstrap.cfg}, the gcc
# libexec folder named by the musl triplet, /usr/sbin a link to bin, /usr/bin/sh bash, ...
# No Portage and no Gentoo file goes in: the tests bring those.
#
# Cache: CACHE_DIR/standin-<key>/root with CACHE_DIR/standin-<key>/done written last, where
# key is made from the sha256 of this script and the architecture. A build happens in a
# temporary sibling folder renamed into place when it is complete; callers serialise on
# flock(CACHE_DIR/standin.lock). Needs root (debootstrap, chroot) and debootstrap.
set -euo pipefail

suite='bookworm'
debian_arch='i386'
triplet='i386-unknown-linux-musl'
# What the recipe's first phases, Portage 3.0.66.1 and building squashfs-tools 4.6.1,
# app-arch/bzip2 and sys-apps/findutils with Portage need; dependencies come along. m4,
# help2man (squashfs-tools' install runs it when present) and libffi's headers are there because
# live-bootstrap has them and the recipe's package.provided says so; the rest it has is not.
packages=(
  bash coreutils findutils grep sed gawk diffutils patch tar gzip bzip2 xz-utils file
  make gcc g++ perl python3 curl ca-certificates m4 help2man
  zlib1g-dev liblzma-dev libffi-dev
)

log() { printf 'standin-root: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$#" -eq 1 ] || { printf 'usage: %s CACHE_DIR\n' "$0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die 'must run as root (debootstrap and chroot)'
command -v debootstrap > /dev/null || die 'debootstrap is not installed (apt-get install debootstrap)'
command -v flock > /dev/null || die 'flock is not installed (util-linux)'

script=$(readlink -f -- "${BASH_SOURCE[0]}")
script_sum=$(sha256sum -- "$script" | cut -d' ' -f1)
key=$(printf '%s %s %s\n' "$script_sum" "$debian_arch" "$(uname -m)" | sha256sum | cut -c1-16)

mkdir -p -- "$1"
cache_dir=$(cd -- "$1" && pwd -P)
final="$cache_dir/standin-$key"

if [ -f "$final/done" ] && [ -d "$final/root" ]; then
  printf '%s\n' "$final/root"
  exit 0
fi

# One builder at a time; later callers find the finished root once the lock is theirs.
exec 9>> "$cache_dir/standin.lock"
flock 9
if [ -f "$final/done" ] && [ -d "$final/root" ]; then
  printf '%s\n' "$final/root"
  exit 0
fi

# Mounts a killed debootstrap may have left (it mounts proc and sys in the root it builds).
unmount_under() {
  local dir="$1" m
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while IFS= read -r m; do umount -l -- "$m" || true; done
}

remove_tree() {
  unmount_under "$1"
  rm -rf --one-file-system -- "$1"
}

# Left by killed builds (the lock is ours, so nobody is building them), or a final folder
# without its marker.
for stale in "$cache_dir"/standin-*.tmp.*; do
  [ -e "$stale" ] || continue
  log "removing the unfinished build $stale"
  remove_tree "$stale"
done
if [ -e "$final" ]; then
  log "removing $final (no done marker)"
  remove_tree "$final"
fi

# The Debian archive this machine's apt uses: a deb entry for $suite, else the first deb entry
# whose suite is a plain release name (no -updates, -security, ...).
apt_entries() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush(   i, n, s, u) {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
          n = split(suites, s)
          split(uris, u)
          for (i = 1; i <= n; i++) if (s[i] != "" && u[1] != "") print s[i], u[1]
        }
        types = ""; uris = ""; suites = ""; enabled = ""; last = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (last == "uris") uris = uris " " $0; else if (last == "suites") suites = suites " " $0; next }
      {
        field = tolower($1); value = $0; sub(/^[^:]*:[ \t]*/, "", value)
        if (field == "types:") { types = value; last = "types" }
        else if (field == "uris:") { uris = value; last = "uris" }
        else if (field == "suites:") { suites = value; last = "suites" }
        else if (field == "enabled:") { enabled = value; last = "enabled" }
        else last = ""
      }
      END { flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if (i + 1 <= NF) print $(i + 1), $i
      }
    ' "$f"
  done
}

mirror_uri() {
  local entries uri
  entries=$(apt_entries | sed 's/[ \t]*$//')
  uri=$(printf '%s\n' "$entries" | awk -v s="$suite" '$1 == s { print $2; exit }')
  if [ -z "$uri" ]; then
    uri=$(printf '%s\n' "$entries" | awk '$1 ~ /^[a-z]+$/ { print $2; exit }')
  fi
  printf '%s\n' "${uri%/}"
}

mirror=$(mirror_uri)
[ -n "$mirror" ] || die 'found no deb entry for a Debian release in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources'

tmp=$(mktemp -d -- "$cache_dir/standin-$key.tmp.XXXXXX")
chmod 755 "$tmp" # as the final folder: readable by tests that need no root (bootstrap plan)
on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "${tmp:-}" ] && [ -e "$tmp" ]; then
    log "build failed (exit $rc); removing $tmp"
    remove_tree "$tmp"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

root="$tmp/root"
started=$(date +%s)
log "building a $suite $debian_arch stand-in root in $root from $mirror"

include=$(IFS=,; printf '%s' "${packages[*]}")
if ! debootstrap --arch="$debian_arch" --variant=minbase --merged-usr --components=main \
  --include="$include" "$suite" "$root" "$mirror" >&2; then
  if [ -f "$root/debootstrap/debootstrap.log" ]; then tail -n 30 -- "$root/debootstrap/debootstrap.log" >&2; fi
  die "debootstrap --arch=$debian_arch failed (a kernel without 32-bit support cannot run the $debian_arch second stage)"
fi
unmount_under "$root"

# What Debian put in, for the record (next to the root, not in it).
chroot "$root" dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' > "$tmp/packages.txt"

log 'laying the root out like live-bootstrap output'

# Debian's caches, documentation, translations and the files debootstrap copied from this host.
rm -rf -- "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old \
  "$root"/var/log/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/usr/share/locale/* "$root"/usr/share/lintian "$root"/etc/hostname "$root"/debootstrap
mkdir -p -- "$root/var/lib/apt/lists/partial" "$root/var/cache/apt/archives/partial"

# live-bootstrap has no shell start-up files: `bash -l` reads nothing before /steps/env.
rm -rf -- "$root/etc/profile" "$root/etc/profile.d" "$root/etc/bash.bashrc" \
  "$root/root/.profile" "$root/root/.bashrc"

# /etc/resolv.conf as live-bootstrap's finalize_fhs writes it.
rm -f -- "$root/etc/resolv.conf"
printf 'nameserver 1.1.1.1\n' > "$root/etc/resolv.conf"
printf 'nameserver 1.1.1.1\n' > "$root/etc/resolv.conf.head"

# live-bootstrap's merged_usr: /usr/sbin is a link to bin (Debian's /sbin -> usr/sbin then
# reaches /usr/bin too), so ldconfig and friends are on PATH=/usr/bin as everything is there.
[ -d "$root/usr/sbin" ] && [ ! -L "$root/usr/sbin" ] || die "$root/usr/sbin is not a folder"
for f in "$root"/usr/sbin/* "$root"/usr/sbin/.[!.]*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  name=${f##*/}
  if [ -e "$root/usr/bin/$name" ] || [ -L "$root/usr/bin/$name" ]; then
    die "both /usr/bin/$name and /usr/sbin/$name exist; cannot merge /usr/sbin into /usr/bin"
  fi
  mv -- "$f" "$root/usr/bin/$name"
done
rmdir -- "$root/usr/sbin"
ln -s bin "$root/usr/sbin"
for d in bin sbin lib; do
  [ -L "$root/$d" ] || die "/$d is not a link into /usr (debootstrap did not merge /usr)"
done

# live-bootstrap's /usr/bin/sh is bash; Debian's is dash.
ln -sfn bash "$root/usr/bin/sh"

# Python as `python` (live-bootstrap links python -> python3.11; Portage's scripts need it).
ln -sfn python3 "$root/usr/bin/python"

# The names live-bootstrap's gcc 13.1.0 (native, --target=$triplet) installs besides gcc, g++,
# c++, gcc-ar, gcc-nm, gcc-ranlib, pointing at Debian's tools. binutils 2.41 is built with
# --program-prefix="" there, so no <triplet>-ar, -ld, ... exists in /usr/bin; toolchain-funcs
# falls back to the plain names, which both roots have. /usr/bin/cc is gcc in both.
for tool in gcc g++ c++ gcc-ar gcc-nm gcc-ranlib; do
  [ -e "$root/usr/bin/$tool" ] || die "Debian's /usr/bin/$tool is missing"
  ln -sfn "$tool" "$root/usr/bin/$triplet-$tool"
done
[ -e "$root/usr/bin/cc" ] || ln -s gcc "$root/usr/bin/cc"

# The recipe detects the triplet from /usr/libexec/gcc/<triplet>, where live-bootstrap's gcc
# keeps cc1 and friends; Debian's gcc keeps them in /usr/lib/gcc/<its triplet>/12 (its
# libexecdir is /usr/lib), so the folder is a link there.
gcc_machine=$(chroot "$root" /usr/bin/gcc -dumpmachine)
[ -x "$root/usr/lib/gcc/$gcc_machine/$(chroot "$root" /usr/bin/gcc -dumpversion)/cc1" ] ||
  die "no cc1 in /usr/lib/gcc/$gcc_machine in the root"
mkdir -p -- "$root/usr/libexec/gcc"
ln -s "../../lib/gcc/$gcc_machine" "$root/usr/libexec/gcc/$triplet"

# live-bootstrap's LIBDIR (the recipe's profile installs libraries in /usr/lib/$CHOST); here it
# is Debian's multiarch folder, which the compiler, the linker and ld.so already search.
multiarch=$(chroot "$root" /usr/bin/gcc -print-multiarch)
[ -d "$root/usr/lib/$multiarch" ] || die "no /usr/lib/$multiarch in the root"
ln -s "$multiarch" "$root/usr/lib/$triplet"

# bzip2 as a file (the recipe moves it aside behind a link); bunzip2 and bzcat as absolute links
# to it, as live-bootstrap's bzip2 pass2 installs them (Gentoo's bzip2 postinst leaves links be
# and fails on files).
[ -f "$root/usr/bin/bzip2" ] && [ ! -L "$root/usr/bin/bzip2" ] || die '/usr/bin/bzip2 is not a file'
for name in bunzip2 bzcat; do ln -sfn /usr/bin/bzip2 "$root/usr/bin/$name"; done

# live-bootstrap's /steps: the manifest, bootstrap.cfg as rootfs.py -c writes it (plus the
# line finalize_job_count appends), and /steps/env as 1.0 leaves it (its own env, then what
# update_env appends, then musl_libdir's LIBDIR).
mkdir -p -- "$root/steps" "$root/external/distfiles" "$root/var/tmp" "$root/tmp"
chmod 1777 "$root/tmp" "$root/var/tmp"
cat > "$root/steps/manifest" << EOF
# STAND-IN: not live-bootstrap output. A Debian $suite $debian_arch root laid out like
# live-bootstrap 1.0's target/ by test/real/standin-root.sh; see docs/standin-root.md.
# Below: the build and improve lines a chroot run of live-bootstrap 1.0's steps/manifest runs last.
build: python-3.11.1
build: gcc-10.4.0
build: binutils-2.41
build: gcc-13.1.0
build: libmd-1.1.0
build: libbsd-0.11.8
build: shadow-4.14.3
build: opendoas-6.8.2
build: gzip-1.13
build: diffutils-3.10
build: gawk-5.3.0
build: m4-1.4.19
improve: cleanup_filesystem
improve: after
EOF
cat > "$root/steps/bootstrap.cfg" << 'EOF'
ARCH=x86
ARCH_DIR=x86
FORCE_TIMESTAMPS=False
CHROOT=True
UPDATE_CHECKSUMS=False
JOBS=2
SWAP_SIZE=0
FINAL_JOBS=2
INTERNAL_CI=False
INTERACTIVE=False
BARE_METAL=False
DISK=sda1
KERNEL_BOOTSTRAP=False
BUILD_KERNELS=False
CONFIGURATOR=False
JOBS=2
EOF
cat > "$root/steps/env" << 'EOF'
# SPDX-FileCopyrightText: 2023 fosslinux <fosslinux@aussies.space>
#
# SPDX-License-Identifier: GPL-3.0-or-later

DISTFILES=/external/distfiles
PREFIX=/usr
BINDIR=${PREFIX}/bin
INCDIR=${PREFIX}/include/mes
SRCDIR=/steps
TMPDIR=/tmp
PATH=${BINDIR}:/${ARCH_DIR}/bin
export PATH=${PREFIX}/bin
PREFIX=${PREFIX}
DESTDIR=${DESTDIR}
DISTFILES=${DISTFILES}
SRCDIR=${SRCDIR}
MAKEJOBS=-j${JOBS}
export HOME=/tmp
export SOURCE_DATE_EPOCH=0
export KBUILD_BUILD_TIMESTAMP='@0'
export SHELL=/usr/bin/bash
DESTDIR=/tmp/destdir
LIBDIR=/usr/lib/i386-unknown-linux-musl
EOF

# Self-check, entered as the recipe's lb root is: bash -l, umask 022, source /steps/env.
log 'self-check'
# shellcheck disable=SC2016 # expanded inside the root
selfcheck='
umask 022
source /steps/env
set -eu
echo "bash $BASH_VERSION; PATH=$PATH; HOME=$HOME; SHELL=$SHELL"
test "$PATH" = /usr/bin
echo "manifest: $(sed -n "/^#/!p" /steps/manifest | tail -n 1)"
chost=$(basename /usr/libexec/gcc/*-linux-musl)
echo "lb_chost (from /usr/libexec/gcc): $chost"
for f in /bin/bash /usr/bin/bash /usr/bin/sh /sbin/ldconfig /usr/bin/ldconfig /etc/passwd /etc/group; do test -e "$f"; done
test -f /usr/bin/bzip2 && test ! -L /usr/bin/bzip2
test -d /external/distfiles && test -z "$(ls -A /external/distfiles)"
echo "sh is $(readlink /usr/bin/sh); ldconfig: $(command -v ldconfig)"
d=$(mktemp -d /var/tmp/selfcheck.XXXXXX)
cd "$d"
cat > hello.c << "EOF"
#include <stdio.h>
int main(void) { puts("hello from C"); return 0; }
EOF
"$chost-gcc" -O2 -o hello-c hello.c
./hello-c
cat > hello.cc << "EOF"
#include <iostream>
int main() { std::cout << "hello from C++" << std::endl; }
EOF
"$chost-g++" -o hello-cc hello.cc
./hello-cc
echo "$("$chost-gcc" --version | head -n 1), target $("$chost-gcc" -dumpmachine)"
file -b hello-c
printf "all: out\nout: hello.c\n\t@echo \"make \$(MAKE_VERSION) ran a rule\" > \$@\n" > Makefile
make -s
cat out
python --version
python -c "import ctypes, fcntl, hashlib, lzma, multiprocessing, pickle, zlib; print(\"python: the standard modules Portage imports load\")"
perl -e "print \"perl \$^V\n\""
tar --version | head -n 1
awk --version | head -n 1
m4 --version | head -n 1
help2man --version | head -n 1
xz --version | head -n 1
curl --version | head -n 1 | cut -d " " -f 1-2
ls /usr/include/zlib.h /usr/include/lzma.h /usr/include/*/ffi.h
cd /
rm -rf "$d"
echo "self-check passed"
'
if ! chroot "$root" /usr/bin/env -i /bin/bash -l -c "$selfcheck" > "$tmp/selfcheck.log" 2>&1; then
  cat -- "$tmp/selfcheck.log" >&2
  die 'the self-check failed'
fi
cat -- "$tmp/selfcheck.log" >&2

size=$(du -sh -- "$root" | cut -f1)
elapsed=$(($(date +%s) - started))
mv -T -- "$tmp" "$final"
tmp=''
printf 'key %s\nsuite %s\narch %s\nmirror %s\nbuilt %s\nseconds %s\nsize %s\n' \
  "$key" "$suite" "$debian_arch" "$mirror" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$elapsed" "$size" > "$final/done"
log "done in ${elapsed}s, $size"
# Roots this script built in an earlier version (their key differs; the done marker is its
# own), so a machine keeps one stand-in rather than one per edit of this script.
for old in "$cache_dir"/standin-*; do
  [ "$old" != "$final" ] && [ -f "$old/done" ] && grep -q '^key ' "$old/done" || continue
  log "removing the stand-in of an earlier version of this script: $old"
  remove_tree "$old"
done
printf '%s\n' "$final/root"
