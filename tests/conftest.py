"""Shared fixtures: tiny audio and data dirs built in tmp_path, no downloads."""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import logging

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]


_ROOT = logging.getLogger()
_ROOT_STATE = (_ROOT.handlers[:], _ROOT.level)


@pytest.fixture(autouse=True)
def _restore_logging():
    """Commands called in-process set up logging (speechkit.cli.setup_logging replaces the root
    handlers); after each test the root logger goes back to its state when the tests started,
    not when this test started: a module-scoped fixture that ran a command sets up before this
    one, and its handler would otherwise print into later tests' stderr."""
    yield
    _ROOT.handlers[:] = _ROOT_STATE[0]
    _ROOT.setLevel(_ROOT_STATE[1])


def plan_digest(cfg):
    """sha256 of the embedded corpus's plan for cfg (an utterance's audio is a function of its
    plan entry alone), without the fields added after the digests the tests hold were taken."""
    from dataclasses import asdict
    from speechkit.corpus import synth
    later = ("lead", "floor_snr", "floor_seed", "variant")
    h = hashlib.sha256()
    for u in synth.plan(cfg):
        h.update(repr(tuple(v for k, v in asdict(u).items() if k not in later)).encode())
    return h.hexdigest()


def tone(seconds=0.5, sr=16000, freq=440.0, seed=0):
    """A short deterministic tone with a little noise, float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def write_tone(path, seconds=0.5, sr=16000, channels=1, seed=0):
    wav = tone(seconds, sr, seed=seed)
    if channels > 1:
        wav = np.stack([wav] * channels, axis=1)
    sf.write(str(path), wav, sr, subtype="PCM_16")
    return path


@pytest.fixture
def datadir(tmp_path):
    """A valid data dir of 2 speakers x 3 utterances with wavs on disk (no features)."""
    d = tmp_path / "data" / "train"
    d.mkdir(parents=True)
    wavs = tmp_path / "wav"
    wavs.mkdir()
    rows = []
    for s, spk in enumerate(["spkA", "spkB"]):
        for i in range(3):
            utt = f"{spk}-{i:03d}"
            write_tone(wavs / f"{utt}.wav", seconds=0.3 + 0.1 * i, seed=10 * s + i)
            rows.append((utt, spk))
    (d / "wav.scp").write_text("".join(f"{u} {wavs}/{u}.wav\n" for u, _ in rows))
    (d / "text").write_text("".join(f"{u} one two\n" for u, _ in rows))
    (d / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in rows))
    (d / "spk2utt").write_text("spkA spkA-000 spkA-001 spkA-002\nspkB spkB-000 spkB-001 spkB-002\n")
    return d


def run(cmd, cwd=None, check=True, env=None):
    """Run a shell command the way a user would, with the repo's venv/package importable."""
    full_env = dict(os.environ)
    full_env["PATH"] = f"{Path(sys.executable).parent}:{full_env['PATH']}"
    full_env.update(env or {})
    proc = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=full_env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and proc.returncode != 0:
        raise AssertionError(f"`{cmd}` failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def copy_recipe(name, dest):
    """A copy of egs/<name> in `dest` (no outputs), pointing at this repo's utils and tools."""
    recipe = dest / name
    shutil.copytree(REPO / "egs" / name, recipe, symlinks=True,
                    ignore=shutil.ignore_patterns("corpus", "data", "exp", "feats", "RESULTS.md"))
    for link in [p for p in recipe.iterdir() if p.is_symlink()]:  # utils, steps, cmd.sh, path.sh
        target = (REPO / "egs" / name / link.name).resolve()
        link.unlink()
        link.symlink_to(target)
    path_sh = (recipe / "path.sh").read_text()
    (recipe / "path.sh").unlink()
    (recipe / "path.sh").write_text(path_sh.replace('"$(dirname "${BASH_SOURCE[0]}")/../../tools',
                                                    f'"{REPO}/tools'))
    (recipe / "RESULTS.md").unlink(missing_ok=True)
    return recipe
