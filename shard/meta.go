package shard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// MetaName is the name of the metadata file at a bucket's root.
const MetaName = "BUCKETCACHE"

// FormatVersion is the on-disk layout version this package writes and reads.
const FormatVersion = 1

// ErrNotBucket reports a directory that has no bucket metadata file.
var ErrNotBucket = errors.New("not a bucket directory (no " + MetaName + " file)")

// ErrForeign reports a directory that holds files but no bucket metadata
// file: another program's, which a bucket must not take over by accident
// (Prune would then remove whatever looked like its files). Adopt takes it
// over on purpose.
var ErrForeign = errors.New("directory is not empty and is not a bucket (no " + MetaName + " file); refusing to adopt it")

type meta struct {
	Format int `json:"format"`
	Shards int `json:"shards"`
}

// Open reads the layout recorded in dir, recording one first if dir has none
// and is empty; a non-empty directory without a record is refused with an
// error wrapping ErrForeign, and left unchanged. count 0 accepts whatever is
// recorded (DefaultCount for a new bucket); any other count must match the
// recorded one. dir must exist.
//
// Two processes creating the same bucket at once agree: the record is
// published with link(2), which fails for the second, who then reads the
// first's record and checks it.
func Open(dir string, count int) (Layout, error) { return open(dir, count, false) }

// Adopt is Open, but records a layout in a non-empty directory too: the
// caller takes the directory's files under the bucket's rules on purpose.
// Files whose names the format does not use stay untouched all the same.
func Adopt(dir string, count int) (Layout, error) { return open(dir, count, true) }

func open(dir string, count int, adopt bool) (Layout, error) {
	if count < 0 || count > MaxCount {
		return Layout{}, fmt.Errorf("bucket %s: shard count %d out of range 0..%d", dir, count, MaxCount)
	}
	m, err := readMeta(dir)
	if errors.Is(err, ErrNotBucket) && !adopt {
		if ferr := checkEmpty(dir); ferr != nil {
			// Another process (on a shared filesystem, another machine)
			// may have made the bucket since readMeta looked, and begun
			// to fill it.
			if m, err = readMeta(dir); err != nil {
				return Layout{}, ferr
			}
		}
	}
	if errors.Is(err, ErrNotBucket) {
		want := count
		if want == 0 {
			want = DefaultCount
		}
		m, err = createMeta(dir, meta{Format: FormatVersion, Shards: want})
	}
	if err != nil {
		return Layout{}, err
	}
	if count != 0 && m.Shards != count {
		return Layout{}, fmt.Errorf("bucket %s: has %d shards, asked for %d (the shard count is fixed when a bucket is created)", dir, m.Shards, count)
	}
	return New(m.Shards)
}

// Read returns the layout recorded in dir without ever creating one. A
// directory without a record gives an error wrapping ErrNotBucket.
func Read(dir string) (Layout, error) {
	m, err := readMeta(dir)
	if err != nil {
		return Layout{}, err
	}
	return New(m.Shards)
}

// checkEmpty returns an error wrapping ErrForeign if dir holds anything but
// what another process creating a bucket there at this moment makes: its
// temporary record, the counters file, and the record itself, published
// since this process looked for it (createMeta then finds and reads it).
func checkEmpty(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", dir, err)
	}
	for _, name := range names {
		if name != CountersName && name != MetaName && !strings.HasPrefix(name, TempPrefix+MetaName+"-") {
			return fmt.Errorf("bucket %s: %w (it holds %q; set Adopt to use it anyway)", dir, ErrForeign, name)
		}
	}
	return nil
}

func readMeta(dir string) (meta, error) {
	path := filepath.Join(dir, MetaName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return meta{}, fmt.Errorf("%s: %w", dir, ErrNotBucket)
	}
	if err != nil {
		return meta{}, err
	}
	var m meta
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return meta{}, fmt.Errorf("%s: malformed bucket metadata: %v", path, err)
	}
	if m.Format != FormatVersion {
		return meta{}, fmt.Errorf("%s: bucket format %d, this version reads format %d", path, m.Format, FormatVersion)
	}
	if m.Shards < 1 || m.Shards > MaxCount {
		return meta{}, fmt.Errorf("%s: malformed bucket metadata: shard count %d", path, m.Shards)
	}
	return m, nil
}

func createMeta(dir string, m meta) (meta, error) {
	data, _ := json.Marshal(m)
	data = append(data, '\n')
	// Each creator needs a temporary file of its own: with a shared name, one
	// creator could publish another's contents and report its own.
	tmp := filepath.Join(dir, fmt.Sprintf("%s%s-%d-%d", TempPrefix, MetaName, os.Getpid(), rand.Uint64()))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return meta{}, fmt.Errorf("bucket %s: cannot create: %w", dir, err)
	}
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return meta{}, fmt.Errorf("bucket %s: cannot create: %w", dir, err)
	}
	// A new bucket's shards are all empty: say so in its counters before the
	// bucket exists for anyone else. (Counters made later, when the file is
	// lost, start unknown and are recounted from the directories.)
	if err := createCounters(dir, m.Shards); err != nil {
		return meta{}, fmt.Errorf("bucket %s: cannot create: %w", dir, err)
	}
	err = os.Link(tmp, filepath.Join(dir, MetaName))
	if errors.Is(err, fs.ErrExist) {
		return readMeta(dir)
	}
	if err != nil {
		return meta{}, fmt.Errorf("bucket %s: cannot create: %w", dir, err)
	}
	return m, nil
}
