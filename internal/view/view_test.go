package view

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/store"
	"github.com/bucketcache/bucketcache/shard"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func openBucket[K, V any](t *testing.T, dir string, opts bucket.Options) *bucket.Bucket[K, V] {
	t.Helper()
	b, err := bucket.Open[K, V](dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func openDir(t *testing.T, dir string, now func() time.Time) *Dir {
	t.Helper()
	d, err := Open(dir, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func listAll(t *testing.T, d *Dir) map[string]Entry {
	t.Helper()
	out := map[string]Entry{}
	for i := 0; i < d.Layout().Count(); i++ {
		es, err := d.Entries(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if _, dup := out[e.Name]; dup {
				t.Fatalf("name %q listed twice", e.Name)
			}
			out[e.Name] = e
		}
	}
	return out
}

func content(t *testing.T, d *Dir, name string) string {
	t.Helper()
	e, err := d.Lookup(name)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", name, err)
	}
	c, err := d.OpenContent(e.Hash, e.Key)
	if err != nil {
		t.Fatalf("OpenContent(%q): %v", name, err)
	}
	defer c.Close()
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != c.Size() {
		t.Fatalf("%q: WriteTo wrote %d bytes, Size is %d", name, buf.Len(), c.Size())
	}
	size, err := d.ContentSize(&e)
	if err != nil || size != c.Size() {
		t.Fatalf("%q: ContentSize = %d, %v; content is %d bytes", name, size, err, c.Size())
	}
	return buf.String()
}

type point struct {
	X, Y int
	Tag  string `msgpack:"tag" json:"tag"`
}

func TestContentByCodec(t *testing.T) {
	dir := t.TempDir()
	js := openBucket[string, point](t, dir, bucket.Options{})
	mp := openBucket[string, point](t, dir, bucket.Options{Codec: bucket.MessagePack})
	raw := openBucket[string, []byte](t, dir, bucket.Options{Codec: bucket.Raw})
	gb := openBucket[string, point](t, dir, bucket.Options{Codec: bucket.Gob})
	intKeys := openBucket[int, string](t, dir, bucket.Options{})
	must(t, js.Set("json", point{1, 2, "<a&b>"}))
	must(t, mp.Set("msgpack", point{3, 4, "é"}))
	must(t, raw.Set("raw", []byte("\x00\x01binary\xff")))
	must(t, gb.Set("gob", point{5, 6, "g"}))
	must(t, intKeys.Set(7, "seven"))

	d := openDir(t, dir, nil)
	names := listAll(t, d)
	for _, n := range []string{"json", "msgpack", "raw", "gob", "=7"} {
		if _, ok := names[n]; !ok {
			t.Errorf("listing lacks %q; has %v", n, names)
		}
	}
	if got, want := content(t, d, "json"), "{\n  \"X\": 1,\n  \"Y\": 2,\n  \"tag\": \"<a&b>\"\n}\n"; got != want {
		t.Errorf("json content %q, want %q", got, want)
	}
	if got, want := content(t, d, "msgpack"), "{\n  \"X\": 3,\n  \"Y\": 4,\n  \"tag\": \"é\"\n}\n"; got != want {
		t.Errorf("msgpack content %q, want %q", got, want)
	}
	if got := content(t, d, "raw"); got != "\x00\x01binary\xff" {
		t.Errorf("raw content %q", got)
	}
	if got := content(t, d, "=7"); got != "\"seven\"\n" {
		t.Errorf("int key content %q", got)
	}
	got := content(t, d, "gob")
	e := names["gob"]
	c, err := d.OpenContent(e.Hash, nil)
	must(t, err)
	defer c.Close()
	value, _ := bucket.Gob.Marshal(point{5, 6, "g"})
	if !strings.HasPrefix(got, "# gob value, ") || !strings.HasSuffix(got, hex.Dump(value)) {
		t.Errorf("gob content %q", got)
	}
}

func TestMsgpackRendering(t *testing.T) {
	v := map[string]any{
		"z":    1,
		"a":    []any{nil, true, 1.5, float32(0.25), math.Inf(1), math.NaN(), "s<>"},
		"bin":  []byte("hi"),
		"time": time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC),
	}
	b, err := msgpack.Marshal(v)
	must(t, err)
	out, err := msgpackJSON(b)
	must(t, err)
	for _, want := range []string{`"+Inf"`, `"NaN"`, `0.25`, `"aGk="`, `"2024-05-06T07:08:09.00000001Z"`, `"s<>"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// Non-string keys, in stored order.
	enc := msgpack.GetEncoder()
	var buf bytes.Buffer
	enc.Reset(&buf)
	must(t, enc.EncodeMapLen(3))
	must(t, enc.EncodeInt(2))
	must(t, enc.EncodeString("two"))
	must(t, enc.EncodeBool(true))
	must(t, enc.EncodeString("yes"))
	must(t, enc.EncodeString("a"))
	must(t, enc.EncodeNil())
	msgpack.PutEncoder(enc)
	out, err = msgpackJSON(buf.Bytes())
	must(t, err)
	if want := "{\n  \"2\": \"two\",\n  \"true\": \"yes\",\n  \"a\": null\n}\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	// Too deep, truncated, trailing bytes, unknown extension: errors, no panic.
	deep := bytes.Repeat([]byte{0x91}, maxDepth+1)
	deep = append(deep, 0xc0)
	for name, in := range map[string][]byte{
		"deep":      deep,
		"truncated": {0x92, 0x01},
		"trailing":  {0x01, 0x02},
		"ext":       {0xd4, 0x42, 0x00},
		"badcode":   {0xc1},
	} {
		if _, err := msgpackJSON(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ok := append(bytes.Repeat([]byte{0x91}, maxDepth-1), 0xc0)
	if _, err := msgpackJSON(ok); err != nil {
		t.Errorf("depth %d: %v", maxDepth-1, err)
	}
}

func TestDumpMatchesHexDump(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 1000, 4099} {
		value := make([]byte, n)
		for i := range value {
			value[i] = byte(i * 7)
		}
		d := newDump("# head\n", bytes.NewReader(value), int64(n))
		want := "# head\n" + hex.Dump(value)
		if d.size() != int64(len(want)) {
			t.Fatalf("n=%d: size %d, want %d", n, d.size(), len(want))
		}
		// Read in every chunk size from every offset of a few.
		for _, chunk := range []int{1, 5, 79, 80, 1000, 1 << 16} {
			for _, start := range []int{0, 3, 7, 8, 85, len(want) / 2} {
				if start > len(want) {
					continue
				}
				var got []byte
				for off := start; off < len(want); {
					p := make([]byte, min(chunk, len(want)-off))
					m, err := d.readAt(p, int64(off))
					if err != nil || m != len(p) {
						t.Fatalf("n=%d chunk=%d off=%d: %d, %v", n, chunk, off, m, err)
					}
					got = append(got, p...)
					off += m
				}
				if string(got) != want[start:] {
					t.Fatalf("n=%d chunk=%d start=%d: dump differs", n, chunk, start)
				}
			}
		}
	}
}

func TestLargeRawReadByOffset(t *testing.T) {
	dir := t.TempDir()
	raw := openBucket[string, []byte](t, dir, bucket.Options{Codec: bucket.Raw})
	value := make([]byte, 3*smallFile+123)
	for i := range value {
		value[i] = byte(i % 251)
	}
	must(t, raw.Set("big", value))
	d := openDir(t, dir, nil)
	e, err := d.Lookup("big")
	must(t, err)
	c, err := d.OpenContent(e.Hash, e.Key)
	must(t, err)
	defer c.Close()
	if c.data != nil || c.fd < 0 {
		t.Fatalf("a large raw value was loaded into memory")
	}
	if c.Size() != int64(len(value)) {
		t.Fatalf("size %d, want %d", c.Size(), len(value))
	}
	p := make([]byte, 1000)
	for _, off := range []int64{0, 1, smallFile - 7, int64(len(value)) - 1000} {
		n, err := c.ReadAt(p, off)
		if n != len(p) || err != nil || !bytes.Equal(p, value[off:off+1000]) {
			t.Fatalf("ReadAt(%d) = %d, %v or wrong bytes", off, n, err)
		}
	}
	n, err := c.ReadAt(p, int64(len(value))-10)
	if n != 10 || err != io.EOF {
		t.Fatalf("ReadAt near the end = %d, %v", n, err)
	}
	// The open Content is a snapshot: a replacement does not change it.
	must(t, raw.Set("big", []byte("small now")))
	n, err = c.ReadAt(p[:5], 100)
	if n != 5 || err != nil || !bytes.Equal(p[:5], value[100:105]) {
		t.Fatalf("snapshot read after replace = %q, %v", p[:n], err)
	}
	if got := content(t, d, "big"); got != "small now" {
		t.Fatalf("new content %q", got)
	}
}

func TestLargeDamagedBodyDetected(t *testing.T) {
	dir := t.TempDir()
	raw := openBucket[string, []byte](t, dir, bucket.Options{Codec: bucket.Raw})
	must(t, raw.Set("big", make([]byte, 2*smallFile)))
	d := openDir(t, dir, nil)
	e, err := d.Lookup("big")
	must(t, err)
	path := filepath.Join(dir, e.Path)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte{1}, int64(smallFile+5))
	must(t, err)
	f.Close()
	_, err = d.OpenContent(e.Hash, e.Key)
	var de *shard.DamageError
	if !errors.As(err, &de) || de.Reason != shard.ReasonBodySum {
		t.Fatalf("OpenContent of damaged large entry: %v", err)
	}
}

func TestHiddenEntries(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t0}
	b := openBucket[string, string](t, dir, bucket.Options{Now: clk.Now, Lifetime: time.Minute})
	for _, k := range []string{"live", "expiring", "damaged", "symlinked", "misplaced"} {
		must(t, b.Set(k, k))
	}
	forever := openBucket[string, string](t, dir, bucket.Options{Now: clk.Now})
	must(t, forever.Set("forever", "x"))
	d := openDir(t, dir, clk.Now)
	names := listAll(t, d)
	if len(names) != 6 {
		t.Fatalf("listed %d entries, want 6", len(names))
	}
	// Damage the header of one, put a symlink in another's place, move a
	// third into the wrong shard.
	damaged := filepath.Join(dir, names["damaged"].Path)
	data, err := os.ReadFile(damaged)
	must(t, err)
	data[10] ^= 1
	must(t, os.WriteFile(damaged, data, 0o644))
	outside := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(outside, data, 0o644))
	sym := filepath.Join(dir, names["symlinked"].Path)
	must(t, os.Remove(sym))
	must(t, os.Symlink(outside, sym))
	mis := names["misplaced"]
	other := d.Layout().DirName((d.Layout().Index(mis.Hash) + 1) % d.Layout().Count())
	must(t, os.MkdirAll(filepath.Join(dir, other), 0o755))
	must(t, os.Rename(filepath.Join(dir, mis.Path), filepath.Join(dir, other, shard.EntryName(mis.Hash))))

	names = listAll(t, d)
	if len(names) != 3 {
		t.Fatalf("after damage, listed %v, want live, expiring, forever", names)
	}
	for _, n := range []string{"damaged", "symlinked", "misplaced"} {
		if _, err := d.Lookup(n); !errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want ErrNotFound", n, err)
		}
	}
	// Expiry: at the instant it is live, after it is hidden.
	clk.t = t0.Add(time.Minute)
	if _, err := d.Lookup("expiring"); err != nil {
		t.Fatalf("at the expiry instant: %v", err)
	}
	clk.t = t0.Add(time.Minute + 1)
	names = listAll(t, d)
	if _, ok := names["forever"]; len(names) != 1 || !ok {
		t.Fatalf("after expiry, listed %v, want only forever", names)
	}
	if _, err := d.Lookup("live"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup of expired = %v", err)
	}
	e := names["forever"]
	if _, err := d.OpenContent(mis.Hash, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenContent of a moved entry = %v", err)
	}
	if v, ok := e.Xattr(XattrPrefix + XattrExpiresAt); !ok || string(v) != "never" {
		t.Fatalf("expires-at = %q", v)
	}
	// Scan classifies everything.
	counts := map[Status]int{}
	for i := 0; i < d.Layout().Count(); i++ {
		must(t, d.Scan(i, func(f *File) bool { counts[f.Status]++; return true }))
	}
	if counts[Live] != 1 || counts[Expired] != 2 || counts[Damaged] != 3 {
		t.Fatalf("Scan counts %v", counts)
	}
}

func TestShardSymlinkNotFollowed(t *testing.T) {
	dir := t.TempDir()
	b := openBucket[string, string](t, dir, bucket.Options{Shards: 1})
	must(t, b.Set("a", "inside"))
	d := openDir(t, dir, nil)
	// Build a fake shard outside the bucket holding a valid entry, and point
	// the shard directory at it.
	outside := t.TempDir()
	st, err := store.Open(outside, store.Config{Shards: 1})
	must(t, err)
	must(t, st.Put([]byte(`"a"`), store.Record{Codec: "json", Value: []byte(`"outside"`)}))
	st.Close()
	shardDir := filepath.Join(dir, d.Layout().DirName(0))
	must(t, os.RemoveAll(shardDir))
	must(t, os.Symlink(filepath.Join(outside, d.Layout().DirName(0)), shardDir))
	if err := d.Scan(0, func(*File) bool { return true }); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Scan of a symlinked shard: %v", err)
	}
	if _, err := d.Lookup("a"); err == nil {
		t.Fatalf("Lookup through a symlinked shard succeeded")
	}
	if _, err := d.OpenContent(shard.Hash([]byte(`"a"`)), nil); err == nil {
		t.Fatalf("OpenContent through a symlinked shard succeeded")
	}
}

func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := Open(missing, Options{}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open(missing) = %v", err)
	}
	plain := t.TempDir()
	if _, err := Open(plain, Options{}); !errors.Is(err, shard.ErrNotBucket) || !strings.Contains(err.Error(), plain) {
		t.Errorf("Open(not a bucket) = %v", err)
	}
	file := filepath.Join(plain, "f")
	must(t, os.WriteFile(file, nil, 0o644))
	if _, err := Open(file, Options{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open(file) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(plain, shard.MetaName)); err == nil {
		t.Errorf("Open created a bucket")
	}
}

func TestLongAndAwkwardKeys(t *testing.T) {
	dir := t.TempDir()
	b := openBucket[string, int](t, dir, bucket.Options{})
	keys := []string{strings.Repeat("long/", 100), "a\x00b", "../../etc/passwd", "", ".", "..", "=x", "%", "\xff\xfe", "tab\there"}
	for i, k := range keys {
		must(t, b.Set(k, i))
	}
	d := openDir(t, dir, nil)
	names := listAll(t, d)
	if len(names) != len(keys) {
		t.Fatalf("listed %d names, want %d", len(names), len(keys))
	}
	for i, k := range keys {
		n := Name(mustKey(t, k))
		if _, ok := names[n]; !ok {
			t.Errorf("key %q: name %q not listed", k, n)
		}
		if got := content(t, d, n); got != strings.TrimSpace(string(rune('0'+i)))+"\n" && i < 10 {
			t.Errorf("key %q: content %q", k, got)
		}
	}
}

func FuzzMsgpackJSON(f *testing.F) {
	for _, v := range []any{nil, 1, "x", []any{1, "a"}, map[string]any{"a": []byte("b")}, 1.5, math.NaN()} {
		b, err := msgpack.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x91, 0x91, 0x91})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := msgpackJSON(b)
		if err != nil {
			return
		}
		if !bytes.HasSuffix(out, []byte("\n")) || !jsonValid(out) {
			t.Fatalf("msgpackJSON(%x) = %q: not JSON", b, out)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func jsonValid(b []byte) bool { return json.Valid(b) }

func TestLargeJSONAndGob(t *testing.T) {
	dir := t.TempDir()
	js := openBucket[string, []string](t, dir, bucket.Options{})
	gb := openBucket[string, []string](t, dir, bucket.Options{Codec: bucket.Gob})
	big := make([]string, 300000) // over smallFile encoded
	for i := range big {
		big[i] = "item"
	}
	must(t, js.Set("json", big))
	must(t, gb.Set("gob", big))
	d := openDir(t, dir, nil)
	got := content(t, d, "json")
	if want := "[\n  \"item\",\n"; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != len(big)+2 {
		t.Errorf("large JSON content starts %q, has %d lines", got[:20], strings.Count(got, "\n"))
	}
	e, err := d.Lookup("gob")
	must(t, err)
	c, err := d.OpenContent(e.Hash, e.Key)
	must(t, err)
	defer c.Close()
	if c.dump == nil || c.fd < 0 {
		t.Fatalf("a large gob value is not dumped from its file")
	}
	value, err := bucket.Gob.Marshal(big)
	must(t, err)
	var buf bytes.Buffer
	_, err = c.WriteTo(&buf)
	must(t, err)
	if !strings.HasSuffix(buf.String(), hex.Dump(value)) || int64(buf.Len()) != c.Size() {
		t.Errorf("large gob dump differs from hex.Dump (%d bytes, size %d)", buf.Len(), c.Size())
	}
}

// TestBodyDamageIsAbsentEverywhere: an entry whose value is damaged is
// absent from Scan (what the mount's readdir and bucketfs ls show) just as
// it is from Lookup, and Verify reports it with its reason.
func TestBodyDamageIsAbsentEverywhere(t *testing.T) {
	dir := t.TempDir()
	b := openBucket[string, string](t, dir, bucket.Options{Shards: 1})
	must(t, b.Set("good", "fine"))
	must(t, b.Set("bad", "soon damaged"))
	d := openDir(t, dir, nil)
	e, err := d.Lookup("bad")
	must(t, err)
	path := filepath.Join(dir, e.Path)
	data, err := os.ReadFile(path)
	must(t, err)
	data[len(data)-2] ^= 1
	must(t, os.WriteFile(path, data, 0o644))
	status := map[string]Status{}
	reasons := map[string]shard.Reason{}
	must(t, d.Scan(0, func(f *File) bool { status["scan:"+f.Path] = f.Status; return true }))
	must(t, d.Verify(0, func(f *File) bool { status[f.Path] = f.Status; reasons[f.Path] = f.Reason; return true }))
	if status["scan:"+e.Path] != Damaged {
		t.Errorf("Scan judged the entry %v, want Damaged", status["scan:"+e.Path])
	}
	if _, err := d.Lookup("bad"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of the damaged entry: %v, want ErrNotFound", err)
	}
	if status[e.Path] != Damaged || reasons[e.Path] != shard.ReasonBodySum {
		t.Errorf("Verify judged the entry %v (%s), want Damaged (body checksum)", status[e.Path], reasons[e.Path])
	}
	good, err := d.Lookup("good")
	must(t, err)
	if status[good.Path] != Live {
		t.Errorf("Verify judged the sound entry %v", status[good.Path])
	}
}

// Map keys that are maps show as escaped JSON text, which can double in size
// with each level: past maxKeyNesting levels the value is refused, in time,
// instead of asking for more text than there is memory.
func TestMsgpackKeysNestedInKeys(t *testing.T) {
	nest := func(levels int) []byte {
		b := []byte{0xc0} // nil, a key that is not a string
		for range levels {
			b = append(append([]byte{0x81}, b...), 0xc0) // {b: nil}
		}
		return b
	}
	if _, err := msgpackJSON(nest(maxKeyNesting)); err != nil {
		t.Fatalf("%d levels of maps in keys: %v", maxKeyNesting, err)
	}
	if _, err := msgpackJSON(nest(maxKeyNesting + 1)); err == nil {
		t.Fatalf("%d levels of maps in keys were shown", maxKeyNesting+1)
	}
	if _, err := msgpackJSON(nest(200)); err == nil {
		t.Fatal("200 levels of maps in keys were shown")
	}
}
