// Minimal demo of a -health flag: the binary is its own HEALTHCHECK client.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	healthCheck := flag.Bool("health", false, "run a health check and exit")
	flag.Parse()

	// Probe the port the server really listens on, not a hard-coded 8080.
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}

	if *healthCheck {
		// Health check mode: probe the service and exit
		// (exit code 0 or 1).
		client := &http.Client{Timeout: 3 * time.Second}
		resp, err := client.Get("http://127.0.0.1:" + port + "/health")
		if err != nil {
			os.Exit(1)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
		os.Exit(0)
	}

	// Normal mode: serve.
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "OK")
	})

	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
