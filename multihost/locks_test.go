//go:build linux

package multihost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/lock"
)

// Lockers are child processes on both hosts that take one lock in turn.
// Both hosts are processes of this machine, so a marker file on the local
// disk, created with O_EXCL by whoever holds the lock and removed before it
// lets go, catches two holders at once exactly.

type lockArgs struct {
	Dir    string // bucket directory through this host's mount
	Lock   string // lock file through this host's mount
	Marker string // marker file on local disk
	Kind   string // "mutex" (Unlock) or "remove" (Remove)
	Rounds int
}

type lockReport struct {
	Overlaps int      // times the marker was already there
	Errors   []string // lock, unlock or bucket errors
}

func init() { childJobs["locker"] = lockChild }

func lockChild(t *testing.T, raw []byte) {
	var a lockArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	b, err := bucket.Open[string, int](a.Dir, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cmds := commands()
	say("ready")
	await(t, cmds, "go")
	var r lockReport
	fail := func(err error) {
		if len(r.Errors) < 10 {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	mu := lock.New(a.Lock)
	for range a.Rounds {
		var err error
		if a.Kind == "mutex" {
			err = mu.Lock(context.Background())
		} else {
			err = mu.Lock(context.Background())
		}
		if err != nil {
			fail(err)
			continue
		}
		m, err := os.OpenFile(a.Marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			r.Overlaps++
		} else {
			m.Close()
		}
		// The critical section: a read-modify-write of a bucket entry,
		// which is exact only if the lock excludes and the read sees the
		// other host's last write.
		n, err := b.Get("counter")
		if err != nil && !errors.Is(err, bucket.ErrNotFound) {
			fail(err)
		}
		if err := b.Set("counter", n+1); err != nil {
			fail(err)
		}
		if m != nil {
			os.Remove(a.Marker)
		}
		if a.Kind == "mutex" {
			err = mu.Unlock()
		} else {
			err = mu.Remove()
		}
		if err != nil {
			fail(err)
		}
	}
	sayReport(t, r)
}

// lockAcrossHosts runs two lockers on each host for rounds each and checks
// that they never held the lock together and that no increment was lost.
func lockAcrossHosts(t *testing.T, bd *bed, kind string, rounds int) {
	rel := bd.bucketDir(t)
	marker := filepath.Join(t.TempDir(), "held")
	var kids []*child
	for _, host := range []string{"A", "B"} {
		for p := range 2 {
			kids = append(kids, startChild(t, fmt.Sprintf("%s%d", host, p), bd.ns(host), "locker", lockArgs{
				Dir: bd.at(host, rel), Lock: bd.at(host, rel) + ".lock", Marker: marker, Kind: kind, Rounds: rounds,
			}))
		}
	}
	for _, c := range kids {
		c.expect("ready", time.Minute)
	}
	for _, c := range kids {
		c.send("go")
	}
	overlaps := 0
	for _, c := range kids {
		var r lockReport
		c.report(&r, 5*time.Minute)
		c.wait(time.Minute)
		overlaps += r.Overlaps
		for _, e := range r.Errors {
			t.Errorf("%s: %s", c.name, e)
		}
	}
	b, err := bucket.Open[string, int](bd.at("A", rel), bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n, err := b.Get("counter")
	want := len(kids) * rounds
	if err != nil || n != want || overlaps != 0 {
		t.Errorf("counter %d (%v), want %d; lock held by two processes at once %d times", n, err, want, overlaps)
	}
	t.Logf("%s: %d locked increments from 4 processes on 2 hosts: counter %d, overlaps %d", kind, want, n, overlaps)
	fmt.Fprintf(os.Stderr, "FIGURES lock-%s: processes=4 hosts=2 increments=%d counter=%d overlaps=%d\n", kind, want, n, overlaps)
}

// TestMutexAcrossHosts: lock.Mutex (the trim lock), whose holder keeps the
// lock file, excludes across hosts.
func TestMutexAcrossHosts(t *testing.T) {
	onEach(t, func(t *testing.T, bd *bed) {
		lockAcrossHosts(t, bd, "mutex", map[bool]int{false: 60, true: 500}[long()])
	})
}

// TestMutexRemoveAcrossHosts: lock.Mutex as the per-key lock of Memoize,
// whose holder deletes the lock file, excludes across hosts.
func TestMutexRemoveAcrossHosts(t *testing.T) {
	onEach(t, func(t *testing.T, bd *bed) {
		lockAcrossHosts(t, bd, "remove", map[bool]int{false: 60, true: 500}[long()])
	})
}
