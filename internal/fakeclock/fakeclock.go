// Package fakeclock is an injectable clock for tests of expiry and
// eviction: it moves only when told to, so tests never sleep to let time pass.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a clock that stands still until Advance. Its methods are safe for
// concurrent use; pass its Now method as Options.Now.
type Clock struct {
	mu  sync.Mutex
	now time.Time // guarded by mu
}

// New returns a Clock set to a fixed, arbitrary moment.
func New() *Clock { return &Clock{now: time.Unix(1_700_000_000, 0)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
