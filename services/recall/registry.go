package recall

import (
	"context"
	"slices"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Channel is one way of generating candidates. Each lives in its own
// channel_<name>.go file and is listed once in registry below.
type Channel interface {
	// Recall returns up to n items for the request, best first, scored on
	// the channel's own scale. A channel that has nothing to say (a user
	// with no history, an index without embeddings) returns nil. It keeps
	// to the items in.Admits, so its quota is spent on servable ones.
	Recall(ctx context.Context, in *Input, n int) []Scored
}

// ChannelSpec registers a channel under its name, the name used in quotas,
// in candidate sources and in replies.
type ChannelSpec struct {
	Name string
	// DefaultQuota is how many candidates the channel contributes when a
	// request does not set its quota.
	DefaultQuota int
	Channel      Channel
	// Online marks a channel that only has something to say when serving:
	// it reads the live catalogue (fresh) or the request's categories
	// (category), which an offline evaluation of past events has not.
	Online bool
}

// registry lists every channel, once, in merge priority order: the earlier
// a channel, the nearer the top its candidates land and the earlier it is
// named in a candidate's sources. To add a channel, write its
// channel_<name>.go and add one line here (see the README's contributor
// section). Everything else (default quotas, the wire format, the OpenAPI enum, the
// experiment admin API's checks, the gateway's popular-only list, the
// eval's rows) derives from this list.
var registry = []ChannelSpec{
	{Name: domain.ChannelItemCF, DefaultQuota: 250, Channel: itemCFChannel{}},
	{Name: domain.ChannelEmbedding, DefaultQuota: 150, Channel: embedding{}},
	{Name: domain.ChannelCategory, DefaultQuota: 100, Channel: category{}, Online: true},
	{Name: domain.ChannelGenre, DefaultQuota: 100, Channel: genre{}},
	{Name: domain.ChannelFresh, DefaultQuota: 50, Channel: fresh{}, Online: true},
	{Name: recallapi.ChannelPopular, DefaultQuota: 100, Channel: popular{}},
}

// ChannelNames lists every registered channel in merge priority order.
func ChannelNames() []string {
	out := make([]string, len(registry))
	for i, s := range registry {
		out[i] = s.Name
	}
	return out
}

// OfflineChannelNames lists the channels an offline evaluation can
// measure (all but the Online ones), in merge priority order.
func OfflineChannelNames() []string {
	var out []string
	for _, s := range registry {
		if !s.Online {
			out = append(out, s.Name)
		}
	}
	return out
}

// channelIndex is the position of name in registry, or -1.
func channelIndex(name string) int {
	return slices.IndexFunc(registry, func(s ChannelSpec) bool { return s.Name == name })
}
