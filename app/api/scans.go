package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

// ScanDeps are the services behind the scan, event and finding routes.
type ScanDeps struct {
	Scans    *scans.Service
	Findings *findings.Service
	Version  string // stamped into exports
}

// ScanRoutes registers the scan, event and finding routes; add it to Deps.Extra:
//
//	Extra: []func(*api.Router){api.ScanRoutes(api.ScanDeps{...})}
func ScanRoutes(d ScanDeps) func(r *Router) {
	return func(r *Router) {
		r.scanRoutes(d)
		r.eventRoutes(d)
		r.findingRoutes(d)
	}
}

// ScanView is a scan as the API returns it: the scan plus download links of
// its artifacts (rows keep keys, never URLs).
type ScanView struct {
	store.Scan
	Downloads []ArtifactLink `json:"downloads"`
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

func statusFilter(c *fiber.Ctx) []string {
	var out []string
	for _, s := range strings.Split(c.Query("status"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (r *Router) scanRoutes(d ScanDeps) {
	svc := d.Scans
	tag := "scans"
	r.Authed("POST", "/repositories/:id/scans", Op{Tag: tag, Summary: "Queue a scan of the repository's latest snapshot (returns at once)",
		Request: scans.CreateInput{}, Response: ScanView{}, Status: 202}, func(c *fiber.Ctx) error {
		var in scans.CreateInput
		// The body is optional: no body means default engines, whole repository.
		if c.Request().Header.ContentLength() != 0 {
			if err := Decode(c, &in); err != nil {
				return err
			}
		}
		s, err := svc.Create(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in)
		if err != nil {
			return err
		}
		return JSON(c, fiber.StatusAccepted, scanView(s))
	})
	list := func(byProject bool) fiber.Handler {
		return func(c *fiber.Ctx) error {
			p, err := PageParams(c)
			if err != nil {
				return err
			}
			var items []store.Scan
			var next string
			if byProject {
				items, next, err = svc.ListForProject(c.UserContext(), Scope(c), c.Params("id"), statusFilter(c), p)
			} else {
				items, next, err = svc.ListForRepository(c.UserContext(), Scope(c), c.Params("id"), statusFilter(c), p)
			}
			if err != nil {
				return err
			}
			views := make([]ScanView, 0, len(items))
			for i := range items {
				views = append(views, scanView(&items[i]))
			}
			return c.JSON(NewList(views, next))
		}
	}
	r.Authed("GET", "/repositories/:id/scans", Op{Tag: tag, Summary: "List a repository's scans, newest first", Response: List[ScanView]{}, Paged: true, Query: []string{"status"}}, list(false))
	r.Authed("GET", "/projects/:id/scans", Op{Tag: tag, Summary: "List the scans of every repository of a project", Response: List[ScanView]{}, Paged: true, Query: []string{"status"}}, list(true))
	r.Authed("GET", "/scans/:id", Op{Tag: tag, Summary: "Get a scan with progress, stages, counts and artifact download links", Response: ScanView{}}, func(c *fiber.Ctx) error {
		s, err := svc.Get(c.UserContext(), Scope(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(scanView(s))
	})
	r.Authed("POST", "/scans/:id/cancel", Op{Tag: tag, Summary: "Cancel a scan: a queued one at once, a running one cooperatively", Response: ScanView{}}, func(c *fiber.Ctx) error {
		s, err := svc.Cancel(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(scanView(s))
	})
	r.Authed("POST", "/scans/:id/retry", Op{Tag: tag, Summary: "Queue a new scan with the same snapshot, engines, paths and threat profile as a finished one", Response: ScanView{}, Status: 202}, func(c *fiber.Ctx) error {
		s, err := svc.Retry(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"))
		if err != nil {
			return err
		}
		return JSON(c, fiber.StatusAccepted, scanView(s))
	})
	r.Authed("GET", "/scans/:id/artifacts/:name", Op{Tag: tag, Summary: "Download a scan artifact (events.jsonl, summary.json, report.json, report.sarif, debug-bundle.zip)", Produces: "application/octet-stream"}, func(c *fiber.Ctx) error {
		a, err := svc.OpenArtifact(c.UserContext(), Scope(c), c.Params("id"), c.Params("name"))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, a.ContentType)
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+a.FileName+`"`)
		c.Set("X-Content-Type-Options", "nosniff")
		return c.SendStream(a.Body, int(a.Size))
	})
}
