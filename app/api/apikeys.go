package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

func (r *Router) apiKeyRoutes() {
	h := apiKeysAPI{svc: r.deps.Auth}
	const tag = "api keys"
	r.Add(
		Route{"GET", "/api-keys", h.list, Op{Tag: tag, Summary: "List your API keys (no secrets)", Response: List[store.APIKey]{}, Paged: true}},
		Route{"POST", "/api-keys", h.create, Op{Tag: tag, Summary: "Create an API key; the secret is in this response only", Request: apiKeyRequest{}, Response: auth.CreatedAPIKey{}, Status: 201}},
		Route{"DELETE", "/api-keys/:id", h.revoke, Op{Tag: tag, Summary: "Revoke an API key (effective immediately)", Status: 204}},
	)
}

type apiKeysAPI struct{ svc *auth.Service }

type apiKeyRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (h apiKeysAPI) list(c *fiber.Ctx) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	keys, next, err := h.svc.ListAPIKeys(c.UserContext(), Principal(c).User.ID, p)
	if err != nil {
		return err
	}
	return c.JSON(NewList(keys, next))
}

func (h apiKeysAPI) create(c *fiber.Ctx) error {
	var in apiKeyRequest
	if err := Decode(c, &in); err != nil {
		return err
	}
	k, err := h.svc.CreateAPIKey(c.UserContext(), Principal(c).User.ID, in.Name, in.ExpiresAt)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return JSON(c, fiber.StatusCreated, k)
}

func (h apiKeysAPI) revoke(c *fiber.Ctx) error {
	if err := h.svc.RevokeAPIKey(c.UserContext(), Principal(c).User.ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
