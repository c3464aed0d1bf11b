package mesh

import (
	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/services/experiment"
	"github.com/recmesh/recmesh/services/experiment/console"
	"github.com/recmesh/recmesh/services/features"
	"github.com/recmesh/recmesh/services/filter"
	"github.com/recmesh/recmesh/services/ranking"
	"github.com/recmesh/recmesh/services/recall"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Components returns every service of the mesh, in start order, each with
// its defaults. `recmesh all`, the one-service commands and `make dev`
// (through `recmesh services`) loop over this list: adding a service is its
// module, one line here, and its step in the gateway's orchestration.
func Components() []component.Component {
	exp := experiment.NewComponent()
	exp.Config.Rules = ParamRules()
	return []component.Component{
		features.NewComponent(),
		recall.NewComponent(),
		filter.NewComponent(),
		ranking.NewComponent(),
		console.WithConsole(exp),
	}
}

// Services lists the services' names, in start order.
func Services() []string { return component.Names(Components()) }

// ParamRules are what variant params and routes may name: the registered
// recall channels, the trained ranking objectives and the services. The
// experiment admin API refuses anything else when it is written.
func ParamRules() abtest.ParamRules {
	return abtest.ParamRules{
		Channels: recall.ChannelNames(), MaxQuota: recallapi.MaxQuota,
		Objectives: ranking.Objectives(), Services: []string{gateway.HopFeatures, gateway.HopRecall, gateway.HopFilter, gateway.HopRanking},
	}
}
