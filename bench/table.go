package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// table is a grid of cells printed as aligned text or as Markdown.
type table struct {
	head  []string
	right []bool // right-align column
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) text(w io.Writer) {
	width := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i > 0 {
				b.WriteString("  ")
			}
			if t.right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.head)
	for _, r := range t.rows {
		line(r)
	}
}

func (t *table) markdown(w io.Writer) {
	fmt.Fprintln(w, "| "+strings.Join(t.head, " | ")+" |")
	var sep []string
	for _, r := range t.right {
		if r {
			sep = append(sep, "---:")
		} else {
			sep = append(sep, "---")
		}
	}
	fmt.Fprintln(w, "| "+strings.Join(sep, " | ")+" |")
	for _, r := range t.rows {
		fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
	}
}

// opOrder is the order of rows within a setting.
var opOrder = []string{opSet, opCold, opWarm, opMiss, opMemo, opBatch, opRSS}

var opTitle = map[string]string{
	opSet: "Set", opCold: "cold Get", opWarm: "warm Get", opMiss: "miss",
	opMemo: "memoized hit", opBatch: "batch", opRSS: "memory",
}

// sortRows orders rows by setting, op, processes and store.
func sortRows(rows []*row) {
	slices.SortStableFunc(rows, func(a, b *row) int {
		for _, d := range []int{
			a.Keys - b.Keys, a.ValueSize - b.ValueSize,
			slices.Index(opOrder, a.Op) - slices.Index(opOrder, b.Op),
			a.Procs - b.Procs,
			slices.Index(storeOrder, a.Store) - slices.Index(storeOrder, b.Store),
		} {
			if d != 0 {
				return d
			}
		}
		return 0
	})
}

// peer finds the row of store that ran the same op in the same setting.
func peer(rows []*row, r *row, store string) *row {
	for _, p := range rows {
		if p.Store == store && p.Op == r.Op && p.Keys == r.Keys && p.ValueSize == r.ValueSize && p.Procs == r.Procs {
			return p
		}
	}
	return nil
}

// ratio is the time per entry of r relative to the reference row ref:
// 2.00 means r takes twice as long as ref.
func ratio(ref, r *row) string {
	if ref == nil || !ref.ok() || !r.ok() {
		return "-"
	}
	return fmt.Sprintf("%.2f", ref.Rate/r.Rate)
}

// status is the note or error of a row without figures.
func status(r *row) string {
	if r.Err != "" {
		return "ERROR: " + firstLine(r.Err)
	}
	return r.Note
}

// opTables returns one table per setting (keys, value size) of the
// per-operation rows, with the setting's title.
func opTables(rows []*row) (titles []string, tables []*table) {
	var cur *table
	var key string
	for _, r := range rows {
		if r.Op == opBatch || r.Op == opRSS {
			continue
		}
		if k := fmt.Sprintf("%d/%d", r.Keys, r.ValueSize); k != key || cur == nil {
			key = k
			cur = &table{
				head:  []string{"op", "procs", "store", "ops/s", "p50", "p99", "x floor", "x bucketcache", "note"},
				right: []bool{false, true, false, true, true, true, true, true, false},
			}
			titles = append(titles, fmt.Sprintf("%s keys, %s values", count(r.Keys), sizeName(r.ValueSize)))
			tables = append(tables, cur)
		}
		if !r.ok() {
			cur.add(opTitle[r.Op], fmt.Sprint(r.Procs), r.Store, "", "", "", "", "", status(r))
			continue
		}
		cur.add(opTitle[r.Op], fmt.Sprint(r.Procs), r.Store, rate(r.Rate), dur(r.P50), dur(r.P99),
			ratio(peer(rows, r, "floor"), r), ratio(peer(rows, r, "bucketcache"), r), "")
	}
	return titles, tables
}

// headlineTable compares bucketcache with every other store in one
// process, by median latency: for each operation, the other store's p50
// over bucketcache's at each value size (listed in sizes), so that above 1
// bucketcache is faster.
func headlineTable(rows []*row, keys int) (t *table, sizes string) {
	var ss []string
	var sizeList []int
	for _, size := range distinct(rows, func(r *row) int { return r.ValueSize }) {
		sizeList = append(sizeList, size)
		ss = append(ss, sizeName(size))
	}
	t = &table{head: []string{"store"}, right: []bool{false}}
	var ops []string
	for _, op := range chartOps {
		if slices.ContainsFunc(rows, func(r *row) bool { return r.Op == op && r.Keys == keys && r.Store == "bucketcache" && r.ok() }) {
			ops = append(ops, op)
			t.head, t.right = append(t.head, opTitle[op]), append(t.right, true)
		}
	}
	for _, store := range storesOf(rows) {
		if store == "bucketcache" {
			continue
		}
		cells := []string{store}
		any := false
		for _, op := range ops {
			var parts []string
			for _, size := range sizeList {
				q := &row{Op: op, Keys: keys, ValueSize: size, Procs: 1}
				bc, other := peer(rows, q, "bucketcache"), peer(rows, q, store)
				if bc == nil || other == nil || !bc.ok() || !other.ok() || bc.P50 <= 0 {
					parts = append(parts, "-")
					continue
				}
				any = true
				parts = append(parts, ratioText(float64(other.P50)/float64(bc.P50)))
			}
			cells = append(cells, strings.Join(parts, " / "))
		}
		if any {
			t.add(cells...)
		}
	}
	return t, strings.Join(ss, " / ")
}

// ratioText writes a ratio with two significant digits, or whole above 10.
func ratioText(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// batchTable has the batch rows.
func batchTable(rows []*row) *table {
	t := &table{
		head:  []string{"value", "store", "entries/batch", "entries/s", "batch p50", "batch p99", "x floor", "x bucketcache", "note"},
		right: []bool{true, false, true, true, true, true, true, true, false},
	}
	for _, r := range rows {
		if r.Op != opBatch {
			continue
		}
		if !r.ok() {
			t.add(sizeName(r.ValueSize), r.Store, count(r.Keys), "", "", "", "", "", status(r))
			continue
		}
		t.add(sizeName(r.ValueSize), r.Store, count(r.Keys), rate(r.Rate), dur(r.P50), dur(r.P99),
			ratio(peer(rows, r, "floor"), r), ratio(peer(rows, r, "bucketcache"), r), batchNote[r.Store])
	}
	return t
}

var batchNote = map[string]string{
	"bucketcache": "deferred.Bucket: Sets kept in memory, then Sync (timed)",
	"floor":       "one temp file + rename each",
	"diskv":       "no batch API: one Write each",
	"bbolt":       "one Update transaction",
	"badger":      "one WriteBatch",
	"diskcache":   "one transact() block",
}

// rssTable has the memory rows.
func rssTable(rows []*row) *table {
	t := &table{
		head:  []string{"store", "entries", "reads", "RSS before open", "peak RSS after", "added", "note"},
		right: []bool{false, true, true, true, true, true, false},
	}
	for _, r := range rows {
		if r.Op != opRSS {
			continue
		}
		if r.Err != "" || r.Note != "" || r.RSSPeak == 0 {
			t.add(r.Store, count(r.Keys), "", "", "", "", status(r))
			continue
		}
		t.add(r.Store, count(r.Keys), count(r.Items), mib(r.RSSBase), mib(r.RSSPeak), mib(r.RSSDelta()), "")
	}
	return t
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// progressLine is one line of progress for a finished row.
func progressLine(r *row) string {
	head := fmt.Sprintf("%-12s %-13s %s keys, %s, %d procs:", r.Store, opTitle[r.Op], count(r.Keys), sizeName(r.ValueSize), r.Procs)
	switch {
	case r.Op == opRSS && r.Err == "" && r.Note == "":
		return fmt.Sprintf("%s %s added (%s -> %s)", head, mib(r.RSSDelta()), mib(r.RSSBase), mib(r.RSSPeak))
	case !r.ok():
		return head + " " + status(r)
	}
	return fmt.Sprintf("%s %s/s p50 %s p99 %s", head, rate(r.Rate), dur(r.P50), dur(r.P99))
}

// count writes n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func rate(r float64) string { return count(int(r + 0.5)) }

// dur writes a latency with three significant digits.
func dur(d time.Duration) string {
	us := float64(d) / 1e3
	switch {
	case us < 10:
		return fmt.Sprintf("%.2f us", us)
	case us < 100:
		return fmt.Sprintf("%.1f us", us)
	case us < 10000:
		return fmt.Sprintf("%.0f us", us)
	case us < 100000:
		return fmt.Sprintf("%.1f ms", us/1e3)
	}
	return fmt.Sprintf("%.0f ms", us/1e3)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// sizeName writes a value size as the issue does: 100 B, 4 KiB, 1 MiB.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func bytesName(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}
