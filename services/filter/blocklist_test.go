package filter

import (
	"slices"
	"strings"
	"testing"
)

func TestReadBlocklist(t *testing.T) {
	tests := []struct {
		in      string
		want    []int64
		wantErr string
	}{
		{"1\n\n  2 # a comment\n# only a comment\n3", []int64{1, 2, 3}, ""},
		{"", nil, ""},
		{"1\nx\n", nil, "b.txt:2"},
		{"-4\n", nil, "b.txt:1"},
	}
	for _, tt := range tests {
		got, err := ReadBlocklist(strings.NewReader(tt.in), "b.txt")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ReadBlocklist(%q) = %v, want error at %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ReadBlocklist(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzReadBlocklist(f *testing.F) {
	f.Add("1\n2 # x\n")
	f.Fuzz(func(t *testing.T, in string) {
		ids, err := ReadBlocklist(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		for _, id := range ids {
			if id <= 0 {
				t.Fatalf("accepted id %d", id)
			}
		}
	})
}
