# How jobs run: utils/run.py locally (default), utils/slurm.py on a Slurm cluster.
# Both take Kaldi's options (--mem, --num-threads, --gpu); run.py ignores what it cannot honour.
export train_cmd="utils/run.py"
export cuda_cmd="utils/run.py"
export decode_cmd="utils/run.py"
# On a Slurm cluster (options mapped by conf/slurm.conf):
# export train_cmd="utils/slurm.py --config conf/slurm.conf"
# export cuda_cmd="utils/slurm.py --config conf/slurm.conf"
# export decode_cmd="utils/slurm.py --config conf/slurm.conf --mem 4G"
