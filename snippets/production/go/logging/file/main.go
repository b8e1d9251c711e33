// Wrong: logs go to a file inside the container; `docker logs` shows nothing.
package main

import (
	"fmt"
	"log/slog"
	"os"
)

func main() {
	// --8<-- [start:file]
	file, err := os.OpenFile("/var/log/app.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0666)
	logger := slog.New(slog.NewJSONHandler(file, nil))
	// --8<-- [end:file]
	if err != nil { // on a read-only root filesystem the app cannot even start
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logger.Info("request handled", "method", "GET", "path", "/users")
}
