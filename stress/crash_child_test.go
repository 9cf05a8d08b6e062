//go:build linux

package stress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// crashConfig is what every TestCrash child is told. The children work
// until they are killed, logging each operation before it starts ("B") and
// once it is acknowledged ("A") in an O_APPEND file, one write per line, so
// that the log survives the kill and tells the parent what was acknowledged
// and what was in flight.
type crashConfig struct {
	Goroutines int
	Keys       int // keys per goroutine (set, sync)
	Shards     int
	MemoBase   int // memo: fresh arguments start here
	MemoShared int // memo: arguments both memo children of a round use start here
}

// die reports a failure of a child that works until it is killed, where
// t.Error would never be printed, and exits with status 1.
func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "--- FAIL: child: "+format+"\n", args...)
	os.Exit(1)
}

func (c *childCtx) crashSetup(t *testing.T) (crashConfig, *os.File) {
	var cfg crashConfig
	c.decode(t, &cfg)
	f, err := os.OpenFile(filepath.Join(c.dir, "log-"+c.id), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	c.exitOnStop()
	return cfg, f
}

func mustAppend(f *os.File, format string, args ...any) {
	if err := appendLine(f, format, args...); err != nil {
		die("log: %v", err)
	}
}

func openCrashBucket(c *childCtx, cfg crashConfig) *vbucket {
	b, err := bucket.Open[string, Value](filepath.Join(c.dir, "bucket"), bucket.Options{Shards: cfg.Shards})
	if err != nil {
		die("open: %v", err)
	}
	return b
}

// runSetChild: goroutines Set (and now and then Delete) their own keys with
// values of up to 64 KiB, logging "B key seq S|D" and "A key seq".
func runSetChild(t *testing.T, c *childCtx) {
	cfg, log := c.crashSetup(t)
	b := openCrashBucket(c, cfg)
	ready()
	for g := range cfg.Goroutines {
		go func() {
			rng := c.rng(uint64(g))
			seqs := make([]uint64, cfg.Keys)
			for {
				i := rng.IntN(cfg.Keys)
				k := fmt.Sprintf("set/%s/%d/%d", c.id, g, i)
				seqs[i]++
				seq := seqs[i]
				if rng.IntN(8) == 0 {
					mustAppend(log, "B %s %d D", k, seq)
					if err := b.Delete(k); err != nil && !isNotFound(err) {
						die("Delete(%q): %v", k, err)
					}
				} else {
					mustAppend(log, "B %s %d S", k, seq)
					v := selfcheck.New(k, fmt.Sprintf("%s/%d", c.id, g), seq, 1+rng.IntN(64<<10))
					if err := b.Set(k, v); err != nil {
						die("Set(%q): %v", k, err)
					}
				}
				mustAppend(log, "A %s %d", k, seq)
			}
		}()
	}
	select {} // until killed
}

// runSyncChild: goroutines set all their keys to their round number through
// a deferred Bucket and Sync, logging "B group round" and "A group round".
func runSyncChild(t *testing.T, c *childCtx) {
	cfg, log := c.crashSetup(t)
	b := openCrashBucket(c, cfg)
	ready()
	for g := range cfg.Goroutines {
		go func() {
			rng := c.rng(uint64(g))
			d := deferred.New(b)
			group := fmt.Sprintf("sync/%s/%d", c.id, g)
			for round := uint64(1); ; round++ {
				for i := range cfg.Keys {
					k := fmt.Sprintf("%s/%d", group, i)
					if err := d.Set(k, selfcheck.New(k, group, round, 1+rng.IntN(8<<10))); err != nil {
						die("deferred Set(%q): %v", k, err)
					}
				}
				mustAppend(log, "B %s %d", group, round)
				if err := d.Sync(); err != nil {
					die("Sync: %v", err)
				}
				mustAppend(log, "A %s %d", group, round)
			}
		}()
	}
	select {}
}

// runMemoChild: goroutines call a memoized function, half the time with an
// argument the other memo child of the round uses too, otherwise with a
// fresh one. The function logs "start arg id" to the shared memo-runs file;
// a caller logs "stored arg id" once the call has returned.
func runMemoChild(t *testing.T, c *childCtx) {
	cfg, _ := c.crashSetup(t)
	mb, err := bucket.Open[int, Value](filepath.Join(c.dir, "bucket"), bucket.Options{Shards: cfg.Shards})
	if err != nil {
		die("open: %v", err)
	}
	runs, err := os.OpenFile(filepath.Join(c.dir, "memo-runs"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		die("%v", err)
	}
	memo := bucket.Memoize(mb, "crash", func(_ context.Context, arg int) (Value, error) {
		mustAppend(runs, "start %d %s", arg, c.id)
		time.Sleep(time.Duration(1+rand.IntN(20)) * time.Millisecond) // the work
		return memoValue(arg), nil
	})
	ready()
	for g := range cfg.Goroutines {
		go func() {
			rng := c.rng(uint64(g))
			for n := 0; ; n++ {
				arg := cfg.MemoBase + g*1_000_000 + n
				if rng.IntN(2) == 0 {
					arg = cfg.MemoShared + rng.IntN(8)
				}
				v, err := memo(context.Background(), arg)
				if err != nil {
					die("memo(%d): %v", arg, err)
				}
				if e := checkValue(memoKey(arg), v, "memo", uint64(arg)+1); e != nil {
					die("memo(%d): %v", arg, e)
				}
				mustAppend(runs, "stored %d %s", arg, c.id)
			}
		}()
	}
	select {}
}

// runPruneChild: Prune in a loop, logging "B prune n" and "A prune n
// files". Before each, it writes 200 entries that expired long ago (through
// a Bucket whose clock is an hour behind, in one deferred Sync) and prints
// "mark prune", so that the parent can kill it while a Prune has work.
func runPruneChild(t *testing.T, c *childCtx) {
	cfg, log := c.crashSetup(t)
	b := openCrashBucket(c, cfg)
	past, err := bucket.Open[string, Value](filepath.Join(c.dir, "bucket"), bucket.Options{
		Shards: cfg.Shards,
		Now:    func() time.Time { return time.Now().Add(-time.Hour) },
	})
	if err != nil {
		die("open: %v", err)
	}
	d := deferred.New(past)
	ready()
	for n := 1; ; n++ {
		for i := range 200 {
			k := fmt.Sprintf("prune/%s/%d/%d", c.id, n, i)
			if err := d.SetWithLifetime(k, selfcheck.New(k, c.id, 1, 256), time.Minute); err != nil {
				die("deferred SetWithLifetime: %v", err)
			}
		}
		if err := d.Sync(); err != nil {
			die("Sync: %v", err)
		}
		fmt.Println("mark prune")
		mustAppend(log, "B prune %d", n)
		info, err := b.Prune()
		if err != nil {
			die("Prune: %v", err)
		}
		mustAppend(log, "A prune %d %d", n, info.Files)
	}
}
