# Container image of a notary node: notaryd (and notaryctl, for governance
# from a ministry's container), static, run as a non-root user, with the
# node's home as a volume. docs/packaging.md says how to build and run it;
# scripts/packaging/compose.yaml runs a 4-validator network.
#
#   docker build -t gobtechlab/notary:dev \
#     --build-arg RELEASE=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse HEAD) .

# The Go release of go.mod's go directive (a test keeps them equal).
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG RELEASE=devel
ARG COMMIT=unknown
# CGO_ENABLED=0: a static binary, which runs on an image without a libc.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-X github.com/gobtechlab/notary/app/version.Release=${RELEASE} -X github.com/gobtechlab/notary/app/version.Commit=${COMMIT}" \
      -o /out/bin/ ./cmd/notaryd ./cmd/notaryctl \
 && mkdir -p /out/home

# distroless static: CA certificates, time zones and a nonroot user
# (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot AS node
COPY --from=build /out/bin/ /usr/local/bin/
# The home belongs to the node's user, so that a named volume created from
# it is writable; a bind-mounted home must be owned by the user the
# container runs as (docs/packaging.md).
COPY --from=build --chown=65532:65532 /out/home /var/lib/notary
ENV NOTARY_HOME=/var/lib/notary
VOLUME ["/var/lib/notary"]
# p2p and the gateway; metrics (26703) and the public endpoint (26704)
# listen on 127.0.0.1 in the homes notaryd testnet writes, until the
# operator sets their listen addresses.
EXPOSE 26700/tcp 26702/tcp 26703/tcp 26704/tcp
USER 65532:65532
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s \
  CMD ["/usr/local/bin/notaryd", "status"]
ENTRYPOINT ["/usr/local/bin/notaryd"]
CMD ["start"]
