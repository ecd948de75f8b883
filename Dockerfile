# The pipeline binary (train, promote, serve, predict) as a small image.
# Build: docker build -t creditrisk/pipeline:local .
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.Version=${VERSION}" -o /out/pipeline ./pipeline

# Alpine rather than distroless: the compose health check needs wget.
FROM alpine:3.22.2
RUN apk add --no-cache ca-certificates tzdata \
	&& adduser -D -H -u 10001 pipeline
COPY --from=build /out/pipeline /usr/local/bin/pipeline
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/pipeline"]
CMD ["serve", "--addr", ":8000"]
