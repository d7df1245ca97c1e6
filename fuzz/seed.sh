#!/bin/sh
# Seeds fuzz/corpus/load_model with the fixtures' own metadata and data files, each
# prefixed with the selector bytes of fuzz_targets/load_model.rs (fixture index, then
# even = metadata, odd = data).
set -e
cd "$(dirname "$0")"
out=corpus/load_model
mkdir -p "$out"
i=0
for f in spark/spark_lr_elasticnet spark/spark_lr_multinomial \
         spark/spark_pipeline_lr/stages/1_StandardScaler_debcbc505293 \
         spark_bounds/binomial_box spark_bounds/multinomial_upper; do
  dir=../tests/fixtures/$f
  meta=$(ls "$dir"/metadata/part-* | head -1)
  data=$(ls "$dir"/data/part-* | head -1)
  { printf "\\$(printf '%03o' $i)\\000"; cat "$meta"; } > "$out/seed_${i}_meta"
  { printf "\\$(printf '%03o' $i)\\001"; cat "$data"; } > "$out/seed_${i}_data"
  i=$((i + 1))
done
echo "seeded $(ls "$out" | wc -l) files in $out"
