# Anti-pattern: shell-form CMD makes /bin/sh PID 1, and it does not forward SIGTERM.
FROM golang:1.26-trixie AS builder
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /app/server ./cmd/server

FROM debian:trixie-slim
WORKDIR /
COPY --from=builder /app/server /server
USER 65534:65534

# --8<-- [start:cmd]
# ❌ Shell form: runs through /bin/sh
CMD ./server
# PID 1: /bin/sh -c "./server"
# PID 2: ./server
# SIGTERM goes to the shell, not to the application!
# --8<-- [end:cmd]
