#!/bin/bash
# Instructions per event of one source through the workers' path (exact and repeatable, whatever
# else the machine runs: valgrind's callgrind counts instructions, not seconds).
#
#   bench/icount.sh FILE FORMAT [parse|full]
#
# Steady state: three passes minus one, over the file's lines (5,000 lines take about 40 s).
# Example: head -5000 of each file `python -m bench.timeline` generates, e.g.
#   bench/icount.sh /tmp/sample/tools.jsonl jsonl
set -euo pipefail
file=$1 fmt=$2 mode=${3:-full}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
lines=$(wc -l < "$file")
count() {
    (cd "$here" && valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$python" -m bench.timeline_source "$file" "$fmt" "$1" "$mode" 2>&1 | sed -n 's/.*Collected : //p')
}
one=$(count 1)
three=$(count 3)
echo "$(basename "$file") $mode: $(( (three - one) / 2 / lines )) instructions/event"
