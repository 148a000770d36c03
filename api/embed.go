// Package api holds orderapi's contracts, embedded: the HTTP API's,
// api/openapi.yaml, so that the binary serves exactly the file the tests
// check it against, and the broker messages', api/asyncapi.yaml.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.0.3 description of the REST API, as YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte

// AsyncAPI is the AsyncAPI 3.0 description of the messages orderapi
// publishes to NATS JetStream, as YAML; api/asyncapitest holds messages
// to it.
//
//go:embed asyncapi.yaml
var AsyncAPI []byte
