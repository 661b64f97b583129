"""A trained exp dir as a model: inference front-ends by task, model dirs, result writers.

Every module is imported here, so a front-end registers itself with @INFERENCE.register.
"""
from speechkit.infer.registry import INFERENCE, Inference
from speechkit.registry import discover

discover(__name__)

__all__ = ["INFERENCE", "Inference"]
