// Package storage holds the PostgreSQL user store and the Redis cache.
package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// User is one row of the users table (scripts/init.sql).
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Postgres reads users through a pgx connection pool.
type Postgres struct {
	pool *pgxpool.Pool
}

// NewPostgres creates the pool; it connects lazily, so start-up does not wait for the database.
func NewPostgres(ctx context.Context, url string, maxConns int) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.MaxConns = int32(maxConns)
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return &Postgres{pool: pool}, nil
}

// Ping is the readiness check.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// Close waits for acquired connections to be released, then closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

// ListUsers returns up to limit users, oldest first.
func (p *Postgres) ListUsers(ctx context.Context, limit int) ([]User, error) {
	rows, err := p.pool.Query(ctx,
		`SELECT id::text, email, name, created_at FROM users ORDER BY created_at, email LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowToStructByPos[User])
	if err != nil {
		return nil, fmt.Errorf("scan users: %w", err)
	}
	return users, nil
}
