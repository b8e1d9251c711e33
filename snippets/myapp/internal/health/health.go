// Package health serves the liveness and readiness probes and the client used by `server -health`.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// CheckFunc reports whether one dependency is usable; it must honour ctx.
type CheckFunc func(ctx context.Context) error

// Handler serves /health/live and /health/ready.
type Handler struct {
	checks   map[string]CheckFunc
	timeout  time.Duration
	stopping atomic.Bool
}

// NewHandler returns a Handler that runs checks in parallel, each bounded by timeout.
func NewHandler(timeout time.Duration, checks map[string]CheckFunc) *Handler {
	return &Handler{checks: checks, timeout: timeout}
}

// Status is the JSON body of both probes.
type Status struct {
	Status    string            `json:"status"`
	Checks    map[string]string `json:"checks,omitempty"`
	Timestamp time.Time         `json:"timestamp"`
}

// --8<-- [start:live]

// Live is the liveness check (for the liveness probe).
// Liveness: is the application running?
// Answers 200 while the process can serve HTTP.
// Does not check external dependencies:
// a database outage must not make Kubernetes restart healthy pods.
func (h *Handler) Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Status{Status: "ok", Timestamp: time.Now().UTC()})
}

// --8<-- [end:live]

// --8<-- [start:ready]

// SetShuttingDown makes every later readiness probe fail, so load balancers that
// probe readiness stop sending traffic (Kubernetes drops a terminating Pod from
// its endpoints anyway; SHUTDOWN_DELAY covers the time that takes to spread).
func (h *Handler) SetShuttingDown() { h.stopping.Store(true) }

// Ready is the readiness check (for the readiness probe).
// Readiness: ready to accept traffic?
// Checks all dependencies:
// in parallel, under one timeout. Each goroutine writes only
// its own slot of results, so no shared variable is written concurrently.
func (h *Handler) Ready(w http.ResponseWriter, r *http.Request) {
	if h.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable,
			Status{Status: "shutting_down", Timestamp: time.Now().UTC()})
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()

	names := make([]string, 0, len(h.checks))
	for name := range h.checks {
		names = append(names, name)
	}
	// Check the dependencies in parallel
	results := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { results[i] = h.checks[name](ctx) })
	}
	wg.Wait()

	status := Status{Status: "ok", Checks: make(map[string]string, len(names)), Timestamp: time.Now().UTC()}
	code := http.StatusOK
	for i, name := range names {
		status.Checks[name] = "ok"
		if results[i] != nil {
			status.Checks[name] = "error: " + results[i].Error()
			status.Status = "unavailable"
			code = http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, status)
}

// --8<-- [end:ready]

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// --8<-- [start:check]

// Check is the health check client (used in Docker HEALTHCHECK):
// `server -health` calls it in an image without a shell or curl.
// It returns nil only for HTTP 200 within the timeout.
func Check(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// --8<-- [end:check]
