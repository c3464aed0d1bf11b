// Package balancer picks a service instance for a request: a consistent-hash
// ring keyed by user id, so a user keeps hitting the same warm instance and
// only about 1/N of users move when an instance joins or leaves.
package balancer

import (
	"math"
	"sort"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// DefaultReplicas is the number of virtual nodes per member; more spreads
// keys more evenly at the cost of a larger ring.
const DefaultReplicas = 128

// Ring is an immutable consistent-hash ring.
type Ring struct {
	hashes  []uint64
	members []string // members[i] owns hashes[i]
	n       int      // distinct members
}

// NewRing places replicas virtual nodes per member on the ring.
func NewRing(members []string, replicas int) *Ring {
	if replicas <= 0 {
		replicas = DefaultReplicas
	}
	type point struct {
		h uint64
		m string
	}
	pts := make([]point, 0, len(members)*replicas)
	for _, m := range members {
		for r := 0; r < replicas; r++ {
			pts = append(pts, point{xxhash.Sum64String(m + "#" + strconv.Itoa(r)), m})
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].h < pts[j].h })
	r := &Ring{hashes: make([]uint64, len(pts)), members: make([]string, len(pts)), n: len(members)}
	for i, p := range pts {
		r.hashes[i], r.members[i] = p.h, p.m
	}
	return r
}

// Get returns the member owning key, or "" for an empty ring.
func (r *Ring) Get(key string) string {
	if len(r.hashes) == 0 {
		return ""
	}
	return r.members[r.start(key)]
}

// start is the index of the first virtual node at or after key's hash.
func (r *Ring) start(key string) int {
	h := xxhash.Sum64String(key)
	i := sort.Search(len(r.hashes), func(i int) bool { return r.hashes[i] >= h })
	if i == len(r.hashes) {
		i = 0
	}
	return i
}

// GetBounded is consistent hashing with bounded loads (Mirrokni, Thorup and
// Zadimoghaddam, 2017): it walks clockwise from key and returns the first
// member whose load is below limit, so no member takes more than its share
// while keys still stay where they were whenever the load allows. With
// every member at the limit it returns key's own member.
func (r *Ring) GetBounded(key string, load func(member string) int, limit int) string {
	if len(r.hashes) == 0 {
		return ""
	}
	i := r.start(key)
	for n := 0; n < len(r.hashes); n++ {
		m := r.members[(i+n)%len(r.hashes)]
		if load(m) < limit {
			return m
		}
	}
	return r.members[i]
}

// BoundedLimit is the per-member load cap for total in-flight requests
// (counting the one being placed) over members members with slack epsilon:
// ceil((1+epsilon)·(total)/members).
func BoundedLimit(total, members int, epsilon float64) int {
	if members <= 0 {
		return 0
	}
	return int(math.Ceil((1 + epsilon) * float64(total) / float64(members)))
}

// Len is the number of distinct members.
func (r *Ring) Len() int { return r.n }
