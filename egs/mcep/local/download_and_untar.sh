#!/usr/bin/env bash
# Download and unpack a corpus for this recipe (Kaldi's local/download_and_untar.sh).
#
#   local/download_and_untar.sh [--url BASE] [--speakers "bdl slt clb rms jmk"] cmu_arctic corpus/cmu_arctic
#       -> corpus/cmu_arctic/cmu_us_<spk>_arctic/{wav/arctic_a0001.wav,etc/txt.done.data}
#
# Corpora: cmu_arctic (festvox CMU ARCTIC 0.95, one cmu_us_<spk>_arctic-0.95-release.tar.bz2 of
# about 100 MB per speaker; free to use). The defaults are the speakers of the recipe's
# cmu_arctic preparer (speechkit/corpus/cmu_arctic.py): bdl slt clb rms for training and
# conversion, jmk unseen. The embedded corpus is generated, not downloaded.
# Idempotent: <dest>/cmu_us_<spk>_arctic/.done marks a complete unpack per speaker. Without
# network, put the archives in <dest>/ by hand and rerun: an archive already there is unpacked
# instead of downloaded. (utils/download_and_untar.sh unpacks .tar.gz only; these are .tar.bz2.)
set -euo pipefail

url=http://festvox.org/cmu_arctic/packed
speakers="bdl slt clb rms jmk"
while [ $# -gt 2 ]; do
  case "$1" in
    --url) url=$2; shift 2 ;;
    --speakers) speakers=$2; shift 2 ;;
    *) echo "$0: error: unknown option $1" >&2; exit 1 ;;
  esac
done
if [ $# -ne 2 ]; then
  echo "Usage: $0 [--url BASE] [--speakers 'bdl slt ...'] <corpus> <dest>   (corpus: cmu_arctic)" >&2
  exit 1
fi
corpus=$1 dest=$2
case "$corpus" in
  cmu_arctic) ;;
  embedded)
    echo "$0: error: corpus 'embedded' is not downloaded; generate it with speechkit synth-corpus --profile sentences" >&2
    exit 1 ;;
  *) echo "$0: error: unknown corpus '$corpus'; this script knows: cmu_arctic" >&2; exit 1 ;;
esac

mkdir -p "$dest"
for spk in $speakers; do
  dir=$dest/cmu_us_${spk}_arctic
  archive=cmu_us_${spk}_arctic-0.95-release.tar.bz2
  [ -f "$dir/.done" ] && { echo "$0: $dir already unpacked" >&2; continue; }
  if [ ! -s "$dest/$archive" ]; then
    echo "$0: downloading $url/$archive" >&2
    if command -v wget >/dev/null 2>&1; then fetch=(wget --no-verbose --tries=3 -O)
    else fetch=(curl --fail --location --retry 3 --silent --show-error -o); fi
    if ! "${fetch[@]}" "$dest/$archive.part" "$url/$archive" || [ ! -s "$dest/$archive.part" ]; then
      rm -f "$dest/$archive.part"
      echo "$0: error: could not download $url/$archive (no network?); put it in $dest/ by hand and rerun" >&2
      exit 1
    fi
    mv "$dest/$archive.part" "$dest/$archive"
  fi
  tar -xjf "$dest/$archive" -C "$dest" || {
    echo "$0: error: $dest/$archive is not a valid .tar.bz2 (partial download?); remove it and rerun" >&2; exit 1; }
  for p in wav/arctic_a0001.wav etc/txt.done.data; do
    [ -e "$dir/$p" ] || { echo "$0: error: $archive did not unpack $dir/$p" >&2; exit 1; }
  done
  touch "$dir/.done"
  echo "$0: $spk: $(find "$dir/wav" -name '*.wav' | wc -l) wav files in $dir" >&2
done
