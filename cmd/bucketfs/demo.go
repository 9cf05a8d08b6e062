package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
	"github.com/bucketcache/bucketcache/fusefs"
)

// City is the demo's value type.
type City struct {
	Name       string
	Country    string
	Population int
}

// Point is the demo's struct key.
type Point struct{ X, Y int }

// demoClock is a clock the demo moves by hand, so that expiry needs no
// waiting. It starts at the real time, so that what the demo writes is
// still live for tools run on the kept bucket afterwards.
type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *demoClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cmdDemo runs the library end to end on a temporary bucket and tells what
// it did.
func cmdDemo(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("demo", flag.ContinueOnError)
	keep := fl.Bool("keep", false, "keep the demo bucket directory instead of removing it")
	if _, err := parse(fl, args, stderr); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bucketcache-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	p := func(format string, args ...any) { fmt.Fprintf(stdout, format+"\n", args...) }
	if err := demo(dir, p, stdout); err != nil {
		return err
	}
	if *keep {
		p("\nKept the bucket in %s. Try: go run ./cmd/bucketfs ls %s", dir, dir)
	} else {
		p("\nRemoved %s. Done.", dir)
	}
	return nil
}

func demo(dir string, p func(string, ...any), stdout io.Writer) error {
	clk := &demoClock{t: time.Now().UTC().Truncate(time.Second)}
	p("bucketcache demo: a bucket in %s, on a hand-moved clock (no waiting)", dir)

	p("\n1. Open a Bucket[string, City] with a 1h lifetime and Set three entries.")
	cities, err := bucket.Open[string, City](dir, bucket.Options{Lifetime: time.Hour, Now: clk.Now})
	if err != nil {
		return err
	}
	defer cities.Close()
	for _, c := range []City{{"Paris", "FR", 2_100_000}, {"Tokyo", "JP", 14_000_000}, {"Lima", "PE", 10_000_000}} {
		if err := cities.Set(strings.ToLower(c.Name), c); err != nil {
			return err
		}
	}
	p("   Set paris, tokyo, lima: each is one file, written atomically")

	p("\n2. Other key and value types share the directory.")
	points, err := bucket.Open[Point, string](dir, bucket.Options{Now: clk.Now})
	if err != nil {
		return err
	}
	defer points.Close()
	if err := points.Set(Point{1, 2}, "a struct key"); err != nil {
		return err
	}
	raw, err := bucket.Open[string, []byte](dir, bucket.Options{Codec: bucket.Raw, Now: clk.Now})
	if err != nil {
		return err
	}
	defer raw.Close()
	if err := raw.Set("hello.txt", []byte("Hello, bucket!\n")); err != nil {
		return err
	}
	p("   Bucket[Point, string]: Set {X:1 Y:2}; Bucket[string, []byte] (Raw codec): Set hello.txt")

	p("\n3. Get cold (from the file), then warm (from memory).")
	cities.Unload("paris") // Set kept a copy in memory: drop it for a cold read
	v, err := cities.Get("paris")
	if err != nil {
		return err
	}
	s1 := cities.Stats()
	if _, err := cities.Get("paris"); err != nil {
		return err
	}
	s2 := cities.Stats()
	p("   Unload(paris); Get(paris) = %+v", v)
	p("   memory hits: %d after that cold Get, %d after a second, warm one", s1.MemoryHits, s2.MemoryHits)

	p("\n4. A second Bucket on the same directory (think: another process) writes; the first sees it.")
	other, err := bucket.Open[string, City](dir, bucket.Options{Lifetime: time.Hour, Now: clk.Now})
	if err != nil {
		return err
	}
	defer other.Close()
	if err := other.Set("paris", City{"Paris", "FR", 2_102_650}); err != nil {
		return err
	}
	v, err = cities.Get("paris")
	if err != nil {
		return err
	}
	p("   other.Set(paris, population 2102650); first.Get(paris).Population = %d", v.Population)

	p("\n5. Delete and Contains.")
	if err := cities.Delete("lima"); err != nil {
		return err
	}
	hasLima, err := cities.Contains("lima")
	if err != nil {
		return err
	}
	hasTokyo, err := cities.Contains("tokyo")
	if err != nil {
		return err
	}
	err = cities.Delete("lima")
	p("   Delete(lima); Contains(lima) = %v, Contains(tokyo) = %v; Delete(lima) again: %v", hasLima, hasTokyo, err)

	p("\n6. Expiry and Prune.")
	if err := cities.SetWithLifetime("flash", City{"Flash", "XX", 1}, time.Minute); err != nil {
		return err
	}
	clk.advance(2 * time.Minute)
	_, err = cities.Get("flash")
	p("   SetWithLifetime(flash, 1m); clock +2m; Get(flash): %v (ErrNotFound: %v)", err, errors.Is(err, bucket.ErrNotFound))
	if err := cities.SetWithLifetime("blink", City{"Blink", "XX", 1}, time.Second); err != nil {
		return err
	}
	clk.advance(2 * time.Second)
	info, err := cities.Prune()
	if err != nil {
		return err
	}
	p("   SetWithLifetime(blink, 1s); clock +2s; Prune() = %+v", info)

	p("\n7. Len and All.")
	n, err := cities.Len()
	if err != nil {
		return err
	}
	p("   Len() = %d live entries in the directory (all key types)", n)
	var names []string
	for k, c := range cities.All() {
		names = append(names, fmt.Sprintf("%s=%s/%d", k, c.Country, c.Population))
	}
	slices.Sort(names)
	p("   All() over Bucket[string, City]: %s", strings.Join(names, ", "))

	p("\n8. Deferred writes: three Sets in memory, written in one batch per shard.")
	err = deferred.Write(cities, func(d *deferred.Bucket[string, City]) error {
		for _, c := range []City{{"Oslo", "NO", 700_000}, {"Quito", "EC", 2_800_000}, {"Rome", "IT", 2_800_000}} {
			if err := d.Set(strings.ToLower(c.Name), c); err != nil {
				return err
			}
		}
		pending, _ := cities.Contains("oslo")
		p("   inside deferred.Write: on disk yet? %v", pending)
		return nil
	})
	if err != nil {
		return err
	}
	onDisk, err := cities.Contains("oslo")
	if err != nil {
		return err
	}
	p("   after Write returned: on disk? %v", onDisk)

	p("\n9. A memoized function called twice: it runs once.")
	squares, err := bucket.Open[int, int](dir, bucket.Options{Now: clk.Now})
	if err != nil {
		return err
	}
	defer squares.Close()
	runs := 0
	square := bucket.Memoize(squares, "square", func(ctx context.Context, x int) (int, error) {
		runs++
		return x * x, nil
	})
	a, err := square(context.Background(), 12)
	if err != nil {
		return err
	}
	b, err := square(context.Background(), 12)
	if err != nil {
		return err
	}
	st := squares.Stats()
	p("   square(12) = %d, square(12) = %d; runs: %d, memo hits: %d, misses: %d", a, b, runs, st.MemoHits, st.MemoMisses)

	p("\n10. The read-only FUSE view.")
	return demoMount(dir, clk, p)
}

// demoMount mounts the demo bucket, lists it, shows an entry and its
// extended attributes, and unmounts; or says why it cannot.
func demoMount(dir string, clk *demoClock, p func(string, ...any)) error {
	if err := fusefs.CheckFUSE(); err != nil {
		p("%s", wrap("No mount here: "+err.Error()+".", "    ", 78))
		return nil
	}
	mnt, err := os.MkdirTemp("", "bucketcache-demo-mnt-")
	if err != nil {
		return err
	}
	defer os.Remove(mnt)
	srv, err := fusefs.Mount(dir, mnt, fusefs.Options{Now: clk.Now})
	if err != nil {
		p("%s", wrap("No mount here: "+err.Error()+".", "    ", 78))
		return nil
	}
	defer func() {
		if err := srv.Unmount(); err != nil {
			srv.UnmountLazy()
			select {
			case <-srv.Done():
			case <-time.After(5 * time.Second):
			}
		}
	}()
	p("    Mounted on %s. ls:", mnt)
	entries, err := os.ReadDir(mnt)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p("      %s", e.Name())
	}
	path := filepath.Join(mnt, "paris")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	p("    cat paris:")
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		p("      %s", line)
	}
	p("    Extended attributes of paris:")
	attrs, err := xattrs(path)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		p("      %s = %s", a[0], a[1])
	}
	if err := srv.Unmount(); err != nil {
		return err
	}
	p("    Unmounted.")
	return nil
}

// wrap breaks text into lines of at most width columns (longer words stay
// whole), each starting with indent.
func wrap(text, indent string, width int) string {
	var lines []string
	line := indent
	for _, w := range strings.Fields(text) {
		if line != indent && len(line)+1+len(w) > width {
			lines, line = append(lines, line), indent
		}
		if line != indent {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
