package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// runner starts worker processes: this binary re-executed with workerArg,
// or the Python driver for the Python store.
type runner struct {
	self    string        // this binary
	py      *python       // nil: the Python store cannot run
	timeout time.Duration // for one row, all workers together
}

// worker is one started worker process.
type worker struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	dec    *json.Decoder
	stderr bytes.Buffer
	ready  bool
	msg    message
	err    error
}

// run runs j in j.Workers processes at once: it starts them all, waits until
// every one is set up, releases them together and returns their results.
func (r *runner) run(k *storeKind, j job) ([]message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	ws := make([]*worker, j.Workers)
	for n := range ws {
		jn := j
		jn.Worker = n
		if jn.Profile != "" && n > 0 {
			jn.Profile = strings.TrimSuffix(jn.Profile, ".pprof") + fmt.Sprintf("-w%d.pprof", n)
		}
		ws[n] = r.start(ctx, k, jn)
	}
	for _, w := range ws { // everyone set up: the barrier
		if w.err == nil {
			w.err = w.dec.Decode(&w.msg)
			w.ready = w.err == nil && w.msg.Ready
		}
	}
	for _, w := range ws { // release
		if w.ready {
			if _, err := io.WriteString(w.in, "go\n"); err != nil {
				w.err = err
			}
		}
	}
	var errs []error
	msgs := make([]message, 0, len(ws))
	for n, w := range ws {
		if w.ready && w.err == nil {
			w.msg = message{}
			w.err = w.dec.Decode(&w.msg)
		}
		if w.in != nil {
			w.in.Close()
		}
		if w.cmd.Process != nil {
			if err := w.cmd.Wait(); err != nil && w.err == nil {
				w.err = err
			}
		}
		if w.err != nil {
			errs = append(errs, fmt.Errorf("worker %d of %s %s: %w%s", n, j.Store, j.Op, w.err, tail(w.stderr.String())))
			continue
		}
		msgs = append(msgs, w.msg)
	}
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("%s %s: timed out after %v", j.Store, j.Op, r.timeout))
	}
	return msgs, errors.Join(errs...)
}

// start starts one worker and sends it its job.
func (r *runner) start(ctx context.Context, k *storeKind, j job) *worker {
	w := &worker{}
	if k.python {
		w.cmd = exec.CommandContext(ctx, r.py.exe, r.py.script)
	} else {
		w.cmd = exec.CommandContext(ctx, r.self, workerArg)
	}
	w.cmd.Stderr = &w.stderr
	in, err := w.cmd.StdinPipe()
	if err != nil {
		w.err = err
		return w
	}
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		w.err = err
		return w
	}
	if err := w.cmd.Start(); err != nil {
		w.err = err
		return w
	}
	w.in, w.dec = in, json.NewDecoder(out)
	w.err = json.NewEncoder(in).Encode(j)
	return w
}

// tail is the end of a worker's standard error, for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return "; stderr: " + s
}
