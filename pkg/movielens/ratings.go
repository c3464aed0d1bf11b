package movielens

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

var ratingsHeader = []string{"userId", "movieId", "rating", "timestamp"}

// ReadRatings parses ratings.csv: userId,movieId,rating,timestamp with a
// header row. A ratings file is numbers, so lines are split at commas by
// hand and the numbers read without allocating: with encoding/csv, 50M
// ratings took 90 s to read. A line with a quote goes through
// encoding/csv, so any CSV the format allows still reads.
func ReadRatings(r io.Reader, name string) ([]Rating, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Rating
	var f [4][]byte
	header := false
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
		if len(b) == 0 {
			continue // encoding/csv skips empty lines too
		}
		if err := splitRow(b, &f); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if !header {
			for i, h := range ratingsHeader {
				if strings.TrimPrefix(string(f[i]), "\ufeff") != h {
					return nil, fmt.Errorf("%s:%d: header is %q, want %q", name, line, string(bytes.Join(f[:], []byte(","))), strings.Join(ratingsHeader, ","))
				}
			}
			header = true
			continue
		}
		u, ok1 := positiveInt(f[0])
		m, ok2 := positiveInt(f[1])
		v, ok3 := decimal(f[2])
		ts, ok4 := positiveInt(f[3])
		switch {
		case !ok1 || u <= 0:
			return nil, fmt.Errorf("%s:%d: userId %q is not a positive integer", name, line, f[0])
		case !ok2 || m <= 0:
			return nil, fmt.Errorf("%s:%d: movieId %q is not a positive integer", name, line, f[1])
		case !ok3 || !(v >= 0.5 && v <= 5): // NaN too
			return nil, fmt.Errorf("%s:%d: rating %q is not between 0.5 and 5", name, line, f[2])
		case !ok4 || ts < 0:
			return nil, fmt.Errorf("%s:%d: timestamp %q is not a Unix time", name, line, f[3])
		}
		out = append(out, Rating{UserID: u, MovieID: m, Rating: v, TS: ts})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !header {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	return out, nil
}

var errFields = errors.New("wrong number of fields")

// splitRow splits a line into its four fields.
func splitRow(b []byte, f *[4][]byte) error {
	if bytes.IndexByte(b, '"') >= 0 {
		rec, err := csv.NewReader(bytes.NewReader(b)).Read()
		if err != nil {
			return err
		}
		if len(rec) != len(f) {
			return errFields
		}
		for i, s := range rec {
			f[i] = []byte(s)
		}
		return nil
	}
	for i := range f {
		j := bytes.IndexByte(b, ',')
		switch {
		case i < len(f)-1 && j < 0, i == len(f)-1 && j >= 0:
			return errFields
		case j < 0:
			f[i] = b
		default:
			f[i], b = b[:j], b[j+1:]
		}
	}
	return nil
}

// positiveInt reads a decimal integer: digits alone at once, anything else
// (a sign, or too many digits) as strconv does.
func positiveInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return slowInt(b)
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return slowInt(b)
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func slowInt(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// pow10 are the exact powers of ten a float64 holds.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// decimal reads a number such as 4 or 3.5: digits with at most one point
// and 15 digits are an exact integer over an exact power of ten, whose
// quotient IEEE rounds as strconv.ParseFloat does; anything else goes to
// strconv.
func decimal(b []byte) (float64, bool) {
	var mant int64
	digits, frac, point := 0, 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + int64(c-'0')
			digits++
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return slowFloat(b)
		}
	}
	if digits == 0 || digits > 15 {
		return slowFloat(b)
	}
	return float64(mant) / pow10[frac], true
}

func slowFloat(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil
}
