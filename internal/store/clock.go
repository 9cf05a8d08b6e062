package store

import (
	"sync/atomic"
	"time"
)

// clock serves the Store's time. Expiry and lifetimes are judged by
// Config.Now, read afresh for each decision. A warm read also needs the time
// for one decision that tolerates a little error: whether the file is due
// for a use stamp (at most once per EvictionGrace). With the default clock,
// that time is the wall clock derived from one monotonic reading, which the
// read takes anyway for the shared counters, and a wall reading taken at most
// once a second, so a warm read of an entry that cannot expire reads the
// clock once instead of twice.
type clock struct {
	now  func() time.Time
	real bool // now is time.Now
	base atomic.Pointer[clockBase]
}

// clockBase pairs a wall reading with the monotonic reading taken with it.
type clockBase struct{ wall, mono int64 }

// resyncEvery is how often the derived wall clock is set again from the
// real one, which bounds its error after the system clock is stepped.
const resyncEvery = int64(time.Second)

func newClock(now func() time.Time) *clock {
	c := &clock{now: now}
	if now == nil {
		c.now, c.real = time.Now, true
	}
	return c
}

// approx returns the wall time in Unix ns at the monotonic reading mono
// (from shard.Monotonic): derived from mono with the default clock, else
// Config.Now's.
func (c *clock) approx(mono int64) int64 {
	if !c.real {
		return c.now().UnixNano()
	}
	b := c.base.Load()
	if b == nil || mono-b.mono >= resyncEvery {
		b = &clockBase{wall: time.Now().UnixNano(), mono: mono}
		c.base.Store(b)
	}
	return b.wall + mono - b.mono
}
