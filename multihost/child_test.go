//go:build linux

package multihost

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
	"testing"
	"time"
)

// Processes "on host A" and "on host B" are this test binary, re-run as
// children that use the bucket through mount A or mount B (and, in the
// netns topology, live in that host's network namespace). A child is told
// what to do by environment variables, prints protocol lines starting with
// "@" on its standard output, and reads commands, one a line, on its
// standard input.

const (
	childModeEnv = "MULTIHOST_CHILD" // the child's job; empty in the parent
	childArgsEnv = "MULTIHOST_ARGS"  // its parameters, as JSON
)

// child is a running child process, seen from the parent.
type child struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its "@" lines, without the "@"
	done  chan struct{}
	err   error // its exit status, once done is closed

	mu     sync.Mutex
	stderr bytes.Buffer // guarded by mu
}

// startChild starts a child doing mode with args (a struct, passed as JSON),
// in network namespace ns if not "". It is killed, if still running, when
// the test ends.
func startChild(t *testing.T, name, ns, mode string, args any) *child {
	t.Helper()
	js, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{os.Args[0], "-test.run=^TestChild$", "-test.timeout=10m"}
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	c := &child{t: t, name: name, lines: make(chan string, 1024), done: make(chan struct{})}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childArgsEnv+"="+string(js))
	c.cmd.Stderr = lockedWriter{&c.mu, &c.stderr}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "@"); ok {
				c.lines <- line
			} else {
				c.mu.Lock()
				c.stderr.WriteString(sc.Text() + "\n")
				c.mu.Unlock()
			}
		}
		c.err = c.cmd.Wait()
		close(c.lines)
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// output returns what the child wrote that was not a protocol line.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// send writes a command line to the child.
func (c *child) send(cmd string) {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.stdin, cmd); err != nil {
		c.t.Fatalf("child %s: %v\n%s", c.name, err, c.output())
	}
}

// expect waits for the child's next protocol line, which must start with
// word, and returns the rest of it.
func (c *child) expect(word string, timeout time.Duration) string {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			<-c.done
			c.t.Fatalf("child %s ended (%v) before %q:\n%s", c.name, c.err, word, c.output())
		}
		rest, found := strings.CutPrefix(line, word)
		if !found {
			c.t.Fatalf("child %s: got %q, want %q:\n%s", c.name, line, word, c.output())
		}
		return strings.TrimSpace(rest)
	case <-time.After(timeout):
		c.t.Fatalf("child %s: no %q after %v:\n%s", c.name, word, timeout, c.output())
	}
	return ""
}

// report waits for the child's "report" line and decodes it into v.
func (c *child) report(v any, timeout time.Duration) {
	c.t.Helper()
	if err := json.Unmarshal([]byte(c.expect("report", timeout)), v); err != nil {
		c.t.Fatalf("child %s: bad report: %v", c.name, err)
	}
}

// wait waits for the child to exit, and fails the test unless it exited 0.
func (c *child) wait(timeout time.Duration) {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.cmd.Process.Kill()
		<-c.done
		c.t.Fatalf("child %s: still running after %v:\n%s", c.name, timeout, c.output())
	}
	if c.err != nil {
		c.t.Fatalf("child %s: %v\n%s", c.name, c.err, c.output())
	}
}

// childJobs are the jobs a child can do, by mode.
var childJobs = map[string]func(t *testing.T, args []byte){}

// TestChild is the child process's side: it runs the job its environment
// names, and is skipped in the parent.
func TestChild(t *testing.T) {
	mode := os.Getenv(childModeEnv)
	if mode == "" {
		t.Skip("run as a child process by the other tests")
	}
	job, ok := childJobs[mode]
	if !ok {
		t.Fatalf("unknown child mode %q", mode)
	}
	job(t, []byte(os.Getenv(childArgsEnv)))
}

// say prints a protocol line for the parent.
func say(format string, args ...any) {
	fmt.Printf("@"+format+"\n", args...)
}

// sayReport prints v as the child's report.
func sayReport(t *testing.T, v any) {
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	say("report %s", js)
}

// commands returns the lines the parent sends.
func commands() <-chan string {
	ch := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

// await waits for the parent's command want.
func await(t *testing.T, cmds <-chan string, want string) {
	t.Helper()
	got, ok := <-cmds
	if !ok || got != want {
		t.Fatalf("child: got command %q (open %v), want %q", got, ok, want)
	}
}
