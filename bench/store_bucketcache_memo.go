package main

import (
	"context"

	"github.com/bucketcache/bucketcache/bucket"
)

var _ memoizer = (*bucketcacheKV)(nil)

// Memoize wraps fn with bucket.Memoize on the same bucket.
func (s *bucketcacheKV) Memoize(name string, fn func(string) ([]byte, error)) func(string) ([]byte, error) {
	f := bucket.Memoize(s.b, name, func(_ context.Context, key string) ([]byte, error) { return fn(key) })
	ctx := context.Background()
	return func(key string) ([]byte, error) { return f(ctx, key) }
}
