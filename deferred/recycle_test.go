package deferred

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
)

// Large raw values are copied into buffers that earlier Syncs wrote. Gets
// that run meanwhile, of pending values and of written ones, must each see
// one whole value that was Set: never a buffer being refilled.
func TestRecycledValuesAreNeverSeenChanging(t *testing.T) {
	const keys, rounds, size = 8, 30, 80 << 10
	d := New(open[int, []byte](t, t.TempDir(), bucket.Options{Codec: bucket.Raw}))
	value := func(k, round int) []byte { return bytes.Repeat([]byte{byte(k*rounds + round)}, size) }
	check := func(k int, v []byte) error {
		if len(v) != size || bytes.Count(v, v[:1]) != size || int(v[0])/rounds != k {
			return fmt.Errorf("key %d: a value that was never Set (%d bytes, first %d)", k, len(v), v[0])
		}
		return nil
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 1)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := i % keys
				v, err := d.Get(k)
				if err == nil {
					err = check(k, v)
				} else if err == bucket.ErrNotFound {
					err = nil
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	src := make([]byte, size)
	for round := range rounds {
		for k := range keys {
			copy(src, value(k, round))
			if err := d.Set(k, src); err != nil {
				t.Fatal(err)
			}
		}
		src[0]++ // the caller's bytes change after Set: the pending copy must not
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for k := range keys {
		v, err := d.Bucket().Get(k)
		if err != nil || !bytes.Equal(v, value(k, rounds-1)) {
			t.Fatalf("key %d after the last Sync: %d bytes, %v", k, len(v), err)
		}
	}
}
