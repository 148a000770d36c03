package httpapi

import (
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Problem codes of the HTTP layer itself. Like the domain's codes they are
// part of the contract (api/openapi.yaml lists them all): add, never
// rename.
const (
	codeMalformedJSON    = "malformed_json"
	codeUnknownField     = "unknown_field"
	codeWrongType        = "invalid_json_type"
	codeBadPathParam     = "invalid_path_parameter"
	codeBadHeader        = "invalid_header"
	codeTooLarge         = "request_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeRouteNotFound    = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeInternal         = "internal_error"
	codeUnavailable      = "unavailable"
	codeNotReady         = "not_ready"
	codeDuplicateField   = "duplicate_field"
	codeRequestTimeout   = "request_timeout"
	codeTooManyStreams   = "too_many_streams"
	codeStreamsExhausted = "streams_exhausted"
	codeRateLimited      = "rate_limited"
)

// problemTitles are the human-readable summaries of each problem type;
// RFC 9457 wants a title that does not change from one occurrence to the
// next, so it comes from the code, never from the error's text.
var problemTitles = map[string]string{
	codeMalformedJSON:    "Malformed JSON body",
	codeUnknownField:     "Unknown field in body",
	codeWrongType:        "Wrong JSON type in body",
	codeBadPathParam:     "Invalid path parameter",
	codeBadHeader:        "Invalid request header",
	codeTooLarge:         "Request body too large",
	codeUnsupportedMedia: "Unsupported media type",
	codeRouteNotFound:    "No such resource",
	codeMethodNotAllowed: "Method not allowed",
	codeInternal:         "Internal error",
	codeUnavailable:      "Service unavailable",
	codeNotReady:         "Service not ready",
	codeDuplicateField:   "Duplicate field in body",
	codeRequestTimeout:   "Request body too slow",
	codeTooManyStreams:   "Too many live feeds for this client",
	codeStreamsExhausted: "No room for another live feed",
	codeRateLimited:      "Too many requests from this caller",

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
	app.ErrEventUnreadable.Code:    "Stored event unreadable",
	app.ErrReadOnly.Code:           "Database takes no writes",
	app.ErrOutcomeUnknown.Code:     "Outcome of the command unknown",

	app.ErrIdempotencyKeyReused.Code:     "Idempotency key used for another request",
	app.ErrIdempotencyKeyInProgress.Code: "Request with this idempotency key in progress",

	app.ErrUnauthenticated.Code: "Bearer token required",
	app.ErrInvalidToken.Code:    "Bearer token not valid",
	app.ErrAuthUnavailable.Code: "Token verification unavailable",
	app.ErrForbidden.Code:       "Not allowed for your roles",
}
