# Build a static binary, then run it as an unprivileged user with the
# state on a volume.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY standins ./standins
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/treatywatch ./cmd/treatywatch \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/treatywatch /usr/local/bin/treatywatch
# The volume's mount point belongs to the nonroot user (65532), so a new
# named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV TREATYWATCH_DATA_DIR=/data
VOLUME ["/data"]
USER nonroot:nonroot
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/treatywatch"]
CMD ["run", "--listen", ":9464"]
