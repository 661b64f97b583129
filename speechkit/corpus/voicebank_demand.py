"""Data dirs from VoiceBank+DEMAND (Valentini-Botinhao et al. 2016; Edinburgh DataShare
10283/2791), the usual speech enhancement benchmark, as its zips unpack:

    SRC/clean_trainset_28spk_wav/p226_001.wav ...   48 kHz, 16-bit mono, 28 speakers
    SRC/noisy_trainset_28spk_wav/p226_001.wav ...   the same utterances with noise
    SRC/clean_testset_wav/p232_001.wav ...          2 speakers (p232, p257), 824 files
    SRC/noisy_testset_wav/p232_001.wav ...
    SRC/logfiles/log_trainset_28spk.txt             `p226_001 restaurant 5`: file, noise, SNR dB
    SRC/logfiles/log_testset.txt                    `p232_001 living 2.5`
    SRC/trainset_28spk_txt/p226_001.txt, SRC/testset_txt/p232_001.txt   transcripts (optional)

SRC may also be a directory holding one subdirectory with that layout, a wav directory may
hold its own namesake (`clean_testset_wav/clean_testset_wav/`, as some zips unpack), and the
log files may lie in SRC itself instead of logfiles/.

Sets: train = the training speakers but p226 and p287, dev = p226 and p287 (taken out of
training, as ESPnet's and SpeechBrain's recipes do; option dev_speakers), test = the test set.
Each data dir has `wav.scp` = the NOISY audio and `utt2clean` = the clean reference, both
resampled on the fly from 48 kHz to sample_rate (16000) by a pipe through our own resampler
(no sox needed):

    p232_001 speechkit resample --rate 16000 /abs/SRC/noisy_testset_wav/p232_001.wav - |

(plain paths where the files already are at sample_rate), `utt2snr` and `utt2noise` from the
log files, `text` (the transcript with its punctuation, or empty when the txt folders are
missing: enhancement does not need it), `utt2spk` (p232), spk2utt and utt2dur. Utterance ids
are the file names (p232_001), so the speaker is a prefix of the utterance id.

Checks: every noisy file must have its clean twin of the same length and a line in the log;
files not named like p232_001.wav are skipped with a warning. Options: trainset=28spk (56spk
for the larger release), dev_speakers=p226,p287, sample_rate=16000.
"""
import logging
import re
import shlex
from pathlib import Path

import soundfile as sf

from speechkit.corpus.registry import register
from speechkit.data.datadir import DataDir
from speechkit.errors import SpeechkitError, where
from speechkit.progress import progress

log = logging.getLogger(__name__)

TRAINSET = "28spk"
DEV_SPEAKERS = ("p226", "p287")
SAMPLE_RATE = 16000
NAME_RE = re.compile(r"^([a-z]+[0-9]+)_([0-9]+)\.wav$")
LOG_DIR = "logfiles"
TEST_DIR = "testset"


def set_names(trainset):
    """{part: file-name stem}: 'trainset_28spk' and 'testset'."""
    if not re.fullmatch(r"[0-9]+spk", trainset):
        raise SpeechkitError(f"trainset {trainset!r}: expected e.g. 28spk or 56spk")
    return {"train": f"trainset_{trainset}", "test": TEST_DIR}


def find_root(src, trainset=TRAINSET):
    """SRC, or its single subdirectory, holding clean_<trainset>_wav and clean_testset_wav."""
    src = Path(src)
    names = set_names(trainset)
    wanted = [f"clean_{names['train']}_wav", f"clean_{names['test']}_wav"]
    cands = [src] + (sorted(p for p in src.iterdir() if p.is_dir()) if src.is_dir() else [])
    for cand in cands:
        if all((cand / w).is_dir() for w in wanted):
            return cand
    raise SpeechkitError(f"{src}: no {wanted[0]}/ and {wanted[1]}/; is VoiceBank+DEMAND "
                         f"(DataShare 10283/2791) unpacked there? (`local/download_and_untar.sh "
                         f"voicebank_demand {src}`)")


def wav_dir(root, name):
    """root/name, or root/name/name when the zip unpacked into a folder of its own name."""
    path = root / name
    if (path / name).is_dir():
        return path / name
    if not path.is_dir():
        raise SpeechkitError(f"{path}: missing; unzip {name}.zip from the DataShare release "
                             f"into {root}")
    return path


def list_wavs(directory):
    """{utt: path} of the files named like p232_001.wav; others are skipped with a warning."""
    out = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and NAME_RE.match(path.name):
            out[path.name[:-len(".wav")]] = path.resolve()
        elif not path.name.startswith("."):
            log.warning("voicebank_demand: ignoring %s: not named like p232_001.wav", path)
    if not out:
        raise SpeechkitError(f"{directory}: no wav files named like p232_001.wav; is the zip "
                             f"fully unpacked?")
    return out


def find_log(root, stem):
    for path in (root / LOG_DIR / f"log_{stem}.txt", root / f"log_{stem}.txt"):
        if path.is_file():
            return path
    raise SpeechkitError(f"{root / LOG_DIR / f'log_{stem}.txt'}: missing (it gives each file's "
                         f"noise type and SNR); unzip logfiles.zip from the DataShare release "
                         f"into {root}")


def read_log(path):
    """{utt: (noise type, snr)} from a log file: lines `p232_001 living 2.5`."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            try:
                utt, noise, snr = fields[0], fields[1], float(fields[2])
            except (IndexError, ValueError):
                raise SpeechkitError(f"{where(path, lineno)}: expected `<file> <noise type> "
                                     f"<SNR dB>`, e.g. `p232_001 living 2.5`, not "
                                     f"{line.strip()!r}") from None
            utt = utt[:-len(".wav")] if utt.endswith(".wav") else utt
            if utt in out:
                raise SpeechkitError(f"{where(path, lineno, utt)}: listed twice")
            out[utt] = (noise, snr)
    return out


def read_transcripts(root, stem, utts):
    """{utt: transcript} from <stem>_txt/<utt>.txt; empty transcripts when the folder is missing."""
    txt_dir = root / f"{stem}_txt"
    if (txt_dir / f"{stem}_txt").is_dir():
        txt_dir = txt_dir / f"{stem}_txt"
    if not txt_dir.is_dir():
        log.warning("voicebank_demand: no %s; the text files will be empty (enhancement does "
                    "not need them)", txt_dir)
        return {u: "" for u in utts}
    out = {}
    for utt in utts:
        path = txt_dir / f"{utt}.txt"
        if not path.is_file():
            raise SpeechkitError(f"{path}: missing transcript of {utt}; is {txt_dir.name}.zip "
                                 f"fully unpacked?")
        out[utt] = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
    return out


def _info(path):
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise SpeechkitError(f"{path}: cannot read audio header: {e}") from None


def wav_entry(path, rate, sample_rate):
    """The wav.scp value: the path, or a resampling pipe when the rate differs."""
    if rate == sample_rate:
        return str(path)
    return f"speechkit resample --rate {sample_rate} {shlex.quote(str(path))} - |"


def pairs(root, stem):
    """[(utt, noisy path, clean path, noise, snr)] of one release set, checked."""
    noisy = list_wavs(wav_dir(root, f"noisy_{stem}_wav"))
    clean = list_wavs(wav_dir(root, f"clean_{stem}_wav"))
    log_path = find_log(root, stem)
    logged = read_log(log_path)
    out = []
    for utt, path in noisy.items():
        if utt not in clean:
            raise SpeechkitError(f"{path}: no clean twin {utt}.wav in clean_{stem}_wav/; is "
                                 f"clean_{stem}_wav.zip fully unpacked?")
        if utt not in logged:
            raise SpeechkitError(f"{log_path}: no line for {utt} ({path}); the log must list "
                                 f"every noisy file (`{utt} <noise type> <SNR dB>`)")
        out.append((utt, path, clean[utt], *logged[utt]))
    missing = sorted(set(clean) - set(noisy))
    if missing:
        raise SpeechkitError(f"{clean[missing[0]]}: no noisy twin in noisy_{stem}_wav/ "
                             f"({len(missing)} clean files lack one); is noisy_{stem}_wav.zip "
                             f"fully unpacked?")
    return out


def datadir_tables(rows, texts, sample_rate):
    names = ("wav.scp", "utt2clean", "text", "utt2spk", "utt2dur", "utt2snr", "utt2noise")
    tables = {n: {} for n in names}
    for utt, noisy, clean, noise, snr in progress(rows, desc="voicebank_demand"):
        n_info, c_info = _info(noisy), _info(clean)
        if n_info.frames != c_info.frames or n_info.samplerate != c_info.samplerate:
            raise SpeechkitError(f"{noisy}: {n_info.frames} samples at {n_info.samplerate} Hz, "
                                 f"its clean twin {clean} {c_info.frames} at "
                                 f"{c_info.samplerate} Hz; re-download the pair")
        tables["wav.scp"][utt] = wav_entry(noisy, n_info.samplerate, sample_rate)
        tables["utt2clean"][utt] = wav_entry(clean, c_info.samplerate, sample_rate)
        tables["text"][utt] = texts[utt]
        tables["utt2spk"][utt] = NAME_RE.match(f"{utt}.wav").group(1)
        tables["utt2dur"][utt] = f"{n_info.frames / n_info.samplerate:.4f}"
        tables["utt2snr"][utt] = f"{snr:g}"
        tables["utt2noise"][utt] = noise
    return tables


@register("voicebank_demand")
def prepare(src, data_root, trainset=TRAINSET, dev_speakers=DEV_SPEAKERS,
            sample_rate=SAMPLE_RATE):
    """Write train, dev (p226, p287) and test under data_root -> {set: utterances}."""
    root = find_root(src, trainset)
    names = set_names(trainset)
    if not dev_speakers:
        raise SpeechkitError("dev_speakers is empty; give e.g. --opt dev_speakers=p226,p287")
    if sample_rate <= 0:
        raise SpeechkitError(f"sample_rate {sample_rate}: must be a positive number of Hz")
    train_rows = pairs(root, names["train"])
    test_rows = pairs(root, names["test"])
    speakers = {NAME_RE.match(f"{r[0]}.wav").group(1) for r in train_rows}
    absent = [s for s in dev_speakers if s not in speakers]
    if absent:
        raise SpeechkitError(f"dev_speakers {','.join(absent)} not in clean_{names['train']}_wav/"
                             f" (speakers {','.join(sorted(speakers))}); choose training "
                             f"speakers, e.g. --opt dev_speakers=p226,p287")
    in_dev = set(dev_speakers)
    splits = {
        "train": ([r for r in train_rows if NAME_RE.match(f"{r[0]}.wav").group(1) not in in_dev],
                  names["train"]),
        "dev": ([r for r in train_rows if NAME_RE.match(f"{r[0]}.wav").group(1) in in_dev],
                names["train"]),
        "test": (test_rows, names["test"]),
    }
    if not splits["train"][0]:
        raise SpeechkitError(f"no training speaker left after taking dev_speakers "
                             f"{','.join(dev_speakers)} out")
    counts = {}
    for split, (rows, stem) in splits.items():
        texts = read_transcripts(root, stem, [r[0] for r in rows])
        dest = Path(data_root) / split
        DataDir(dest, datadir_tables(rows, texts, sample_rate)).write(dest, replace=True)
        counts[split] = len(rows)
    return counts
