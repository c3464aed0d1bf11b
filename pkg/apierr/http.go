package apierr

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// Body is the one error shape of every recmesh HTTP API:
// {"error":{"code":"…","message":"…"}}.
type Body struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// WriteHTTP writes err, which must be a business error, as its status and
// Body. Retryable kinds carry Retry-After.
func WriteHTTP(w http.ResponseWriter, err error) {
	e, ok := As(err)
	if !ok {
		e = &Error{Kind: KindUnavailable, Message: "the service is unavailable; retry later"}
	}
	var b Body
	b.Error.Code, b.Error.Message = e.Code(), e.Message
	w.Header().Set("Content-Type", "application/json")
	if e.Kind == KindUnavailable || e.Kind == KindRateLimited {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(e.HTTPStatus())
	_ = json.NewEncoder(w).Encode(b)
}

// ReadBody reads a request body of at most limit bytes.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, TooLarge("the body is larger than %d bytes", limit)
	}
	if err != nil {
		return nil, Invalid("the body could not be read: %v", err)
	}
	return body, nil
}

// DecodeStrict parses body as exactly one JSON value into v, refusing
// unknown fields, so a typo is an error and not a silent no-op. what names
// the expected value in the error.
func DecodeStrict(body []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Invalid("the body is not a valid %s: %v", what, err)
	}
	if dec.More() {
		return Invalid("the body holds more than one JSON value")
	}
	return nil
}
