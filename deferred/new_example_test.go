package deferred_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
)

// Pending writes are seen only through the deferred Bucket that holds them;
// after Sync, every Bucket on the directory sees them, as another process
// would.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	b, err := bucket.Open[string, string](dir, bucket.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	other, err := bucket.Open[string, string](dir, bucket.Options{}) // another process, say
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	b.Set("old", "x")

	d := deferred.New(b)
	d.Set("new", "y")
	d.Delete("old")
	v, _ := d.Get("new")
	_, err = d.Get("old")
	fmt.Println("deferred view:", v, errors.Is(err, bucket.ErrNotFound), d.Pending())
	v, _ = other.Get("old")
	_, err = other.Get("new")
	fmt.Println("other before Sync:", v, errors.Is(err, bucket.ErrNotFound))

	if err := d.Sync(); err != nil {
		log.Fatal(err)
	}
	v, _ = other.Get("new")
	_, err = other.Get("old")
	fmt.Println("other after Sync:", v, errors.Is(err, bucket.ErrNotFound))
	// Output:
	// deferred view: y true 2
	// other before Sync: x true
	// other after Sync: y true
}
