// Command kitprobe reports what a base image offers a Go binary, as JSON.
package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/user"
	"time"
)

func main() {
	out := map[string]any{"uid": os.Getuid(), "gid": os.Getgid()}
	out["cwd"], _ = os.Getwd()
	out["ssl_cert_file"] = os.Getenv("SSL_CERT_FILE")
	out["certs"], out["cert_error"] = countCerts(os.Getenv("SSL_CERT_FILE"))
	if u, err := user.Current(); err == nil {
		out["user"], out["home"] = u.Username, u.HomeDir
	}
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		out["tz"] = loc.String()
	}
	if fi, err := os.Stat("/tmp"); err == nil {
		out["tmp_mode"] = fi.Mode().String()
	}
	out["tmp_writable"] = os.WriteFile("/tmp/probe", []byte("x"), 0o600) == nil
	out["cgo"] = cgoMarker()
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func countCerts(path string) (int, string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err.Error()
	}
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return n, ""
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return n, err.Error()
		}
		n++
	}
}
