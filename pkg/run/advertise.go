package run

import (
	"fmt"
	"net"

	"github.com/recmesh/recmesh/pkg/registry"
)

// Instance is the registry entry of one instance of service listening on
// addr, with its admin port (where /metrics is) at admin: both advertised
// (see AdvertisedAddr), the ID service-address, the version tag, and the
// admin address as the meta "admin" that Prometheus scrapes.
func Instance(service, version, advertise string, addr, admin net.Addr) (registry.Instance, error) {
	a, err := AdvertisedAddr(addr, advertise)
	if err != nil {
		return registry.Instance{}, fmt.Errorf("%s: %w", service, err)
	}
	m, err := AdvertisedAddr(admin, advertise)
	if err != nil {
		return registry.Instance{}, fmt.Errorf("%s: %w", service, err)
	}
	return registry.Instance{
		ID: service + "-" + a, Service: service, Addr: a, Tags: []string{"version=" + version},
		Meta: map[string]string{"admin": m},
	}, nil
}

// AdvertisedAddr is the address others reach a listener at, for the
// registry: host (when set) with the bound port; else the bound address,
// unless it is a wildcard (":9101", "0.0.0.0:9101"), which no one can dial,
// in which case the first non-loopback IP of this machine (a container's
// or pod's own address) stands in for it.
func AdvertisedAddr(bound net.Addr, host string) (string, error) {
	bh, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", err
	}
	if host != "" {
		return net.JoinHostPort(host, port), nil
	}
	if ip := net.ParseIP(bh); ip == nil || !ip.IsUnspecified() {
		return bound.String(), nil
	}
	ip, err := interfaceIP()
	if err != nil {
		return "", fmt.Errorf("advertise %s: %w (set the advertise host)", bound, err)
	}
	return net.JoinHostPort(ip, port), nil
}

// interfaceIP is the first up, non-loopback IPv4 address (IPv6 when there
// is none).
func interfaceIP() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	var v6 string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() {
			continue
		}
		if n.IP.To4() != nil {
			return n.IP.String(), nil
		}
		if v6 == "" {
			v6 = n.IP.String()
		}
	}
	if v6 == "" {
		return "", fmt.Errorf("no non-loopback address")
	}
	return v6, nil
}
