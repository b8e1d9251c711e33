package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// ErrCacheMiss means the key is not in the cache.
var ErrCacheMiss = errors.New("cache miss")

// Redis is a byte cache with a TTL per key.
type Redis struct {
	client *redis.Client
}

// NewRedis creates a client; like the pool, it dials on first use.
// An empty password sends no AUTH.
func NewRedis(addr, password string) *Redis {
	return &Redis{client: redis.NewClient(&redis.Options{
		Addr:         addr,
		Password:     password,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
		// A cache must fail fast: the caller falls back to PostgreSQL.
		DialerRetries: 1,
		MaxRetries:    1,
		// Plain Redis OSS: no cluster maintenance notifications to negotiate.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})}
}

// SetRedisLogger sends go-redis's internal messages (plain text on stderr by
// default) to slog, so every log line stays JSON. It is process-wide.
func SetRedisLogger(l *slog.Logger) { redis.SetLogger(redisLogger{l}) }

type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

// Ping is the readiness check.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close closes all connections.
func (r *Redis) Close() error { return r.client.Close() }

// Get returns the cached value or ErrCacheMiss.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := r.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrCacheMiss
	}
	return b, err
}

// Set stores value under key for ttl.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return r.client.Set(ctx, key, value, ttl).Err()
}
