package load

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// parseRange reads "lo-hi".
func parseRange(s string) (lo, hi int64, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseInt(a, 10, 64)
	hi, err2 := strconv.ParseInt(b, 10, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// isIDList reports whether s is a comma list of decimal ids.
func isIDList(s string) bool {
	for _, id := range splitComma(s) {
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			return false
		}
	}
	return s != ""
}

func splitComma(s string) []string { return strings.Split(s, ",") }

// readIDs takes the first field of each line that starts with a digit.
func readIDs(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] < '0' || line[0] > '9' {
			continue
		}
		id, _, _ := strings.Cut(line, ",")
		ids = append(ids, strings.TrimSpace(id))
	}
	return dedupe(ids), sc.Err()
}
