#!/usr/bin/env bash
# BiLSTM-CTC speech recognition: corpus -> data -> features -> tokens -> train -> decode -> score.
#
#   ./run.sh                               every stage on the embedded digits corpus
#   ./run.sh --stage 4 --stop-stage 5      resume from any stage (each stage is idempotent)
#   ./run.sh --corpus yesno                Kaldi's yesno corpus (openslr 1), downloaded in stage 0
#   ./run.sh --train-config conf/train_tiny.yaml --tag try1
set -euo pipefail

stage=0
stop_stage=100
corpus=embedded          # embedded | yesno
nj=4                     # parallel jobs for corpus generation and features
feats_type=fbank         # fbank | mfcc: conf/$feats_type.yaml
train_config=conf/train.yaml
tag=                     # appended to the config name: exp/<config>[_<tag>]
beam=10                  # prefix beam for decoding (greedy is decoded too)
ngpu=0
# Embedded corpus size (speakers x utterances per speaker; dev/test speakers are unseen).
num_speakers=130
dev_speakers=10
test_speakers=20
utts_per_speaker=24
seed=1
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|yesno] [--train-config FILE] [--tag TAG] [--nj N] [--beam N] [--ngpu N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
tagname=$(basename "${train_config%.*}")${tag:+_$tag}
expdir=exp/$tagname
sets="train dev test"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus)"
  if [ "$corpus" = embedded ]; then
    [ -f corpus/embedded/manifest.tsv ] || speechkit synth-corpus --profile digits --seed "$seed" \
      --num-speakers "$num_speakers" --dev-speakers "$dev_speakers" --test-speakers "$test_speakers" \
      --utts-per-speaker "$utts_per_speaker" --nj "$nj" corpus/embedded
  else
    local/download_and_untar.sh "$corpus" corpus/$corpus
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data dirs"
  speechkit prepare-corpus "$corpus" "corpus/$corpus" data
  for x in $sets; do utils/validate_data_dir.sh --no-feats data/$x; done
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: $feats_type features and global CMVN"
  for x in $sets; do
    rm -rf data/$x/conf   # one feature config per data dir
    utils/make_feats.sh --nj "$nj" --cmd "$train_cmd" --type "$feats_type" \
      --feat-config "conf/$feats_type.yaml" data/$x exp/make_$feats_type/$x feats/$feats_type
  done
  speechkit compute-cmvn-stats scp:data/train/feats.scp data/train/cmvn_global.ark
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: token list"
  speechkit make-tokens data/train/text data/lang/tokens.txt
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: training -> $expdir (follow it with: tail -f $expdir/train.log)"
  $cuda_cmd --gpu "$ngpu" "$expdir/log/train.log" \
    speechkit train --config "$train_config" --exp-dir "$expdir" --resume --ngpu "$ngpu" \
      --train-data data/train --dev-data data/dev \
      --token-list data/lang/tokens.txt --cmvn data/train/cmvn_global.ark
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: decoding (greedy and beam $beam)"
  for x in dev test; do
    for b in 1 "$beam"; do
      name=decode_${x}_$([ "$b" = 1 ] && echo greedy || echo beam$b)
      $decode_cmd "$expdir/$name/log/decode.log" \
        speechkit asr-decode --model "$expdir" --beam "$b" data/$x "$expdir/$name"
    done
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: scoring"
  for dir in "$expdir"/decode_*; do
    echo "$dir:"
    speechkit compute-wer --mode all --cer --out-dir "$dir" --details "$dir/wer_details" \
      "$dir/ref" "$dir/text"
  done
  speechkit results "$expdir" > "$expdir/RESULTS.md"
  cat "$expdir/RESULTS.md"
fi
log "Done: $expdir"
