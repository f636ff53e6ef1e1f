package api

import (
	"bytes"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitpush"
	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/store"
)

type reingestRequest struct {
	GitToken string `json:"git_token"`
}

func (r *Router) repositoryRoutes() {
	svc := r.deps.Repos
	tag := "repositories"
	r.Authed("POST", "/projects/:id/repositories", Op{Tag: tag, Summary: "Add a repository from a Git URL (JSON) or an archive upload (multipart: archive, name); ingest runs in the background",
		Request: repos.GitInput{}, Multipart: true, Response: store.Repository{}, Status: 201}, func(c *fiber.Ctx) error {
		projectID := c.Params("id")
		if isMultipart(c) {
			repo, err := svc.CreateFromUpload(c.UserContext(), Scope(c), projectID, c.Get(fiber.HeaderContentType), BodyReader(c))
			if err != nil {
				return err
			}
			return JSON(c, fiber.StatusCreated, repo)
		}
		var in repos.GitInput
		if err := Decode(c, &in); err != nil {
			return err
		}
		repo, err := svc.CreateFromGit(c.UserContext(), Scope(c), projectID, in)
		if err != nil {
			return err
		}
		return JSON(c, fiber.StatusCreated, repo)
	})
	r.Authed("GET", "/projects/:id/repositories", Op{Tag: tag, Summary: "List a project's repositories", Response: List[store.Repository]{}, Paged: true}, func(c *fiber.Ctx) error {
		p, err := PageParams(c)
		if err != nil {
			return err
		}
		items, next, err := svc.List(c.UserContext(), Scope(c), c.Params("id"), p)
		if err != nil {
			return err
		}
		return c.JSON(NewList(items, next))
	})
	r.Authed("GET", "/repositories/:id", Op{Tag: tag, Summary: "Get a repository and its ingest status", Response: store.Repository{}}, func(c *fiber.Ctx) error {
		repo, err := svc.Get(c.UserContext(), Scope(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(repo)
	})
	r.Authed("DELETE", "/repositories/:id", Op{Tag: tag, Summary: "Delete a repository with its snapshots, scans and findings", Status: 204}, func(c *fiber.Ctx) error {
		if err := svc.Delete(c.UserContext(), Scope(c), c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	r.Authed("POST", "/repositories/:id/ingest", Op{Tag: tag, Summary: "Re-ingest into a new snapshot: clone a Git repository again (JSON, optional git_token), or upload a new archive for an archive or push repository (multipart; 409 for a Git repository)",
		Request: reingestRequest{}, Multipart: true, Response: store.Repository{}, Status: 202}, func(c *fiber.Ctx) error {
		id := c.Params("id")
		var repo *store.Repository
		var err error
		if isMultipart(c) {
			repo, err = svc.ReingestUpload(c.UserContext(), Scope(c), id, c.Get(fiber.HeaderContentType), BodyReader(c))
		} else {
			var in reingestRequest
			if hasBody(c) {
				if err := Decode(c, &in); err != nil {
					return err
				}
			}
			repo, err = svc.Reingest(c.UserContext(), Scope(c), id, in.GitToken, "")
		}
		if err != nil {
			return err
		}
		return JSON(c, fiber.StatusAccepted, repo)
	})
	r.Authed("GET", "/repositories/:id/snapshots", Op{Tag: tag, Summary: "List a repository's snapshots", Response: List[store.Snapshot]{}, Paged: true}, func(c *fiber.Ctx) error {
		p, err := PageParams(c)
		if err != nil {
			return err
		}
		items, next, err := svc.ListSnapshots(c.UserContext(), Scope(c), c.Params("id"), p)
		if err != nil {
			return err
		}
		return c.JSON(NewList(items, next))
	})
	r.Authed("GET", "/repositories/:id/tree", Op{Tag: tag, Summary: "List one directory of a snapshot (latest unless snapshot_id)", Query: []string{"path", "snapshot_id"}, Response: repos.Tree{}}, func(c *fiber.Ctx) error {
		t, err := svc.Tree(c.UserContext(), Scope(c), c.Params("id"), c.Query("snapshot_id"), c.Query("path"))
		if err != nil {
			return err
		}
		return c.JSON(t)
	})
	r.Authed("GET", "/repositories/:id/file", Op{Tag: tag, Summary: "Read one file of a snapshot as text (capped at 1 MiB)", Query: []string{"path", "snapshot_id"}, Response: repos.FileContent{}}, func(c *fiber.Ctx) error {
		f, err := svc.File(c.UserContext(), Scope(c), c.Params("id"), c.Query("snapshot_id"), c.Query("path"))
		if err != nil {
			return err
		}
		return c.JSON(f)
	})

	ptag := "threat profile"
	r.Authed("GET", "/repositories/:id/threat-profile", Op{Tag: ptag, Summary: "Get the repository's threat profile", Response: store.ThreatProfile{}}, func(c *fiber.Ctx) error {
		tp, err := svc.Profile(c.UserContext(), Scope(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(tp)
	})
	r.Authed("PUT", "/repositories/:id/threat-profile", Op{Tag: ptag, Summary: "Replace the threat profile's content (an edit)", Request: store.ThreatProfileContent{}, Response: store.ThreatProfile{}}, func(c *fiber.Ctx) error {
		var in store.ThreatProfileContent
		if err := Decode(c, &in); err != nil {
			return err
		}
		tp, err := svc.PutProfile(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in)
		if err != nil {
			return err
		}
		return c.JSON(tp)
	})
	r.Authed("POST", "/repositories/:id/threat-profile/generate", Op{Tag: ptag, Summary: "Generate the threat profile in the background (status generating, then ready or failed)", Response: store.ThreatProfile{}, Status: 202}, func(c *fiber.Ctx) error {
		tp, err := svc.GenerateProfile(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"))
		if err != nil {
			return err
		}
		return JSON(c, fiber.StatusAccepted, tp)
	})

	gtag := "git uploads"
	r.Authed("POST", "/git-uploads", Op{Tag: gtag, Summary: "Create a one-time push remote: git push <remote_url> HEAD:main makes a repository", Request: repos.GitUploadInput{}, Response: repos.CreatedGitUpload{}, Status: 201}, func(c *fiber.Ctx) error {
		var in repos.GitUploadInput
		if err := Decode(c, &in); err != nil {
			return err
		}
		g, err := svc.CreateGitUpload(c.UserContext(), Scope(c), Principal(c).User.ID, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return JSON(c, fiber.StatusCreated, g)
	})
	r.Authed("GET", "/git-uploads/:id", Op{Tag: gtag, Summary: "Status of a push remote (waiting, received, expired) and the repository it made", Response: store.GitUpload{}}, func(c *fiber.Ctx) error {
		g, err := svc.GetGitUpload(c.UserContext(), Scope(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(g)
	})
}

func isMultipart(c *fiber.Ctx) bool {
	return strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm)
}

func hasBody(c *fiber.Ctx) bool {
	return len(c.Body()) > 0 || c.Context().RequestBodyStream() != nil || c.Request().Header.ContentLength() > 0
}

// gitPushRoutes serves the temporary push remotes (Git smart HTTP, receive-pack
// only) at /git/<token>.git. The token in the path is the credential.
func (r *Router) gitPushRoutes() {
	svc := r.deps.Repos
	handler := func(c *fiber.Ctx) error {
		req, err := gitpush.ParseRequest(c.Method(), c.Path(), c.Query("service"), "/git/")
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-cache")
		switch req.Op {
		case gitpush.OpAdvertise:
			var buf bytes.Buffer
			if err := svc.AdvertisePush(c.UserContext(), req.Token, &buf); err != nil {
				return err
			}
			c.Set(fiber.HeaderContentType, gitpush.AdvertisementContentType)
			return c.Send(buf.Bytes())
		default:
			if !strings.HasPrefix(c.Get(fiber.HeaderContentType), gitpush.ReceiveRequestContentType) {
				return apperr.New(apperr.UnsupportedMediaType, "Expected %s", gitpush.ReceiveRequestContentType)
			}
			var buf bytes.Buffer
			_, err := svc.ReceivePush(c.UserContext(), req.Token, BodyReader(c), strings.EqualFold(c.Get(fiber.HeaderContentEncoding), "gzip"), &buf)
			if buf.Len() > 0 { // the git client prints the in-band report, errors included
				c.Set(fiber.HeaderContentType, gitpush.ResultContentType)
				return c.Send(buf.Bytes())
			}
			return err
		}
	}
	r.app.Get("/git/*", handler)
	r.app.Post("/git/*", handler)
}
