package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/store"
)

// The adapters below are the handler shapes the route tables repeat: parse
// the route's input, call one service method, write its answer. Each is a
// fiber.Handler built from the service call, so a plain route is one row of
// its table. The success status is the route's documented one, which
// Router.Add sets before the handler runs.

// scopeOf is whose objects a route reaches: Scope (the caller's own) or, for
// webhooks, webhookScope.
type scopeOf func(*fiber.Ctx) store.Scope

// reply writes v as JSON with the route's documented status, or returns err
// for the error handler: the last step of every handler.
func reply(c *fiber.Ctx, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// listed wraps a whole (unpaged) result as a List, so a call returning a
// slice answers in the shape of every list.
func listed[T any](items []T, err error) (List[T], error) { return NewList(items, ""), err }

// answer is a handler whose input is read by call itself (queries, several
// path parameters, the caller).
func answer[T any](call func(c *fiber.Ctx) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := call(c)
		return reply(c, v, err)
	}
}

// noInput answers a call that takes nothing from the request.
func noInput[T any](call func(context.Context) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := call(c.UserContext())
		return reply(c, v, err)
	}
}

// byID answers the object call finds by the route's :id in scope.
func byID[T any](scope scopeOf, call func(ctx context.Context, sc store.Scope, id string) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := call(c.UserContext(), scope(c), c.Params("id"))
		return reply(c, v, err)
	}
}

// listByID answers call's whole list for the route's :id (no paging).
func listByID[T any](scope scopeOf, call func(ctx context.Context, sc store.Scope, id string) ([]T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := listed(call(c.UserContext(), scope(c), c.Params("id")))
		return reply(c, v, err)
	}
}

// byIDAsCaller is byID for a call that also records who acted (the caller).
func byIDAsCaller[T any](call func(ctx context.Context, sc store.Scope, userID, id string) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := call(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"))
		return reply(c, v, err)
	}
}

// paged answers one page (?limit=, ?cursor=) of what call lists.
func paged[T any](call func(c *fiber.Ctx, p store.Page) ([]T, string, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := PageParams(c)
		if err != nil {
			return err
		}
		items, next, err := call(c, p)
		return reply(c, NewList(items, next), err)
	}
}

// pageByID answers one page of what call lists under the route's :id in scope.
func pageByID[T any](scope scopeOf, call func(ctx context.Context, sc store.Scope, id string, p store.Page) ([]T, string, error)) fiber.Handler {
	return paged(func(c *fiber.Ctx, p store.Page) ([]T, string, error) {
		return call(c.UserContext(), scope(c), c.Params("id"), p)
	})
}

// deleteByID deletes the object named by the route's :id in scope: 204.
func deleteByID(scope scopeOf, call func(ctx context.Context, sc store.Scope, id string) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := call(c.UserContext(), scope(c), c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// withBody decodes the route's JSON body strictly (Decode) and answers call
// with it.
func withBody[In, Out any](call func(c *fiber.Ctx, in In) (Out, error)) fiber.Handler {
	return decodeThen(Decode, call)
}

// withOptionalBody is withBody for a route whose Op says BodyOptional: no
// body (hasBody, the one rule) leaves the input at its zero value.
func withOptionalBody[In, Out any](call func(c *fiber.Ctx, in In) (Out, error)) fiber.Handler {
	return decodeThen(DecodeOptional, call)
}

func decodeThen[In, Out any](decode func(*fiber.Ctx, any) error, call func(c *fiber.Ctx, in In) (Out, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in In
		if err := decode(c, &in); err != nil {
			return err
		}
		v, err := call(c, in)
		return reply(c, v, err)
	}
}

// noStore marks a successful answer uncacheable: it carries a secret shown
// this once (an API key, a webhook's signing secret, a push remote).
func noStore(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h(c); err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return nil
	}
}
