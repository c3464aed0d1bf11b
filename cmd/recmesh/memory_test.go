package main

import "testing"

func TestAvailableMemory(t *testing.T) {
	meminfo := "MemTotal:       24684096 kB\nMemFree:        1000 kB\n"
	for _, tc := range []struct {
		meminfo, cgroup string
		want            int64
	}{
		{meminfo, "", 24684096 << 10},
		{meminfo, "max\n", 24684096 << 10},
		{meminfo, "1073741824\n", 1 << 30},
		{meminfo, "99999999999999\n", 24684096 << 10},
		{"", "2147483648", 2 << 30},
		{"garbage", "max", 0},
	} {
		if got := availableMemory(tc.meminfo, tc.cgroup); got != tc.want {
			t.Errorf("availableMemory(%q, %q) = %d, want %d", tc.meminfo, tc.cgroup, got, tc.want)
		}
	}
}
