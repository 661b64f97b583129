"""Networks by name, for the configs' `model.name`."""
from speechkit.registry import Registry

MODELS = Registry("model")
