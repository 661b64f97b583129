#!/usr/bin/env bash
# BiLSTM-CTC speech recognition: corpus -> data -> features -> tokens -> train -> decode -> score.
#
#   ./run.sh                               every stage on the embedded digits corpus
#   ./run.sh --stage 4 --stop-stage 5      resume from any stage (each stage is idempotent)
#   ./run.sh --corpus yesno                Kaldi's yesno corpus (openslr 1), downloaded in stage 0
#   ./run.sh --train-config conf/train_tiny.yaml --tag try1
#   ./run.sh --speed-perturb false --voice-perturb false
#                                          train on data/train alone; the default trains on
#                                          data/train_sp_vc: Kaldi's 3-way speed + volume
#                                          perturbation of train plus a copy in other voices, one
#                                          copy of each utterance per epoch (train.copies: one)
set -euo pipefail

stage=0
stop_stage=100
corpus=embedded          # embedded | yesno
nj=4                     # parallel jobs for corpus generation and features
feats_type=fbank         # fbank | mfcc: conf/$feats_type.yaml
train_config=conf/train.yaml
seeds=1                  # one system per seed: exp/<config>[_<tag>]_seed<N>
list_options="seeds"   # --seeds "1 2" (utils/parse_options.sh)
tag=
beam=10                  # prefix beam for decoding (greedy is decoded too)
speed_perturb=true       # add train at speeds 0.9 and 1.1, volume-perturbed (Kaldi's 3-way)
voice_perturb=true       # add a copy of train in other voices (utils/data/perturb_data_dir_voice.sh)
ngpu=0
# Embedded corpus size (speakers x utterances per speaker; dev/test speakers are unseen).
num_speakers=130
dev_speakers=10
test_speakers=20
utts_per_speaker=24
lead_silence=0,0.5       # seconds of silence before each utterance's speech (as recorded)
noise_floor=30,50        # SNR (dB) of a white noise floor under each utterance; '' for none
seed=1
help_message="Usage: $0 [--stage N] [--stop-stage N] [--corpus embedded|yesno] [--train-config FILE] [--seeds '1 2'] [--tag TAG] [--speed-perturb true|false] [--voice-perturb true|false] [--nj N] [--beam N] [--ngpu N]"

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }
systems=$(steps/systems.sh --tag "$tag" "$train_config" "$seeds")
train_set=train$([ "$speed_perturb" = true ] && echo _sp || true)$([ "$voice_perturb" = true ] && echo _vc || true)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: corpus ($corpus)"
  steps/make_corpus.sh --nj "$nj" --synth-opts "--profile digits --seed $seed \
    --num-speakers $num_speakers --dev-speakers $dev_speakers --test-speakers $test_speakers \
    --utts-per-speaker $utts_per_speaker --lead-silence $lead_silence \
    $([ -n "$noise_floor" ] && echo --noise-floor $noise_floor)" "$corpus" corpus/$corpus
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: data dirs"
  steps/prepare_data.sh "$corpus" corpus/$corpus data
  # Augmented training sets, made afresh (the perturb scripts refuse a dir holding features,
  # as Kaldi's do, and stage 2 computes them again).
  rm -rf data/train_sp data/train_vc1 data/train_vc data/train_sp_vc
  if [ "$speed_perturb" = true ]; then
    utils/data/perturb_data_dir_speed_3way.sh data/train data/train_sp
    utils/data/perturb_data_dir_volume.sh data/train_sp
  fi
  if [ "$voice_perturb" = true ]; then
    utils/data/perturb_data_dir_voice.sh data/train data/train_vc1
    utils/combine_data.sh data/$train_set data/${train_set%_vc} data/train_vc1
  fi
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: $feats_type features and global CMVN"
  steps/make_feats.sh --nj "$nj" --cmd "$train_cmd" --cmvn true --type "$feats_type" \
    --feat-config conf/$feats_type.yaml "train $([ $train_set = train ] || echo $train_set) dev test"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: token list"
  speechkit make-tokens data/train/text data/lang/tokens.txt
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: training $systems"
  steps/train.sh --cmd "$cuda_cmd" --ngpu "$ngpu" --tag "$tag" "$train_config" "$seeds" data/$train_set data/dev
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: decoding (greedy and beam $beam)"
  for b in 1 "$beam"; do
    suffix=$([ "$b" = 1 ] && echo _greedy || echo _beam$b)
    steps/decode.sh --cmd "$decode_cmd" --suffix "$suffix" --decoder "speechkit asr-decode --beam $b" \
      "$systems" "dev test"
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log "Stage 6: scoring"
  steps/score.sh --scorer local/score.sh "$systems"
  for sys in $systems; do cat exp/$sys/RESULTS.md; done
fi
log "Done: $(echo $systems | sed 's|^|exp/|')"
