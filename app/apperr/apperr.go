// Package apperr defines Vega's typed errors. Services return them; the API
// maps them to HTTP in exactly one place (app/api). Messages are for people and
// never carry stack traces, SQL or file system paths.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// Code is a stable machine-readable error code (docs/architecture.md, "API conventions").
type Code string

const (
	BadRequest           Code = "bad_request"
	ValidationFailed     Code = "validation_failed"
	Unauthorized         Code = "unauthorized"
	Forbidden            Code = "forbidden"
	NotFound             Code = "not_found"
	Conflict             Code = "conflict"
	PayloadTooLarge      Code = "payload_too_large"
	UnsupportedMediaType Code = "unsupported_media_type"
	ArchiveRejected      Code = "archive_rejected"
	GitCloneFailed       Code = "git_clone_failed"
	HostNotAllowed       Code = "host_not_allowed"
	MisdirectedRequest   Code = "misdirected_request"
	QuotaExceeded        Code = "quota_exceeded"
	RateLimited          Code = "rate_limited"
	BudgetExceeded       Code = "budget_exceeded"
	Internal             Code = "internal"
	Unavailable          Code = "unavailable"
	// StorageFull: the server's disk (or quota of it) ran out while writing.
	// Nothing of the operation is kept; the operator must free space.
	StorageFull Code = "storage_full"
)

var statusByCode = map[Code]int{
	BadRequest:           http.StatusBadRequest,
	ValidationFailed:     http.StatusBadRequest,
	Unauthorized:         http.StatusUnauthorized,
	Forbidden:            http.StatusForbidden,
	NotFound:             http.StatusNotFound,
	Conflict:             http.StatusConflict,
	PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	ArchiveRejected:      http.StatusUnprocessableEntity,
	GitCloneFailed:       http.StatusUnprocessableEntity,
	HostNotAllowed:       http.StatusUnprocessableEntity,
	MisdirectedRequest:   http.StatusMisdirectedRequest,
	QuotaExceeded:        http.StatusTooManyRequests,
	RateLimited:          http.StatusTooManyRequests,
	BudgetExceeded:       http.StatusTooManyRequests,
	Internal:             http.StatusInternalServerError,
	Unavailable:          http.StatusServiceUnavailable,
	StorageFull:          http.StatusInsufficientStorage,
}

// HTTPStatus is the status code an error code is answered with.
func (c Code) HTTPStatus() int {
	if s, ok := statusByCode[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Retryable reports whether a client may retry the same request unchanged.
func (c Code) Retryable() bool {
	return c == Internal || c == Unavailable || c == RateLimited
}

// Error is an error a client may see.
type Error struct {
	Code    Code
	Message string
	Details map[string]any
	// Err is the underlying cause, logged but never sent to the client.
	Err error
	// RetryAfter, when set, is sent as the Retry-After header (RFC 9110 §10.2.3).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error with a code and a message. Every string argument is an
// echoed value (an ID from a URL, a name, a path from an archive) and goes
// through textsafe.Echo: cut to textsafe.MaxEcho characters, invisible
// characters replaced (docs/limits.md). Use Text for a message that was
// already built from echoed parts.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: textsafe.Sprintf(format, args...)}
}

// Text makes an error whose message is msg as it is, for a message another
// package composed with textsafe.Sprintf.
func Text(code Code, msg string) *Error {
	return &Error{Code: code, Message: msg}
}

// WithDetails returns e with details attached.
func (e *Error) WithDetails(d map[string]any) *Error {
	e.Details = d
	return e
}

// Wrap attaches a cause (for logs) to e.
func (e *Error) Wrap(err error) *Error {
	e.Err = err
	return e
}

// Constructors for the common cases.

func NotFoundf(format string, args ...any) *Error   { return New(NotFound, format, args...) }
func BadRequestf(format string, args ...any) *Error { return New(BadRequest, format, args...) }
func Conflictf(format string, args ...any) *Error   { return New(Conflict, format, args...) }
func Forbiddenf(format string, args ...any) *Error  { return New(Forbidden, format, args...) }
func Unauthorizedf(format string, args ...any) *Error {
	return New(Unauthorized, format, args...)
}

// NotFoundAs names what a lookup did not find: store.ErrNotFound becomes
// not_found "<kind> <id> not found" (id echoed safely); any other error,
// nil included, is returned as it is. (NotFound is the code's name, so the
// helper cannot share it.)
func NotFoundAs(kind, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return NotFoundf("%s %s not found", kind, id)
	}
	return err
}

// Validation reports invalid fields: field name → what is wrong with it.
func Validation(fields map[string]string) *Error {
	d := make(map[string]any, len(fields))
	for k, v := range fields {
		d[k] = v
	}
	return &Error{Code: ValidationFailed, Message: "Some fields are invalid", Details: d}
}

// Archive rejects an upload with one of the documented reasons.
func Archive(reason, format string, args ...any) *Error {
	return New(ArchiveRejected, format, args...).WithDetails(map[string]any{"reason": reason})
}

// RateLimitedFor says the client may try again after d (at least a second).
func RateLimitedFor(d time.Duration, format string, args ...any) *Error {
	e := New(RateLimited, format, args...)
	e.RetryAfter = max(d, time.Second)
	return e
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, as the header carries it.
func (e *Error) RetryAfterSeconds() int {
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// Bytes formats a size the way messages show limits ("2.0 GiB", "512 B").
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %s", float64(n)/float64(div), []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp])
}

// Quota reports a limit that was reached (a count or a number of bytes).
func Quota[N int | int64](limit, current N, format string, args ...any) *Error {
	return New(QuotaExceeded, format, args...).WithDetails(map[string]any{"limit": limit, "current": current})
}

// From turns any error into an *Error: typed errors pass through, store errors
// map to not_found/conflict, blob storage failures to unavailable, anything
// else is internal (its text is not shown).
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: NotFound, Message: "Not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Code: Conflict, Message: "The object changed or already exists", Err: err}
	case IsDiskFull(err):
		return StorageFullError(err)
	case errors.Is(err, blob.ErrUnavailable):
		// The cause names buckets and carries the SDK's message: log only.
		return &Error{Code: Unavailable, Message: "File storage is unavailable; try again shortly", Err: err}
	}
	return &Error{Code: Internal, Message: "Internal error", Err: err}
}

// IsDiskFull reports whether err comes from a write that found no space:
// the disk is full (ENOSPC) or the user's disk quota is (EDQUOT).
func IsDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// StorageFullError is the one storage_full error; the cause (with paths) is
// logged, never shown.
func StorageFullError(cause error) *Error {
	return &Error{Code: StorageFull, Message: "The server ran out of disk space; nothing of this operation was kept. Ask the operator to free space, then try again", Err: cause}
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
