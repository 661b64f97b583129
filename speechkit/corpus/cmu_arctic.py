"""Mel-cepstrum data dirs from CMU ARCTIC (festvox), for reconstruction and voice conversion.

Layout expected in SRC (one festvox release archive per speaker, unpacked side by side, as
local/download_and_untar.sh cmu_arctic does):

    SRC/cmu_us_bdl_arctic/wav/arctic_a0001.wav      16 kHz mono
    SRC/cmu_us_bdl_arctic/etc/txt.done.data         ( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )

Every speaker reads the same 1132 prompts (arctic_a0001..a0593, arctic_b0001..b0539), which
gives parallel pairs for free. Sets, prompts taken in id order:

    train    `speakers` (bdl, slt, clb, rms), every prompt but the last dev_prompts +
             test_prompts
    dev      `speakers`, the dev_prompts (50) prompts before the test prompts
    test_vc  `speakers`, the last test_prompts (50) prompts, with test_vc/pairs (every ordered
             pair of two speakers reading the same prompt; the target's rendering is the
             reference)
    test     `test_speakers` (jmk), unseen in training, the same test prompts: reconstruction

Ids: speaker `bdl`, utterance `bdl-arctic_a0001`; `text` is the prompt without its quotes. A
wav at another rate than 16 kHz is resampled in wav.scp (`speechkit resample ... |`).
"""
import logging
import re
from pathlib import Path

from speechkit.corpus.mcep import parallel_pairs, write_set
from speechkit.corpus.registry import register
from speechkit.corpus.speaker import audio_entry
from speechkit.errors import SpeechkitError, where

log = logging.getLogger(__name__)

SPEAKERS = ("bdl", "slt", "clb", "rms")
TEST_SPEAKERS = ("jmk",)
DEV_PROMPTS = 50
TEST_PROMPTS = 50
PROMPT_RE = re.compile(r'^\(\s*(\S+)\s+"(.*)"\s*\)\s*$')


def speaker_dir(src, spk):
    return Path(src) / f"cmu_us_{spk}_arctic"


def read_prompts(path):
    """{prompt id: text} of a festvox etc/txt.done.data."""
    if not path.is_file():
        raise SpeechkitError(f"{path}: missing; is the speaker's archive unpacked (stage 0, "
                             f"local/download_and_untar.sh cmu_arctic)?")
    prompts = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        match = PROMPT_RE.match(line.strip())
        if not match:
            raise SpeechkitError(f"{where(path, lineno)}: expected `( arctic_a0001 \"text\" )`, "
                                 f"got '{line.strip()[:60]}'")
        prompts[match.group(1)] = " ".join(match.group(2).split())
    return prompts


def speaker_rows(src, spk):
    """[(prompt id, utt, wav.scp value, duration, text)] of one speaker, in prompt order."""
    root = speaker_dir(src, spk)
    if not root.is_dir():
        raise SpeechkitError(f"{root}: no such speaker dir; download it in stage 0 or drop "
                             f"'{spk}' from the speakers")
    prompts = read_prompts(root / "etc" / "txt.done.data")
    rows, missing = [], []
    for prompt in sorted(prompts):
        wav = root / "wav" / f"{prompt}.wav"
        if not wav.is_file():
            missing.append(prompt)
            continue
        value, duration = audio_entry(wav)
        rows.append((prompt, f"{spk}-{prompt}", value, duration, prompts[prompt]))
    if missing:
        log.warning("%s: %d prompts of etc/txt.done.data have no wav (e.g. %s); left out",
                    root, len(missing), missing[0])
    if not rows:
        raise SpeechkitError(f"{root}/wav: no wav file for any prompt")
    return rows


def tables(rows_by_spk, prompts):
    keep = set(prompts)
    chosen = [(spk, r) for spk, rows in rows_by_spk.items() for r in rows if r[0] in keep]
    return {"wav.scp": {r[1]: r[2] for _, r in chosen},
            "text": {r[1]: r[4] for _, r in chosen},
            "utt2spk": {r[1]: spk for spk, r in chosen},
            "utt2dur": {r[1]: f"{r[3]:.4f}" for _, r in chosen}}


@register("cmu_arctic")
def prepare(src, data_root, speakers=SPEAKERS, test_speakers=TEST_SPEAKERS,
            dev_prompts=DEV_PROMPTS, test_prompts=TEST_PROMPTS):
    """Write train, dev, test_vc (+pairs) and test -> {set: number of utterances}."""
    speakers, test_speakers = list(speakers), list(test_speakers)
    if len(speakers) < 2 or not test_speakers or set(speakers) & set(test_speakers):
        raise SpeechkitError(f"speakers={','.join(speakers)}, test_speakers="
                             f"{','.join(test_speakers)}: need at least 2 training speakers and "
                             f"at least 1 test speaker not among them")
    rows = {spk: speaker_rows(src, spk) for spk in speakers}
    common = sorted(set.intersection(*({r[0] for r in rs} for rs in rows.values())))
    if len(common) <= dev_prompts + test_prompts or min(dev_prompts, test_prompts) < 1:
        raise SpeechkitError(f"dev_prompts={dev_prompts} + test_prompts={test_prompts}: need "
                             f"both >= 1 and fewer than the {len(common)} prompts every speaker has")
    test_ids = common[-test_prompts:]
    dev_ids = common[-(test_prompts + dev_prompts):-test_prompts]
    held_out = set(test_ids) | set(dev_ids)
    train_ids = sorted({r[0] for rs in rows.values() for r in rs} - held_out)
    vc = tables(rows, test_ids)
    counts = {"train": write_set(data_root, "train", tables(rows, train_ids)),
              "dev": write_set(data_root, "dev", tables(rows, dev_ids)),
              "test_vc": write_set(data_root, "test_vc", vc,
                                   parallel_pairs(vc["utt2spk"], vc["text"]))}
    test_rows = {spk: speaker_rows(src, spk) for spk in test_speakers}
    counts["test"] = write_set(data_root, "test", tables(test_rows, test_ids))
    return counts
