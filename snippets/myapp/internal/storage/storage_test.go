package storage

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// These tests need real servers; tests/service (pytest) starts PostgreSQL with
// scripts/init.sql applied and Redis, and sets the variables below.
func env(t *testing.T, key string) string {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		t.Skipf("%s not set (tests/service/test_go_service.py starts the servers and sets it)", key)
	}
	return v
}

func TestPostgresListsSeededUsers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := NewPostgres(ctx, env(t, "MYAPP_TEST_DATABASE_URL"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	users, err := db.ListUsers(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	emails := map[string]bool{}
	for _, u := range users {
		emails[u.Email] = true
		if len(u.ID) != 36 || u.CreatedAt.IsZero() {
			t.Errorf("user %+v: want a UUID id and created_at", u)
		}
	}
	if !emails["alice@example.com"] || !emails["bob@example.com"] {
		t.Errorf("seed users missing: %v", users)
	}
	if limited, _ := db.ListUsers(ctx, 1); len(limited) != 1 {
		t.Errorf("limit 1 returned %d users", len(limited))
	}
}

func TestPostgresPingFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	db, err := NewPostgres(ctx, "postgres://u:p@127.0.0.1:1/db?sslmode=disable", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err == nil {
		t.Error("ping to a closed port succeeded")
	}
}

func TestRedisCacheRoundTrip(t *testing.T) {
	ctx := context.Background()
	r := NewRedis(env(t, "MYAPP_TEST_REDIS_ADDR"), "")
	defer r.Close()
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	key := "myapp:test:" + t.Name()
	if _, err := r.Get(ctx, key); !errors.Is(err, ErrCacheMiss) {
		t.Fatalf("Get of absent key = %v, want ErrCacheMiss", err)
	}
	if err := r.Set(ctx, key, []byte("v"), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if b, err := r.Get(ctx, key); err != nil || string(b) != "v" {
		t.Fatalf("Get = %q, %v", b, err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := r.Get(ctx, key); !errors.Is(err, ErrCacheMiss) {
		t.Errorf("key outlived its TTL: %v", err)
	}
}
