package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The performance targets of the packages' own Go benchmarks: each is a
// ratio of two benchmarks that ran side by side, or for warm Get a time.
// compare.sh measures them for two revisions, taking turns, and -ratios
// draws the table and the chart from what it wrote.

// ratioTarget is one target. The ratio is num's time over den's: for an
// upper limit, bucketcache's time over its floor's; for a lower limit (a
// speed-up), the slower way's time over the faster one's.
type ratioTarget struct {
	what     string
	num, den string // benchmarks, as package/Name (sub-benchmarks included); den "" for a time
	limit    float64
	atLeast  bool // the ratio must reach limit (a speed-up); else stay within it
}

var ratioTargets = []ratioTarget{
	{"Set 100 B / system-call floor", "store/Put/100B", "store/PutFloor/100B", 1.5, false},
	{"Set 4 KiB / system-call floor", "store/Put/4KiB", "store/PutFloor/4KiB", 1.6, false},
	{"cold Get 100 B / its floor", "store/GetCold/100B", "store/GetColdFloor/100B", 1.2, false},
	{"cold Get 4 KiB / its floor", "store/GetCold/4KiB", "store/GetColdFloor/4KiB", 1.2, false},
	{"warm Get 100 B (ns)", "bucket/GetWarm", "", 300, false},
	{"warm Get 4 KiB / a plain copy", "bucket/GetWarmBytes", "bucket/Copy4KiB", 1.3, false},
	{"Unload+Get 1 MiB / no memory layer", "bucket/UnloadGet1MiB", "bucket/Get1MiBNoMemory", 1.3, false},
	{"Sync 10,000 x 100 B: speed-up over Sets", "deferred/Small10000/Bucket.Set", "deferred/Small10000/Deferred.Sync", 3, true},
	{"Sync 1,000 x 64 KiB: speed-up over Sets", "deferred/Large1000/Bucket.Set", "deferred/Large1000/Deferred.Sync", 1.2, true},
	{"memoized miss / fn+Set", "bucket/MemoMiss", "bucket/MemoMissBaselineFnSet", 1.5, false},
}

// benchRun is the median time per operation (ns) of each benchmark in one
// file of `go test -bench` output, by package/Name.
type benchRun struct {
	label string
	ns    map[string]float64
}

// readBenchRun reads a file of `go test -bench` output, which may hold
// several rounds of several packages; a benchmark's time is the median of
// its rounds.
func readBenchRun(path string) (*benchRun, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	samples, err := parseBench(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	label := strings.TrimPrefix(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), "perf-")
	r := &benchRun{label: label, ns: map[string]float64{}}
	for name, v := range samples {
		r.ns[name] = median(v)
	}
	return r, nil
}

// parseBench collects the ns/op of every benchmark line, by package/Name:
// the package is the last element of the latest "pkg:" line, and the name
// loses its "Benchmark" prefix and its "-GOMAXPROCS" suffix.
func parseBench(r io.Reader) (map[string][]float64, error) {
	samples := map[string][]float64{}
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 2 && fields[0] == "pkg:":
			pkg = fields[1][strings.LastIndex(fields[1], "/")+1:]
		case len(fields) >= 4 && strings.HasPrefix(fields[0], "Benchmark"):
			name := strings.TrimPrefix(fields[0], "Benchmark")
			if i := strings.LastIndex(name, "-"); i > 0 {
				if _, err := strconv.Atoi(name[i+1:]); err == nil {
					name = name[:i]
				}
			}
			for i := 2; i+1 < len(fields); i++ {
				if fields[i+1] == "ns/op" {
					v, err := strconv.ParseFloat(fields[i], 64)
					if err != nil {
						return nil, fmt.Errorf("%q: %w", sc.Text(), err)
					}
					samples[pkg+"/"+name] = append(samples[pkg+"/"+name], v)
				}
			}
		}
	}
	return samples, sc.Err()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is target t's figure in run r, and whether r has both benchmarks.
func (t ratioTarget) ratio(r *benchRun) (float64, bool) {
	num, ok := r.ns[t.num]
	if !ok {
		return 0, false
	}
	if t.den == "" {
		return num, true
	}
	den, ok := r.ns[t.den]
	return num / den, ok && den > 0
}

func (t ratioTarget) met(v float64) bool {
	if t.atLeast {
		return v >= t.limit
	}
	return v <= t.limit
}

func (t ratioTarget) format(v float64) string {
	if t.den == "" {
		return fmt.Sprintf("%.0f ns", v)
	}
	return fmt.Sprintf("%.2fx", v)
}

func (t ratioTarget) limitText() string {
	op := "at most"
	if t.atLeast {
		op = "at least"
	}
	return op + " " + t.format(t.limit)
}

// writeRatios writes the targets' table (perf-targets.md) and chart
// (perf-targets.svg) for the runs, oldest first, into dir.
func writeRatios(runs []*benchRun, dir string) error {
	err := writeFile(filepath.Join(dir, "perf-targets.md"), func(w io.Writer) {
		fmt.Fprintf(w, "| target | limit |")
		for _, r := range runs {
			fmt.Fprintf(w, " %s |", r.label)
		}
		fmt.Fprintf(w, " verdict |\n| --- | --- |")
		for range runs {
			fmt.Fprintf(w, " ---: |")
		}
		fmt.Fprintf(w, " --- |\n")
		for _, t := range ratioTargets {
			fmt.Fprintf(w, "| %s | %s |", t.what, t.limitText())
			last, have := 0.0, false
			for _, r := range runs {
				v, ok := t.ratio(r)
				if !ok {
					fmt.Fprintf(w, " - |")
					continue
				}
				last, have = v, true
				fmt.Fprintf(w, " %s |", t.format(v))
			}
			verdict := "-"
			if have && t.met(last) {
				verdict = "met"
			} else if have {
				verdict = "missed"
			}
			fmt.Fprintf(w, " %s |\n", verdict)
		}
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "perf-targets.svg"), []byte(ratiosChart(runs).String()), 0o666)
}

// ratiosChart draws each ratio target as a row on a log scale: the region
// where the target is met shaded, a dot per run (the oldest grey, the
// newest in bucketcache's colour) joined by a line.
func ratiosChart(runs []*benchRun) *svg {
	const (
		left, right = 300.0, 700.0
		top, rowH   = 58.0, 34.0
		lo, hi      = 0.25, 8.0
	)
	var rows []ratioTarget
	for _, t := range ratioTargets {
		if t.den != "" {
			rows = append(rows, t)
		}
	}
	s := newSVG(800, int(top+rowH*float64(len(rows))+62))
	x := func(v float64) float64 {
		v = math.Min(math.Max(v, lo), hi)
		return left + (right-left)*math.Log(v/lo)/math.Log(hi/lo)
	}
	s.text(10, 20, "start", 14, "#222222", "bold", "Performance targets: each ratio measured side by side in one run")
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.label
	}
	colour := func(i int) string {
		if i == len(runs)-1 {
			return storeColor("bucketcache")
		}
		return "#9a9a9a"
	}
	lx := 10.0
	for i, n := range names {
		s.circle(lx+6, 38, 5, colour(i), n)
		s.text(lx+16, 42, "start", 12, "#222222", "", n)
		lx += 30 + textWidth(n, 12)
	}
	s.rect(lx, 32, 14, 12, "#e3f1df", "")
	s.text(lx+20, 42, "start", 12, "#222222", "", "target met")
	bottom := top + rowH*float64(len(rows))
	for _, v := range []float64{0.25, 0.5, 1, 2, 4, 8} {
		s.line(x(v), top-6, x(v), bottom, "#dddddd", 1, "")
		s.text(x(v), bottom+16, "middle", 11, "#555555", "", strconv.FormatFloat(v, 'g', -1, 64)+"x")
	}
	for i, t := range rows {
		y := top + rowH*float64(i) + rowH/2
		if t.atLeast {
			s.rect(x(t.limit), y-11, right-x(t.limit), 22, "#e3f1df", "")
		} else {
			s.rect(left, y-11, x(t.limit)-left, 22, "#e3f1df", "")
		}
		s.line(x(t.limit), y-11, x(t.limit), y+11, "#2a7a2a", 2, "")
		s.text(left-8, y+4, "end", 12, "#222222", "", t.what)
		var pts [][2]float64
		for _, r := range runs {
			if v, ok := t.ratio(r); ok {
				pts = append(pts, [2]float64{x(v), y})
			}
		}
		if len(pts) > 1 {
			s.polyline(pts, "#bbbbbb", 2)
		}
		last := ""
		for j, r := range runs {
			if v, ok := t.ratio(r); ok {
				s.circle(x(v), y, 5.5, colour(j), fmt.Sprintf("%s: %s", r.label, t.format(v)))
				last = t.format(v)
			}
		}
		s.text(right+10, y+4, "start", 12, "#222222", "", last)
	}
	s.text(10, bottom+36, "start", 11, "#555555", "",
		"Lower is better, except in the two Sync rows (a speed-up). The green tick is the limit, the shaded side meets it.")
	s.text(10, bottom+52, "start", 11, "#555555", "",
		"The warm Get of 100 B, a time rather than a ratio, is in the table only.")
	return s
}
