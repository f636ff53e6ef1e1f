package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

func (h authAPI) routes() []Route {
	return []Route{
		Route{"GET", "/auth/config", h.config, Op{Summary: "Sign-in provider settings for the dashboard", Response: authConfig{}, Public: true}},
		Route{"POST", "/auth/login", noStore(withBody(h.login)), Op{Summary: "Sign in with email and password (custom provider); also sets the refresh token as an HttpOnly cookie for the dashboard",
			Request: loginRequest{}, Response: auth.Tokens{}, Public: true}},
		Route{"POST", "/auth/refresh", noStore(withOptionalBody(h.refresh)), Op{Summary: "Rotate a refresh token for a new pair. From the body: both tokens in JSON (API clients). From the " + RefreshCookie + " cookie: the rotated refresh token is only in the cookie",
			Request: refreshRequest{}, BodyOptional: true, Response: auth.Tokens{}, Public: true}},
		// Logout needs no valid access token: ending a session is allowed to
		// whoever holds its refresh token (body or cookie), and a dashboard whose
		// access token was already revoked must still be able to clear its cookie.
		Route{"POST", "/auth/logout", h.logout, Op{Summary: "End the session: revokes the refresh family of the refresh token (body or cookie) and of the bearer access token, which stops working at once; clears the cookie",
			Request: refreshRequest{}, BodyOptional: true, Status: 204, Public: true}},
		Route{"GET", "/auth/me", h.me, Op{Summary: "The signed-in user", Response: store.User{}}},
	}
}

type authAPI struct {
	svc *auth.Service
	cfg *config.Config
}

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

func (h authAPI) config(c *fiber.Ctx) error {
	out := authConfig{Provider: h.cfg.AuthProvider}
	if h.cfg.AuthProvider == "cognito" {
		out.Cognito = &cognitoUIConfig{Domain: h.cfg.Cognito.Domain, ClientID: h.cfg.Cognito.AppClientID, Region: h.cfg.Cognito.Region}
	}
	return c.JSON(out)
}

func (h authAPI) login(c *fiber.Ctx, in loginRequest) (*auth.Tokens, error) {
	if in.Email == "" || in.Password == "" {
		return nil, apperr.Validation(requiredFields(map[string]string{"email": in.Email, "password": in.Password}))
	}
	t, err := h.svc.Login(c.UserContext(), in.Email, in.Password, c.IP())
	if err != nil {
		return nil, err
	}
	setRefreshCookie(c, t.RefreshToken, h.cfg.RefreshTokenTTL)
	return t, nil
}

// refresh takes the refresh token from the body, or else from the cookie.
func (h authAPI) refresh(c *fiber.Ctx, in refreshRequest) (*auth.Tokens, error) {
	raw, fromCookie := in.RefreshToken, false
	if raw == "" {
		raw, fromCookie = c.Cookies(RefreshCookie), true
	}
	if raw == "" {
		return nil, apperr.Validation(map[string]string{"refresh_token": "is required (in the body or the " + RefreshCookie + " cookie)"})
	}
	t, err := h.svc.Refresh(c.UserContext(), raw)
	if err != nil {
		if apperr.IsCode(err, apperr.Unauthorized) {
			clearRefreshCookie(c) // a dead cookie would only fail again
		}
		return nil, err
	}
	setRefreshCookie(c, t.RefreshToken, h.cfg.RefreshTokenTTL)
	if fromCookie {
		// A cookie refresh answers with the cookie only: a script on the
		// page could otherwise call this route and read a token the
		// cookie exists to keep from it.
		out := *t
		out.RefreshToken = ""
		t = &out
	}
	return t, nil
}

func (h authAPI) logout(c *fiber.Ctx) error {
	var in refreshRequest
	if err := DecodeOptional(c, &in); err != nil {
		return err
	}
	if in.RefreshToken == "" {
		in.RefreshToken = c.Cookies(RefreshCookie)
	}
	var p *auth.Principal
	if tok := bearerToken(c); tok != "" {
		p, _ = h.svc.Authenticate(c.UserContext(), tok) // an invalid one has nothing left to end
	}
	clearRefreshCookie(c)
	if err := h.svc.Logout(c.UserContext(), p, in.RefreshToken); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h authAPI) me(c *fiber.Ctx) error { return c.JSON(Principal(c).User) }

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
