package bucket_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

type Invoice struct {
	Number string
	Cents  int
}

func Example() {
	dir, _ := os.MkdirTemp("", "invoices")
	defer os.RemoveAll(dir)

	b, err := bucket.Open[string, []Invoice](dir, bucket.Options{Lifetime: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	b.Set("ana/2026-11", []Invoice{{"A-1", 1250}, {"A-2", 990}})
	got, err := b.Get("ana/2026-11")
	fmt.Println(got, err)

	_, err = b.Get("bob/2026-11")
	fmt.Println(errors.Is(err, bucket.ErrNotFound))
	// Output:
	// [{A-1 1250} {A-2 990}] <nil>
	// true
}

// Two Buckets on one directory, as two processes would have: what one
// writes, the other reads on its next Get, even after it kept a copy.
func Example_sharedDirectory() {
	dir, _ := os.MkdirTemp("", "shared")
	defer os.RemoveAll(dir)
	writer, _ := bucket.Open[string, int](dir, bucket.Options{})
	reader, _ := bucket.Open[string, int](dir, bucket.Options{})
	defer writer.Close()
	defer reader.Close()

	writer.Set("visits", 1)
	v, _ := reader.Get("visits")
	fmt.Println(v)
	writer.Set("visits", 2)
	v, _ = reader.Get("visits")
	fmt.Println(v)
	// Output:
	// 1
	// 2
}

// Expiry is absolute: an injected clock shows it without waiting.
func ExampleOptions_lifetime() {
	dir, _ := os.MkdirTemp("", "expiry")
	defer os.RemoveAll(dir)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b, _ := bucket.Open[string, string](dir, bucket.Options{
		Lifetime: time.Minute,
		Now:      func() time.Time { return now },
	})
	defer b.Close()

	b.Set("token", "abc")
	now = now.Add(time.Minute)
	_, err := b.Get("token")
	fmt.Println("at expiry:", err)
	now = now.Add(time.Nanosecond)
	_, err = b.Get("token")
	fmt.Println("after:", err)
	info, _ := b.Prune()
	fmt.Println("pruned:", info.Files)
	// Output:
	// at expiry: <nil>
	// after: bucketcache: not found
	// pruned: 0
}
