# The recmesh image: one static binary that runs any service, the gateway,
# the embedded mode or the init job, with the MovieLens sample and the
# default experiment config inside.
#
#   docker build -t recmesh/recmesh:dev .
#
# The base images are build arguments, so the same file builds offline
# (make test-compose passes a local Go image; see scripts/docker.sh).
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=scratch

FROM ${GO_IMAGE} AS build
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.work go.work.sum ./
COPY client/go.mod client/
COPY cmd/recmesh/go.mod cmd/recmesh/go.sum cmd/recmesh/
COPY gateway/go.mod gateway/go.sum gateway/
COPY pkg/go.mod pkg/go.sum pkg/
COPY proto/go.mod proto/go.sum proto/
COPY services/experiment/go.mod services/experiment/go.sum services/experiment/
COPY services/features/go.mod services/features/go.sum services/features/
COPY services/filter/go.mod services/filter/go.sum services/filter/
COPY services/ranking/go.mod services/ranking/go.sum services/ranking/
COPY services/recall/go.mod services/recall/go.sum services/recall/
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags='-s -w' -o /out/recmesh ./cmd/recmesh \
 && mkdir -p /out/var/models

FROM ${RUNTIME_IMAGE}
# Paths are the binary's defaults, relative to /: data/movielens-small,
# config/experiments.json and var/models.
WORKDIR /
COPY --from=build /out/recmesh /recmesh
COPY --from=build /src/data/movielens-small /data/movielens-small
COPY --from=build /src/config/experiments.json /config/experiments.json
# The models volume is mounted here; a fresh named volume takes its owner.
COPY --from=build --chown=65532:65532 /out/var/models /var/models
USER 65532:65532
EXPOSE 8080 9101 9102 9103 9104 9105 9201 9202 9203 9204 9205
ENTRYPOINT ["/recmesh"]
CMD ["all"]
