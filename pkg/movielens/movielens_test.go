package movielens

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadMovies(t *testing.T) {
	in := "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n2,\"Heat, The (1995) \",Action\n3,No Year,(no genres listed)\n"
	got, err := ReadMovies(strings.NewReader(in), "movies.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Movie{
		{1, "Toy Story (1995)", []string{"Adventure", "Animation"}, 1995},
		{2, "Heat, The (1995)", []string{"Action"}, 1995},
		{3, "No Year", nil, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("movies (-want +got):\n%s", diff)
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, in, want string
		ratings        bool
	}{
		{"empty", "", "empty file", false},
		{"bad header", "id,title,genres\n", "header", false},
		{"bad id", "movieId,title,genres\n1,A,B\nx,B,C\n", "movies.csv:3: movieId", false},
		{"short row", "userId,movieId,rating,timestamp\n1,2,3\n", "wrong number of fields", true},
		{"bad rating", "userId,movieId,rating,timestamp\n1,2,3,4\n1,2,9,4\n", "ratings.csv:3: rating", true},
		{"bad ts", "userId,movieId,rating,timestamp\n1,2,3,-4\n", "ratings.csv:2: timestamp", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.ratings {
				_, err = ReadRatings(strings.NewReader(tt.in), "ratings.csv")
			} else {
				_, err = ReadMovies(strings.NewReader(tt.in), "movies.csv")
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadRefusesDanglingAndMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "movies.csv") {
		t.Fatalf("Load(empty dir) = %v, want missing file error", err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("movies.csv", "movieId,title,genres\n1,A (2000),Drama\n")
	write("ratings.csv", "userId,movieId,rating,timestamp\n1,2,4,100\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "movie 2") {
		t.Fatalf("Load = %v, want dangling movie error", err)
	}
	write("ratings.csv", "userId,movieId,rating,timestamp\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "non-empty") {
		t.Fatalf("Load = %v, want empty dataset error", err)
	}
}

// FuzzReadRatings checks that every row ReadRatings accepts is valid, and
// that it reads what encoding/csv with strconv reads (csvRatings): its
// hand-split fast path must not change what a file means.
func FuzzReadRatings(f *testing.F) {
	f.Add("userId,movieId,rating,timestamp\n1,2,3.5,964982703\n")
	f.Add("userId,movieId,rating,timestamp\n\"1\",2,,\n")
	f.Add("\ufeffuserId,movieId,rating,timestamp\r\n1,2,4.0,5\r\n\r\n\"3\",\"4\",\"0.5\",\"6\"\n7,8,5,9")
	f.Add("userId,movieId,rating,timestamp\n+1,02,4.25,1e3\n")
	f.Add("userId,movieId,rating,timestamp\n1,2,NaN,3\n")
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := ReadRatings(strings.NewReader(in), "f")
		want, werr := csvRatings(in)
		if err == nil && werr == nil && !slices.Equal(rs, want) {
			t.Fatalf("read %+v, encoding/csv reads %+v", rs, want)
		}
		if err != nil {
			return
		}
		if werr != nil && !strings.Contains(in, "\"") {
			t.Fatalf("read %+v where encoding/csv fails: %v", rs, werr)
		}
		for _, r := range rs {
			if r.UserID <= 0 || r.MovieID <= 0 || !(r.Rating >= 0.5 && r.Rating <= 5) || r.TS < 0 {
				t.Fatalf("accepted an invalid row %+v", r)
			}
		}
	})
}

// csvRatings is ReadRatings as it was with encoding/csv, the reference.
func csvRatings(in string) ([]Rating, error) {
	var out []Rating
	err := readCSV(strings.NewReader(in), "f", ratingsHeader, func(line int, rec []string) error {
		u, err1 := strconv.ParseInt(rec[0], 10, 64)
		m, err2 := strconv.ParseInt(rec[1], 10, 64)
		v, err3 := strconv.ParseFloat(rec[2], 64)
		ts, err4 := strconv.ParseInt(rec[3], 10, 64)
		if err1 != nil || u <= 0 || err2 != nil || m <= 0 || err3 != nil || !(v >= 0.5 && v <= 5) || err4 != nil || ts < 0 {
			return fmt.Errorf("f:%d: invalid", line)
		}
		out = append(out, Rating{UserID: u, MovieID: m, Rating: v, TS: ts})
		return nil
	})
	return out, err
}

func FuzzReadMovies(f *testing.F) {
	f.Add("movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n")
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := ReadMovies(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.ID <= 0 {
				t.Fatalf("accepted movie id %d", m.ID)
			}
		}
	})
}
