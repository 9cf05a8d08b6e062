package gocacheprog

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

func open(t *testing.T, dir, local string) *Cache {
	t.Helper()
	c, err := Open(dir, Options{Local: local})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func actionID(i int) id { return sha256.Sum256(fmt.Appendf(nil, "action %d", i)) }

func body(i int) []byte { return bytes.Repeat(fmt.Appendf(nil, "output %d;", i), 1+i%7) }

// client drives Serve as the go command would.
type client struct {
	t    *testing.T
	in   *io.PipeWriter // Serve's stdin
	dec  *json.Decoder  // Serve's stdout
	done chan error
}

func startServe(t *testing.T, c *Cache) *client {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	cl := &client{t: t, in: inW, dec: json.NewDecoder(outR), done: make(chan error, 1)}
	go func() {
		err := c.Serve(inR, outW)
		outW.Close()
		cl.done <- err
	}()
	var hello response
	if err := cl.dec.Decode(&hello); err != nil {
		t.Fatal(err)
	}
	if hello.ID != 0 || strings.Join(hello.KnownCommands, ",") != "get,put,close" {
		t.Fatalf("first message %+v, want ID 0 and the commands get, put and close", hello)
	}
	return cl
}

// send writes a request, and its body when it has one.
func (cl *client) send(req request, body []byte) {
	cl.t.Helper()
	line, _ := json.Marshal(req)
	msg := string(line) + "\n"
	if len(body) > 0 {
		msg += `"` + base64.StdEncoding.EncodeToString(body) + "\"\n"
	}
	if _, err := io.WriteString(cl.in, msg); err != nil {
		cl.t.Fatal(err)
	}
}

func (cl *client) recv() response {
	cl.t.Helper()
	var r response
	if err := cl.dec.Decode(&r); err != nil {
		cl.t.Fatal(err)
	}
	return r
}

func (cl *client) roundTrip(req request, body []byte) response {
	cl.t.Helper()
	cl.send(req, body)
	r := cl.recv()
	if r.ID != req.ID {
		cl.t.Fatalf("response to request %d has ID %d", req.ID, r.ID)
	}
	return r
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestProtocol(t *testing.T) {
	dir, local := t.TempDir(), t.TempDir()
	c := open(t, dir, local)
	defer c.Close()
	cl := startServe(t, c)

	a, b := actionID(1), body(1)
	o := sha256.Sum256(b)
	if r := cl.roundTrip(request{ID: 1, Command: "get", ActionID: a[:]}, nil); !r.Miss || r.Err != "" {
		t.Fatalf("get of an action never put: %+v, want a miss", r)
	}
	r := cl.roundTrip(request{ID: 2, Command: "put", ActionID: a[:], OutputID: o[:], BodySize: int64(len(b))}, b)
	if r.Err != "" || !bytes.Equal(mustRead(t, r.DiskPath), b) {
		t.Fatalf("put: %+v, want DiskPath holding the body", r)
	}
	r = cl.roundTrip(request{ID: 3, Command: "get", ActionID: a[:]}, nil)
	if r.Miss || !bytes.Equal(r.OutputID, o[:]) || r.Size != int64(len(b)) || r.Time == nil || !bytes.Equal(mustRead(t, r.DiskPath), b) {
		t.Fatalf("get after put: %+v", r)
	}

	// An empty output has no body line.
	e, eo := actionID(2), sha256.Sum256(nil)
	if r := cl.roundTrip(request{ID: 4, Command: "put", ActionID: e[:], OutputID: eo[:]}, nil); r.Err != "" || len(mustRead(t, r.DiskPath)) != 0 {
		t.Fatalf("put of an empty output: %+v", r)
	}
	if r := cl.roundTrip(request{ID: 5, Command: "get", ActionID: e[:]}, nil); r.Miss || r.Size != 0 || r.DiskPath == "" {
		t.Fatalf("get of an empty output: %+v", r)
	}

	// Bad requests get errors, and the conversation goes on.
	for _, tc := range []struct {
		req  request
		body []byte
		want string
	}{
		{request{ID: 6, Command: "get2", ActionID: a[:]}, nil, `unknown command "get2"`},
		{request{ID: 7, Command: "put", ActionID: a[:], OutputID: o[:], BodySize: 3}, []byte("abc"), "does not hash to its OutputID"},
		{request{ID: 8, Command: "put", ActionID: a[:5], OutputID: o[:], BodySize: 3}, []byte("abc"), "ActionID of 5 bytes"},
		{request{ID: 9, Command: "get", ActionID: nil}, nil, "ActionID of 0 bytes"},
	} {
		if r := cl.roundTrip(tc.req, tc.body); !strings.Contains(r.Err, tc.want) {
			t.Errorf("%+v: Err %q, want it to say %q", tc.req, r.Err, tc.want)
		}
	}
	// The failed put changed nothing.
	if r := cl.roundTrip(request{ID: 10, Command: "get", ActionID: a[:]}, nil); !bytes.Equal(mustRead(t, r.DiskPath), b) {
		t.Fatalf("get after a refused put: %+v", r)
	}

	if r := cl.roundTrip(request{ID: 11, Command: "close"}, nil); r.Err != "" {
		t.Fatalf("close: %+v", r)
	}
	if err := <-cl.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	want := Stats{Gets: 4, Hits: 3, HitBytes: 2 * int64(len(b)), Puts: 2, PutBytes: int64(len(b))}
	if got := c.Stats(); got != want {
		t.Errorf("stats %v, want %v", got, want)
	}
}

// TestServeConcurrent: many puts and gets in flight at once, answered out of
// order, each with its own ID; then a second Cache with a local directory of
// its own reads everything from the bucket.
func TestServeConcurrent(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, t.TempDir())
	cl := startServe(t, c)
	const n = 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			a, b := actionID(i), body(i)
			o := sha256.Sum256(b)
			cl.send(request{ID: int64(i + 1), Command: "put", ActionID: a[:], OutputID: o[:], BodySize: int64(len(b))}, b)
		}
	})
	seen := map[int64]bool{}
	for len(seen) < n {
		r := cl.recv()
		if seen[r.ID] || r.ID < 1 || r.ID > n || r.Err != "" || !bytes.Equal(mustRead(t, r.DiskPath), body(int(r.ID-1))) {
			t.Fatalf("put %d: %+v (a second response, or a wrong one)", r.ID, r)
		}
		seen[r.ID] = true
	}
	wg.Wait()
	wg.Go(func() {
		for i := range n {
			a := actionID(i)
			cl.send(request{ID: int64(n + i + 1), Command: "get", ActionID: a[:]}, nil)
		}
		cl.send(request{ID: 2*n + 1, Command: "close"}, nil)
	})
	for len(seen) < 2*n+1 {
		r := cl.recv()
		if seen[r.ID] {
			t.Fatalf("two responses to request %d", r.ID)
		}
		seen[r.ID] = true
		switch {
		case r.ID == 2*n+1:
			if len(seen) != 2*n+1 {
				t.Fatalf("close answered before %d other requests", 2*n+1-len(seen))
			}
		case r.Err != "" || r.Miss || !bytes.Equal(mustRead(t, r.DiskPath), body(int(r.ID-n-1))):
			t.Fatalf("get %d: %+v", r.ID, r)
		}
	}
	wg.Wait()
	if err := <-cl.done; err != nil {
		t.Fatal(err)
	}
	c.Close()

	c2 := open(t, dir, t.TempDir())
	defer c2.Close()
	for i := range n {
		e, ok, err := c2.Get(actionID(i))
		if !ok || err != nil || !bytes.Equal(mustRead(t, e.DiskPath), body(i)) {
			t.Fatalf("action %d from the bucket: %+v %v %v", i, e, ok, err)
		}
	}
	if s := c2.Stats(); s.Hits != n {
		t.Errorf("second cache: %v, want %d hits", s, n)
	}
}

// TestEndOfInput: a go command that dies without close ends Serve, and the
// puts it made are in the bucket.
func TestEndOfInput(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, t.TempDir())
	cl := startServe(t, c)
	a, b := actionID(1), body(1)
	o := sha256.Sum256(b)
	cl.roundTrip(request{ID: 1, Command: "put", ActionID: a[:], OutputID: o[:], BodySize: int64(len(b))}, b)
	cl.in.Close()
	if err := <-cl.done; err != nil {
		t.Fatal(err)
	}
	c.Close()
	c2 := open(t, dir, t.TempDir())
	defer c2.Close()
	if _, ok, err := c2.Get(a); !ok || err != nil {
		t.Fatalf("the put of a go command that went away is not in the bucket: %v", err)
	}
}

// TestNotTheProtocol: input that is not the protocol is an error from
// Serve, not a hang or a panic.
func TestNotTheProtocol(t *testing.T) {
	for _, in := range []string{
		"not json\n",
		`{"ID":1,"Command":"put","ActionID":"AAAA","BodySize":3}` + "\n" + "not a string\n",
		`{"ID":1,"Command":"put","ActionID":"AAAA","BodySize":3}` + "\n" + `"!!!"` + "\n",
	} {
		c := open(t, t.TempDir(), t.TempDir())
		var out bytes.Buffer
		if err := c.Serve(strings.NewReader(in), &out); err == nil {
			t.Errorf("Serve(%q) = nil, want an error", in)
		}
		c.Close()
	}
}

// TestDamage: whatever the bucket holds, a get returns the output its
// OutputID names, or a miss.
func TestDamage(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, t.TempDir())
	for i := range 4 {
		b := body(i)
		if _, err := c.Put(actionID(i), sha256.Sum256(b), b); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()

	// A foreign writer stores what it likes, through the bucket's API:
	// well-formed entries that checksums cannot catch.
	raw, err := bucket.Open[string, []byte](dir, bucket.Options{Codec: bucket.Raw})
	if err != nil {
		t.Fatal(err)
	}
	o0, o1 := sha256.Sum256(body(0)), sha256.Sum256(body(1))
	must(t, raw.Set(outputKey(o0), []byte("not the output")))                // wrong bytes
	must(t, raw.Set(outputKey(o1), append(body(1), 'x')))                    // wrong size
	must(t, raw.Set(actionKey(actionID(2)), []byte(`{"OutputID":"zz","Si`))) // malformed action
	must(t, raw.Set(actionKey(actionID(3)), []byte(`{"OutputID":"`+strings.Repeat("ab", 32)+`","Size":-1}`)))
	raw.Close()

	c = open(t, dir, t.TempDir())
	defer c.Close()
	for i := range 4 {
		if e, ok, err := c.Get(actionID(i)); ok || err != nil {
			t.Errorf("action %d, damaged: got %+v %v, want a miss", i, e, err)
		}
	}
	if s := c.Stats(); s.Damaged != 4 || s.Hits != 0 {
		t.Errorf("stats %v, want 4 damaged", s)
	}
	// A put mends it.
	b := body(0)
	if _, err := c.Put(actionID(0), sha256.Sum256(b), b); err != nil {
		t.Fatal(err)
	}
	c2 := open(t, dir, t.TempDir())
	defer c2.Close()
	if e, ok, _ := c2.Get(actionID(0)); !ok || !bytes.Equal(mustRead(t, e.DiskPath), b) {
		t.Errorf("after a new put: %+v %v", e, ok)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLocalFiles: a local file is read-only, holds the output, and one of
// the wrong size (damaged, or cut short by a crash) is written again.
func TestLocalFiles(t *testing.T) {
	dir, local := t.TempDir(), t.TempDir()
	c := open(t, dir, local)
	b := body(3)
	p, err := c.Put(actionID(3), sha256.Sum256(b), b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p, local+string(filepath.Separator)) {
		t.Errorf("DiskPath %s is not in the local directory %s", p, local)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Errorf("local file %s: %v, mode %v, want read-only", p, err, st.Mode())
	}
	c.Close()

	must(t, os.Chmod(p, 0o644))
	must(t, os.WriteFile(p, b[:len(b)/2], 0o644))
	c = open(t, dir, local)
	defer c.Close()
	e, ok, err := c.Get(actionID(3))
	if !ok || err != nil || e.DiskPath != p || !bytes.Equal(mustRead(t, p), b) {
		t.Fatalf("get with a local file cut short: %+v %v %v", e, ok, err)
	}
}

// TestSweep: the last Cache to close removes local files unused for
// LocalMaxAge and old temporary files, never while another Cache is open,
// and at most once an hour.
func TestSweep(t *testing.T) {
	dir, local := t.TempDir(), t.TempDir()
	now := time.Now()
	clock := func() time.Time { return now }
	opts := Options{Local: local, LocalMaxAge: 24 * time.Hour, Now: clock}
	c, err := Open(dir, opts)
	must(t, err)
	var paths []string
	for i := range 3 {
		b := body(i)
		p, err := c.Put(actionID(i), sha256.Sum256(b), b)
		must(t, err)
		paths = append(paths, p)
	}
	old := now.Add(-25 * time.Hour)
	must(t, os.Chtimes(paths[0], old, old))
	must(t, os.Chtimes(paths[1], old, old))
	temp := filepath.Join(filepath.Dir(paths[2]), tempPrefix+"abandoned")
	must(t, os.WriteFile(temp, nil, 0o644))
	must(t, os.Chtimes(temp, now.Add(-2*time.Hour), now.Add(-2*time.Hour)))

	// A file handed out gets a fresh time, so it stays.
	if _, ok, _ := c.Get(actionID(1)); !ok {
		t.Fatal("miss")
	}
	other, err := Open(t.TempDir(), opts) // another Cache on the local directory
	must(t, err)
	must(t, c.Close())
	if _, err := os.Stat(paths[0]); err != nil {
		t.Fatalf("a sweep ran while another Cache used the directory: %v", err)
	}
	must(t, other.Close())
	for i, want := range []bool{false, true, true} {
		if _, err := os.Stat(paths[i]); (err == nil) != want {
			t.Errorf("file %d: exists %v, want %v", i, err == nil, want)
		}
	}
	if _, err := os.Stat(temp); err == nil {
		t.Error("an abandoned temporary file was not removed")
	}

	// The next sweep waits an hour.
	must(t, os.Chtimes(paths[2], old, old))
	c, err = Open(dir, opts)
	must(t, err)
	must(t, c.Close())
	if _, err := os.Stat(paths[2]); err != nil {
		t.Error("a second sweep ran within the hour")
	}
	now = now.Add(61 * time.Minute)
	c, err = Open(dir, opts)
	must(t, err)
	must(t, c.Close())
	if _, err := os.Stat(paths[2]); err == nil {
		t.Error("no sweep after an hour")
	}
}

func TestStatsString(t *testing.T) {
	s := Stats{Gets: 5, Hits: 3, HitBytes: 10, Puts: 2, PutBytes: 20, Damaged: 1, Errors: 0}
	line := s.String()
	got, err := ParseStats("bucketfs gocacheprog: " + line)
	if err != nil || got != s {
		t.Fatalf("ParseStats(%q) = %v, %v", line, got, err)
	}
	if _, err := ParseStats("nothing here"); err == nil {
		t.Error("ParseStats of a line without stats: no error")
	}
}
