// Command bench runs one workload against bucketcache, the raw file-system
// floor and the caches users would pick instead (diskv, bbolt, badger and
// python-diskcache), side by side in one run, and prints a table: ops/s, p50
// and p99 latency, and each store's time per operation relative to the floor
// and to bucketcache.
//
// Every measurement runs in fresh worker processes (this binary re-executed,
// or a Python driver for python-diskcache), started together through a
// barrier, so "cold" reads are reads of entries the process has never seen
// (the operating system's page cache may still hold the files), and several
// processes share one store exactly as separate programs would.
//
// Usage:
//
//	go run . [flags]           # 1,000 keys; see -h
//	go run . -smoke            # a few entries of everything: checks the harness, not speed
//	go run . -keys 1000,1000000 -markdown BENCHMARKS-run.md
//	go run . -keys 1000 -runs 3 -results results   # the run BENCHMARKS.md shows
//	go run . -plot results/results.json            # tables and charts again, from the saved results
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	maybeWorker()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run parses args, runs the benchmark and prints the tables to out and
// progress to log.
func run(args []string, out, log io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(log)
	var (
		storesF = fs.String("stores", strings.Join(storeOrder, ","), "stores to run, in any order")
		sizesF  = fs.String("sizes", "100,4KiB,1MiB", "value sizes (B, KiB, MiB suffixes)")
		keysF   = fs.String("keys", "1000", "entries per store, comma separated (the full run: 1000,1000000)")
		procsF  = fs.String("procs", "1,2,8", "processes sharing a store (stores that lock the database to one process run 1 only)")
		opsF    = fs.String("ops", "set,cold,warm,miss,memo,batch,rss", "rows to run")
		maxOps  = fs.Int("max-ops", 0, "at most this many timed reads per row (0: one per key)")
		maxB    = fs.String("max-bytes", "8GiB", "skip settings whose entries times value size exceed this")
		batchN  = fs.Int("batch", 10000, "entries per batch in the batch rows")
		batchR  = fs.Int("batch-reps", 5, "batches timed per batch row")
		memKeys = fs.Int("mem-keys", 1000000, "entries in the store of the memory rows")
		memRead = fs.Int("mem-reads", 1000, "reads in the memory rows")
		dir     = fs.String("dir", "", "where the stores are made (default: a new directory under $TMPDIR, removed after)")
		py      = fs.String("python", "/usr/bin/python3", "the Python that has Debian's python3-diskcache")
		timeout = fs.Duration("timeout", 2*time.Hour, "limit for one row")
		mdFile  = fs.String("markdown", "", "also write the report as Markdown to this file")
		resDir  = fs.String("results", "", "also write the results (results.json), the full tables (README.md) and the charts (SVG) into this directory")
		plotF   = fs.String("plot", "", "run nothing: draw the tables and charts again from this results.json, into its directory")
		ratiosF = fs.String("ratios", "", "run nothing: from these files of `go test -bench` output (comma separated, oldest first; compare.sh writes them), write the performance targets' table and chart into the last one's directory")
		profile = fs.String("cpuprofile", "", "write CPU profiles of the Go workers' timed parts into this directory")
		runs    = fs.Int("runs", 1, "run every row this many times (stores taking turns) and report the median")
		smoke   = fs.Bool("smoke", false, "tiny counts of everything: checks the harness works, not its speed")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *ratiosF != "" {
		paths := splitList(*ratiosF)
		var runs []*benchRun
		for _, path := range paths {
			r, err := readBenchRun(path)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return writeRatios(runs, filepath.Dir(paths[len(paths)-1]))
	}
	if *plotF != "" {
		res, err := readResults(*plotF)
		if err != nil {
			return err
		}
		return res.write(filepath.Dir(*plotF), false)
	}
	if *smoke {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		smokeDefault := func(name string, p *string, v string) {
			if !set[name] {
				*p = v
			}
		}
		smokeDefault("keys", keysF, "12")
		smokeDefault("procs", procsF, "1,2")
		for name, p := range map[string]*int{"batch": batchN, "batch-reps": batchR, "mem-keys": memKeys, "mem-reads": memRead} {
			if !set[name] {
				*p = map[string]int{"batch": 20, "batch-reps": 2, "mem-keys": 200, "mem-reads": 20}[name]
			}
		}
		if !set["timeout"] {
			*timeout = 2 * time.Minute
		}
	}
	cfg := config{
		ops: splitList(*opsF), maxOps: *maxOps, batchEntries: *batchN, batchReps: *batchR,
		memKeys: *memKeys, memReads: *memRead, python: *py, timeout: *timeout, profile: *profile, runs: *runs,
	}
	var err error
	if cfg.sizes, err = parseSizes(*sizesF); err != nil {
		return err
	}
	if cfg.keys, err = parseInts("-keys", *keysF); err != nil {
		return err
	}
	if cfg.procs, err = parseInts("-procs", *procsF); err != nil {
		return err
	}
	if cfg.maxBytes, err = parseSize(*maxB); err != nil {
		return fmt.Errorf("-max-bytes: %w", err)
	}
	if cfg.runs < 1 {
		return fmt.Errorf("-runs: %d is not a positive number", cfg.runs)
	}
	for _, op := range cfg.ops {
		if opTitle[op] == "" {
			return fmt.Errorf("-ops: unknown row %q", op)
		}
	}
	kinds, err := selectStores(splitList(*storesF))
	if err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "bucketcache-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if cfg.dir, err = filepath.Abs(*dir); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.dir, 0o777); err != nil {
		return err
	}
	if cfg.profile != "" {
		if cfg.profile, err = filepath.Abs(cfg.profile); err != nil {
			return err
		}
		if err := os.MkdirAll(cfg.profile, 0o777); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, log: log, run: &runner{self: self, timeout: cfg.timeout}}
	pyVersion := ""
	for _, k := range kinds {
		if !k.python {
			b.kinds = append(b.kinds, k)
			continue
		}
		p, v, err := setupPython(cfg.python, cfg.dir)
		if err != nil {
			fmt.Fprintf(log, "skipping %s: %v\n", k.name, err)
			b.notes = append(b.notes, fmt.Sprintf("%s skipped: %v", k.name, firstLine(err.Error())))
			continue
		}
		b.run.py, pyVersion = p, v
		b.kinds = append(b.kinds, k)
	}
	started, loadBefore := time.Now(), loadAverage()
	b.all()
	rep := &report{bench: b, args: args, pyVersion: pyVersion, took: time.Since(started), load: [2]string{loadBefore, loadAverage()}}
	res := rep.results()
	res.text(out)
	if *mdFile != "" {
		if err := writeFile(*mdFile, res.markdown); err != nil {
			return err
		}
	}
	if *resDir != "" {
		if err := res.write(*resDir, true); err != nil {
			return err
		}
	}
	if bad := b.failed(); len(bad) > 0 {
		return fmt.Errorf("%d rows failed; first: %s %s: %s", len(bad), bad[0].Store, opTitle[bad[0].Op], bad[0].Err)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flag, f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty", flag)
	}
	return out, nil
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := parseSize(f)
		if err != nil {
			return nil, fmt.Errorf("-sizes: %w", err)
		}
		out = append(out, int(n))
	}
	if len(out) == 0 {
		return nil, errors.New("-sizes: empty")
	}
	return out, nil
}

// parseSize reads a byte count with an optional B, KiB, MiB or GiB suffix.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}
