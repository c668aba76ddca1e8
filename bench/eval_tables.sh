#!/usr/bin/env bash
# The measurements behind issue 4's tables: Qwen2.5-Coder-0.5B on HotpotQA-500 and 2Wiki-500 (first 50
# questions), the same HotpotQA slice on the default model, MuSiQue, and the warm-up ablation. Every step
# resumes its folder, so rerunning the script after an interruption continues where it stopped. The
# paper's core comparison runs first; FLARE and DRAGIN, which cost several times more per question, after.
#
#   make qwen && PRAG_HOME=/tmp/evq OUT=/tmp/runs bench/eval_tables.sh
set -u
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=${OUT:-runs}
LIMIT=${LIMIT:-50}
P=.venv/bin/prag
# These tables were measured with the settings that were every model's defaults then; the 0.5B model has
# its own since (answer-format, mean: bench/quality_sweep.py), so they are named here.
Q="$P --model qwen-coder-0.5b --recipe default --merge sum"
H="--dataset hotpotqa --data $DATA/hotpotqa/HotpotQA_500_benchmark.json"
W="--dataset 2wikimultihopqa --data $DATA/2wikimultihopqa/2WikiMultihopQA_500_benchmark.json"
M="--dataset musique --data $DATA/musique/musique_qa_100.json"
mkdir -p "$OUT"
step() { name=$1; shift; echo "$(date -u +%FT%TZ) start $name" >> "$OUT/steps.log"
         /usr/bin/time -v "$@" > "$OUT/$name.log" 2>&1; echo "$(date -u +%FT%TZ) end $name rc=$?" >> "$OUT/steps.log"; }
step hotpotqa-qwen-core $Q eval $H --out "$OUT/hotpotqa-qwen" --limit "$LIMIT" --methods closed,rag,da-rag,prag,combine
# The default recipe was chosen on the 135M model; the paper's (1 epoch, lr 3e-4) shows whether P-RAG's
# result on the 0.5B model is the recipe's. Augmentations are shared, so this only re-encodes.
step hotpotqa-qwen-paper $P --model qwen-coder-0.5b --recipe paper --merge sum eval $H --out "$OUT/hotpotqa-qwen-paper" --limit "$LIMIT" --methods prag,combine
step 2wiki-qwen-core $Q eval $W --out "$OUT/2wiki-qwen" --limit "$LIMIT" --methods closed,rag,da-rag,prag,combine
step 2wiki-qwen-active $Q eval $W --out "$OUT/2wiki-qwen" --limit "$LIMIT" --methods flare,dragin
# The warm-up ablation (paper Table 2) with the paper's recipe, beside its random-init rows: the paper's
# setting, and on this model the recipe that harms it least; a second re-encoding with the default recipe
# would cost another 1 h 40 min.
step warmup-hotpotqa-qwen $P --model qwen-coder-0.5b --recipe paper --merge sum warmup $H --skip-first 100 --count 200
step hotpotqa-qwen-warmup $P --model qwen-coder-0.5b --recipe paper --merge sum eval $H --out "$OUT/hotpotqa-qwen-paper" --limit "$LIMIT" --methods prag,combine --init warmup
step hotpotqa-smol $P eval $H --out "$OUT/hotpotqa-smol" --limit "$LIMIT"
step hotpotqa-qwen-active $Q eval $H --out "$OUT/hotpotqa-qwen" --limit "$LIMIT" --methods flare,dragin
step musique-qwen $Q eval $M --out "$OUT/musique-qwen" --limit "$LIMIT"
# Last, as it only extends a finding: is P-RAG's collapse on 2Wiki the default recipe's?
step 2wiki-qwen-paper $P --model qwen-coder-0.5b --recipe paper --merge sum eval $W --out "$OUT/2wiki-qwen-paper" --limit "$LIMIT" --methods prag,combine
$P report "$OUT/hotpotqa-qwen" "$OUT/2wiki-qwen" "$OUT/musique-qwen" > "$OUT/tables.md"
for run in hotpotqa-qwen-paper 2wiki-qwen-paper hotpotqa-smol; do $P report "$OUT/$run" > /dev/null; done
