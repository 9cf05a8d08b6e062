package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// report prints a finished run: the machine, the command, the tables, the
// targets and the notes.
type report struct {
	bench     *bench
	args      []string
	pyVersion string
	took      time.Duration
	load      [2]string // load averages at the start and the end of the run
}

// results is what a finished run leaves behind: everything the text and
// Markdown reports and the charts are drawn from. A run writes it as JSON
// (-results), and -plot draws the report and the charts again from that file
// without running anything.
type results struct {
	Machine []string `json:"machine"` // one line each: CPU, OS, file system, load, software
	Command string   `json:"command"` // how to repeat the run, in bench/
	Notes   []string `json:"notes"`   // what the columns mean, what was skipped
	Rows    []*row   `json:"rows"`
}

// results collects what the report prints.
func (r *report) results() *results {
	rows := r.bench.rows
	sortRows(rows)
	return &results{Machine: r.machine(), Command: r.command(), Notes: r.notes(), Rows: rows}
}

func (res *results) text(w io.Writer) {
	fmt.Fprintln(w)
	for _, l := range res.Machine {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "command: %s\n", res.Command)
	for _, s := range sections(res.Rows) {
		fmt.Fprintf(w, "\n== %s ==\n", s.textTitle)
		s.table.text(w)
	}
	fmt.Fprintln(w, "\nnotes:")
	for _, n := range res.Notes {
		fmt.Fprintln(w, "- "+n)
	}
}

func (res *results) markdown(w io.Writer) {
	fmt.Fprintln(w, "## Machine")
	fmt.Fprintln(w)
	for _, l := range res.Machine {
		fmt.Fprintln(w, "- "+l)
	}
	fmt.Fprintf(w, "\nCommand (in `bench/`):\n\n```\n%s\n```\n", res.Command)
	for _, s := range sections(res.Rows) {
		fmt.Fprintf(w, "\n### %s\n\n", s.title)
		s.table.markdown(w)
	}
	fmt.Fprintf(w, "\n### Notes\n\n")
	for _, n := range res.Notes {
		fmt.Fprintln(w, "- "+n)
	}
}

// section is one table of the report, under its title (textTitle in the
// plain-text report).
type section struct {
	title, textTitle string
	table            *table
}

// sections are the report's tables in order: the headline ratios, one
// table per key count and value size, then those of batches, memory and
// targets when they have rows.
func sections(rows []*row) []section {
	var out []section
	for _, keys := range distinct(rows, func(r *row) int { return r.Keys }) {
		if t, sizes := headlineTable(rows, keys); len(t.rows) > 0 {
			title := fmt.Sprintf("bucketcache against each store, %s keys: the store's p50 over bucketcache's, 1 process (%s)", count(keys), sizes)
			out = append(out, section{title, title, t})
		}
	}
	titles, tables := opTables(rows)
	for i, t := range tables {
		out = append(out, section{titles[i], titles[i], t})
	}
	for _, s := range []section{
		{"Batch writes", "batch writes", batchTable(rows)},
		{"Memory: open a store, read some keys", "memory: open a store, read some keys", rssTable(rows)},
		{"Targets", "targets", targetsTable(rows)},
	} {
		if len(s.table.rows) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// command is how to repeat this run.
func (r *report) command() string {
	return strings.TrimSpace("go run . " + strings.Join(r.args, " "))
}

// notes explains the columns and lists what was skipped.
func (r *report) notes() []string {
	out := []string{
		"ops/s: operations of all processes over the wall time from the first one's start to the last one's end; for warm Get and memoized hit (each timed call follows an untimed first one) and batches, the sum over processes of operations over time spent in the timed calls.",
		"x floor, x bucketcache: time per operation relative to the floor's and to bucketcache's in the same row and run (from ops/s); 2.00 means twice as long, below 1 means faster.",
		"Every row runs in fresh processes started together. cold Get: the first read of each entry in a process that has never read it (the operating system's page cache may still hold the file: it is not dropped). warm Get: a second Get of the entry just read. miss: Get of a key never written.",
		"The file-per-key stores (bucketcache, floor, diskv) open, read and close one file per cold Get; diskcache keeps its SQLite database open and mapped, so its get of a small value never opens a file.",
		"Stores locked to one process (bbolt, badger) run only the 1-process rows.",
	}
	if n := r.bench.cfg.runs; n > 1 {
		out = append(out, fmt.Sprintf("Every row ran %d times, the stores taking turns; each line shows the run with the median ops/s (the lower middle one for an even count), with that run's p50 and p99. A row that failed in any run shows the failure.", n))
	}
	for _, k := range r.bench.kinds {
		out = append(out, k.name+": "+k.note)
	}
	out = append(out, r.bench.notes...)
	out = append(out, fmt.Sprintf("The run took %v.", r.took.Round(time.Second)))
	return out
}

// machine describes where the run happened.
func (r *report) machine() []string {
	var out []string
	cpu := cpuModel()
	out = append(out, fmt.Sprintf("CPU: %s, %d cores; memory: %s", cpu, runtime.NumCPU(), memTotal()))
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		out = append(out, fmt.Sprintf("OS: %s, Linux %s", osName(), unix.ByteSliceToString(u.Release[:])))
	}
	out = append(out, "file system of the stores: "+fsType(r.bench.cfg.dir))
	out = append(out, fmt.Sprintf("load average (1, 5, 15 min) at the start: %s; at the end: %s", r.load[0], r.load[1]))
	deps := []string{runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/peterbourgon/diskv/v3", "go.etcd.io/bbolt", "github.com/dgraph-io/badger/v4":
				deps = append(deps, d.Path+" "+d.Version)
			}
		}
	}
	if r.pyVersion != "" {
		deps = append(deps, r.pyVersion)
	}
	out = append(out, "software: "+strings.Join(deps, ", "))
	return out
}

// loadAverage is the system's 1, 5 and 15 minute load averages: other work
// on the machine during a run shows here.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if err != nil || len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		return v
	}
	return runtime.GOARCH
}

func memTotal() string {
	v := procField("/proc/meminfo", "MemTotal")
	var kb int64
	if _, err := fmt.Sscanf(v, "%d kB", &kb); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
}

func osName() string {
	v := procField("/etc/os-release", "PRETTY_NAME")
	return strings.Trim(v, `"`)
}

// procField returns the value of the first "name: value" or name=value line.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			k, v, ok = strings.Cut(sc.Text(), "=")
		}
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// fsType names the file system holding dir, from the longest matching
// mount point.
func fsType(dir string) string {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	best, typ := "", "unknown"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		mp := fields[1]
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, typ = mp, fields[2]
		}
	}
	return typ
}
