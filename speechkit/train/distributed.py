"""DDP: one process per device (or per CPU worker with gloo), launched through torchrun."""
import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

from speechkit.errors import SpeechkitError


@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self):
        return self.rank == 0

    @property
    def enabled(self):
        return self.world_size > 1

    def all_reduce(self, values):
        """Sum a list of floats over ranks (identity in one process)."""
        if not self.enabled:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.tolist()


def init(ngpu):
    """Join the process group torchrun set up (env RANK/WORLD_SIZE), or run alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Dist()
    rank = int(os.environ["RANK"])
    backend = "nccl" if ngpu > 0 else "gloo"
    if ngpu > 0:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)))
    dist.init_process_group(backend)
    return Dist(rank, world_size)


def device_for(ngpu):
    if ngpu > 0:
        if not torch.cuda.is_available():
            raise SpeechkitError(f"--ngpu {ngpu} but no CUDA device is visible; use --ngpu 0")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def torchrun_argv(nproc, module_argv):
    """The command that relaunches this training under torchrun with nproc processes."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc-per-node={nproc}", "-m", "speechkit.bin.main"] + module_argv


def cleanup():
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
