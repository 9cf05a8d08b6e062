package canon_test

import (
	"testing"

	"github.com/bucketcache/bucketcache/internal/canon"
)

func TestAppendMarshalStringAllocs(t *testing.T) {
	var key any = "user:1234567/profile"
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = canon.AppendMarshal(buf[:0], key)
	})
	if allocs != 0 {
		t.Errorf("AppendMarshal of a string key allocates %v times", allocs)
	}
}

func BenchmarkMarshalString(b *testing.B) {
	var key any = "user:1234567/profile" // 20 bytes
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = canon.AppendMarshal(buf[:0], key)
	}
}

func BenchmarkMarshalStruct(b *testing.B) {
	type key struct {
		Bucket string
		ID     int64
		Active bool
	}
	var k any = key{"avatars", 1234567, true}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = canon.AppendMarshal(buf[:0], k)
	}
}
