package bucket_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/bucketcache/bucketcache/bucket"
)

// tempBucket opens a bucket in a new temporary directory; the returned func
// closes it and removes the directory.
func tempBucket[A, R any]() (*bucket.Bucket[A, R], func()) {
	dir, err := os.MkdirTemp("", "memo-example-")
	if err != nil {
		log.Fatal(err)
	}
	b, err := bucket.Open[A, R](dir, bucket.Options{})
	if err != nil {
		log.Fatal(err)
	}
	return b, func() { b.Close(); os.RemoveAll(dir) }
}

func ExampleMemoize() {
	b, done := tempBucket[string, int]()
	defer done()

	wordCount := bucket.Memoize(b, "wordCount", func(ctx context.Context, text string) (int, error) {
		fmt.Println("counting...")
		return len(strings.Fields(text)), nil
	})

	ctx := context.Background()
	for range 3 {
		n, err := wordCount(ctx, "the quick brown fox")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(n)
	}
	s := b.Stats()
	fmt.Printf("hits %d, misses %d, runs %d\n", s.MemoHits, s.MemoMisses, s.MemoExecutions)
	// Output:
	// counting...
	// 4
	// 4
	// 4
	// hits 2, misses 1, runs 1
}

// Several arguments go in a struct. Fields that must not change the result,
// such as a logger, are left out of the key with Ignore.
func ExampleMemoize_severalArguments() {
	type resizeArgs struct {
		Path          string
		Width, Height int
		Log           *log.Logger // not part of the key
	}
	b, done := tempBucket[resizeArgs, string]()
	defer done()

	resize := bucket.Memoize(b, "resize", func(ctx context.Context, a resizeArgs) (string, error) {
		a.Log.Printf("resizing %s", a.Path)
		return fmt.Sprintf("%s@%dx%d", a.Path, a.Width, a.Height), nil
	}, bucket.Ignore("Log"), bucket.Version("2"))

	ctx := context.Background()
	quiet := log.New(os.Stdout, "", 0)
	loud := log.New(os.Stdout, "loud: ", 0)
	for _, a := range []resizeArgs{
		{"cat.png", 64, 64, quiet},
		{"cat.png", 64, 64, loud}, // same key: the logger is ignored
		{"cat.png", 32, 32, loud},
	} {
		thumb, err := resize(ctx, a)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(thumb)
	}
	// Output:
	// resizing cat.png
	// cat.png@64x64
	// cat.png@64x64
	// loud: resizing cat.png
	// cat.png@32x32
}

// Client is a type whose method is expensive.
type Client struct {
	Region string // changes the result
	Token  string // does not
}

// Price asks a remote service for a price.
func (c *Client) Price(ctx context.Context, item string) (float64, error) {
	fmt.Printf("asking %s for %s\n", c.Region, item)
	if c.Region == "eu" {
		return 9.5, nil
	}
	return 10, nil
}

// To memoize a method, make the argument a struct holding the receiver's
// state that the result depends on, along with the method's own arguments.
func ExampleMemoize_method() {
	type priceArgs struct {
		Region string // from the receiver
		Item   string
	}
	b, done := tempBucket[priceArgs, float64]()
	defer done()

	price := bucket.Memoize(b, "Client.Price", func(ctx context.Context, a priceArgs) (float64, error) {
		c := &Client{Region: a.Region, Token: os.Getenv("PRICE_TOKEN")}
		return c.Price(ctx, a.Item)
	})

	ctx := context.Background()
	for _, region := range []string{"eu", "us", "eu"} {
		c := &Client{Region: region}
		p, err := price(ctx, priceArgs{Region: c.Region, Item: "tea"})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(region, p)
	}
	// Output:
	// asking eu for tea
	// eu 9.5
	// asking us for tea
	// us 10
	// eu 9.5
}

// RefreshIf is the way to force a new computation for some calls, here those
// with Refresh set; Ignore keeps the flag out of the key so that the fresh
// result replaces the stored one. OnHit sees every answer from the cache.
func ExampleRefreshIf() {
	type query struct {
		Name    string
		Refresh bool
	}
	b, done := tempBucket[query, int]()
	defer done()

	calls := 0
	lookup := bucket.Memoize(b, "lookup", func(ctx context.Context, q query) (int, error) {
		calls++
		return calls, nil
	},
		bucket.Ignore("Refresh"),
		bucket.RefreshIf(func(q query) bool { return q.Refresh }),
		bucket.OnHit(func(q query, v int) { fmt.Printf("hit %s=%d; ", q.Name, v) }))

	ctx := context.Background()
	for _, q := range []query{{"x", false}, {"x", false}, {"x", true}, {"x", false}} {
		v, _ := lookup(ctx, q)
		fmt.Println(v)
	}
	// Output:
	// 1
	// hit x=1; 1
	// 2
	// hit x=2; 2
}
