"""speechkit: Kaldi-style speech recipes on PyTorch.

The package reads in pipeline order, each folder depending only on earlier ones:
io -> data -> corpus -> features -> nn -> train -> decode -> metrics; bin holds the commands.
"""
__version__ = "0.1.0"
