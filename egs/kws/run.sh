#!/usr/bin/env bash
# Keyword spotting with a trainable PCEN frontend (Wang et al. 2016), compared with log-mel and
# fixed PCEN, near and far field: corpus -> data -> features -> labels -> train -> classify ->
# score -> comparison table and pictures.
#
#   ./run.sh                                 the whole comparison (3 frontends x 3 seeds),
#                                            trained multi-condition (near + far-field copies)
#   ./run.sh --augment false                 trained near field only (exp/*_near_seed<N>)
#   ./run.sh --frontends pcen --seeds 1      one system
#   ./run.sh --stage 4 --stop-stage 6        resume from any stage (each stage is idempotent)
#   ./run.sh --corpus speech_commands        Google Speech Commands v0.02, downloaded in stage 0
set -euo pipefail

stage=0
stop_stage=100
corpus=embedded          # embedded | speech_commands
nj=4
frontends="logmel pcen_fixed pcen"   # conf/train_<frontend>.yaml
seeds="1 2 3"
train_args=              # config overrides for every system, e.g. "train.epochs=2"
fa_rate=0.01             # false-alarm rate at which false-reject rates are reported
augment=true             # train on data/train_multi: train + a far-field copy of every clip
max_jobs=3               # trainings at once (one thread each); decodes and scorings: 2
ngpu=0
# Embedded corpus size: speakers x words (dev and test speakers are unseen in training).
num_speakers=130
dev_speakers=10
test_speakers=20
utts_per_speaker=24
seed=1
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|speech_commands] [--frontends 'logmel pcen_fixed pcen'] [--seeds '1 2 3'] [--augment true|false] [--max-jobs N] [--nj N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
configs=$(for f in $frontends; do echo conf/train_$f.yaml; done)
# Multi-condition and near-field-only systems live side by side: exp/train_pcen_multi_seed1 ...
if [ "$augment" = true ]; then train_set=train_multi tag=multi; else train_set=train tag=near; fi
systems=$(steps/systems.sh --tag $tag "$configs" "$seeds")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus)"
  steps/make_corpus.sh --nj "$nj" --synth-opts "--profile commands --seed $seed \
    --num-speakers $num_speakers --dev-speakers $dev_speakers --test-speakers $test_speakers \
    --utts-per-speaker $utts_per_speaker" "$corpus" corpus/$corpus
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data dirs (near field, and far field through simulated rooms)"
  name=$([ "$corpus" = embedded ] && echo embedded_kws || echo "$corpus")
  opts="--opt augment=$augment --opt seed=$seed"
  [ "$corpus" = embedded ] || opts="$opts --opt farfield=true"   # embedded always renders them
  steps/prepare_data.sh --opts "$opts" "$name" corpus/$corpus data
fi
test_sets=$(cd data 2>/dev/null && ls -d test* 2>/dev/null | tr '\n' ' ' || true)

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: mel filterbank energies"
  steps/make_feats.sh --nj "$nj" --cmd "$train_cmd" --type fbank --feat-config conf/fbank.yaml \
    "$train_set dev $test_sets"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: label list"
  speechkit make-tokens --unit label data/train/text data/lang/labels.txt
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: training $(echo $systems)"
  steps/train.sh --cmd "$cuda_cmd" --ngpu "$ngpu" --max-jobs "$max_jobs" --tag $tag \
    --train-args "$train_args" "$configs" "$seeds" data/$train_set data/dev
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: classification of dev and the test conditions"
  steps/decode.sh --cmd "$decode_cmd" --max-jobs 2 --decoder "speechkit classify" "$systems" \
    "dev $test_sets"
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: scoring"
  steps/score.sh --max-jobs 2 --scorer "speechkit score-kws --fa-rate $fa_rate --data-root data" \
    "$systems"
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  log "Stage 7: comparison table and pictures"
  results=exp/RESULTS_$tag.md
  speechkit compare --metric accuracy --metric frr_mean $(echo "$systems" | sed 's|^|exp/|') > $results
  runs() { echo "$systems" | grep "^train_$1_${tag}_seed" | sed 's|^|exp/|'; }
  for pair in "pcen_fixed pcen" "logmel pcen_fixed" "logmel pcen" "pcen pcen_mix"; do  # A B
    set -- $pair
    if [ -n "$(runs $1)" ] && [ -n "$(runs $2)" ]; then
      speechkit compare-paired --a $(runs $1) --b $(runs $2) >> $results
    fi
  done
  far=$(echo $test_sets | tr ' ' '\n' | grep far | tail -n 1 || echo "${test_sets%% *}")
  if [ -n "$(runs pcen)" ]; then
    speechkit plot-frontends --model "$(runs pcen | tail -n 1)" "data/$far" exp/frontends_$tag.png
    speechkit plot-pcen-params $(runs pcen) $(runs pcen_mix) exp/pcen_params_$tag.png
  fi
  first=$(echo "$systems" | grep "_seed${seeds%% *}\$" || true)   # one seed: a curve per frontend
  for x in $(echo $test_sets | tr ' ' '\n' | grep far || true); do
    speechkit plot-det exp/kws_det_${tag}_$x.png $(for s in $first; do echo exp/$s/decode_$x; done)
  done
  cat $results
fi
log "Done"
