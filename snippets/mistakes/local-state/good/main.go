// Command good keeps its data in PostgreSQL and Redis, outside the container.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"log"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/redis/go-redis/v9"
)

type user struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer rdb.Close()

	u := user{ID: 1, Name: "Alice"}
	data, err := json.Marshal(u)
	if err != nil {
		log.Fatal(err)
	}
	// --8<-- [start:good]
	// ✅ Correct: external storage
	if _, err := db.ExecContext(ctx, "INSERT INTO users (id, name) VALUES ($1, $2)", u.ID, u.Name); err != nil {
		log.Fatal(err)
	}
	if err := rdb.Set(ctx, "user:1", data, 0).Err(); err != nil {
		log.Fatal(err)
	}
	// --8<-- [end:good]
}
