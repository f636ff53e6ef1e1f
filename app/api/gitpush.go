package api

import (
	"bytes"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitpush"
	"github.com/vegasec/vega/app/repos"
)

// gitPushAPI serves the temporary push remotes (Git smart HTTP,
// receive-pack only) at /git/<token>.git (routes.go). They speak Git's
// protocol, not the API's, so they sit outside /v1 and the OpenAPI document.
// The token in the path is the credential.
type gitPushAPI struct{ svc *repos.Service }

func (h gitPushAPI) serve(c *fiber.Ctx) error {
	req, err := gitpush.ParseRequest(c.Method(), c.Path(), c.Query("service"), "/git/")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if req.Op == gitpush.OpAdvertise {
		var buf bytes.Buffer
		if err := h.svc.AdvertisePush(c.UserContext(), req.Token, &buf); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, gitpush.AdvertisementContentType)
		return c.Send(buf.Bytes())
	}
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), gitpush.ReceiveRequestContentType) {
		return apperr.New(apperr.UnsupportedMediaType, "Expected %s", gitpush.ReceiveRequestContentType)
	}
	var buf bytes.Buffer
	_, err = h.svc.ReceivePush(c.UserContext(), req.Token, BodyReader(c), strings.EqualFold(c.Get(fiber.HeaderContentEncoding), "gzip"), &buf)
	if buf.Len() > 0 { // the git client prints the in-band report, errors included
		c.Set(fiber.HeaderContentType, gitpush.ResultContentType)
		return c.Send(buf.Bytes())
	}
	return err
}
