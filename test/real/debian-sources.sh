#!/usr/bin/env bash
# debian-sources.sh DEST NAME...
#
# Puts Gentoo distfiles (NAME, e.g. bzip2-1.0.8.tar.gz) into the folder DEST, taken from the
# Debian archive: the *.orig.tar.* of the Debian source package that debian-sources.tsv (next to
# this script) names for NAME is byte-identical to the upstream tarball Gentoo pins; it is
# renamed to NAME. Names already in DEST are skipped. The lock (test/real/inputs.lock) holds the
# hashes that count; check the result with `bootstrap lock verify`.
#
# The archive URIs come from the machine's own apt sources (/etc/apt/sources.list,
# /etc/apt/sources.list.d/*.list and deb822 *.sources): the first URI of a non-security suite is
# the main archive, the first URI of a *-security suite the security archive. No host name is
# written here. DEBIAN_ARCHIVE_URI / DEBIAN_SECURITY_URI override them.
#
# apt runs with a private configuration in a temporary folder (its own sources list, lists and
# cache), so the host's apt state is untouched; the host's apt.conf.d (proxy and the like) still
# applies. Release files are checked against the Debian archive keyring (it holds the trixie
# keys since debian-archive-keyring 2023.3).
#
# Environment: DEBIAN_SOURCES_TSV (table), DEBIAN_KEYRING (keyring),
# DEBIAN_SOURCES_SUITES_MAIN (default "bookworm bookworm-updates trixie"),
# DEBIAN_SOURCES_SUITES_SECURITY (default "bookworm-security trixie-security").
set -euo pipefail

die() {
  printf 'debian-sources.sh: %s\n' "$*" >&2
  exit 1
}

[[ "$#" -ge 1 ]] || die "usage: debian-sources.sh DEST NAME..."
dest="$1"
shift

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
table="${DEBIAN_SOURCES_TSV:-"${script_dir}/debian-sources.tsv"}"
keyring="${DEBIAN_KEYRING:-"/usr/share/keyrings/debian-archive-keyring.gpg"}"
suites_main="${DEBIAN_SOURCES_SUITES_MAIN:-"bookworm bookworm-updates trixie"}"
suites_security="${DEBIAN_SOURCES_SUITES_SECURITY:-"bookworm-security trixie-security"}"

[[ -r "$table" ]] || die "no table at ${table}"
[[ -r "$keyring" ]] || die "no Debian archive keyring at ${keyring}"
command -v apt-get >/dev/null || die "apt-get is missing"
mkdir -p -- "$dest"
dest="$(cd "$dest" && pwd)"

# Prints "KIND URI" for every enabled deb/deb-src entry of the host's apt sources, in apt's own
# order (sources.list, then sources.list.d sorted); KIND is "security" when a suite ends in
# -security, "main" otherwise.
host_sources() {
  local f
  local -a files=()
  [[ -f /etc/apt/sources.list ]] && files+=("/etc/apt/sources.list")
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && files+=("$f")
  done
  [[ "${#files[@]}" -gt 0 ]] || return 0
  printf '%s\n' "${files[@]}" | LC_ALL=C sort | while IFS= read -r f; do
    case "$f" in
    *.sources)
      awk '
        function flush(   n, i, u, kind) {
          if (types ~ /(^| )deb(-src)?( |$)/ && enabled != "no" && uris != "") {
            kind = (suites ~ /-security( |$)/) ? "security" : "main"
            n = split(uris, u, " ")
            for (i = 1; i <= n; i++) print kind, u[i]
          }
          types = ""; uris = ""; suites = ""; enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[^ \t]/ {
          key = tolower($1); sub(/:$/, "", key)
          val = $0; sub(/^[^:]*:[ \t]*/, "", val)
          if (key == "types") types = val
          else if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "enabled") enabled = tolower(val)
          next
        }
        END { flush() }
      ' "$f"
      ;;
    *)
      awk '
        /^[ \t]*#/ { next }
        $1 == "deb" || $1 == "deb-src" {
          i = 2
          if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
          if (i + 1 > NF) next
          print (($(i + 1) ~ /-security$/) ? "security" : "main"), $i
        }
      ' "$f"
      ;;
    esac
  done
}

sources="$(host_sources)"
archive="${DEBIAN_ARCHIVE_URI:-"$(printf '%s\n' "$sources" | awk '$1 == "main" { print $2; exit }')"}"
security="${DEBIAN_SECURITY_URI:-"$(printf '%s\n' "$sources" | awk '$1 == "security" { print $2; exit }')"}"
[[ -n "$archive" ]] || die "no Debian archive URI in the host's apt sources (set DEBIAN_ARCHIVE_URI)"
archive="${archive%/}"
if [[ -z "$security" ]]; then
  # The host lists no security archive: Debian keeps it at <archive>-security on the same server.
  security="${archive}-security"
fi
security="${security%/}"

work="$(mktemp -d "${TMPDIR:-/tmp}/debian-sources.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
chmod 0755 "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"

{
  for suite in $suites_main; do
    printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$archive" "$suite"
  done
  for suite in $suites_security; do
    printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$security" "$suite"
  done
} >"$work/sources.list"

# As root, apt downloads as the user _apt: let it write where it downloads.
if [[ "$(id -u)" -eq 0 ]] && id _apt >/dev/null 2>&1; then
  chown _apt "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
fi

apt_opts=(
  -o "Dir::Etc::SourceList=${work}/sources.list"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=${work}/lists"
  -o "Dir::Cache=${work}/cache"
  -o "Dir::Cache::pkgcache=${work}/cache/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=${work}/cache/srcpkgcache.bin"
  -o "Dir::Cache::archives=${work}/cache/archives"
  -o "APT::Get::List-Cleanup=false"
  -o "Acquire::Languages=none"
  -o "APT::Get::Only-Source=true"
)

printf 'debian-sources.sh: archive %s, security %s\n' "$archive" "$security" >&2
apt-get "${apt_opts[@]}" -q update >"$work/update.log" 2>&1 || {
  cat "$work/update.log" >&2
  die "apt-get update failed"
}
if grep -q '^W:' "$work/update.log"; then
  grep '^W:' "$work/update.log" >&2
fi

# Versions of source package $1 whose files include $2 (the same upstream orig), newest first as
# apt lists them.
versions_with_orig() {
  apt-cache "${apt_opts[@]}" showsrc "$1" 2>/dev/null | awk -v pkg="$1" -v orig="$2" '
    /^Package:/ { p = $2 }
    /^Version:/ { v = $2 }
    /^ [0-9a-f]+ [0-9]+ / && $3 == orig && p == pkg && !(v in seen) { seen[v] = 1; print v }
  '
}

# Downloads only the orig tarball $3 of source package $1 version $2 into $4 (hash checked by apt).
fetch_orig_only() {
  local line uri hash
  line="$(apt-get "${apt_opts[@]}" -qq source --download-only --print-uris "$1=$2" 2>/dev/null |
    awk -v orig="$3" '$2 == orig { print; exit }')" || return 1
  [[ -n "$line" ]] || return 1
  uri="$(printf '%s\n' "$line" | awk '{ print $1 }')"
  uri="${uri#\'}"
  uri="${uri%\'}"
  hash="$(printf '%s\n' "$line" | awk '{ print $4 }')"
  /usr/lib/apt/apt-helper "${apt_opts[@]}" download-file "$uri" "$4/$3" "$hash" >/dev/null
}

status=0
for name in "$@"; do
  if [[ -e "${dest}/${name}" ]]; then
    printf 'debian-sources.sh: %s already present, skipped\n' "$name" >&2
    continue
  fi
  row="$(awk -F '\t' -v n="$name" '$0 !~ /^#/ && $1 == n { print; exit }' "$table")"
  if [[ -z "$row" ]]; then
    printf 'debian-sources.sh: %s is not in %s\n' "$name" "$table" >&2
    status=1
    continue
  fi
  IFS=$'\t' read -r _ pkg version orig <<<"$row"
  dir="${work}/dl/${name}"
  mkdir -p "$dir"
  [[ "$(id -u)" -ne 0 ]] || ! id _apt >/dev/null 2>&1 || chown _apt "$dir"

  got=""
  if (cd "$dir" && apt-get "${apt_opts[@]}" -q source --download-only "${pkg}=${version}") \
    >"$dir.log" 2>&1 && [[ -f "${dir}/${orig}" ]]; then
    got="${pkg}=${version}"
  else
    # The pinned version is gone (or its .dsc 404s): take the same orig tarball from the pinned
    # version's URIs, else from any version that ships it.
    rm -f -- "${dir:?}/"*
    mapfile -t others < <(versions_with_orig "$pkg" "$orig" | grep -vxF -- "$version" || true)
    for v in "$version" "${others[@]}"; do
      if fetch_orig_only "$pkg" "$v" "$orig" "$dir" >>"$dir.log" 2>&1 && [[ -f "${dir}/${orig}" ]]; then
        got="${pkg}=${v} (orig only)"
        break
      fi
    done
  fi
  if [[ -z "$got" ]]; then
    cat "$dir.log" >&2
    printf 'debian-sources.sh: %s: no %s from source package %s\n' "$name" "$orig" "$pkg" >&2
    status=1
    continue
  fi
  tmp="${dest}/.${name}.part.$$"
  cp -- "${dir}/${orig}" "$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "${dest}/${name}"
  printf 'debian-sources.sh: %s <- %s %s\n' "$name" "$got" "$orig" >&2
  rm -rf -- "$dir"
done
exit "$status"
