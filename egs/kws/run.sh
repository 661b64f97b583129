#!/usr/bin/env bash
# Keyword spotting with a trainable PCEN frontend (Wang et al. 2016), compared with log-mel and
# fixed PCEN, near and far field: corpus -> data -> features -> labels -> train -> classify ->
# score -> comparison table and pictures.
#
#   ./run.sh                                 the whole comparison (3 frontends x 3 seeds)
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
augment=false            # add far-field copies of the training clips (embedded corpus)
ngpu=0
# Embedded corpus size: speakers x words (dev and test speakers are unseen in training).
num_speakers=130
dev_speakers=10
test_speakers=20
utts_per_speaker=24
seed=1
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|speech_commands] [--frontends 'logmel pcen_fixed pcen'] [--seeds '1 2 3'] [--augment true|false] [--nj N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
systems() { for f in $frontends; do for s in $seeds; do echo "train_${f}_seed$s"; done; done; }

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus)"
  if [ "$corpus" = embedded ]; then
    [ -f corpus/embedded/manifest.tsv ] || speechkit synth-corpus --profile commands --seed "$seed" \
      --num-speakers "$num_speakers" --dev-speakers "$dev_speakers" --test-speakers "$test_speakers" \
      --utts-per-speaker "$utts_per_speaker" --nj "$nj" corpus/embedded
  else
    local/download_and_untar.sh "$corpus" corpus/$corpus
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data dirs (near field, and far field through simulated rooms)"
  name=$([ "$corpus" = embedded ] && echo embedded_kws || echo "$corpus")
  opts="--opt augment=$augment --opt seed=$seed"
  [ "$corpus" = embedded ] || opts="$opts --opt farfield=true"   # embedded always renders them
  speechkit prepare-corpus $opts "$name" "corpus/$corpus" data
fi
test_sets=$(cd data 2>/dev/null && ls -d test* 2>/dev/null | tr '\n' ' ' || true)

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: mel filterbank energies"
  for x in train dev $test_sets; do
    rm -rf data/$x/conf
    utils/make_feats.sh --nj "$nj" --cmd "$train_cmd" --type fbank --feat-config conf/fbank.yaml \
      data/$x exp/make_fbank/$x feats
  done
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: label list"
  speechkit make-tokens --unit label data/train/text data/lang/labels.txt
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  for sys in $(systems); do
    frontend=${sys#train_}; frontend=${frontend%_seed*}
    log "Stage 4: training $sys"
    $cuda_cmd --gpu "$ngpu" "exp/$sys/log/train.log" \
      speechkit train --config "conf/train_$frontend.yaml" --exp-dir "exp/$sys" --resume \
        --ngpu "$ngpu" --train-data data/train --dev-data data/dev \
        --token-list data/lang/labels.txt "train.seed=${sys##*_seed}" $train_args
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: classification of dev and the test conditions"
  for sys in $(systems); do
    $decode_cmd "exp/$sys/log/classify.log" \
      speechkit classify --model "exp/$sys" $(for x in dev $test_sets; do echo data/$x; done)
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: scoring"
  for sys in $(systems); do
    for x in dev $test_sets; do
      speechkit score-kws --fa-rate "$fa_rate" "exp/$sys/decode_$x" > /dev/null
    done
    speechkit results "exp/$sys" > "exp/$sys/RESULTS.md"
  done
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  log "Stage 7: comparison table and pictures"
  speechkit compare --metric accuracy --metric frr_mean $(systems | sed 's|^|exp/|') > exp/RESULTS.md
  last=$(systems | grep pcen_seed | tail -n 1 || true)
  if [ -n "$last" ]; then
    far=$(echo $test_sets | tr ' ' '\n' | grep far | tail -n 1 || echo "${test_sets%% *}")
    speechkit plot-frontends --model "exp/$last" "data/$far" exp/frontends.png
  fi
  cat exp/RESULTS.md
fi
log "Done"
