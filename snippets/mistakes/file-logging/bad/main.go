// Command bad logs to a file inside the container (the mistake).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// --8<-- [start:bad]
	// ❌ Mistake: logs go to a file
	file, _ := os.OpenFile("/var/log/app.log", os.O_CREATE|os.O_WRONLY, 0666)
	logger := slog.New(slog.NewJSONHandler(file, nil))
	// --8<-- [end:bad]

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger.Info("started")
	<-ctx.Done()
	logger.Info("stopping")
}
