#!/usr/bin/env bash
# Get a real corpus for this recipe into <dest> (Kaldi's local/download_and_untar.sh).
#
#   local/download_and_untar.sh [--remove-archive] [--url BASE] <corpus> <dest>
#
#   mini_librispeech   openslr 31: train-clean-5.tar.gz and dev-clean-2.tar.gz (about 450 MB,
#                      CC BY 4.0), downloaded from https://www.openslr.org/resources/31 (or
#                      --url BASE, a mirror of that directory) and unpacked as
#                      <dest>/LibriSpeech/{train-clean-5,dev-clean-2}/<spk>/<chapter>/*.flac
#   voxceleb1, timit   not downloadable by a script (a request form, an LDC licence): this
#                      checks your copy in <dest> (run.sh --corpus-dir DIR) and says what is
#                      missing: voxceleb1 wants <dest>/wav/<spk>/<video>/<n>.wav and
#                      <dest>/veri_test2.txt; timit the LDC tree <dest>/TRAIN/DR1/FCJF0/SA1.WAV
#                      (or <dest>/TIMIT/TRAIN/..., upper or lower case).
#
# Idempotent: <dest>/.done marks a complete download and a rerun does nothing (a copy of your
# own is only checked, never written to). Without network,
# put the archives in <dest>/parts/<name>/ by hand (<dest>/parts/train-clean-5/
# train-clean-5.tar.gz) and rerun. The download and unpacking are utils/download_and_untar.sh's.
set -euo pipefail

opts=()
base=https://www.openslr.org/resources/31
while [ $# -gt 2 ]; do
  case "$1" in
    --remove-archive) opts+=(--remove-archive); shift ;;
    --url) base=${2%/}; shift 2 ;;
    *) echo "$0: error: unknown option $1" >&2; exit 1 ;;
  esac
done
if [ $# -ne 2 ]; then
  echo "Usage: $0 [--remove-archive] [--url BASE] <corpus> <dest>   (corpus: mini_librispeech, voxceleb1, timit)" >&2
  exit 1
fi
corpus=$1 dest=$2
[ -f "$dest/.done" ] && { echo "$0: $corpus already in $dest ($dest/.done exists)" >&2; exit 0; }

case "$corpus" in
  mini_librispeech)
    # Each archive unpacks LibriSpeech/<part>/ into its own dir (one .done each); the parts
    # are then linked side by side where the preparer looks for them.
    mkdir -p "$dest/LibriSpeech"
    for part in train-clean-5 dev-clean-2; do
      "$(dirname "$0")/../utils/download_and_untar.sh" ${opts[@]+"${opts[@]}"} \
        "$base/$part.tar.gz" "$dest/parts/$part" "LibriSpeech/$part/*/*/*.flac"
      ln -sfn "../parts/$part/LibriSpeech/$part" "$dest/LibriSpeech/$part"
    done
    cp "$dest/parts/train-clean-5/LibriSpeech/SPEAKERS.TXT" "$dest/LibriSpeech/" 2>/dev/null || true
    touch "$dest/.done" ;;
  voxceleb1)
    if ! compgen -G "$dest/wav/*/*/*.wav" > /dev/null || [ ! -f "$dest/veri_test2.txt" ]; then
      echo "$0: error: $dest has no VoxCeleb1 (wav/<spk>/<video>/<n>.wav and veri_test2.txt); it cannot be downloaded by a script: request it at https://www.robots.ox.ac.uk/~vgg/data/voxceleb/, unpack vox1_dev_wav.zip and vox1_test_wav.zip into $dest/ with veri_test2.txt, or pass --corpus-dir DIR" >&2
      exit 1
    fi ;;
  timit)
    if ! compgen -G "$dest/[Tt][Rr][Aa][Ii][Nn]/*/*/*.[Ww][Aa][Vv]" > /dev/null && \
       ! compgen -G "$dest/*/[Tt][Rr][Aa][Ii][Nn]/*/*/*.[Ww][Aa][Vv]" > /dev/null; then
      echo "$0: error: $dest has no TIMIT tree (TRAIN/DR1/FCJF0/SA1.WAV); TIMIT is LDC93S1, licensed from the LDC: put your copy there or pass --corpus-dir DIR" >&2
      exit 1
    fi ;;
  embedded)
    echo "$0: error: corpus 'embedded' is not downloaded; generate it with speechkit synth-corpus --profile sentences" >&2
    exit 1 ;;
  *)
    echo "$0: error: unknown corpus '$corpus'; this script knows: mini_librispeech, voxceleb1, timit" >&2
    exit 1 ;;
esac
echo "$0: $corpus ready in $dest" >&2
