//go:build linux

package stress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Child processes are this test binary run again with -test.run selecting
// TestStressChild and the environment variables below saying what to do.
const (
	childModeEnv   = "STRESS_CHILD"          // "load", "set", "sync", "memo" or "prune"
	childDirEnv    = "STRESS_CHILD_DIR"      // the work directory (bucket, logs)
	childIDEnv     = "STRESS_CHILD_ID"       // the child's name
	childSeedEnv   = "STRESS_CHILD_SEED"     // its random seed
	childConfigEnv = "STRESS_CHILD_CONFIG"   // JSON of the mode's configuration
	childDeadline  = "STRESS_CHILD_DEADLINE" // Unix ns after which it exits, whatever happens
)

// child is a running child process.
type child struct {
	id    string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready chan struct{} // closed when the child printed "ready"
	marks chan string   // lines the child printed starting with "mark "
	done  chan struct{} // closed once it has exited; then err is set

	mu  sync.Mutex
	out bytes.Buffer // stdout and stderr, interleaved
	err error        // from Wait
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// startChild starts a child process in mode with the given configuration.
// It is killed, if still running, when the test ends. The child exits by
// itself when its stdin reaches EOF (so when this process dies) or after
// its deadline.
func startChild(t testing.TB, mode, id, dir string, seed uint64, config any, deadline time.Duration) *child {
	t.Helper()
	cfg, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	c := &child{id: id, ready: make(chan struct{}), marks: make(chan string, 1024), done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestStressChild$", "-test.timeout=0")
	c.cmd.Env = append(os.Environ(),
		childModeEnv+"="+mode,
		childDirEnv+"="+dir,
		childIDEnv+"="+id,
		fmt.Sprintf("%s=%d", childSeedEnv, seed),
		childConfigEnv+"="+string(cfg),
		fmt.Sprintf("%s=%d", childDeadline, time.Now().Add(deadline).UnixNano()),
	)
	c.cmd.Stderr = lockedWriter{&c.mu, &c.out}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting child %s: %v", id, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		readied := false
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" && !readied {
				readied = true
				close(c.ready)
				continue
			}
			if strings.HasPrefix(line, "mark ") {
				select {
				case c.marks <- line:
				default:
				}
				continue
			}
			c.mu.Lock()
			c.out.WriteString(line + "\n")
			c.mu.Unlock()
		}
		io.Copy(io.Discard, stdout)
		err := c.cmd.Wait()
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// output is everything the child printed so far.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// waitReady waits until the child says it is ready; it fails the test if
// the child exits first or takes longer than timeout.
func (c *child) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.ready:
	case <-c.done:
		select {
		case <-c.ready: // ready, then killed or ended: for the caller to judge
			return
		default:
		}
		t.Fatalf("child %s exited before it was ready: %v\n%s", c.id, c.err, c.output())
	case <-timer.C:
		t.Fatalf("child %s not ready after %v\n%s", c.id, timeout, c.output())
	}
}

// wait waits for the child to exit, at most timeout, and returns Wait's error.
func (c *child) wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.done:
	case <-timer.C:
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("child %s still running after %v; killed\n%s", c.id, timeout, c.output())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// killedBySIGKILL reports whether the child died of SIGKILL.
func (c *child) killedBySIGKILL() bool {
	st, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && st.Signaled() && st.Signal() == syscall.SIGKILL
}

// troubleIn returns the first line of output that shows a data race or a
// panic, or "".
func troubleIn(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "DATA RACE") || strings.HasPrefix(line, "panic:") ||
			strings.HasPrefix(line, "fatal error:") || strings.Contains(line, "--- FAIL") {
			return line
		}
	}
	return ""
}
