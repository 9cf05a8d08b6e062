package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bucketcache/bucketcache/shard"
)

func TestRemoveDamaged(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := []string{`"good"`, `"body"`, `"link"`, `"dir"`}
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

	want := map[string]bool{`"good"`: false, `"body"`: true, `"link"`: true, `"dir"`: false}
	for k, w := range want {
		removed, _, err := s.RemoveDamaged(0, filepath.Base(path(k)))
		if err != nil || removed != w {
			t.Errorf("RemoveDamaged(%s) = %v, %v; want %v", k, removed, err, w)
		}
		_, statErr := os.Lstat(path(k))
		if gone := os.IsNotExist(statErr); gone != w {
			t.Errorf("%s: file gone %v, want %v", k, gone, w)
		}
	}
	if rec, err := s.Get([]byte(`"good"`)); err != nil || string(rec.Value) != `"0123456789"` {
		t.Errorf("good entry after RemoveDamaged: %q, %v", rec.Value, err)
	}
	if removed, _, err := s.RemoveDamaged(0, "lock"); removed || err != nil {
		t.Errorf("RemoveDamaged(lock) = %v, %v", removed, err)
	}
}

func TestPruneShard(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := []byte(`"k"`)
	if err := s.Put(key, Record{Codec: "json", Value: []byte("1"), ExpiresAt: s.Now().Add(-1)}); err != nil {
		t.Fatal(err)
	}
	i := s.ShardOf(key)
	if info, err := s.PruneShard(1 - i); err != nil || info.Files != 0 {
		t.Fatalf("PruneShard(other) = %+v, %v", info, err)
	}
	if info, err := s.PruneShard(i); err != nil || info.Expired != 1 {
		t.Fatalf("PruneShard(%d) = %+v, %v", i, info, err)
	}
}
