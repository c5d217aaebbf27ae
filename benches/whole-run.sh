#!/usr/bin/env bash
# Whole-run benchmark of `mapc run` against its floor, a plain serde_json
# round trip of the same events (examples/roundtrip.rs); DESIGN.md,
# "Performance".
#
#   benches/whole-run.sh [--count N | N]   time both on N events (default 200000)
#   benches/whole-run.sh --memory          peak RSS of mapc on 100k and 1M events
#
# Each program runs 3 times on the same file; the best wall time is kept,
# and, from /usr/bin/time when present, the least CPU time (user + system)
# and the largest peak RSS. On a busy machine trust the CPU-time ratio.
# mapc runs with its default thread count and again with --threads 1 (the
# round trip is single-threaded). mapc's exit status 1 (some events
# rejected) is expected and does not stop the script.
#
# Environment: MAPC_MAP, MAPC_SETTINGS (mapping and settings files),
# MAPC_GEN_EVENTS (the generator script), MAPC_RUNS (runs per program).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

count=200000
mode=speed
while [[ $# -gt 0 ]]; do
    case $1 in
        --count) count=${2:?--count needs a number}; shift 2 ;;
        --count=*) count=${1#--count=}; shift ;;
        --memory) mode=memory; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
        [0-9]*) count=$1; shift ;;
        *) echo "whole-run.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ $count =~ ^[0-9]+$ && $count -gt 0 ]] || { echo "whole-run.sh: bad count: $count" >&2; exit 2; }

map=${MAPC_MAP:-mappings/amplitude.map}
settings=${MAPC_SETTINGS:-examples/settings.yaml}
gen=${MAPC_GEN_EVENTS:-$root/../shared/bench/gen_events.py}
runs=${MAPC_RUNS:-3}
for f in "$map" "$settings" "$gen"; do
    [[ -f $f ]] || { echo "whole-run.sh: missing $f" >&2; exit 2; }
done

# Peak RSS comes from GNU time; without it the script still times.
timer=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
    timer=/usr/bin/time
else
    echo "note: /usr/bin/time (GNU time) not found: no peak RSS (apt-get install time)" >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mapc-whole-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== building (release)" >&2
cargo build --release --quiet --bin mapc --example roundtrip
mapc_bin=$root/target/release/mapc
rt_bin=$root/target/release/examples/roundtrip

now() { date +%s.%N; }

# run_once OUT_RSS_FILE CMD... : runs CMD with stdout to /dev/null and
# stderr to $tmp/stderr; prints the wall seconds; tolerates exit 0 and 1.
run_once() {
    local rss_file=$1; shift
    local t0 t1 rc=0
    t0=$(now)
    if [[ -n $timer ]]; then
        "$timer" -f '%M %U %S' -o "$rss_file" "$@" >/dev/null 2>"$tmp/stderr" || rc=$?
    else
        "$@" >/dev/null 2>"$tmp/stderr" || rc=$?
    fi
    t1=$(now)
    if [[ $rc -gt 1 ]]; then
        echo "whole-run.sh: '$*' failed with status $rc:" >&2
        tail -5 "$tmp/stderr" >&2
        exit 1
    fi
    echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}

# Reads the peak RSS (KiB) that GNU time wrote (its last line), or "".
rss_of() { [[ -s $1 ]] && tail -n 1 "$1" | awk '{print $1}' || echo ""; }
# Reads the CPU seconds (user + system) that GNU time wrote, or "".
cpu_of() { [[ -s $1 ]] && tail -n 1 "$1" | awk '{printf "%.2f", $2 + $3}' || echo ""; }

# measure NAME CMD... : best of $runs; sets best_s (wall), best_cpu (CPU
# seconds, user + system, the least of the runs: less disturbed than wall
# time on a busy machine) and peak_kib (the largest peak RSS).
measure() {
    local name=$1; shift
    local i s rss cpu
    best_s=; best_cpu=; peak_kib=
    for ((i = 1; i <= runs; i++)); do
        s=$(run_once "$tmp/rss" "$@")
        rss=$(rss_of "$tmp/rss")
        cpu=$(cpu_of "$tmp/rss")
        echo "   $name run $i: ${s}s wall${cpu:+, ${cpu}s CPU}${rss:+, peak RSS ${rss} KiB}" >&2
        if [[ -z $best_s ]] || awk -v a="$s" -v b="$best_s" 'BEGIN{exit !(a < b)}'; then
            best_s=$s
        fi
        if [[ -n $cpu ]] && { [[ -z $best_cpu ]] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN{exit !(a < b)}'; }; then
            best_cpu=$cpu
        fi
        if [[ -n $rss ]] && { [[ -z $peak_kib ]] || ((rss > peak_kib)); }; then
            peak_kib=$rss
        fi
    done
}

mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN{printf "%.1f MiB", k / 1024}' || echo "n/a"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}'; }

mapc_cmd=("$mapc_bin" run --map "$map" --settings "$settings")

if [[ $mode == memory ]]; then
    # Flat-memory check: peak RSS must not grow with the input length.
    [[ -n $timer ]] || { echo "whole-run.sh: --memory needs GNU time (apt-get install time)" >&2; exit 2; }
    declare -A rss_at
    for n in 100000 1000000; do
        file=$tmp/events-$n.ndjson
        echo "== generating $n events" >&2
        python3 "$gen" --count "$n" --seed 1 >"$file"
        echo "== mapc run on $n events ($(du -h "$file" | cut -f1))" >&2
        s=$(run_once "$tmp/rss" "${mapc_cmd[@]}" --stats "$file")
        rss_at[$n]=$(rss_of "$tmp/rss")
        echo "mapc $n events: ${s}s, $(rate "$n" "$s") events/s, peak RSS $(mib "${rss_at[$n]}") (${rss_at[$n]} KiB)"
        echo "  stats: $(grep -E '^read [0-9]+' "$tmp/stderr" | tail -n 1)"
        rm -f "$file"
    done
    echo "peak RSS 1M / 100k: $(ratio "${rss_at[1000000]}" "${rss_at[100000]}") (flat memory: close to 1.00)"
    exit 0
fi

file=$tmp/events.ndjson
echo "== generating $count events (seed 1)" >&2
python3 "$gen" --count "$count" --seed 1 >"$file"
bytes=$(stat -c %s "$file")
mb=$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b / 1e6}')

# Warm the page cache so the first timed run reads from memory too.
cat "$file" >/dev/null

echo "== roundtrip (serde_json parse + write)" >&2
measure roundtrip "$rt_bin" "$file"
rt_s=$best_s rt_cpu=$best_cpu rt_kib=$peak_kib

echo "== mapc run (default threads)" >&2
measure mapc "${mapc_cmd[@]}" --stats "$file"
mapc_s=$best_s mapc_cpu=$best_cpu mapc_kib=$peak_kib
stats=$(grep -E '^read [0-9]+' "$tmp/stderr" | tail -n 1 || true)
rejected_lines=$(grep -c 'rejected:' "$tmp/stderr" || true)

echo "== mapc run --threads 1" >&2
measure "mapc -j1" "${mapc_cmd[@]}" --threads 1 "$file"
mapc1_s=$best_s mapc1_cpu=$best_cpu mapc1_kib=$peak_kib

row() { # NAME WALL CPU KIB
    printf '%-22s %8ss %10s events/s %8s MB/s   CPU %6ss   peak RSS %s\n' \
        "$1" "$2" "$(rate "$count" "$2")" "$(ratio "$mb" "$2")" "${3:-n/a}" "$(mib "$4")"
}
echo
echo "events: $count ($mb MB, seed 1); best of $runs runs each; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
row roundtrip "$rt_s" "$rt_cpu" "$rt_kib"
row "mapc run" "$mapc_s" "$mapc_cpu" "$mapc_kib"
row "mapc run --threads 1" "$mapc1_s" "$mapc1_cpu" "$mapc1_kib"
echo "ratio mapc/roundtrip (wall): $(ratio "$mapc_s" "$rt_s") (default threads), $(ratio "$mapc1_s" "$rt_s") (--threads 1); target <= 1.5"
if [[ -n $rt_cpu ]]; then
    echo "ratio mapc/roundtrip (CPU):  $(ratio "$mapc_cpu" "$rt_cpu") (default threads), $(ratio "$mapc1_cpu" "$rt_cpu") (--threads 1)"
fi
echo "mapc --stats: ${stats:-(none printed)}; rejection lines on stderr: ${rejected_lines:-0}"
