// Command server is the myapp HTTP service: API on PORT, Prometheus metrics on METRICS_PORT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"myapp/internal/config"
	"myapp/internal/handler"
	"myapp/internal/health"
	"myapp/internal/metrics"
	"myapp/internal/middleware"
	"myapp/internal/storage"
)

// --8<-- [start:version-vars]

// Set at build time:
//
//	go build -ldflags "-X main.Version=1.0.0 -X main.Commit=abc1234 -X main.BuildTime=2026-01-01T00:00:00Z"
var (
	Version   = "dev"
	Commit    = "unknown"
	BuildTime = "unknown"
)

// versionHandler serves GET /version; encoding/json escapes whatever the build injected.
func versionHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"version":    Version,
		"commit":     Commit,
		"build_time": BuildTime,
		"go":         runtime.Version(),
	})
}

// --8<-- [end:version-vars]

// readinessTimeout bounds all dependency checks; it is below the probe's timeoutSeconds (3).
const readinessTimeout = 2 * time.Second

func main() {
	// --8<-- [start:health-flag]
	// Health check mode for Docker HEALTHCHECK.
	// `server -health` is the HEALTHCHECK of an image without shell or curl:
	// it probes this container's own PORT and exits 0 (healthy) or 1.
	healthCheck := flag.Bool("health", false, "probe /health/live on $PORT, exit 0 if healthy")
	flag.Parse()
	if *healthCheck {
		url, err := config.HealthURL(os.Getenv)
		if err == nil {
			err = health.Check(context.Background(), url, 3*time.Second)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// --8<-- [end:health-flag]

	// Load the configuration
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		newLogger(slog.LevelInfo).Error("invalid configuration", "error", err.Error())
		os.Exit(2)
	}
	// Set up the logger
	logger := newLogger(cfg.LogLevel)
	slog.SetDefault(logger)

	if err := run(context.Background(), cfg, logger); err != nil {
		logger.Error("server failed", "error", err.Error())
		os.Exit(1)
	}
}

// --8<-- [start:logger]

// newLogger writes one JSON object per line to stdout; the container runtime
// collects stdout, so the service never manages log files.
func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// --8<-- [end:logger]

// run connects the dependencies, serves until SIGTERM/SIGINT and shuts down gracefully.
func run(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	// Go 1.25+ derives GOMAXPROCS from the cgroup CPU limit; GOMEMLIMIT is read by the runtime.
	logger.Info("starting",
		"version", Version, "commit", Commit, "build_time", BuildTime,
		"go", runtime.Version(), "env", cfg.Env,
		"gomaxprocs", runtime.GOMAXPROCS(0), "gomemlimit", debug.SetMemoryLimit(-1))

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	db, err := storage.NewPostgres(ctx, cfg.DatabaseURL(), cfg.DBMaxConns)
	if err != nil {
		return err
	}
	storage.SetRedisLogger(logger)
	cache := storage.NewRedis(cfg.RedisAddr, cfg.RedisPassword)
	closeClients := func() {
		db.Close()
		if err := cache.Close(); err != nil {
			logger.Warn("redis close failed", "error", err.Error())
		}
	}

	// Create the handlers
	m := metrics.New(Version, Commit)
	probes := health.NewHandler(readinessTimeout, map[string]health.CheckFunc{
		"postgres": db.Ping,
		"redis":    cache.Ping,
	})
	api := handler.New(db, cache, cfg.CacheTTL, logger)

	// Set up the server
	srv := newServer(cfg.Port, routes(api, probes, logger, m), cfg)
	metricsMux := http.NewServeMux()
	metricsMux.Handle("GET /metrics", m.Handler())
	metricsSrv := newServer(cfg.MetricsPort, metricsMux, cfg)

	// Listen before serving so a busy port is a start-up error, not a log line.
	appLn, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		closeClients()
		return err
	}
	metricsLn, err := net.Listen("tcp", metricsSrv.Addr)
	if err != nil {
		_ = appLn.Close()
		closeClients()
		return err
	}
	return serve(ctx, stop, logger, cfg, probes, closeClients,
		listening{srv, appLn}, listening{metricsSrv, metricsLn})
}

// --8<-- [start:routes]

// routes maps the API and probe endpoints (method-aware patterns, Go 1.22+)
// and wraps them with request logging and metrics.
func routes(api *handler.Handler, probes *health.Handler, logger *slog.Logger, m *metrics.Metrics) http.Handler {
	// Set up the router
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health/live", probes.Live)
	mux.HandleFunc("GET /health/ready", probes.Ready)
	mux.HandleFunc("GET /version", versionHandler)
	mux.HandleFunc("GET /api/v1/users", api.Users)
	return middleware.Observe(mux, logger, m)
}

// --8<-- [end:routes]

// --8<-- [start:server]

// newServer sets every timeout: a server without them keeps slow or idle
// clients' connections (and goroutines) forever.
func newServer(port int, h http.Handler, cfg config.Config) *http.Server {
	return &http.Server{
		Addr:              ":" + strconv.Itoa(port),
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       120 * time.Second,
	}
}

// --8<-- [end:server]

type listening struct {
	srv *http.Server
	ln  net.Listener
}

// --8<-- [start:graceful-shutdown]

// serve runs the servers until ctx is cancelled by SIGTERM/SIGINT, then:
// readiness fails at once, new connections are refused, in-flight requests
// finish within SHUTDOWN_TIMEOUT (keep it below `docker stop`'s 10 s grace),
// and only then are the database and cache clients closed.
func serve(ctx context.Context, stopSignals context.CancelFunc, logger *slog.Logger,
	cfg config.Config, probes *health.Handler, closeClients func(), servers ...listening) error {
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.srv.Serve(s.ln) }()
		logger.Info("listening", "addr", s.ln.Addr().String())
	}

	select {
	case err := <-errc:
		closeClients()
		return fmt.Errorf("server stopped unexpectedly: %w", err)
	case <-ctx.Done():
	}
	stopSignals() // a second Ctrl+C kills the process immediately
	logger.Info("shutdown started", "cause", context.Cause(ctx).Error(),
		"timeout", cfg.ShutdownTimeout.String())

	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()

	probes.SetShuttingDown()
	select { // SHUTDOWN_DELAY: keep serving while endpoints, proxies and load balancers drop us
	case <-time.After(cfg.ShutdownDelay):
	case <-shutdownCtx.Done():
	}

	// Shutdown closes the listeners, then waits for active requests to finish.
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			if errs[i] = s.srv.Shutdown(shutdownCtx); errs[i] != nil {
				_ = s.srv.Close()
			}
		})
	}
	wg.Wait()
	closeClients()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("graceful shutdown did not finish in %s: %w", cfg.ShutdownTimeout, err)
	}
	logger.Info("server stopped")
	return nil
}

// --8<-- [end:graceful-shutdown]
