//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/gocacheprog/gocachetest"
)

// The build cache tests run the real go command with "bucketfs gocacheprog"
// as its GOCACHEPROG and GOCACHE an empty directory, on small generated
// modules (a chain of packages, a command, tests) that import only a few
// standard packages. One cold build and test fills a bucket; each subtest
// then works on a copy of it, so that only what it is about is compiled.

// progEnv makes the go command environments of the tests.
type progEnv struct {
	t    *testing.T
	root string
	seq  int
}

func (e *progEnv) dir(name string) string {
	e.seq++
	d := filepath.Join(e.root, fmt.Sprintf("%s-%d", name, e.seq))
	if err := os.MkdirAll(d, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// prog returns a go command environment with an empty GOCACHE and the
// bucket as its GOCACHEPROG, with the local directory and flags given.
func (e *progEnv) prog(bucketDir, local string, flags ...string) gocachetest.Cache {
	return gocachetest.Cache{GoCache: e.dir("gocache"), Prog: gocachetest.ProgFor(binary, bucketDir, local, flags...)}
}

// build runs go build of the packages with -o a directory, always the same
// one (the go command keeps entries that depend on that path), and returns
// a fresh directory holding what it wrote.
func (e *progEnv) build(t *testing.T, c gocachetest.Cache, mod string, pkgs ...string) (string, gocachetest.Result) {
	t.Helper()
	bin := filepath.Join(e.root, "bin")
	r := c.Run(t, mod, append([]string{"build", "-o", bin + "/"}, pkgs...)...)
	out := e.dir("out")
	os.Remove(out)
	if err := os.Rename(bin, out); err != nil {
		t.Fatal(err)
	}
	return out, r
}

// allHits fails t unless the prog of r answered every get with a hit.
func allHits(t *testing.T, what string, r gocachetest.Result) {
	t.Helper()
	if s := r.Stats; s.Gets == 0 || s.Hits != s.Gets || s.Puts != 0 || s.Damaged != 0 || s.Errors != 0 {
		t.Errorf("%s: %v, want every get a hit and nothing put", what, s)
	}
}

// noBuildResults fails t if the go command kept build results in GOCACHE
// (a GOCACHEPROG's go command keeps only its README there).
func noBuildResults(t *testing.T, c gocachetest.Cache) {
	t.Helper()
	for name := range gocachetest.Files(t, c.GoCache) {
		if name != "README" {
			t.Errorf("GOCACHE %s holds %s", c.GoCache, name)
		}
	}
}

func TestGocacheprog(t *testing.T) {
	gocachetest.GoCommand(t)
	if testing.Short() {
		t.Skip("builds with the real go command take a minute")
	}
	e := &progEnv{t: t, root: t.TempDir()}
	mod := e.dir("mod")
	gocachetest.WriteModule(t, mod, "example.com/chain", 6)

	// The reference: the binaries a build with the default cache makes.
	ref, _ := e.build(t, gocachetest.Cache{GoCache: e.dir("gocache")}, mod, "./cmd/...")

	// The seed: a cold build and test into an empty bucket.
	seed := e.dir("bucket")
	cold := e.prog(seed, e.dir("local"))
	out, r := e.build(t, cold, mod, "./cmd/...")
	if s := r.Stats; s.Puts == 0 || s.Hits != 0 {
		t.Fatalf("cold build: %v, want puts and no hits", s)
	}
	gocachetest.SameFiles(t, ref, out)
	r = cold.Run(t, mod, "test", "./...")
	if strings.Contains(r.Stdout, "(cached)") {
		t.Fatalf("cold go test gave cached results:\n%s", r.Stdout)
	}
	noBuildResults(t, cold)

	t.Run("hits", func(t *testing.T) {
		// A local directory of its own: every output comes from the bucket.
		warm := e.prog(seed, e.dir("local"))
		out, r := e.build(t, warm, mod, "-x", "./cmd/...")
		r.CheckWarmBuild(t, "warm build")
		gocachetest.SameFiles(t, ref, out)
		r = warm.Run(t, mod, "test", "./...")
		allHits(t, "warm test", r)
		r.CheckTestsCached(t, "go test")
		noBuildResults(t, warm)
	})

	t.Run("concurrent", func(t *testing.T) {
		b := e.dir("bucket")
		gocachetest.CopyBucket(t, seed, b)
		mod := e.dir("mod")
		gocachetest.WriteModule(t, mod, "example.com/fan", 8)
		local := e.dir("local")
		// Four go commands at once, building overlapping packages, with
		// one local directory.
		sets := [][]string{{"./p3", "./p5"}, {"./p2", "./p5", "./p7"}, {"./cmd/tool"}, {"./..."}}
		bin := filepath.Join(e.root, "bin")
		errs := make(chan error, len(sets))
		for _, set := range sets {
			args := append([]string{"build", "-o", os.DevNull}, set...)
			if set[0] == "./..." {
				args = append([]string{"build", "-o", bin + "/"}, set...)
			}
			cmd := e.prog(b, local).Command(t, mod, args...)
			go func() {
				out, err := cmd.CombinedOutput()
				if err != nil {
					err = fmt.Errorf("go build %s: %v\n%s", set, err, out)
				}
				errs <- err
			}()
		}
		for range sets {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if t.Failed() {
			return
		}
		first := e.dir("out")
		os.Remove(first)
		if err := os.Rename(bin, first); err != nil {
			t.Fatal(err)
		}
		fifth := e.prog(b, e.dir("local"))
		out, r := e.build(t, fifth, mod, "-x", "./...")
		if n := r.Compiles(); n != 0 {
			t.Errorf("the fifth build ran the compiler %d times", n)
		}
		gocachetest.SameFiles(t, first, out)
		t.Logf("the fifth build: %v", r.Stats)
	})

	t.Run("crashes", func(t *testing.T) {
		mod := e.dir("mod")
		gocachetest.WriteModule(t, mod, "example.com/crash", 12)
		// The outputs the build makes when nothing is killed.
		want := e.dir("out")
		fresh := e.dir("bucket")
		gocachetest.CopyBucket(t, seed, fresh)
		e.prog(fresh, e.dir("local")).Run(t, mod, "build", "-o", want+"/", "./...")

		b := e.dir("bucket")
		gocachetest.CopyBucket(t, seed, b)
		local := e.dir("local")
		// The go command killed by SIGKILL once its puts started.
		killMidBuild(t, e, b, local, mod, func(goPid int) int { return goPid })
		// The gocacheprog killed by SIGKILL once its puts started again:
		// the go command fails, as it should, having lost its cache.
		killMidBuild(t, e, b, local, mod, func(goPid int) int {
			kids := gocachetest.Children(goPid)
			for _, k := range kids {
				if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", k)); strings.TrimSpace(string(comm)) == "bucketfs" {
					return k
				}
			}
			t.Fatalf("no bucketfs among the go command's children %v", kids)
			return 0
		})
		out := e.dir("out")
		e.prog(b, local).Run(t, mod, "build", "-o", out+"/", "./...")
		gocachetest.SameFiles(t, want, out)
		// And a build that uses only the bucket agrees.
		out = e.dir("out")
		e.prog(b, e.dir("local")).Run(t, mod, "build", "-o", out+"/", "./...")
		gocachetest.SameFiles(t, want, out)
		bucketfs(t, "verify", b).want(t, exitOK)
	})

	t.Run("damage", func(t *testing.T) {
		// A module of its own, built into a copy of the seed: its entries
		// are the ones to damage, so only its packages are rebuilt.
		b := e.dir("bucket")
		gocachetest.CopyBucket(t, seed, b)
		mod := e.dir("mod")
		gocachetest.WriteModule(t, mod, "example.com/damage", 6)
		oldPaths, _ := gocachetest.EntryFiles(t, b)
		oldKeys := keys(t, b)
		env := e.prog(b, e.dir("local"))
		want, _ := e.build(t, env, mod, "./cmd/...")
		env.Run(t, mod, "test", "./...")

		// Flip a byte in every other new entry file, actions and outputs
		// alike.
		paths, _ := gocachetest.EntryFiles(t, b)
		flipped := 0
		for _, p := range paths {
			if slices.Contains(oldPaths, p) {
				continue
			}
			flipped++
			if flipped%2 == 0 {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0x5a
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// And have a foreign writer replace new outputs with well-formed
		// entries of other bytes, which no checksum of the bucket catches.
		raw, err := bucket.Open[string, []byte](b, bucket.Options{Codec: bucket.Raw})
		if err != nil {
			t.Fatal(err)
		}
		replaced := 0
		for _, k := range keys(t, b) {
			if strings.HasPrefix(k, "output-") && !slices.Contains(oldKeys, k) && replaced < 3 {
				if err := raw.Set(k, []byte("not the output")); err != nil {
					t.Fatal(err)
				}
				replaced++
			}
		}
		raw.Close()
		if flipped < 4 || replaced == 0 {
			t.Fatalf("%d new entry files, %d outputs replaced: too few to test", flipped, replaced)
		}

		env = e.prog(b, e.dir("local"))
		out, r := e.build(t, env, mod, "./cmd/...")
		if s := r.Stats; s.Damaged == 0 || s.Puts == 0 {
			t.Errorf("build on a damaged bucket: %v, want damage met, and puts", s)
		}
		gocachetest.SameFiles(t, want, out)
		if r = env.Run(t, mod, "test", "./..."); !strings.Contains(r.Stdout, "ok") {
			t.Errorf("go test on a damaged bucket:\n%s", r.Stdout)
		}
		t.Logf("%d of %d new entry files flipped, %d outputs replaced", (flipped+1)/2, flipped, replaced)
	})

	t.Run("size-limit", func(t *testing.T) {
		// A cold build writes about what the seed holds: three times the
		// limit.
		_, seedBytes := gocachetest.EntryFiles(t, seed)
		limit := seedBytes / 3
		b := e.dir("bucket")
		env := e.prog(b, e.dir("local"), "-max-bytes", fmt.Sprint(limit), "-eviction-grace", "1ms")
		out, r := e.build(t, env, mod, "./cmd/...")
		gocachetest.SameFiles(t, ref, out)
		if r.Stats.PutBytes <= limit {
			t.Errorf("the build put %d bytes, not more than the limit %d", r.Stats.PutBytes, limit)
		}
		if _, n := gocachetest.EntryFiles(t, b); n > limit {
			t.Errorf("the bucket holds %d bytes, over its limit %d", n, limit)
		}
	})
}

// keys lists the keys of the bucket directory dir.
func keys(t *testing.T, dir string) []string {
	t.Helper()
	b, err := bucket.Open[string, []byte](dir, bucket.Options{Codec: bucket.Raw})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return slices.Collect(b.Keys())
}

// killMidBuild starts a build, waits until it has put an output into the
// bucket, then kills with SIGKILL the process that victim picks (given the
// go command's pid).
func killMidBuild(t *testing.T, e *progEnv, b, local, mod string, victim func(goPid int) int) {
	t.Helper()
	_, before := gocachetest.EntryFiles(t, b)
	cmd := e.prog(b, local).Command(t, mod, "build", "-o", e.dir("out")+"/", "./...")
	cmd.Env = append(cmd.Env, "GOTMPDIR="+e.dir("gotmp"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, n := gocachetest.EntryFiles(t, b); n > before {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the build ended (%v) before it put anything", err)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the build put nothing in two minutes")
		}
		time.Sleep(5 * time.Millisecond) // polling another process's progress
	}
	if err := syscall.Kill(victim(cmd.Process.Pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil {
		t.Error("the build succeeded although it was killed")
	}
}
