#!/usr/bin/env bash
# Stage 2 of feature-based recipes: features for a list of data dirs, optionally global CMVN.
#
#   steps/make_feats.sh [--nj N] [--cmd CMD] [--cmvn true] --type fbank --feat-config conf/fbank.yaml \
#       "train dev test"
#
# Each data/<set> gets feats.scp, utt2num_frames and feats.yaml (the typed feature config that
# training and the model dir keep), through utils/make_feats.sh with arks in feats/<type>/ and
# logs in exp/make_<type>/<set>/. With --cmvn true, the first set's global CMVN statistics go to
# data/<first set>/cmvn_global.ark.
set -euo pipefail

nj=4
cmd=utils/run.py
type=fbank
feat_config=
cmvn=false
help_message="Usage: $0 [--nj N] [--cmd CMD] [--cmvn true|false] --type TYPE --feat-config FILE \"<sets>\""
. utils/parse_options.sh
[ $# -eq 1 ] || { echo -e "$help_message" >&2; exit 1; }
sets=$1

for x in $sets; do
  utils/make_feats.sh --nj "$nj" --cmd "$cmd" --type "$type" ${feat_config:+--feat-config "$feat_config"} \
    data/$x exp/make_$type/$x feats/$type
done
if [ "$cmvn" = true ]; then
  first=${sets%% *}
  speechkit compute-cmvn-stats scp:data/$first/feats.scp data/$first/cmvn_global.ark
fi
