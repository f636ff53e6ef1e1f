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

// toAppErr maps framework errors (unknown route, body too large…) and
// everything else onto the documented codes.
func toAppErr(err error) *apperr.Error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound:
			return apperr.NotFoundf("No such route")
		case fiber.StatusMethodNotAllowed:
			return apperr.NotFoundf("No such route for this method")
		case fiber.StatusRequestEntityTooLarge:
			return apperr.New(apperr.PayloadTooLarge, "The request body is too large")
		case fiber.StatusUnsupportedMediaType:
			return apperr.New(apperr.UnsupportedMediaType, "Unsupported content type")
		case fiber.StatusBadRequest:
			return apperr.BadRequestf("Bad request")
		case fiber.StatusUnauthorized:
			return apperr.Unauthorizedf("Unauthorized")
		case fiber.StatusRequestTimeout:
			return apperr.New(apperr.Unavailable, "The request timed out")
		}
		if fe.Code < 500 {
			return apperr.BadRequestf("%s", fe.Message)
		}
	}
	return apperr.From(err)
}
