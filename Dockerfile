# syntax=docker/dockerfile:1
# The Flowgate app (cmd/flowgate-app): a static Go binary on distroless, as a non-root user.
#
#   docker build -t flowgate:dev .
#   docker run -p 8080:8080 -v flowgate-data:/var/lib/flowgate flowgate:dev
#
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 .
#   The build stage runs on the builder's own platform and cross-compiles for
#   each target (TARGETOS/TARGETARCH, set by buildx): no emulation.
#
# A release image (docs/releases.md): after .ci/release.sh, which writes the
# release's linux binaries to dist/image/linux_<arch>/,
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg APP_FROM=prebuilt -t IMAGE:TAG .
# copies those binaries instead of compiling: the image runs the same bytes as
# the release archives (same checksum, same --version).

ARG GO_VERSION=1.26

# ---- build --------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src

# Pure Go (modernc.org/sqlite, goja, esbuild): no C toolchain, no libc at run time.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local

# Modules first, so source edits do not re-download them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG TARGETOS=linux TARGETARCH=amd64
# source: compile here; prebuilt: take the release's binary for the target.
ARG APP_FROM=source
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    mkdir -p /out/data \
 && case "$APP_FROM" in \
      source) GOOS=$TARGETOS GOARCH=$TARGETARCH \
        go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/flowgate-app ./cmd/flowgate-app ;; \
      prebuilt) cp "dist/image/${TARGETOS}_${TARGETARCH}/flowgate-app" /out/flowgate-app ;; \
      *) echo "APP_FROM must be source or prebuilt, not '$APP_FROM'" >&2; exit 1 ;; \
    esac

# ---- run ----------------------------------------------------------------------
# static-debian12: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/flowgate-app /usr/local/bin/flowgate-app
# The embedded default keeps its SQLite file and bundles here; mount a volume.
COPY --from=build --chown=65532:65532 /out/data /var/lib/flowgate

ENV FLOWGATE_ADDR=:8080 \
    FLOWGATE_DATA_DIR=/var/lib/flowgate

# 65532 is distroless's "nonroot"; numeric, so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080

# Probes are the platform's job (ALB/ECS: GET /readyz; Kubernetes: /healthz, /readyz):
# there is no shell or curl in this image for a HEALTHCHECK.
ENTRYPOINT ["/usr/local/bin/flowgate-app"]
