"""Thread choice for CPU training: fixed settings win, `auto` stays within the usable CPUs and
leaves out the ones a competing process keeps busy."""
import subprocess
import sys
import time

from speechkit.train import threads


def test_fixed_settings(monkeypatch):
    assert threads.choose_threads(3) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.choose_threads("auto") == 2


def test_auto_counts_idle_cpus(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    monkeypatch.setattr(threads, "busy_cpus", lambda interval=0.2: 1.2)
    assert threads.choose_threads("auto") == 3
    monkeypatch.setattr(threads, "busy_cpus", lambda interval=0.2: 7.0)
    assert threads.choose_threads("auto") == 1


def test_a_spinning_process_is_seen_as_busy():
    before = threads.busy_cpus(0.3)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        during = threads.busy_cpus(0.5)
    finally:
        spinner.kill()
    assert during >= 0.7 and during >= before - 0.3
