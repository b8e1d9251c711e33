// Command bad serves HTTP without handling SIGTERM (the mistake).
package main

import (
	"net/http"
	"time"
)

// work stands for a request that takes a while.
func work(w http.ResponseWriter, _ *http.Request) {
	time.Sleep(2 * time.Second)
	_, _ = w.Write([]byte("done\n"))
}

// --8<-- [start:bad]
// ❌ Mistake: no SIGTERM handling

func main() {
	http.HandleFunc("/work", work)
	http.ListenAndServe(":8080", nil) // on SIGTERM the process dies at once
}

// --8<-- [end:bad]
