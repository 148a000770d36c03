package httpapi

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// pathID reads a UUID path parameter. A malformed one is a 400: the client
// built a URL the API never hands out.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := parseUUID(r.PathValue(name))
	if err != nil {
		return uuid.Nil, problem.BadRequest(problem.CodeBadPathParam, name+" must be a UUID in canonical lower-case form")
	}
	return id, nil
}

// commandTarget gathers what every command on an existing order needs
// besides its body: the order, the version the client expects (If-Match),
// the request's metadata, and its idempotency key with the request's
// fingerprint by fp (which reads the body and puts it back; see
// idempotencyOf).
func commandTarget(w http.ResponseWriter, r *http.Request, fp Fingerprinter) (app.Target, error) {
	id, err := pathID(r, "order_id")
	if err != nil {
		return app.Target{}, err
	}
	version, err := expectedVersion(r)
	if err != nil {
		return app.Target{}, err
	}
	meta, err := metadataFrom(r)
	if err != nil {
		return app.Target{}, err
	}
	idem, err := idempotencyOf(w, r, fp, version)
	if err != nil {
		return app.Target{}, err
	}
	return app.Target{OrderID: id, ExpectedVersion: version, Metadata: meta, Idempotency: idem}, nil
}
