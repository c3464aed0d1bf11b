// Package apierr holds recmesh's business errors and the one table that maps
// them to gRPC codes, HTTP statuses and stable JSON error codes.
//
// A business error is the caller's fault or a fact about the data (bad input,
// an unknown item). It travels in a response and never trips a circuit
// breaker. Every other error is an infrastructure failure.
package apierr

import (
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Kind classifies a business error.
type Kind int

// The kinds of business error. Their order is not part of the API.
const (
	// KindInvalid means the request is malformed or out of range.
	KindInvalid Kind = iota + 1
	// KindNotFound means the named thing does not exist.
	KindNotFound
	// KindTooLarge means the request body or batch is over its limit.
	KindTooLarge
	// KindUnauthenticated means the caller did not prove who it is.
	KindUnauthenticated
	// KindRateLimited means the caller is over its rate limit.
	KindRateLimited
	// KindUnavailable means the request could not be served now and may be retried.
	KindUnavailable
	// KindForbidden means the caller proved who it is but may not do this.
	KindForbidden
	// KindConflict means the request clashes with the current state (a name
	// already taken, no free buckets left).
	KindConflict
)

// mapping is the one table from kinds to wire representations.
var mapping = map[Kind]struct {
	code   string
	grpc   codes.Code
	status int
}{
	KindInvalid:         {"invalid_argument", codes.InvalidArgument, http.StatusBadRequest},
	KindNotFound:        {"not_found", codes.NotFound, http.StatusNotFound},
	KindTooLarge:        {"too_large", codes.ResourceExhausted, http.StatusRequestEntityTooLarge},
	KindUnauthenticated: {"unauthenticated", codes.Unauthenticated, http.StatusUnauthorized},
	KindRateLimited:     {"rate_limited", codes.ResourceExhausted, http.StatusTooManyRequests},
	KindUnavailable:     {"unavailable", codes.Unavailable, http.StatusServiceUnavailable},
	KindForbidden:       {"permission_denied", codes.PermissionDenied, http.StatusForbidden},
	KindConflict:        {"conflict", codes.FailedPrecondition, http.StatusConflict},
}

// Error is a business error with a stable code and a human message.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Code() + ": " + e.Message }

// Code is the stable, machine-readable code of the error.
func (e *Error) Code() string { return mapping[e.Kind].code }

// HTTPStatus is the HTTP status the error maps to.
func (e *Error) HTTPStatus() int { return mapping[e.Kind].status }

// GRPCStatus lets status.FromError and grpc servers read the error's code.
func (e *Error) GRPCStatus() *status.Status {
	return status.New(mapping[e.Kind].grpc, e.Message)
}

// Invalid returns a KindInvalid error.
func Invalid(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a KindNotFound error.
func NotFound(format string, args ...any) error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, args...)}
}

// TooLarge returns a KindTooLarge error.
func TooLarge(format string, args ...any) error {
	return &Error{Kind: KindTooLarge, Message: fmt.Sprintf(format, args...)}
}

// Conflict returns a KindConflict error.
func Conflict(format string, args ...any) error {
	return &Error{Kind: KindConflict, Message: fmt.Sprintf(format, args...)}
}

// As returns the business error inside err, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// FromGRPC turns an error returned by a gRPC client call back into a business
// error when its code is one of the business codes. It returns ok=false for
// infrastructure failures (Unavailable, DeadlineExceeded, Internal, ...).
func FromGRPC(err error) (biz error, ok bool) {
	st, isStatus := status.FromError(err)
	if !isStatus {
		return nil, false
	}
	switch st.Code() {
	case codes.InvalidArgument:
		return &Error{Kind: KindInvalid, Message: st.Message()}, true
	case codes.NotFound:
		return &Error{Kind: KindNotFound, Message: st.Message()}, true
	case codes.ResourceExhausted:
		return &Error{Kind: KindTooLarge, Message: st.Message()}, true
	}
	return nil, false
}

// Infra returns err when it is an infrastructure failure and nil when it is
// a business error (or nil). go-kit endpoints return business errors inside
// their response (endpoint.Failer) and only Infra(err) as their error.
func Infra(err error) error {
	if _, ok := As(err); ok {
		return nil
	}
	return err
}
