#!/usr/bin/env bash
# WORLD features of a data dir in parallel jobs (Kaldi's steps/make_mfcc.sh, for mel-cepstra).
#
#   local/make_mcep.sh [--nj N] [--cmd CMD] [--mcep-config conf/mcep.yaml] <data-dir> [<log-dir> [<mcep-dir>]]
#   e.g. local/make_mcep.sh --nj 4 data/train exp/make_mcep/train mcep
#
# Splits the data dir into --nj parts and runs `speechkit compute-mcep` on each through --cmd.
# Writes <data-dir>/feats.scp (mel-cepstrum c0..c{order}), lf0.scp (log F0, 0 when unvoiced),
# bap.scp (band aperiodicity), utt2num_frames and feats.yaml (`type: mcep` and every resolved
# WORLD/mcep option, which the model dir keeps for resynthesis). Arks go to
# <mcep-dir>/{mcep,lf0,bap}_<name>.v<N>.<job>.ark, a new version per run, so a run never
# rewrites an ark that the current scps point into; the data dir's files are replaced only when
# every job succeeded and 95% of the utterances got features, then older versions are deleted.
# A data dir whose features are already those of this config is left alone (idempotent).
set -euo pipefail
nj=4
cmd=utils/run.py
mcep_config=conf/mcep.yaml
help_message="Usage: $0 [--nj N] [--cmd CMD] [--mcep-config FILE] <data-dir> [<log-dir> [<mcep-dir>]]"
. utils/parse_options.sh
if [ $# -lt 1 ] || [ $# -gt 3 ]; then echo -e "$help_message" >&2; exit 1; fi
data=$1
name=$(basename "$data")
logdir=${2:-$data/log}
mcepdir=${3:-$data/data}
[ -f "$data/wav.scp" ] || { echo "$0: no such file $data/wav.scp" >&2; exit 1; }
shopt -s nullglob

# The resolved config first: a bad option (or an untabled sample rate) fails before any job.
new_yaml=$data/.feats.yaml.tmp$$
trap 'rm -f "$new_yaml" "$data"/.{feats,lf0,bap}.scp.tmp$$ "$data/.utt2num_frames.tmp$$"' EXIT
args=$(python3 local/mcep_feats.py config "$mcep_config" "$new_yaml")
if [ -f "$data/feats.yaml" ] && [ -f "$data/feats.scp" ] && cmp -s "$new_yaml" "$data/feats.yaml" && [ -f "$data/lf0.scp" ] &&
   [ -f "$data/bap.scp" ] && [ "$(wc -l < "$data/feats.scp")" -eq "$(wc -l < "$data/utt2spk")" ]; then
  echo "$0: $data already has the mel-cepstra of $mcep_config; nothing to do"
  exit 0
fi
echo "$0 $*"
utils/validate_data_dir.sh --no-text --no-feats "$data"
mkdir -p "$logdir" "$mcepdir"
mcepdir=$(cd "$mcepdir" && pwd)   # absolute, so the scps work from anywhere

ver=0
for f in "$mcepdir"/mcep_"$name".v*.*.ark; do
  [[ $f =~ \.v([0-9]+)\.[0-9]+\.ark$ ]] && [ "${BASH_REMATCH[1]}" -gt "$ver" ] && ver=${BASH_REMATCH[1]}
done
ver=$((ver + 1))
stem() { echo "$mcepdir/$1_$name.v$ver"; }
committed=false
cleanup() {   # a run that did not commit leaves nothing of its own behind
  $committed || rm -f "$(stem mcep)".* "$(stem lf0)".* "$(stem bap)".* "$(stem utt2num_frames)".*
  rm -f "$new_yaml" "$data"/.{feats,lf0,bap}.scp.tmp$$ "$data/.utt2num_frames.tmp$$"
}
trap cleanup EXIT

split=$(speechkit data-dir split --per-utt "$data" "$nj")
segments_opt=
[ -f "$data/segments" ] && segments_opt="--segments $split/JOB/segments"
$cmd JOB=1:$nj "$logdir/make_mcep_${name}.JOB.log" \
  speechkit compute-mcep $args $segments_opt --write-utt2num-frames "$(stem utt2num_frames).JOB" \
    "scp:$split/JOB/wav.scp" "ark,scp:$(stem mcep).JOB.ark,$(stem mcep).JOB.scp" \
    "ark,scp:$(stem lf0).JOB.ark,$(stem lf0).JOB.scp" "ark,scp:$(stem bap).JOB.ark,$(stem bap).JOB.scp"

merge() { for n in $(seq "$nj"); do cat "$1.$n$2"; done | LC_ALL=C sort -k1,1 > "$3"; }
merge "$(stem mcep)" .scp "$data/.feats.scp.tmp$$"
merge "$(stem lf0)" .scp "$data/.lf0.scp.tmp$$"
merge "$(stem bap)" .scp "$data/.bap.scp.tmp$$"
merge "$(stem utt2num_frames)" "" "$data/.utt2num_frames.tmp$$"
nf=$(wc -l < "$data/.feats.scp.tmp$$")
nu=$(wc -l < "$data/utt2spk")
if [ $((nf * 100)) -lt $((nu * 95)) ]; then
  echo "$0: only $nf of $nu utterances of $data got features, fewer than 95%; see $logdir" >&2
  exit 1
fi

# Commit: the config goes first, so an interruption leaves a data dir lacking a file rather
# than one whose files disagree; then the older versions' arks go.
rm -f "$data/feats.yaml"
for f in feats lf0 bap; do mv "$data/.$f.scp.tmp$$" "$data/$f.scp"; done
mv "$data/.utt2num_frames.tmp$$" "$data/utt2num_frames"
mv "$new_yaml" "$data/feats.yaml"
committed=true
rm -f "$(stem utt2num_frames)".*
for f in "$mcepdir"/{mcep,lf0,bap}_"$name".v*.*; do
  [[ $f == "$mcepdir"/*_"$name.v$ver".* ]] || rm -f "$f"
done
if [ "$nf" -ne "$nu" ]; then
  echo "$0: only $nf of $nu utterances of $data got features" >&2
  utils/fix_data_dir.sh "$data"
fi
echo "Succeeded creating mel-cepstra for $name"
