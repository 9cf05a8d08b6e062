#!/usr/bin/env bash
# compare.sh measures the performance targets of docs/benchmarks.md for two
# revisions side by side, and draws their table and chart.
#
#   bench/compare.sh BEFORE [AFTER]      (AFTER defaults to HEAD)
#
# It builds the test binaries of internal/store, bucket and deferred at each
# revision, with AFTER's benchmark files in both trees (so that both run the
# same benchmarks), then runs them taking turns, ROUNDS times (default 5),
# with the buckets in BENCH_DIR (default /dev/shm, a tmpfs). It writes the
# raw `go test -bench` output to bench/results/perf-before.txt and
# perf-after.txt, then perf-targets.md and perf-targets.svg beside them.
# Run it on an otherwise idle machine: the two sides share whatever noise
# there is, but a busy machine makes every ratio noisier.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: bench/compare.sh BEFORE [AFTER]" >&2
	exit 2
fi
root=$(git rev-parse --show-toplevel)
before=$(git -C "$root" rev-parse --verify "$1^{commit}")
after=$(git -C "$root" rev-parse --verify "${2:-HEAD}^{commit}")
rounds=${ROUNDS:-5}
dir=${BENCH_DIR:-/dev/shm}
results=$root/bench/results

work=$(mktemp -d)
cleanup() {
	for side in before after; do
		git -C "$root" worktree remove --force "$work/$side" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

benchfiles="bucket/bench_test.go bucket/memoize_bench_test.go internal/store/bench_test.go deferred/bench_test.go"
for side in before after; do
	rev=$before
	[ "$side" = after ] && rev=$after
	git -C "$root" worktree add --quiet --detach "$work/$side" "$rev"
done
for f in $benchfiles; do
	cp "$work/after/$f" "$work/before/$f"
done
for side in before after; do
	mkdir -p "$work/bin-$side"
	for pkg in internal/store bucket deferred; do
		(cd "$work/$side" && go test -c -o "$work/bin-$side/$(basename $pkg).test" "./$pkg")
	done
done

# run SIDE BINARY REGEXP BENCHTIME: one benchmark run, appended to SIDE's file.
run() {
	(cd "$dir" && TMPDIR=$dir "$work/bin-$1/$2" -test.run '^$' -test.bench "$3" -test.benchtime "$4" -test.benchmem) \
		>>"$work/perf-$1.txt"
}
for round in $(seq "$rounds"); do
	echo "round $round of $rounds" >&2
	for side in before after; do
		run "$side" store.test '^Benchmark(Put|PutFloor|GetCold|GetColdFloor)$' 0.5s
		run "$side" bucket.test '^Benchmark(GetWarm|GetWarmBytes|Copy4KiB|UnloadGet1MiB|Get1MiBNoMemory|MemoMiss|MemoMissBaselineFnSet)$' 0.5s
		run "$side" deferred.test '^BenchmarkSmall10000$' 5x
		run "$side" deferred.test '^BenchmarkLarge1000$' 30x
	done
done
mkdir -p "$results"
for side in before after; do
	{
		echo "# $side: $(git -C "$root" log -1 --format='%h %s' "$([ $side = before ] && echo "$before" || echo "$after")")"
		cat "$work/perf-$side.txt"
	} >"$results/perf-$side.txt"
done
cd "$root/bench"
go run . -ratios results/perf-before.txt,results/perf-after.txt
cat results/perf-targets.md
