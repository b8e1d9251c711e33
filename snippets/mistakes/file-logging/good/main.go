// Command good logs JSON lines to stdout, where the container runtime collects them.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// --8<-- [start:good]
	// ✅ Correct: stdout/stderr (12-Factor)
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	// --8<-- [end:good]

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger.Info("started")
	<-ctx.Done()
	logger.Info("stopping")
}
