package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/services/experiment"
)

// A simulation whose second arm loses most of its users from the exposure
// log raises the SRM alarm, and its results count what was shown and
// clicked through the real stack.
func TestSimulateBrokenSplitRaisesTheSRMAlarm(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"simulate", "-data", "../../data/movielens-small", "-users", "300", "-rounds", "1",
		"-drop", "0.7", "-json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r experiment.Results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.SRM == nil || !r.SRM.Alarm {
		t.Errorf("no SRM alarm with 70%% of an arm dropped: %+v", r.SRM)
	}
	users, rows := int64(0), int64(0)
	for _, v := range r.Variants {
		users += v.Users
		rows += v.Exposures
		if v.Clicks == 0 || v.Clicks > v.Exposures {
			t.Errorf("%s: %d clicks of %d exposures", v.Name, v.Clicks, v.Exposures)
		}
	}
	if !strings.Contains(stdout.String(), "| control |") || rows != users*10 {
		t.Errorf("users %d, rows %d; output:\n%s", users, rows, stdout.String())
	}
}
