// Command automaxprocs shows the automaxprocs import. Only for Go < 1.25:
// since Go 1.25 the runtime sets GOMAXPROCS from the cgroup CPU limit itself.
package main

import (
	"fmt"
	"runtime"

	_ "go.uber.org/automaxprocs"
)

func main() {
	// automaxprocs sets GOMAXPROCS automatically
	// based on the CPU limits in Kubernetes
	// (before main starts).
	fmt.Println("GOMAXPROCS:", runtime.GOMAXPROCS(0))
}
