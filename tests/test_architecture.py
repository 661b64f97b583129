"""The package's shape: import contracts (DESIGN.md §2) and registries that fill themselves."""
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def test_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint), "--no-cache"], cwd=REPO, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize("package", ["speechkit.tasks", "speechkit.nn", "speechkit.corpus",
                                     "speechkit.infer"])
def test_importing_a_registry_package_imports_all_its_modules(package):
    pkg = __import__(package, fromlist=["_"])
    for info in pkgutil.iter_modules(pkg.__path__):
        assert f"{package}.{info.name}" in sys.modules, info.name


def test_registries_know_the_built_in_names():
    from speechkit.corpus import PREPARERS
    from speechkit.infer import INFERENCE
    from speechkit.nn import MODELS
    from speechkit.tasks import TASKS
    assert {"asr", "kws", "emotion"} <= set(TASKS)
    assert {"ctc_bilstm", "kws_cnn", "emotion_cnn", "phasen", "speaker_blstm", "speaker_cnn",
            "mcep_vae", "lstm_seq_ae"} <= set(MODELS)
    assert {"embedded", "embedded_kws", "yesno", "speech_commands", "embedded_emotion",
            "ravdess", "emodb", "embedded_enhance", "voicebank_demand", "embedded_speaker",
            "mini_librispeech", "voxceleb1", "timit"} <= set(PREPARERS)
    assert {"asr", "kws", "emotion"} <= set(INFERENCE)
