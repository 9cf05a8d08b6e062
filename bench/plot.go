package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// chartOps are the operations the latency charts show, in order.
var chartOps = []string{opSet, opCold, opWarm, opMiss, opMemo}

// throughputOps are the operations the throughput chart shows: the ones
// where processes contend for the same files.
var throughputOps = []string{opSet, opCold}

// chart is one SVG file of a report.
type chart struct {
	file, alt string
	svg       *svg
}

// charts draws every chart the rows have data for: p50 latency per
// operation and store, one per key count and value size, and throughput
// against processes, one per key count.
func charts(rows []*row) []chart {
	var out []chart
	for _, keys := range distinct(rows, func(r *row) int { return r.Keys }) {
		for _, size := range distinct(rows, func(r *row) int { return r.ValueSize }) {
			if s := latencyChart(rows, keys, size); s != nil {
				out = append(out, chart{
					file: fmt.Sprintf("latency-%s-keys-%s.svg", countName(keys), strings.ReplaceAll(sizeName(size), " ", "")),
					alt:  fmt.Sprintf("p50 latency per operation, %s keys of %s, 1 process", count(keys), sizeName(size)),
					svg:  s,
				})
			}
		}
		if s := throughputChart(rows, keys); s != nil {
			out = append(out, chart{
				file: fmt.Sprintf("throughput-%s-keys.svg", countName(keys)),
				alt:  fmt.Sprintf("throughput against processes, %s keys", count(keys)),
				svg:  s,
			})
		}
	}
	return out
}

// countName writes a key count for a file name: 1000, 1M.
func countName(n int) string {
	if n >= 1e6 && n%1e6 == 0 {
		return fmt.Sprintf("%dM", n/1e6)
	}
	return fmt.Sprint(n)
}

// distinct lists the values of f over rows that have figures, in order.
func distinct(rows []*row, f func(*row) int) []int {
	var out []int
	for _, r := range rows {
		if r.Op == opBatch || r.Op == opRSS {
			continue
		}
		if v := f(r); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// storesOf lists the stores that have rows among rows, in table order.
func storesOf(rows []*row) []string {
	var out []string
	for _, name := range storeOrder {
		if slices.ContainsFunc(rows, func(r *row) bool { return r.Store == name }) {
			out = append(out, name)
		}
	}
	for _, r := range rows { // stores the harness no longer knows, last
		if !slices.Contains(out, r.Store) {
			out = append(out, r.Store)
		}
	}
	return out
}

// latencyChart draws, for one key count and value size, the p50 latency of
// each operation for each store in one process, as horizontal bars on a
// log scale. It returns nil when no row has figures.
func latencyChart(all []*row, keys, size int) *svg {
	var rows []*row
	for _, r := range all {
		if r.Keys == keys && r.ValueSize == size && r.Procs == 1 && slices.Contains(chartOps, r.Op) {
			rows = append(rows, r)
		}
	}
	lo, hi := math.Inf(1), 0.0
	for _, r := range rows {
		if r.ok() && r.P50 > 0 {
			lo, hi = min(lo, float64(r.P50)), max(hi, float64(r.P50))
		}
	}
	if hi == 0 {
		return nil
	}
	stores := storesOf(rows)
	var ops []string
	for _, op := range chartOps {
		if slices.ContainsFunc(rows, func(r *row) bool { return r.Op == op }) {
			ops = append(ops, op)
		}
	}

	const (
		width, left, right = 800, 118, 84
		barH, barGap, pad  = 13.0, 3.0, 10.0
	)
	// A group has a bar for each store with a row for its operation.
	groupStores := func(op string) []string {
		var out []string
		for _, store := range stores {
			if peer(rows, &row{Op: op, Keys: keys, ValueSize: size, Procs: 1}, store) != nil {
				out = append(out, store)
			}
		}
		return out
	}
	groupH := func(op string) float64 { return float64(len(groupStores(op)))*(barH+barGap) - barGap + 2*pad }
	s := newSVG(width, 0) // height set below
	s.text(16, 26, "start", 16, "#111111", "bold", fmt.Sprintf("p50 latency per operation: %s keys of %s, 1 process", count(keys), sizeName(size)))
	s.text(16, 45, "start", 12, "#555555", "", "median time of one call; log scale, shorter is faster")
	top := s.legend(16, 68, stores) + 4
	x := newLogScale(lo, hi, left, width-right)
	bottom := top
	for i, op := range ops { // alternate group backgrounds
		if i%2 == 0 {
			s.rect(0, bottom, width, groupH(op), "#f4f6f8", "")
		}
		bottom += groupH(op)
	}
	for _, d := range x.decades() {
		for _, m := range []float64{2, 5} {
			if v := d * m; v < x.hi {
				s.line(x.at(v), top, x.at(v), bottom, "#e4e4e4", 1, "")
			}
		}
		s.line(x.at(d), top, x.at(d), bottom+4, "#b8b8b8", 1, "")
		s.text(x.at(d), bottom+18, "middle", 12, "#333333", "", decadeLabel(d))
	}
	s.line(left, bottom, width-right, bottom, "#888888", 1, "")
	g := top
	for _, op := range ops {
		s.text(left-10, g+groupH(op)/2+4, "end", 13, "#111111", "bold", opTitle[op])
		for j, store := range groupStores(op) {
			y := g + pad + float64(j)*(barH+barGap)
			r := peer(rows, &row{Op: op, Keys: keys, ValueSize: size, Procs: 1}, store)
			switch {
			case r == nil:
			case !r.ok() || r.P50 <= 0:
				s.text(left+4, y+barH-2, "start", 11, "#777777", "", store+": "+shortNote(r))
			default:
				end := x.at(float64(r.P50))
				tip := fmt.Sprintf("%s, %s: p50 %s, p99 %s, %s ops/s", store, opTitle[op], durLabel(float64(r.P50)), durLabel(float64(r.P99)), rate(r.Rate))
				s.rect(left, y, max(end-left, 1), barH, storeColor(store), tip)
				s.text(end+4, y+barH-2, "start", 11, "#222222", "", durLabel(float64(r.P50)))
			}
		}
		g += groupH(op)
	}
	s.h = int(bottom + 30)
	return s
}

// shortNote is what a chart says of a row without figures.
func shortNote(r *row) string {
	if r.Err != "" {
		return "failed"
	}
	if n, _, ok := strings.Cut(r.Note, ":"); ok {
		return n
	}
	return r.Note
}

// throughputChart draws, for one key count, the throughput of Set and cold
// Get against the number of processes sharing the store: one panel per
// operation and value size, one line per store that several processes can
// share. It returns nil when no store ran with more than one process.
func throughputChart(all []*row, keys int) *svg {
	var rows []*row
	for _, r := range all {
		if r.Keys == keys && slices.Contains(throughputOps, r.Op) {
			rows = append(rows, r)
		}
	}
	var shared []string // stores with rows of several processes
	for _, store := range storesOf(rows) {
		if slices.ContainsFunc(rows, func(r *row) bool { return r.Store == store && r.Procs > 1 }) {
			shared = append(shared, store)
		}
	}
	if len(shared) == 0 {
		return nil
	}
	procs := distinct(rows, func(r *row) int { return r.Procs })
	sizes := distinct(rows, func(r *row) int { return r.ValueSize })
	var ops []string
	for _, op := range throughputOps {
		if slices.ContainsFunc(rows, func(r *row) bool { return r.Op == op }) {
			ops = append(ops, op)
		}
	}

	const (
		pw, ph       = 236.0, 170.0 // a panel
		pl, pt, gapX = 52.0, 26.0, 20.0
		gapY         = 52.0
	)
	title := fmt.Sprintf("Throughput against processes sharing one store: %s keys", count(keys))
	width := max(16+float64(len(sizes))*(pl+pw+gapX), textWidth(title, 16)+40)
	s := newSVG(int(width), 0)
	s.text(16, 26, "start", 16, "#111111", "bold", title)
	s.text(16, 45, "start", 12, "#555555", "", "operations per second of all processes together; higher is better")
	top := s.legend(16, 68, shared) + 4
	for i, op := range ops {
		for j, size := range sizes {
			x0 := 16 + float64(j)*(pl+pw+gapX) + pl
			y0 := top + float64(i)*(pt+ph+gapY) + pt
			s.text(x0, y0-10, "start", 13, "#111111", "bold", fmt.Sprintf("%s, %s", opTitle[op], sizeName(size)))
			peak := 0.0
			for _, r := range rows {
				if r.Op == op && r.ValueSize == size && r.ok() && slices.Contains(shared, r.Store) {
					peak = max(peak, r.Rate)
				}
			}
			yMax, step := niceMax(peak)
			y := func(v float64) float64 { return y0 + ph - v/yMax*ph }
			for v := 0.0; v <= yMax*(1+1e-9); v += step {
				s.line(x0, y(v), x0+pw, y(v), map[bool]string{true: "#888888", false: "#e4e4e4"}[v == 0], 1, "")
				s.text(x0-6, y(v)+4, "end", 11, "#333333", "", siCount(v))
			}
			xAt := func(k int) float64 { return x0 + 18 + float64(k)*(pw-36)/float64(max(len(procs)-1, 1)) }
			for k, p := range procs {
				s.text(xAt(k), y0+ph+16, "middle", 11, "#333333", "", fmt.Sprint(p))
			}
			s.text(x0+pw/2, y0+ph+32, "middle", 11, "#555555", "", "processes")
			for _, store := range shared {
				var pts [][2]float64
				var tips []string
				for k, p := range procs {
					r := peer(rows, &row{Op: op, Keys: keys, ValueSize: size, Procs: p}, store)
					if r == nil || !r.ok() {
						continue
					}
					pts = append(pts, [2]float64{xAt(k), y(r.Rate)})
					tips = append(tips, fmt.Sprintf("%s, %s, %s, %s: %s ops/s, p50 %s", store, opTitle[op], sizeName(size), procsName(p), rate(r.Rate), durLabel(float64(r.P50))))
				}
				wide := 2.0
				if store == "bucketcache" {
					wide = 3
				}
				s.polyline(pts, storeColor(store), wide)
				for k, pt := range pts {
					s.circle(pt[0], pt[1], 3.5, storeColor(store), tips[k])
				}
			}
		}
	}
	s.h = int(top + float64(len(ops))*(pt+ph+gapY) + 4)
	return s
}

// render writes the report of res into dir: the charts as SVG files and
// README.md, which shows them above the full tables.
func (res *results) render(dir string) error {
	cs := charts(res.Rows)
	for _, c := range cs {
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(c.svg.String()), 0o666); err != nil {
			return err
		}
	}
	return writeFile(filepath.Join(dir, "README.md"), func(w io.Writer) {
		fmt.Fprintln(w, "# Benchmark results")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "The data of one run of the harness (results.json) and what it draws from it.")
		fmt.Fprintln(w, "Generated: to draw again after a change to the report, run `go run . -plot results/results.json` in `bench/`.")
		fmt.Fprintln(w)
		for _, c := range cs {
			fmt.Fprintf(w, "![%s](%s)\n\n", c.alt, c.file)
		}
		res.markdown(w)
	})
}

// procsName writes a number of processes: 1 process, 8 processes.
func procsName(n int) string {
	if n == 1 {
		return "1 process"
	}
	return fmt.Sprintf("%d processes", n)
}
