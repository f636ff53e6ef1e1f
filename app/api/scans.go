package api

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

func (h scansAPI) routes() []Route {
	return []Route{
		Route{"POST", "/repositories/:id/scans", withOptionalBody(h.create), Op{Summary: "Queue a scan of the repository's latest snapshot (returns at once)",
			Request: scans.CreateInput{}, BodyOptional: true, Response: ScanView{}, Status: 202}},
		Route{"GET", "/repositories/:id/scans", paged(h.listForRepository), Op{Summary: "List a repository's scans, newest first, each with its changes since the previous complete scan", Response: List[ScanView]{}, Paged: true, Query: []string{"status"}}},
		Route{"GET", "/projects/:id/scans", paged(h.listForProject), Op{Summary: "List the scans of every repository of a project", Response: List[ScanView]{}, Paged: true, Query: []string{"status"}}},
		Route{"GET", "/scans/:id", byID(Scope, h.get), Op{Summary: "Get a scan with progress, stages, counts, changes since the previous complete scan and artifact download links", Response: ScanView{}}},
		Route{"POST", "/scans/:id/cancel", byIDAsCaller(h.cancel), Op{Summary: "Cancel a scan: a queued one at once, a running one cooperatively", Response: ScanView{}}},
		Route{"POST", "/scans/:id/retry", byIDAsCaller(h.retry), Op{Summary: "Queue a new scan with the same snapshot, engines, paths and threat profile as a finished one", Response: ScanView{}, Status: 202}},
		Route{"GET", "/scans/:id/artifacts/:name", h.artifact, Op{Summary: "Download a scan artifact (events.jsonl, summary.json, report.json, report.sarif, debug-bundle.zip)", Produces: "application/octet-stream"}},
	}
}

type scansAPI struct {
	svc      *scans.Service
	findings *findings.Service // a scan's changes since the previous complete scan
}

// ScanView is a scan as the API returns it: the scan plus download links of
// its artifacts (rows keep keys, never URLs).
type ScanView struct {
	store.Scan
	Downloads []ArtifactLink `json:"downloads"`
	// Changes is what the scan changed since the previous complete scan of
	// the repository (GET /scans/:id and a repository's scan list).
	Changes *findings.ScanChanges `json:"changes,omitempty"`
}

// ArtifactLink is where an artifact can be downloaded.
type ArtifactLink struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

func scanView(s *store.Scan) ScanView {
	v := ScanView{Scan: *s, Downloads: []ArtifactLink{}}
	for _, a := range s.Artifacts {
		v.Downloads = append(v.Downloads, ArtifactLink{Name: a.Name, Size: a.Size, URL: "/v1/scans/" + s.ID + "/artifacts/" + a.Name})
	}
	return v
}

// viewOf answers a service call's scan as a ScanView.
func viewOf(s *store.Scan, err error) (ScanView, error) {
	if err != nil {
		return ScanView{}, err
	}
	return scanView(s), nil
}

// withChanges sets each view's changes since the previous complete scan.
func (h scansAPI) withChanges(ctx context.Context, sc store.Scope, items []store.Scan) ([]ScanView, error) {
	changes, err := h.findings.ScanChanges(ctx, sc, items)
	if err != nil {
		return nil, err
	}
	views := scanViews(items)
	for i := range views {
		if ch, ok := changes[views[i].ID]; ok {
			views[i].Changes = &ch
		}
	}
	return views, nil
}

func scanViews(items []store.Scan) []ScanView {
	views := make([]ScanView, 0, len(items))
	for i := range items {
		views = append(views, scanView(&items[i]))
	}
	return views
}

func statusFilter(c *fiber.Ctx) []string {
	var out []string
	for _, s := range strings.Split(c.Query("status"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// create queues a scan; no body means the default engines on the whole repository.
func (h scansAPI) create(c *fiber.Ctx, in scans.CreateInput) (ScanView, error) {
	return viewOf(h.svc.Create(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in))
}

func (h scansAPI) listForRepository(c *fiber.Ctx, p store.Page) ([]ScanView, string, error) {
	items, next, err := h.svc.ListForRepository(c.UserContext(), Scope(c), c.Params("id"), statusFilter(c), p)
	if err != nil {
		return nil, "", err
	}
	views, err := h.withChanges(c.UserContext(), Scope(c), items)
	return views, next, err
}

func (h scansAPI) listForProject(c *fiber.Ctx, p store.Page) ([]ScanView, string, error) {
	items, next, err := h.svc.ListForProject(c.UserContext(), Scope(c), c.Params("id"), statusFilter(c), p)
	return scanViews(items), next, err
}

func (h scansAPI) get(ctx context.Context, sc store.Scope, id string) (ScanView, error) {
	s, err := h.svc.Get(ctx, sc, id)
	if err != nil {
		return ScanView{}, err
	}
	views, err := h.withChanges(ctx, sc, []store.Scan{*s})
	if err != nil {
		return ScanView{}, err
	}
	return views[0], nil
}

func (h scansAPI) cancel(ctx context.Context, sc store.Scope, actor, id string) (ScanView, error) {
	return viewOf(h.svc.Cancel(ctx, sc, actor, id))
}

func (h scansAPI) retry(ctx context.Context, sc store.Scope, userID, id string) (ScanView, error) {
	return viewOf(h.svc.Retry(ctx, sc, userID, id))
}

func (h scansAPI) artifact(c *fiber.Ctx) error {
	a, err := h.svc.OpenArtifact(c.UserContext(), Scope(c), c.Params("id"), c.Params("name"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	attachment(c, a.FileName)
	return c.SendStream(a.Body, int(a.Size)) // fiber closes the body when sent
}
