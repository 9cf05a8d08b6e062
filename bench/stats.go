package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// row is one line of the results: one op on one store in one setting.
type row struct {
	Op        string `json:"op"`
	Store     string `json:"store"`
	ValueSize int    `json:"value_size"`
	Keys      int    `json:"keys"`
	Procs     int    `json:"procs"`

	Ops     int           `json:"ops,omitempty"`     // timed operations
	Items   int           `json:"items,omitempty"`   // entries handled (batch rows: entries written)
	Wall    time.Duration `json:"wall_ns,omitempty"` // first start to last end over all workers
	P50     time.Duration `json:"p50_ns,omitempty"`  // of the timed operations
	P99     time.Duration `json:"p99_ns,omitempty"`
	Rate    float64       `json:"ops_per_s,omitempty"` // entries per second
	RSSBase int64         `json:"rss_base,omitempty"`  // rss rows
	RSSPeak int64         `json:"rss_peak,omitempty"`

	Runs int `json:"runs,omitempty"` // repetitions this row is the median of

	Note string `json:"note,omitempty"`  // why the row has no figures: n/a, pending, skipped
	Err  string `json:"error,omitempty"` // what went wrong
}

// ok reports whether the row has figures.
func (r *row) ok() bool { return r.Note == "" && r.Err == "" && r.Rate > 0 }

// RSSDelta is the memory the store's open and reads added.
func (r *row) RSSDelta() int64 { return r.RSSPeak - r.RSSBase }

// aggregate fills r from its workers' messages. Throughput is entries over
// the wall time from the first worker's start to the last one's end, except
// where a worker's timed operations are interleaved with untimed ones (warm
// and memo rows: the first read; batch rows: staging). There it is the sum
// over workers of each one's operations over the sum of its latencies.
func (r *row) aggregate(msgs []message) {
	var lat []int64
	var start, end int64 = math.MaxInt64, 0
	var busyRate float64
	for _, m := range msgs {
		if m.Errors > 0 && r.Err == "" {
			r.Err = fmt.Sprintf("%d errors; first: %s", m.Errors, m.FirstError)
		}
		lat = append(lat, m.Lat...)
		r.Items += m.Items
		start, end = min(start, m.StartNS), max(end, m.EndNS)
		r.RSSBase, r.RSSPeak = max(r.RSSBase, m.RSSBase), max(r.RSSPeak, m.RSSPeak)
		var busy int64
		for _, l := range m.Lat {
			busy += l
		}
		if busy > 0 {
			busyRate += float64(m.Items) / time.Duration(busy).Seconds()
		}
	}
	r.Ops = len(lat)
	if end > start {
		r.Wall = time.Duration(end - start)
	}
	r.P50, r.P99 = percentile(lat, 50), percentile(lat, 99)
	switch {
	case r.Op == opWarm || r.Op == opMemo || r.Op == opBatch:
		r.Rate = busyRate
	case r.Wall > 0:
		r.Rate = float64(r.Items) / r.Wall.Seconds()
	}
}

// percentile is the nearest-rank p-th percentile of lat, which it sorts.
func percentile(lat []int64, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	rank := (p*len(lat) + 99) / 100 // ceil(p/100 * n)
	return time.Duration(lat[max(rank, 1)-1])
}

// medianRows keeps, of the rows that ran the same op on the same store in
// the same setting, the one with the median throughput (memory rows: the
// median memory added), in the order they first appear. A failed run wins:
// a failure is never hidden by a repetition that went well.
func medianRows(rows []*row) []*row {
	type id struct {
		op, store         string
		keys, size, procs int
	}
	groups := map[id][]*row{}
	var order []id
	for _, r := range rows {
		k := id{r.Op, r.Store, r.Keys, r.ValueSize, r.Procs}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]*row, 0, len(order))
	for _, k := range order {
		g := groups[k]
		var failed *row
		for _, r := range g {
			if r.Err != "" && failed == nil {
				failed = r
			}
		}
		if failed != nil {
			out = append(out, failed)
			continue
		}
		slices.SortStableFunc(g, func(a, b *row) int {
			if a.Op == opRSS {
				return cmp.Compare(a.RSSDelta(), b.RSSDelta())
			}
			return cmp.Compare(a.Rate, b.Rate)
		})
		m := g[(len(g)-1)/2]
		m.Runs = len(g)
		out = append(out, m)
	}
	return out
}
