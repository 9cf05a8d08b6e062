package main

import (
	"strings"
	"testing"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/bucketcache/bucketcache/internal/store
BenchmarkPut/100B-2         	   17949	     30000 ns/op	     672 B/op	      18 allocs/op
BenchmarkPutFloor/100B-2    	   39055	     15000 ns/op
BenchmarkPut/100B-2         	   17949	     32000 ns/op	     672 B/op	      18 allocs/op
BenchmarkPut/100B-2         	   17949	     90000 ns/op	     672 B/op	      18 allocs/op
pkg: github.com/bucketcache/bucketcache/deferred
BenchmarkSmall10000/Bucket.Set-2 	3	 300000000 ns/op	 30000 ns/entry
BenchmarkSmall10000/Deferred.Sync-2 	3	 100000000 ns/op	 10000 ns/entry	 9000 sync-ns/entry
PASS
`
	samples, err := parseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	r := &benchRun{ns: map[string]float64{}}
	for k, v := range samples {
		r.ns[k] = median(v)
	}
	if got := r.ns["store/Put/100B"]; got != 32000 {
		t.Errorf("median of Put/100B: %v, want 32000", got)
	}
	set := ratioTargets[0]
	if v, ok := set.ratio(r); !ok || v < 2.13 || v > 2.14 || set.met(v) {
		t.Errorf("Set ratio %v %v, want 2.13x, missed", v, ok)
	}
	var sync ratioTarget
	for _, tg := range ratioTargets {
		if tg.num == "deferred/Small10000/Bucket.Set" {
			sync = tg
		}
	}
	if v, ok := sync.ratio(r); !ok || v != 3 || !sync.met(v) {
		t.Errorf("Sync speed-up %v %v, want 3x, met", v, ok)
	}
	if _, ok := ratioTargets[2].ratio(r); ok {
		t.Error("a ratio of benchmarks that did not run")
	}
}
