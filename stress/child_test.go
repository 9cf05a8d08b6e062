//go:build linux

package stress

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// childCtx is what a child process knows of its task.
type childCtx struct {
	mode, dir, id string
	seed          uint64
	config        []byte
	// stop is closed when the parent closes the child's stdin (or dies).
	stop chan struct{}
	// start is closed when the parent writes "go".
	start chan struct{}
}

// TestStressChild is the child processes' side; run by the other tests.
func TestStressChild(t *testing.T) {
	mode := os.Getenv(childModeEnv)
	if mode == "" {
		t.Skip("run by the stress tests in child processes")
	}
	c := &childCtx{
		mode:   mode,
		dir:    os.Getenv(childDirEnv),
		id:     os.Getenv(childIDEnv),
		config: []byte(os.Getenv(childConfigEnv)),
		stop:   make(chan struct{}),
		start:  make(chan struct{}),
	}
	c.seed, _ = strconv.ParseUint(os.Getenv(childSeedEnv), 10, 64)
	if ns, err := strconv.ParseInt(os.Getenv(childDeadline), 10, 64); err == nil {
		time.AfterFunc(time.Until(time.Unix(0, ns)), func() {
			fmt.Fprintf(os.Stderr, "child %s: deadline passed, exiting\n", c.id)
			os.Exit(2)
		})
	}
	go func() {
		in := bufio.NewReader(os.Stdin)
		started := false
		for {
			line, err := in.ReadString('\n')
			if line == "go\n" && !started {
				started = true
				close(c.start)
			}
			if err != nil {
				break
			}
		}
		if !started {
			close(c.start)
		}
		close(c.stop)
	}()
	switch mode {
	case "load":
		runLoadChild(t, c)
	case "set":
		runSetChild(t, c)
	case "sync":
		runSyncChild(t, c)
	case "memo":
		runMemoChild(t, c)
	case "prune":
		runPruneChild(t, c)
	case "counters":
		runCountersChild(t, c)
	default:
		t.Fatalf("unknown child mode %q", mode)
	}
}

// rng returns the child's random source for stream n.
func (c *childCtx) rng(n uint64) *rand.Rand { return rand.New(rand.NewPCG(c.seed, n)) }

func (c *childCtx) decode(t *testing.T, v any) {
	if err := json.Unmarshal(c.config, v); err != nil {
		t.Fatalf("child config %q: %v", c.config, err)
	}
}

// ready tells the parent the child is about to start work.
func ready() { fmt.Println("ready") }

// exitOnStop makes a child that works until killed exit as soon as its
// parent goes away.
func (c *childCtx) exitOnStop() {
	go func() {
		<-c.stop
		os.Exit(3)
	}()
}
