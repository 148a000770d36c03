package problem

import (
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Problem codes of the HTTP layer itself. Like the domain's codes they are
// part of the contract (api/openapi.yaml lists them all): add, never
// rename.
const (
	CodeMalformedJSON    = "malformed_json"
	CodeUnknownField     = "unknown_field"
	CodeWrongType        = "invalid_json_type"
	CodeBadPathParam     = "invalid_path_parameter"
	CodeMalformedQuery   = "malformed_query"
	CodeBadHeader        = "invalid_header"
	CodeTooLarge         = "request_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeContentCoding    = "unsupported_content_encoding"
	CodeRouteNotFound    = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeInternal         = "internal_error"
	CodeUnavailable      = "unavailable"
	CodeNotReady         = "not_ready"
	CodeDuplicateField   = "duplicate_field"
	CodeRequestTimeout   = "request_timeout"
	CodeTooManyStreams   = "too_many_streams"
	CodeStreamsExhausted = "streams_exhausted"
	CodeRateLimited      = "rate_limited"
)

// Titles are the human-readable summaries of each Problem type;
// RFC 9457 wants a title that does not change from one occurrence to the
// next, so it comes from the code, never from the error's text.
var Titles = map[string]string{
	CodeMalformedJSON:    "Malformed JSON body",
	CodeUnknownField:     "Unknown field in body",
	CodeWrongType:        "Wrong JSON type in body",
	CodeBadPathParam:     "Invalid path parameter",
	CodeMalformedQuery:   "Malformed query string",
	CodeBadHeader:        "Invalid request header",
	CodeTooLarge:         "Request body too large",
	CodeUnsupportedMedia: "Unsupported media type",
	CodeContentCoding:    "Unsupported content encoding",
	CodeRouteNotFound:    "No such resource",
	CodeMethodNotAllowed: "Method not allowed",
	CodeInternal:         "Internal error",
	CodeUnavailable:      "Service unavailable",
	CodeNotReady:         "Service not ready",
	CodeDuplicateField:   "Duplicate field in body",
	CodeRequestTimeout:   "Request body too slow",
	CodeTooManyStreams:   "Too many live feeds for this client",
	CodeStreamsExhausted: "No room for another live feed",
	CodeRateLimited:      "Too many requests from this caller",

	order.CodeValidation:       "Invalid fields",
	order.CodeNotFound:         "Order not found",
	order.CodeNotDraft:         "Order is not a draft",
	order.CodeNotPlaced:        "Order is not placed",
	order.CodeNotShipped:       "Order is not shipped",
	order.CodeAlreadyCancelled: "Order is already cancelled",
	order.CodeNotCancellable:   "Order can no longer be cancelled",
	order.CodeDuplicateProduct: "Product already in order",
	order.CodeItemNotInOrder:   "Product not in order",
	order.CodeEmpty:            "Order has no items",
	order.CodeTooManyItems:     "Too many items",
	order.CodeTotalOutOfRange:  "Order total out of range",
	order.CodeHistoryFull:      "Order history full",

	app.ErrPreconditionFailed.Code: "Precondition failed",
	app.ErrRetriesExhausted.Code:   "Concurrent change",
	app.ErrExists.Code:             "Order already exists",
	app.ErrProjectionLagging.Code:  "Projection not caught up",
	app.ErrUnknownPosition.Code:    "No event at this position",
	app.ErrEventUnreadable.Code:    "Stored event unreadable",
	app.ErrReadOnly.Code:           "Database takes no writes",
	app.ErrOutcomeUnknown.Code:     "Outcome of the command unknown",

	app.ErrPersonalDataNotSealed.Code: "Personal data stored in clear: it cannot be erased by destroying keys",

	app.ErrIdempotencyKeyReused.Code:     "Idempotency key used for another request",
	app.ErrIdempotencyKeyInProgress.Code: "Request with this idempotency key in progress",

	app.ErrUnauthenticated.Code: "Bearer token required",
	app.ErrInvalidToken.Code:    "Bearer token not valid",
	app.ErrAuthUnavailable.Code: "Token verification unavailable",
	app.ErrForbidden.Code:       "Not allowed for your roles",
}
