package main

import "fmt"

// targetsTable checks the harness's targets against the rows of this run.
// Every ratio compares rows measured in the same run.
func targetsTable(rows []*row) *table {
	t := &table{
		head:  []string{"target", "setting", "measured", "verdict"},
		right: []bool{false, false, false, false},
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	find := func(store, op string, keys, size, procs int) *row {
		return peer(rows, &row{Op: op, Keys: keys, ValueSize: size, Procs: procs}, store)
	}
	setting := func(r *row) string {
		return fmt.Sprintf("%s keys, %s, %d proc", count(r.Keys), sizeName(r.ValueSize), r.Procs)
	}
	for _, bc := range rows {
		if bc.Store != "bucketcache" || !bc.ok() {
			continue
		}
		// Within 1.5x of the floor on Set and cold Get, 100 B and 4 KiB.
		if (bc.Op == opSet || bc.Op == opCold) && bc.Procs == 1 && bc.ValueSize <= 4096 {
			if f := find("floor", bc.Op, bc.Keys, bc.ValueSize, 1); f != nil && f.ok() {
				byRate, byP50 := f.Rate/bc.Rate, float64(bc.P50)/float64(f.P50)
				t.add("within 1.5x of the floor: "+opTitle[bc.Op], setting(bc),
					fmt.Sprintf("%.2fx the floor's time by ops/s, %.2fx by p50 (%s vs %s)", byRate, byP50, dur(bc.P50), dur(f.P50)),
					twoWay(byRate <= 1.5, byP50 <= 1.5))
			}
		}
		// At least as fast as diskv wherever both run.
		if bc.Op != opBatch && bc.Op != opRSS {
			if d := find("diskv", bc.Op, bc.Keys, bc.ValueSize, bc.Procs); d != nil && d.ok() {
				t.add("at least as fast as diskv: "+opTitle[bc.Op], setting(bc),
					fmt.Sprintf("%.2fx diskv's ops/s; p50 %s vs %s", bc.Rate/d.Rate, dur(bc.P50), dur(d.P50)),
					twoWay(bc.Rate >= d.Rate, bc.P50 <= d.P50))
			}
		}
		dc := find("diskcache", bc.Op, bc.Keys, bc.ValueSize, bc.Procs)
		if dc != nil && dc.ok() {
			p50 := func() float64 { return float64(dc.P50) / float64(bc.P50) }
			switch {
			case bc.Op == opSet && bc.Procs == 1:
				t.add("Set 1.3x faster than diskcache (p50)", setting(bc), fmt.Sprintf("%.2fx (%s vs %s)", p50(), dur(bc.P50), dur(dc.P50)), verdict(p50() >= 1.3))
			case bc.Op == opWarm && bc.Procs == 1:
				t.add("warm Get 10x faster than diskcache (p50)", setting(bc), fmt.Sprintf("%.1fx (%s vs %s)", p50(), dur(bc.P50), dur(dc.P50)), verdict(p50() >= 10))
			case bc.Op == opCold && bc.Procs == 1:
				x := float64(bc.P50) / float64(dc.P50)
				t.add("cold Get within 1.5x of diskcache's get (p50)", setting(bc), fmt.Sprintf("%.2fx diskcache's time (%s vs %s)", x, dur(bc.P50), dur(dc.P50)), verdict(x <= 1.5))
			case bc.Op == opSet && bc.Procs == 8:
				t.add("8-process Set p99 below diskcache's", setting(bc), fmt.Sprintf("%s vs %s", dur(bc.P99), dur(dc.P99)), verdict(bc.P99 < dc.P99))
			}
		}
		// Two processes set at least 1.5x as fast as one.
		if bc.Op == opSet && bc.Procs == 2 {
			if one := find("bucketcache", opSet, bc.Keys, bc.ValueSize, 1); one != nil && one.ok() {
				x := bc.Rate / one.Rate
				t.add("Set: 2 processes 1.5x the throughput of 1", setting(bc), fmt.Sprintf("%.2fx (%s vs %s ops/s)", x, rate(bc.Rate), rate(one.Rate)), verdict(x >= 1.5))
			}
		}
	}
	for _, r := range rows {
		if r.Store == "bucketcache" && r.Op == opRSS && r.Err == "" && r.RSSPeak > 0 {
			const limit = 16 << 20
			t.add("opening a 1,000,000-entry bucket: under 16 MiB of RSS", fmt.Sprintf("%s entries, %s reads", count(r.Keys), count(r.Items)),
				mib(r.RSSDelta())+" added", verdict(r.RSSDelta() < limit))
		}
	}
	return t
}

// twoWay judges a target measured two ways: by throughput, which includes
// every stall (and so the noise of a shared machine), and by median latency.
func twoWay(byRate, byP50 bool) string {
	switch {
	case byRate && byP50:
		return "met"
	case byP50:
		return "met at p50, MISSED by ops/s"
	case byRate:
		return "met by ops/s, MISSED at p50"
	}
	return "MISSED"
}
