package deferred_test

import (
	"fmt"
	"log"
	"os"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
)

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	b, err := bucket.Open[string, int](dir, bucket.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	err = deferred.Write(b, func(d *deferred.Bucket[string, int]) error {
		for i, word := range []string{"alpha", "beta", "gamma"} {
			if err := d.Set(word, i); err != nil {
				return err
			}
		}
		_, err := b.Get("beta") // nothing is on disk yet
		fmt.Println("before commit:", err)
		return nil // commit: one lock per shard touched
	})
	if err != nil {
		log.Fatal(err)
	}
	v, err := b.Get("beta")
	fmt.Println("after commit:", v, err)
	// Output:
	// before commit: bucketcache: not found
	// after commit: 1 <nil>
}

func ExampleBucket_Sync() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	b, err := bucket.Open[int, string](dir, bucket.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	// Bound the memory pending writes take by syncing every 1000 entries.
	d := deferred.New(b)
	for i := range 2500 {
		if err := d.Set(i, fmt.Sprint("value ", i)); err != nil {
			log.Fatal(err)
		}
		if d.Pending() >= 1000 {
			if err := d.Sync(); err != nil {
				log.Fatal(err) // the failed entries stay pending
			}
		}
	}
	fmt.Println("pending:", d.Pending())
	if err := d.Sync(); err != nil {
		log.Fatal(err)
	}
	n, _ := b.Len()
	fmt.Println("pending:", d.Pending(), "on disk:", n)
	// Output:
	// pending: 500
	// pending: 0 on disk: 2500
}
