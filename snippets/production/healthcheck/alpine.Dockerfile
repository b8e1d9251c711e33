# HEALTHCHECK in an Alpine image: busybox wget probes the liveness endpoint.
FROM golang:1.26-trixie AS builder
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /app/server ./cmd/server

# --8<-- [start:runtime]
FROM alpine:3.23

RUN apk add --no-cache ca-certificates

COPY --from=builder /app/server /server

RUN adduser -D -H -u 10001 appuser
USER 10001

# Use wget for the health check
# (busybox wget); `|| exit 1` and ${PORT:-8080} need the shell form
# hadolint ignore=DL3025
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD wget -qO- "http://localhost:${PORT:-8080}/health/live" || exit 1

ENTRYPOINT ["/server"]
# --8<-- [end:runtime]
