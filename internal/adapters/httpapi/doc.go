// Package httpapi is orderapi's REST/JSON interface: routing, the request
// and response shapes, and the handlers that turn HTTP into calls on the
// app.Service and back. routes.go says who may call each route.
// api/openapi.yaml is its contract; the tests check every response
// against it.
//
// Its subpackages hold one concern each: jsonbody (strict request
// decoding), problem (RFC 9457 problem details and the one mapping from
// errors to statuses), access (authentication, roles, rates, browser
// headers) and livefeed (the server-sent events stream). It holds no
// business rules and knows nothing of the database.
package httpapi
