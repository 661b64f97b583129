"""Job runners with Kaldi's interface: utils/run.py (this machine) and utils/slurm.py (Slurm).

    $cmd [options] JOB=1:$nj exp/x/log/name.JOB.log command ... JOB ...
    $cmd [options] exp/x/log/name.log command ...

JOB is replaced in the log name and in the command; the command runs through `bash -c`, so a
quoted "a | b > c" or Kaldi's escaped \\| and \\> work. Every log starts with `# <command>` and
`# Started at <date>` and ends with run.pl's `# Accounting: time=S threads=T` and
`# Ended (code N) at <date>, elapsed time S seconds`. The exit status is 0 when every job
succeeded; otherwise 1, with "K / N failed, log is in ...", the first failed job's command and the
end of its log on stderr. Interrupting a runner stops its jobs.

A recipe picks the runner in its cmd.sh, which run.sh sources:

    export train_cmd="utils/run.py"                                   # this machine (default)
    export decode_cmd="utils/run.py --max-jobs-run 4"
    export train_cmd="utils/slurm.py --config conf/slurm.conf"        # a Slurm cluster
    export cuda_cmd="utils/slurm.py --config conf/slurm.conf --gpu 1 --mem 8G"

Options: --max-jobs-run N (both), --num-threads N (both), and --mem, --gpu, --time ... which
slurm.py translates through conf/slurm.conf (Kaldi's format, see slurmconf.py) and run.py ignores.

Modules: spec (the command line), script (the job script: the log's header and footer, written
and read back in one place), runner (the scheduling loop, signals, exit status), report (the
failure summary), local and slurm (the two backends: how to start, poll and stop one job),
slurmconf (the slurm.conf format).
"""
