package health

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func ok(context.Context) error { return nil }

func failing(msg string) CheckFunc {
	return func(context.Context) error { return errors.New(msg) }
}

// hang blocks until the readiness timeout cancels its context.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func probe(t *testing.T, h http.HandlerFunc) (int, Status) {
	t.Helper()
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodGet, "/health/ready", nil))
	var st Status
	if err := json.NewDecoder(rec.Body).Decode(&st); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	// a probe's answer is about this moment: no proxy or client may serve it again
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	return rec.Code, st
}

func TestLiveNeedsNoDependencies(t *testing.T) {
	h := NewHandler(time.Second, map[string]CheckFunc{"postgres": failing("down")})
	code, st := probe(t, h.Live)
	if code != http.StatusOK || st.Status != "ok" || st.Checks != nil {
		t.Errorf("Live = %d %+v, want 200 ok without checks", code, st)
	}
}

func TestReadyAllOK(t *testing.T) {
	h := NewHandler(time.Second, map[string]CheckFunc{"postgres": ok, "redis": ok})
	code, st := probe(t, h.Ready)
	if code != http.StatusOK || st.Status != "ok" || st.Checks["postgres"] != "ok" || st.Checks["redis"] != "ok" {
		t.Errorf("Ready = %d %+v", code, st)
	}
}

func TestReadyNamesTheFailingDependency(t *testing.T) {
	h := NewHandler(time.Second, map[string]CheckFunc{"postgres": ok, "redis": failing("connection refused")})
	code, st := probe(t, h.Ready)
	if code != http.StatusServiceUnavailable || st.Status != "unavailable" {
		t.Fatalf("Ready = %d %+v, want 503", code, st)
	}
	if st.Checks["postgres"] != "ok" || st.Checks["redis"] != "error: connection refused" {
		t.Errorf("checks = %v", st.Checks)
	}
}

func TestReadyChecksRunInParallelUnderTimeout(t *testing.T) {
	h := NewHandler(200*time.Millisecond, map[string]CheckFunc{"a": hang, "b": hang, "c": hang, "d": ok})
	start := time.Now()
	code, st := probe(t, h.Ready)
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("took %s; hanging checks must share one 200ms timeout", elapsed)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(st.Checks["a"], "deadline exceeded") || st.Checks["d"] != "ok" {
		t.Errorf("Ready = %d %+v", code, st)
	}
}

// Run with -race: many concurrent probes with mixed results must not race.
func TestReadyIsRaceFree(t *testing.T) {
	h := NewHandler(time.Second, map[string]CheckFunc{
		"postgres": ok, "redis": failing("x"), "s3": ok, "kafka": failing("y"),
	})
	srv := httptest.NewServer(http.HandlerFunc(h.Ready))
	defer srv.Close()
	errc := make(chan error, 20)
	for range 20 {
		go func() {
			resp, err := http.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable {
					err = errors.New(resp.Status)
				}
			}
			errc <- err
		}()
	}
	for range 20 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

func TestReadyFailsOnceShuttingDown(t *testing.T) {
	called := false
	h := NewHandler(time.Second, map[string]CheckFunc{"postgres": func(context.Context) error {
		called = true
		return nil
	}})
	h.SetShuttingDown()
	code, st := probe(t, h.Ready)
	if code != http.StatusServiceUnavailable || st.Status != "shutting_down" || called {
		t.Errorf("Ready after SetShuttingDown = %d %+v (checks called: %v)", code, st, called)
	}
	if code, _ := probe(t, h.Live); code != http.StatusOK {
		t.Errorf("Live while shutting down = %d, want 200 (no restart during drain)", code)
	}
}

func TestCheckClient(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer healthy.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	ctx := context.Background()
	if err := Check(ctx, healthy.URL, time.Second); err != nil {
		t.Errorf("healthy: %v", err)
	}
	if err := Check(ctx, sick.URL, time.Second); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("sick: %v, want HTTP 503 error", err)
	}
	if err := Check(ctx, dead, time.Second); err == nil {
		t.Error("dead port: want error")
	}
	if err := Check(ctx, slow.URL, 100*time.Millisecond); err == nil {
		t.Error("slow: want timeout error")
	}
}
