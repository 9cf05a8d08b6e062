package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bucketcache/bucketcache/internal/gocacheprog"
)

// stdin is what cmdGocacheprog reads requests from (a variable for tests).
var stdin io.Reader = os.Stdin

// cmdGocacheprog serves the go command's GOCACHEPROG protocol on stdin and
// stdout, keeping the build cache in the bucket.
func cmdGocacheprog(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("gocacheprog", flag.ContinueOnError)
	var opts gocacheprog.Options
	fl.Int64Var(&opts.MaxBytes, "max-bytes", 0, "bound the bucket directory to this many `bytes`, evicting least recently used entries (0: unlimited); every user of the bucket should give the same")
	fl.DurationVar(&opts.EvictionGrace, "eviction-grace", 0, "never evict an entry used this recently (0: one minute)")
	fl.BoolVar(&opts.SharedFilesystem, "shared", false, "the bucket is on a filesystem several machines mount (turned on by itself on network and FUSE filesystems)")
	fl.StringVar(&opts.Local, "local", "", "the `directory` of the files handed to the go command (default: bucketcache/gocacheprog in the user's cache directory)")
	fl.DurationVar(&opts.LocalMaxAge, "local-max-age", 0, "remove local files unused for this long (0: 24h)")
	stats := fl.Bool("stats", false, "print a line of counters on stderr at the end")
	rest, err := parse(fl, args, stderr, "BUCKET_DIR")
	if err != nil {
		return err
	}
	opts.Log = stderr
	c, err := gocacheprog.Open(rest[0], opts)
	if err != nil {
		return err
	}
	err = c.Serve(stdin, stdout)
	if *stats {
		fmt.Fprintf(stderr, "bucketfs gocacheprog: %v\n", c.Stats())
	}
	return errors.Join(err, c.Close())
}
