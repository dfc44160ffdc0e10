#!/usr/bin/env bash
# test_cli.sh HSWEEP PYTHON - the hsweep command as a user meets it: exit codes, messages on
# stderr, output formats, and run ids re-derived independently with Python's hashlib.
# Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 PY=$2
. "$(dirname "$0")/lib.sh"
G=tests/specs/good B=tests/specs/bad
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check "version" 0 "$HS" version
contains "version names the schema" "$OUT" "config schema 1"
check "no arguments is a usage error" 2 "$HS"
check "unknown command" 2 "$HS" frobnicate
contains "unknown command named" "$ERR" "unknown command 'frobnicate'"
check "plan without a spec" 2 "$HS" plan
check "plan with an unknown option" 2 "$HS" plan $G/full.yaml --fast
check "bad --format" 2 "$HS" plan $G/full.yaml --format xml

# ---------------------------------------------------------------- the command table and every command's --help
CMDS="plan train run data status analyze report keys version"
check "--help" 0 "$HS" --help
listed=$(printf '%s\n' "$OUT" | sed -n '/^commands:/,/^$/p' | awk 'NF && !/^commands:/ {print $1}' | tr '\n' ' ')
[ "$listed" = "$CMDS " ] && ok "--help lists every command, in order" || bad "--help lists '$listed'" "$OUT"
case "$OUT" in *issue*) bad "--help mentions an issue" "$OUT" ;; *) ok "--help names no issue" ;; esac
for c in $CMDS; do
  for h in --help -h; do
    check "$c $h" 0 "$HS" $c $h
    first=$(printf '%s\n' "$OUT" | head -1)
    case "$first" in "usage: hsweep $c"*) ok "$c $h: usage line first" ;; *) bad "$c $h: first line '$first'" "$OUT" ;; esac
    [ -z "$ERR" ] && ok "$c $h: nothing on stderr" || bad "$c $h: stderr" "$ERR"
  done
  case "$OUT" in *issue*) bad "$c --help mentions an issue" "$OUT" ;; *) ok "$c --help names no issue" ;; esac
  check "help $c" 0 "$HS" help $c
  contains "help $c prints its usage" "$OUT" "usage: hsweep $c"
  check "$c with an unknown option" 2 "$HS" $c --no-such-option
  contains "$c names the unknown option" "$ERR" "hsweep $c: unknown option '--no-such-option'"
  contains "$c prints its usage on stderr" "$ERR" "usage: hsweep $c"
  [ -z "$OUT" ] && ok "$c: nothing on stdout" || bad "$c: stdout" "$OUT"
done
check "analyze --help names the runs of the dynamics analysis" 0 "$HS" analyze --help
contains "dynamics runs" "$OUT" "dynamics for hierarchy, partition, xor and gated runs or their series"
check "an unknown short option" 2 "$HS" plan $G/full.yaml -x
contains "names the letter" "$ERR" "hsweep plan: unknown option '-x'"
check "a long option abbreviated is refused" 2 "$HS" plan $G/full.yaml --form tsv
contains "names what was typed" "$ERR" "hsweep plan: unknown option '--form'"
check "run: a switch abbreviated is refused" 2 "$HS" run $G/full.yaml --over -o "$T/abbrev.h5"
contains "names it" "$ERR" "hsweep run: unknown option '--over'"
check "a value given to a switch" 2 "$HS" train $G/full.yaml --quiet=1
contains "names it" "$ERR" "hsweep train: unknown option '--quiet=1'"
check "an option without its value" 2 "$HS" plan $G/full.yaml --format
contains "says the value is missing" "$ERR" "hsweep plan: option '--format' needs a value"
check "two spec files" 2 "$HS" plan $G/full.yaml $G/minimal.yaml
contains "names both" "$ERR" "more than one spec file ('$G/full.yaml' and '$G/minimal.yaml')"
check "status without a file" 2 "$HS" status
contains "status message" "$ERR" "hsweep status: expected one results file"
check "keys takes no argument" 2 "$HS" keys extra
contains "keys message" "$ERR" "hsweep keys: unexpected argument 'extra'"
check "options before the spec, --set=key=value" 0 "$HS" plan --format tsv --set=train.epochs=5 $G/minimal.yaml
check "the same, spec first" 0 "$HS" plan $G/minimal.yaml --set train.epochs=5 --format tsv
same=$OUT
check "after --, arguments only" 0 "$HS" plan --format tsv --set train.epochs=5 -- $G/minimal.yaml
[ "$OUT" = "$same" ] && ok "option order and -- change nothing" || bad "outputs differ" "$OUT"
check "the last --format wins" 0 "$HS" plan $G/minimal.yaml --format json --format tsv
[ "$OUT" = "$("$HS" plan $G/minimal.yaml --format tsv)" ] && ok "tsv" || bad "not tsv" "$OUT"

# ---------------------------------------------------------------- keys, and the README reference
check "keys (tsv)" 0 "$HS" keys --format tsv
nkeys=$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)
[ "$nkeys" -ge 40 ] && ok "keys lists $nkeys keys" || bad "keys lists only $nkeys keys"
check "keys (markdown)" 0 "$HS" keys --format markdown
readme_keys=$(sed -n '/<!-- keys:begin -->/,/<!-- keys:end -->/p' README.md | sed '1d;$d')
if [ "$readme_keys" = "$OUT" ]; then ok "README key reference equals 'hsweep keys --format markdown'"
else bad "README key reference is stale: regenerate it with 'hsweep keys --format markdown'" \
         "$(diff <(printf '%s\n' "$readme_keys") <(printf '%s\n' "$OUT") | head -20)"; fi

# ---------------------------------------------------------------- plan output
check "plan full.yaml" 0 "$HS" plan $G/full.yaml
contains "summary line" "$OUT" "full: 20 runs in 2 blocks (2 excluded); 7 keys vary"
[ -z "$ERR" ] && ok "nothing on stderr" || bad "unexpected stderr" "$ERR"
check "plan --format tsv" 0 "$HS" plan $G/full.yaml --format tsv
[ "$(printf '%s\n' "$OUT" | wc -l)" = 21 ] && ok "tsv has a header and 20 rows" || bad "tsv rows" "$OUT"
check "plan --format json" 0 "$HS" plan $G/full.yaml --format json
printf '%s\n' "$OUT" > /tmp/hsweep_plan.$$.json
res=$("$PY" - /tmp/hsweep_plan.$$.json <<'PYEOF'
import hashlib, json, sys
plan = json.load(open(sys.argv[1]))
assert plan["count"] == len(plan["runs"]) == 20, plan["count"]
assert plan["varying"] == ["data.seed", "model.act", "model.depth", "model.norm", "seed", "train.lr", "train.opt"]
assert plan["expected_bytes"] > 20 * 61 * 20 * 5 * 8, plan["expected_bytes"]   # at least the /layers datasets
for run in plan["runs"]:
    want = hashlib.sha256(run["canonical"].encode()).hexdigest()[:16]
    assert run["id"] == want, (run["id"], want)
    # the canonical text lists exactly the non-default keys of the full config
    for line in run["canonical"].splitlines()[1:]:
        key, value = line.split("=", 1)
        assert json.loads(value) == run["config"][key], (key, value)
print("ok", len(plan["runs"]))
PYEOF
)
rm -f /tmp/hsweep_plan.$$.json
[ "$res" = "ok 20" ] && ok "json parses; every id = sha256(canonical)[:16] (hashlib)" || bad "json check" "$res"

check "--set overrides a base key" 0 "$HS" plan $G/minimal.yaml --set train.epochs=5 --format json
contains "--set value reaches the run" "$OUT" '"train.epochs": 5'
check "--set with an unknown key" 1 "$HS" plan $G/minimal.yaml --set model.dept=3
contains "--set suggestion" "$ERR" "unknown key 'model.dept' (did you mean 'model.depth'?)"
check "--max-runs refuses a large plan" 1 "$HS" plan $G/full.yaml --max-runs 10
contains "--max-runs message" "$ERR" "more than the limit of 10 runs"
contains "--max-runs hint" "$ERR" "raise it with --max-runs"
check "default sweep plans" 0 "$HS" plan sweeps/default.yaml
for f in sweeps/*.yaml $G/*.yaml; do check "$f plans (every run passes the preflight)" 0 "$HS" plan "$f"; done

# ---------------------------------------------------------------- --set against the spec's own levels
check "--set of a key an axis and a block's base give is refused" 1 "$HS" plan $G/full.yaml --set model.depth=3
contains "names the --set, the block and where" "$ERR" \
  "hsweep: error: --set model.depth=3: block 'controls' sets model.depth in its \`base\` at $G/full.yaml:25:22, which would win over the --set"
contains "hint" "$ERR" "hint: remove the key from the block's \`base\`, or edit the spec"
check "--set on a key only axes give narrows the plan" 0 "$HS" plan $G/full.yaml --set seed=2 --format json
contains "its runs" "$OUT" '"count": 10, "excluded": 2, "narrowed": 10'
check "--set on an axis with a value it lacks" 1 "$HS" plan $G/full.yaml --set seed=4
contains "names the axis and its values" "$ERR" "--set seed=4: block 'main' varies seed along an axis at $G/full.yaml:12:7 over 1, 2, not 4"
contains "its hint" "$ERR" "keeps only the runs with that value"
check "text plan says what was left out" 0 "$HS" plan $G/full.yaml --set seed=2
contains "left out" "$OUT" "full: 10 runs in 2 blocks (2 excluded) (10 left out by --set)"
# part of a sweep, then the whole of it: resume by id trains only the rest
cat > "$T/part.yaml" <<'EOF'
base:
  data: {kind: gaussian, n_train: 64, n_test: 32}
  model: {arch: mlp, depth: 2}
  train: {epochs: 1}
  record: {separation: none}
product:
  seed: [1, 2]
  model.width: [8, 16, 32]
EOF
check "several values of an axis" 0 "$HS" plan "$T/part.yaml" --set "model.width=[8, 32]" --format json
contains "keeps the runs with either" "$OUT" '"count": 4, "excluded": 0, "narrowed": 2'
check "run part of a sweep (--set on an axis)" 0 "$HS" run "$T/part.yaml" --set model.width=16 -o "$T/part.h5" --quiet
contains "its 2 runs" "$OUT$ERR" "2 runs: 2 done"
check "status names the --set" 0 "$HS" status "$T/part.h5"
contains "with --set" "$OUT" "with --set model.width=16"
check "the whole sweep resumes it" 0 "$HS" run "$T/part.yaml" --resume -o "$T/part.h5" --quiet
contains "trains only the other 4" "$OUT$ERR" "6 runs: 6 done, 0 diverged, 0 failed, 0 pending; this job finished 4"
check "--set of a block-base key is refused" 1 "$HS" plan $G/full.yaml --set model.norm=none
contains "names the block's base" "$ERR" "block 'controls' sets model.norm in its \`base\` at $G/full.yaml:25:32"
check "--set of a key a set rule gives is refused" 1 "$HS" plan $G/global_rules.yaml --set train.batch=32
contains "names the top-level rule" "$ERR" "the spec sets train.batch in a top-level \`set\` rule at $G/global_rules.yaml:13:23"
check "--set data.seed beside a seed axis (data.seed only follows it)" 0 "$HS" plan $G/full.yaml --set data.seed=9 --format tsv
check "run refuses the same --set, before any file" 1 "$HS" run $G/full.yaml --set model.depth=3 -o "$T/set.h5"
contains "run names the --set" "$ERR" "--set model.depth=3: block 'controls' sets model.depth"
[ ! -e "$T/set.h5" ] && [ ! -e "$T/set.h5.log" ] && ok "no results file or log" || bad "run created files" "$(ls "$T")"

# ---------------------------------------------------------------- preflight: every run checked before any compute
check "text plan estimates the results file" 0 "$HS" plan tests/specs/train/sweep.yaml
contains "results file line" "$OUT" "results file: about 22.7 kB (12 runs x 4 record points x 5 layers: records 3.46 kB"
check "a missing data folder fails the plan" 1 "$HS" plan $G/minimal.yaml --set data.path=/nonexistent-hsweep
id=$("$PY" - <<PYEOF
import hashlib, json, subprocess
plan = json.loads(subprocess.run(["$HS", "plan", "$G/minimal.yaml", "--format", "json"], capture_output=True).stdout)
lines = plan["runs"][0]["canonical"].splitlines()
canon = "\n".join([lines[0]] + sorted(lines[1:] + ['data.path="/nonexistent-hsweep"'])) + "\n"
print(hashlib.sha256(canon.encode()).hexdigest()[:16])
PYEOF
)
contains "names the run id (recomputed with hashlib) and data.path" "$ERR" \
  "hsweep: error: run $id: data.path = /nonexistent-hsweep: cannot open the folder: No such file or directory"
cat > "$T/pmax.yaml" <<'YAML'
base:
  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 0}
  model: {arch: cnn, width: 8}
product:
  data.n_train: [100, 129, 300]
YAML
check "P beyond P_max fails the plan" 1 "$HS" plan "$T/pmax.yaml"
first=$(printf '%s\n' "$ERR" | head -1)
if printf '%s\n' "$first" | grep -Eq '^hsweep: error: run [0-9a-f]{16} \(data\.n_train=129\): data\.n_train = 129 plus 128 test samples is more than the P_max = 256 distinct inputs$'
then ok "names the run id, its n_train and the numbers"; else bad "P_max message" "$ERR"; fi
check "run refuses it before any file" 1 "$HS" run "$T/pmax.yaml" -o "$T/pmax.h5"
contains "run names the run" "$ERR" "(data.n_train=129): data.n_train = 129 plus 128 test samples"
[ ! -e "$T/pmax.h5" ] && [ ! -e "$T/pmax.h5.log" ] && ok "no results file or log" || bad "run created files" "$(ls "$T")"

# ---------------------------------------------------------------- every malformed spec: one clean error line
for f in $B/*.yaml; do
  check "$(basename "$f") is rejected" 1 "$HS" plan "$f"
  first=$(printf '%s\n' "$ERR" | head -1)
  contains "$(basename "$f"): error names file:line:col" "$first" "hsweep: error: $f:"
  n=$(printf '%s\n' "$ERR" | grep -c '^hsweep: error:')
  [ "$n" = 1 ] && ok "$(basename "$f"): exactly one error line" || bad "$(basename "$f"): $n error lines" "$ERR"
done
check "missing spec file" 1 "$HS" plan /nonexistent.yaml
contains "missing file message" "$ERR" "/nonexistent.yaml: cannot open the spec file"
check "a directory as the spec" 1 "$HS" plan tests/specs
contains "  says why" "$ERR" "tests/specs: cannot read the spec file: Is a directory"
check "a spec read from a pipe (process substitution)" 0 "$HS" plan <(cat tests/specs/train/equisep-tiny.yaml)
contains "  planned" "$OUT" "8 runs"

finish
