#!/usr/bin/env bash
# Issue 16's pooled tables, recomputed from the kept scores (bench/scores/) with `prag compare --by-type`:
# no model runs, about two minutes. Each block names the commands that produced its folders, so a table can
# also be measured again from nothing (hours: see bench/RESULTS.md for each one's cost).
#
#   make setup && bench/issue16_tables.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export COLUMNS=${COLUMNS:-160}   # rich wraps long folder names; wide enough for one row per line
P=.venv/bin/prag
K=bench/scores
# The fact-injecting recipe every 2Wiki row below was encoded with (bf16 training).
R=authors-loss_oncontent-epochs3-learning_rate1.5e-3-end_tokentrue-bf16

pooled() {  # pooled PREFIX SUFFIX SLICE... -> "$K/PREFIX-SLICE1-SUFFIX,$K/PREFIX-SLICE2-SUFFIX,…"
  local prefix=$1 suffix=$2; shift 2
  local out=() s
  for s in "$@"; do out+=("$K/$prefix-$s-$suffix"); done
  (IFS=,; echo "${out[*]}")
}
compare() { echo; echo "## $1"; shift; "$P" compare --by-type "$@"; }

W=2wikimultihopqa-qwen-coder-0.5b
# 2Wiki test 0-99 with dev 100-199's choice. Each half was made by
#   S="authors@loss_on=content@epochs=3@learning_rate=1.5e-3@end_token=true"
#   .venv/bin/python bench/quality_sweep.py --model qwen-coder-0.5b --dataset 2wikimultihopqa --slice 0:50 \
#       --precision bf16 --home H --out O --settings "$S/mean:0.25+shared:0" --methods combine --controls foreign
#   .venv/bin/python bench/quality_sweep.py ... --settings "$S/score:0.17" --methods prag
# and the same with --slice 50:100 (the base rows, closed-book and RAG, come with the first call).
base=$(pooled $W base 0-50 50-100)
combine=$(pooled $W "$R-meanx0.25-shared0" 0-50 50-100)
prag=$(pooled $W "$R-scorex0.17" 0-50 50-100)
compare "2Wiki test 0-99: RAG against closed-book" "$base:rag" "$base:closed"
compare "2Wiki test 0-99: centred Combine against RAG" "$combine:combine" "$base:rag"
compare "2Wiki test 0-99: P-RAG against closed-book" "$prag:prag" "$base:closed"
compare "2Wiki test 0-99: P-RAG against RAG" "$prag:prag" "$base:rag"
compare "2Wiki test 0-99: Combine's own adapters against the next question's" \
  "$combine:combine" "$combine:combine@random/foreign"

# 2Wiki dev 100-199 stated at once (the rule that did not choose it): the same recipe, with
#   bench/quality_sweep.py --slice 100:150 (then 150:200) --at-once [--retrieval links] --settings ...
for how in at-once links-at-once; do
  base=$(pooled $W "base-$how" 100-150 150-200)
  combine=$(pooled $W "$R-meanx0.25-shared0-$how" 100-150 150-200)
  prag=$(pooled $W "$R-scorex0.17-$how" 100-150 150-200)
  compare "2Wiki dev 100-199, $how: centred Combine against RAG" "$combine:combine" "$base:rag"
  compare "2Wiki dev 100-199, $how: P-RAG against closed-book" "$prag:prag" "$base:closed"
done

H=hotpotqa-qwen-coder-0.5b
# HotpotQA test 0-99 with dev 100-199's choice, both halves bf16 (0-49 was first run in fp32 before scores were
# kept, and run again in bf16 at stop 51 so that the halves pool):
#   bench/quality_sweep.py --model qwen-coder-0.5b --dataset hotpotqa --slice 0:50 --precision bf16 \
#       --settings "authors@loss_on=content/mean:0.5+start-once" --init warmup   (then without the warm-up,
#       --settings "authors@loss_on=content/mean:0.5"), and the same with --slice 50:100
base=$(pooled $H base 0-50 50-100)
random=$(pooled $H authors-loss_oncontent-bf16-meanx0.5 0-50 50-100)
warm=$(pooled $H authors-loss_oncontent-bf16-meanx0.5-start-once-warmup 0-50 50-100)
compare "HotpotQA test 0-99: RAG against closed-book" "$base:rag" "$base:closed"
compare "HotpotQA test 0-99: Combine, warm-up once, against RAG" "$warm:combine@warmup" "$base:rag"
compare "HotpotQA test 0-99: Combine, random init, against RAG" "$random:combine" "$base:rag"
compare "HotpotQA test 0-99: Combine, warm-up once, against random init" "$warm:combine@warmup" "$random:combine"
compare "HotpotQA test 0-99: P-RAG, warm-up once, against closed-book" "$warm:prag@warmup" "$base:closed"
compare "HotpotQA test 0-99: P-RAG, random init, against closed-book" "$random:prag" "$base:closed"
compare "HotpotQA test 0-99: P-RAG, warm-up once, against random init" "$warm:prag@warmup" "$random:prag"
compare "HotpotQA test 0-99: P-RAG, warm-up once, against RAG" "$warm:prag@warmup" "$base:rag"
