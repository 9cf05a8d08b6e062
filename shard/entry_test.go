package shard

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func sample() []byte {
	return Append(nil, "json", 1000, 2000, []byte(`"k"`), []byte(`{"v":1}`))
}

func TestRoundTrip(t *testing.T) {
	b := sample()
	e, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if e.Codec != "json" || e.WrittenAt != 1000 || e.ExpiresAt != 2000 ||
		string(e.Key) != `"k"` || string(e.Value) != `{"v":1}` {
		t.Fatalf("decoded %+v", e)
	}
	if e.Size() != int64(len(b)) {
		t.Fatalf("Size %d, file %d", e.Size(), len(b))
	}
	if got := b[e.ValueOffset():]; string(got) != `{"v":1}` {
		t.Fatalf("value at ValueOffset: %q", got)
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	b := Append([]byte("xyz"), "raw", 1, 0, nil, nil)
	if string(b[:3]) != "xyz" {
		t.Fatal("prefix overwritten")
	}
	if _, err := Decode(b[3:]); err != nil {
		t.Fatal(err)
	}
}

// An entry written in two pieces, the head and then the value, is the entry
// Append makes, and its checksums cover the value.
func TestAppendHeadThenValue(t *testing.T) {
	value := bytes.Repeat([]byte("value "), 20000)
	head := AppendHead([]byte("p"), "raw", 5, 6, []byte("key"), value)
	whole := append(head, value...)
	if want := Append([]byte("p"), "raw", 5, 6, []byte("key"), value); !bytes.Equal(whole, want) {
		t.Fatal("head followed by value differs from Append")
	}
	e, err := Decode(whole[1:])
	if err != nil || !bytes.Equal(e.Value, value) || string(e.Key) != "key" {
		t.Fatalf("decoded %q, %v", e.Key, err)
	}
	other := bytes.Clone(value)
	other[len(other)-1] ^= 1
	if _, err := Decode(append(head[1:len(head):len(head)], other...)); !IsDamage(err) {
		t.Fatalf("a different value after the head decoded: %v", err)
	}
}

func TestDamage(t *testing.T) {
	good := sample()
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		reason Reason
	}{
		{"empty", func([]byte) []byte { return nil }, ReasonMagic}, // not ours: nothing says it is an entry
		{"half header", func(b []byte) []byte { return b[:HeaderSize/2] }, ReasonShort},
		{"header only", func(b []byte) []byte { return b[:HeaderSize] }, ReasonShort},
		{"truncated value", func(b []byte) []byte { return b[:len(b)-1] }, ReasonShort},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, ReasonLong},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, ReasonMagic},
		{"expiry flipped", func(b []byte) []byte { b[offExpiresAt] ^= 1; return b }, ReasonHeaderSum},
		{"value flipped", func(b []byte) []byte { b[len(b)-1] ^= 0x40; return b }, ReasonBodySum},
		{"key flipped", func(b []byte) []byte { b[HeaderSize+4] ^= 1; return b }, ReasonBodySum},
		{"codec flipped", func(b []byte) []byte { b[HeaderSize] ^= 1; return b }, ReasonBodySum},
		{"zeros", func(b []byte) []byte { return make([]byte, len(b)) }, ReasonMagic},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.mutate(bytes.Clone(good)))
			var d *DamageError
			if !errors.As(err, &d) || d.Reason != c.reason {
				t.Fatalf("got %v, want damage %q", err, c.reason)
			}
		})
	}
}

func TestEveryByteFlipIsDetected(t *testing.T) {
	good := sample()
	for i := range good {
		for bit := 0; bit < 8; bit++ {
			b := bytes.Clone(good)
			b[i] ^= 1 << bit
			if _, err := Decode(b); !IsDamage(err) {
				t.Fatalf("flip of byte %d bit %d not detected: %v", i, bit, err)
			}
		}
	}
}

func TestWrongVersion(t *testing.T) {
	b := sample()
	b[offVersion] = 2
	// Recompute the header checksum so only the version is wrong.
	fixed := Append(nil, "json", 1000, 2000, []byte(`"k"`), []byte(`{"v":1}`))
	copy(fixed, b[:offHeaderSum])
	resum(fixed)
	_, err := parseHeader(fixed)
	var d *DamageError
	if !errors.As(err, &d) || d.Reason != ReasonVersion {
		t.Fatalf("got %v", err)
	}
}

func TestExpiry(t *testing.T) {
	h := Header{WrittenAt: 0, ExpiresAt: int64(time.Second)}
	if h.Expired(time.Unix(1, 0)) {
		t.Fatal("expired at the exact instant")
	}
	if !h.Expired(time.Unix(1, 1)) {
		t.Fatal("not expired after the instant")
	}
	if (Header{}).Expired(time.Unix(1<<40, 0)) {
		t.Fatal("ExpiresAt 0 must mean never")
	}
	if h.OlderThan(time.Second, time.Unix(1, 0)) || !h.OlderThan(time.Second, time.Unix(1, 1)) {
		t.Fatal("OlderThan boundary wrong")
	}
	if h.OlderThan(0, time.Unix(1<<40, 0)) {
		t.Fatal("maxAge 0 must mean no limit")
	}
}

func TestCheck(t *testing.T) {
	if Check("", nil) == nil || Check(string(make([]byte, 256)), nil) == nil {
		t.Fatal("bad codec names accepted")
	}
	if err := Check("json", []byte("k")); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(sample())
	f.Add([]byte{})
	f.Add([]byte(Magic))
	f.Add(Append(nil, "raw", 0, 0, nil, []byte("x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !IsDamage(err) {
				t.Fatalf("non-damage error %v", err)
			}
			return
		}
		// Whatever decodes must re-encode to exactly the same bytes.
		again := Append(nil, e.Codec, e.WrittenAt, e.ExpiresAt, e.Key, e.Value)
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded entry re-encodes differently")
		}
	})
}
