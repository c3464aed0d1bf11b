// Package balancer picks a service instance for a request: a consistent-hash
// ring keyed by user id, so a user keeps hitting the same warm instance and
// only about 1/N of users move when an instance joins or leaves.
package balancer

import (
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
	r := &Ring{hashes: make([]uint64, len(pts)), members: make([]string, len(pts))}
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
	h := xxhash.Sum64String(key)
	i := sort.Search(len(r.hashes), func(i int) bool { return r.hashes[i] >= h })
	if i == len(r.hashes) {
		i = 0
	}
	return r.members[i]
}
