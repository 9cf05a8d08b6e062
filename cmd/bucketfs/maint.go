package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strconv"

	"github.com/bucketcache/bucketcache/shard"
	"github.com/bucketcache/bucketcache/store"
	"github.com/bucketcache/bucketcache/view"
)

// cmdStats counts what the bucket holds, reading headers only.
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
	var count [4]int
	var bytes [4]int64
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
	fmt.Fprintf(stdout, "damaged    %d, %s (headers checked; verify reads every value)\n", count[view.Damaged], size(bytes[view.Damaged]))
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
	return store.Open(dir, store.Options{})
}

// cmdPrune removes expired entries, damaged files and abandoned temporary
// files, shard by shard.
func cmdPrune(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("prune", flag.ContinueOnError)
	rest, err := parse(fl, args, stderr, "BUCKET_DIR")
	if err != nil {
		return err
	}
	st, err := openStore(rest[0])
	if err != nil {
		return err
	}
	defer st.Close()
	n := st.Layout().Count()
	var total store.PruneInfo
	var errs []error
	bar := newProgress(stderr, "prune", n)
	for i := 0; i < n; i++ {
		info, err := st.PruneShard(i)
		total.Add(info)
		if err != nil {
			errs = append(errs, err)
		}
		bar.update(i + 1)
	}
	bar.finish()
	fmt.Fprintf(stdout, "pruned %s, %s: %d expired, %d damaged, %d temporary\n",
		plural(total.Files, "file", "files"), size(total.Bytes), total.Expired, total.Corrupt, total.Temp)
	return errors.Join(errs...)
}

// cmdVerify reads every entry in full and reports, or with -fix removes,
// the damaged ones.
func cmdVerify(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("verify", flag.ContinueOnError)
	fix := fl.Bool("fix", false, "remove damaged entry files (re-checked under the shard's lock)")
	rest, err := parse(fl, args, stderr, "BUCKET_DIR")
	if err != nil {
		return err
	}
	d, err := openView(rest[0])
	if err != nil {
		return err
	}
	defer d.Close()
	var st *store.Store
	if *fix {
		if st, err = store.Open(d.Path(), store.Options{}); err != nil {
			return err
		}
		defer st.Close()
	}
	n := d.Layout().Count()
	var checked, ok, expired, damaged, removed, left int
	var errs []error
	bar := newProgress(stderr, "verify", n)
	for i := 0; i < n; i++ {
		err := d.Verify(i, func(f *view.File) bool {
			switch f.Status {
			case view.Temp:
				return true
			case view.Live:
				ok++
			case view.Expired:
				expired++
			case view.Damaged:
				damaged++
			}
			checked++
			if f.Status != view.Damaged {
				return true
			}
			bar.finish()
			what := "left in place"
			switch {
			case st != nil:
				gone, _, err := st.RemoveDamaged(i, path.Base(f.Path))
				switch {
				case err != nil:
					errs = append(errs, err)
					what = "not removed: " + err.Error()
					left++
				case gone:
					what = "removed"
					removed++
				default:
					what = "not removed (sound again, or not a file)"
					if _, statErr := d.Stat(mustHash(f.Path)); statErr != nil {
						left++
					}
				}
			default:
				left++
			}
			fmt.Fprintf(stdout, "%s/%s: %s (%s)\n", d.Path(), f.Path, f.Reason, what)
			return true
		})
		if err != nil {
			errs = append(errs, err)
		}
		bar.update(i + 1)
	}
	bar.finish()
	fmt.Fprintf(stdout, "checked %s: %d sound (%d of them expired), %d damaged", plural(checked, "entry file", "entry files"), ok+expired, expired, damaged)
	if *fix {
		fmt.Fprintf(stdout, ", %d removed", removed)
	}
	fmt.Fprintln(stdout)
	if left > 0 {
		hint := ""
		if !*fix {
			hint = "; run verify -fix to remove them"
		}
		remain := plural(left, "damaged entry file remains", "damaged entry files remain")
		errs = append(errs, fmt.Errorf("%s%s", remain, hint))
	}
	return errors.Join(errs...)
}

// mustHash is the hash an entry file's path names.
func mustHash(rel string) uint64 {
	h, _ := shard.ParseEntryName(path.Base(rel))
	return h
}
