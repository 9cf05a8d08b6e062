package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"
)

// workerArg is the hidden first argument that turns the harness binary into
// a worker.
const workerArg = "__worker"

// workerMain runs one job read from in, writing messages to out.
func workerMain(in io.Reader, out io.Writer) error {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("worker: reading job: %w", err)
	}
	var j job
	if err := json.Unmarshal(line, &j); err != nil {
		return fmt.Errorf("worker: bad job %q: %w", line, err)
	}
	enc := json.NewEncoder(out)
	barrier := func() error {
		if err := enc.Encode(message{Ready: true}); err != nil {
			return err
		}
		_, err := r.ReadBytes('\n')
		return err
	}
	return enc.Encode(runJob(j, barrier))
}

// runJob opens the store, prepares, waits at the barrier, runs the timed
// part and closes the store.
func runJob(j job, barrier func() error) message {
	var m message
	if j.Op == opRSS {
		return runRSS(j, barrier)
	}
	s, err := openGo(j.Store, j.Dir)
	if err != nil {
		m.fail(err)
		return m
	}
	defer func() {
		if err := s.Close(); err != nil {
			m.fail(fmt.Errorf("close: %w", err))
		}
	}()
	var timed func(*message)
	switch j.Op {
	case opFill:
		timed = fillOp(s, j)
	case opSet:
		timed = setOp(s, j)
	case opCold, opMiss:
		timed = getOp(s, j)
	case opWarm:
		timed = warmOp(s, j)
	case opMemo:
		timed, err = memoOp(s, j)
	case opBatch:
		timed, err = batchOp(s, j)
	default:
		err = fmt.Errorf("unknown op %q", j.Op)
	}
	if err != nil {
		m.fail(err)
		return m
	}
	// Collect garbage made while preparing, so the timed part does not pay
	// for it, and leave the collector on as a user would have it.
	runtime.GC()
	if err := barrier(); err != nil {
		m.fail(fmt.Errorf("barrier: %w", err))
		return m
	}
	stop, err := startProfile(j.Profile)
	if err != nil {
		m.fail(err)
		return m
	}
	m.StartNS = time.Now().UnixNano()
	timed(&m)
	m.EndNS = time.Now().UnixNano()
	if err := stop(); err != nil {
		m.fail(err)
	}
	return m
}

// startProfile starts a CPU profile into file, if it is set, and returns
// what stops it.
func startProfile(file string) (stop func() error, err error) {
	if file == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// runRSS measures the peak resident memory of opening a store and reading
// j.Count of its j.Keys entries, beyond the process as it was before.
func runRSS(j job, barrier func() error) message {
	var m message
	if err := barrier(); err != nil {
		m.fail(err)
		return m
	}
	debug.FreeOSMemory()
	base, err := resetPeakRSS()
	if err != nil {
		m.fail(err)
		return m
	}
	m.RSSBase = base
	m.StartNS = time.Now().UnixNano()
	s, err := openGo(j.Store, j.Dir)
	if err != nil {
		m.fail(err)
		return m
	}
	for _, jj := range share(j.Count, 0, 1) {
		i := perm(jj, j.Keys)
		v, ok, err := s.Get(keyOf(i))
		switch {
		case err != nil:
			m.fail(err)
		case !ok || !check(v, i, j.ValueSize):
			m.fail(fmt.Errorf("get %s: %w", keyOf(i), errMismatch))
		}
	}
	m.Items = j.Count
	m.EndNS = time.Now().UnixNano()
	if m.RSSPeak, err = peakRSS(); err != nil {
		m.fail(err)
	}
	if err := s.Close(); err != nil {
		m.fail(err)
	}
	return m
}

// maybeWorker runs the process as a worker, and exits, when it was started
// as one (by main, and by TestMain in the test binary).
func maybeWorker() {
	if len(os.Args) > 1 && os.Args[1] == workerArg {
		if err := workerMain(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}
