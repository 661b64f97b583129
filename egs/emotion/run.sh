#!/usr/bin/env bash
# Speech emotion recognition: multi-time-scale convolution (Guizzo et al., ICASSP 2020) against
# standard convolution, in speaker-independent k-fold cross-validation: corpus -> data + folds ->
# features -> labels -> train every system on every fold -> classify -> score -> table.
#
#   ./run.sh                                  every system on every fold (embedded corpus)
#   ./run.sh --systems "std mts" --folds 2    fewer systems or folds (conf/train_<system>.yaml)
#   ./run.sh --corpus ravdess                 RAVDESS speech (zenodo 1188976), or --corpus emodb
set -euo pipefail

stage=0
stop_stage=100
corpus=embedded          # embedded | ravdess | emodb
nj=4
folds=4                  # speaker-independent folds: every speaker is tested once
systems="std mts"        # conf/train_<system>.yaml: also mts_wide (0.5, 2), mts_all (four scales)
feat_config=conf/stft.yaml   # FFT 512; conf/stft_authors.yaml: the authors' FFT 1024
seeds=1
list_options="seeds"   # --seeds "1 2" (utils/parse_options.sh)
train_args=              # config overrides for every system, e.g. "train.epochs=2"
ngpu=0
# Embedded corpus: speakers x sentences, each in one of the styles (the emotion labels).
num_speakers=32
utts_per_speaker=24
styles=neutral,happy,sad,angry
style_strength=0.5,1.0   # per-utterance pull towards neutral (1: the style as tabled)
seed=1
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|ravdess|emodb] [--systems 'std mts'] [--folds N] [--feat-config FILE] [--seeds '1 2'] [--train-args ARGS] [--nj N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
configs=$(for s in $systems; do echo conf/train_$s.yaml; done)
fold_systems() { steps/systems.sh --tag fold$1 "$configs" "$seeds"; }
all_systems=$(for k in $(seq $folds); do fold_systems $k; done)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus)"
  steps/make_corpus.sh --nj "$nj" --synth-opts "--profile sentences --styles $styles --seed $seed \
    --num-speakers $num_speakers --dev-speakers 0 --test-speakers 0 \
    --utts-per-speaker $utts_per_speaker --style-strength $style_strength" "$corpus" corpus/$corpus
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data/all and $folds speaker-independent folds"
  name=$([ "$corpus" = embedded ] && echo embedded_emotion || echo "$corpus")
  steps/prepare_data.sh --opts "--opt folds=$folds --opt seed=$seed" "$name" corpus/$corpus data
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: compressed STFT magnitudes; each fold's training CMVN"
  steps/make_feats.sh --nj "$nj" --cmd "$train_cmd" --type stft --feat-config "$feat_config" all
  local/fold_feats.sh "$folds"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: label list"
  speechkit make-tokens --unit label data/all/utt2emo data/lang/labels.txt
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  for k in $(seq "$folds"); do
    log "Stage 4: training fold $k: $(echo $(fold_systems $k))"
    steps/train.sh --cmd "$cuda_cmd" --ngpu "$ngpu" --tag fold$k \
      --train-args "data.cmvn=data/fold$k/train/cmvn_global.ark $train_args" \
      "$configs" "$seeds" data/fold$k/train data/fold$k/dev
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: classification of each fold's test speakers"
  for k in $(seq "$folds"); do
    steps/decode.sh --cmd "$decode_cmd" --decoder "speechkit classify" "$(fold_systems $k)" fold$k/test
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: scoring (WA, UA, macro-F1)"
  steps/score.sh --scorer "speechkit score-classify" "$all_systems"
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  log "Stage 7: comparison over folds"
  speechkit compare --ignore data --metric ua --metric wa --metric macro_f1 \
    $(echo "$all_systems" | sed 's|^|exp/|') > exp/RESULTS.md
  local/summary.sh "$all_systems" >> exp/RESULTS.md
  cat exp/RESULTS.md
fi
log "Done"
