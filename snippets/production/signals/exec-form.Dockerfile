# Exec-form CMD: the server is PID 1 and receives SIGTERM itself.
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
# ✅ Exec form: runs the binary directly
CMD ["./server"]
# PID 1: ./server
# SIGTERM goes straight to the application
# --8<-- [end:cmd]
