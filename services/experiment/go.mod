module github.com/recmesh/recmesh/services/experiment

go 1.26

require (
	github.com/go-kit/kit v0.13.0
	github.com/recmesh/recmesh/pkg v0.0.0
	github.com/recmesh/recmesh/proto v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-kit/log v0.2.0 // indirect
	github.com/go-logfmt/logfmt v0.5.1 // indirect
	golang.org/x/net v0.40.0 // indirect
	golang.org/x/sys v0.33.0 // indirect
	golang.org/x/text v0.25.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20250519155744-55703ea1f237 // indirect
	google.golang.org/grpc v1.72.2 // indirect
	google.golang.org/protobuf v1.36.6 // indirect
)

replace (
	github.com/recmesh/recmesh/pkg => ../../pkg
	github.com/recmesh/recmesh/proto => ../../proto
)
