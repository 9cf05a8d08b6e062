//go:build linux

package multihost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// In the netns test bed, a partition cuts host B off from the server while
// B is running a memoized function, holding the argument's lock. The server
// drops B's connection, and with it B's locks, after the volume's timeout;
// host A, waiting for the lock, then takes it and runs the function itself:
// exactly-once degrades to at-least-once. Meanwhile both hosts keep writing
// self-checking values; after the partition heals, every value on both
// hosts is intact.

type partArgs struct {
	Dir  string
	Name string
	Runs string // the count file, on local disk
}

type partReport struct {
	Name     string
	Result   string
	Err      string
	Took     time.Duration // the memoized call, from start to return
	Sets     int           // the writer's successful Sets
	Failed   int           // and failed ones (expected while cut off)
	FirstErr string
	Last     map[string]uint64 // the writer's highest attempted Seq by key
	MaxSet   time.Duration     // the writer's slowest Set
}

const (
	partKey        = 42
	partWriterKeys = 8
)

func partWriterKey(i int) string { return fmt.Sprint("w-", i) }

func init() { childJobs["partition"] = partChild }

func partChild(t *testing.T, raw []byte) {
	var a partArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	b, err := bucket.Open[int, string](a.Dir, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	vb, err := bucket.Open[string, selfcheck.Value](a.Dir+"-values", bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vb.Close()
	release, stop := make(chan struct{}), make(chan struct{})
	cmds := commands()
	say("ready")
	await(t, cmds, "go")
	var sets atomic.Int64 // the writer's successful Sets
	go func() {
		for c := range cmds {
			switch c {
			case "release":
				close(release)
			case "stop":
				close(stop)
			case "sets":
				say("sets %d", sets.Load())
			}
		}
	}()
	f := bucket.Memoize(b, "partitioned", func(_ context.Context, k int) (string, error) {
		if err := appendLine(a.Runs, fmt.Sprintf("%d %s", k, a.Name)); err != nil {
			return "", err
		}
		say("computing %s", a.Name)
		<-release // the computation lasts until the parent says
		return "computed by " + a.Name, nil
	})
	r := partReport{Name: a.Name, Last: map[string]uint64{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer, over the keys in turn
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := partWriterKey(i % partWriterKeys)
			r.Last[key]++
			setStart := time.Now()
			err := vb.Set(key, selfcheck.New(key, a.Name, r.Last[key], 1000))
			r.MaxSet = max(r.MaxSet, time.Since(setStart))
			if err != nil {
				r.Failed++
				if r.FirstErr == "" {
					r.FirstErr = err.Error()
				}
				time.Sleep(10 * time.Millisecond) // cut off: fail at a modest pace
				continue
			}
			r.Sets++
			sets.Add(1)
		}
	}()
	start := time.Now()
	v, err := f(context.Background(), partKey)
	r.Took = time.Since(start)
	r.Result = v
	if err != nil {
		r.Err = err.Error()
	}
	say("returned %s", a.Name)
	<-stop
	wg.Wait()
	sayReport(t, r)
}

// TestPartition: see above. The volume's timeout is lowered to
// partitionTimeout seconds for the test (GlusterFS's default is 42).
func TestPartition(t *testing.T) {
	bd := netnsBed(t, gluster)
	rel := bd.bucketDir(t)
	runs := filepath.Join(t.TempDir(), "runs")
	start := func(host string) *child {
		c := startChild(t, host, bd.ns(host), "partition", partArgs{
			Dir: bd.at(host, rel), Name: host, Runs: runs,
		})
		c.expect("ready", time.Minute)
		c.send("go")
		return c
	}

	b := start("B")
	b.expect("computing B", time.Minute) // B holds the argument's lock
	bd.partition(t, "cut", "B")
	cut := time.Now()
	a := start("A")
	// A finds the lock held, and can take it only once the server has
	// dropped B: the function then runs a second time.
	a.expect("computing A", 2*time.Minute)
	takeover := time.Since(cut)
	a.send("release")
	a.expect("returned A", time.Minute)

	bd.partition(t, "heal", "B")
	healed := time.Now()
	reconnected := bd.waitMount(t, "B", rel, time.Minute)
	// B's run ends after A's, as it may on a cut-off host, and stores its
	// result over A's.
	b.send("release")
	b.expect("returned B", 2*time.Minute)
	// Both writers go on until B's has written again since the heal.
	b.send("sets")
	before, _ := strconv.Atoi(b.expect("sets", time.Minute))
	for deadline := time.Now().Add(time.Minute); ; {
		b.send("sets")
		if n, _ := strconv.Atoi(b.expect("sets", time.Minute)); n > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's writer wrote nothing for a minute after the partition healed:\n%s", b.output())
		}
		time.Sleep(50 * time.Millisecond) // polling another process
	}
	var ra, rb partReport
	for _, c := range []*child{a, b} {
		c.send("stop")
	}
	a.report(&ra, time.Minute)
	b.report(&rb, time.Minute)
	a.wait(time.Minute)
	b.wait(time.Minute)

	got := runsByKey(t, runs)[partKey]
	if len(got) != 2 {
		t.Errorf("the function ran %d times (%v): want twice, once on each side of the partition", len(got), got)
	}
	if ra.Result != "computed by A" || ra.Err != "" {
		t.Errorf("A's call returned %q, %q; want its own result", ra.Result, ra.Err)
	}
	// B's run may or may not have been stored (its lock is lost, its
	// writes may fail while it reconnects), but B's call returns B's
	// result either way.
	if rb.Result != "computed by B" {
		t.Errorf("B's call returned %q, %q; want its own result", rb.Result, rb.Err)
	}

	// After the partition, both hosts read the same intact values.
	final := map[string]string{}
	for _, host := range []string{"A", "B"} {
		mb, err := bucket.Open[int, string](bd.at(host, rel), bucket.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f := bucket.Memoize(mb, "partitioned", func(context.Context, int) (string, error) {
			return "", errors.New("ran a third time")
		})
		v, err := f(context.Background(), partKey)
		if err != nil || (v != "computed by A" && v != "computed by B") {
			t.Errorf("host %s: memoized result %q, %v", host, v, err)
		}
		final[host] = v
		mb.Close()

		vb, err := bucket.Open[string, selfcheck.Value](bd.at(host, rel)+"-values", bucket.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range partWriterKeys {
			key := partWriterKey(i)
			v, err := vb.Get(key)
			if errors.Is(err, bucket.ErrNotFound) {
				continue
			}
			if err == nil {
				err = selfcheck.Check(key, v)
			}
			if err == nil && v.Seq > map[string]partReport{"A": ra, "B": rb}[v.Writer].Last[key] {
				err = fmt.Errorf("%s's value %d was never written", v.Writer, v.Seq)
			}
			if err != nil {
				t.Errorf("host %s: %s: %v", host, key, err)
			}
		}
		vb.Close()
	}
	if final["A"] != final["B"] {
		t.Errorf("the hosts disagree on the memoized result: %q and %q", final["A"], final["B"])
	}
	t.Logf("partition timeout %ds: A took over %v after the cut; B usable again %v after the heal; B's call took %v, its error: %q; final result %q; writers: A %d sets, %d failed; B %d sets, %d failed (first: %s)",
		partitionTimeout, takeover.Round(time.Millisecond), reconnected.Sub(healed).Round(time.Millisecond),
		rb.Took.Round(time.Millisecond), rb.Err, final["A"], ra.Sets, ra.Failed, rb.Sets, rb.Failed, rb.FirstErr)
	fmt.Fprintf(os.Stderr, "FIGURES partition: timeout=%ds takeover=%v executions=%d b_stored=%v final=%q a_sets=%d a_failed=%d b_sets=%d b_failed=%d torn=0 failed=%v\n",
		partitionTimeout, takeover.Round(time.Millisecond), len(got), rb.Err == "", final["A"], ra.Sets, ra.Failed, rb.Sets, rb.Failed, t.Failed())
}

// waitMount waits until host's view of the bucket directory rel answers
// again (after a partition heals, the client reconnects by itself), and
// returns when it did.
func (b *bed) waitMount(t *testing.T, host, rel string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, err := os.Stat(b.at(host, rel))
		if err == nil {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("host %s's mount still fails %v after the partition healed: %v", host, timeout, err)
		}
		time.Sleep(50 * time.Millisecond) // polling another process: the client's reconnection
	}
}
