//go:build linux

package multihost

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/childtest"
	"github.com/bucketcache/bucketcache/internal/core"
)

const (
	// longEnv set to 1 runs the stress tests for longer.
	longEnv = "BUCKETCACHE_MULTIHOST_LONG"
	// partitionTimeout is the volume's ping and TCP user timeout, in
	// seconds, for the partition test bed (GlusterFS's default is 42).
	partitionTimeout = 5
	// cephSessionEnv set to "default" brings the CephFS test bed up with
	// Ceph's own session timeouts (60 s, and 300 s before a silent client's
	// session is closed) instead of the least the MDS accepts, 30 s: for
	// measuring a host crash's takeover by hand (go test -run TestHostCrash).
	cephSessionEnv = "BUCKETCACHE_CEPH_SESSION"
	// cephSessionTimeout is the CephFS test bed's session timeout, in
	// seconds, otherwise: the least the MDS accepts.
	cephSessionTimeout = 30
)

// A filesystem is a distributed filesystem the tests run on, brought up on
// this machine by the scripts in testbed/<name>.
type filesystem struct {
	name       string // the testbed directory and the subtests' name
	title      string
	requireEnv string            // set to 1: a filesystem that cannot run is a failure, not a skip
	commands   map[string]string // commands needed, and the packages that have them
	args       []string          // up.sh's arguments after DIR for the shared test bed
	env        func() []string   // and its environment

	// The shared pair test bed, brought up by the first test that needs it
	// and taken down by TestMain.
	once sync.Once
	bed  *bed
	err  error
}

var (
	gluster = &filesystem{
		name: "gluster", title: "GlusterFS", requireEnv: "BUCKETCACHE_REQUIRE_GLUSTER",
		commands: map[string]string{
			"glusterd": "glusterfs-server", "gluster": "glusterfs-server", "glusterfs": "glusterfs-client",
		},
		args: []string{"pair"},
		env:  func() []string { return nil },
	}
	ceph = &filesystem{
		name: "ceph", title: "CephFS", requireEnv: "BUCKETCACHE_REQUIRE_CEPH",
		commands: map[string]string{
			"ceph-mon": "ceph-mon", "ceph-osd": "ceph-osd", "ceph-mds": "ceph-mds",
			"ceph-fuse": "ceph-fuse", "ceph": "ceph-common", "monmaptool": "ceph-base",
			"uuidgen": "uuid-runtime",
		},
		env: func() []string {
			if os.Getenv(cephSessionEnv) == "default" {
				return []string{"SESSION_TIMEOUT=default"}
			}
			return []string{fmt.Sprintf("SESSION_TIMEOUT=%d", cephSessionTimeout)}
		},
	}
	// filesystems are those every test of the suite runs on, in turn.
	filesystems = []*filesystem{gluster, ceph}
)

// long reports whether the stress tests should run for longer.
func long() bool { return os.Getenv(longEnv) == "1" }

// stress returns how long a stress test runs: short, or long with longEnv.
func stress(short, longer time.Duration) time.Duration {
	if long() {
		return longer
	}
	return short
}

// bed is a running test bed (see testbed/gluster/up.sh and
// testbed/ceph/up.sh).
type bed struct {
	fs       *filesystem
	dir      string
	vars     map[string]string
	downOnce sync.Once
	downErr  error
}

// mount returns host's mount point ("A" or "B").
func (b *bed) mount(host string) string { return b.vars["MNT_"+host] }

// ns returns host's network namespace, "" in the pair topology.
func (b *bed) ns(host string) string { return b.vars["NS_"+host] }

var bucketSeq atomic.Int64

// bucketDir returns a fresh bucket directory's path relative to the mounts,
// so that host h's view of it is filepath.Join(b.mount(h), rel).
func (b *bed) bucketDir(tb testing.TB) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(tb.Name(), "-")
	return fmt.Sprintf("%s-%d", name, bucketSeq.Add(1))
}

// at returns host's path of the bucket directory rel.
func (b *bed) at(host, rel string) string { return filepath.Join(b.mount(host), rel) }

// script returns the path of one of fs's test bed scripts.
func (fs *filesystem) script(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "testbed", fs.name, name))
	if err != nil {
		panic(err)
	}
	return p
}

// need skips tb where fs cannot run (not installed, not root), or fails it
// when fs's requireEnv says it is required.
func (fs *filesystem) need(tb testing.TB) {
	tb.Helper()
	var why string
	cmds := []string{"ip", "nsenter"}
	for c := range fs.commands {
		cmds = append(cmds, c)
	}
	sort.Strings(cmds)
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil && why == "" {
			pkg := fs.commands[c]
			if pkg == "" {
				pkg = map[string]string{"ip": "iproute2", "nsenter": "util-linux"}[c]
			}
			why = fmt.Sprintf("the %s test bed needs %s (apt-get install %s)", fs.title, c, pkg)
		}
	}
	if why == "" && os.Geteuid() != 0 {
		why = "the " + fs.title + " test bed needs root"
	}
	if _, err := os.Stat("/dev/fuse"); err != nil && why == "" {
		why = "no /dev/fuse"
	}
	if why == "" {
		return
	}
	if os.Getenv(fs.requireEnv) == "1" {
		tb.Fatalf("%s, and %s=1 requires it", why, fs.requireEnv)
	}
	tb.Skip(why)
}

// up brings a test bed of fs up in a new temporary directory, with the
// script's arguments args. The scripts' watchdog takes it down if this
// process dies without doing so.
func (fs *filesystem) up(args []string, env ...string) (*bed, error) {
	dir, err := os.MkdirTemp("", "bucketcache-"+fs.name+"-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(fs.script("up.sh"), append([]string{dir}, args...)...)
	cmd.Env = append(os.Environ(), append(env, fmt.Sprintf("OWNER_PID=%d", os.Getpid()))...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		logs := tailLogs(dir)
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s up.sh %s %s: %v\n%s\n%s", fs.name, dir, args, err, out, logs)
	}
	b := &bed{fs: fs, dir: dir, vars: make(map[string]string)}
	f, err := os.Open(filepath.Join(dir, "env"))
	if err != nil {
		b.down()
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			b.vars[k] = strings.Trim(v, `"`)
		}
	}
	if b.mount("A") == "" || b.mount("B") == "" {
		b.down()
		return nil, fmt.Errorf("%s up.sh %s: no mount points in %s/env", fs.name, args, dir)
	}
	return b, nil
}

// down takes the test bed down and removes its directory. It is safe to
// call more than once.
func (b *bed) down() error {
	b.downOnce.Do(func() {
		out, err := exec.Command(b.fs.script("down.sh"), b.dir).CombinedOutput()
		if err != nil {
			b.downErr = fmt.Errorf("%s down.sh %s: %v\n%s", b.fs.name, b.dir, err, out)
			return
		}
		b.downErr = os.RemoveAll(b.dir)
	})
	return b.downErr
}

// tailLogs returns the end of every log of a test bed, for failures.
func tailLogs(dir string) string {
	var sb strings.Builder
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&sb, "--- %s\n%s\n", filepath.Base(l), data)
	}
	return sb.String()
}

// shared returns fs's shared test bed: one volume or filesystem, mounted as
// host A and host B, brought up by the first test that needs it.
func (fs *filesystem) shared(tb testing.TB) *bed {
	tb.Helper()
	fs.need(tb)
	fs.once.Do(func() {
		start := time.Now()
		fs.bed, fs.err = fs.up(fs.args, fs.env()...)
		if fs.err == nil {
			fmt.Fprintf(os.Stderr, "multihost: %s test bed up in %v\n", fs.title, time.Since(start).Round(time.Millisecond))
		}
	})
	if fs.err != nil {
		tb.Fatal(fs.err)
	}
	return fs.bed
}

// onEach runs test as a subtest on the shared test bed of each filesystem,
// named after it ("gluster", "ceph").
func onEach(t *testing.T, test func(t *testing.T, bd *bed)) {
	for _, fs := range filesystems {
		t.Run(fs.name, func(t *testing.T) { test(t, fs.shared(t)) })
	}
}

// netnsBed brings up a test bed of fs's own in network namespaces (a
// server and two client hosts), with GlusterFS's partition timeout lowered
// or CephFS's shortest session timeout, and takes it down when t ends.
func netnsBed(t *testing.T, fs *filesystem) *bed {
	t.Helper()
	fs.need(t)
	env := fs.env()
	if fs == gluster {
		env = []string{fmt.Sprintf("PARTITION_TIMEOUT=%d", partitionTimeout)}
	}
	b, err := fs.up([]string{"netns"}, env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.down(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// partition cuts host off from the server ("cut") or joins it again ("heal").
func (b *bed) partition(t *testing.T, how, host string) {
	t.Helper()
	if out, err := exec.Command(b.fs.script("net.sh"), b.dir, how, host).CombinedOutput(); err != nil {
		t.Fatalf("net.sh %s %s: %v\n%s", how, host, err, out)
	}
}

// TestMain leaves TestChild, which runs only in child processes, out of
// ordinary runs (see package childtest), and takes the shared test bed down
// after the tests.
func TestMain(m *testing.M) {
	code := childtest.Run(m, os.Getenv(childModeEnv) != "", "TestChild")
	for _, fs := range filesystems {
		if fs.bed == nil {
			continue
		}
		if err := fs.bed.down(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// engine is b's engine, for tests that look beneath the Bucket.
func engine[K, V any](b *bucket.Bucket[K, V]) *core.Engine[K, V] { return core.Of[K, V](b) }
