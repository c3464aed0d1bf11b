// Package apierr holds recmesh's business errors and the one table that maps
// them to gRPC codes, HTTP statuses and stable JSON error codes.
//
// A business error is the caller's fault or a fact about the data (bad input,
// an unknown item). It travels in a response and never trips a circuit
// breaker. Every other error is an infrastructure failure.
package apierr

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
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

// mapping is the one table from kinds to wire representations, read in
// both directions: Error.GRPCStatus and HTTPStatus encode with it, FromGRPC
// decodes with it. business says whether the kind is the caller's fault or a
// fact of the data (it travels in a response and never trips a breaker) or
// an infrastructure failure (it counts against the breaker).
var mapping = map[Kind]struct {
	code     string
	grpc     codes.Code
	status   int
	business bool
}{
	KindInvalid:         {"invalid_argument", codes.InvalidArgument, http.StatusBadRequest, true},
	KindNotFound:        {"not_found", codes.NotFound, http.StatusNotFound, true},
	KindTooLarge:        {"too_large", codes.ResourceExhausted, http.StatusRequestEntityTooLarge, true},
	KindUnauthenticated: {"unauthenticated", codes.Unauthenticated, http.StatusUnauthorized, true},
	KindRateLimited:     {"rate_limited", codes.ResourceExhausted, http.StatusTooManyRequests, true},
	KindUnavailable:     {"unavailable", codes.Unavailable, http.StatusServiceUnavailable, false},
	KindForbidden:       {"permission_denied", codes.PermissionDenied, http.StatusForbidden, true},
	KindConflict:        {"conflict", codes.FailedPrecondition, http.StatusConflict, true},
}

// Kinds lists every kind, in declaration order.
func Kinds() []Kind {
	return []Kind{KindInvalid, KindNotFound, KindTooLarge, KindUnauthenticated, KindRateLimited, KindUnavailable, KindForbidden, KindConflict}
}

// Business reports whether errors of this kind are business errors (true)
// or infrastructure failures (false). It is the one place that decides.
func (k Kind) Business() bool { return mapping[k].business }

// errorDomain marks the ErrorInfo detail that carries an error's kind across
// gRPC, so that kinds sharing a gRPC code (too_large and rate_limited are
// both ResourceExhausted) come back as they left.
const errorDomain = "recmesh"

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
	st := status.New(mapping[e.Kind].grpc, e.Message)
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Domain: errorDomain, Reason: e.Code()}); err == nil {
		return withInfo
	}
	return st
}

// New returns an error of kind k.
func New(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
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

// FromGRPC turns an error returned by a gRPC call back into the Error it
// was sent as: the kind comes from the ErrorInfo detail recmesh attaches,
// or, from a peer that sent none, from the gRPC code. ok is false for a
// code no kind maps to (DeadlineExceeded, Internal, Unknown, ...) and for
// errors that are not gRPC statuses.
func FromGRPC(err error) (_ *Error, ok bool) {
	st, isStatus := status.FromError(err)
	if !isStatus || st.Code() == codes.OK {
		return nil, false
	}
	for _, d := range st.Details() {
		if info, isInfo := d.(*errdetails.ErrorInfo); isInfo && info.GetDomain() == errorDomain {
			for _, k := range Kinds() {
				if mapping[k].code == info.GetReason() {
					return &Error{Kind: k, Message: st.Message()}, true
				}
			}
		}
	}
	for _, k := range Kinds() { // declaration order: ResourceExhausted reads as too_large
		if mapping[k].grpc == st.Code() {
			return &Error{Kind: k, Message: st.Message()}, true
		}
	}
	return nil, false
}

// Business returns the business error err carries, as an *Error, or nil
// when err is nil or an infrastructure failure. err may be an *Error (at any
// depth of wrapping) or a gRPC status. A passed deadline or a cancelled call
// is always infrastructure, whatever it wraps.
func Business(err error) *Error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil
	}
	e, ok := As(err)
	if !ok {
		e, ok = FromGRPC(err)
	}
	if !ok || !e.Kind.Business() {
		return nil
	}
	return e
}

// Infra returns err when it is an infrastructure failure and nil when it is
// a business error (or nil). go-kit endpoints return business errors inside
// their response (endpoint.Failer) and only Infra(err) as their error.
func Infra(err error) error {
	if Business(err) != nil {
		return nil
	}
	return err
}
