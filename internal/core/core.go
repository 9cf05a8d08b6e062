// Package core is what a bucket.Bucket lends to the packages built on it
// (package deferred): its engine and its typed encoding, reached through
// internal/ so that Bucket exports none of it.
package core

import (
	"time"

	"github.com/bucketcache/bucketcache/internal/store"
)

// Engine is a Bucket's machinery, typed by its key and value types.
type Engine[K, V any] struct {
	Store    *store.Store
	Lifetime time.Duration
	Now      func() time.Time
	Codec    string // the name of the codec Encode uses

	// KeyBytes returns key's canonical bytes, as the Bucket's KeyMaker
	// makes them.
	KeyBytes func(key K) ([]byte, error)
	// Encode encodes value with the Bucket's codec.
	Encode func(value V) ([]byte, error)
	// Decode decodes rec's value into a fresh V, as Get does; kb names the
	// key in errors.
	Decode func(kb []byte, rec store.Record) (V, error)
}

// Lend returns the *Engine[K, V] of b, a *bucket.Bucket[K, V]. Package
// bucket sets it when it is initialised.
var Lend func(b any) any

// Of returns the engine of b, a *bucket.Bucket[K, V].
func Of[K, V any](b any) *Engine[K, V] { return Lend(b).(*Engine[K, V]) }
