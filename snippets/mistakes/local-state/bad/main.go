// Command bad keeps its data in the container's filesystem (the mistake).
package main

import (
	"encoding/json"
	"log"
	"os"
)

type user struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func main() {
	data, err := json.Marshal([]user{{ID: 1, Name: "Alice"}})
	if err != nil {
		log.Fatal(err)
	}
	// --8<-- [start:bad]
	// ❌ Mistake: data in a local file
	err = os.WriteFile("/app/data/users.json", data, 0644)
	// Lost as soon as the container is replaced!
	// --8<-- [end:bad]
	if err != nil {
		log.Fatal(err)
	}
}
