"""wav.scp pipes of `speechkit wav-*` commands run in-process (speechkit.io.inprocess).

The reference is the pipe itself run by bash, as a Kaldi tool would run it: the in-process
result must be the same bytes, and everything the fast path does not fully understand must
still reach bash.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import write_tone
from speechkit.bin import perturb_data_dir
from speechkit.errors import SpeechkitError
from speechkit.io import audio, inprocess
from speechkit.io.audio import AudioTable, decode_audio, load_audio

SR = 16000


@pytest.fixture(autouse=True)
def _speechkit_on_path(monkeypatch):
    """The pipes call `speechkit`, as in a recipe that sourced path.sh."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    monkeypatch.delenv(inprocess.ENV_DISABLE, raising=False)


@pytest.fixture
def bash_calls(monkeypatch):
    """The commands load_audio hands to bash (they still run)."""
    calls, real = [], subprocess.run

    def spy(argv, *args, **kwargs):
        calls.append(argv[-1])
        return real(argv, *args, **kwargs)
    monkeypatch.setattr(audio.subprocess, "run", spy)
    return calls


def _bash_stdout(command):
    """What the wav.scp pipe writes when bash runs it (as _run_pipe runs it)."""
    proc = subprocess.run(["bash", "-c", "set -o pipefail; " + command.rstrip()[:-1]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return proc.stdout


def _wav(tmp_path, name="a.wav", seconds=0.3, **kwargs):
    return write_tone(tmp_path / name, seconds=seconds, **kwargs)


PIPES = {
    "speed": "speechkit wav-speed --factor 0.9 {wav} - |",
    "speed-stereo": "speechkit wav-speed --factor 1.1 {stereo} - |",
    "volume-clipping": "speechkit wav-volume --scale 3.7 {wav} - |",
    "farfield-pink": "speechkit wav-farfield --seed 3 --snr 10 --noise pink {wav} - |",
    "farfield-reverb": "speechkit wav-farfield --seed 5 {wav} - |",
    "farfield-file": "speechkit wav-farfield --seed 2 --snr 5 --noise-file {noise} {wav} - |",
    "speed-then-volume": "speechkit wav-speed --factor 1.1 {wav} - | "
                         "speechkit wav-volume --scale=0.71 - - |",
    "quoted-path": "speechkit wav-volume --scale 0.5 '{spaced}' - |",
}


@pytest.mark.parametrize("name", sorted(PIPES))
def test_in_process_pipe_writes_the_bytes_bash_writes(tmp_path, name, bash_calls):
    (tmp_path / "my dir").mkdir()
    files = {"wav": _wav(tmp_path), "stereo": _wav(tmp_path, "s.wav", channels=2),
             "noise": _wav(tmp_path, "n.wav", seconds=0.7, seed=4),
             "spaced": _wav(tmp_path, "my dir/a.wav")}
    command = PIPES[name].format(**files)
    fast = inprocess.pipe_output(command, decode_audio)
    assert bash_calls == []  # nothing ran outside this process
    assert fast is not None and fast == _bash_stdout(command)


def test_load_audio_gives_the_same_samples_with_and_without_the_fast_path(tmp_path, monkeypatch,
                                                                          bash_calls):
    spec = PIPES["speed-then-volume"].format(wav=_wav(tmp_path))
    fast, sr = load_audio(spec, "wav.scp:1 u1", SR)
    assert bash_calls == []
    monkeypatch.setenv(inprocess.ENV_DISABLE, "1")
    slow, _ = load_audio(spec, "wav.scp:1 u1", SR)
    assert len(bash_calls) == 1
    assert sr == SR and fast.dtype == slow.dtype and np.array_equal(fast, slow)


FALLBACKS = {
    "leading-cat": "cat {wav} | speechkit wav-volume --scale 0.5 - - |",
    "other-subcommand": "speechkit resample --rate 16000 {wav} - |",
    "semicolon": "true; speechkit wav-volume --scale 0.5 {wav} - |",
    "and": "true && speechkit wav-volume --scale 0.5 {wav} - |",
    "redirection": "speechkit wav-volume --scale 0.5 {wav} - 2>/dev/null |",
    "env-assignment": "LC_ALL=C speechkit wav-volume --scale 0.5 {wav} - |",
    "subshell": "(speechkit wav-volume --scale 0.5 {wav} -) |",
    "variable": "speechkit wav-volume --scale ${{SCALE:-0.5}} {wav} - |",
    "quoted-bar": "speechkit wav-volume --scale 0.5 {wav} - | speechkit wav-volume "
                  "--scale '0.5|' - - | speechkit wav-volume --scale 2 - - |",
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_other_shell_syntax_and_commands_go_to_bash(tmp_path, name, bash_calls):
    wav = _wav(tmp_path)
    command = FALLBACKS[name].format(wav=wav)
    assert inprocess.parse(command) is None
    try:
        load_audio(command, "wav.scp:1 u1")
    except SpeechkitError:
        pass  # some fail in bash (the quoted |): what matters is that bash ran them
    assert len(bash_calls) == 1 and command.rstrip()[:-1] in bash_calls[0]


def test_an_option_the_command_refuses_gets_the_commands_own_message(tmp_path, bash_calls):
    command = f"speechkit wav-speed --factor 0.9 --bogus {_wav(tmp_path)} - |"
    with pytest.raises(SpeechkitError) as e:
        load_audio(command, "data/x/wav.scp: key u1")
    assert len(bash_calls) == 1
    text = str(e.value)
    assert "\n" not in text and text.startswith("data/x/wav.scp: key u1: command failed with code 2")
    assert "unrecognized arguments: --bogus" in text


@pytest.mark.parametrize("pipe", ["speechkit wav-speed --factor 0.9 {missing} - |",
                                  "speechkit wav-volume --scale -2 {wav} - |",
                                  "speechkit wav-farfield --seed 1 --snr 5 {wav} - |"])
def test_a_failing_command_is_one_line_naming_key_and_file_as_through_bash(tmp_path, monkeypatch,
                                                                            pipe, bash_calls):
    command = pipe.format(missing=tmp_path / "gone.wav", wav=_wav(tmp_path))
    origin = "data/x/wav.scp: key u1"
    with pytest.raises(SpeechkitError) as fast:
        load_audio(command, origin)
    assert bash_calls == []
    monkeypatch.setenv(inprocess.ENV_DISABLE, "1")
    with pytest.raises(SpeechkitError) as slow:
        load_audio(command, origin)
    assert str(fast.value) == str(slow.value)  # word for word what bash's run gives
    assert "\n" not in str(fast.value) and str(fast.value).startswith(f"{origin}: command failed")
    if "gone.wav" in command:
        assert f"{tmp_path / 'gone.wav'}: no such audio file" in str(fast.value)


@pytest.mark.parametrize("command,accepted", [
    ("speechkit wav-volume --scale 0.5 a.wav - |", True),
    ("speechkit wav-speed --factor 0.9 a.wav - | speechkit wav-volume --scale 2 - - |", True),
    ("speechkit wav-volume --scale 0.5 - - |", False),  # stdin of the caller
    ("speechkit wav-volume --scale 0.5 a.wav out.wav |", False),  # writes a file
    ("speechkit wav-volume --scale 0.5 a.wav - | speechkit wav-volume --scale 2 b.wav - |",
     False),  # ignores its stdin
    ("speechkit wav-volume --scale 0.5 a.wav - || speechkit wav-volume --scale 2 - - |", False),
    ("speechkit wav-volume --help |", False),
    ("speechkit wav-nonexistent --x 1 a.wav - |", False),
    ("speechkit wav-volume --scale 0.5 'a.wav - |", False),  # unclosed quote
    ("| speechkit wav-volume --scale 0.5 a.wav - |", False),
])
def test_only_plain_chains_of_in_process_commands_are_parsed(command, accepted):
    assert (inprocess.parse(command) is not None) == accepted


def test_the_environment_variable_turns_the_fast_path_off(tmp_path, monkeypatch):
    command = PIPES["speed"].format(wav=_wav(tmp_path))
    monkeypatch.setenv(inprocess.ENV_DISABLE, "1")
    assert inprocess.pipe_output(command, decode_audio) is None
    monkeypatch.setenv(inprocess.ENV_DISABLE, "0")
    assert inprocess.pipe_output(command, decode_audio) is not None


def test_a_speed_and_volume_perturbed_data_dir_reads_the_same_either_way(datadir, tmp_path,
                                                                         monkeypatch, bash_calls):
    dest = tmp_path / "sp"
    assert perturb_data_dir.main(["speed", "0.9", str(datadir), str(dest)]) == 0
    assert perturb_data_dir.main(["volume", str(dest)]) == 0
    lines = (dest / "wav.scp").read_text().splitlines()
    assert all("speechkit wav-speed" in x and "speechkit wav-volume" in x for x in lines)
    bash_calls.clear()
    fast = {k: w for k, w, _ in AudioTable(dest / "wav.scp", sample_rate=SR).items()}
    assert bash_calls == []
    monkeypatch.setenv(inprocess.ENV_DISABLE, "1")
    slow = {k: w for k, w, _ in AudioTable(dest / "wav.scp", sample_rate=SR).items()}
    assert len(bash_calls) == len(lines) == 6
    assert fast.keys() == slow.keys()
    for key in fast:
        assert np.array_equal(fast[key], slow[key]), key
