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
		setRefreshCookie(c, t.RefreshToken, cfg.RefreshTokenTTL)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(t)
	}, Op{Tag: "auth", Summary: "Sign in with email and password (custom provider); also sets the refresh token as an HttpOnly cookie for the dashboard",
		Request: loginRequest{}, Response: auth.Tokens{}})

	r.Public("POST", "/auth/refresh", func(c *fiber.Ctx) error {
		var in refreshRequest
		if hasBody(c) {
			if err := Decode(c, &in); err != nil {
				return err
			}
		}
		raw, fromCookie := in.RefreshToken, false
		if raw == "" {
			raw, fromCookie = c.Cookies(RefreshCookie), true
		}
		if raw == "" {
			return apperr.Validation(map[string]string{"refresh_token": "is required (in the body or the " + RefreshCookie + " cookie)"})
		}
		t, err := r.deps.Auth.Refresh(c.UserContext(), raw)
		if err != nil {
			if apperr.IsCode(err, apperr.Unauthorized) {
				clearRefreshCookie(c) // a dead cookie would only fail again
			}
			return err
		}
		setRefreshCookie(c, t.RefreshToken, cfg.RefreshTokenTTL)
		if fromCookie {
			// A cookie refresh answers with the cookie only: a script on the
			// page could otherwise call this route and read a token the
			// cookie exists to keep from it.
			out := *t
			out.RefreshToken = ""
			t = &out
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(t)
	}, Op{Tag: "auth", Summary: "Rotate a refresh token for a new pair. From the body: both tokens in JSON (API clients). From the " + RefreshCookie + " cookie: the rotated refresh token is only in the cookie",
		Request: refreshRequest{}, BodyOptional: true, Response: auth.Tokens{}})

	// Logout needs no valid access token: ending a session is allowed to
	// whoever holds its refresh token (body or cookie), and a dashboard whose
	// access token was already revoked must still be able to clear its cookie.
	r.Public("POST", "/auth/logout", func(c *fiber.Ctx) error {
		var in refreshRequest
		if hasBody(c) {
			if err := Decode(c, &in); err != nil {
				return err
			}
		}
		if in.RefreshToken == "" {
			in.RefreshToken = c.Cookies(RefreshCookie)
		}
		var p *auth.Principal
		if tok := bearerToken(c); tok != "" {
			p, _ = r.deps.Auth.Authenticate(c.UserContext(), tok) // an invalid one has nothing left to end
		}
		clearRefreshCookie(c)
		if err := r.deps.Auth.Logout(c.UserContext(), p, in.RefreshToken); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}, Op{Tag: "auth", Summary: "End the session: revokes the refresh family of the refresh token (body or cookie) and of the bearer access token, which stops working at once; clears the cookie",
		Request: refreshRequest{}, BodyOptional: true, Status: 204})

	r.Authed("GET", "/auth/me", Op{Tag: "auth", Summary: "The signed-in user", Response: store.User{}}, func(c *fiber.Ctx) error {
		return c.JSON(Principal(c).User)
	})
}

// RefreshCookie carries the dashboard's refresh token, out of reach of page
// scripts (docs/auth.md). Its path covers the two routes that read it,
// refresh and logout; API clients use the JSON tokens instead.
const (
	RefreshCookie     = "vega_refresh"
	refreshCookiePath = "/v1/auth"
)

func setRefreshCookie(c *fiber.Ctx, token string, ttl time.Duration) {
	c.Cookie(&fiber.Cookie{Name: RefreshCookie, Value: token, Path: refreshCookiePath,
		MaxAge: int(ttl.Seconds()), HTTPOnly: true, Secure: true, SameSite: fiber.CookieSameSiteStrictMode})
}

func clearRefreshCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: RefreshCookie, Value: "", Path: refreshCookiePath,
		MaxAge: -1, Expires: time.Unix(0, 0), HTTPOnly: true, Secure: true, SameSite: fiber.CookieSameSiteStrictMode})
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
	// Root may end anyone's sessions, a user their own. Anyone else is told
	// the user does not exist, as for every object that is not theirs.
	r.Authed("POST", "/users/:id/revoke-sessions", Op{Tag: "users", Summary: "Sign a user out everywhere (root, or the user themself): every access and refresh token stops working at once; API keys stay", Status: 204}, func(c *fiber.Ctx) error {
		me, id := Principal(c).User, c.Params("id")
		if me.ID != id && !me.HasGroup(store.GroupRoot) {
			return apperr.NotFoundf("User %s not found", id)
		}
		if err := r.deps.Auth.RevokeSessions(c.UserContext(), id, false); err != nil {
			return err
		}
		if me.ID == id {
			clearRefreshCookie(c)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	r.Authed("DELETE", "/users/:id", Op{Tag: "users", Summary: "Delete a local user (root)", Status: 204}, root, func(c *fiber.Ctx) error {
		if err := r.deps.Auth.DeleteUser(c.UserContext(), Principal(c).User.ID, c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
