#!/usr/bin/env bash
# Compute features for a data dir in parallel jobs (Kaldi's steps/make_fbank.sh, any type).
#
#   utils/make_feats.sh [options] <data-dir> [<log-dir> [<feat-dir>]]
#   e.g. utils/make_feats.sh --nj 4 --type fbank --feat-config conf/fbank.yaml data/train exp/make_fbank/train feats
#
# Splits the data dir into --nj parts and runs `speechkit compute-feats` on each through --cmd.
# Every run writes arks of a new version, <feat-dir>/raw_<type>_<name>.v<N>.<job>.{ark,scp}, so
# that it never rewrites an ark that the current feats.scp (or a subset or copy of it) points
# into. Only when every job succeeded and at least 95% of the utterances got features does it
# replace <data-dir>/feats.scp and utt2num_frames and write <data-dir>/feats.yaml: the feature
# type and every resolved option (`speechkit compute-feats --print-config`). It then deletes
# the arks of earlier versions, so a data dir copied from the old features must be remade. A
# failed run deletes its own arks and leaves the data dir as it was.
# A <data-dir>/conf/ of the old layout, holding just the feature config, is removed.
set -euo pipefail
nj=4
cmd="$(dirname "$0")/run.py"
type=fbank
feat_config=
write_utt2num_frames=true   # accepted for Kaldi's scripts; utt2num_frames is always written
help_message="Usage: $0 [--nj N] [--cmd CMD] [--type fbank|mfcc|pcen|spectrogram] [--feat-config FILE] <data-dir> [<log-dir> [<feat-dir>]]"
. "$(dirname "$0")/parse_options.sh"
. "$(dirname "$0")/_speechkit.sh"
if [ $# -lt 1 ] || [ $# -gt 3 ]; then echo -e "$help_message" >&2; exit 1; fi
data=$1
name=$(basename "$data")
logdir=${2:-$data/log}
featdir=${3:-$data/data}
kinds="fbank mfcc spectrogram pcen"
[ -n "$feat_config" ] || feat_config=$(python3 -c "import speechkit.features, pathlib; print(pathlib.Path(speechkit.features.__file__).parent / 'conf' / '$type.yaml')")
for f in "$data/wav.scp" "$feat_config"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
echo "$0 $*"
utils=$(dirname "$0")
shopt -s nullglob

# Leftovers of runs killed before they could clean up (their process is gone).
for f in "$data"/.{feats.scp,utt2num_frames,feats.yaml}.tmp*; do
  kill -0 "${f##*.tmp}" 2>/dev/null || rm -f "$f"
done
# The resolved config first: a bad option fails here, before any job runs.
new_yaml=$data/.feats.yaml.tmp$$
speechkit compute-feats --type "$type" --config "$feat_config" --print-config > "$new_yaml" || {
  rm -f "$new_yaml"; exit 1; }
"$utils/validate_data_dir.sh" --no-text --no-feats "$data" || { rm -f "$new_yaml"; exit 1; }
mkdir -p "$logdir" "$featdir"
featdir=$(cd "$featdir" && pwd)   # absolute, so feats.scp works from anywhere

ver=0
for f in "$featdir"/raw_*_"$name".v*.*; do
  if [[ $f =~ \.v([0-9]+)\.[0-9]+\.(ark|scp) ]] && [ "${BASH_REMATCH[1]}" -gt "$ver" ]; then
    ver=${BASH_REMATCH[1]}
  fi
done
ver=$((ver + 1))
stem=$featdir/raw_${type}_${name}.v$ver
done_ok=false
cleanup() {   # a run that did not commit leaves nothing of its own behind
  $done_ok && return
  rm -f "$stem".* "$featdir/utt2num_frames_${name}.v$ver".* "$new_yaml" \
    "$data/.feats.scp.tmp$$" "$data/.utt2num_frames.tmp$$"
}
trap cleanup EXIT

split=$(speechkit data-dir split --per-utt "$data" "$nj")
segments_opt=
[ -f "$data/segments" ] && segments_opt="--segments $split/JOB/segments"
$cmd JOB=1:$nj "$logdir/make_${type}_${name}.JOB.log" \
  speechkit compute-feats --type "$type" --config "$feat_config" $segments_opt \
    --write-utt2num-frames "$featdir/utt2num_frames_${name}.v$ver.JOB" \
    "scp:$split/JOB/wav.scp" "ark,scp:$stem.JOB.ark,$stem.JOB.scp"

for n in $(seq "$nj"); do cat "$stem.$n.scp"; done | LC_ALL=C sort -k1,1 > "$data/.feats.scp.tmp$$"
for n in $(seq "$nj"); do cat "$featdir/utt2num_frames_${name}.v$ver.$n"; done |
  LC_ALL=C sort -k1,1 > "$data/.utt2num_frames.tmp$$"
nf=$(wc -l < "$data/.feats.scp.tmp$$")
nu=$(wc -l < "$data/utt2spk")
if [ $((nf * 100)) -lt $((nu * 95)) ]; then
  echo "$0: only $nf of $nu utterances of $data got features, fewer than 95%; see the logs in $logdir" >&2
  exit 1
fi

# Commit. The files describing the old features go first, so that an interruption leaves a
# data dir that lacks a file rather than one whose files disagree.
old_arks=
[ -f "$data/feats.scp" ] && old_arks=$(awk '{print $2}' "$data/feats.scp" | sed -E 's/:[0-9]+(\[[^]]*\])?$//' | LC_ALL=C sort -u)
rm -f "$data/feats.yaml" "$data/utt2num_frames"
mv "$data/.feats.scp.tmp$$" "$data/feats.scp"
mv "$data/.utt2num_frames.tmp$$" "$data/utt2num_frames"
mv "$new_yaml" "$data/feats.yaml"
done_ok=true
rm -f "$featdir/utt2num_frames_${name}.v$ver".*

# Earlier versions: arks the old feats.scp used (the old layout had no version) and any version
# of this data dir's features left by an earlier run.
for ark in $old_arks; do
  [ "$(dirname "$ark")" = "$featdir" ] || continue
  case $(basename "$ark") in raw_*_"$name".*.ark) ;; *) continue ;; esac
  [[ $ark == "$stem".* ]] || rm -f "$ark" "${ark%.ark}.scp"
done
for kind in $kinds; do
  for f in "$featdir/raw_${kind}_${name}".v*.*; do
    [[ $f == "$stem".* ]] || rm -f "$f"
  done
done
# The old layout kept the feature config as <data-dir>/conf/<type>.<ext>.
if [ -d "$data/conf" ]; then
  old=("$data"/conf/* "$data"/conf/.[!.]*)
  old_name="^(${kinds// /|})\.(yaml|yml|conf)$"
  if [ ${#old[@]} -eq 1 ] && [ -f "${old[0]}" ] && [[ $(basename "${old[0]}") =~ $old_name ]]; then
    rm -r "$data/conf"
  else
    echo "$0: left $data/conf/ as it is: it holds more than the old feature config" >&2
  fi
fi

if [ "$nf" -ne "$nu" ]; then
  echo "$0: only $nf of $nu utterances of $data got features" >&2
  "$utils/fix_data_dir.sh" "$data"
fi
echo "Succeeded creating $type features for $name"
