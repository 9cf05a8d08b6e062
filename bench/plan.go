package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// config is what to run; main fills it from flags.
type config struct {
	sizes        []int    // value sizes in bytes
	keys         []int    // entries per store
	procs        []int    // processes per row
	ops          []string // which rows: set, cold, warm, miss, memo, batch, rss
	maxOps       int      // cap on timed reads per row (0: one per key)
	maxBytes     int64    // skip settings whose keys x value size exceed this
	batchEntries int
	batchReps    int
	memKeys      int // entries in the store of the rss rows
	memReads     int // reads in the rss rows
	dir          string
	python       string
	timeout      time.Duration
	profile      string // directory for CPU profiles of the Go workers' timed parts
	runs         int    // times each row runs; the report keeps the median
}

// bench runs the rows the config asks for, reporting progress to log.
type bench struct {
	cfg    config
	kinds  []*storeKind
	run    *runner
	log    io.Writer
	rows   []*row
	notes  []string // settings skipped, and why
	dirSeq int
}

func (b *bench) wants(op string) bool { return slices.Contains(b.cfg.ops, op) }

// all runs every selected row.
func (b *bench) all() {
	for _, n := range b.cfg.keys {
		for _, size := range b.cfg.sizes {
			if int64(n)*int64(size) > b.cfg.maxBytes {
				b.notes = append(b.notes, fmt.Sprintf("%s keys of %s skipped: %s of data is over -max-bytes", count(n), sizeName(size), bytesName(int64(n)*int64(size))))
				continue
			}
			for _, p := range b.cfg.procs {
				for range b.cfg.runs { // stores take turns, so noise spreads over all
					for _, k := range b.kinds {
						b.workload(k, n, size, p)
					}
				}
			}
		}
	}
	if b.wants(opBatch) {
		for _, size := range b.cfg.sizes {
			if int64(b.cfg.batchEntries)*int64(size) > b.cfg.maxBytes {
				b.notes = append(b.notes, fmt.Sprintf("batch of %s entries of %s skipped: over -max-bytes", count(b.cfg.batchEntries), sizeName(size)))
				continue
			}
			for range b.cfg.runs {
				for _, k := range b.kinds {
					b.batch(k, size)
				}
			}
		}
	}
	if b.wants(opRSS) {
		for _, k := range b.kinds { // once: memory barely varies, and the fill is long
			b.rss(k)
		}
	}
	b.rows = medianRows(b.rows)
}

// workload runs the per-operation rows of one store in one setting, on a
// store of its own: Set fills it, then the reads.
func (b *bench) workload(k *storeKind, n, size, procs int) {
	base := row{Store: k.name, ValueSize: size, Keys: n, Procs: procs}
	if procs > 1 && !k.multiProcess {
		return // said once, in the table's notes
	}
	dir, err := b.freshDir(k)
	if err != nil {
		b.add(base, opSet, "", err)
		return
	}
	defer os.RemoveAll(dir)
	reads := n
	if b.cfg.maxOps > 0 {
		reads = min(n, b.cfg.maxOps)
	}
	j := job{Store: k.name, Dir: dir, Keys: n, ValueSize: size, Workers: procs}
	set := j
	set.Op, set.Count = opSet, n
	if b.wants(opSet) {
		if r := b.measure(base, k, set); r.Err != "" {
			return
		}
	} else if err := b.fill(k, j); err != nil { // the reads need the entries all the same
		b.add(base, opSet, "", err)
		return
	}
	for _, op := range []string{opCold, opWarm, opMiss, opMemo} {
		if !b.wants(op) {
			continue
		}
		switch {
		case op == opWarm && k.noWarm:
			b.add(base, op, "n/a: no memory layer", nil)
		case op == opMemo && !k.has(opMemo):
			if why := k.missing[op]; why != "" {
				b.add(base, op, why, nil)
			}
		default:
			r := j
			r.Op, r.Count = op, reads
			b.measure(base, k, r)
		}
	}
}

// batch runs the batch row of one store: cfg.batchEntries entries written
// as one batch, cfg.batchReps times.
func (b *bench) batch(k *storeKind, size int) {
	base := row{Store: k.name, ValueSize: size, Keys: b.cfg.batchEntries, Procs: 1}
	if !k.has(opBatch) && k.missing[opBatch] != "" {
		b.add(base, opBatch, k.missing[opBatch], nil)
		return
	}
	dir, err := b.freshDir(k)
	if err != nil {
		b.add(base, opBatch, "", err)
		return
	}
	defer os.RemoveAll(dir)
	b.measure(base, k, job{Store: k.name, Dir: dir, Op: opBatch, Keys: b.cfg.batchEntries, Count: b.cfg.batchEntries, ValueSize: size, Workers: 1, Reps: b.cfg.batchReps})
}

// rss fills a store with cfg.memKeys entries of 100 bytes, then measures the
// peak memory of a fresh process opening it and reading cfg.memReads keys.
func (b *bench) rss(k *storeKind) {
	const size = 100
	base := row{Store: k.name, ValueSize: size, Keys: b.cfg.memKeys, Procs: 1}
	dir, err := b.freshDir(k)
	if err != nil {
		b.add(base, opRSS, "", err)
		return
	}
	defer os.RemoveAll(dir)
	j := job{Store: k.name, Dir: dir, Keys: b.cfg.memKeys, ValueSize: size, Workers: 1}
	fmt.Fprintf(b.log, "filling %s with %s entries for the memory row\n", k.name, count(b.cfg.memKeys))
	if err := b.fill(k, j); err != nil {
		b.add(base, opRSS, "", err)
		return
	}
	j.Op, j.Count = opRSS, min(b.cfg.memReads, b.cfg.memKeys)
	b.measure(base, k, j)
}

// fill writes entries 0..j.Keys-1 into j.Dir, untimed, in one process.
func (b *bench) fill(k *storeKind, j job) error {
	j.Op, j.Count, j.Worker, j.Workers = opFill, j.Keys, 0, 1
	msgs, err := b.run.run(k, j)
	for _, m := range msgs {
		if m.Errors > 0 {
			err = fmt.Errorf("filling %s: %d errors; first: %s", k.name, m.Errors, m.FirstError)
		}
	}
	return err
}

// measure runs j and records its row.
func (b *bench) measure(base row, k *storeKind, j job) *row {
	r := base
	r.Op = j.Op
	if b.cfg.profile != "" && !k.python {
		j.Profile = filepath.Join(b.cfg.profile, fmt.Sprintf("%s-%s-%d-%d-p%d.pprof", k.name, j.Op, j.Keys, j.ValueSize, j.Workers))
	}
	msgs, err := b.run.run(k, j)
	if err == nil {
		r.aggregate(msgs)
	} else {
		r.Err = err.Error()
	}
	b.rows = append(b.rows, &r)
	fmt.Fprintln(b.log, progressLine(&r))
	return &r
}

// add records a row without figures: a note, or an error.
func (b *bench) add(base row, op, note string, err error) *row {
	r := base
	r.Op, r.Note = op, note
	if err != nil {
		r.Err = err.Error()
	}
	b.rows = append(b.rows, &r)
	fmt.Fprintln(b.log, progressLine(&r))
	return &r
}

// freshDir makes an empty directory for one store.
func (b *bench) freshDir(k *storeKind) (string, error) {
	b.dirSeq++
	dir := filepath.Join(b.cfg.dir, fmt.Sprintf("%s-%d", k.name, b.dirSeq))
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o777)
}

// failed reports the rows that went wrong.
func (b *bench) failed() []*row {
	var out []*row
	for _, r := range b.rows {
		if r.Err != "" {
			out = append(out, r)
		}
	}
	return out
}
