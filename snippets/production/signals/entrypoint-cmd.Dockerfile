# ENTRYPOINT is the command, CMD its default arguments (context: snippets/production).
FROM golang:1.26-trixie AS builder
WORKDIR /src
COPY go.mod ./
COPY go/ go/
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /app/server ./go/portflag

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=builder /app/server /server

# --8<-- [start:entrypoint-cmd]
# ENTRYPOINT: the main command (not overridden without --entrypoint)
# CMD: default arguments (overridden by docker run arguments)

ENTRYPOINT ["/server"]
CMD ["--port=8080"]

# docker run myapp              -> /server --port=8080
# docker run myapp --port=9090  -> /server --port=9090
# --8<-- [end:entrypoint-cmd]
