package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

func (h apiKeysAPI) routes() []Route {
	return []Route{
		Route{"GET", "/api-keys", paged(h.list), Op{Summary: "List your API keys (no secrets)", Response: List[store.APIKey]{}, Paged: true}},
		Route{"POST", "/api-keys", noStore(withBody(h.create)), Op{Summary: "Create an API key; the secret is in this response only", Request: apiKeyRequest{}, Response: auth.CreatedAPIKey{}, Status: 201}},
		Route{"DELETE", "/api-keys/:id", h.revoke, Op{Summary: "Revoke an API key (effective immediately)", Status: 204}},
	}
}

type apiKeysAPI struct{ svc *auth.Service }

type apiKeyRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (h apiKeysAPI) list(c *fiber.Ctx, p store.Page) ([]store.APIKey, string, error) {
	return h.svc.ListAPIKeys(c.UserContext(), Principal(c).User.ID, p)
}

func (h apiKeysAPI) create(c *fiber.Ctx, in apiKeyRequest) (*auth.CreatedAPIKey, error) {
	return h.svc.CreateAPIKey(c.UserContext(), Principal(c).User.ID, in.Name, in.ExpiresAt)
}

func (h apiKeysAPI) revoke(c *fiber.Ctx) error {
	if err := h.svc.RevokeAPIKey(c.UserContext(), Principal(c).User.ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
