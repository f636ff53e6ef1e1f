package repos

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"path"
	"strings"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
)

// An archive upload is a multipart/form-data body with the parts "archive"
// (a zip, tar or tar.gz file) and "name" (optional; the file's name without
// its extension otherwise). It is read as it streams in: the archive goes
// straight to blob storage, cut off at VEGA_MAX_SOURCE_BYTES, never to memory.

// CreateFromUpload makes a repository of an uploaded archive in a project and
// ingests it in the background. The quota is checked before a byte is stored.
func (s *Service) CreateFromUpload(ctx context.Context, sc store.Scope, projectID, contentType string, body io.Reader) (*store.Repository, error) {
	up, err := s.stageUpload(ctx, sc, uploadTarget{ProjectID: projectID}, contentType, body)
	if err != nil {
		return nil, err
	}
	return s.createFromArchive(ctx, sc, projectID, up.stagedID, up.name)
}

// ReingestUpload re-ingests an archive or push repository from a new
// uploaded archive. A Git repository takes none (refused before a byte is stored).
func (s *Service) ReingestUpload(ctx context.Context, sc store.Scope, id, contentType string, body io.Reader) (*store.Repository, error) {
	up, err := s.stageUpload(ctx, sc, uploadTarget{RepositoryID: id}, contentType, body)
	if err != nil {
		return nil, err
	}
	return s.Reingest(ctx, sc, id, "", up.stagedID)
}

type stagedUpload struct {
	stagedID string
	name     string
}

// stageUpload refuses an upload to target before a byte is stored
// (beforeUpload), then reads the multipart body, staging the archive part;
// on any error nothing stays staged.
func (s *Service) stageUpload(ctx context.Context, sc store.Scope, target uploadTarget, contentType string, body io.Reader) (*stagedUpload, error) {
	if err := s.beforeUpload(ctx, sc, target); err != nil {
		return nil, err
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, apperr.BadRequestf("The multipart body has no boundary")
	}
	mr := multipart.NewReader(body, params["boundary"])
	up := &stagedUpload{}
	fileName := ""
	fail := func(err error) (*stagedUpload, error) {
		if up.stagedID != "" {
			s.discardStaged(ctx, up.stagedID)
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
			id, _, err := s.stageArchive(ctx, sc, part)
			if err != nil {
				return fail(err)
			}
			up.stagedID = id
		default:
			// Strict like a JSON body (docs/architecture.md, "API conventions"):
			// a misspelt "name" must not silently become the archive's name.
			field := textsafe.Echo(part.FormName())
			if field == "" {
				field = "(unnamed part)"
			}
			return fail(apperr.Validation(map[string]string{field: "is not a part of this upload (name, archive)"}))
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
