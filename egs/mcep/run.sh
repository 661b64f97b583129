#!/usr/bin/env bash
# Mel-cepstral autoencoders and voice conversion: corpus -> data -> WORLD features -> train a
# frame VAE, an LSTM sequence autoencoder and a speaker-conditioned VAE -> baselines (copy,
# mean frame, PCA) -> reconstruct / convert and resynthesise -> MCD -> comparison table.
#
#   ./run.sh                                every stage on the embedded corpus
#   ./run.sh --stage 4 --stop-stage 5       resume from any stage (each stage is idempotent)
#   ./run.sh --corpus cmu_arctic            CMU ARCTIC (bdl slt clb rms; jmk unseen), downloaded in stage 0
#   ./run.sh --seeds "1 2 3" --train-args "train.epochs=20"
set -euo pipefail

stage=0
stop_stage=100
corpus=embedded          # embedded | cmu_arctic
nj=4
configs="conf/train_lstm_ae.yaml conf/train_vae.yaml conf/train_vae_var.yaml"  # reconstruction (dev: data/dev)
vc_configs=conf/train_cvae.yaml                       # conversion systems (dev: data/dev_seen)
seeds=1
list_options="seeds"   # --seeds "1 2" (utils/parse_options.sh)
train_args=              # config overrides for every system, e.g. "train.epochs=2"
baselines="copy mean pca"   # copy (analysis-synthesis, needed), mean frame, PCA
pca_latent=16            # components of the PCA baseline
resynth_all=false        # true: every system's wavs are analysed again for MCD (the copy's always are)
ngpu=0
# Embedded corpus: speakers x sentences; every voice also reads the same parallel_texts sentences
# (the conversion test pairs, never in training); dev and test speakers are unseen in training.
num_speakers=34
dev_speakers=2
test_speakers=4
utts_per_speaker=12
parallel_texts=3
vc_speakers=4
seed=1
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|cmu_arctic] [--configs '...'] [--vc-configs '...'] [--seeds '1 2'] [--train-args ARGS] [--baselines 'copy mean pca'] [--nj N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
systems=$(steps/systems.sh "$configs" "$seeds")
vc_systems=$(steps/systems.sh "$vc_configs" "$seeds")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus)"
  steps/make_corpus.sh --nj "$nj" --synth-opts "--profile sentences --seed $seed \
    --num-speakers $num_speakers --dev-speakers $dev_speakers --test-speakers $test_speakers \
    --utts-per-speaker $utts_per_speaker --parallel-texts $parallel_texts" "$corpus" corpus/$corpus
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data dirs (test: unseen speakers; test_vc: parallel pairs of training voices)"
  if [ "$corpus" = embedded ]; then
    steps/prepare_data.sh --opts "--opt vc_speakers=$vc_speakers --opt seed=$seed" embedded_mcep corpus/$corpus data
  else
    steps/prepare_data.sh "$corpus" corpus/$corpus data
  fi
fi
sets=$(cd data 2>/dev/null && ls -d train dev dev_seen test test_vc 2>/dev/null | tr '\n' ' ' || true)

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: WORLD features (mcep c0..c39, lf0, bap) and the training statistics"
  for x in $sets; do
    local/make_mcep.sh --nj "$nj" --cmd "$train_cmd" data/$x exp/make_mcep/$x feats
  done
  python3 local/mcep_feats.py stats data/train
  speechkit compute-cmvn-stats scp:data/train/feats.scp data/train/cmvn_global.ark
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: training $(echo $systems $vc_systems), two at a time"
  dev_seen=data/dev_seen; [ -d $dev_seen ] || dev_seen=data/dev   # cmu_arctic: dev is seen
  local/train_systems.sh --cmd "$cuda_cmd" --ngpu "$ngpu" --train-args "$train_args" \
    "$(for c in $configs; do echo $c:data/dev; done) $(for c in $vc_configs; do echo $c:$dev_seen; done)" \
    "$seeds" data/train
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: reconstruction of test, conversion of test_vc pairs, resynthesis"
  for b in $baselines; do   # fitted on data/train (not trained) when first decoded
    steps/decode.sh --cmd "$decode_cmd" --decoder "speechkit mcep-reconstruct --baseline $b \
      --latent $pca_latent --train-data data/train" "$b" test
  done
  steps/decode.sh --cmd "$decode_cmd" --decoder "speechkit mcep-reconstruct" "$systems" test
  steps/decode.sh --cmd "$decode_cmd" --decoder "speechkit mcep-reconstruct --convert-pairs" \
    "$vc_systems copy" test_vc
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: scoring (MCD, variance ratios; the copy's resynthesis is the floor)"
  resynth=$([ "$resynth_all" = true ] && echo --resynth || true)
  steps/score.sh --scorer "speechkit score-mcep --resynth" copy
  steps/score.sh --scorer "speechkit score-mcep $resynth --copy-system exp/copy" \
    "$systems $vc_systems ${baselines//copy/}"
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: comparison tables"
  local/make_results.sh "$systems" "$vc_systems" "$baselines" > exp/RESULTS.md
  cat exp/RESULTS.md
fi
log "Done"
