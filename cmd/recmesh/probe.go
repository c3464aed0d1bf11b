package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runProbe is a container healthcheck for images with no shell and no
// curl: it GETs a URL and fails unless the answer is 2xx.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var timeout time.Duration
	f := newFlags("probe", stderr)
	f.Duration(&timeout, "timeout", 2*time.Second, "how long to wait for the answer")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.FS.NArg() != 1 {
		return fmt.Errorf("usage: recmesh probe [-timeout 2s] URL (e.g. http://127.0.0.1:9201/readyz)")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.FS.Arg(0), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s: %s", f.FS.Arg(0), resp.Status, body)
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}
