"""speechkit: a Kaldi/ESPnet-style command-line speech toolkit on PyTorch."""
from pathlib import Path

from setuptools import find_packages, setup


def pinned_requirements():
    """The pins of tools/requirements.txt, so that `pip install -e .` and `make -C tools` agree."""
    lines = Path(__file__).with_name("tools").joinpath("requirements.txt").read_text().splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


setup(
    name="speechkit",
    version="0.1.0",
    description="Kaldi/ESPnet-style speech recipes on PyTorch",
    packages=find_packages(include=["speechkit", "speechkit.*"]),
    package_data={"speechkit.features": ["conf/*.yaml"]},
    python_requires=">=3.10",
    install_requires=pinned_requirements(),
    entry_points={"console_scripts": ["speechkit = speechkit.bin.main:main"]},
)
