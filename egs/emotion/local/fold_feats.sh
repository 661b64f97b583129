#!/usr/bin/env bash
# Give every fold dir the features of data/all, and each fold's training side its own global
# CMVN statistics (the z-normalisation of the authors, from training speakers only).
#
#   local/fold_feats.sh <num-folds>
#
# data/fold<k>/{train,dev,test} are re-made as subsets of data/all (which now has feats.scp and
# feats.yaml) with the same utterances; data/fold<k>/train/cmvn_global.ark gets the statistics.
set -euo pipefail
[ $# -eq 1 ] || { echo "Usage: $0 <num-folds>" >&2; exit 1; }
for k in $(seq "$1"); do
  for x in train dev test; do
    dir=data/fold$k/$x
    cut -d' ' -f1 $dir/utt2spk > $dir/.utts
    utils/subset_data_dir.sh --utt-list $dir/.utts data/all $dir.new
    rm -rf $dir && mv $dir.new $dir
  done
  speechkit compute-cmvn-stats scp:data/fold$k/train/feats.scp data/fold$k/train/cmvn_global.ark
done
