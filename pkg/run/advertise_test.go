package run

import (
	"net"
	"testing"
)

func TestAdvertisedAddr(t *testing.T) {
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, c := range []struct {
		bound, host, want string
	}{
		{"127.0.0.1:9101", "", "127.0.0.1:9101"},
		{"127.0.0.1:9101", "10.1.2.3", "10.1.2.3:9101"},
		{"0.0.0.0:9104", "ranking-1", "ranking-1:9104"},
		{"[::1]:9101", "", "[::1]:9101"},
	} {
		got, err := AdvertisedAddr(tcp(c.bound), c.host)
		if err != nil || got != c.want {
			t.Errorf("AdvertisedAddr(%s, %q) = %q, %v; want %q", c.bound, c.host, got, err, c.want)
		}
	}
	// A wildcard is never published: this machine's own IP stands in.
	for _, bound := range []string{"0.0.0.0:9104", "[::]:9104"} {
		got, err := AdvertisedAddr(tcp(bound), "")
		if err != nil {
			t.Skipf("no non-loopback address here: %v", err)
		}
		host, port, _ := net.SplitHostPort(got)
		ip := net.ParseIP(host)
		if port != "9104" || ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
			t.Errorf("AdvertisedAddr(%s) = %q, want a routable IP with port 9104", bound, got)
		}
	}
}
