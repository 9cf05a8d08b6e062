//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/fusefs"
	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

// binary is the bucketfs command, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bucketfs-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) // other users run it too (the not-permitted test)
	binary = filepath.Join(dir, "bucketfs")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building bucketfs: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if tenKDir != "" {
		os.RemoveAll(tenKDir) // made by the listing benchmark
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// bucketfs runs the command and returns its exit code and output.
func bucketfs(t testing.TB, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
	default:
		t.Fatalf("running bucketfs %q: %v", args, err)
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

func (r result) want(t testing.TB, code int, stderrHas ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Fatalf("stderr %q lacks %q", r.stderr, s)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func open[K, V any](t testing.TB, dir string, opts bucket.Options) *bucket.Bucket[K, V] {
	t.Helper()
	b, err := bucket.Open[K, V](dir, opts)
	must(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

type city struct {
	Name string
	Pop  int
}

// sample fills dir with entries of several codecs and key types and
// returns the names and contents the view must show.
func sample(t testing.TB, dir string) map[string]string {
	js := open[string, city](t, dir, bucket.Options{})
	must(t, js.Set("paris", city{"Paris", 2}))
	must(t, js.Set("a/b\x00c", city{"Odd", 1}))
	mp := open[string, city](t, dir, bucket.Options{Codec: bucket.MessagePack})
	must(t, mp.Set("lima", city{"Lima", 10}))
	raw := open[string, []byte](t, dir, bucket.Options{Codec: bucket.Raw})
	must(t, raw.Set("blob", []byte("\x00raw\xffbytes")))
	ints := open[int, string](t, dir, bucket.Options{})
	must(t, ints.Set(7, "seven"))
	gb := open[string, city](t, dir, bucket.Options{Codec: bucket.Gob})
	must(t, gb.Set("gob", city{"G", 3}))
	gobValue, err := bucket.Gob.Marshal(city{"G", 3})
	must(t, err)
	return map[string]string{
		"paris":     "{\n  \"Name\": \"Paris\",\n  \"Pop\": 2\n}\n",
		"a%2Fb%00c": "{\n  \"Name\": \"Odd\",\n  \"Pop\": 1\n}\n",
		"lima":      "{\n  \"Name\": \"Lima\",\n  \"Pop\": 10\n}\n",
		"blob":      "\x00raw\xffbytes",
		"=7":        "\"seven\"\n",
		"gob":       "# gob value, " + fmt.Sprint(len(gobValue)) + " bytes: encoding/gob needs the Go type to decode it\n# hex dump:\n" + hex.Dump(gobValue),
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func lines(s string) []string {
	l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(l) == 1 && l[0] == "" {
		return nil
	}
	slices.Sort(l)
	return l
}

func TestHelpAndUsage(t *testing.T) {
	r := bucketfs(t, "help")
	r.want(t, 0)
	for _, s := range []string{"Exit codes:", "bucketfs mount", "bucketfs verify [-fix]", "  5  mount:", "bucketfs version", "after --"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("help lacks %q", s)
		}
	}
	bucketfs(t).want(t, 2, "Usage:")
	bucketfs(t, "frobnicate").want(t, 2, `unknown subcommand "frobnicate"`)
	bucketfs(t, "ls").want(t, 2, "takes 1 argument (BUCKET_DIR), got 0", "usage: bucketfs ls [-l] BUCKET_DIR")
	bucketfs(t, "get", "x").want(t, 2, "takes 2 arguments (BUCKET_DIR NAME), got 1")
	bucketfs(t, "ls", "-nope", "x").want(t, 2, "flag provided but not defined")
	bucketfs(t, "mount", "a").want(t, 2)
	bucketfs(t, "demo", "extra").want(t, 2, "takes no arguments")
	bucketfs(t, "ls", "-h").want(t, 0)
}

// TestSubcommandHelp checks that every subcommand's -h (and help NAME)
// says what it does, lists its flags and gives an example, on stdout.
func TestSubcommandHelp(t *testing.T) {
	flags := map[string][]string{"mount": {"-allow-other", "-debug"}, "ls": {"-l"}, "verify": {"-fix"}, "demo": {"-keep"}}
	for _, c := range commands {
		if c.run == nil {
			t.Fatalf("subcommand %s has no function", c.name)
		}
		var out, errb bytes.Buffer
		if code := run([]string{c.name, "-h"}, &out, &errb); code != 0 || errb.Len() > 0 {
			t.Errorf("%s -h: exit %d, stderr %q", c.name, code, errb.String())
		}
		help := out.String()
		wants := append([]string{"usage: bucketfs " + c.name, c.about[:20], "Example:\n  bucketfs " + c.name}, flags[c.name]...)
		if len(flags[c.name]) > 0 {
			wants = append(wants, "Flags (before or after the arguments):")
		}
		for _, w := range wants {
			if !strings.Contains(help, w) {
				t.Errorf("%s -h lacks %q:\n%s", c.name, w, help)
			}
		}
		if len(strings.Split(help, "\n")) < 6 {
			t.Errorf("%s -h is only a usage line:\n%s", c.name, help)
		}
		var again bytes.Buffer
		if code := run([]string{"help", c.name}, &again, io.Discard); code != 0 || again.String() != help {
			t.Errorf("help %s (exit %d) differs from %s -h:\n%s", c.name, code, c.name, again.String())
		}
	}
}

// TestErrorsPrintedOnce checks that a usage error is one message and one
// usage line, not the flag package's text and then ours.
func TestErrorsPrintedOnce(t *testing.T) {
	for _, args := range [][]string{{"ls", "-nope", "x"}, {"verify", "-fix=maybe", "x"}, {"ls", "a", "b"}, {"get", "-l", "a", "b"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		msg := errb.String()
		if got := lines(msg); len(got) != 2 || strings.Count(msg, "bucketfs "+args[0]+":") != 1 || !strings.Contains(msg, "-h for help") {
			t.Errorf("%q: stderr %q, want one error line and one usage line", args, msg)
		}
	}
}

// TestFlagsAfterArguments checks that flags are taken wherever they stand,
// and that -- ends them.
func TestFlagsAfterArguments(t *testing.T) {
	for _, c := range []struct {
		args, want []string
		long       bool
	}{
		{[]string{"-l", "d"}, []string{"d"}, true},
		{[]string{"d", "-l"}, []string{"d"}, true},
		{[]string{"d", "--l=true"}, []string{"d"}, true},
		{[]string{"d"}, []string{"d"}, false},
		{[]string{"--", "-l"}, []string{"-l"}, false},
		{[]string{"-l", "--", "-d"}, []string{"-d"}, true},
	} {
		fl := flag.NewFlagSet("ls", flag.ContinueOnError)
		long := fl.Bool("l", false, "")
		got, err := parse(fl, c.args, io.Discard, "BUCKET_DIR")
		if err != nil || !slices.Equal(got, c.want) || *long != c.long {
			t.Errorf("parse(%q) = %q, -l %v, %v; want %q, -l %v", c.args, got, *long, err, c.want, c.long)
		}
	}
	fl := flag.NewFlagSet("get", flag.ContinueOnError)
	if got, err := parse(fl, []string{"d", "--", "-name"}, io.Discard, "BUCKET_DIR", "NAME"); err != nil || !slices.Equal(got, []string{"d", "-name"}) {
		t.Errorf("get d -- -name: %q, %v", got, err)
	}

	// And through the command itself.
	dir := t.TempDir()
	sample(t, dir)
	before, after := bucketfs(t, "ls", "-l", dir), bucketfs(t, "ls", dir, "-l")
	after.want(t, 0)
	if after.stdout != before.stdout || !strings.Contains(after.stdout, "  raw  ") {
		t.Errorf("ls DIR -l:\n%s\nls -l DIR:\n%s", after.stdout, before.stdout)
	}
	bucketfs(t, "verify", dir, "-fix").want(t, 0)
}

func TestVersion(t *testing.T) {
	r := bucketfs(t, "version")
	r.want(t, 0)
	if !strings.Contains(r.stdout, "github.com/bucketcache/bucketcache") || !strings.Contains(r.stdout, runtime.Version()) || len(lines(r.stdout)) != 1 {
		t.Errorf("version = %q", r.stdout)
	}
	if v := bucketfs(t, "--version"); v.stdout != r.stdout {
		t.Errorf("--version = %q, version = %q", v.stdout, r.stdout)
	}
	bucketfs(t, "version", "extra").want(t, 2)
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 files", 1: "1 file", 2: "2 files", 1000: "1000 files"} {
		if got := count(n, "file"); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestBucketErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	plain := t.TempDir()
	file := filepath.Join(plain, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	for _, sub := range [][]string{{"ls"}, {"get"}, {"stats"}, {"prune"}, {"verify"}, {"verify", "-fix"}, {"mount"}} {
		extra := map[string][]string{"get": {"name"}, "mount": {t.TempDir()}}[sub[0]]
		for dir, msg := range map[string]string{missing: "does not exist", plain: "not a bucket directory", file: "not a directory"} {
			args := append(append(slices.Clone(sub), dir), extra...)
			bucketfs(t, args...).want(t, 3, dir, msg)
		}
	}
	// Nothing was created.
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a command created %s", missing)
	}
	if _, err := os.Stat(filepath.Join(plain, shard.MetaName)); !os.IsNotExist(err) {
		t.Errorf("a command made %s a bucket", plain)
	}
}

func TestLsAndGet(t *testing.T) {
	dir := t.TempDir()
	want := sample(t, dir)
	r := bucketfs(t, "ls", dir)
	r.want(t, 0)
	if got := lines(r.stdout); !slices.Equal(got, sortedKeys(want)) {
		t.Fatalf("ls = %q, want %q", got, sortedKeys(want))
	}
	if r.stderr != "" {
		t.Errorf("ls wrote to stderr (not a terminal): %q", r.stderr)
	}
	long := bucketfs(t, "ls", "-l", dir)
	long.want(t, 0)
	if !regexp.MustCompile(`(?m)^\s+10  raw .* never\s+blob$`).MatchString(long.stdout) {
		t.Errorf("ls -l output:\n%s", long.stdout)
	}
	for name, content := range want {
		r := bucketfs(t, "get", dir, name)
		r.want(t, 0)
		if r.stdout != content {
			t.Errorf("get %q = %q, want %q", name, r.stdout, content)
		}
	}
	bucketfs(t, "get", dir, "nope").want(t, 4, `no live entry named "nope"`, dir)
	bucketfs(t, "get", dir, "%70aris").want(t, 4) // another spelling of paris is not its name

	// The mount shows the same names and the same contents.
	if fusefs.CheckFUSE() != nil {
		return
	}
	mnt := t.TempDir()
	srv, err := fusefs.Mount(dir, mnt, fusefs.Options{})
	must(t, err)
	defer srv.Unmount()
	entries, err := os.ReadDir(mnt)
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		data, err := os.ReadFile(filepath.Join(mnt, e.Name()))
		if err != nil || string(data) != want[e.Name()] {
			t.Errorf("mount: cat %q = %q, %v; bucketfs get gave %q", e.Name(), data, err, want[e.Name()])
		}
	}
	if !slices.Equal(names, sortedKeys(want)) {
		t.Errorf("mount lists %q, bucketfs ls %q", names, sortedKeys(want))
	}
}

func TestGetDamaged(t *testing.T) {
	dir := t.TempDir()
	raw := open[string, []byte](t, dir, bucket.Options{Codec: bucket.Raw})
	must(t, raw.Set("r", []byte("0123456789")))
	path := entryFile(t, dir, "r")
	data, err := os.ReadFile(path)
	must(t, err)
	data[len(data)-1] ^= 1
	must(t, os.WriteFile(path, data, 0o644))
	// A damaged entry is a miss, as on every surface, and the error says why.
	bucketfs(t, "get", dir, "r").want(t, 4, "damaged", "body checksum mismatch", path)
	if got := bucketfs(t, "ls", dir).stdout; got != "" {
		t.Errorf("ls lists a damaged entry: %q", got)
	}
}

func entryFile(t testing.TB, dir, key string) string {
	t.Helper()
	l, err := shard.Read(dir)
	must(t, err)
	kb, err := canon.Marshal(key)
	must(t, err)
	return filepath.Join(dir, l.EntryPath(shard.Hash(kb)))
}

// damagedBucket has live entries a and b, an expired one, a temporary
// file, an entry with a damaged value (body) and one with a damaged header
// (head).
func damagedBucket(t *testing.T) string {
	dir := t.TempDir()
	now := time.Now()
	b := open[string, string](t, dir, bucket.Options{Now: func() time.Time { return now }})
	for _, k := range []string{"a", "b", "body", "head"} {
		must(t, b.Set(k, "value of "+k))
	}
	must(t, b.SetWithLifetime("old", "x", time.Nanosecond))
	now = now.Add(time.Second) // "old" has expired for every clock from here on
	for key, off := range map[string]int{"body": -3, "head": 9} {
		path := entryFile(t, dir, key)
		data, err := os.ReadFile(path)
		must(t, err)
		if off < 0 {
			off += len(data)
		}
		data[off] ^= 1
		must(t, os.WriteFile(path, data, 0o644))
	}
	a := entryFile(t, dir, "a")
	h, _ := shard.ParseEntryName(filepath.Base(a))
	tmp := filepath.Join(filepath.Dir(a), shard.TempName(h, 99999, 1))
	must(t, os.WriteFile(tmp, []byte("half an entry"), 0o644))
	return dir
}

func TestStats(t *testing.T) {
	dir := damagedBucket(t)
	r := bucketfs(t, "stats", dir)
	r.want(t, 0)
	for _, s := range []string{
		"entries    2 live", // body's value is damaged: stats checks in full, as ls does
		"expired    1,", "damaged    2,", "temporary  1,", "codecs     json 2", "per shard  min 0",
	} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stats lacks %q:\n%s", s, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stats wrote to stderr (not a terminal): %q", r.stderr)
	}
	if !strings.Contains(r.stdout, "limits     none recorded (entry files: 5,") {
		t.Errorf("stats without limits:\n%s", r.stdout)
	}
}

func TestStatsShowsUsageAgainstLimits(t *testing.T) {
	dir := t.TempDir()
	b, err := bucket.Open[string, int](dir, bucket.Options{MaxEntries: 1000, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		b.Set(strconv.Itoa(i), i)
	}
	b.Close()
	r := bucketfs(t, "stats", dir)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "limits     entries 10 of 1000, bytes ") || !strings.Contains(r.stdout, "of 1.0 MiB") {
		t.Errorf("stats with limits:\n%s", r.stdout)
	}
}

func TestVerify(t *testing.T) {
	dir := damagedBucket(t)
	r := bucketfs(t, "verify", dir)
	r.want(t, 1, "2 damaged entry files remain; run verify -fix")
	for _, s := range []string{entryFile(t, dir, "body") + ": body checksum mismatch (left in place)", entryFile(t, dir, "head") + ": header checksum mismatch", "checked 5 entry files: 3 sound, 2 damaged"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("verify lacks %q:\n%s", s, r.stdout)
		}
	}
	r = bucketfs(t, "verify", "-fix", dir)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "(removed)") || !strings.Contains(r.stdout, "2 damaged, 2 removed") {
		t.Errorf("verify -fix:\n%s", r.stdout)
	}
	for _, k := range []string{"body", "head"} {
		if _, err := os.Stat(entryFile(t, dir, k)); !os.IsNotExist(err) {
			t.Errorf("damaged %s still there: %v", k, err)
		}
	}
	if _, err := os.Stat(entryFile(t, dir, "a")); err != nil {
		t.Errorf("verify -fix removed a sound entry: %v", err)
	}
	bucketfs(t, "verify", dir).want(t, 0)

	// One of each: singular nouns and verbs.
	dir = damagedBucket(t)
	must(t, os.Remove(entryFile(t, dir, "head")))
	r = bucketfs(t, "verify", dir)
	r.want(t, 1, "1 damaged entry file remains; run verify -fix")
	if !strings.Contains(r.stdout, "checked 4 entry files: 3 sound, 1 damaged") {
		t.Errorf("verify with one damaged file:\n%s", r.stdout)
	}
}

func TestPrune(t *testing.T) {
	dir := damagedBucket(t)
	r := bucketfs(t, "prune", dir)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "pruned 3 files") || !strings.Contains(r.stdout, "1 expired, 1 damaged, 1 temporary") {
		t.Errorf("prune: %s", r.stdout)
	}
	if got := lines(bucketfs(t, "ls", dir).stdout); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after prune, ls = %q", got)
	}
	// The damage inside body's value shows only when values are read.
	bucketfs(t, "verify", dir).want(t, 1, "1 damaged entry file remains")
	r = bucketfs(t, "prune", "-full", dir)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "pruned 1 file,") || !strings.Contains(r.stdout, "0 expired, 1 damaged") {
		t.Errorf("prune -full: %s", r.stdout)
	}
	if _, err := os.Stat(entryFile(t, dir, "body")); !os.IsNotExist(err) {
		t.Errorf("prune -full left the entry with a damaged value: %v", err)
	}
	bucketfs(t, "verify", dir).want(t, 0)
	r = bucketfs(t, "prune", dir)
	r.want(t, 0)
	if !strings.Contains(r.stdout, "pruned 0 files") {
		t.Errorf("second prune: %s", r.stdout)
	}
	a := entryFile(t, dir, "a")
	h, _ := shard.ParseEntryName(filepath.Base(a))
	must(t, os.WriteFile(filepath.Join(filepath.Dir(a), shard.TempName(h, 99999, 2)), []byte("half an entry"), 0o644))
	r = bucketfs(t, "prune", dir)
	if !strings.Contains(r.stdout, "pruned 1 file,") {
		t.Errorf("prune of one file: %s", r.stdout)
	}
}

func TestDemo(t *testing.T) {
	r := bucketfs(t, "demo")
	r.want(t, 0)
	m := regexp.MustCompile(`a bucket in (\S+),`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("demo output:\n%s", r.stdout)
	}
	for _, s := range []string{
		"memory hits: 0 after that cold Get, 1 after",
		"first.Get(paris).Population = 2102650",
		"Contains(lima) = false, Contains(tokyo) = true",
		"(ErrNotFound: true)",
		"Expired:1",
		"runs: 1, memo hits: 1",
		"after Write returned: on disk? true",
	} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("demo output lacks %q:\n%s", s, r.stdout)
		}
	}
	if fusefs.CheckFUSE() == nil && !strings.Contains(r.stdout, "Unmounted.") {
		t.Errorf("FUSE is available but the demo did not mount:\n%s", r.stdout)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("demo left %s behind: %v", m[1], err)
	}

	// Without FUSE (an ordinary user without fusermount or without access
	// to /dev/fuse), the demo says what to do, as mount does, and still
	// succeeds.
	if nobodyCannotMount() {
		cmd := exec.Command(binary, "demo")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		said := strings.Join(strings.Fields(string(out)), " ")
		if err != nil || !strings.Contains(said, "No mount here: ") || !strings.Contains(said, "run as root") || !strings.Contains(said, "runs: 1, memo hits: 1") {
			t.Errorf("demo as nobody: %v\n%s", err, out)
		}
		if errb.Len() > 0 {
			t.Errorf("demo as nobody wrote to stderr: %q", errb.String())
		}
	}

	r = bucketfs(t, "demo", "-keep")
	r.want(t, 0)
	m = regexp.MustCompile(`a bucket in (\S+),`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("demo -keep output:\n%s", r.stdout)
	}
	defer os.RemoveAll(m[1])
	if got := lines(bucketfs(t, "ls", m[1]).stdout); !slices.Contains(got, "paris") {
		t.Errorf("kept demo bucket lists %q", got)
	}
}

// requireFUSE skips the test when this process cannot mount, or fails it
// when BUCKETFS_REQUIRE_FUSE=1 (as CI sets it).
func requireFUSE(t testing.TB) {
	t.Helper()
	if err := fusefs.CheckFUSE(); err != nil {
		if os.Getenv("BUCKETFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE required (BUCKETFS_REQUIRE_FUSE=1) but unavailable: %v", err)
		}
		t.Skipf("FUSE unavailable: %v", err)
	}
}

// server is a running "bucketfs mount".
type server struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startMount runs bucketfs mount as a child and waits until it serves.
func startMount(t *testing.T, dir, mnt string) *server {
	t.Helper()
	cmd := exec.Command(binary, "mount", dir, mnt)
	pr, pw := io.Pipe()
	errb := &syncBuffer{}
	cmd.Stderr = io.MultiWriter(errb, pw)
	must(t, cmd.Start())
	s := &server{cmd: cmd, stderr: errb, done: make(chan struct{})}
	go func() { cmd.Wait(); pw.Close(); close(s.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
		var st unix.Statfs_t
		if unix.Statfs(mnt, &st) == unix.ENOTCONN || st.Type == unix.FUSE_SUPER_MAGIC {
			unix.Unmount(mnt, unix.MNT_DETACH)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil || !strings.Contains(line, "serving") {
		<-s.done
		t.Fatalf("bucketfs mount said %q, %v; stderr %q", line, err, errb.String())
	}
	return s
}

func (s *server) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("bucketfs mount still running; stderr %q", s.stderr.String())
	}
	return s.cmd.ProcessState.ExitCode()
}

func isMounted(mnt string) bool {
	var st unix.Statfs_t
	return unix.Statfs(mnt, &st) == nil && st.Type == unix.FUSE_SUPER_MAGIC
}

func TestMountSignals(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	want := sample(t, dir)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		mnt := t.TempDir()
		s := startMount(t, dir, mnt)
		data, err := os.ReadFile(filepath.Join(mnt, "paris"))
		if err != nil || string(data) != want["paris"] {
			t.Fatalf("cat through bucketfs mount = %q, %v", data, err)
		}
		must(t, s.cmd.Process.Signal(sig))
		if code := s.wait(t); code != 0 {
			t.Fatalf("after %v: exit %d; stderr %q", sig, code, s.stderr.String())
		}
		if isMounted(mnt) {
			t.Fatalf("still mounted after %v", sig)
		}
	}
}

func TestMountBusyThenLazy(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	sample(t, dir)
	mnt := t.TempDir()
	s := startMount(t, dir, mnt)
	f, err := os.Open(filepath.Join(mnt, "paris"))
	must(t, err)
	defer f.Close()
	must(t, s.cmd.Process.Signal(syscall.SIGINT))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), "still in use") {
		if time.Now().After(deadline) {
			t.Fatalf("no busy message; stderr %q", s.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !isMounted(mnt) {
		t.Fatalf("unmounted although busy")
	}
	// It names this process and the file it holds, and says what to do.
	for _, w := range []string{fmt.Sprintf("(pid %d): paris", os.Getpid()), "Close these files", "Interrupt again to unmount"} {
		if !strings.Contains(s.stderr.String(), w) {
			t.Errorf("busy message lacks %q: %q", w, s.stderr.String())
		}
	}
	must(t, s.cmd.Process.Signal(syscall.SIGINT))
	deadline = time.Now().Add(10 * time.Second)
	for isMounted(mnt) {
		if time.Now().After(deadline) {
			t.Fatalf("second SIGINT did not detach; stderr %q", s.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if data, err := io.ReadAll(f); err != nil || !strings.Contains(string(data), "Paris") {
		t.Fatalf("read of the file held across the detach: %q, %v", data, err)
	}
	f.Close()
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr %q", code, s.stderr.String())
	}
}

func TestMountKill9ThenRemount(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	sample(t, dir)
	mnt := t.TempDir()
	s := startMount(t, dir, mnt)
	must(t, s.cmd.Process.Signal(syscall.SIGKILL))
	s.wait(t)
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != unix.ENOTCONN {
		t.Fatalf("statfs after kill -9: %v, want ENOTCONN", err)
	}
	s = startMount(t, dir, mnt)
	data, err := os.ReadFile(filepath.Join(mnt, "=7"))
	if err != nil || string(data) != "\"seven\"\n" {
		t.Fatalf("cat through the new mount = %q, %v", data, err)
	}
	must(t, s.cmd.Process.Signal(syscall.SIGTERM))
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestMountErrors(t *testing.T) {
	dir := t.TempDir()
	sample(t, dir)
	missing := filepath.Join(t.TempDir(), "missing")
	bucketfs(t, "mount", dir, missing).want(t, 5, missing, "does not exist")
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o644))
	bucketfs(t, "mount", dir, file).want(t, 5, file, "not a directory")
	if !nobodyCannotMount() {
		return
	}
	// As an ordinary user on a machine without fusermount (or with
	// /dev/fuse closed to that user), mounting is refused with a sentence
	// that says what to do, and nothing else.
	shared, err := os.MkdirTemp("", "bucketfs-nobody-")
	must(t, err)
	defer os.RemoveAll(shared)
	must(t, os.Chmod(shared, 0o755))
	bdir, mnt := filepath.Join(shared, "bucket"), filepath.Join(shared, "mnt")
	must(t, os.Mkdir(mnt, 0o755))
	sample(t, bdir)
	must(t, filepath.Walk(bdir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chmod(p, fi.Mode().Perm()|0o444|fi.Mode().Perm()&0o111|map[bool]os.FileMode{true: 0o111}[fi.IsDir()])
	}))
	cmd := exec.Command(binary, "mount", bdir, mnt)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	done := make(chan error, 1)
	must(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		unix.Unmount(mnt, unix.MNT_DETACH)
		t.Fatalf("bucketfs mount as nobody mounted, or hung; stderr %q", errb.String())
	}
	t.Logf("as nobody: %s", errb.String())
	msg := errb.String()
	if code := cmd.ProcessState.ExitCode(); code != 5 || !regexp.MustCompile(`FUSE is not available|not permitted`).MatchString(msg) ||
		!strings.Contains(msg, "run as root") || len(lines(msg)) != 1 || strings.Contains(msg, "exited with code") {
		t.Fatalf("mount as nobody: exit %d, stderr %q; want 5 and one line saying what to do", code, msg)
	}
}

// viewName is the name the view gives a key, for tests that build names.
func viewName(t testing.TB, key any) string {
	kb, err := canon.Marshal(key)
	must(t, err)
	return view.Name(kb)
}

func TestNameOfAwkwardKeyMatches(t *testing.T) {
	dir := t.TempDir()
	b := open[string, int](t, dir, bucket.Options{})
	key := "x/../\x00\n%=~é\xff" + strings.Repeat("y", 300)
	must(t, b.Set(key, 1))
	r := bucketfs(t, "ls", dir)
	r.want(t, 0)
	name := viewName(t, key)
	if got := lines(r.stdout); !slices.Equal(got, []string{name}) {
		t.Fatalf("ls = %q, want %q", got, name)
	}
	g := bucketfs(t, "get", dir, name)
	g.want(t, 0)
	if g.stdout != "1\n" {
		t.Fatalf("get = %q", g.stdout)
	}
}

// nobodyCannotMount reports whether this test runs as root (so it can
// become nobody) on a machine where nobody cannot mount: no fusermount, or
// a /dev/fuse that others may not read and write.
func nobodyCannotMount() bool {
	if os.Geteuid() != 0 {
		return false
	}
	fi, err := os.Stat(fusefs.DevFUSE)
	return !haveFusermount() || err != nil || fi.Mode().Perm()&0o006 != 0o006
}

// haveFusermount reports whether ordinary users could mount here.
func haveFusermount() bool {
	for _, name := range []string{"fusermount3", "fusermount", "/bin/fusermount3", "/bin/fusermount"} {
		if _, err := exec.LookPath(name); err == nil {
			return true
		}
	}
	return false
}
