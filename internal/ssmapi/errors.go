package ssmapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/ssmshape"
)

// Error is an API error in SSM's form: the exception name (__type), its
// message and the HTTP status it travels with.
type Error struct {
	Type    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// clientError returns a 400 error with SSM's exception name.
func clientError(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func validationError(format string, args ...any) *Error {
	return clientError("ValidationException", format, args...)
}

func serializationError(err error) *Error {
	return clientError("SerializationException", "the request is not valid JSON for this operation: %v", err)
}

func internalError(err error) *Error {
	return &Error{Type: "InternalServerError", Status: http.StatusInternalServerError, Message: err.Error()}
}

// asError maps any error to its API form: the service's refusals keep their
// code (SSM's exception name) and message; any other error is internal.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var se *service.Error
	if errors.As(err, &se) {
		return clientError(string(se.Code), "%s", se.Message)
	}
	var fe *ssmshape.FilterError
	if errors.As(err, &fe) {
		return clientError(fe.Code, "%s", fe.Message)
	}
	return internalError(err)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quote(s string) string { return strconv.Quote(s) }

// epochOf is t as the AWS JSON protocol writes timestamps, nil for the
// zero time.
func epochOf(t time.Time) *ssmshape.Time { return ssmshape.At(t, ssmshape.EpochSeconds) }
