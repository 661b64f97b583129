"""Decoding a data dir through an inference front-end: its features, normalised as in training,
in length-sorted batches; the same `from_features` that single-file inference calls."""
from speechkit.progress import progress
from speechkit.train.batching import make_batches
from speechkit.train.dataset import FeatureSet


def decode_data_dir(frontend, data_dir, batch_frames=40000, max_batch=256):
    """{utt: result} for every utterance of data_dir/feats.scp."""
    feats = FeatureSet(data_dir, frontend.md.norm, preload=False)
    results = {}
    for keys in progress(make_batches(feats.lengths, batch_frames, max_batch), desc="decode",
                         unit="batch"):
        results.update(zip(keys, frontend.from_features([feats[k] for k in keys])))
    return dict(sorted(results.items()))
