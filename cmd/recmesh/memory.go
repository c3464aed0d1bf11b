package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryShare of the machine's memory (or the container's, when its cgroup
// has a limit) is the soft limit the Go runtime keeps the heap under,
// unless GOMEMLIMIT is set. Without a limit the collector lets a heap whose
// live size is L grow to 2L (3L for the serving commands, see
// servingGCPercent) before collecting: a million-item training, about
// 11 GB live, was killed by the kernel at 24 GB. Near the limit the
// collector runs more often instead.
const memoryShare = 0.8

// limitMemory sets the soft memory limit, unless GOMEMLIMIT is set or the
// memory cannot be read.
func limitMemory() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	if total := availableMemory(readFile("/proc/meminfo"), readFile("/sys/fs/cgroup/memory.max")); total > 0 {
		debug.SetMemoryLimit(int64(float64(total) * memoryShare))
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// availableMemory is the smaller of MemTotal in meminfo (/proc/meminfo)
// and a cgroup v2 memory.max, in bytes; 0 when neither says.
func availableMemory(meminfo, cgroupMax string) int64 {
	var total int64
	sc := bufio.NewScanner(strings.NewReader(meminfo))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				total = kb << 10
			}
		}
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(cgroupMax), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
		total = n // "max" (no limit) does not parse
	}
	return total
}
