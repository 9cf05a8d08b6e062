package bucket

import "sync/atomic"

// Stats counts what a Bucket has done since Open.
type Stats struct {
	Hits       int64 // Gets, Contains and memoized calls that found a live entry
	MemoryHits int64 // of which served from memory, with no file read
	Misses     int64 // Gets, Contains and memoized calls that found nothing usable
	Sets       int64 // entries written
	Deletes    int64 // entries removed by Delete
	Expired    int64 // expired entries met (and removed) by Get
	Corrupt    int64 // damaged entry files met by Get
	Evictions  int64 // entries this Bucket's trims evicted to respect the limits

	MemoHits       int64 // memoized calls answered from the cache (each also one of Hits)
	MemoMisses     int64 // memoized calls that found no entry (each also one of Misses)
	MemoExecutions int64 // runs of memoized functions in this process
	MemoWaits      int64 // memoized calls that waited for another process's run
}

type memoCounters struct {
	hits, misses, executions, waits atomic.Int64
}

// Stats returns a snapshot of the Bucket's counters.
func (b *Bucket[K, V]) Stats() Stats {
	s := b.st.Stats()
	return Stats{
		Hits: s.Hits, MemoryHits: s.MemoryHits, Misses: s.Misses, Sets: s.Sets,
		Deletes: s.Deletes, Expired: s.Expired, Corrupt: s.Corrupt, Evictions: s.Evictions,
		MemoHits: b.memo.hits.Load(), MemoMisses: b.memo.misses.Load(),
		MemoExecutions: b.memo.executions.Load(), MemoWaits: b.memo.waits.Load(),
	}
}
