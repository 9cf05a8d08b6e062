//go:build linux

package stress

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"
)

// dirScan is what scanDir found in a bucket directory.
type dirScan struct {
	Entries   int      // entry files that are whole, valid entries in their right place
	Keys      []string // their canonical keys
	Damaged   []string // entry-named files that are not (with the reason)
	Foreign   []string // whole entries under another key's name (moved or copied there)
	Unowned   []string // entry-named files without the entry magic: not the bucket's, never removed
	Dirs      []string // directories under an entry's name
	Temps     []string // temporary files
	Links     []string // symlinks anywhere in the bucket
	Locks     int      // lock files found free
	HeldLocks []string // lock files some process holds
	Other     []string // names the bucket does not make
}

// scanDir reads every file of the bucket directory dir without the library:
// each entry file must decode in full and hold a key that hashes to its name
// and shard; each lock file (shard locks, per-key locks) is tried, and must
// be free when no process is using the bucket.
func scanDir(t testing.TB, dir string, tryLocks bool) dirScan {
	t.Helper()
	var s dirScan
	layout, err := shard.Read(dir)
	if err != nil {
		t.Fatalf("scan %s: %v", dir, err)
	}
	root, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range root {
		name := de.Name()
		path := filepath.Join(dir, name)
		if de.Type()&os.ModeSymlink != 0 {
			s.Links = append(s.Links, path)
			continue
		}
		i, isShard := layout.ParseDirName(name)
		switch {
		case name == shard.MetaName || name == shard.CountersName:
			continue
		case isShard && de.IsDir():
			s.scanShard(t, dir, layout, i, tryLocks)
		case shard.IsTempName(name):
			s.Temps = append(s.Temps, path)
		default:
			s.Other = append(s.Other, path)
		}
	}
	return s
}

func (s *dirScan) scanShard(t testing.TB, dir string, layout shard.Layout, i int, tryLocks bool) {
	t.Helper()
	sdir := filepath.Join(dir, layout.DirName(i))
	des, err := os.ReadDir(sdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		name := de.Name()
		path := filepath.Join(sdir, name)
		if de.Type()&os.ModeSymlink != 0 {
			s.Links = append(s.Links, path)
			continue
		}
		h, isEntry := shard.ParseEntryName(name)
		switch {
		case isEntry && de.IsDir():
			s.Dirs = append(s.Dirs, path)
		case isEntry:
			key, err := checkEntryFile(path, h, layout, i)
			if errors.Is(err, errForeign) {
				s.Foreign = append(s.Foreign, path)
			} else if shard.ReasonOf(err).Foreign() {
				s.Unowned = append(s.Unowned, path)
			} else if err != nil {
				s.Damaged = append(s.Damaged, fmt.Sprintf("%s: %v", path, err))
			} else {
				s.Entries++
				s.Keys = append(s.Keys, key)
			}
		case shard.IsTempName(name):
			s.Temps = append(s.Temps, path)
		case name == shard.LockName || strings.HasSuffix(name, shard.KeyLockSuffix):
			if !tryLocks {
				continue
			}
			m := lock.New(path)
			ok, err := m.TryLock()
			switch {
			case err != nil:
				s.HeldLocks = append(s.HeldLocks, fmt.Sprintf("%s: %v", path, err))
			case !ok:
				s.HeldLocks = append(s.HeldLocks, path+": held")
			default:
				s.Locks++
				m.Unlock()
			}
		default:
			s.Other = append(s.Other, path)
		}
	}
}

var errForeign = errors.New("holds the key of another file")

// checkEntryFile verifies the entry file at path, named for hash h in shard
// i, and returns its key.
func checkEntryFile(path string, h uint64, layout shard.Layout, i int) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	e, err := shard.Decode(data)
	if err != nil {
		return "", err
	}
	if kh := shard.Hash(e.Key); kh != h || layout.Index(kh) != i {
		return "", errForeign
	}
	return string(e.Key), nil
}

// expectClean fails t unless the scan found only whole entries and free
// locks; temporary files are allowed when temps is set (before a Prune).
func (s dirScan) expectClean(t testing.TB, what string, temps bool) {
	t.Helper()
	for _, d := range s.Damaged {
		t.Errorf("%s: damaged entry file: %s", what, d)
	}
	for _, d := range s.Foreign {
		t.Errorf("%s: entry file under another key's name: %s", what, d)
	}
	for _, d := range s.Dirs {
		t.Errorf("%s: directory under an entry's name: %s", what, d)
	}
	for _, l := range s.HeldLocks {
		t.Errorf("%s: lock still held: %s", what, l)
	}
	for _, l := range s.Links {
		t.Errorf("%s: symbolic link in the bucket: %s", what, l)
	}
	for _, o := range s.Other {
		t.Errorf("%s: unexpected file in the bucket: %s", what, o)
	}
	if !temps {
		for _, tmp := range s.Temps {
			t.Errorf("%s: temporary file left: %s", what, tmp)
		}
	}
}
