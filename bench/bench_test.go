package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	maybeWorker() // the harness re-executes this test binary as its workers
	os.Exit(m.Run())
}

// TestSmoke runs the whole harness with tiny counts: every store that is
// installed, every row, 1 and 2 processes. It checks the harness works
// (every read returns what was written, every row has figures), not speed.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "report.md")
	var out, log bytes.Buffer
	resDir := filepath.Join(dir, "results")
	args := []string{"-smoke", "-keys", "8", "-dir", filepath.Join(dir, "stores"), "-markdown", md, "-results", resDir}
	sizes := []string{"100 B", "4 KiB", "1 MiB"}
	if raceEnabled { // the same rows, fewer settings
		args = append(args, "-sizes", "100")
		sizes = sizes[:1]
	}
	err := run(args, &out, &log)
	if err != nil {
		t.Fatalf("smoke run failed: %v\nprogress:\n%s", err, log.String())
	}
	text := out.String()
	pythonOK := !strings.Contains(log.String(), "skipping diskcache")
	if !pythonOK {
		t.Logf("python-diskcache rows skipped: %s", firstLine(log.String()))
	}
	for _, name := range storeOrder {
		if name == "diskcache" && !pythonOK {
			continue
		}
		if !strings.Contains(text, "  "+name+" ") {
			t.Errorf("no row for store %s in:\n%s", name, text)
		}
	}
	titles := []string{"Set", "cold Get", "warm Get", "miss", "memoized hit", "== batch writes ==", "== memory", "== targets =="}
	for _, size := range sizes {
		titles = append(titles, "== 8 keys, "+size+" values ==")
	}
	for _, title := range titles {
		if !strings.Contains(text, title) {
			t.Errorf("report lacks %q:\n%s", title, text)
		}
	}
	if strings.Contains(text, "ERROR") || strings.Contains(text, "pending") {
		t.Errorf("report has failed or pending rows:\n%s", text)
	}
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Machine", "| op | procs | store |", "### Targets", "go run . -smoke"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("markdown report lacks %q", want)
		}
	}
	// -results: the data, the same tables below the charts, and the charts.
	res, err := readResults(filepath.Join(resDir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Rows, func(r *row) bool { return r.Store == "bucketcache" && r.Op == opCold && r.ok() }) {
		t.Errorf("results.json lacks bucketcache's cold Get row")
	}
	readme, err := os.ReadFile(filepath.Join(resDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, data) {
		t.Errorf("results/README.md does not hold the markdown report")
	}
	for _, f := range []string{"latency-8-keys-100B.svg", "throughput-8-keys.svg"} {
		svg, err := os.ReadFile(filepath.Join(resDir, f))
		if err != nil {
			t.Fatal(err)
		}
		checkXML(t, f, svg)
		if !bytes.Contains(readme, []byte("]("+f+")")) {
			t.Errorf("results/README.md does not show %s", f)
		}
	}
}

// brokenKV returns a wrong value for every key: the harness must notice.
type brokenKV struct{ kv }

func (b brokenKV) Get(key string) ([]byte, bool, error) {
	v, ok, err := b.kv.Get(key)
	if ok && len(v) > 0 {
		v[0]++
	}
	return v, ok, err
}

func init() {
	register(&storeKind{name: "broken-for-test", multiProcess: true, proto: brokenKV{}, note: "test only",
		open: func(dir string) (kv, error) {
			s, err := openFloor(dir)
			return brokenKV{s}, err
		}})
}

// TestWrongValuesFail checks that a store returning wrong values fails its
// rows and the run.
func TestWrongValuesFail(t *testing.T) {
	var out, log bytes.Buffer
	err := run([]string{"-smoke", "-stores", "broken-for-test", "-sizes", "100", "-keys", "4", "-procs", "1", "-ops", "set,cold", "-dir", t.TempDir()}, &out, &log)
	if err == nil || !strings.Contains(err.Error(), errMismatch.Error()) {
		t.Fatalf("run = %v, want an error about %q\n%s", err, errMismatch, out.String())
	}
	if !strings.Contains(out.String(), "ERROR") {
		t.Errorf("report does not show the failed row:\n%s", out.String())
	}
}

func TestPermIsPermutation(t *testing.T) {
	for _, n := range []int{1, 2, 10, 1000, 7919, 7919 * 7907, 1000000} {
		if n > 100000 && testing.Short() {
			continue
		}
		seen := make([]bool, n)
		for j := range n {
			i := perm(j, n)
			if i < 0 || i >= n || seen[i] {
				t.Fatalf("n=%d: perm(%d) = %d, repeated or out of range", n, j, i)
			}
			seen[i] = true
		}
	}
}

func TestShareCoversEachOpOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		var all []int
		for w := range workers {
			all = append(all, share(100, w, workers)...)
		}
		slices.Sort(all)
		if len(all) != 100 || all[0] != 0 || all[99] != 99 || len(slices.Compact(all)) != 100 {
			t.Errorf("workers=%d: shares cover %v", workers, all)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, size := range []int{1, 7, 8, 9, 100, 4096} {
		v := valueOf(12345, size)
		if !check(v, 12345, size) {
			t.Errorf("size %d: own value rejected", size)
		}
		if size >= 3 && check(v, 12346, size) {
			t.Errorf("size %d: value of another entry accepted", size)
		}
		if check(v[:size-1], 12345, size) {
			t.Errorf("size %d: short value accepted", size)
		}
		w := append([]byte{}, v...)
		w[size-1] ^= 1
		if size > 8 && check(w, 12345, size) {
			t.Errorf("size %d: damaged last byte accepted", size)
		}
	}
}

func TestPercentile(t *testing.T) {
	lat := make([]int64, 100)
	for i := range lat {
		lat[i] = int64(100 - i) // 100..1, unsorted
	}
	if p := percentile(lat, 50); p != 50 {
		t.Errorf("p50 = %d, want 50", p)
	}
	if p := percentile(lat, 99); p != 99 {
		t.Errorf("p99 = %d, want 99", p)
	}
	if p := percentile([]int64{7}, 99); p != 7 {
		t.Errorf("p99 of one = %d, want 7", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("p50 of none = %d, want 0", p)
	}
}

func TestAggregate(t *testing.T) {
	r := row{Op: opSet}
	r.aggregate([]message{
		{StartNS: 1e9, EndNS: 2e9, Lat: []int64{10, 20}, Items: 2},
		{StartNS: 1.5e9, EndNS: 3e9, Lat: []int64{30, 40}, Items: 2},
	})
	if r.Wall != 2*time.Second || r.Rate != 2 || r.Ops != 4 || r.P50 != 20 || r.P99 != 40 {
		t.Errorf("aggregate = %+v", r)
	}
	w := row{Op: opWarm}
	w.aggregate([]message{{StartNS: 1, EndNS: 1e9, Lat: []int64{1000, 1000}, Items: 2}})
	if w.Rate != 1e6 {
		t.Errorf("warm rate = %v, want 1e6 (from latencies, not wall time)", w.Rate)
	}
	e := row{Op: opSet}
	e.aggregate([]message{{Errors: 3, FirstError: "boom"}})
	if !strings.Contains(e.Err, "3 errors") || e.ok() {
		t.Errorf("errors not reported: %+v", e)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100": 100, "100B": 100, "4KiB": 4096, "1MiB": 1 << 20, "8GiB": 8 << 30, " 2 KiB": 2048} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "KiB", "-1", "0", "1TB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-stores", "nosuch"}, {"-ops", "jump"}, {"-keys", "0"}, {"-sizes", "big"}, {"extra"}} {
		var out, log bytes.Buffer
		if err := run(args, &out, &log); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

func TestNames(t *testing.T) {
	cases := map[string]string{
		count(1000000): "1,000,000", count(12): "12", sizeName(100): "100 B", sizeName(4096): "4 KiB",
		sizeName(1 << 20): "1 MiB", dur(1500): "1.50 us", dur(1500000): "1500 us", dur(15e6): "15.0 ms",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestPythonMirrorsWorkload checks that the Python driver makes the same
// keys, values and order as the Go workers.
func TestPythonMirrorsWorkload(t *testing.T) {
	const py = "/usr/bin/python3"
	dir := t.TempDir()
	if _, _, err := setupPython(py, dir); err != nil {
		t.Skipf("python-diskcache not available: %v", err)
	}
	prog := `import json, sys
sys.path.insert(0, sys.argv[1])
import diskcache_worker as w
out = {"perm": [w.perm(j, n) for n in (1, 10, 1000, 7919) for j in range(0, n, max(1, n // 50))],
       "keys": [w.key_of(3), w.miss_key_of(4), w.batch_key_of(5)],
       "values": [list(w.value_of(i, s, w.filler(s))) for i, s in ((0, 1), (258, 9), (70000, 300))]}
print(json.dumps(out))`
	data, err := exec.Command(py, "-c", prog, dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Perm   []int
		Keys   []string
		Values [][]int
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	var perms []int
	for _, n := range []int{1, 10, 1000, 7919} {
		for j := 0; j < n; j += max(1, n/50) {
			perms = append(perms, perm(j, n))
		}
	}
	if !slices.Equal(got.Perm, perms) {
		t.Errorf("python perm %v\n    go perm %v", got.Perm, perms)
	}
	if want := []string{keyOf(3), missKeyOf(4), batchKeyOf(5)}; !slices.Equal(got.Keys, want) {
		t.Errorf("python keys %v, go keys %v", got.Keys, want)
	}
	for n, c := range []struct{ i, size int }{{0, 1}, {258, 9}, {70000, 300}} {
		want := valueOf(c.i, c.size)
		g := make([]byte, len(got.Values[n]))
		for k, b := range got.Values[n] {
			g[k] = byte(b)
		}
		if !bytes.Equal(g, want) {
			t.Errorf("value of %d (%d B): python %v, go %v", c.i, c.size, g, want)
		}
	}
}

func TestMedianRows(t *testing.T) {
	mk := func(store string, rate float64, err string) *row {
		return &row{Op: opSet, Store: store, Keys: 1, ValueSize: 1, Procs: 1, Rate: rate, Err: err}
	}
	rows := medianRows([]*row{mk("a", 3, ""), mk("b", 1, ""), mk("a", 1, ""), mk("b", 2, "boom"), mk("a", 2, ""), mk("b", 3, "")})
	if len(rows) != 2 || rows[0].Store != "a" || rows[1].Store != "b" {
		t.Fatalf("medianRows kept %v", rows)
	}
	if rows[0].Rate != 2 || rows[0].Runs != 3 {
		t.Errorf("median of 3, 1, 2 = %v (runs %d), want 2 of 3", rows[0].Rate, rows[0].Runs)
	}
	if rows[1].Err != "boom" {
		t.Errorf("a failed run was hidden: %+v", rows[1])
	}
}
