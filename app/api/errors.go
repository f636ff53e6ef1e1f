package api

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
)

// envelope is the one error shape of the API (docs/architecture.md, "API conventions").
type envelope struct {
	SchemaVersion int       `json:"schema_version"`
	Error         errorBody `json:"error"`
}

type errorBody struct {
	Code      apperr.Code    `json:"code"`
	Message   string         `json:"message"`
	Retryable bool           `json:"retryable"`
	Details   map[string]any `json:"details"`
	RequestID string         `json:"request_id"`
}

// errorHandler is the single place where errors become HTTP responses.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		e := toAppErr(err)
		status := e.Code.HTTPStatus()
		rid := requestID(c)
		if status >= 500 {
			log.Error("request failed", "request_id", rid, "method", c.Method(), "path", redactPushTokens(c.Path()), "code", e.Code, "err", redactPushTokens(err.Error()))
		} else if e.Err != nil {
			log.Debug("request rejected", "request_id", rid, "code", e.Code, "err", redactPushTokens(e.Err.Error()))
		}
		details := e.Details
		if details == nil {
			details = map[string]any{}
		}
		if e.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfterSeconds()))
		}
		return c.Status(status).JSON(envelope{SchemaVersion: 1, Error: errorBody{
			Code: e.Code, Message: e.Message, Retryable: e.Code.Retryable(), Details: details, RequestID: rid,
		}})
	}
}

// fiberErrors are the framework's own errors (unknown route, body too
// large…) as the documented codes, one row each.
var fiberErrors = map[int]struct {
	code    apperr.Code
	message string
}{
	fiber.StatusNotFound:              {apperr.NotFound, "No such route"},
	fiber.StatusMethodNotAllowed:      {apperr.NotFound, "No such route for this method"},
	fiber.StatusRequestEntityTooLarge: {apperr.PayloadTooLarge, "The request body is too large"},
	fiber.StatusUnsupportedMediaType:  {apperr.UnsupportedMediaType, "Unsupported content type"},
	fiber.StatusBadRequest:            {apperr.BadRequest, "Bad request"},
	fiber.StatusUnauthorized:          {apperr.Unauthorized, "Unauthorized"},
	fiber.StatusRequestTimeout:        {apperr.Unavailable, "The request timed out"},
}

// toAppErr maps framework errors (fiberErrors) and everything else onto the
// documented codes.
func toAppErr(err error) *apperr.Error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		if known, ok := fiberErrors[fe.Code]; ok {
			return apperr.New(known.code, known.message)
		}
		if fe.Code < 500 {
			return apperr.BadRequestf("%s", fe.Message)
		}
	}
	return apperr.From(err)
}
