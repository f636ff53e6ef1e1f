package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// authConfig is public, so it never carries a credential or says whether the
// default debug password is still in use; the sign-in page points at the
// README and the start-up log instead.
type authConfig struct {
	Provider string           `json:"provider"`
	Cognito  *cognitoUIConfig `json:"cognito,omitempty"`
}

type cognitoUIConfig struct {
	Domain   string `json:"domain"`
	ClientID string `json:"client_id"`
	Region   string `json:"region"`
}

func (r *Router) authRoutes(v1 fiber.Router) {
	cfg := r.deps.Config
	r.Public("GET", "/auth/config", func(c *fiber.Ctx) error {
		out := authConfig{Provider: cfg.AuthProvider}
		if cfg.AuthProvider == "cognito" {
			out.Cognito = &cognitoUIConfig{Domain: cfg.Cognito.Domain, ClientID: cfg.Cognito.AppClientID, Region: cfg.Cognito.Region}
		}
		return c.JSON(out)
	}, Op{Tag: "auth", Summary: "Sign-in provider settings for the dashboard", Response: authConfig{}})

	r.Public("POST", "/auth/login", func(c *fiber.Ctx) error {
		var in loginRequest
		if err := Decode(c, &in); err != nil {
			return err
		}
		if in.Email == "" || in.Password == "" {
			return apperr.Validation(requiredFields(map[string]string{"email": in.Email, "password": in.Password}))
		}
		t, err := r.deps.Auth.Login(c.UserContext(), in.Email, in.Password, c.IP())
		if err != nil {
			return err
		}
		return c.JSON(t)
	}, Op{Tag: "auth", Summary: "Sign in with email and password (custom provider)", Request: loginRequest{}, Response: auth.Tokens{}})

	r.Public("POST", "/auth/refresh", func(c *fiber.Ctx) error {
		var in refreshRequest
		if err := Decode(c, &in); err != nil {
			return err
		}
		if in.RefreshToken == "" {
			return apperr.Validation(map[string]string{"refresh_token": "is required"})
		}
		t, err := r.deps.Auth.Refresh(c.UserContext(), in.RefreshToken)
		if err != nil {
			return err
		}
		return c.JSON(t)
	}, Op{Tag: "auth", Summary: "Rotate a refresh token for a new token pair", Request: refreshRequest{}, Response: auth.Tokens{}})

	r.Authed("POST", "/auth/logout", Op{Tag: "auth", Summary: "Revoke the refresh token's family", Request: refreshRequest{}}, func(c *fiber.Ctx) error {
		var in refreshRequest
		if hasBody(c) {
			if err := Decode(c, &in); err != nil {
				return err
			}
		}
		if err := r.deps.Auth.Logout(c.UserContext(), in.RefreshToken); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})

	r.Authed("GET", "/auth/me", Op{Tag: "auth", Summary: "The signed-in user", Response: store.User{}}, func(c *fiber.Ctx) error {
		return c.JSON(Principal(c).User)
	})
}

func requiredFields(fields map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range fields {
		if v == "" {
			out[k] = "is required"
		}
	}
	return out
}

type apiKeyRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (r *Router) apiKeyRoutes(v1 fiber.Router) {
	r.Authed("GET", "/api-keys", Op{Tag: "api keys", Summary: "List your API keys (no secrets)", Response: List[store.APIKey]{}, Paged: true}, func(c *fiber.Ctx) error {
		p, err := PageParams(c)
		if err != nil {
			return err
		}
		keys, next, err := r.deps.Auth.ListAPIKeys(c.UserContext(), Principal(c).User.ID, p)
		if err != nil {
			return err
		}
		return c.JSON(NewList(keys, next))
	})
	r.Authed("POST", "/api-keys", Op{Tag: "api keys", Summary: "Create an API key; the secret is in this response only", Request: apiKeyRequest{}, Response: auth.CreatedAPIKey{}, Status: 201}, func(c *fiber.Ctx) error {
		var in apiKeyRequest
		if err := Decode(c, &in); err != nil {
			return err
		}
		k, err := r.deps.Auth.CreateAPIKey(c.UserContext(), Principal(c).User.ID, in.Name, in.ExpiresAt)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return JSON(c, fiber.StatusCreated, k)
	})
	r.Authed("DELETE", "/api-keys/:id", Op{Tag: "api keys", Summary: "Revoke an API key (effective immediately)", Status: 204}, func(c *fiber.Ctx) error {
		if err := r.deps.Auth.RevokeAPIKey(c.UserContext(), Principal(c).User.ID, c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

func (r *Router) userRoutes(v1 fiber.Router) {
	root := requireGroup(store.GroupRoot)
	r.Authed("GET", "/users", Op{Tag: "users", Summary: "List local users (root)", Response: List[store.User]{}, Paged: true}, root, func(c *fiber.Ctx) error {
		p, err := PageParams(c)
		if err != nil {
			return err
		}
		us, next, err := r.deps.Auth.ListUsers(c.UserContext(), p)
		if err != nil {
			return err
		}
		return c.JSON(NewList(us, next))
	})
	r.Authed("POST", "/users", Op{Tag: "users", Summary: "Create a local user (root)", Request: auth.NewUser{}, Response: store.User{}, Status: 201}, root, func(c *fiber.Ctx) error {
		var in auth.NewUser
		if err := Decode(c, &in); err != nil {
			return err
		}
		u, err := r.deps.Auth.CreateUser(c.UserContext(), in)
		if err != nil {
			return err
		}
		return JSON(c, fiber.StatusCreated, u)
	})
	r.Authed("GET", "/users/:id", Op{Tag: "users", Summary: "Get a local user (root)", Response: store.User{}}, root, func(c *fiber.Ctx) error {
		u, err := r.deps.Auth.GetUser(c.UserContext(), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(u)
	})
	r.Authed("PATCH", "/users/:id", Op{Tag: "users", Summary: "Change a local user's password, name or groups (root)", Request: auth.UserPatch{}, Response: store.User{}}, root, func(c *fiber.Ctx) error {
		var in auth.UserPatch
		if err := Decode(c, &in); err != nil {
			return err
		}
		u, err := r.deps.Auth.UpdateUser(c.UserContext(), c.Params("id"), in)
		if err != nil {
			return err
		}
		return c.JSON(u)
	})
	r.Authed("DELETE", "/users/:id", Op{Tag: "users", Summary: "Delete a local user (root)", Status: 204}, root, func(c *fiber.Ctx) error {
		if err := r.deps.Auth.DeleteUser(c.UserContext(), Principal(c).User.ID, c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
