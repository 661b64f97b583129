"""Benchmark: training throughput and decoding real-time factor of the default ASR model.

The model is egs/asr/conf/train.yaml's `model` section (CTCBiLSTM built by ASRTask, with a
temporary character tokens.txt), trained with ASRTask.loss (the real CTC loss path) and Adam
with gradient clipping as the Trainer does, on batches from make_batches with the config's
train.batch_frames / train.max_batch. Stand-in data: --num-utts utterances of --min-sec to
--max-sec seconds at 100 frames/s, 80-dim random features (fbank after CMVN), random character
targets of one character per 6-8 input frames.

  1. training: utterances/s and input frames/s of forward + backward + clip + Adam step, and
     the padding share of the length-bucketed batches vs random batches of the same sizes;
  2. decoding on CPU: RTF (compute s / audio s) of greedy and prefix beam search, split into
     network forward (batched as `speechkit asr-decode` does: make_batches(lengths, 40000,
     256), pad, forward, to numpy) and search (one utterance at a time, as Speech2Text does);
  3. the same on CUDA, fp32 and autocast fp16, when a GPU is there.

Timed work is bounded by --budget seconds per section and device (the batches stop after the
one that passes it), so a run stays short on a slow or busy CPU; the rates are per utterance and
per frame of what was timed, and `epoch (s)` extrapolates them to all --num-utts utterances.

The network is not trained, so its outputs are near-uniform: the worst case for beam search
(every beam entry grows every frame). The search is vectorised per frame, so its cost is mostly
per output frame and a trained, peaky model is not much faster (bench/bench_ctc_decode.py).

    tools/venv/bin/python bench/bench_asr.py [--num-utts 400] [--threads 2] [--device auto] [--budget 20]
"""
import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from speechkit.data.batch import pad
from speechkit.data.tokens import char_inventory, write_tokens
from speechkit.features.config import write_typed
from speechkit.search.ctc import greedy_search, prefix_beam_search
from speechkit.tasks.asr import ASRTask, ctc_frames_needed
from speechkit.train.batching import epoch_order, make_batches, padding_ratio
from speechkit.train.optim import build_optimizer

REPO = Path(__file__).resolve().parents[1]
FPS = 100  # input frames per second (10 ms shift)
FEAT_DIM = 80
DECODE_BATCH_FRAMES, DECODE_MAX_BATCH = 40000, 256  # speechkit asr-decode's defaults


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def make_task(config, tmp):
    """ASRTask with a tokens.txt of English characters (a-z, apostrophe: 30 tokens)."""
    tokens = Path(tmp) / "tokens.txt"
    write_tokens(tokens, char_inventory(["abcdefghijklmnopqrstuvwxyz'"]))
    features = Path(tmp) / "feats.yaml"
    write_typed(features, "fbank", {"num_mel_bins": FEAT_DIM})
    conf = {"task": "asr", "model": dict(config["model"]), "optim": config["optim"],
            "data": {"tokens": str(tokens), "features": str(features)}}
    return ASRTask(conf, Path(tmp))


def make_data(args, vocab, model, rng):
    """{utt: frames}, {utt: (T, 80) float32}, {utt: token ids} (CTC-feasible)."""
    lengths, feats, targets = {}, {}, {}
    for i in range(args.num_utts):
        utt = f"utt{i:05d}"
        frames = int(round(rng.uniform(args.min_sec, args.max_sec) * FPS))
        out_len = int(model.output_lengths(torch.tensor([frames]))[0])
        n_chars = max(1, int(round(frames / rng.uniform(6, 8))))
        while True:  # ids 2.. (space and letters); redraw the rare infeasible one
            ids = rng.integers(2, vocab, n_chars).tolist()
            if ctc_frames_needed(ids) <= out_len:
                break
        lengths[utt] = frames
        feats[utt] = rng.standard_normal((frames, FEAT_DIM), dtype=np.float32)
        targets[utt] = ids
    return lengths, feats, targets


def random_batches(bucketed, lengths, rng):
    """Unsorted batches with the same sizes as the bucketed ones (each longest first)."""
    keys = list(lengths)
    rng.shuffle(keys)
    out, start = [], 0
    for b in bucketed:
        out.append(sorted(keys[start:start + len(b)], key=lambda k: -lengths[k]))
        start += len(b)
    return out


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def autocast(device, amp):
    if amp:
        return torch.autocast(device.type, dtype=torch.float16)
    return contextlib.nullcontext()


def to_device(batch, device):
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


def bench_train(task, config, state, data, batches, device, amp, budget):
    """(batches, utterances, input frames, seconds) of training steps over `batches` in order,
    after one warm-up step; stops after the batch that passes `budget` seconds (0: no limit)."""
    lengths, feats, targets = data
    model = task.build_model(FEAT_DIM)
    model.load_state_dict(state)
    model.to(device).train()
    optimizer = build_optimizer(model.parameters(), config["optim"])
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    clip = config["optim"]["clip"]

    def step(keys):
        batch = to_device(task.make_batch(keys, [feats[k] for k in keys],
                                          [targets[k] for k in keys]), device)
        with autocast(device, amp):
            loss_sum, count, _ = task.loss(model, batch)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss_sum / count).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()

    # warm-up, not timed: a full batch on a GPU (allocations, cuDNN plans), a small one on CPU
    step(max(batches, key=len) if device.type == "cuda" else batches[-1][:4])
    sync(device)
    timed, start = [], time.perf_counter()
    for keys in batches:
        step(keys)
        timed.append(keys)
        if budget and time.perf_counter() - start > budget:
            break
    sync(device)
    seconds = time.perf_counter() - start
    return len(timed), sum(map(len, timed)), sum(lengths[k] for b in timed for k in b), seconds


@torch.no_grad()
def bench_decode(task, state, data, batches, device, amp, beam, budget):
    """(utterances, input frames, {search: (forward s, search s)}), batched as asr-decode
    does; the forward stops after the batch that passes `budget` seconds (0: no limit)."""
    lengths, feats, _ = data
    model = task.build_model(FEAT_DIM)
    model.load_state_dict(state)
    model.to(device).eval()

    def forward(batch_keys):
        x, lens = pad([feats[k] for k in batch_keys])
        with autocast(device, amp):
            log_probs, out_lengths = model(x.to(device), lens.to(device))
        return log_probs.float().cpu().numpy(), out_lengths.tolist()

    forward(batches[0][:4])  # warm-up
    sync(device)
    outputs, frames, start = [], 0, time.perf_counter()
    for b in batches:
        outputs.extend(zip(*forward(b)))
        frames += sum(lengths[k] for k in b)
        if budget and time.perf_counter() - start > budget:
            break
    sync(device)
    fwd = time.perf_counter() - start

    searches = {"greedy": lambda lp, n: greedy_search(lp, n),
                f"beam {beam}": lambda lp, n: prefix_beam_search(lp, beam=beam, length=n)[0][0]}
    out = {}
    for name, search in searches.items():
        start = time.perf_counter()
        for lp, n in outputs:
            task.tokens.decode(search(lp, n))
        out[name] = (fwd, time.perf_counter() - start)
    return len(outputs), frames, out


def busy_cores(seconds=0.5):
    """Cores busy over the next `seconds` (from /proc/stat; None where there is none)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return None
    return os.cpu_count() * (1 - (idle1 - idle0) / max(total1 - total0, 1))


def load_str():
    busy = busy_cores()
    now = f"; {busy:.1f} cores busy now (0.5 s sample)" if busy is not None else ""
    return ("load average %.2f %.2f %.2f (1/5/15 min), %d cores" % (*os.getloadavg(), os.cpu_count())
            + now), busy


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-utts", type=int, default=400, help="utterances (default: %(default)s)")
    p.add_argument("--min-sec", type=float, default=1.0, help="(default: %(default)s)")
    p.add_argument("--max-sec", type=float, default=3.5, help="(default: %(default)s)")
    p.add_argument("--threads", type=int, default=2,
                   help="torch.set_num_threads for the CPU runs (default: %(default)s)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: CPU, then CUDA if a GPU is there (default: %(default)s)")
    p.add_argument("--budget", type=float, default=20,
                   help="seconds of timed training, and of timed decoding forward, per device: "
                        "the batches (in the trainer's shuffled epoch order) stop after the one "
                        "that passes it; 0: all batches (default: %(default)s)")
    p.add_argument("--beam", type=int, default=10, help="(default: %(default)s)")
    p.add_argument("--config", default=str(REPO / "egs/asr/conf/train.yaml"),
                   help="training config (default: egs/asr/conf/train.yaml)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    config = load(args.config)
    tconf = config["train"]

    devices = []
    if args.device in ("auto", "cpu"):
        devices.append((torch.device("cpu"), False))
    if args.device in ("auto", "cuda"):
        if torch.cuda.is_available():
            devices += [(torch.device("cuda"), False), (torch.device("cuda"), True)]
        elif args.device == "cuda":
            p.error("--device cuda: no GPU found (torch.cuda.is_available() is False)")

    with tempfile.TemporaryDirectory() as tmp:
        task = make_task(config, tmp)
        model = task.build_model(FEAT_DIM)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        data = make_data(args, len(task.tokens), model, rng)
        lengths = data[0]
        audio = sum(lengths.values()) / FPS
        n_chars = sum(len(t) for t in data[2].values())

        load_line, busy = load_str()
        print(f"torch {torch.__version__}, {args.threads} threads; {load_line}")
        if busy is None:
            busy = os.getloadavg()[0]
        if args.threads > 1 and busy + args.threads > os.cpu_count() + 0.5:
            print(f"note: other processes use the cores; {args.threads} OpenMP threads then wait "
                  f"on each other at every LSTM step and CPU timings vary up to ~50x between "
                  f"runs; --threads 1 is steadier")
        print(f"model ({args.config}): {config['model']}, "
              f"{sum(p.numel() for p in model.parameters()):,} parameters, "
              f"{len(task.tokens)} tokens")
        print(f"data: {args.num_utts} utterances of {args.min_sec}-{args.max_sec} s "
              f"({audio:.0f} s, {sum(lengths.values()):,} frames of {FEAT_DIM} dims), "
              f"{sum(lengths.values()) / n_chars:.1f} frames per character")

        bucketed = make_batches(lengths, tconf["batch_frames"], tconf["max_batch"])
        shuffled = random_batches(bucketed, lengths, rng)
        print(f"\nbatches: batch_frames {tconf['batch_frames']}, max_batch {tconf['max_batch']}: "
              f"{len(bucketed)} batches, {args.num_utts / len(bucketed):.1f} utterances on average")
        print(f"  padding share, length-bucketed (make_batches): "
              f"{100 * padding_ratio(bucketed, lengths):5.1f}% of padded frames")
        print(f"  padding share, random batches of the same sizes: "
              f"{100 * padding_ratio(shuffled, lengths):5.1f}%")

        order = epoch_order(bucketed, tconf["seed"], 1)  # the trainer's order in epoch 1
        print("\ntraining: forward + CTC loss + backward + clip + Adam step, bucketed batches")
        print(f"{'device':10s} {'batches':>7s} {'utts':>5s} {'time (s)':>9s} {'utt/s':>8s} "
              f"{'frames/s':>9s} {'x realtime':>10s} {'epoch (s)':>9s}")
        for device, amp in devices:
            nb, n, frames, sec = bench_train(task, config, state, data, order, device, amp,
                                             args.budget)
            name = f"{device.type}{' fp16' if amp else ' fp32'}"
            print(f"{name:10s} {nb:4d}/{len(order):<2d} {n:5d} {sec:9.2f} {n / sec:8.1f} "
                  f"{frames / sec:9.0f} {frames / FPS / sec:10.1f} "
                  f"{sec * sum(lengths.values()) / frames:9.1f}")

        dec = make_batches(lengths, DECODE_BATCH_FRAMES, DECODE_MAX_BATCH)
        dec = epoch_order(dec, args.seed, 1)
        print(f"\ndecoding: RTF = compute s / audio s; forward batched as asr-decode "
              f"({len(dec)} batches: batch_frames {DECODE_BATCH_FRAMES}, max {DECODE_MAX_BATCH}), "
              f"search per utterance")
        print(f"{'device':10s} {'search':8s} {'utts':>5s} {'audio (s)':>9s} {'fwd RTF':>9s} "
              f"{'search RTF':>10s} {'total RTF':>9s} {'ms/utt':>7s}")
        for device, amp in devices:
            n, frames, rows = bench_decode(task, state, data, dec, device, amp, args.beam,
                                           args.budget)
            sub_audio = frames / FPS
            name = f"{device.type}{' fp16' if amp else ' fp32'}"
            for search, (fwd, srch) in rows.items():
                print(f"{name:10s} {search:8s} {n:5d} {sub_audio:9.0f} {fwd / sub_audio:9.4f} "
                      f"{srch / sub_audio:10.4f} {(fwd + srch) / sub_audio:9.4f} "
                      f"{1e3 * (fwd + srch) / n:7.1f}")
        if not torch.cuda.is_available():
            print("\nGPU: none found (torch.cuda.is_available() is False); CUDA rows skipped")
        print(f"\nend: {load_str()[0]}")


if __name__ == "__main__":
    main()
