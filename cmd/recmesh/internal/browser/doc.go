// Package browser holds the operator console's end-to-end test: an
// embedded mesh, driven through the console in headless Chromium
// (Debian's chromium, through chromedp). make test-integration runs it;
// it needs RECMESH_CHROMIUM, which scripts/deps.sh prints.
package browser
