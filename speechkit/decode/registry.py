"""Inference front-ends by task name, for `speechkit infer TASK`.

Each is a class built as cls(model_dir, checkpoint=..., device=...) and called as
obj(waveform, sample_rate) -> the text to print after the utterance id.
"""
from speechkit.registry import Registry

INFERENCE = Registry("inference task")
