package service

import (
	"errors"
	"fmt"
)

// Code names the kind of a service error with SSM's exception name, so the
// API answers with it unchanged and the CLI picks its exit status from it.
type Code string

// The codes the service returns.
const (
	CodeValidation             Code = "ValidationException"
	CodeInvalidParameters      Code = "InvalidAutomationExecutionParametersException"
	CodeDefinitionNotFound     Code = "AutomationDefinitionNotFoundException"
	CodeVersionNotFound        Code = "AutomationDefinitionVersionNotFoundException"
	CodeIdempotentMismatch     Code = "IdempotentParameterMismatch"
	CodeExecutionNotFound      Code = "AutomationExecutionNotFoundException"
	CodeStatusUpdate           Code = "InvalidAutomationStatusUpdateException"
	CodeInvalidSignal          Code = "InvalidAutomationSignalException"
	CodeInvalidDocument        Code = "InvalidDocument"
	CodeInvalidDocumentVersion Code = "InvalidDocumentVersion"
	CodeInvalidDocumentContent Code = "InvalidDocumentContent"
	CodeDocumentExists         Code = "DocumentAlreadyExists"
	CodeMaxDocumentSize        Code = "MaxDocumentSizeExceeded"
	CodeDuplicateContent       Code = "DuplicateDocumentContent"
	CodeDuplicateVersionName   Code = "DuplicateDocumentVersionName"
	CodeInvalidOperation       Code = "InvalidDocumentOperation"
	CodeInvalidFilterKey       Code = "InvalidFilterKey"
	CodeInvalidFilterValue     Code = "InvalidFilterValue"
	CodeInvalidNextToken       Code = "InvalidNextToken"
	CodeUserExists             Code = "EntityAlreadyExists"
	CodeUserNotFound           Code = "NoSuchEntity"
)

// Error is a refusal the caller can act on: bad input, a missing document or
// execution, a state that does not allow the operation. Every front end
// shows Message as it is, so the CLI and the API say the same thing.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, if any
	// Setup: capstan's own configuration lacks something (a region), not
	// the caller's input.
	Setup bool
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// Usage reports whether the error is the caller's bad input rather than a
// missing thing or a state conflict (the CLI's exit status 2).
func (e *Error) Usage() bool {
	return !e.Setup && (e.Code == CodeValidation || e.Code == CodeInvalidParameters || e.Code == CodeInvalidFilterKey || e.Code == CodeInvalidFilterValue)
}

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func wrapError(code Code, err error) *Error {
	return &Error{Code: code, Message: err.Error(), Err: err}
}

// CodeOf returns the code of a service error, "" for any other error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
