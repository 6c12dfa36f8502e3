// Package presession holds the domain of the service: sessions and the
// countries under review, statements and their lifecycle, and the error
// type every other package returns. It depends on nothing but the standard
// library and golang.org/x/text.
package presession

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to a status, once.
const (
	ENOTFOUND     = "not_found"
	EINVALID      = "invalid"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	EGONE         = "gone"
	ETOOMANY      = "too_many" // too many attempts: try again later
	ETIMEOUT      = "timeout"  // the client was too slow (a request body that did not arrive in time)
	EINTERNAL     = "internal"
)

// Error is an error with a code and a message fit for the person who caused
// it. Err, when set, is the underlying cause (logged, never shown).
type Error struct {
	Code    string
	Message string
	Err     error

	// Key and Args, when set, name the message in the i18n catalogue so
	// the HTTP layer can answer in the request's language; Message stays
	// the English text.
	Key  string
	Args []any
}

// Localize names the catalogue message that translates e.
func (e *Error) Localize(key string, args ...any) *Error {
	e.Key, e.Args = key, args
	return e
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// or a generic message for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred; it has been logged. Please try again later."
}
