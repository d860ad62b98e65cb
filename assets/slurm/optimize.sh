#!/usr/bin/env bash
# A parameter search across a Slurm cluster: a job array of 4 tasks, each running one shard
# of the search (`SLURM_ARRAY_TASK_ID` gives the task its shard, `SLURM_ARRAY_TASK_COUNT`
# the count), all reading the same candle history on a shared file system. Submit it, then
# merge once every task has finished:
#
#   mkdir -p shards
#   job=$(sbatch --parsable assets/slurm/optimize.sh)
#   sbatch --dependency=afterok:"$job" --wrap 'tradedeck --db searches.db optimize merge shards/shard-*.jsonl'
#
# Settings come from the environment (defaults below): DATA (the history: a tradedeck
# database filled by `tradedeck download`, or a candle CSV), SYMBOL, FROM, TO, STRATEGY,
# GRID, METRIC, OUT (the shards' directory) and TRADEDECK (the binary).
#SBATCH --job-name=tradedeck-optimize
#SBATCH --array=0-3
#SBATCH --cpus-per-task=4
#SBATCH --mem=2G
#SBATCH --output=shards/optimize-%A_%a.log
set -euo pipefail

TRADEDECK=${TRADEDECK:-tradedeck}
DATA=${DATA:-history.db}
SYMBOL=${SYMBOL:-BTC/USDT}
STRATEGY=${STRATEGY:-sma-cross}
GRID=${GRID:-fast=5..50:5,slow=20..200:10}
METRIC=${METRIC:-sharpe}
OUT=${OUT:-shards}
range=()
[[ -n ${FROM:-} ]] && range+=(--from "$FROM")
[[ -n ${TO:-} ]] && range+=(--to "$TO")

mkdir -p "$OUT"
# each task keeps its own record of the search; the shared history is only read
exec "$TRADEDECK" --db "${TMPDIR:-/tmp}/tradedeck-search-${SLURM_ARRAY_JOB_ID:-local}-${SLURM_ARRAY_TASK_ID}.db" \
    optimize --data "$DATA" --symbol "$SYMBOL" "${range[@]}" \
    --strategy "$STRATEGY" --grid "$GRID" --metric "$METRIC" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" \
    --out "$OUT/shard-{shard}.jsonl"
