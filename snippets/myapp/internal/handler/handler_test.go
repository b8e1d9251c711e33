package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"myapp/internal/storage"
)

type fakeStore struct {
	users []storage.User
	err   error
	calls int
}

func (f *fakeStore) ListUsers(context.Context, int) ([]storage.User, error) {
	f.calls++
	return f.users, f.err
}

type fakeCache struct {
	mu      sync.Mutex
	data    map[string][]byte
	ttl     time.Duration
	failErr error
}

func (c *fakeCache) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failErr != nil {
		return nil, c.failErr
	}
	if b, ok := c.data[key]; ok {
		return b, nil
	}
	return nil, storage.ErrCacheMiss
}

func (c *fakeCache) Set(_ context.Context, key string, v []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failErr != nil {
		return c.failErr
	}
	if c.data == nil {
		c.data = map[string][]byte{}
	}
	c.data[key], c.ttl = v, ttl
	return nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func get(t *testing.T, h *Handler) (*httptest.ResponseRecorder, usersResponse) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.Users(rec, httptest.NewRequest(http.MethodGet, "/api/v1/users", nil))
	var body usersResponse
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body: %v", err)
		}
	}
	return rec, body
}

func TestUsersMissThenHit(t *testing.T) {
	store := &fakeStore{users: []storage.User{{ID: "1", Email: "alice@example.com", Name: "Alice"}}}
	cache := &fakeCache{}
	h := New(store, cache, 30*time.Second, quiet)

	rec, body := get(t, h)
	if rec.Code != 200 || rec.Header().Get("X-Cache") != "miss" || len(body.Users) != 1 || body.Users[0].Name != "Alice" {
		t.Fatalf("first = %d %s %+v", rec.Code, rec.Header().Get("X-Cache"), body)
	}
	if cache.ttl != 30*time.Second {
		t.Errorf("cached with ttl %s, want 30s", cache.ttl)
	}
	rec, body = get(t, h)
	if rec.Code != 200 || rec.Header().Get("X-Cache") != "hit" || len(body.Users) != 1 {
		t.Fatalf("second = %d %s %+v", rec.Code, rec.Header().Get("X-Cache"), body)
	}
	if store.calls != 1 {
		t.Errorf("store called %d times, want 1", store.calls)
	}
}

func TestUsersEmptyListIsArray(t *testing.T) {
	h := New(&fakeStore{}, &fakeCache{}, time.Second, quiet)
	rec, _ := get(t, h)
	if got := rec.Body.String(); got != "{\"users\":[]}\n" {
		t.Errorf("body = %q", got)
	}
}

func TestUsersCacheDownServesFromDatabase(t *testing.T) {
	store := &fakeStore{users: []storage.User{{ID: "1"}}}
	h := New(store, &fakeCache{failErr: errors.New("redis down")}, time.Second, quiet)
	for range 2 {
		rec, body := get(t, h)
		if rec.Code != 200 || rec.Header().Get("X-Cache") != "miss" || len(body.Users) != 1 {
			t.Fatalf("got %d %s", rec.Code, rec.Header().Get("X-Cache"))
		}
	}
	if store.calls != 2 {
		t.Errorf("store calls = %d, want 2", store.calls)
	}
}

func TestUsersDatabaseErrorIs500WithoutDetails(t *testing.T) {
	h := New(&fakeStore{err: errors.New("password authentication failed")}, &fakeCache{}, time.Second, quiet)
	rec, _ := get(t, h)
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != "{\"error\":\"internal error\"}\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
}
