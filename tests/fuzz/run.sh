#!/usr/bin/env bash
# Runs tradedeck's fuzz targets under AFL++ (cargo-afl), each from its seed corpus in
# corpus/TARGET, and fails when any finds a crash or a hang.
#
#   tests/fuzz/run.sh --seconds 3                  # every target, 3 s each (what CI runs)
#   tests/fuzz/run.sh --execs 10000000 config news # the long run: about 10M inputs each
#
# Findings land in tests/fuzz/out/TARGET/default/{crashes,hangs}; replay one with
#   TRADEDECK_FUZZ_REPLAY=1 tests/fuzz/target/release/tradedeck-fuzz TARGET < FILE
# Installs cargo-afl (and builds AFL++) when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
limit=(-V 3)
case "${1:-}" in
  --seconds) limit=(-V "$2"); shift 2 ;;
  --execs) limit=(-E "$2"); shift 2 ;;
esac
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(binance_ws binance_rest gate_ws gate_rest kucoin_ws kucoin_rest control config candles_csv llm_answer news strategy_script)
fi
if ! cargo afl --version >/dev/null 2>&1; then
  cargo install cargo-afl --locked --version 0.18.2
fi
cargo afl config --build >/dev/null 2>&1 || true
cargo afl build --release --locked
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CRASHES=1
found=0
mkdir -p out
# where cargo put the binary (a CARGO_TARGET_DIR set outside applies here too)
fuzzer="${CARGO_TARGET_DIR:-target}/release/tradedeck-fuzz"
for t in "${targets[@]}"; do
  rm -rf "out/$t"
  started=$(date +%s)
  cargo afl fuzz -i "corpus/$t" -o "out/$t" "${limit[@]}" "$fuzzer" "$t" >"out/$t.log" 2>&1 || {
    echo "$t: AFL++ failed to run (out/$t.log):"; tail -5 "out/$t.log"; exit 1; }
  stats="out/$t/default/fuzzer_stats"
  get() { awk -v k="$1" '$1 == k { print $3 }' "$stats"; }
  crashes=$(get saved_crashes) hangs=$(get saved_hangs)
  echo "fuzz $t: $(get execs_done) inputs in $(( $(date +%s) - started )) s ($(get execs_per_sec)/s), corpus $(get corpus_count), crashes $crashes, hangs $hangs"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    found=1
    ls "out/$t/default/crashes" "out/$t/default/hangs"
  fi
done
exit $found
