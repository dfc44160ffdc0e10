#!/usr/bin/env bash
# compare.sh DIR_A DIR_B - compare two quick_variants.sh outputs: every results file with h5diff
# (all datasets and attributes, except what records wall-clock time or where a run ran: the
# root's created/sessions/spec_path, /records/seconds, /runs/start|end|wall|rank), and every table
# (.csv, .md) the analyses wrote, byte for byte. Prints one line per sweep; exit 1 on a difference.
set -u
A=$1; B=$2; rc=0
SKIP=(--exclude-path /records/seconds --exclude-path /runs/start --exclude-path /runs/end
      --exclude-path /runs/wall --exclude-path /runs/rank --exclude-attribute /)
for fa in "$A"/*.h5; do
  name=$(basename "$fa" .h5); fb="$B/$name.h5"
  if [ ! -f "$fb" ]; then echo "$name: missing in $B"; rc=1; continue; fi
  out=$(h5diff -r "${SKIP[@]}" "$fa" "$fb" 2>&1); d=$?
  for at in format hsweep_version overrides plan_digest schema_version spec spec_sha256; do
    [ "$(h5dump -a "/$at" "$fa" 2>&1 | tail -n +2)" = "$(h5dump -a "/$at" "$fb" 2>&1 | tail -n +2)" ] || { d=1; out+=$'\n'"attribute /$at differs"; }
  done
  tables=0
  for ta in "$A/$name".*.csv "$A/$name".*.md; do
    [ -f "$ta" ] || continue; tables=$((tables + 1))
    cmp -s "$ta" "$B/$(basename "$ta")" || { d=1; out+=$'\n'"table $(basename "$ta") differs"; }
  done
  if [ $d = 0 ]; then echo "$name: identical ($tables tables)"; else echo "$name: DIFFERENT"; printf '%s\n' "$out" | grep -v "^0 differences" | head -20; rc=1; fi
done
exit $rc
