# Multi-stage build: a static binary on a distroless base, run as non-root.

# The toolchain go.mod names; the image sets GOTOOLCHAIN=local, so the build
# uses this go and never fetches another.
FROM golang:1.27.3 AS build
WORKDIR /src
# Modules first, in their own layer, so code changes reuse the download.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/orderapi ./cmd/orderapi

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orderapi /orderapi
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/orderapi"]
CMD ["serve"]
