package multihost

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	// requireEnv set to 1 makes a missing GlusterFS a failure, not a skip.
	requireEnv = "BUCKETCACHE_REQUIRE_GLUSTER"
	// longEnv set to 1 runs the stress tests for longer.
	longEnv = "BUCKETCACHE_MULTIHOST_LONG"
	// partitionTimeout is the volume's ping and TCP user timeout, in
	// seconds, for the partition test bed (GlusterFS's default is 42).
	partitionTimeout = 5
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

// bed is a running GlusterFS test bed (see testbed/gluster/up.sh).
type bed struct {
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

// script returns the path of a test bed script.
func script(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "testbed", "gluster", name))
	if err != nil {
		panic(err)
	}
	return p
}

// needGluster skips tb where GlusterFS cannot run (not installed, not root),
// or fails it when requireEnv says GlusterFS is required.
func needGluster(tb testing.TB) {
	tb.Helper()
	var why string
	if _, err := exec.LookPath("glusterd"); err != nil {
		why = "GlusterFS is not installed (apt-get install glusterfs-server glusterfs-client)"
	} else if _, err := exec.LookPath("glusterfs"); err != nil {
		why = "the GlusterFS client is not installed (apt-get install glusterfs-client)"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "the test bed needs ip (iproute2)"
	} else if _, err := exec.LookPath("nsenter"); err != nil {
		why = "the test bed needs nsenter (util-linux)"
	} else if os.Geteuid() != 0 {
		why = "the GlusterFS test bed needs root"
	} else if _, err := os.Stat("/dev/fuse"); err != nil {
		why = "no /dev/fuse"
	}
	if why == "" {
		return
	}
	if os.Getenv(requireEnv) == "1" {
		tb.Fatalf("%s, and %s=1 requires it", why, requireEnv)
	}
	tb.Skip(why)
}

// up brings a test bed up in a new temporary directory. The scripts'
// watchdog takes it down if this process dies without doing so.
func up(topology string, env ...string) (*bed, error) {
	dir, err := os.MkdirTemp("", "bucketcache-gluster-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(script("up.sh"), dir, topology)
	cmd.Env = append(os.Environ(), append(env, fmt.Sprintf("OWNER_PID=%d", os.Getpid()))...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		logs := tailLogs(dir)
		os.RemoveAll(dir)
		return nil, fmt.Errorf("up.sh %s %s: %v\n%s\n%s", dir, topology, err, out, logs)
	}
	b := &bed{dir: dir, vars: make(map[string]string)}
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
		return nil, fmt.Errorf("up.sh %s: no mount points in %s/env", topology, dir)
	}
	return b, nil
}

// down takes the test bed down and removes its directory. It is safe to
// call more than once.
func (b *bed) down() error {
	b.downOnce.Do(func() {
		out, err := exec.Command(script("down.sh"), b.dir).CombinedOutput()
		if err != nil {
			b.downErr = fmt.Errorf("down.sh %s: %v\n%s", b.dir, err, out)
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

// The pair test bed is shared by the tests that need it, brought up by the
// first and taken down by TestMain.
var pair struct {
	once sync.Once
	bed  *bed
	err  error
}

// pairBed returns the shared pair test bed: one volume, mounted as host A
// and host B.
func pairBed(tb testing.TB) *bed {
	tb.Helper()
	needGluster(tb)
	pair.once.Do(func() {
		start := time.Now()
		pair.bed, pair.err = up("pair")
		if pair.err == nil {
			fmt.Fprintf(os.Stderr, "multihost: pair test bed up in %v\n", time.Since(start).Round(time.Millisecond))
		}
	})
	if pair.err != nil {
		tb.Fatal(pair.err)
	}
	return pair.bed
}

// netnsBed brings up a test bed of its own in three network namespaces,
// with the partition timeout lowered, and takes it down when t ends.
func netnsBed(t *testing.T) *bed {
	t.Helper()
	needGluster(t)
	b, err := up("netns", fmt.Sprintf("PARTITION_TIMEOUT=%d", partitionTimeout))
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
	if out, err := exec.Command(script("net.sh"), b.dir, how, host).CombinedOutput(); err != nil {
		t.Fatalf("net.sh %s %s: %v\n%s", how, host, err, out)
	}
}

// TestMain leaves TestChild, which runs only in child processes, out of
// ordinary runs (see package childtest), and takes the shared test bed down
// after the tests.
func TestMain(m *testing.M) {
	code := childtest.Run(m, os.Getenv(childModeEnv) != "", "TestChild")
	if pair.bed != nil {
		if err := pair.bed.down(); err != nil {
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
