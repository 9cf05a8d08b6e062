package gocacheprog_test

import (
	"crypto/sha256"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/bucketcache/bucketcache/internal/gocacheprog"
)

// A put and a get, as the go command makes them through Serve.
func Example() {
	dir, err := os.MkdirTemp("", "gocacheprog-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := gocacheprog.Open(filepath.Join(dir, "bucket"), gocacheprog.Options{Local: filepath.Join(dir, "local")})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	body := []byte("a compiled package")
	actionID := sha256.Sum256([]byte("the inputs of a compile"))
	if _, err := c.Put(actionID, sha256.Sum256(body), body); err != nil {
		log.Fatal(err)
	}
	e, ok, err := c.Get(actionID)
	if err != nil || !ok {
		log.Fatal("miss: ", err)
	}
	data, err := os.ReadFile(e.DiskPath)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes: %s\n", e.Size, data)
	fmt.Println(c.Stats())
	// Output:
	// 18 bytes: a compiled package
	// gets=1 hits=1 misses=0 hit-bytes=18 puts=1 put-bytes=18 damaged=0 errors=0
}
