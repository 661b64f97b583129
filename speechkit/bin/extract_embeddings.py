"""Extract speaker embeddings of a data dir's utterances with a trained speaker model.

  speechkit extract-embeddings --model exp/x --out exp/x/decode_test_hidden data/test
  speechkit extract-embeddings --model exp/x --layer softmax --out DIR data/test

Writes DIR/embeddings.ark and DIR/embeddings.scp (a 1 x D matrix per utterance: the mean over
its segments of the chosen layer), copies of the data dir's utt2spk and trials (when it has
them) for `speechkit score-speaker DIR`, and DIR/decode.conf (model, checkpoint, layer, data).
--layer hidden (default) is the network's default embedding layer; `softmax`, `logits`,
`dense1`, ... name one (an unknown name lists those of the network).

--pool FILE (a table `<utt> <pooled utt>`, e.g. data/test40/utt2pool of `--corpus timit`):
the utterances of a pooled utterance are concatenated (their normalised features, in id order)
and embedded as one, as the original's TIMIT protocol does with a speaker's first 8 and last 2
sentences. DIR then holds the pooled utterances, their utt2spk (the speaker of their members,
who must agree) and a balanced trial list drawn from them (`--num-trials`, `--seed`).
"""
import shutil
import sys
from pathlib import Path

import numpy as np

from speechkit import cli as common
from speechkit.corpus.speaker import write_made_trials
from speechkit.errors import SpeechkitError, where
from speechkit.infer.datadir import decode_data_dir
from speechkit.infer.speaker import SpeakerEmbedder
from speechkit.infer.writers import open_writer
from speechkit.io import read_dict, write_table
from speechkit.train.dataset import FeatureSet


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--model", required=True, help="experiment dir of the trained model")
    parser.add_argument("--checkpoint", default="ave.pt", help="checkpoint in the model dir")
    parser.add_argument("--layer", default="hidden",
                        help="layer to embed with: hidden (the network's default), softmax, or a "
                             "layer name (default %(default)s)")
    parser.add_argument("--batch-frames", type=int, default=40000, help="frames per batch")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", help="output dir (default <model>/decode_<data dir name>_<layer>)")
    parser.add_argument("--pool", metavar="FILE",
                        help="table <utt> <pooled utt>: embed each pooled utterance (see above)")
    parser.add_argument("--num-trials", type=int, default=2000,
                        help="with --pool: balanced trials drawn (at most what the set holds)")
    parser.add_argument("--seed", type=int, default=0, help="with --pool: trial seed")
    parser.add_argument("data", help="data dir with feats.scp (raw features; CMVN is applied)")
    return parser


def copy_tables(data, out):
    """The data dir's utt2spk and trials (when it has them) for score-speaker."""
    for table in ("utt2spk", "trials"):
        (out / table).unlink(missing_ok=True)
        if (data / table).is_file():
            shutil.copy(data / table, out / table)


def pool_groups(data, pool_file, utts):
    """({pooled utt: [utt, ...]}, {pooled utt: speaker}) from a `<utt> <pooled utt>` table."""
    utt2pool, utt2spk = read_dict(pool_file), read_dict(data / "utt2spk")
    groups, speaker = {}, {}
    for utt in sorted(utts):
        if utt not in utt2pool:
            raise SpeechkitError(f"{pool_file}: no line for utterance {utt} of {data}; give every "
                                 f"utterance its pooled utterance")
        key = utt2pool[utt]
        if speaker.setdefault(key, utt2spk[utt]) != utt2spk[utt]:
            raise SpeechkitError(f"{where(pool_file, key=utt)}: pools {utt} (speaker "
                                 f"{utt2spk[utt]}) with utterances of {speaker[key]} into {key}; "
                                 f"a pooled utterance has one speaker")
        groups.setdefault(key, []).append(utt)
    return groups, speaker


def embed_pooled(embedder, data, pool_file, out, num_trials, seed):
    """{pooled utt: embedding}, writing out/utt2spk and out/trials of the pooled utterances."""
    feats = FeatureSet(data, embedder.md.norm, preload=False)
    groups, speaker = pool_groups(data, pool_file, feats.lengths)
    embeddings = {key: embedder.from_features([np.concatenate([feats[u] for u in utts])])[0]
                  for key, utts in sorted(groups.items())}
    write_table(out / "utt2spk", sorted(speaker.items()))
    write_made_trials(out.parent, out.name, speaker, num_trials, seed)
    return embeddings


@common.cli("speechkit extract-embeddings")
def main(argv=None):
    args = get_parser().parse_args(argv)
    data = Path(args.data)
    if not (data / "feats.scp").is_file():
        raise SpeechkitError(f"{data}/feats.scp: no such file; compute the features of {data} "
                             f"first (steps/make_feats.sh)")
    out = Path(args.out or Path(args.model) / f"decode_{data.name}_{args.layer}")
    embedder = SpeakerEmbedder(args.model, args.checkpoint, args.device, task="speaker",
                               layer=args.layer)
    out.mkdir(parents=True, exist_ok=True)
    if args.pool:
        embeddings = embed_pooled(embedder, data, Path(args.pool), out, args.num_trials, args.seed)
    else:
        embeddings = decode_data_dir(embedder, data, args.batch_frames)
        copy_tables(data, out)
    ark = out.resolve() / "embeddings.ark"  # absolute in the scp, as Kaldi's make_mfcc.sh does
    with open_writer(embedder.output, f"ark,scp:{ark},{out}/embeddings.scp") as w:
        for key, vector in embeddings.items():
            w.write(key, vector)
    (out / "decode.conf").write_text(f"model {args.model}\ncheckpoint {args.checkpoint}\n"
                                     f"layer {embedder.layer}\ndata {data}\n")
    print(f"extract-embeddings: {len(embeddings)} {embedder.layer} embeddings of {data} into "
          f"{out}/embeddings.scp", file=sys.stderr)
