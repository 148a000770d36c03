// Package httpapi is orderapi's REST/JSON interface: routing, strict request
// decoding, the order document and other response shapes, and the one
// mapping from errors to RFC 9457 problem details. api/openapi.yaml is its
// contract; the tests check every response against it.
//
// The package turns HTTP into calls on the app.Service and back; it holds no
// business rules and knows nothing of the database.
package httpapi
