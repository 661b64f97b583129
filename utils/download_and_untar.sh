#!/usr/bin/env bash
# Download an archive (.tar.gz, .tar.bz2 or .zip, by its name) and unpack it (the shared part of
# the recipes' local/download_and_untar.sh).
#
#   utils/download_and_untar.sh [--remove-archive] [--archive NAME] [--url MIRROR] <url> <dest> [<path> ...]
#
#   utils/download_and_untar.sh https://www.openslr.org/resources/1/waves_yesno.tar.gz \
#       corpus/yesno waves_yesno 'waves_yesno/*.wav'
#
# The archive is saved as <dest>/NAME (default: the basename of <url>) and unpacked into <dest>.
# Each <path> is relative to <dest> and must exist after unpacking; a <path> may be a shell glob
# (quote it), which then must match at least one file. Otherwise it is the wrong archive: an error,
# and <dest> is not marked done.
# Idempotent: <dest>/.done marks a complete unpack and a rerun does nothing. Without network, put
# the archive in <dest>/ by hand and rerun: an archive already there is unpacked instead of
# downloaded. Downloads use wget (or curl) into <dest>/NAME.part, renamed once complete.
#   --remove-archive   delete the archive once unpacked
#   --archive NAME     the archive's file name in <dest> (for a mirror URL with another basename)
#   --url MIRROR       download from MIRROR instead of <url> (recipes pass their users' options on)
set -euo pipefail

remove_archive=false
archive=
mirror=
while [ $# -gt 0 ]; do
  case "$1" in
    --remove-archive) remove_archive=true; shift ;;
    --archive) [ $# -ge 2 ] || { echo "$0: error: --archive needs a value" >&2; exit 1; }
               archive=$2; shift 2 ;;
    --url) [ $# -ge 2 ] || { echo "$0: error: --url needs a value" >&2; exit 1; }
           mirror=$2; shift 2 ;;
    --*) echo "$0: error: unknown option $1" >&2; exit 1 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  echo "Usage: $0 [--remove-archive] [--archive NAME] [--url MIRROR] <url> <dest> [<path-that-must-exist-after-unpack> ...]" >&2
  exit 1
fi
url=${mirror:-$1}
dest=$2
shift 2
if [ -z "$archive" ]; then
  archive=${url%%[?#]*}      # drop a query string or fragment
  archive=${archive##*/}
fi
case "$archive" in
  ""|.|..|*/*)
    echo "$0: error: cannot tell the archive's file name from '$url'; pass --archive NAME" >&2
    exit 1 ;;
esac

if [ -f "$dest/.done" ]; then
  echo "$0: $archive already unpacked in $dest ($dest/.done exists; remove it to unpack again)" >&2
  exit 0
fi
mkdir -p "$dest"

if [ ! -s "$dest/$archive" ]; then
  echo "$0: downloading $url to $dest/$archive" >&2
  part="$dest/$archive.part"
  rm -f "$part"
  ok=false
  if command -v wget >/dev/null 2>&1; then
    wget --no-verbose --tries=3 -O "$part" "$url" && ok=true
  elif command -v curl >/dev/null 2>&1; then
    curl --fail --location --retry 3 --silent --show-error -o "$part" "$url" && ok=true
  else
    echo "$0: error: neither wget nor curl is installed; download $url into $dest/$archive by hand and rerun" >&2
    exit 1
  fi
  if ! $ok || [ ! -s "$part" ]; then
    rm -f "$part"
    echo "$0: error: could not download $url (no network?); download it into $dest/$archive by hand (or use a mirror URL) and rerun" >&2
    exit 1
  fi
  mv "$part" "$dest/$archive"
fi

echo "$0: unpacking $dest/$archive" >&2
case "$archive" in
  *.zip) kind=.zip; unpack=(python3 -m zipfile -e "$dest/$archive" "$dest") ;;  # no unzip needed
  *.tar.bz2|*.tbz2) kind=.tar.bz2; unpack=(tar -xjf "$dest/$archive" -C "$dest") ;;
  *) kind=.tar.gz; unpack=(tar -xzf "$dest/$archive" -C "$dest") ;;
esac
if ! "${unpack[@]}"; then
  echo "$0: error: $dest/$archive is not a valid $kind (partial download?); remove it and rerun" >&2
  exit 1
fi

# true if nothing in $dest is at path (or matches glob) $1
missing() {
  local IFS=           # no word splitting of $1: only globbing
  local m
  for m in "$dest"/$1; do   # an unmatched glob or absent path stays as is: -e fails
    [ -e "$m" ] && return 1
  done
  return 0
}
for p in "$@"; do
  if missing "$p"; then
    echo "$0: error: $dest/$archive did not unpack $p into $dest; is it the right archive?" >&2
    exit 1
  fi
done

$remove_archive && rm -f "$dest/$archive"
touch "$dest/.done"
echo "$0: unpacked $dest/$archive into $dest" >&2
