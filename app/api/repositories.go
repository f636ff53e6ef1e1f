package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitpush"
	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/app/textsafe"
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
			if err := svc.BeforeUpload(c.UserContext(), Scope(c), repos.UploadTarget{ProjectID: projectID}); err != nil {
				return err // before storing a byte of the upload
			}
			up, err := r.readArchiveUpload(c)
			if err != nil {
				return err
			}
			repo, err := svc.CreateFromArchive(c.UserContext(), Scope(c), projectID, up.stagedID, up.name)
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
		var token, staged string
		if isMultipart(c) {
			if err := svc.BeforeUpload(c.UserContext(), Scope(c), repos.UploadTarget{RepositoryID: id}); err != nil {
				return err // before storing a byte: e.g. a Git repository takes no archive
			}
			up, err := r.readArchiveUpload(c)
			if err != nil {
				return err
			}
			staged = up.stagedID
		} else if hasBody(c) {
			var in reingestRequest
			if err := Decode(c, &in); err != nil {
				return err
			}
			token = in.GitToken
		}
		repo, err := svc.Reingest(c.UserContext(), Scope(c), id, token, staged)
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

type archiveUpload struct {
	stagedID string
	name     string
}

// readArchiveUpload parses a multipart body as it streams in: the archive part
// goes straight to blob storage (cut off at VEGA_MAX_SOURCE_BYTES), never to memory.
func (r *Router) readArchiveUpload(c *fiber.Ctx) (*archiveUpload, error) {
	_, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || params["boundary"] == "" {
		return nil, apperr.BadRequestf("The multipart body has no boundary")
	}
	mr := multipart.NewReader(BodyReader(c), params["boundary"])
	up := &archiveUpload{}
	fileName := ""
	fail := func(err error) (*archiveUpload, error) {
		if up.stagedID != "" {
			r.deps.Repos.DiscardStaged(c.UserContext(), up.stagedID)
		}
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(apperr.BadRequestf("The multipart body is malformed"))
		}
		switch part.FormName() {
		case "name":
			var b bytes.Buffer
			if n, _ := io.Copy(&b, io.LimitReader(part, 1025)); n > 1024 {
				return fail(apperr.Validation(map[string]string{"name": "must be at most 200 characters"}))
			}
			up.name = b.String()
		case "archive":
			if up.stagedID != "" {
				return fail(apperr.Validation(map[string]string{"archive": "send exactly one archive"}))
			}
			fileName = part.FileName()
			id, _, err := r.deps.Repos.StageArchive(c.UserContext(), Scope(c), part)
			if err != nil {
				return fail(err)
			}
			up.stagedID = id
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, 1<<20)); err != nil {
				return fail(apperr.BadRequestf("The multipart body is malformed"))
			}
		}
		part.Close()
	}
	if up.stagedID == "" {
		return nil, apperr.Validation(map[string]string{"archive": "is required (a zip, tar or tar.gz file)"})
	}
	if strings.TrimSpace(up.name) == "" {
		up.name = archiveBaseName(fileName)
	}
	return up, nil
}

// archiveBaseName turns "shop-v2.tar.gz" into "shop-v2".
func archiveBaseName(fileName string) string {
	n := path.Base(strings.ReplaceAll(fileName, "\\", "/"))
	for _, ext := range []string{".tar.gz", ".tgz", ".tar.zst", ".tar", ".zip"} {
		if strings.HasSuffix(strings.ToLower(n), ext) {
			return n[:len(n)-len(ext)]
		}
	}
	if _, problem := textsafe.Name(n, textsafe.MaxName); problem != "" || n == "." || n == "/" {
		return "upload" // the name was not given, so a hostile file name is not the client's error
	}
	return n
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
