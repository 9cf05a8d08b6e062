package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sampleResults is a small run: three stores, two value sizes, one and two
// processes, with a row that has a note and one that failed.
func sampleResults() *results {
	res := &results{Machine: []string{"CPU: test"}, Command: "go run . -test", Notes: []string{"a note"}}
	for _, size := range []int{100, 4096} {
		for _, store := range []string{"bucketcache", "floor", "bbolt"} {
			for _, op := range []string{opSet, opCold, opWarm, opMiss} {
				for _, procs := range []int{1, 2} {
					if procs > 1 && store == "bbolt" {
						continue
					}
					r := &row{Op: op, Store: store, ValueSize: size, Keys: 1000, Procs: procs, Ops: 1000, Items: 1000,
						P50: time.Duration(1000 * (1 + len(store)) * procs), P99: 50 * time.Microsecond, Rate: float64(100000 / len(store) * procs)}
					switch {
					case op == opWarm && store == "floor":
						r.P50, r.P99, r.Rate, r.Note = 0, 0, 0, "n/a: no memory layer"
					case op == opMiss && store == "bbolt" && size == 4096:
						r.P50, r.P99, r.Rate, r.Err = 0, 0, 0, "3 errors; first: boom"
					}
					res.Rows = append(res.Rows, r)
				}
			}
		}
	}
	return res
}

// TestPlot writes a results file, draws it again with -plot, and checks
// that every chart is well-formed SVG with a bar or a line for each store,
// and that README.md shows the charts above the tables.
func TestPlot(t *testing.T) {
	dir := t.TempDir()
	if err := sampleResults().write(dir, true); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"README.md", "latency-1000-keys-100B.svg"} { // -plot must write them again
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	var out, log bytes.Buffer
	if err := run([]string{"-plot", filepath.Join(dir, resultsFile)}, &out, &log); err != nil {
		t.Fatalf("-plot: %v\n%s", err, log.String())
	}
	svgs := map[string]string{}
	for _, f := range []string{"latency-1000-keys-100B.svg", "latency-1000-keys-4KiB.svg", "throughput-1000-keys.svg"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		checkXML(t, f, data)
		svgs[f] = string(data)
	}

	lat := svgs["latency-1000-keys-100B.svg"]
	for _, want := range []string{
		"<title>bucketcache, Set: p50 12.0 µs", "<title>floor, cold Get: p50 6.00 µs", "<title>bbolt, miss: p50 6.00 µs",
		">floor: n/a<", ">1 µs<", ">10 µs<", "p50 latency per operation: 1,000 keys of 100 B, 1 process",
	} {
		if !strings.Contains(lat, want) {
			t.Errorf("100 B latency chart lacks %q", want)
		}
	}
	if n := strings.Count(lat, "<rect x="); n < 11+3 { // 11 bars with figures, 3 legend swatches
		t.Errorf("100 B latency chart has %d rectangles, want at least 14", n)
	}
	if !strings.Contains(svgs["latency-1000-keys-4KiB.svg"], ">bbolt: failed<") {
		t.Errorf("the failed row is not shown as failed")
	}
	if strings.Contains(lat, "processes: ") {
		t.Errorf("the latency chart shows rows of 2 processes")
	}

	tp := svgs["throughput-1000-keys.svg"]
	// Two stores share a store across processes; 2 ops x 2 sizes panels.
	if n := strings.Count(tp, "<polyline"); n != 2*4 {
		t.Errorf("throughput chart has %d lines, want 8", n)
	}
	for _, want := range []string{"bucketcache, Set, 100 B, 2 processes: 18,180 ops/s", "floor, cold Get, 4 KiB, 1 process: 20,000 ops/s", "Set, 4 KiB", "cold Get, 100 B"} {
		if !strings.Contains(tp, want) {
			t.Errorf("throughput chart lacks %q", want)
		}
	}
	if strings.Contains(tp, "bbolt") {
		t.Errorf("the throughput chart has bbolt, which ran in one process only")
	}

	md, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"](latency-1000-keys-100B.svg)", "](throughput-1000-keys.svg)", "### 1,000 keys, 4 KiB values", "| floor | 0.50 / 0.50 | 0.50 / 0.50 | - / - | 0.50 / 0.50 |", "go run . -test"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("README.md lacks %q:\n%s", want, md)
		}
	}
	if i, j := strings.Index(string(md), "!["), strings.Index(string(md), "## Machine"); i < 0 || i > j {
		t.Errorf("README.md does not show the charts before the tables")
	}
}

// checkXML fails t unless data is one well-formed XML document whose root
// is an svg element.
func checkXML(t *testing.T, name string, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
		if s, ok := tok.(xml.StartElement); ok && root == "" {
			root = s.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", name, root)
	}
	if !regexp.MustCompile(`^<svg [^>]*width="\d+" height="[1-9]\d*"`).Match(data) {
		t.Errorf("%s has no size: %.200s", name, data)
	}
}

func TestPlotBadResults(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.json": `{"rows": []}`, "broken.json": `{"rows": [`} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := run([]string{"-plot", p}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("-plot %s = %v, want an error naming the file", name, err)
		}
	}
	if err := run([]string{"-plot", filepath.Join(dir, "missing.json")}, io.Discard, io.Discard); err == nil {
		t.Errorf("-plot of a missing file succeeded")
	}
}

func TestNiceMax(t *testing.T) {
	for _, c := range []struct{ v, top, step float64 }{{7, 8, 2}, {8, 8, 2}, {12, 15, 5}, {33333, 40000, 10000}, {0.9, 1, 0.2}, {100, 100, 20}} {
		if top, step := niceMax(c.v); top != c.top || step != c.step {
			t.Errorf("niceMax(%v) = %v, %v; want %v, %v", c.v, top, step, c.top, c.step)
		}
	}
}
