package main

import (
	"fmt"
	"time"
)

// Each op function prepares what its timed part needs and returns that
// part, which records one latency per operation into the message. Values
// are checked after every read, outside the timed call.

func fillOp(s kv, j job) func(*message) {
	keys := make([]string, j.Keys)
	for i := range keys {
		keys[i] = keyOf(i)
	}
	value := func(i int) []byte { return valueOf(i, j.ValueSize) }
	return func(m *message) {
		var err error
		if l, ok := s.(loader); ok {
			err = l.Load(keys, value)
		} else {
			buf := newValue(j.ValueSize)
			for i, k := range keys {
				stamp(buf, i)
				if err = s.Set(k, buf); err != nil {
					break
				}
			}
		}
		if err != nil {
			m.fail(fmt.Errorf("fill: %w", err))
		}
		m.Items = len(keys)
	}
}

func setOp(s kv, j job) func(*message) {
	js := share(j.Count, j.Worker, j.Workers)
	keys := make([]string, len(js))
	for n, jj := range js {
		keys[n] = keyOf(perm(jj, j.Keys))
	}
	buf := newValue(j.ValueSize)
	return func(m *message) {
		m.Lat = make([]int64, 0, len(js))
		for n, jj := range js {
			stamp(buf, perm(jj, j.Keys))
			t := time.Now()
			err := s.Set(keys[n], buf)
			m.Lat = append(m.Lat, int64(time.Since(t)))
			if err != nil {
				m.fail(err)
			}
		}
		m.Items = len(js)
	}
}

// getOp reads entries this process has not read before (opCold), or keys
// never written (opMiss).
func getOp(s kv, j job) func(*message) {
	js := share(j.Count, j.Worker, j.Workers)
	keys := make([]string, len(js))
	for n, jj := range js {
		if j.Op == opMiss {
			keys[n] = missKeyOf(jj)
		} else {
			keys[n] = keyOf(perm(jj, j.Keys))
		}
	}
	return func(m *message) {
		m.Lat = make([]int64, 0, len(js))
		for n, jj := range js {
			t := time.Now()
			v, ok, err := s.Get(keys[n])
			m.Lat = append(m.Lat, int64(time.Since(t)))
			m.checkGet(keys[n], v, ok, err, j.Op != opMiss, perm(jj, j.Keys), j.ValueSize)
		}
		m.Items = len(js)
	}
}

// warmOp reads each entry twice in a row and times the second read.
func warmOp(s kv, j job) func(*message) {
	js := share(j.Count, j.Worker, j.Workers)
	keys := make([]string, len(js))
	for n, jj := range js {
		keys[n] = keyOf(perm(jj, j.Keys))
	}
	return func(m *message) {
		m.Lat = make([]int64, 0, len(js))
		for n, jj := range js {
			i := perm(jj, j.Keys)
			v, ok, err := s.Get(keys[n])
			m.checkGet(keys[n], v, ok, err, true, i, j.ValueSize)
			t := time.Now()
			v, ok, err = s.Get(keys[n])
			m.Lat = append(m.Lat, int64(time.Since(t)))
			m.checkGet(keys[n], v, ok, err, true, i, j.ValueSize)
		}
		m.Items = len(js)
	}
}

// memoOp calls a memoized function once per entry to fill the cache, then
// times a second call, which must be a hit: the function must run once per
// entry in all.
func memoOp(s kv, j job) (func(*message), error) {
	mz, ok := s.(memoizer)
	if !ok {
		return nil, fmt.Errorf("store %s has no memoizer", j.Store)
	}
	runs := 0
	f := mz.Memoize("bench", func(key string) ([]byte, error) {
		runs++
		var i int
		if _, err := fmt.Sscanf(key, "k%09d", &i); err != nil {
			return nil, err
		}
		return valueOf(i, j.ValueSize), nil
	})
	js := share(j.Count, j.Worker, j.Workers)
	keys := make([]string, len(js))
	for n, jj := range js {
		keys[n] = keyOf(perm(jj, j.Keys))
	}
	return func(m *message) {
		m.Lat = make([]int64, 0, len(js))
		for n, jj := range js {
			i := perm(jj, j.Keys)
			v, err := f(keys[n])
			m.checkGet(keys[n], v, err == nil, err, true, i, j.ValueSize)
			t := time.Now()
			v, err = f(keys[n])
			m.Lat = append(m.Lat, int64(time.Since(t)))
			m.checkGet(keys[n], v, err == nil, err, true, i, j.ValueSize)
		}
		if runs != len(js) {
			m.fail(fmt.Errorf("memoized function ran %d times for %d keys", runs, len(js)))
		}
		m.Items = len(js)
	}, nil
}

// batchOp writes j.Count entries as one batch, j.Reps times, timing each
// commit. Stores without a batch write them one Set at a time.
func batchOp(s kv, j job) (func(*message), error) {
	keys := make([]string, j.Count)
	for i := range keys {
		keys[i] = batchKeyOf(i)
	}
	return func(m *message) {
		m.Lat = make([]int64, 0, j.Reps)
		for r := 0; r < j.Reps; r++ {
			value := func(i int) []byte { return valueOf(i+r, j.ValueSize) }
			commit, err := stage(s, keys, value)
			if err != nil {
				m.fail(err)
				return
			}
			t := time.Now()
			err = commit()
			m.Lat = append(m.Lat, int64(time.Since(t)))
			if err != nil {
				m.fail(err)
			}
			m.Items += len(keys)
		}
		for i, k := range keys { // the last batch must be readable
			v, ok, err := s.Get(k)
			m.checkGet(k, v, ok, err, true, i+j.Reps-1, j.ValueSize)
		}
	}, nil
}

// stage prepares a batch with the store's batcher, or as a loop of Sets.
func stage(s kv, keys []string, value func(int) []byte) (func() error, error) {
	if b, ok := s.(batcher); ok {
		return b.Stage(keys, value)
	}
	vals := make([][]byte, len(keys))
	for i := range keys {
		vals[i] = value(i)
	}
	return func() error {
		for i, k := range keys {
			if err := s.Set(k, vals[i]); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// checkGet records a failed or wrong read: want says whether the key should
// be found, and with entry i's value.
func (m *message) checkGet(key string, v []byte, ok bool, err error, want bool, i, size int) {
	switch {
	case err != nil:
		m.fail(fmt.Errorf("get %s: %w", key, err))
	case ok != want:
		m.fail(fmt.Errorf("get %s: found=%v, want %v", key, ok, want))
	case want && !check(v, i, size):
		m.fail(fmt.Errorf("get %s: %w", key, errMismatch))
	}
}
