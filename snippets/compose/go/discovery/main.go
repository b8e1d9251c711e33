// Service discovery from Go: the hosts are compose service names taken from the environment.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config holds the addresses compose passes in.
type Config struct {
	DBHost     string
	DBPassword string
	RedisAddr  string
}

func main() {
	// --8<-- [start:discovery]
	// In the Go code
	cfg := &Config{
		DBHost:     os.Getenv("DB_HOST"),     // "postgres"
		DBPassword: os.Getenv("DB_PASSWORD"), // from .env, never in the code
		RedisAddr:  os.Getenv("REDIS_ADDR"),  // "redis:6379"
	}

	// Connecting to PostgreSQL
	dsn := fmt.Sprintf("host=%s port=5432 user=myapp password=%s dbname=myapp",
		cfg.DBHost, cfg.DBPassword) // host=postgres

	// Connecting to Redis
	rdb := redis.NewClient(&redis.Options{
		Addr: cfg.RedisAddr, // redis:6379
	})
	// --8<-- [end:discovery]
	defer rdb.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Fatalf("redis %s: %v", cfg.RedisAddr, err)
	}
	log.Printf("redis %s is reachable; postgres DSN has host=%s", cfg.RedisAddr, cfg.DBHost)
	_ = dsn
}
