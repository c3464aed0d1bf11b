package experiment

import (
	"slices"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
)

// Allocation rules (design §4): a variant's buckets are kept in the order
// they were given to it, newest last. Growing takes the lowest free buckets
// of the layer; shrinking gives back the newest. Nobody else's bucket ever
// changes owner, so a user keeps their variant unless their own bucket moved.

// freeRanges lists the layer's buckets no variant owns, in order.
func freeRanges(l *abtest.Layer) []abtest.Range {
	var owned []abtest.Range
	for _, e := range l.Experiments {
		for _, v := range e.Variants {
			owned = append(owned, v.Buckets...)
		}
	}
	slices.SortFunc(owned, func(a, b abtest.Range) int { return a.Start - b.Start })
	var free []abtest.Range
	next := 0
	for _, r := range owned {
		if r.Start > next {
			free = append(free, abtest.Range{Start: next, End: r.Start})
		}
		next = max(next, r.End)
	}
	if next < abtest.NumBuckets {
		free = append(free, abtest.Range{Start: next, End: abtest.NumBuckets})
	}
	return free
}

// FreeBuckets is the number of buckets of the layer no variant owns.
func FreeBuckets(l *abtest.Layer) int {
	n := 0
	for _, r := range freeRanges(l) {
		n += r.Size()
	}
	return n
}

// grow gives v n more buckets, the lowest free ones of l.
func grow(l *abtest.Layer, v *abtest.Variant, n int) error {
	if free := FreeBuckets(l); free < n {
		return apierr.Conflict("layer %q has %d free buckets, %d asked for", l.Name, free, n)
	}
	for _, r := range freeRanges(l) {
		if n == 0 {
			break
		}
		take := abtest.Range{Start: r.Start, End: r.Start + min(n, r.Size())}
		n -= take.Size()
		if last := len(v.Buckets) - 1; last >= 0 && v.Buckets[last].End == take.Start {
			v.Buckets[last].End = take.End // contiguous with the newest range: still newest last
		} else {
			v.Buckets = append(v.Buckets, take)
		}
	}
	return nil
}

// shrink gives back v's newest n buckets.
func shrink(v *abtest.Variant, n int) {
	for n > 0 && len(v.Buckets) > 0 {
		last := &v.Buckets[len(v.Buckets)-1]
		cut := min(n, last.Size())
		last.End -= cut
		n -= cut
		if last.Size() == 0 {
			v.Buckets = v.Buckets[:len(v.Buckets)-1]
		}
	}
}

// size is the number of buckets v owns.
func size(v *abtest.Variant) int {
	n := 0
	for _, r := range v.Buckets {
		n += r.Size()
	}
	return n
}

// resize grows or shrinks v to exactly n buckets.
func resize(l *abtest.Layer, v *abtest.Variant, n int) error {
	if n < 0 || n > abtest.NumBuckets {
		return apierr.Invalid("size %d is not within [0,%d]", n, abtest.NumBuckets)
	}
	switch cur := size(v); {
	case n > cur:
		return grow(l, v, n-cur)
	case n < cur:
		shrink(v, cur-n)
	}
	return nil
}

// splitShares divides traffic buckets among variants by percentage shares,
// which must each be positive and add up to 100. Rounding remainders go to
// the first variants.
func splitShares(traffic int, shares []int) ([]int, error) {
	if traffic < 1 || traffic > abtest.NumBuckets {
		return nil, apierr.Invalid("traffic %d is not within [1,%d] buckets", traffic, abtest.NumBuckets)
	}
	sum := 0
	for _, s := range shares {
		if s <= 0 {
			return nil, apierr.Invalid("every variant needs a positive share; got %d", s)
		}
		sum += s
	}
	if sum != 100 {
		return nil, apierr.Invalid("variant shares add up to %d, want 100", sum)
	}
	sizes := make([]int, len(shares))
	given := 0
	for i, s := range shares {
		sizes[i] = traffic * s / 100
		given += sizes[i]
	}
	for i := 0; given < traffic; i = (i + 1) % len(sizes) {
		sizes[i]++
		given++
	}
	return sizes, nil
}
