// Command coredns is CoreDNS with only the plugins the cluster tier's node needs: cluster DNS for
// Services and Pods (kubernetes), answers cached (cache), health and readiness endpoints for its
// probes (health, ready), errors logged (errors), and the Corefile reloaded on change (reload).
// scripts/install-kube.sh --node builds it; the node fixture runs it as the cluster DNS Pod.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
