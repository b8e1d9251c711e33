// Right: logs go to stdout, where the container runtime collects them.
package main

import (
	"log/slog"
	"os"
)

func main() {
	// --8<-- [start:stdout]
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	logger.Info("request handled", "method", "GET", "path", "/users")
	// --8<-- [end:stdout]
}
