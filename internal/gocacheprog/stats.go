package gocacheprog

import (
	"fmt"
	"regexp"
	"strconv"
	"sync/atomic"
)

// Stats counts what a Cache has done since Open.
type Stats struct {
	Gets     int64 // get requests
	Hits     int64 // of which answered with an output
	HitBytes int64 // the size of the outputs of those hits
	Puts     int64 // puts accepted
	PutBytes int64 // the size of their bodies
	Damaged  int64 // damaged actions and outputs met, each a miss (the bucket's own count included)
	Errors   int64 // reads and writes of the bucket that failed (gets were answered as misses)
}

// String is the stats line: "gets=N hits=N ..." with every counter.
func (s Stats) String() string {
	return fmt.Sprintf("gets=%d hits=%d misses=%d hit-bytes=%d puts=%d put-bytes=%d damaged=%d errors=%d",
		s.Gets, s.Hits, s.Gets-s.Hits, s.HitBytes, s.Puts, s.PutBytes, s.Damaged, s.Errors)
}

type counters struct {
	gets, hits, hitBytes, puts, putBytes, damaged, errors atomic.Int64
}

// Stats returns a snapshot of the Cache's counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Gets:     c.stats.gets.Load(),
		Hits:     c.stats.hits.Load(),
		HitBytes: c.stats.hitBytes.Load(),
		Puts:     c.stats.puts.Load(),
		PutBytes: c.stats.putBytes.Load(),
		Damaged:  c.stats.damaged.Load() + c.b.Stats().Corrupt,
		Errors:   c.stats.errors.Load(),
	}
}

var statsLine = regexp.MustCompile(`gets=(\d+) hits=(\d+) misses=\d+ hit-bytes=(\d+) puts=(\d+) put-bytes=(\d+) damaged=(\d+) errors=(\d+)`)

// ParseStats finds the stats line that Stats.String wrote in text (the last
// one, if there are several).
func ParseStats(text string) (Stats, error) {
	all := statsLine.FindAllStringSubmatch(text, -1)
	if all == nil {
		return Stats{}, fmt.Errorf("no gocacheprog stats line in %q", text)
	}
	m := all[len(all)-1]
	var n [7]int64
	for i := range n {
		n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
	}
	return Stats{Gets: n[0], Hits: n[1], HitBytes: n[2], Puts: n[3], PutBytes: n[4], Damaged: n[5], Errors: n[6]}, nil
}
