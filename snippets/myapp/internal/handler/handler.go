// Package handler serves the business endpoints.
package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"myapp/internal/storage"
)

// UserStore is the source of truth for users (PostgreSQL in production).
type UserStore interface {
	ListUsers(ctx context.Context, limit int) ([]storage.User, error)
}

// Cache stores encoded responses (Redis in production).
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

const (
	usersKey   = "myapp:users:v1"
	usersLimit = 100
)

// Handler holds the dependencies of the API endpoints.
type Handler struct {
	store  UserStore
	cache  Cache
	ttl    time.Duration
	logger *slog.Logger
}

// New returns a Handler; responses are cached for ttl.
func New(store UserStore, cache Cache, ttl time.Duration, logger *slog.Logger) *Handler {
	return &Handler{store: store, cache: cache, ttl: ttl, logger: logger}
}

type usersResponse struct {
	Users []storage.User `json:"users"`
}

// Users serves GET /api/v1/users: from Redis when cached (X-Cache: hit),
// otherwise from PostgreSQL (X-Cache: miss). A Redis outage degrades to the database.
func (h *Handler) Users(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := h.cache.Get(ctx, usersKey)
	if err == nil {
		writeBody(w, http.StatusOK, "hit", body)
		return
	}
	if !errors.Is(err, storage.ErrCacheMiss) {
		h.logger.WarnContext(ctx, "cache read failed", "error", err)
	}

	users, err := h.store.ListUsers(ctx, usersLimit)
	if err != nil {
		h.logger.ErrorContext(ctx, "list users failed", "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if users == nil {
		users = []storage.User{}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(usersResponse{Users: users}); err != nil {
		h.logger.ErrorContext(ctx, "encode users failed", "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if err := h.cache.Set(ctx, usersKey, buf.Bytes(), h.ttl); err != nil {
		h.logger.WarnContext(ctx, "cache write failed", "error", err)
	}
	writeBody(w, http.StatusOK, "miss", buf.Bytes())
}

func writeBody(w http.ResponseWriter, code int, cache string, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Cache", cache)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
