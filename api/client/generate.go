// Package client is a Go client for orderapi, generated from
// api/openapi.yaml by oapi-codegen. The server's tests drive the order life
// cycle through it, which keeps the spec, the server and this client in
// step.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
