# `attnlab train` and `attnlab sweep` end to end: the run directory, config errors, SIGKILL-and-resume with
# bit-identical final weights, corrupt checkpoints, sweeps (skip / resume / failed jobs / summarize) with the
# local pool, Open MPI with 2 ranks and the Slurm array script run task by task.
source "$(dirname "$0")/lib.bash"

cat > "$WORK/tiny.toml" <<'TOML'
seed = 2
[task]
name = "index_lookup"
n = 4
alphabet = 3
[model]
d_model = 16
[optim]
lr = 0.01
[train]
steps = 60
batch = 32
log_every = 10
eval_every = 30
checkpoint_every = 20
snapshot_every = 20
[eval]
lengths = [4, 6]
size = 64
TOML

# --- one run: files, report, progress line, rerun of a finished run ---
expect_ok train "$BIN" --threads 1 train "$WORK/tiny.toml" --out "$WORK/run"
expect_grep train-report "report: .*run/report.html" "$WORK/out"
expect_grep train-eval "held-out n=6: exact match" "$WORK/out"
expect_grep train-progress "step 60/60  loss [0-9.]+  acc [0-9.]+  [0-9.]+ steps/s  ETA" "$WORK/err"
for f in argv.txt config.resolved.toml metrics.jsonl report.html results.json model/model.safetensors \
         snapshots/step_00000060.safetensors checkpoints/step_00000060/MANIFEST.json; do
  test -s "$WORK/run/$f" && PASSES=$((PASSES + 1)) || { echo "FAIL [run-files]: $f missing"; FAILS=$((FAILS + 1)); }
done
expect_grep report-data '"snapshots":\{' "$WORK/run/report.html"
expect_grep report-csp "Content-Security-Policy" "$WORK/run/report.html"
/usr/bin/python3 - "$WORK/run" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [metrics]"; FAILS=$((FAILS + 1)); }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
train = [r["step"] for r in rows if r["kind"] == "train"]
evals = [r for r in rows if r["kind"] == "eval"]
assert train == [10, 20, 30, 40, 50, 60], train
assert [e["step"] for e in evals] == [30, 60] and [x["n"] for x in evals[-1]["results"]] == [4, 6], evals
PY
expect_ok quiet "$BIN" --threads 1 --quiet train "$WORK/tiny.toml" --out "$WORK/run"
expect_grep already "run already finished" "$WORK/out"
test ! -s "$WORK/err" && PASSES=$((PASSES + 1)) || { echo "FAIL [quiet]: stderr not empty"; FAILS=$((FAILS + 1)); }
expect_ok override "$BIN" --threads 1 -q train "$WORK/tiny.toml" model.type=gru model.d_hidden=8 train.steps=5 --out "$WORK/gru"
expect_grep override-resolved 'type = "gru"' "$WORK/gru/config.resolved.toml"

# --- config errors: one message naming the key, a HINT, exit 1 ---
expect_fail unknown-key "unknown key 'model.d_modle' (did you mean 'model.d_model'?)" \
  "$BIN" train "$WORK/tiny.toml" model.d_modle=3 --out "$WORK/x"
printf '[train]\nsteps = "many"\n' > "$WORK/bad.toml"
expect_fail type-mismatch "key 'train.steps' (line 2) must be an integer, got string" "$BIN" train "$WORK/bad.toml" --out "$WORK/x"
printf '[train\n' > "$WORK/syntax.toml"
expect_fail toml-syntax "syntax.toml:1:" "$BIN" train "$WORK/syntax.toml" --out "$WORK/x"
expect_fail missing-config "no such file" "$BIN" train "$WORK/nope.toml" --out "$WORK/x"
expect_fail bad-value "key 'task.name' is 'sorting'" "$BIN" train "$WORK/tiny.toml" task.name=sorting --out "$WORK/x"
expect_fail other-config "different config" "$BIN" train "$WORK/tiny.toml" seed=9 --out "$WORK/run"
expect_fail no-out "--out" "$BIN" train "$WORK/tiny.toml"

# --- SIGKILL at random moments, then the same command: bit-identical final weights ---
LONG=(train.steps=5000 train.checkpoint_every=7 train.log_every=3 train.eval_every=50 train.snapshot_every=250)
expect_ok reference "$BIN" --threads 1 -q train "$WORK/tiny.toml" "${LONG[@]}" --out "$WORK/ref"
kills=0
corrupted=""
for i in $(seq 1 8); do   # 8 kills, then the final run
  [ -s "$WORK/killed/results.json" ] && break
  "$BIN" --threads 1 -q train "$WORK/tiny.toml" "${LONG[@]}" --out "$WORK/killed" >>"$WORK/kill_out" 2>>"$WORK/kill_err" &
  pid=$!
  sleep "$((RANDOM % 2 + 1)).$((RANDOM % 10))"   # 1.0 .. 2.9 s: during start-up, steps or checkpoint commits
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  if [ -z "$corrupted" ] && [ "$kills" -ge 3 ]; then  # corrupt the newest checkpoint once: the previous good one must be used
    newest=$(ls -d "$WORK"/killed/checkpoints/step_* 2>/dev/null | grep -v "\.tmp-" | tail -n1 || true)
    if [ -n "$newest" ]; then printf 'garbage' >> "$newest/model.safetensors"; corrupted=$newest; fi
  fi
done
expect_ok resume-final "$BIN" --threads 1 train "$WORK/tiny.toml" "${LONG[@]}" --out "$WORK/killed"
[ -s "$WORK/killed/results.json" ] && PASSES=$((PASSES + 1)) || { echo "FAIL [resume-final]: no results.json"; FAILS=$((FAILS + 1)); }
cat "$WORK/out" >> "$WORK/kill_out"
expect_grep resume-progress "resuming .* from step [1-9]" "$WORK/kill_out"   # the killed runs got somewhere
if [ "$kills" -ge 4 ] && cmp -s "$WORK/ref/model/model.safetensors" "$WORK/killed/model/model.safetensors"; then
  PASSES=$((PASSES + 1))
else
  echo "FAIL [kill-resume]: $kills kills; final weights differ or too few kills"; FAILS=$((FAILS + 1))
fi
echo "kill-and-resume: $kills SIGKILLs, corrupted ${corrupted:-nothing}"
if [ -n "$corrupted" ]; then
  cat "$WORK/err" >> "$WORK/kill_err"
  expect_grep corrupt-warning "checkpoint $corrupted is corrupt or partial: model.safetensors has" "$WORK/kill_err"
else
  echo "FAIL [corrupt]: no checkpoint to corrupt after $kills kills"; FAILS=$((FAILS + 1))
fi

# --- sweeps: local pool, skip finished, resume interrupted, a failed job, summarize ---
SW=("$BIN" -q sweep "$WORK/tiny.toml" --set train.steps=30 -m model.d_model=8,16 seed=0,1 --out "$WORK/sweep")
expect_ok sweep "${SW[@]}" --jobs 2
expect_grep sweep-done "4 done, 0 skipped" "$WORK/out"
expect_ok sweep-again "${SW[@]}" --jobs 2
expect_grep sweep-skip "0 done, 4 skipped" "$WORK/out"
rm "$WORK/sweep/model.d-model=16_seed=1/results.json"   # as if killed after its last checkpoint
expect_ok sweep-resume "${SW[@]}"
expect_grep sweep-resumed "1 done, 3 skipped" "$WORK/out"
expect_ok summarize "$BIN" sweep summarize "$WORK/sweep"
expect_grep summary-header "^job,model.d_model,seed,status,train_loss,cpu_seconds,exact_n4,token_acc_n4,exact_n6" "$WORK/sweep/summary.csv"
[ "$(grep -c ',done,' "$WORK/sweep/summary.csv")" -eq 4 ] && PASSES=$((PASSES + 1)) || { echo "FAIL [summary-rows]"; FAILS=$((FAILS + 1)); }
expect_grep summary-html "<table>" "$WORK/sweep/summary.html"
expect_fail sweep-failed-job "1 sweep job(s) failed" "$BIN" -q sweep "$WORK/tiny.toml" --set train.steps=5 \
  -m train.device=cpu,cuda:7 --out "$WORK/sweepfail"
expect_grep sweep-failed-recorded '"status":"failed"' "$WORK/sweepfail/train.device=cuda-7/job_status.json"
test -s "$WORK/sweepfail/train.device=cpu/results.json" && PASSES=$((PASSES + 1)) || { echo "FAIL [sweep-continues]"; FAILS=$((FAILS + 1)); }
expect_fail sweep-bad-axis "unknown key 'model.width'" "$BIN" sweep "$WORK/tiny.toml" -m model.width=1,2 --out "$WORK/x"
expect_fail sweep-bad-value "job model.d-model=zero" "$BIN" sweep "$WORK/tiny.toml" -m model.d_model=8,zero --out "$WORK/x"
expect_ok sweep-zipped "$BIN" -q sweep "$WORK/tiny.toml" --set train.steps=5 -m model.type,model.d_hidden=transformer/8,lstm/8 \
  --out "$WORK/zip"
expect_grep zipped-lstm 'd_hidden = 8' "$WORK/zip/model.type,model.d-hidden=lstm-8/config.resolved.toml"
expect_grep zipped-lstm-type 'type = "lstm"' "$WORK/zip/model.type,model.d-hidden=lstm-8/config.resolved.toml"
expect_fail zipped-bad "does not give one value per key" "$BIN" sweep "$WORK/tiny.toml" -m model.type,model.d_hidden=lstm \
  --out "$WORK/x"
expect_fail summarize-missing "sweep.json" "$BIN" sweep summarize "$WORK/nope"

# --- Open MPI, 2 ranks: rank 0 dispatches, rank 1 runs; a failed job is recorded, the sweep goes on ---
if command -v mpirun >/dev/null; then
  MPI=(mpirun --allow-run-as-root --oversubscribe -np 2)
  expect_fail mpi-sweep "2 sweep job(s) failed" "${MPI[@]}" "$BIN" -q sweep "$WORK/tiny.toml" --set train.steps=10 \
    -m model.d_model=8,12 train.device=cpu,cuda:7 --out "$WORK/mpi" --launcher mpi
  expect_grep mpi-dispatch "rank 0 dispatches 4 jobs to 1 worker" "$WORK/out"
  expect_grep mpi-tally "2 done, 0 skipped \(finished before\), 2 failed" "$WORK/out"
  expect_ok mpi-ok "${MPI[@]}" "$BIN" -q sweep "$WORK/tiny.toml" --set train.steps=10 -m model.d_model=8,12 \
    --out "$WORK/mpi2" --launcher mpi
  expect_grep mpi-ok-tally "2 done, 0 skipped \(finished before\), 0 failed" "$WORK/out"
  expect_ok mpi-skip "${MPI[@]}" "$BIN" -q sweep "$WORK/tiny.toml" --set train.steps=10 -m model.d_model=8,12 \
    --out "$WORK/mpi2" --launcher mpi
  expect_grep mpi-skip-tally "0 done, 2 skipped \(finished before\), 0 failed" "$WORK/out"
else
  echo "FAIL [mpi]: mpirun not found (scripts/install-deps installs openmpi-bin)"; FAILS=$((FAILS + 1))
fi

# --- Slurm: the generated array script, run task by task as Slurm would ---
expect_ok slurm "$BIN" sweep "$WORK/tiny.toml" --set train.steps=5 -m seed=0,1,2 --out "$WORK/slurm" --launcher slurm --max-parallel 2
expect_grep slurm-array "^#SBATCH --array=0-2%2$" "$WORK/slurm/sweep.sbatch"
expect_grep slurm-exec "sweep run-job '.*slurm' \"\\\$SLURM_ARRAY_TASK_ID\"" "$WORK/slurm/sweep.sbatch"
for t in 0 1 2; do
  expect_ok "slurm-task-$t" env SLURM_ARRAY_TASK_ID=$t bash "$WORK/slurm/sweep.sbatch"
done
[ "$(ls "$WORK"/slurm/*/results.json | wc -l)" -eq 3 ] && PASSES=$((PASSES + 1)) || { echo "FAIL [slurm-results]"; FAILS=$((FAILS + 1)); }
expect_fail slurm-bad-index "out of range" "$BIN" sweep run-job "$WORK/slurm" 3

# --- Slurm for real: a private single-node cluster (scripts/slurm-local) runs the generated array with sbatch ---
if command -v slurmctld >/dev/null && command -v munged >/dev/null; then
  root=$(cd "$TESTS/.." && pwd)
  expect_ok slurm-real-sweep "$BIN" sweep "$WORK/tiny.toml" --set train.steps=5 -m seed=0,1,2 --out "$WORK/sreal" --launcher slurm
  if "$root/scripts/slurm-local" start "$WORK/cluster" 17817 >"$WORK/cluster.out" 2>&1; then
    export SLURM_CONF=$WORK/cluster/etc/slurm.conf
    jid=$(sbatch --parsable "$WORK/sreal/sweep.sbatch" 2>"$WORK/sbatch.err" || true)
    for i in $(seq 600); do
      [ -n "$jid" ] && squeue -h -j "$jid" 2>/dev/null | grep -q . || break
      sleep 0.2
    done
    "$root/scripts/slurm-local" stop "$WORK/cluster" || true
    unset SLURM_CONF
    if [ -n "$jid" ] && [ "$(ls "$WORK"/sreal/*/results.json 2>/dev/null | wc -l)" -eq 3 ]; then PASSES=$((PASSES + 1)); else
      echo "FAIL [slurm-real]: job '$jid': $(cat "$WORK/sbatch.err")"; ls "$WORK/sreal"; cat "$WORK"/sreal/slurm-*.out 2>/dev/null | tail -5
      FAILS=$((FAILS + 1)); fi
    expect_grep slurm-real-logs "." <(cat "$WORK"/sreal/slurm-*_0.out 2>/dev/null; echo)
  else
    echo "FAIL [slurm-real-start]: $(cat "$WORK/cluster.out")"; FAILS=$((FAILS + 1))
    "$root/scripts/slurm-local" stop "$WORK/cluster" >/dev/null 2>&1 || true
  fi
else
  echo "FAIL [slurm-real]: slurmctld/munged not found (scripts/install-deps installs slurm-wlm and munge)"; FAILS=$((FAILS + 1))
fi

finish
