// CoreDNS with only the plugins the local cluster's Corefile uses
// (test/env/cluster/dns.ts): bind, errors, ready, kubernetes, cache.
// CoreDNS's own main links every plugin it ships, among them the Azure,
// Google Cloud and AWS clients, which took most of its 7-minute cold build.
package main

import (
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
