// Structured JSON logs on stdout for log aggregators.
package main

import (
	"log/slog"
	"os"
)

func main() {
	// --8<-- [start:json]
	// slog with the JSON handler
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelInfo,
	}))

	logger.Info("request handled",
		"method", "GET",
		"path", "/api/users",
		"status", 200,
		"duration_ms", 45,
		"trace_id", "abc123",
	)
	// --8<-- [end:json]
}
