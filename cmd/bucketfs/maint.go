package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/bucketcache/bucketcache/internal/store"
	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

// cmdStats counts what the bucket holds, checking every entry as ls does.
func cmdStats(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("stats", flag.ContinueOnError)
	rest, err := parse(fl, args, stderr, "BUCKET_DIR")
	if err != nil {
		return err
	}
	d, err := openView(rest[0])
	if err != nil {
		return err
	}
	defer d.Close()
	var count [5]int
	var bytes [5]int64
	n := d.Layout().Count()
	perShard := make([]int, n)
	codecs := map[string]int{}
	var errs []error
	bar := newProgress(stderr, "stats", n)
	for i := 0; i < n; i++ {
		err := d.Scan(i, func(f *view.File) bool {
			count[f.Status]++
			bytes[f.Status] += f.Size
			if f.Status == view.Live {
				perShard[i]++
				codecs[f.Header.Codec]++
			}
			return true
		})
		if err != nil {
			errs = append(errs, err)
		}
		bar.update(i + 1)
	}
	bar.finish()

	fmt.Fprintf(stdout, "bucket     %s\n", d.Path())
	used := 0
	for _, c := range perShard {
		if c > 0 {
			used++
		}
	}
	fmt.Fprintf(stdout, "shards     %d (%d holding live entries)\n", n, used)
	fmt.Fprintf(stdout, "entries    %d live, %s\n", count[view.Live], size(bytes[view.Live]))
	if len(codecs) > 0 {
		names := make([]string, 0, len(codecs))
		for c := range codecs {
			names = append(names, c)
		}
		slices.Sort(names)
		fmt.Fprint(stdout, "codecs    ")
		for _, c := range names {
			fmt.Fprintf(stdout, " %s %d", c, codecs[c])
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "expired    %d, %s (prune removes them)\n", count[view.Expired], size(bytes[view.Expired]))
	printUsage(stdout, d.Path(), count[view.Live]+count[view.Expired]+count[view.Damaged], bytes[view.Live]+bytes[view.Expired]+bytes[view.Damaged])
	fmt.Fprintf(stdout, "damaged    %d, %s (prune -full or verify -fix removes them)\n", count[view.Damaged], size(bytes[view.Damaged]))
	if count[view.Foreign] > 0 {
		fmt.Fprintf(stdout, "foreign    %d, %s (in entries' places but not the bucket's: left alone)\n", count[view.Foreign], size(bytes[view.Foreign]))
	}
	fmt.Fprintf(stdout, "temporary  %d, %s (writes in progress, or left by crashes)\n", count[view.Temp], size(bytes[view.Temp]))
	sorted := slices.Clone(perShard)
	slices.Sort(sorted)
	mean := float64(count[view.Live]) / float64(n)
	var sq float64
	for _, c := range perShard {
		sq += (float64(c) - mean) * (float64(c) - mean)
	}
	busiest := slices.Index(perShard, sorted[n-1])
	fmt.Fprintf(stdout, "per shard  min %d, median %d, max %d (shard %s), mean %.1f, stddev %.1f\n",
		sorted[0], sorted[n/2], sorted[n-1], d.Layout().DirName(busiest), mean, math.Sqrt(sq/float64(n)))
	return errors.Join(errs...)
}

// printUsage shows the entry files' usage against the size limits that the
// processes using the bucket recorded.
func printUsage(w io.Writer, dir string, files int, used int64) {
	l, err := shard.ReadLimits(dir)
	switch {
	case err != nil:
		fmt.Fprintf(w, "limits     unreadable: %v\n", err)
	case l == shard.Limits{}:
		fmt.Fprintf(w, "limits     none recorded (entry files: %d, %s)\n", files, size(used))
	default:
		fmt.Fprintf(w, "limits     entries %d of %s, bytes %s of %s (trims evict down to 90%%)\n",
			files, limitText(l.MaxEntries, strconv.FormatInt(l.MaxEntries, 10)), size(used), limitText(l.MaxBytes, size(l.MaxBytes)))
	}
}

func limitText(limit int64, text string) string {
	if limit == 0 {
		return "unlimited"
	}
	return text
}

// openStore opens an existing bucket for maintenance, never creating one.
func openStore(dir string) (*store.Store, error) {
	d, err := openView(dir) // checks, without creating anything
	if err != nil {
		return nil, err
	}
	d.Close()
	return store.Open(dir, store.Config{})
}

// cmdPrune removes expired entries, damaged files and abandoned temporary
// files, shard by shard: one engine call, store.Sweep.
func cmdPrune(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("prune", flag.ContinueOnError)
	full := fl.Bool("full", false, "read every entry in full, to find and remove damage inside values too (as verify -fix does)")
	rest, err := parse(fl, args, stderr, "BUCKET_DIR")
	if err != nil {
		return err
	}
	st, err := openStore(rest[0])
	if err != nil {
		return err
	}
	defer st.Close()
	bar := newProgress(stderr, "prune", st.Layout().Count())
	ctx, stop := interruptible()
	defer stop()
	info, err := st.Sweep(ctx, store.SweepOptions{Full: *full, Progress: func(done, _ int) { bar.update(done) }})
	bar.finish()
	fmt.Fprintf(stdout, "pruned %s, %s: %d expired, %d damaged, %d temporary, %d key locks\n",
		count(info.Files, "file"), size(info.Bytes), info.Expired, info.Corrupt, info.Temp, info.Locks)
	if info.Foreign > 0 {
		fmt.Fprintf(stdout, "left alone %s in entries' places that %s not the bucket's (run verify to list them)\n",
			count(info.Foreign, "file"), isAre(info.Foreign))
	}
	return err
}

// cmdVerify reads every entry in full and reports, or with -fix removes,
// the damaged ones: one engine call, store.Sweep.
func cmdVerify(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("verify", flag.ContinueOnError)
	fix := fl.Bool("fix", false, "remove damaged entry files (re-checked under the shard's lock)")
	rest, err := parse(fl, args, stderr, "BUCKET_DIR")
	if err != nil {
		return err
	}
	st, err := openStore(rest[0])
	if err != nil {
		return err
	}
	defer st.Close()
	bar := newProgress(stderr, "verify", st.Layout().Count())
	left := 0
	report := func(f store.Finding) {
		bar.finish()
		what := "left in place"
		switch {
		case f.Reason.Foreign():
			what = "not the bucket's: left alone"
		case f.Removed:
			what = "removed"
		case f.Err != nil:
			what = "not removed: " + f.Err.Error()
			left++
		default:
			left++
		}
		fmt.Fprintf(stdout, "%s: %s (%s)\n", filepath.Join(st.Dir(), f.Path), f.Reason, what)
	}
	ctx, stop := interruptible()
	defer stop()
	info, err := st.Sweep(ctx, store.SweepOptions{Verify: true, Fix: *fix, Report: report,
		Progress: func(done, _ int) { bar.update(done) }})
	bar.finish()
	fmt.Fprintf(stdout, "checked %s: %d sound, %d damaged", count(info.Checked, "entry file"), info.Checked-info.Damaged, info.Damaged)
	if *fix {
		fmt.Fprintf(stdout, ", %d removed", info.Corrupt)
	}
	if info.Foreign > 0 {
		fmt.Fprintf(stdout, ", %s not the bucket's", count(info.Foreign, "other file"))
	}
	fmt.Fprintln(stdout)
	if left > 0 {
		hint := ""
		if !*fix {
			hint = "; run verify -fix to remove them"
		}
		err = errors.Join(err, fmt.Errorf("%s %s%s", count(left, "damaged entry file"), remainText(left), hint))
	}
	return err
}

// count is n and noun, with the noun in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func remainText(n int) string {
	if n == 1 {
		return "remains"
	}
	return "remain"
}

// interruptible is a context that ends on an interrupt (Ctrl-C): prune and
// verify then stop between files, leaving every shard consistent and no lock
// held, and report how far they got.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}
