#!/usr/bin/env python3
"""Where an enhancer removes noise: per test SNR bin and frequency region, the error energy of
the enhanced output over the noisy input's (both against the clean reference), in dB; negative
is less error. STOI sees 150 Hz - 4.3 kHz only, so a system can gain PESQ and SI-SDR by
cleaning outside that band and leave STOI where it was.

    local/band_error.py data/test exp/phasen_seed1/decode_test
"""
import argparse
import collections
import sys

import numpy as np
from scipy.signal import stft

from speechkit.io import AudioTable, read_dict

REGIONS = [(0, 150), (150, 1000), (1000, 4300), (4300, 8000)]


def band_energies(wav, rate, nperseg=512):
    """Energy of the STFT of wav in each of REGIONS: (len(REGIONS),) array."""
    freqs, _, spec = stft(wav, rate, nperseg=nperseg)
    power = np.abs(spec) ** 2
    return np.array([power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in REGIONS])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="data dir with wav.scp (noisy), utt2clean and utt2snr")
    parser.add_argument("decode", help="decode dir with the enhanced wav.scp")
    args = parser.parse_args(argv)
    noisy, clean = AudioTable(f"{args.data}/wav.scp"), AudioTable(f"{args.data}/utt2clean")
    enhanced = AudioTable(f"{args.decode}/wav.scp")
    snr = read_dict(f"{args.data}/utt2snr")
    references = set(clean.keys())
    errors = collections.defaultdict(lambda: np.zeros((2, len(REGIONS))))
    for utt in enhanced.keys():
        if utt not in snr or utt not in references:
            sys.exit(f"band_error.py: {utt} of {args.decode}/wav.scp has no utt2snr or utt2clean "
                     f"line in {args.data}; pass the data dir the decode dir was made from")
        ref, rate = clean[utt]
        pair = noisy[utt][0], enhanced[utt][0]
        if any(len(x) != len(ref) for x in pair):
            sys.exit(f"band_error.py: {utt}: the noisy, enhanced and clean audio differ in length")
        errors[snr[utt]] += [band_energies(x - ref, rate) for x in pair]
    print("SNR bin  " + "  ".join(f"{lo}-{hi} Hz" for lo, hi in REGIONS))
    for bin_ in sorted(errors, key=float):
        noisy_err, enhanced_err = errors[bin_]
        print(f"{bin_:>5} dB " + "".join(f"{10 * np.log10(e / n):+10.1f}"
                                          for e, n in zip(enhanced_err, noisy_err)))


if __name__ == "__main__":
    main()
