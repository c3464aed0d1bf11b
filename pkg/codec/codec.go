// Package codec is the mesh's gRPC codec: protobuf on the wire, as gRPC's
// default codec writes it, but marshalled by the code vtprotobuf generates
// for recmesh's own messages (proto/recmesh/v1/*_vtproto.pb.go) instead of
// by reflection. A candidate batch crosses the wire up to four times per
// request, and reflection made encoding and decoding it the mesh's largest
// cost. Messages without generated code (gRPC health, reflection) go
// through gRPC's own codec.
package codec

import (
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers std
	"google.golang.org/grpc/mem"
)

// Name is the content subtype the codec answers to: it is wire-compatible
// with gRPC's default codec, so it takes the same name and peers that use
// the default interoperate.
const Name = "proto"

// message is what vtprotobuf generates for a message with the features
// marshal, unmarshal and size.
type message interface {
	SizeVT() int
	MarshalToSizedBufferVT(dst []byte) (int, error)
	UnmarshalVT(src []byte) error
}

// Codec is the codec; its zero value is ready to use.
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

// std is gRPC's own protobuf codec, for messages without generated code.
var std = encoding.GetCodecV2(Name)

// Marshal encodes v into a buffer from gRPC's pool when it is large enough
// for pooling to pay, as gRPC's own codec does.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(message)
	if !ok {
		return std.Marshal(v)
	}
	size := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf := make([]byte, size)
		if _, err := m.MarshalToSizedBufferVT(buf); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	if _, err := m.MarshalToSizedBufferVT(*buf); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// Unmarshal decodes data into v. The generated code copies every string
// and bytes field out of the buffer, so the buffer goes back to the pool.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(message)
	if !ok {
		return std.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return m.UnmarshalVT(buf.ReadOnlyData())
}

// Name is the codec's content subtype.
func (Codec) Name() string { return Name }
