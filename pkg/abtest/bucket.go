// Package abtest assigns users to experiment variants.
//
// The traffic space of every layer is NumBuckets buckets. A unit's bucket in
// a layer is
//
//	xxhash64(salt + ":" + unit) mod 10000
//
// where xxhash64 is XXH64 with seed 0 (https://xxhash.com), read as an
// unsigned 64-bit integer. testdata/bucket_vectors.json holds vectors any
// client can check its own implementation against. Each layer has its own
// salt, so assignments in different layers are independent.
package abtest

import "github.com/cespare/xxhash/v2"

// NumBuckets is the size of every layer's traffic space.
const NumBuckets = 10000

// Hash64 is the documented 64-bit hash behind bucketing: XXH64, seed 0.
func Hash64(s string) uint64 { return xxhash.Sum64String(s) }

// Bucket returns unit's bucket, in [0, NumBuckets), in the layer with salt.
func Bucket(salt, unit string) int {
	return int(Hash64(salt+":"+unit) % NumBuckets)
}
