package rest

import (
	"testing"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// FuzzDecodeEvents checks the events parser never panics and refuses
// anything it cannot parse with invalid_argument.
func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte(`{"events":[{"user_id":"u","item_id":1,"type":"click","value":1,"ts":5}]}`))
	f.Add([]byte(`{"events":[]} {}`))
	f.Add([]byte(`{"evnts":1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeEvents(body)
		if err != nil {
			if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindInvalid {
				t.Fatalf("decodeEvents error %v is not invalid_argument", err)
			}
			return
		}
		_ = req.Events
	})
}
