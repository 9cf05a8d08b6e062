package main

import (
	"errors"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/store"
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

// Load fills the bucket shard by shard, one lock acquisition per shard, for
// untimed preparation.
func (s *bucketcacheKV) Load(keys []string, value func(int) []byte) error {
	st := s.b.Store()
	byShard := map[int][]store.Item{}
	for i, k := range keys {
		kb, err := s.b.KeyBytes(k)
		if err != nil {
			return err
		}
		sh := st.ShardOf(kb)
		byShard[sh] = append(byShard[sh], store.Item{Key: kb, Record: store.Record{Codec: bucket.Raw.Name(), Value: value(i), WrittenAt: st.Now()}})
	}
	for sh, items := range byShard {
		if err := errors.Join(st.WriteShard(sh, items)...); err != nil {
			return err
		}
	}
	return nil
}
