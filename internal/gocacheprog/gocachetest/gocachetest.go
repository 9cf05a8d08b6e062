// Package gocachetest runs the real go command with bucketfs gocacheprog as
// its GOCACHEPROG, on small generated modules, for the tests and benchmarks
// of the build cache (in cmd/bucketfs and multihost).
package gocachetest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/gocacheprog"
	"github.com/bucketcache/bucketcache/shard"
)

// GoCommand returns the path of the go command, or skips tb without one.
func GoCommand(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		tb.Skip("no go command on this machine")
	}
	return p
}

// BuildBenchEnv set to 1 runs the benchmarks that build the project with the
// real go command (minutes each).
const BuildBenchEnv = "BUCKETCACHE_BENCH_GOBUILD"

// NeedBuildBenchmarks skips b unless BuildBenchEnv is set to 1.
func NeedBuildBenchmarks(b *testing.B) {
	b.Helper()
	if os.Getenv(BuildBenchEnv) != "1" {
		b.Skipf("builds the project with the real go command, for minutes: set %s=1 to run it", BuildBenchEnv)
	}
	GoCommand(b)
}

// SnapshotModule copies the module at root (every file but those under
// .git and nested modules) into a new temporary directory of tb and returns
// it, so that a benchmark builds the same sources whatever happens to root
// meanwhile.
func SnapshotModule(tb testing.TB, root string) string {
	tb.Helper()
	dst := tb.TempDir()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel != "." {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dst
}

// BuildBucketfs builds the bucketfs command into dir and returns its path.
// root is the module's root directory.
func BuildBucketfs(tb testing.TB, root, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "bucketfs")
	cmd := exec.Command(GoCommand(tb), "build", "-o", bin, "./cmd/bucketfs")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building bucketfs: %v\n%s", err, out)
	}
	return bin
}

// WriteModule writes a module named path into dir: n library packages
// p0 ... p<n-1>, each importing the one before (so they build one after the
// other), a command cmd/tool importing the last, and tests in p0 and the
// last. They import only a few standard packages.
func WriteModule(tb testing.TB, dir, path string, n int) {
	tb.Helper()
	files := map[string]string{
		"go.mod": fmt.Sprintf("module %s\n\ngo 1.26\n", path),
		"cmd/tool/main.go": fmt.Sprintf(`package main

import (
	"os"

	"%s/p%d"
)

func main() { os.Stdout.WriteString(p%d.Name() + "\n") }
`, path, n-1, n-1),
	}
	for i := range n {
		imp, prev := "", `""`
		if i > 0 {
			imp = fmt.Sprintf("\n\t\"%s/p%d\"", path, i-1)
			prev = fmt.Sprintf("p%d.Name()", i-1)
		}
		files[fmt.Sprintf("p%d/p.go", i)] = fmt.Sprintf(`// Package p%d is a link of a generated chain of packages.
package p%d

import (
	"strings"%s
)

// Name names the chain up to this package.
func Name() string { return strings.TrimPrefix(%s+"/p%d", "/") }
`, i, i, imp, prev, i)
		if i == 0 || i == n-1 {
			files[fmt.Sprintf("p%d/p_test.go", i)] = fmt.Sprintf(`package p%d

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	if got := Name(); !strings.HasSuffix(got, "p%d") || strings.Count(got, "/") != %d {
		t.Fatalf("Name() = %%q", got)
	}
}
`, i, i, i)
		}
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// Cache says which build cache a go command uses.
type Cache struct {
	GoCache string // GOCACHE: with a Prog, an empty directory shows that nothing else is used
	Prog    string // GOCACHEPROG; "" for the default cache
}

// ProgFor returns the GOCACHEPROG value that runs bucketfs gocacheprog with
// -stats on the bucket directory, with the local directory and flags given.
func ProgFor(bucketfs, bucketDir, local string, flags ...string) string {
	args := append([]string{bucketfs, "gocacheprog", "-stats", "-local", local}, flags...)
	return strings.Join(append(args, bucketDir), " ")
}

// Command returns the go command args, run in dir with the cache c, with
// a fixed environment: no network, no cgo, no GOFLAGS or go.env settings.
func (c Cache) Command(tb testing.TB, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(GoCommand(tb), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOCACHE="+c.GoCache, "GOCACHEPROG="+c.Prog,
		"GOPROXY=off", "GOFLAGS=", "GOENV=off", "GOTOOLCHAIN=local", "GOWORK=off", "CGO_ENABLED=0",
	)
	return cmd
}

// Result is what a go command printed.
type Result struct {
	Stdout, Stderr string
	Stats          gocacheprog.Stats // the prog's stats line, when it has one
}

// Compiles counts the compiler runs that go build -x printed.
func (r Result) Compiles() int {
	return len(regexp.MustCompile(`(?m)^\S*/pkg/tool/\S+/compile\s`).FindAllString(r.Stderr, -1))
}

// Links counts the linker runs that go build -x printed.
func (r Result) Links() int {
	return len(regexp.MustCompile(`(?m)^(GOROOT=\S+ )?\S*/pkg/tool/\S+/link\s`).FindAllString(r.Stderr, -1))
}

// CheckWarmBuild fails tb unless r, a go build -x of what the cache holds
// whole, hit every get but its link actions' (go build -o links binaries
// anew every time, as with the default cache), put nothing, met no damage
// or error, and ran no compiler.
func (r Result) CheckWarmBuild(tb testing.TB, what string) {
	tb.Helper()
	if s := r.Stats; s.Gets == 0 || s.Gets-s.Hits != int64(r.Links()) || s.PutBytes != 0 || s.Damaged != 0 || s.Errors != 0 {
		tb.Errorf("%s: %v with %d links, want every get but the links' a hit", what, s, r.Links())
	}
	if n := r.Compiles(); n != 0 {
		tb.Errorf("%s ran the compiler %d times", what, n)
	}
}

// CheckTestsCached fails tb unless r, a go test of the module WriteModule
// writes, printed only cached results for its two packages.
func (r Result) CheckTestsCached(tb testing.TB, what string) {
	tb.Helper()
	oks := regexp.MustCompile(`(?m)^ok\s.*$`).FindAllString(r.Stdout, -1)
	if len(oks) != 2 {
		tb.Fatalf("%s: want 2 ok lines:\n%s", what, r.Stdout)
	}
	for _, l := range oks {
		if !strings.HasSuffix(l, "(cached)") {
			tb.Errorf("%s: %q is not a cached result", what, l)
		}
	}
}

// Run runs the go command and fails tb if it fails, or if it has a Prog
// and the prog printed no stats line.
func (c Cache) Run(tb testing.TB, dir string, args ...string) Result {
	tb.Helper()
	cmd := c.Command(tb, dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("go %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	if c.Prog != "" {
		s, err := gocacheprog.ParseStats(r.Stderr)
		if err != nil {
			tb.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		r.Stats = s
	}
	return r
}

// Files reads every file under dir, by path relative to dir.
func Files(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = data
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// SameFiles fails tb unless the directories hold the same files, byte for
// byte, and at least one.
func SameFiles(tb testing.TB, want, got string) {
	tb.Helper()
	w, g := Files(tb, want), Files(tb, got)
	if len(w) == 0 {
		tb.Fatalf("%s is empty", want)
	}
	names := func(m map[string][]byte) []string {
		var s []string
		for k := range m {
			s = append(s, k)
		}
		slices.Sort(s)
		return s
	}
	if !slices.Equal(names(w), names(g)) {
		tb.Fatalf("%s holds %q, %s holds %q", want, names(w), got, names(g))
	}
	for name, data := range w {
		if !bytes.Equal(data, g[name]) {
			tb.Errorf("%s differs between %s and %s", name, want, got)
		}
	}
}

// CopyBucket copies every entry of the bucket directory src into dst,
// through the bucket API.
func CopyBucket(tb testing.TB, src, dst string) {
	tb.Helper()
	from, err := bucket.Open[string, []byte](src, bucket.Options{Codec: bucket.Raw, MemoryLimit: -1})
	if err != nil {
		tb.Fatal(err)
	}
	defer from.Close()
	to, err := bucket.Open[string, []byte](dst, bucket.Options{Codec: bucket.Raw, MemoryLimit: -1})
	if err != nil {
		tb.Fatal(err)
	}
	defer to.Close()
	n := 0
	for k, v := range from.All() {
		if err := to.Set(k, v); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	if n == 0 {
		tb.Fatalf("bucket %s is empty", src)
	}
}

// Children returns the processes whose parent is pid, by /proc.
func Children(pid int) []int {
	var kids []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...", where comm may hold spaces and
		// parentheses.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		self, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		var state string
		var ppid int
		if _, serr := fmt.Sscan(string(data[i+1:]), &state, &ppid); err == nil && serr == nil && ppid == pid {
			kids = append(kids, self)
		}
	}
	return kids
}

// EntryFiles returns the paths of the entry files of the bucket directory
// dir and their total size.
func EntryFiles(tb testing.TB, dir string) (paths []string, bytes int64) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := shard.ParseEntryName(d.Name()); !ok {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		paths = append(paths, p)
		bytes += info.Size()
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return paths, bytes
}
