# The pipeline binary (train, promote, serve, predict) as an image FROM
# scratch: one static binary, CA certificates, a passwd entry for the
# numeric non-root user 10001 and an empty /tmp. No shell, so the health
# check is the binary's own `pipeline healthcheck`.
# Build: docker build -t creditrisk/pipeline:local .
#
# ops/image_test.go builds the runtime stage with podman, putting a folder
# laid out like this build stage's /out (made by deploy/image/rootfs from a
# binary built on the host) in place of the build stage, and runs serve in it.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.Version=${VERSION}" -o /out/pipeline ./pipeline \
	&& deploy/image/rootfs /out/pipeline /etc/ssl/certs/ca-certificates.crt /out/rootfs

FROM scratch
COPY --from=build /out/rootfs/ /
USER 10001:10001
WORKDIR /tmp
ENV TMPDIR=/tmp
EXPOSE 8000
# Docker runs it; Kubernetes ignores it and uses the chart's HTTP probes.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=10 \
	CMD ["/usr/local/bin/pipeline", "healthcheck", "--timeout", "4s"]
ENTRYPOINT ["/usr/local/bin/pipeline"]
CMD ["serve", "--addr", ":8000"]
