//go:build linux

package stress

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A history is every operation that writers and readers made on keys shared
// by all of them, each with the interval [start, end] of the machine's
// monotonic clock in which it ran: start read before the call, end after it
// returned. Whatever order the operations took effect in must respect these
// intervals: an operation that ended before another started took effect
// first. So a read is wrong if the value it returned was replaced by a write
// or delete that began after that value's write ended and ended before the
// read began (a stale read, from memory or disk), or if no write ever made
// it. The final state must come from an operation that no other one
// strictly follows. These are necessary conditions for linearizability of
// each key, checked exactly; they catch lost writes, stale memory, torn
// renames and resurrected deletes.

// hop is one operation of a history.
type hop struct {
	kind       byte   // 'W' write, 'D' delete, 'R' read (value or absent), 'P' present (Contains true)
	writer     string // W, and R of a value
	seq        uint64 // W, and R of a value
	absent     bool   // R found nothing
	start, end int64
}

func (o hop) String() string {
	switch {
	case o.kind == 'W' || (o.kind == 'R' && !o.absent):
		return fmt.Sprintf("%c %s#%d [%d,%d]", o.kind, o.writer, o.seq, o.start, o.end)
	case o.kind == 'R':
		return fmt.Sprintf("R absent [%d,%d]", o.start, o.end)
	}
	return fmt.Sprintf("%c [%d,%d]", o.kind, o.start, o.end)
}

// histories maps each key to its operations.
type histories map[string][]hop

// writeHop appends one operation on key to a history log.
func writeHop(w *bufio.Writer, key string, o hop) {
	switch o.kind {
	case 'W':
		fmt.Fprintf(w, "W %s %s %d %d %d\n", key, o.writer, o.seq, o.start, o.end)
	case 'R':
		if o.absent {
			fmt.Fprintf(w, "R %s - 0 %d %d\n", key, o.start, o.end)
		} else {
			fmt.Fprintf(w, "R %s %s %d %d %d\n", key, o.writer, o.seq, o.start, o.end)
		}
	default:
		fmt.Fprintf(w, "%c %s %d %d\n", o.kind, key, o.start, o.end)
	}
}

// readHistory adds a history log's operations to h.
func (h histories) readHistory(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fs := strings.Fields(sc.Text())
		bad := func() error { return fmt.Errorf("%s:%d: malformed %q", path, n, sc.Text()) }
		if len(fs) < 4 || len(fs[0]) != 1 {
			return bad()
		}
		o := hop{kind: fs[0][0]}
		nums := fs[2:]
		switch o.kind {
		case 'W', 'R':
			if len(fs) != 6 {
				return bad()
			}
			o.writer, nums = fs[2], fs[3:]
			if o.kind == 'R' && o.writer == "-" {
				o.absent, o.writer = true, ""
			}
			if o.seq, err = strconv.ParseUint(nums[0], 10, 64); err != nil {
				return bad()
			}
			nums = nums[1:]
		case 'D', 'P':
			if len(fs) != 4 {
				return bad()
			}
		default:
			return bad()
		}
		if o.start, err = strconv.ParseInt(nums[0], 10, 64); err != nil {
			return bad()
		}
		if o.end, err = strconv.ParseInt(nums[1], 10, 64); err != nil || o.end < o.start {
			return bad()
		}
		h[fs[1]] = append(h[fs[1]], o)
	}
	return sc.Err()
}

// checkKey checks one key's history and its final state (a read made after
// every other operation ended). It returns the violations found, and the
// number of reads checked.
func checkKey(key string, ops []hop, final hop) (violations []string, reads int) {
	final.start, final.end = math.MaxInt64-1, math.MaxInt64
	var writes, muts, dels []hop
	byID := make(map[string]hop)
	for _, o := range ops {
		switch o.kind {
		case 'W':
			id := o.writer + "#" + strconv.FormatUint(o.seq, 10)
			if _, dup := byID[id]; dup {
				violations = append(violations, fmt.Sprintf("%s: write %s logged twice", key, id))
			}
			byID[id] = o
			writes = append(writes, o)
			muts = append(muts, o)
		case 'D':
			dels = append(dels, o)
			muts = append(muts, o)
		}
	}
	// For "which mutations ended before t, and the latest start among them":
	// mutations by end, with running maxima of their starts.
	byEnd := func(list []hop) ([]int64, []int64) {
		slices.SortFunc(list, func(a, b hop) int { return cmpInt(a.end, b.end) })
		ends := make([]int64, len(list))
		maxStart := make([]int64, len(list))
		m := int64(math.MinInt64)
		for i, o := range list {
			ends[i] = o.end
			m = max(m, o.start)
			maxStart[i] = m
		}
		return ends, maxStart
	}
	// latestStartBefore returns the latest start of a mutation that ended
	// before t, and whether there is one.
	latestStartBefore := func(ends, maxStart []int64, t int64) (int64, bool) {
		i, _ := slices.BinarySearch(ends, t) // ends[:i] < t
		if i == 0 {
			return 0, false
		}
		return maxStart[i-1], true
	}
	// For "does some operation that started before t end at or after m":
	// operations by start, with running maxima of their ends.
	byStart := func(list []hop) ([]int64, []int64) {
		list = slices.Clone(list)
		slices.SortFunc(list, func(a, b hop) int { return cmpInt(a.start, b.start) })
		starts := make([]int64, len(list))
		maxEnd := make([]int64, len(list))
		m := int64(math.MinInt64)
		for i, o := range list {
			starts[i] = o.start
			m = max(m, o.end)
			maxEnd[i] = m
		}
		return starts, maxEnd
	}
	startedBeforeEndingAfter := func(starts, maxEnd []int64, t, m int64) bool {
		i, _ := slices.BinarySearch(starts, t) // starts[:i] < t
		return i > 0 && maxEnd[i-1] >= m
	}
	mEnds, mMaxStart := byEnd(muts)
	wEnds, wMaxStart := byEnd(writes)
	dStarts, dMaxEnd := byStart(dels)
	wStarts, wMaxEnd := byStart(writes)

	check := func(r hop, what string) {
		reads++
		switch {
		case r.kind == 'R' && !r.absent:
			w, ok := byID[r.writer+"#"+strconv.FormatUint(r.seq, 10)]
			if !ok {
				violations = append(violations, fmt.Sprintf("%s: %s %v returned a value no acknowledged write made", key, what, r))
				return
			}
			if w.start > r.end {
				violations = append(violations, fmt.Sprintf("%s: %s %v returned the value of %v, which began later", key, what, r, w))
			}
			if m, ok := latestStartBefore(mEnds, mMaxStart, r.start); ok && m > w.end {
				violations = append(violations, fmt.Sprintf("%s: %s %v returned the value of %v, replaced by a mutation that began at %d and ended before the read", key, what, r, w, m))
			}
		case r.kind == 'R': // absent: some delete (or the empty start) must be the latest mutation it can follow
			m, ok := latestStartBefore(wEnds, wMaxStart, r.start)
			if ok && !startedBeforeEndingAfter(dStarts, dMaxEnd, r.end, m) {
				violations = append(violations, fmt.Sprintf("%s: %s %v found nothing, but a write that began at %d ended before it and no delete can follow that write", key, what, r, m))
			}
		case r.kind == 'P': // present: some write must be the latest mutation it can follow
			m, ok := latestStartBefore(mEnds, mMaxStart, r.start)
			if !ok {
				m = math.MinInt64
			}
			if !startedBeforeEndingAfter(wStarts, wMaxEnd, r.end, m) {
				violations = append(violations, fmt.Sprintf("%s: %s %v found the key, but no write can be the latest before it", key, what, r))
			}
		}
	}
	for _, o := range ops {
		if o.kind == 'R' || o.kind == 'P' {
			check(o, "read")
		}
	}
	check(final, "final state")
	return violations, reads
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestHistoryChecker makes sure the history check catches what it is meant
// to catch, so that a clean TestLoad means something.
func TestHistoryChecker(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	w := func(writer string, seq uint64, s, e int64) hop {
		return hop{kind: 'W', writer: writer, seq: seq, start: s, end: e}
	}
	r := func(writer string, seq uint64, s, e int64) hop {
		return hop{kind: 'R', writer: writer, seq: seq, start: s, end: e}
	}
	absent := func(s, e int64) hop { return hop{kind: 'R', absent: true, start: s, end: e} }
	del := func(s, e int64) hop { return hop{kind: 'D', start: s, end: e} }
	present := func(s, e int64) hop { return hop{kind: 'P', start: s, end: e} }
	final := func(writer string, seq uint64) hop { return hop{kind: 'R', writer: writer, seq: seq} }
	finalAbsent := hop{kind: 'R', absent: true}

	cases := []struct {
		name  string
		ops   []hop
		final hop
		bad   bool
	}{
		{"sequential", []hop{w("a", 1, 0, 10), r("a", 1, 20, 30), w("b", 1, 40, 50), r("b", 1, 60, 70)}, final("b", 1), false},
		{"stale read", []hop{w("a", 1, 0, 10), w("b", 1, 20, 30), r("a", 1, 40, 50)}, final("b", 1), true},
		{"read during overwrite", []hop{w("a", 1, 0, 10), w("b", 1, 20, 50), r("a", 1, 30, 40)}, final("b", 1), false},
		{"read of a later write overlapping", []hop{w("a", 1, 0, 10), r("b", 1, 15, 25), w("b", 1, 20, 30)}, final("b", 1), false},
		{"read from the future", []hop{r("b", 1, 0, 10), w("b", 1, 20, 30)}, final("b", 1), true},
		{"value never written", []hop{w("a", 1, 0, 10), r("a", 2, 20, 30)}, final("a", 1), true},
		{"lost write", []hop{w("a", 1, 0, 10), w("b", 1, 20, 30)}, final("a", 1), true},
		{"concurrent writes, either wins", []hop{w("a", 1, 0, 30), w("b", 1, 10, 20)}, final("a", 1), false},
		{"resurrected delete", []hop{w("a", 1, 0, 10), del(20, 30)}, final("a", 1), true},
		{"deleted", []hop{w("a", 1, 0, 10), del(20, 30)}, finalAbsent, false},
		{"lost write after delete", []hop{del(0, 10), w("a", 1, 20, 30)}, finalAbsent, true},
		{"absent read after a write", []hop{w("a", 1, 0, 10), absent(20, 30)}, final("a", 1), true},
		{"absent read during a delete", []hop{w("a", 1, 0, 10), del(15, 40), absent(20, 30)}, finalAbsent, false},
		{"absent read before any write", []hop{absent(0, 5), w("a", 1, 10, 20)}, final("a", 1), false},
		{"present after delete", []hop{w("a", 1, 0, 10), del(20, 30), present(40, 50)}, finalAbsent, true},
		{"present during write", []hop{del(0, 10), w("a", 1, 20, 50), present(30, 40)}, final("a", 1), false},
		{"duplicate write", []hop{w("a", 1, 0, 10), w("a", 1, 20, 30)}, final("a", 1), true},
	}
	for _, c := range cases {
		v, _ := checkKey("k", c.ops, c.final)
		if (len(v) > 0) != c.bad {
			t.Errorf("%s: violations %q, want bad=%v", c.name, v, c.bad)
		}
	}
}
