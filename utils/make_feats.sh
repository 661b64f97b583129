#!/usr/bin/env bash
# Compute features for a data dir in parallel jobs (Kaldi's steps/make_fbank.sh, any type).
#
#   utils/make_feats.sh [options] <data-dir> [<log-dir> [<feat-dir>]]
#   e.g. utils/make_feats.sh --nj 4 --type fbank --feat-config conf/fbank.yaml data/train exp/make_fbank/train feats
#
# Splits the data dir into --nj parts, runs `speechkit compute-feats` on each through --cmd,
# merges the scp files into <data-dir>/feats.scp (and utt2num_frames), copies the feature
# config to <data-dir>/conf/, and fails if fewer than 95% of the utterances got features.
set -euo pipefail

nj=4
cmd="$(dirname "$0")/run.py"
type=fbank
feat_config=
write_utt2num_frames=true
help_message="Usage: $0 [--nj N] [--cmd CMD] [--type fbank|mfcc|pcen|spectrogram] [--feat-config FILE] <data-dir> [<log-dir> [<feat-dir>]]"

. "$(dirname "$0")/parse_options.sh"
. "$(dirname "$0")/_speechkit.sh"

if [ $# -lt 1 ] || [ $# -gt 3 ]; then echo -e "$help_message" >&2; exit 1; fi
data=$1
name=$(basename "$data")
logdir=${2:-$data/log}
featdir=${3:-$data/data}

[ -n "$feat_config" ] || feat_config=$(python3 -c "import speechkit.features, pathlib; print(pathlib.Path(speechkit.features.__file__).parent / 'conf' / '$type.yaml')")
for f in "$data/wav.scp" "$feat_config"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
echo "$0 $*"

utils=$(dirname "$0")
"$utils/validate_data_dir.sh" --no-text --no-feats "$data"
mkdir -p "$logdir" "$featdir"
featdir=$(cd "$featdir" && pwd)   # absolute, so feats.scp works from anywhere

split=$(speechkit data-dir split --per-utt "$data" "$nj")
segments_opt=
[ -f "$data/segments" ] && segments_opt="--segments $split/JOB/segments"

$cmd JOB=1:$nj "$logdir/make_${type}_${name}.JOB.log" \
  speechkit compute-feats --type "$type" --config "$feat_config" $segments_opt \
    --write-utt2num-frames "$featdir/utt2num_frames_${name}.JOB" \
    "scp:$split/JOB/wav.scp" \
    "ark,scp:$featdir/raw_${type}_${name}.JOB.ark,$featdir/raw_${type}_${name}.JOB.scp"

for n in $(seq "$nj"); do cat "$featdir/raw_${type}_${name}.$n.scp"; done | LC_ALL=C sort -k1,1 > "$data/feats.scp.tmp"
mv "$data/feats.scp.tmp" "$data/feats.scp"
for n in $(seq "$nj"); do cat "$featdir/utt2num_frames_${name}.$n"; done | LC_ALL=C sort -k1,1 > "$data/utt2num_frames.tmp"
mv "$data/utt2num_frames.tmp" "$data/utt2num_frames"
rm -f "$featdir"/utt2num_frames_"${name}".*

mkdir -p "$data/conf"
cp "$feat_config" "$data/conf/$type.${feat_config##*.}"

nf=$(wc -l < "$data/feats.scp")
nu=$(wc -l < "$data/utt2spk")
if [ "$nf" -ne "$nu" ]; then
  echo "$0: only $nf of $nu utterances of $data got features" >&2
  if [ $((nf * 100)) -lt $((nu * 95)) ]; then
    echo "$0: fewer than 95% succeeded; see the logs in $logdir" >&2; exit 1
  fi
  "$utils/fix_data_dir.sh" "$data"
fi
echo "Succeeded creating $type features for $name"
