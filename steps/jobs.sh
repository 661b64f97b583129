# Sourced by steps/decode.sh and steps/score.sh: run commands in the background, at most
# $max_jobs at once (Kaldi's queue.pl --max-jobs-run), and fail at the end if any of them did.
#   start_job CMD ARGS...   (first waits until fewer than $max_jobs are running)
#   wait_jobs DESCRIPTION   (waits for the rest; exit 1 naming DESCRIPTION if any failed)
# With max_jobs=1 the commands run one after another, in order, as before; with more, each job
# gets one thread unless OMP_NUM_THREADS is set (measured on 2 cores: two 1-thread extractions
# at once beat one 2-thread extraction after another by 1.7x).
_job_pids=()
_job_failed=0

_reap_finished() {   # collect the jobs that ended; false when none had
  local pid running=() reaped=1
  for pid in "${_job_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      running+=("$pid")
    else
      wait "$pid" || _job_failed=1
      reaped=0
    fi
  done
  _job_pids=("${running[@]}")
  return $reaped
}

start_job() {
  while [ "${#_job_pids[@]}" -ge "$max_jobs" ]; do _reap_finished || sleep 0.2; done
  if [ "$max_jobs" -gt 1 ]; then
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$@" &
  else
    "$@" &
  fi
  _job_pids+=($!)
}

wait_jobs() {
  local pid
  for pid in "${_job_pids[@]}"; do wait "$pid" || _job_failed=1; done
  _job_pids=()
  if [ "$_job_failed" -ne 0 ]; then
    echo "$0: $1 failed; its log names the cause" >&2
    exit 1
  fi
}
