package store

import "sync/atomic"

// Stats counts what a Store has done since it was opened.
type Stats struct {
	Hits       int64 // Gets that found a live entry
	MemoryHits int64 // of which served from memory, with no file read
	Misses     int64 // Gets that found nothing usable
	Sets       int64 // entries written
	Deletes    int64 // entries removed by Delete
	Expired    int64 // expired entries met by Get
	Corrupt    int64 // damaged entry files met by Get
	ShardLocks int64 // acquisitions of shard locks
	Evictions  int64 // entries this Store's trims removed to respect the limits
}

type counters struct {
	// A hit counts once, in fileHits or memoryHits: one atomic add on a
	// warm Get. Hits is their sum.
	fileHits, memoryHits, misses, sets, deletes, expired, corrupt, shardLocks, evictions atomic.Int64
}

// Stats returns a snapshot of the Store's counters.
func (s *Store) Stats() Stats {
	c := &s.stats
	memory := c.memoryHits.Load()
	return Stats{
		Hits: c.fileHits.Load() + memory, MemoryHits: memory, Misses: c.misses.Load(),
		Sets: c.sets.Load(), Deletes: c.deletes.Load(), Expired: c.expired.Load(),
		Corrupt: c.corrupt.Load(), ShardLocks: c.shardLocks.Load(), Evictions: c.evictions.Load(),
	}
}
