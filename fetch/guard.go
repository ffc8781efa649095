package fetch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// blockedPrefixes are the address ranges a fetch may not reach unless the
// configuration allows them: loopback, private, link-local (cloud metadata
// lives there), unspecified, multicast, carrier-grade NAT and their IPv6
// counterparts.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// RefusedError says that the client refused to connect to an address.
type RefusedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refusing to connect to %s, a %s address; list it under http.allow_private to allow it", e.Addr, e.Reason)
}

// guard decides which addresses may be dialled.
type guard struct {
	allow []netip.Prefix
	// hook runs after the check, before the connection is made.
	hook func(network, address string) error
	// resolver looks up hosts; nil means the system's.
	resolver *net.Resolver
}

func (g *guard) check(ip netip.Addr) error {
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return &RefusedError{Addr: ip, Reason: addrReason(ip)}
		}
	}
	return nil
}

func addrReason(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast():
		return "multicast"
	case netip.MustParsePrefix("100.64.0.0/10").Contains(ip):
		return "carrier-grade NAT"
	}
	return "reserved"
}

// control is a net.Dialer Control function: it runs after DNS resolution,
// on the very address the socket is about to connect to, so a name that
// resolves (or rebinds) to a private address is refused before any packet
// is sent.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: not an IP address", address)
	}
	if err := g.check(ap.Addr()); err != nil {
		return err
	}
	if g.hook != nil {
		return g.hook(network, address)
	}
	return nil
}

// checkHost resolves host and checks every address it has. It is used for
// requests that go through a proxy, where the proxy (not us) dials the
// target: it catches literal and resolvable private targets, but DNS
// rebinding there is the proxy's responsibility.
func (g *guard) checkHost(ctx context.Context, host string) error {
	host = strings.Trim(host, "[]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return g.check(ip)
	}
	r := g.resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil // let the proxy report it
	}
	for _, ip := range ips {
		if err := g.check(ip); err != nil {
			return err
		}
	}
	return nil
}
