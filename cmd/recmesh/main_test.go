package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	empty := t.TempDir()
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "movies.csv"), []byte("movieId,title,genres\n1,A,Drama\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "ratings.csv"), []byte("userId,movieId,rating,timestamp\n1,1,4,10\n1,1,nine,11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		wantErr string
		wantOut string
	}{
		{nil, "no command", ""},
		{[]string{"bogus"}, `unknown command "bogus"`, ""},
		{[]string{"help"}, "", "commands:"},
		{[]string{"train", "-h"}, "", ""},
		{[]string{"train", "-data", empty}, "movies.csv", ""},
		{[]string{"train", "-data", bad, "-model-dir", t.TempDir()}, "ratings.csv:3: rating", ""},
		{[]string{"eval", "-data", empty}, "movies.csv", ""},
		{[]string{"eval", "-seeds", "1,1"}, "distinct", ""},
		{[]string{"eval", "-seeds", "one"}, "distinct", ""},
		{[]string{"eval", "-cutoff", "2016"}, "YYYY-MM-DD", ""},
		{[]string{"eval", "-split", "sideways"}, "-split", ""},
		{[]string{"eval", "-test-share", "1"}, "-test-share", ""},
		{[]string{"rollback", "-model-dir", t.TempDir()}, "no model version published", ""},
		{[]string{"publish", "-model-dir", t.TempDir()}, "usage: recmesh publish", ""},
		{[]string{"publish", "-model-dir", t.TempDir(), "v1"}, "version v1", ""},
		{[]string{"all", "-data", empty, "-grpc-base-port", "0", "-admin-base-port", "0", "-http-addr", "127.0.0.1:0"}, "movies.csv", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.wantOut)
			}
		})
	}
}
