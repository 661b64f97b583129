"""Layers and networks; every module is imported here, so its @MODELS.register fills MODELS."""
from speechkit.nn.registry import MODELS
from speechkit.registry import discover

discover(__name__)

__all__ = ["MODELS"]
