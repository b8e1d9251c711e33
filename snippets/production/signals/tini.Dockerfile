# tini as PID 1: forwards signals and reaps zombie child processes.
FROM golang:1.26-trixie AS builder
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /app/server ./cmd/server

# --8<-- [start:runtime]
FROM alpine:3.23

RUN apk add --no-cache tini

COPY --from=builder /app/server /server
USER 65534:65534

# tini as the init system: forwards signals, reaps zombies
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["/server"]
# --8<-- [end:runtime]
