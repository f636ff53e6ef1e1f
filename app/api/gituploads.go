package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/store"
)

func (h gitUploadsAPI) routes() []Route {
	return []Route{
		Route{"POST", "/git-uploads", noStore(withBody(h.create)), Op{Summary: "Create a one-time push remote: git push <remote_url> HEAD:main makes a repository", Request: repos.GitUploadInput{}, Response: repos.CreatedGitUpload{}, Status: 201}},
		Route{"GET", "/git-uploads/:id", byID(Scope, h.svc.GetGitUpload), Op{Summary: "Status of a push remote (waiting, received, expired) and the repository it made", Response: store.GitUpload{}}},
	}
}

type gitUploadsAPI struct{ svc *repos.Service }

func (h gitUploadsAPI) create(c *fiber.Ctx, in repos.GitUploadInput) (*repos.CreatedGitUpload, error) {
	return h.svc.CreateGitUpload(c.UserContext(), Scope(c), Principal(c).User.ID, in)
}
