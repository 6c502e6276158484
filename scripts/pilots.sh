#!/usr/bin/env bash
# The pilot runs behind configs/zh-en.yaml (model card, "Pilot runs"): the same budget each
# (PILOT_STEPS optimizer steps), judged by greedy dev BLEU on the first 500 sentences of each dev set
# at that step.  Needs data/prepared/ (with extra/) and its links (see configs/zh-en.yaml).
#   bash scripts/pilots.sh            # all arms, one after the other, into runs/pilot-*
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${PILOT_STEPS:-100}
with_extra=$(.venv/bin/python - <<'PY'
import json, yaml
train = yaml.safe_load(open("configs/zh-en.yaml"))["data"]["train"]
for name in ("cedict-lexicon", "bible-cuvs-kjv"):
    train.append({"name": name, "src": f"data/prepared/extra/{name}.zh", "tgt": f"data/prepared/extra/{name}.en"})
print(json.dumps(train))
PY
)
arm() {  # arm NAME [OVERRIDE ...]; ARM_STEPS / ARM_EVAL give another budget and evaluation interval
  local name=$1; shift
  local steps=${ARM_STEPS:-$STEPS}
  [ -f "runs/pilot-$name/done" ] && return 0
  rm -rf "runs/pilot-$name"
  .venv/bin/seq2seq-train --config configs/zh-en.yaml --output-dir "runs/pilot-$name" --max-steps "$steps" \
    train.eval_every="${ARM_EVAL:-$steps}" train.save_minutes=0 "$@" > "runs/pilot-$name.log" 2>&1
  touch "runs/pilot-$name/done"
  echo "$name: $(grep 'eval step' "runs/pilot-$name.log" | tail -2 | sed 's/ | .*//' | tr '\n' ' ')"
}
mkdir -p runs
# Each arm differs from configs/zh-en.yaml (warm start, train/ only, dropout 0.2, alignment loss 0.5) in what it names.
arm base alignment.weight=0.1             # the alignment loss at 0.1
arm cedict-bible alignment.weight=0.1 "data.train=$with_extra"  # extra registers mixed in (no links on them)
arm dropout-0.1 alignment.weight=0.1 model.dropout=0.1
arm no-align alignment.weight=0           # what the alignment loss costs in BLEU
arm align-0.5                             # = configs/zh-en.yaml (the shipped run's first PILOT_STEPS steps)
# From scratch, with new tokenizers of 8k pieces a side and of 6k (Chinese) / 4k (English): 900 steps each
# (a model from scratch translates nothing at step 100), evaluated every 300 steps.  No alignment loss (the corpus links are on the
# shipped 8k pieces); the peak lr of the first scratch run (1e-3), with a shorter warm-up.  Compare with the
# warm-started run at step 900 (model card, time to quality).
scratch=(train.init_from=null alignment.weight=0 train.lr=1e-3 train.warmup_steps=400 train.length_bucket=4)
ARM_STEPS=900 ARM_EVAL=300 arm scratch-8k "${scratch[@]}"
# (Chinese cannot go down to 4k: character coverage 0.9995 of this corpus needs 4,040 pieces on its own.)
ARM_STEPS=900 ARM_EVAL=300 arm scratch-6k4k "${scratch[@]}" tokenizer.src_vocab_size=6000 tokenizer.tgt_vocab_size=4000
