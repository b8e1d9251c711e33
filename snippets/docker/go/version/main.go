// main.go
package main

import "log"

// Set at build time: go build -ldflags "-X main.Version=1.0.0 -X main.Commit=abc1234 -X main.BuildTime=..."
var (
	Version   = "dev"
	Commit    = "unknown"
	BuildTime = "unknown"
)

func main() {
	log.Printf("Version: %s, Commit: %s, Built: %s", Version, Commit, BuildTime)
	// ...
}
