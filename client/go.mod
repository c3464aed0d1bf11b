module github.com/recmesh/recmesh/client

go 1.26.7
