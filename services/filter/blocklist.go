package filter

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ReadBlocklist parses one item id per line; blank lines and text after '#'
// are ignored. A malformed line is an error naming its line number.
func ReadBlocklist(r io.Reader, name string) ([]int64, error) {
	var ids []int64
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		id, err := strconv.ParseInt(text, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%s:%d: %q is not a positive item id", name, line, text)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ids, nil
}

// LoadBlocklist reads a blocklist file; an empty path is an empty list.
func LoadBlocklist(path string) ([]int64, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	defer f.Close()
	return ReadBlocklist(f, path)
}
