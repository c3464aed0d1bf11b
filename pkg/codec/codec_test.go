package codec

import (
	"strings"
	"testing"

	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	recmeshv1 "github.com/recmesh/recmesh/proto/recmesh/v1"
)

func batch(n int) *recmeshv1.Candidates {
	c := &recmeshv1.Candidates{GenreNames: []string{"Drama", "Comedy"}, ChannelNames: []string{"itemcf", "embedding"}}
	var titles strings.Builder
	for i := range n {
		c.ItemIds = append(c.ItemIds, int64(i*7+1))
		c.TitleOffsets = append(c.TitleOffsets, int32(titles.Len()))
		titles.WriteString("Title ")
		c.Years = append(c.Years, int32(1990+i%30))
		c.Popularity = append(c.Popularity, float64(i)/3)
		c.Scores = append(c.Scores, -float64(i))
		c.GenreOffsets = append(c.GenreOffsets, int32(len(c.GenreIndex)))
		c.GenreIndex = append(c.GenreIndex, int32(i%2))
		c.SourceOffsets = append(c.SourceOffsets, int32(len(c.SourceChannels)))
		c.SourceChannels = append(c.SourceChannels, int32(i%2))
		c.SourceScores = append(c.SourceScores, 1/float64(i+1))
	}
	c.Titles = titles.String()
	return c
}

// The codec writes the bytes gRPC's default codec writes, and reads them
// back, for a small message and for one large enough to use the pool.
func TestWireCompatibleWithTheDefaultCodec(t *testing.T) {
	for _, n := range []int{0, 3, 500} {
		in := &recmeshv1.RecallResponse{Candidates: batch(n), ModelVersion: "v7", Missed: []string{"fresh"}}
		got, err := Codec{}.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := proto.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if b := got.Materialize(); string(b) != string(want) {
			t.Fatalf("n=%d: %d bytes differ from the default codec's %d", n, len(b), len(want))
		}
		var out recmeshv1.RecallResponse
		if err := (Codec{}).Unmarshal(got, &out); err != nil {
			t.Fatal(err)
		}
		got.Free()
		if !proto.Equal(in, &out) {
			t.Fatalf("n=%d: round trip changed the message", n)
		}
	}
}

// A message without generated code goes through gRPC's own codec.
func TestOtherMessagesUseTheDefaultCodec(t *testing.T) {
	in := &grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_SERVING}
	data, err := Codec{}.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out grpc_health_v1.HealthCheckResponse
	if err := (Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(data.Materialize())}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Status != in.Status {
		t.Fatalf("status %v, want %v", out.Status, in.Status)
	}
	if _, err := (Codec{}).Marshal("not a message"); err == nil {
		t.Fatal("a non-message was marshalled")
	}
}

// Every message of recmesh.v1 has generated marshalling: a message added to
// a .proto without `make proto` would silently fall back to reflection.
func TestEveryMeshMessageIsGenerated(t *testing.T) {
	n := 0
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		if mt.Descriptor().ParentFile().Package() != "recmesh.v1" || mt.Descriptor().IsMapEntry() {
			return true
		}
		n++
		if _, ok := mt.New().Interface().(message); !ok {
			t.Errorf("%s has no vtprotobuf code: run make proto", mt.Descriptor().FullName())
		}
		return true
	})
	if n < 10 {
		t.Fatalf("found %d recmesh.v1 messages; is the package linked?", n)
	}
}

func BenchmarkMarshal(b *testing.B) {
	in := &recmeshv1.RecallResponse{Candidates: batch(500)}
	b.Run("vtproto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, _ := Codec{}.Marshal(in)
			d.Free()
		}
	})
	b.Run("default", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, _ := std.Marshal(in)
			d.Free()
		}
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	data, _ := proto.Marshal(&recmeshv1.RecallResponse{Candidates: batch(500)})
	for _, c := range []struct {
		name  string
		codec interface {
			Unmarshal(mem.BufferSlice, any) error
		}
	}{{"vtproto", Codec{}}, {"default", std}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out recmeshv1.RecallResponse
				_ = c.codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &out)
			}
		})
	}
}
