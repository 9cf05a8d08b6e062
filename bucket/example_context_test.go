package bucket_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// Entries walks a Bucket and reports what went wrong on the way: here a
// value that another Bucket on the directory stored as a string, which does
// not decode into an int.
func ExampleBucket_Entries() {
	dir, _ := os.MkdirTemp("", "entries")
	defer os.RemoveAll(dir)
	counts, _ := bucket.Open[string, int](dir, bucket.Options{})
	defer counts.Close()
	words, _ := bucket.Open[string, string](dir, bucket.Options{})
	defer words.Close()
	counts.Set("apples", 3)
	counts.Set("pears", 5)
	words.Set("plums", "many")

	var found []string
	for e, err := range counts.Entries(context.Background()) {
		if err != nil {
			found = append(found, "error at "+e.Key)
			continue
		}
		found = append(found, fmt.Sprint(e.Key, "=", e.Value))
	}
	slices.Sort(found)
	fmt.Println(found)
	// Output:
	// [apples=3 error at plums pears=5]
}

// SetContext bounds the wait for a shard's lock, which another process may
// hold for as long as it likes.
func ExampleBucket_SetContext() {
	dir, _ := os.MkdirTemp("", "setcontext")
	defer os.RemoveAll(dir)
	b, _ := bucket.Open[string, int](dir, bucket.Options{})
	defer b.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := b.SetContext(ctx, "answer", 42); err != nil {
		fmt.Println("not stored:", err) // the old value, if any, stays
		return
	}
	fmt.Println(b.Get("answer"))
	// Output:
	// 42 <nil>
}
