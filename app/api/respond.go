package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
)

// List is the shape of every list response (docs/architecture.md, "API
// conventions"): one page of items and the cursor of the next, null at the end.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
	Total      *int    `json:"total,omitempty"`
}

// NewList wraps one page; an empty next cursor means the end.
func NewList[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	l := List[T]{Items: items}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

// JSON writes v with a status.
func JSON(c *fiber.Ctx, status int, v any) error { return c.Status(status).JSON(v) }

// PageParams parses ?limit= and ?cursor=.
func PageParams(c *fiber.Ctx) (store.Page, error) {
	p := store.Page{Cursor: c.Query("cursor")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			return p, apperr.Validation(map[string]string{"limit": fmt.Sprintf("must be a whole number from 1 to %d", store.MaxLimit)})
		}
		p.Limit = n
	}
	// Findings cursors carry a sort position (a path of up to 1 KiB, base64).
	if len(p.Cursor) > 2048 {
		return p, apperr.Validation(map[string]string{"cursor": "is not a valid cursor"})
	}
	return p.Normalize(), nil
}

// Decode reads a JSON body of at most maxJSONBody bytes into v, answering
// unsupported_media_type, payload_too_large, bad_request (malformed) or
// validation_failed (wrong types, or a field v does not have) in the envelope.
// Decoding is strict: a field the request type does not know is refused with
// details naming it, never dropped, so a client that sends the wrong shape
// learns it instead of saving an empty value (docs/architecture.md, "API
// conventions").
func Decode(c *fiber.Ctx, v any) error {
	body, err := jsonBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// jsonBody reads a JSON request body: the content type checked, the size
// capped and an empty body refused.
func jsonBody(c *fiber.Ctx) ([]byte, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	if ct != "" && ct != fiber.MIMEApplicationJSON {
		return nil, apperr.New(apperr.UnsupportedMediaType, "Send the body as application/json")
	}
	body, err := readBody(c, maxJSONBody)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apperr.BadRequestf("The request body is empty; send a JSON object")
	}
	return body, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing fields v does
// not have.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return apperr.Validation(map[string]string{te.Field: "must be of type " + jsonTypeName(te.Type.Kind().String())})
		}
		if errors.As(err, &te) {
			return apperr.BadRequestf("The request body must be a JSON object")
		}
		if name, ok := unknownField(err); ok {
			return apperr.Validation(map[string]string{name: "is not a field of this request"})
		}
		return apperr.BadRequestf("The request body is not valid JSON")
	}
	if dec.More() {
		return apperr.BadRequestf("The request body must hold exactly one JSON value")
	}
	return nil
}

// unknownField is the name in encoding/json's error for a field the target
// type lacks (`json: unknown field "x"`); the package has no typed error for it.
func unknownField(err error) (string, bool) {
	const prefix = "json: unknown field "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	name, uerr := strconv.Unquote(msg[len(prefix):])
	if uerr != nil || name == "" {
		return "", false
	}
	return textsafe.Echo(name), true
}

// DecodeOptional is Decode for a route whose body may be left out (its Op
// says BodyOptional): no body leaves v as it is. The rule for "no body" is
// hasBody's, the same for every route.
func DecodeOptional(c *fiber.Ctx, v any) error {
	if !hasBody(c) {
		return nil
	}
	return Decode(c, v)
}

// hasBody reports whether the request carries a body: bytes already read, a
// body still streaming in, or a declared length.
func hasBody(c *fiber.Ctx) bool {
	return len(c.Body()) > 0 || c.Context().RequestBodyStream() != nil || c.Request().Header.ContentLength() > 0
}

// isMultipart reports whether the body is a multipart form (an upload).
func isMultipart(c *fiber.Ctx) bool {
	return strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}

// readBody returns the request body, refusing more than max bytes whether it
// was buffered or streamed.
func readBody(c *fiber.Ctx, max int64) ([]byte, error) {
	tooLarge := apperr.New(apperr.PayloadTooLarge, "The request body is larger than %d bytes", max)
	if cl := c.Request().Header.ContentLength(); cl > int(max) {
		return nil, tooLarge
	}
	if s := c.Context().RequestBodyStream(); s != nil {
		b, err := io.ReadAll(io.LimitReader(s, max+1))
		if err != nil {
			return nil, apperr.BadRequestf("Could not read the request body")
		}
		if int64(len(b)) > max {
			return nil, tooLarge
		}
		return b, nil
	}
	b := c.Body()
	if int64(len(b)) > max {
		return nil, tooLarge
	}
	return b, nil
}

// BodyReader streams the request body: from the connection when it was too
// large to buffer, from memory otherwise.
func BodyReader(c *fiber.Ctx) io.Reader {
	if s := c.Context().RequestBodyStream(); s != nil {
		return s
	}
	return bytes.NewReader(c.Body())
}
