package main

import "github.com/bucketcache/bucketcache/deferred"

var _ batcher = (*bucketcacheKV)(nil)

// Stage sets every entry in a deferred.Bucket (in memory); the commit is its
// Sync, which writes them batched per shard.
func (s *bucketcacheKV) Stage(keys []string, value func(int) []byte) (func() error, error) {
	d := deferred.New(s.b)
	for i, k := range keys {
		if err := d.Set(k, value(i)); err != nil {
			return nil, err
		}
	}
	return d.Sync, nil
}
