package ssmapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/capstan-run/capstan/internal/service"
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
	return internalError(err)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quote(s string) string { return strconv.Quote(s) }

// Epoch is a timestamp in the AWS JSON protocol's form: seconds since the
// epoch as a JSON number, with millisecond precision.
type Epoch time.Time

// MarshalJSON implements json.Marshaler.
func (t Epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler; it accepts epoch seconds.
func (t *Epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: expected epoch seconds", b)
	}
	*t = Epoch(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

func epochPtr(t *time.Time) *Epoch {
	if t == nil || t.IsZero() {
		return nil
	}
	e := Epoch(*t)
	return &e
}

func epochOf(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(t)
	return &e
}
