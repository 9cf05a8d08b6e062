package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bucketcache/bucketcache/shard"
)

// TestVerifyFix: a full verification removes the format's own damage (a
// value whose checksum fails, a symlink in an entry's place) and nothing
// else: not a sound entry, not a directory in an entry's place, not a file
// without the entry magic, not the lock file.
func TestVerifyFix(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Config{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := []string{`"good"`, `"body"`, `"link"`, `"dir"`, `"alien"`}
	for _, k := range keys {
		if err := s.Put([]byte(k), Record{Codec: "json", Value: []byte(`"0123456789"`)}); err != nil {
			t.Fatal(err)
		}
	}
	path := func(k string) string { return filepath.Join(dir, s.Layout().EntryPath(shard.Hash([]byte(k)))) }
	data, _ := os.ReadFile(path(`"body"`))
	data[len(data)-3] ^= 1
	os.WriteFile(path(`"body"`), data, 0o644)
	os.Remove(path(`"link"`))
	os.Symlink(path(`"good"`), path(`"link"`))
	os.Remove(path(`"dir"`))
	os.Mkdir(path(`"dir"`), 0o755)
	os.WriteFile(path(`"alien"`), []byte("another program's data"), 0o644)

	var found []Finding
	info, err := s.Sweep(context.Background(), SweepOptions{Verify: true, Report: func(f Finding) { found = append(found, f) }})
	if err != nil || info.Damaged != 2 || info.Foreign != 2 || info.Files != 0 || len(found) != 4 {
		t.Fatalf("Verify = %+v, %v; findings %+v", info, err, found)
	}
	info, err = s.Sweep(context.Background(), SweepOptions{Verify: true, Fix: true})
	if err != nil || info.Corrupt != 2 || info.Foreign != 2 {
		t.Fatalf("Verify -fix = %+v, %v", info, err)
	}
	want := map[string]bool{`"good"`: false, `"body"`: true, `"link"`: true, `"dir"`: false, `"alien"`: false}
	for k, w := range want {
		_, statErr := os.Lstat(path(k))
		if gone := os.IsNotExist(statErr); gone != w {
			t.Errorf("%s: file gone %v, want %v", k, gone, w)
		}
	}
	if rec, err := s.Get([]byte(`"good"`)); err != nil || string(rec.Value) != `"0123456789"` {
		t.Errorf("good entry after verify -fix: %q, %v", rec.Value, err)
	}
	if _, err := os.Stat(filepath.Join(dir, s.Layout().DirName(0), shard.LockName)); err != nil {
		t.Errorf("the shard's lock file: %v", err)
	}
}

// TestSweepCancelled: a sweep whose context has ended stops and says so.
func TestSweepCancelled(t *testing.T) {
	s, err := Open(t.TempDir(), Config{Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Prune(ctx); err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Prune(cancelled) = %v", err)
	}
}
