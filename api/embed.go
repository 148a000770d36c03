// Package api holds orderapi's HTTP contract, api/openapi.yaml, embedded
// so that the binary serves exactly the file the tests check it against.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.0.3 description of the REST API, as YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte
