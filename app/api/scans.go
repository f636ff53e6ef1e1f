package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

func (r *Router) scanRoutes() {
	h := scansAPI{svc: r.deps.Scans, findings: r.deps.Findings}
	const tag = "scans"
	r.Add(
		Route{"POST", "/repositories/:id/scans", h.create, Op{Tag: tag, Summary: "Queue a scan of the repository's latest snapshot (returns at once)",
			Request: scans.CreateInput{}, BodyOptional: true, Response: ScanView{}, Status: 202}},
		Route{"GET", "/repositories/:id/scans", h.listForRepository, Op{Tag: tag, Summary: "List a repository's scans, newest first, each with its changes since the previous complete scan", Response: List[ScanView]{}, Paged: true, Query: []string{"status"}}},
		Route{"GET", "/projects/:id/scans", h.listForProject, Op{Tag: tag, Summary: "List the scans of every repository of a project", Response: List[ScanView]{}, Paged: true, Query: []string{"status"}}},
		Route{"GET", "/scans/:id", h.get, Op{Tag: tag, Summary: "Get a scan with progress, stages, counts, changes since the previous complete scan and artifact download links", Response: ScanView{}}},
		Route{"POST", "/scans/:id/cancel", h.cancel, Op{Tag: tag, Summary: "Cancel a scan: a queued one at once, a running one cooperatively", Response: ScanView{}}},
		Route{"POST", "/scans/:id/retry", h.retry, Op{Tag: tag, Summary: "Queue a new scan with the same snapshot, engines, paths and threat profile as a finished one", Response: ScanView{}, Status: 202}},
		Route{"GET", "/scans/:id/artifacts/:name", h.artifact, Op{Tag: tag, Summary: "Download a scan artifact (events.jsonl, summary.json, report.json, report.sarif, debug-bundle.zip)", Produces: "application/octet-stream"}},
	)
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

func scanViews(items []store.Scan, next string) List[ScanView] {
	views := make([]ScanView, 0, len(items))
	for i := range items {
		views = append(views, scanView(&items[i]))
	}
	return NewList(views, next)
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
func (h scansAPI) create(c *fiber.Ctx) error {
	var in scans.CreateInput
	if err := DecodeOptional(c, &in); err != nil {
		return err
	}
	s, err := h.svc.Create(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return JSON(c, fiber.StatusAccepted, scanView(s))
}

func (h scansAPI) listForRepository(c *fiber.Ctx) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.ListForRepository(c.UserContext(), Scope(c), c.Params("id"), statusFilter(c), p)
	if err != nil {
		return err
	}
	changes, err := h.findings.ScanChanges(c.UserContext(), Scope(c), items)
	if err != nil {
		return err
	}
	list := scanViews(items, next)
	for i := range list.Items {
		if ch, ok := changes[list.Items[i].ID]; ok {
			list.Items[i].Changes = &ch
		}
	}
	return c.JSON(list)
}

func (h scansAPI) listForProject(c *fiber.Ctx) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.ListForProject(c.UserContext(), Scope(c), c.Params("id"), statusFilter(c), p)
	if err != nil {
		return err
	}
	return c.JSON(scanViews(items, next))
}

func (h scansAPI) get(c *fiber.Ctx) error {
	s, err := h.svc.Get(c.UserContext(), Scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	changes, err := h.findings.ScanChanges(c.UserContext(), Scope(c), []store.Scan{*s})
	if err != nil {
		return err
	}
	v := scanView(s)
	if ch, ok := changes[s.ID]; ok {
		v.Changes = &ch
	}
	return c.JSON(v)
}

func (h scansAPI) cancel(c *fiber.Ctx) error {
	s, err := h.svc.Cancel(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(scanView(s))
}

func (h scansAPI) retry(c *fiber.Ctx) error {
	s, err := h.svc.Retry(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"))
	if err != nil {
		return err
	}
	return JSON(c, fiber.StatusAccepted, scanView(s))
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
