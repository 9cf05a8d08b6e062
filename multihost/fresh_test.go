//go:build linux

package multihost

import (
	"sync"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
)

// TestFreshShardFromBothHosts: both hosts write into a shard that does not
// exist yet at the same moment, so both create its directory at once (as
// the first writes to a new bucket do). Both writes must succeed: a
// directory that another host is still creating is not an error.
func TestFreshShardFromBothHosts(t *testing.T) { onEach(t, testFreshShardFromBothHosts) }

func testFreshShardFromBothHosts(t *testing.T, bd *bed) {
	rounds := 40
	if long() {
		rounds = 400
	}
	failures := 0
	for round := range rounds {
		rel := bd.bucketDir(t)
		// Three Buckets on each host, as three processes would have,
		// writing the same key and taking its memo lock path.
		var hosts []*bucket.Bucket[string, int]
		for range 3 {
			a, b := openHosts[string, int](t, bd, rel, bucket.Options{Shards: 4})
			hosts = append(hosts, a, b)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, len(hosts))
		for i, host := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%4 < 2 {
					_, errs[i] = engine(host).Store.KeyLockPath([]byte("key"))
				} else {
					errs[i] = host.Set("key", i)
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				failures++
				if failures <= 3 {
					t.Errorf("round %d: %v", round, err)
				}
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d first writes failed", failures, 6*rounds)
	}
}

// TestFreshBucketFromBothHosts: three Buckets on each host open a bucket
// directory that does not exist yet at the same moment (creating it and
// recording its layout), then write to it.
func TestFreshBucketFromBothHosts(t *testing.T) { onEach(t, testFreshBucketFromBothHosts) }

func testFreshBucketFromBothHosts(t *testing.T, bd *bed) {
	rounds := 20
	if long() {
		rounds = 200
	}
	failures := 0
	for round := range rounds {
		rel := bd.bucketDir(t)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			host := []string{"A", "B"}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				b, err := bucket.Open[string, int](bd.at(host, rel+"/sub/dir"), bucket.Options{})
				if err != nil {
					errs[i] = err
					return
				}
				defer b.Close()
				errs[i] = b.Set("key", i)
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				failures++
				if failures <= 3 {
					t.Errorf("round %d: %v", round, err)
				}
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d opens failed", failures, 6*rounds)
	}
}
