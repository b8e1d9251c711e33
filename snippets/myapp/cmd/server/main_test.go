package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"myapp/internal/config"
	"myapp/internal/handler"
	"myapp/internal/health"
	"myapp/internal/metrics"
	"myapp/internal/storage"
)

// slowStore blocks ListUsers until release is closed: a request in flight.
type slowStore struct {
	entered chan struct{}
	release chan struct{}
	done    atomic.Bool
}

func (s *slowStore) ListUsers(context.Context, int) ([]storage.User, error) {
	close(s.entered)
	<-s.release
	s.done.Store(true)
	return []storage.User{{ID: "1", Name: "Alice"}}, nil
}

type noCache struct{}

func (noCache) Get(context.Context, string) ([]byte, error)              { return nil, storage.ErrCacheMiss }
func (noCache) Set(context.Context, string, []byte, time.Duration) error { return nil }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	store    *slowStore
	logs     *syncBuffer
	addr     string
	cancel   context.CancelCauseFunc
	result   chan error
	closedAt atomic.Bool // closeClients ran after the in-flight request finished
	closed   atomic.Bool
}

// start wires the real routes, server settings and serve() with fake dependencies.
func start(t *testing.T, cfg config.Config) *harness {
	t.Helper()
	h := &harness{
		store:  &slowStore{entered: make(chan struct{}), release: make(chan struct{})},
		logs:   &syncBuffer{},
		result: make(chan error, 1),
	}
	logger := slog.New(slog.NewJSONHandler(h.logs, nil))
	probes := health.NewHandler(time.Second, map[string]health.CheckFunc{
		"postgres": func(context.Context) error { return nil },
	})
	m := metrics.New("test", "test")
	api := handler.New(h.store, noCache{}, time.Second, logger)
	srv := newServer(0, routes(api, probes, logger, m), cfg)
	metricsSrv := newServer(0, m.Handler(), cfg)

	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = appLn.Addr().String()

	ctx, cancel := context.WithCancelCause(context.Background())
	h.cancel = cancel
	closeClients := func() {
		h.closedAt.Store(h.store.done.Load())
		h.closed.Store(true)
	}
	go func() {
		h.result <- serve(ctx, func() {}, logger, cfg, probes, closeClients,
			listening{srv, appLn}, listening{metricsSrv, metricsLn})
	}()
	t.Cleanup(func() {
		select {
		case <-h.store.release:
		default:
			close(h.store.release)
		}
	})
	return h
}

func freshClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

func testConfig() config.Config {
	return config.Config{ReadTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second,
		ShutdownDelay: 500 * time.Millisecond, ShutdownTimeout: 5 * time.Second}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	h := start(t, testConfig())
	client := freshClient()

	type reply struct {
		code  int
		cache string
		err   error
	}
	inflight := make(chan reply, 1)
	go func() {
		resp, err := client.Get("http://" + h.addr + "/api/v1/users")
		if err != nil {
			inflight <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		inflight <- reply{code: resp.StatusCode, cache: resp.Header.Get("X-Cache")}
	}()
	<-h.store.entered

	h.cancel(errors.New("test: SIGTERM"))

	// During SHUTDOWN_DELAY the listener still accepts and readiness reports 503.
	saw503 := false
	for deadline := time.Now().Add(400 * time.Millisecond); time.Now().Before(deadline) && !saw503; {
		resp, err := client.Get("http://" + h.addr + "/health/ready")
		if err == nil {
			saw503 = resp.StatusCode == http.StatusServiceUnavailable
			resp.Body.Close()
		}
	}
	if !saw503 {
		t.Error("readiness never answered 503 after shutdown started")
	}

	// Then the listener closes: new connections are refused while the request is in flight.
	refused := false
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", h.addr, 200*time.Millisecond)
		if err != nil {
			refused = true
			break
		}
		conn.Close()
	}
	if !refused {
		t.Fatal("new connections still accepted after shutdown started")
	}
	select {
	case err := <-h.result:
		t.Fatalf("serve returned %v before the in-flight request finished", err)
	default:
	}

	close(h.store.release)
	r := <-inflight
	if r.err != nil || r.code != http.StatusOK || r.cache != "miss" {
		t.Fatalf("in-flight request: %+v, want 200 miss", r)
	}
	if err := <-h.result; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !h.closed.Load() || !h.closedAt.Load() {
		t.Error("clients must be closed after in-flight requests finish")
	}
	logs := h.logs.String()
	for _, want := range []string{`"msg":"shutdown started"`, `"cause":"test: SIGTERM"`, `"msg":"server stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

func TestGracefulShutdownGivesUpAfterTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.ShutdownDelay, cfg.ShutdownTimeout = 0, 300*time.Millisecond
	h := start(t, cfg)
	go func() {
		resp, err := freshClient().Get("http://" + h.addr + "/api/v1/users")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-h.store.entered

	began := time.Now()
	h.cancel(errors.New("test: SIGTERM"))
	err := <-h.result
	if err == nil || !strings.Contains(err.Error(), "did not finish in 300ms") {
		t.Fatalf("serve = %v, want a timeout error", err)
	}
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Errorf("shutdown took %s with a 300ms timeout", elapsed)
	}
	if !h.closed.Load() {
		t.Error("clients not closed after a timed-out shutdown")
	}
	if strings.Contains(h.logs.String(), `"msg":"server stopped"`) {
		t.Error(`"server stopped" logged although shutdown timed out`)
	}
}

func TestVersionIsJSONEncoded(t *testing.T) {
	old := Version
	Version = `1.0.0"evil`
	t.Cleanup(func() { Version = old })

	rec := httptest.NewRecorder()
	versionHandler(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, rec.Body.String())
	}
	if got["version"] != `1.0.0"evil` || got["commit"] != Commit || got["go"] == "" {
		t.Errorf("version body = %v", got)
	}
}
