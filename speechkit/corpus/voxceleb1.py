"""Speaker-recognition data dirs from VoxCeleb1, as a user downloaded and unpacked it.

VoxCeleb1 cannot be fetched by a script (it is behind a request form), so SRC is the user's
copy. Layout expected (vox1_dev_wav.zip and vox1_test_wav.zip both unpack into wav/):

    SRC/wav/<spk>/<video>/<n>.wav      e.g. wav/id10270/5r0dWxy17C8/00001.wav (16 kHz mono)
    SRC/veri_test2.txt                 the cleaned trial list VoxCeleb1-O (option trial_list)

(SRC may also be the wav/ dir itself, with the trial list given as an absolute path.) A trial
line is `1 id10270/x6uYqmx31kE/00001.wav id10270/8jEAjG6SegY/00008.wav`: 1 for the same
speaker, 0 for different speakers, paths relative to wav/. trial_list may name the original
list (veri_test.txt) or another list of the same format.

Sets (speakers disjoint):

    test    every utterance of the speakers that occur in the trial list (VoxCeleb1's 40 test
            speakers id10270-id10309 for veri_test2.txt), with test/trials: the list itself,
            in its order, as Kaldi writes it (`<utt1> <utt2> target|nontarget`)
    dev     dev_speakers (20) other speakers drawn by seed (0), with trials drawn from the
            seed (num_trials balanced pairs; speechkit.data.trials): for thresholds
    train   every other speaker

Ids, as Kaldi's egs/voxceleb/v2 (make_voxceleb1_v2.pl) makes them: speaker `id10270`,
utterance `<spk>-<video>-<n>` (`id10270-5r0dWxy17C8-00001`). `text` holds `<unk>` (the corpus
has no transcripts; Kaldi data dirs want the table). wav.scp points at the wav files.
"""
import logging
from pathlib import Path

from speechkit.corpus.registry import register
from speechkit.corpus.speaker import (NUM_TRIALS, SEED, TRIALS, audio_entry, pick_speakers,
                                      write_made_trials, write_set)
from speechkit.data import trials as trial_lists
from speechkit.errors import SpeechkitError, where
from speechkit.progress import progress

log = logging.getLogger(__name__)

WAV_DIR = "wav"
TRIAL_LIST = "veri_test2.txt"
DEV_SPEAKERS = 20
NO_TEXT = "<unk>"
LABELS = {"1": trial_lists.TARGET, "0": trial_lists.NONTARGET}


def find_wav_dir(src):
    """SRC/wav, or SRC itself when it holds the speaker directories."""
    src = Path(src)
    if (src / WAV_DIR).is_dir():
        return src / WAV_DIR
    if src.is_dir() and any(p.is_dir() and p.name.startswith("id") for p in src.iterdir()):
        return src
    raise SpeechkitError(f"{src}: no {WAV_DIR}/<speaker>/<video>/<n>.wav tree; unpack "
                         f"vox1_dev_wav.zip and vox1_test_wav.zip there")


def utt_id(relpath):
    """'id10270/5r0dWxy17C8/00001.wav' -> 'id10270-5r0dWxy17C8-00001'."""
    return relpath[:-len(".wav")].replace("/", "-")


def list_wavs(wav_dir):
    """{utt: (speaker, path)} of every <spk>/<video>/<n>.wav."""
    out = {}
    for path in sorted(wav_dir.glob("*/*/*.wav")):
        rel = path.relative_to(wav_dir).as_posix()
        out[utt_id(rel)] = (rel.split("/")[0], path)
    if not out:
        raise SpeechkitError(f"{wav_dir}: no <speaker>/<video>/<n>.wav files; is VoxCeleb1 "
                             f"unpacked there?")
    return out


def read_trial_list(path, wavs):
    """[(utt1, utt2, label)] of a VoxCeleb trial list, each utterance checked against `wavs`."""
    if not path.is_file():
        raise SpeechkitError(f"{path}: no trial list; download veri_test2.txt from the VoxCeleb "
                             f"page beside wav/, or name yours with --opt trial_list=PATH")
    trials = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3 or fields[0] not in LABELS or \
                    not all(p.endswith(".wav") for p in fields[1:]):
                raise SpeechkitError(f"{where(path, lineno)}: expected `1|0 <spk>/<video>/<n>.wav "
                                     f"<spk>/<video>/<n>.wav`, got {line.strip()!r}")
            utts = [utt_id(p) for p in fields[1:]]
            for rel, utt in zip(fields[1:], utts):
                if utt not in wavs:
                    raise SpeechkitError(f"{where(path, lineno)}: {rel} is not under the wav "
                                         f"dir; are both zips (dev and test) unpacked?")
            trials.append((utts[0], utts[1], LABELS[fields[0]]))
    if not trials:
        raise SpeechkitError(f"{path}: empty trial list")
    return trials


def datadir_tables(wavs, utts):
    tables = {n: {} for n in ("wav.scp", "text", "utt2spk", "utt2dur")}
    for utt in progress(utts, desc="voxceleb1"):
        speaker, path = wavs[utt]
        tables["wav.scp"][utt], duration = audio_entry(path)
        tables["text"][utt] = NO_TEXT
        tables["utt2spk"][utt] = speaker
        tables["utt2dur"][utt] = f"{duration:.4f}"
    return tables


@register("voxceleb1")
def prepare(src, data_root, trial_list=TRIAL_LIST, dev_speakers=DEV_SPEAKERS,
            num_trials=NUM_TRIALS, seed=SEED):
    """Write train, dev (+trials), test (+the official trials) -> {set: number of utterances}."""
    wav_dir = find_wav_dir(src)
    wavs = list_wavs(wav_dir)
    list_path = Path(trial_list) if Path(trial_list).is_absolute() else Path(src) / trial_list
    official = read_trial_list(list_path, wavs)
    test_speakers = {wavs[u][0] for a, b, _ in official for u in (a, b)}
    others = sorted({spk for spk, _ in wavs.values()} - test_speakers)
    if not 2 <= dev_speakers < len(others):
        raise SpeechkitError(f"dev_speakers={dev_speakers}: {len(others)} speakers are not in "
                             f"{list_path.name}; give 2..{len(others) - 1} so that dev has two "
                             f"(trials need two speakers) and train keeps some")
    dev = set(pick_speakers(others, dev_speakers, seed, "voxceleb1-dev"))
    split = {spk: "test" for spk in test_speakers} | {spk: "dev" for spk in dev}
    counts = {}
    for name in ("train", "dev", "test"):
        utts = [u for u, (spk, _) in wavs.items() if split.get(spk, "train") == name]
        tables = datadir_tables(wavs, utts)
        counts[name] = write_set(data_root, name, tables)
        if name == "dev":
            write_made_trials(data_root, name, tables["utt2spk"], num_trials, seed)
    trial_lists.write_trials(Path(data_root) / "test" / TRIALS, official)
    log.info("voxceleb1: %d test trials from %s (%d speakers)", len(official), list_path,
             len(test_speakers))
    return counts
