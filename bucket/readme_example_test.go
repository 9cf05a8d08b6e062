package bucket_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// The first program of the README, on a fresh directory. Run as a program
// twice within the hour, its second run prints no "asking" line: the result
// comes from the directory.
func Example_firstProgram() {
	tmp, _ := os.MkdirTemp("", "readme")
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "weather-cache") // the README uses "weather-cache"

	b, err := bucket.Open[string, string](dir, bucket.Options{Lifetime: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	forecast := bucket.Memoize(b, "forecast", func(ctx context.Context, city string) (string, error) {
		fmt.Println("asking the weather service about", city) // slow: once per city per hour
		return "sunny in " + city, nil
	})
	for range 2 {
		f, err := forecast(context.Background(), "oslo")
		fmt.Println(f, err)
	}
	// Output:
	// asking the weather service about oslo
	// sunny in oslo <nil>
	// sunny in oslo <nil>
}
