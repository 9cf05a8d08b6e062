package main

import (
	"errors"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
)

func init() {
	register(&storeKind{
		name:         "bucketcache",
		multiProcess: true,
		warm:         true,
		proto:        (*bucketcacheKV)(nil),
		note:         "Raw codec, default options (64 MiB memory layer, no fsync)",
		open: func(dir string) (kv, error) {
			b, err := bucket.Open[string, []byte](dir, bucket.Options{Codec: bucket.Raw})
			if err != nil {
				return nil, err
			}
			return &bucketcacheKV{b: b}, nil
		},
	})
}

// bucketcacheKV is a bucket.Bucket[string, []byte] with the Raw codec, as a
// user storing blobs would open it.
type bucketcacheKV struct {
	b *bucket.Bucket[string, []byte]
}

var (
	_ kv     = (*bucketcacheKV)(nil)
	_ loader = (*bucketcacheKV)(nil)
)

func (s *bucketcacheKV) Set(key string, value []byte) error { return s.b.Set(key, value) }

func (s *bucketcacheKV) Get(key string) ([]byte, bool, error) {
	v, err := s.b.Get(key)
	if errors.Is(err, bucket.ErrNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (s *bucketcacheKV) Close() error { return s.b.Close() }

// Load fills the bucket through package deferred, one lock acquisition per
// shard and batch, for untimed preparation.
func (s *bucketcacheKV) Load(keys []string, value func(int) []byte) error {
	const batch = 10000 // pending values held in memory at once
	for lo := 0; lo < len(keys); lo += batch {
		err := deferred.Write(s.b, func(d *deferred.Bucket[string, []byte]) error {
			for i := lo; i < min(lo+batch, len(keys)); i++ {
				if err := d.Set(keys[i], value(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
