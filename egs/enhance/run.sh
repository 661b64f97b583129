#!/usr/bin/env bash
# Speech enhancement with PHASEN (Yin et al., AAAI 2020) and its ablations, against the noisy
# input and the oracle ideal ratio mask: corpus -> data -> train -> enhance -> score ->
# comparison table and pictures.
#
#   ./run.sh                                  PHASEN + 3 ablations, 1 seed, embedded corpus
#   ./run.sh --configs phasen --seeds "1 2"   one system, two seeds
#   ./run.sh --stage 3 --stop-stage 4         resume from any stage (each stage is idempotent)
#   ./run.sh --corpus voicebank_demand        VoiceBank+DEMAND, downloaded in stage 0
#   ./run.sh --noise-dir /data/demand         embedded speech mixed with your own noise files
set -euo pipefail

stage=0
stop_stage=100
corpus=embedded          # embedded | voicebank_demand
nj=2                     # parallel jobs for corpus generation and scoring
max_jobs=2               # trainings and enhancements at once, one thread each (steps/jobs.sh:
                         # two 1-thread trainings give 1.5x the steps of one 2-thread training)
configs="phasen phasen_noftb phasen_nocomm phasen_amp"   # conf/<name>.yaml
seeds=1
list_options="seeds"   # --seeds "1 2" (utils/parse_options.sh)
train_args=              # config overrides for every system, e.g. "train.epochs=2"
ngpu=0
noise_dir=               # mix the embedded speech with these noise recordings instead
noises=                  # embedded noise kinds for train and test alike, e.g. white (default:
                         # white, brown, hum, babble in training; pink too, held out, in test)
# Embedded corpus size: speakers x sentences (dev and test speakers are unseen in training).
num_speakers=24
dev_speakers=2
test_speakers=2
utts_per_speaker=20
seed=1
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|voicebank_demand] [--configs 'phasen phasen_amp'] [--seeds '1 2'] [--train-args ARGS] [--noise-dir DIR] [--noises white] [--nj N] [--max-jobs N] [--ngpu N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
systems=$(steps/systems.sh "$(for c in $configs; do echo conf/$c.yaml; done)" "$seeds")
baselines="noisy oracle_irm"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus)"
  steps/make_corpus.sh --nj "$nj" --synth-opts "--profile sentences --seed $seed \
    --num-speakers $num_speakers --dev-speakers $dev_speakers --test-speakers $test_speakers \
    --utts-per-speaker $utts_per_speaker" "$corpus" corpus/$corpus
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data dirs (wav.scp noisy, utt2clean, utt2snr, utt2noise) and the waveform front-end"
  name=$([ "$corpus" = embedded ] && echo embedded_enhance || echo "$corpus")
  opts=
  [ "$corpus" = embedded ] && opts="--opt seed=$seed ${noise_dir:+--opt noise_dir=$noise_dir} \
    ${noises:+--opt train_noises=$noises --opt test_noises=$noises}"
  steps/prepare_data.sh --opts "$opts" "$name" corpus/$corpus data
  local/waveform_conf.sh data/train data/dev data/test
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: training $(echo $systems)"
  mkdir -p exp
  local/param_counts.py conf/phasen.yaml conf/phasen_paper.yaml | tee exp/param_counts.txt
  steps/train.sh --cmd "$cuda_cmd" --ngpu "$ngpu" --max-jobs "$max_jobs" --train-args "$train_args" \
    "$(for c in $configs; do echo conf/$c.yaml; done)" "$seeds" data/train data/dev
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: enhancing the test set (systems, the noisy input, the oracle IRM)"
  steps/decode.sh --cmd "$decode_cmd" --max-jobs "$max_jobs" --decoder "speechkit enhance" "$systems" test
  steps/decode.sh --cmd "$decode_cmd" --decoder "speechkit enhance --oracle noisy" noisy test
  steps/decode.sh --cmd "$decode_cmd" --decoder "speechkit enhance --oracle irm" oracle_irm test
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: scoring (overall and per SNR bin)"
  steps/score.sh --scorer "local/score.sh --nj $nj" "$baselines $systems"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: comparison table and pictures"
  speechkit compare --metric pesq --metric stoi --metric si_sdr --metric estoi --metric csig \
    --metric cbak --metric covl --metric ssnr $(echo $baselines $systems | tr ' ' '\n' | sed 's|^|exp/|') \
    > exp/RESULTS.md
  first=$(echo "$systems" | head -n 1)
  local/plot_enhance.py --model exp/$first --data data/test --decode exp/$first/decode_test \
    exp/spectrograms.png exp/ftb_matrices.png | tee exp/ftb_harmonicity.txt
  cat exp/RESULTS.md
fi
log "Done"
