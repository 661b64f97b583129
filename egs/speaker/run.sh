#!/usr/bin/env bash
# Siamese speaker embeddings with the KL-divergence / hinge pairwise loss (Lukic et al. 2016,
# 2017), against cross-entropy d-vectors and the flawed loss: corpus -> data -> 128-band log-mel
# -> train -> embeddings -> verification and clustering scores -> comparison table.
#
#   ./run.sh                                   every stage, every system x seed
#   ./run.sh --models "cnn_kl cnn_ce" --seeds 1
#   ./run.sh --stage 4 --stop-stage 5          resume from any stage (each stage is idempotent)
#   ./run.sh --corpus mini_librispeech         openslr 31, downloaded in stage 0
#   ./run.sh --corpus voxceleb1 --corpus-dir /data/voxceleb1   (or timit: your own copy)
set -euo pipefail

stage=0
stop_stage=100
corpus=embedded          # embedded | mini_librispeech | voxceleb1 | timit
corpus_dir=              # default corpus/<corpus>; voxceleb1 and timit: where your copy is
nj=4
max_jobs=2               # embedding extractions and scorings run at once (steps/decode.sh --max-jobs)
models="cnn_kl cnn_ce cnn_flawed blstm_kl blstm_ce"   # conf/train_<model>.yaml
seeds="1 2"
train_args=              # config overrides for every system, e.g. "train.epochs=2"
layers="hidden softmax"  # embedding layers scored (hidden: the network's default layer)
cv_utts=2                # utterances per training speaker held out for the training dev loss
num_trials=4000          # balanced trials per evaluation set (VoxCeleb1's test: its own list)
ngpu=0
# Embedded corpus: at most 104 speakers keeps test voices unseen eSpeak variants.
num_speakers=104
dev_speakers=4
test_speakers=40
utts_per_speaker=16
seed=1
# --corpus timit: the original's clustering protocol, each of timit_test_speakers speakers'
# first 8 sentences pooled into one utterance and the last 2 into another (data/test40).
timit_test_speakers=40
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|mini_librispeech|voxceleb1|timit] [--corpus-dir DIR] [--models 'cnn_kl cnn_ce ...'] [--seeds '1 2'] [--layers 'hidden softmax'] [--num-trials N] [--train-args ARGS] [--nj N] [--max-jobs N] [--ngpu N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
corpus_dir=${corpus_dir:-corpus/$corpus}
configs=$(for m in $models; do echo conf/train_$m.yaml; done)
systems=$(steps/systems.sh "$configs" "$seeds")
sets="dev test"
protocol=test$timit_test_speakers
[ "$corpus" = timit ] && sets="$sets $protocol"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus in $corpus_dir)"
  steps/make_corpus.sh --nj "$nj" --synth-opts "--profile sentences --seed $seed \
    --num-speakers $num_speakers --dev-speakers $dev_speakers --test-speakers $test_speakers \
    --utts-per-speaker $utts_per_speaker" "$corpus" "$corpus_dir"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data dirs with trials"
  opts="--opt num_trials=$num_trials"
  [ "$corpus" = embedded ] && opts="$opts --opt dev_speakers=$dev_speakers --opt test_speakers=$test_speakers"
  [ "$corpus" = timit ] && opts="$opts --opt num_test_speakers=$timit_test_speakers"
  steps/prepare_data.sh --opts "$opts" "$([ "$corpus" = embedded ] && echo embedded_speaker || echo "$corpus")" "$corpus_dir" data
  if [ "$corpus" = timit ]; then  # one data dir of both views; utt2pool names the pooled utterance
    utils/combine_data.sh data/$protocol data/${protocol}_a data/${protocol}_b
    for v in a b; do awk -v v=$v '{print $1, $2 "-" v}' data/${protocol}_$v/utt2spk; done \
      | LC_ALL=C sort > data/$protocol/utt2pool
  fi
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: 128-band log-mel, global CMVN, speaker list; $cv_utts utterances a training speaker held out"
  steps/make_feats.sh --nj "$nj" --cmd "$train_cmd" --cmvn true --type fbank \
    --feat-config conf/fbank.yaml "train $sets"
  speechkit make-tokens --unit label data/train/utt2spk data/lang/speakers.txt
  utils/subset_data_dir.sh --per-spk data/train "$cv_utts" data/train_cv
  cut -d' ' -f1 data/train_cv/utt2spk | comm -23 <(cut -d' ' -f1 data/train/utt2spk) - > data/train_tr.list
  utils/subset_data_dir.sh --utt-list data/train_tr.list data/train data/train_tr
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: training $(echo $systems)"
  steps/train.sh --cmd "$cuda_cmd" --ngpu "$ngpu" --train-args "$train_args" "$configs" "$seeds" \
    data/train_tr data/train_cv
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: embeddings ($layers) of $sets"
  for layer in $layers; do
    steps/decode.sh --cmd "$decode_cmd" --suffix "_$layer" --max-jobs "$max_jobs" \
      --decoder "speechkit extract-embeddings --layer $layer" "$systems" "dev test"
    if [ "$corpus" = timit ]; then
      steps/decode.sh --cmd "$decode_cmd" --suffix "_$layer" --max-jobs "$max_jobs" --decoder \
        "speechkit extract-embeddings --layer $layer --pool data/$protocol/utt2pool" "$systems" $protocol
    fi
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: thresholds chosen on dev; verification and clustering scores"
  speechkit score-speaker --choose-threshold --no-plots \
    $(for sys in $systems; do for l in $layers; do echo exp/$sys/decode_dev_$l; done; done) > /dev/null
  steps/score.sh --max-jobs "$max_jobs" --scorer "speechkit score-speaker" "$systems"
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: comparison table (mean ± std over seeds)"
  speechkit compare --metric eer --metric min_dcf --metric pair_accuracy --metric mr \
    --metric min_mr --metric ari $(echo "$systems" | sed 's|^|exp/|') > exp/RESULTS.md
  cat exp/RESULTS.md
fi
log "Done"
