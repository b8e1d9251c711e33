// Command good drains in-flight requests on SIGTERM before it exits.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// work stands for a request that takes a while.
func work(w http.ResponseWriter, _ *http.Request) {
	time.Sleep(2 * time.Second)
	_, _ = w.Write([]byte("done\n"))
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/work", work)
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	// --8<-- [start:good]
	// ✅ Correct: graceful shutdown
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		<-quit
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			slog.Error("shutdown", "error", err)
		}
		close(done)
	}()

	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		slog.Error("server", "error", err)
		os.Exit(1)
	}
	<-done // ListenAndServe returns at once; wait until Shutdown has drained requests
	// --8<-- [end:good]
}
