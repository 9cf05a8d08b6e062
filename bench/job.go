package main

// job is what the harness asks one worker process to do. It is sent as one
// line of JSON on the worker's standard input; the Python driver reads the
// same fields.
type job struct {
	Store     string `json:"store"`
	Dir       string `json:"dir"`
	Op        string `json:"op"`         // one of the op* constants
	Keys      int    `json:"keys"`       // entries in the store
	Count     int    `json:"count"`      // operations in all workers together
	ValueSize int    `json:"value_size"` // bytes per value
	Worker    int    `json:"worker"`     // this worker's number, from 0
	Workers   int    `json:"workers"`    // processes running the op together
	Reps      int    `json:"reps"`       // batch rows: batches to time
	// Profile, when set, is a file for a CPU profile of the timed part (Go
	// workers only).
	Profile string `json:"profile,omitempty"`
}

// The operations a worker performs.
const (
	opFill  = "fill"  // untimed: write entries 0..Keys-1 as fast as the store can
	opSet   = "set"   // Set of entries, each timed
	opCold  = "cold"  // Get of entries this process has never read
	opWarm  = "warm"  // Get of an entry just read by this process
	opMiss  = "miss"  // Get of a key never written
	opMemo  = "memo"  // call of a memoized function whose result is cached
	opBatch = "batch" // write Count entries as one batch; each batch timed
	opRSS   = "rss"   // open a store of Keys entries, read Count of them; peak RSS
)

// message is what a worker writes on its standard output: first
// {"ready":true} once it is set up, then, after the harness writes a line to
// its standard input (the start barrier), its result. A worker that fails
// before it is ready writes only a result with Errors set.
type message struct {
	Ready bool `json:"ready,omitempty"`

	StartNS    int64   `json:"start_ns,omitempty"` // Unix ns, when the timed part began
	EndNS      int64   `json:"end_ns,omitempty"`   // and ended
	Lat        []int64 `json:"lat_ns,omitempty"`   // latency of each timed operation
	Items      int     `json:"items,omitempty"`    // entries the timed part handled
	Errors     int     `json:"errors,omitempty"`   // failed operations (and wrong values)
	FirstError string  `json:"first_error,omitempty"`
	RSSBase    int64   `json:"rss_base,omitempty"` // bytes resident before opening the store
	RSSPeak    int64   `json:"rss_peak,omitempty"` // peak bytes resident after reading
	Version    string  `json:"version,omitempty"`  // the store's version, where known
}

// fail records an error in m, keeping the first.
func (m *message) fail(err error) {
	if m.Errors == 0 {
		m.FirstError = err.Error()
	}
	m.Errors++
}
