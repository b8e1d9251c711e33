package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{"DB_PASSWORD": "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.MetricsPort != 9090 {
		t.Errorf("ports = %d/%d, want 8080/9090", cfg.Port, cfg.MetricsPort)
	}
	if cfg.ShutdownTimeout != 8*time.Second || cfg.ShutdownTimeout >= 10*time.Second {
		t.Errorf("ShutdownTimeout = %s, want 8s (below docker stop's 10s)", cfg.ShutdownTimeout)
	}
	if cfg.LogLevel != slog.LevelInfo || cfg.RedisAddr != "localhost:6379" || cfg.DBSSLMode != "disable" {
		t.Errorf("unexpected defaults: %+v", cfg)
	}
}

func TestLoadOverrides(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"DB_PASSWORD": "p", "PORT": "8081", "METRICS_PORT": "9091", "LOG_LEVEL": "debug",
		"SHUTDOWN_TIMEOUT": "5s", "SHUTDOWN_DELAY": "1s", "DB_HOST": "postgres",
		"REDIS_ADDR": "redis:6379", "DB_SSLMODE": "require", "CACHE_TTL": "1m",
		"REDIS_PASSWORD": " two words ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8081 || cfg.MetricsPort != 9091 || cfg.LogLevel != slog.LevelDebug ||
		cfg.ShutdownTimeout != 5*time.Second || cfg.ShutdownDelay != time.Second ||
		cfg.DBHost != "postgres" || cfg.RedisAddr != "redis:6379" || cfg.CacheTTL != time.Minute ||
		cfg.RedisPassword != " two words " {
		t.Errorf("overrides not applied: %+v", cfg)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"missing password":  {map[string]string{}, "DB_PASSWORD is required"},
		"port not a number": {map[string]string{"DB_PASSWORD": "p", "PORT": "http"}, `PORT="http"`},
		"port out of range": {map[string]string{"DB_PASSWORD": "p", "METRICS_PORT": "70000"}, `METRICS_PORT="70000"`},
		"same ports":        {map[string]string{"DB_PASSWORD": "p", "PORT": "9090"}, "must differ"},
		"bad level":         {map[string]string{"DB_PASSWORD": "p", "LOG_LEVEL": "loud"}, `LOG_LEVEL="loud"`},
		"bad duration":      {map[string]string{"DB_PASSWORD": "p", "SHUTDOWN_TIMEOUT": "8"}, `SHUTDOWN_TIMEOUT="8"`},
		"zero timeout":      {map[string]string{"DB_PASSWORD": "p", "SHUTDOWN_TIMEOUT": "0s"}, "positive duration"},
		"delay too long":    {map[string]string{"DB_PASSWORD": "p", "SHUTDOWN_DELAY": "9s"}, "SHUTDOWN_DELAY"},
		"bad sslmode":       {map[string]string{"DB_PASSWORD": "p", "DB_SSLMODE": "on"}, `DB_SSLMODE="on"`},
		"bad redis addr":    {map[string]string{"DB_PASSWORD": "p", "REDIS_ADDR": "redis"}, `REDIS_ADDR="redis"`},
		"bad max conns":     {map[string]string{"DB_PASSWORD": "p", "DB_MAX_CONNS": "0"}, "DB_MAX_CONNS"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestLoadReportsAllErrorsAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{"PORT": "x", "LOG_LEVEL": "loud"}))
	for _, want := range []string{"PORT", "LOG_LEVEL", "DB_PASSWORD"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %s", err, want)
		}
	}
}

func TestDatabaseURLEscapesCredentials(t *testing.T) {
	cfg, err := Load(env(map[string]string{"DB_PASSWORD": "p@ss:w/rd", "DB_HOST": "db"}))
	if err != nil {
		t.Fatal(err)
	}
	want := "postgres://myapp:p%40ss%3Aw%2Frd@db:5432/myapp?sslmode=disable"
	if got := cfg.DatabaseURL(); got != want {
		t.Errorf("DatabaseURL() = %s, want %s", got, want)
	}
}

func TestHealthURLUsesPort(t *testing.T) {
	got, err := HealthURL(env(map[string]string{"PORT": "8181"}))
	if err != nil || got != "http://127.0.0.1:8181/health/live" {
		t.Errorf("HealthURL = %q, %v", got, err)
	}
	if _, err := HealthURL(env(map[string]string{"PORT": "nope"})); err == nil {
		t.Error("HealthURL accepted PORT=nope")
	}
	if got, _ := HealthURL(env(nil)); got != "http://127.0.0.1:8080/health/live" {
		t.Errorf("default HealthURL = %q", got)
	}
}
