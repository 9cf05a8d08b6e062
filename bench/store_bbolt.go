package main

import (
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

func init() {
	register(&storeKind{
		name:  "bbolt",
		proto: (*boltKV)(nil),
		note:  "NoSync (no fsync, like the others), one Update per Set; one process at a time (file lock)",
		open:  openBolt,
	})
}

// boltKV is a bbolt database with one bucket; each Set is its own Update
// transaction.
type boltKV struct{ db *bolt.DB }

var (
	_ kv      = (*boltKV)(nil)
	_ loader  = (*boltKV)(nil)
	_ batcher = (*boltKV)(nil)
)

var boltBucket = []byte("bench")

func openBolt(dir string) (kv, error) {
	db, err := bolt.Open(filepath.Join(dir, "bench.db"), 0o666, &bolt.Options{Timeout: 30 * time.Second, NoSync: true})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(boltBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &boltKV{db: db}, nil
}

func (s *boltKV) Set(key string, value []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Put([]byte(key), value) })
}

func (s *boltKV) Get(key string) (v []byte, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(boltBucket).Get([]byte(key)); b != nil {
			v, ok = append([]byte{}, b...), true
		}
		return nil
	})
	return v, ok, err
}

func (s *boltKV) Close() error { return s.db.Close() }

// Load writes keys in transactions of 10,000.
func (s *boltKV) Load(keys []string, value func(int) []byte) error {
	for lo := 0; lo < len(keys); lo += 10000 {
		hi := min(lo+10000, len(keys))
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(boltBucket)
			for i := lo; i < hi; i++ {
				if err := b.Put([]byte(keys[i]), value(i)); err != nil {
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

// Stage returns a commit that writes every key in one transaction.
func (s *boltKV) Stage(keys []string, value func(int) []byte) (func() error, error) {
	vals := make([][]byte, len(keys))
	for i := range keys {
		vals[i] = value(i)
	}
	return func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(boltBucket)
			for i, k := range keys {
				if err := b.Put([]byte(k), vals[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}, nil
}
