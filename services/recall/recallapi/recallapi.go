// Package recallapi is the recall service's contract: its interface, request
// and reply types, gRPC client and codecs. Callers import this package only;
// the channels and indexes behind it live in package recall.
package recallapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Name is the service's name in the registry.
const Name = "recall"

// ChannelPopular is the popularity channel, named here because the
// gateway's fallback list asks for it alone.
const ChannelPopular = domain.ChannelPopular

// Limits on request sizes.
const (
	DefaultK = 250
	MaxK     = 2000
	MaxQuota = 2000
)

// Query is what the channels know about the user.
type Query struct {
	// Recent holds the newest interactions first.
	Recent   []domain.Interaction
	Affinity map[string]float64
}

// Request asks for candidates for one user.
type Request struct {
	UserID string
	Query
	// Quotas cap each channel; channels absent use their default quota, or
	// none at all when OnlyQuotas is set.
	Quotas map[string]int
	// OnlyQuotas runs just the channels named in Quotas.
	OnlyQuotas bool
	// K caps the merged list; 0 means DefaultK.
	K int
	// Categories keeps every channel to items of these categories (any of
	// them) and drives the category channel; empty means all.
	Categories []string
	// Exclude are never returned (the client shows them already).
	Exclude []int64
	// Seeds ask for items similar to these: item-CF and the embedding start
	// from them instead of the user's history, and they are never returned.
	Seeds []int64
	// Seen are the items the user interacted with (features' seen set, at
	// most MaxSeen): never returned, as the filter would drop them.
	Seen []int64
}

// Limits on the lists a request carries.
const (
	MaxCategories = 20
	// MaxExclude fits what the gateway excludes: the client's list (500),
	// a pagination session's (1000) and the exposures the filter would
	// hide anyway (1000), so recall fills its K with items that can be shown.
	MaxExclude = 2500
	MaxSeeds   = 20
	// MaxSeen bounds the seen set a request carries; a caller with more
	// sends part of it (the filter still drops the rest).
	MaxSeen = 20000
)

// Response carries the merged candidates.
type Response struct {
	Candidates []domain.Candidate
	// PerChannel counts what each channel produced before de-duplication.
	PerChannel   map[string]int
	ModelVersion string
	// Missed names the channels that missed the hop's deadline and were
	// dropped; the others' candidates are served.
	Missed []string
}

// Service is the recall service's business interface.
type Service interface {
	Recall(ctx context.Context, req Request) (Response, error)
}
