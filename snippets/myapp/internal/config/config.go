// Package config reads the service configuration from environment variables.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the validated service configuration.
type Config struct {
	Env         string
	LogLevel    slog.Level
	Port        int
	MetricsPort int

	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	ShutdownDelay   time.Duration
	ShutdownTimeout time.Duration

	DBHost     string
	DBPort     int
	DBUser     string
	DBPassword string
	DBName     string
	DBSSLMode  string
	DBMaxConns int

	RedisAddr     string
	RedisPassword string // empty: no AUTH (a Redis without requirepass)
	CacheTTL      time.Duration
}

// DatabaseURL is the PostgreSQL connection string; credentials are escaped.
func (c Config) DatabaseURL() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.DBUser, c.DBPassword),
		Host:     net.JoinHostPort(c.DBHost, strconv.Itoa(c.DBPort)),
		Path:     "/" + c.DBName,
		RawQuery: url.Values{"sslmode": {c.DBSSLMode}}.Encode(),
	}
	return u.String()
}

// HealthURL is the liveness URL that `server -health` probes.
func HealthURL(getenv func(string) string) (string, error) {
	var p parser
	port := p.port(getenv, "PORT", "8080")
	if err := errors.Join(p.errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("http://127.0.0.1:%d/health/live", port), nil
}

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// --8<-- [start:load]

// Load reads every setting, applies defaults and reports all invalid values at once.
// getenv is os.Getenv in production and a map lookup in tests.
func Load(getenv func(string) string) (Config, error) {
	var p parser
	cfg := Config{
		Env:             p.str(getenv, "ENV", "production"),
		LogLevel:        p.level(getenv, "LOG_LEVEL", "info"),
		Port:            p.port(getenv, "PORT", "8080"),
		MetricsPort:     p.port(getenv, "METRICS_PORT", "9090"),
		ReadTimeout:     p.duration(getenv, "READ_TIMEOUT", "5s", 1),
		WriteTimeout:    p.duration(getenv, "WRITE_TIMEOUT", "10s", 1),
		ShutdownDelay:   p.duration(getenv, "SHUTDOWN_DELAY", "0s", 0),
		ShutdownTimeout: p.duration(getenv, "SHUTDOWN_TIMEOUT", "8s", 1),
		DBHost:          p.str(getenv, "DB_HOST", "localhost"),
		DBPort:          p.port(getenv, "DB_PORT", "5432"),
		DBUser:          p.str(getenv, "DB_USER", "myapp"),
		DBPassword:      p.required(getenv, "DB_PASSWORD"),
		DBName:          p.str(getenv, "DB_NAME", "myapp"),
		DBSSLMode:       p.oneOf(getenv, "DB_SSLMODE", "disable", sslModes),
		DBMaxConns:      p.positive(getenv, "DB_MAX_CONNS", "25"),
		RedisAddr:       p.hostPort(getenv, "REDIS_ADDR", "localhost:6379"),
		RedisPassword:   getenv("REDIS_PASSWORD"), // taken as is: spaces may belong to it
		CacheTTL:        p.duration(getenv, "CACHE_TTL", "30s", 1),
	}
	if cfg.Port != 0 && cfg.Port == cfg.MetricsPort {
		p.fail("PORT and METRICS_PORT must differ (both %d)", cfg.Port)
	}
	if cfg.ShutdownTimeout > 0 && cfg.ShutdownDelay >= cfg.ShutdownTimeout {
		p.fail("SHUTDOWN_DELAY (%s) must be shorter than SHUTDOWN_TIMEOUT (%s), which covers it",
			cfg.ShutdownDelay, cfg.ShutdownTimeout)
	}
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

// --8<-- [end:load]

// parser collects every error so one start-up attempt reports them all.
type parser struct{ errs []error }

func (p *parser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *parser) str(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}

func (p *parser) required(getenv func(string) string, key string) string {
	v := getenv(key)
	if v == "" {
		p.fail("%s is required", key)
	}
	return v
}

func (p *parser) port(getenv func(string) string, key, def string) int {
	raw := p.str(getenv, key, def)
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 65535 {
		p.fail("%s=%q: want a port number 1-65535", key, raw)
		return 0
	}
	return n
}

func (p *parser) positive(getenv func(string) string, key, def string) int {
	raw := p.str(getenv, key, def)
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		p.fail("%s=%q: want a positive integer", key, raw)
		return 0
	}
	return n
}

func (p *parser) duration(getenv func(string) string, key, def string, atLeast time.Duration) time.Duration {
	raw := p.str(getenv, key, def)
	d, err := time.ParseDuration(raw)
	if err != nil || d < atLeast {
		kind := "non-negative"
		if atLeast > 0 {
			kind = "positive"
		}
		p.fail("%s=%q: want a %s duration such as 500ms or 8s", key, raw, kind)
		return 0
	}
	return d
}

func (p *parser) level(getenv func(string) string, key, def string) slog.Level {
	raw := p.str(getenv, key, def)
	var l slog.Level
	if err := l.UnmarshalText([]byte(raw)); err != nil {
		p.fail("%s=%q: want debug, info, warn or error", key, raw)
		return slog.LevelInfo
	}
	return l
}

func (p *parser) oneOf(getenv func(string) string, key, def string, allowed []string) string {
	raw := p.str(getenv, key, def)
	for _, a := range allowed {
		if raw == a {
			return raw
		}
	}
	p.fail("%s=%q: want one of %s", key, raw, strings.Join(allowed, ", "))
	return ""
}

func (p *parser) hostPort(getenv func(string) string, key, def string) string {
	raw := p.str(getenv, key, def)
	host, port, err := net.SplitHostPort(raw)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		p.fail("%s=%q: want host:port", key, raw)
		return ""
	}
	return raw
}
