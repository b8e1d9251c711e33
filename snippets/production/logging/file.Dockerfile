# Runs the file-logging example (context: snippets/production).
FROM golang:1.26-trixie AS builder
WORKDIR /src
COPY go.mod ./
COPY go/ go/
RUN CGO_ENABLED=0 go build -trimpath -o /app/example ./go/logging/file

FROM debian:trixie-slim
# Let the non-root user write the log file (in a writable container).
RUN touch /var/log/app.log && chown 65534:65534 /var/log/app.log
COPY --from=builder /app/example /example
USER 65534:65534
ENTRYPOINT ["/example"]
