package api

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/store"
)

func (r *Router) findingRoutes() {
	h := findingsAPI{svc: r.deps.Findings, version: r.deps.Version}
	const tag = "findings"
	export := append([]string{"format"}, findingQuery...)
	r.Add(
		Route{"GET", "/repositories/:id/findings", h.listForRepository, Op{Tag: tag, Summary: "List a repository's findings with filters (comma lists for severity, status, engine)",
			Response: List[store.Finding]{}, Paged: true, Query: findingQuery}},
		Route{"GET", "/projects/:id/findings", h.listForProject, Op{Tag: tag, Summary: "List the findings of every repository of a project",
			Response: List[store.Finding]{}, Paged: true, Query: findingQuery}},
		Route{"GET", "/scans/:id/findings", h.listForScan, Op{Tag: tag, Summary: "List the findings a scan reported",
			Response: List[store.Finding]{}, Paged: true, Query: findingQuery}},
		Route{"GET", "/findings/:id", h.get, Op{Tag: tag, Summary: "Get a finding", Response: store.Finding{}}},
		Route{"PATCH", "/findings/:id", h.triage, Op{Tag: tag, Summary: "Triage a finding: open, confirmed or dismissed (a dismissal needs dismissed_reason)",
			Request: findings.Triage{}, Response: store.Finding{}}},
		Route{"POST", "/findings/bulk-triage", h.bulkTriage, Op{Tag: tag, Summary: "Triage up to 500 findings at once",
			Request: findings.BulkTriage{}, Response: findings.BulkResult{}}},
		Route{"GET", "/findings/:id/history", h.history, Op{Tag: tag, Summary: "Every status change of a finding, oldest first",
			Response: List[store.FindingHistory]{}}},
		Route{"GET", "/repositories/:id/findings/export", h.exportRepository, Op{Tag: tag, Summary: "Export a repository's findings as SARIF 2.1.0, CSV or JSON", Query: export, Produces: "application/octet-stream"}},
		Route{"GET", "/scans/:id/findings/export", h.exportScan, Op{Tag: tag, Summary: "Export the findings of one scan as SARIF 2.1.0, CSV or JSON", Query: export, Produces: "application/octet-stream"}},
	)
}

type findingsAPI struct {
	svc     *findings.Service
	version string // stamped into exports
}

var findingQuery = []string{"severity", "status", "engine", "path_prefix", "cwe", "q", "scan_id"}

func queryOf(c *fiber.Ctx) findings.Query {
	return findings.Query{Severity: c.Query("severity"), Status: c.Query("status"), Engine: c.Query("engine"),
		PathPrefix: c.Query("path_prefix"), CWE: c.Query("cwe"), Q: c.Query("q"), ScanID: c.Query("scan_id")}
}

type findingLister func(c *fiber.Ctx, id string, q findings.Query, p store.Page) ([]store.Finding, string, error)

// list answers one page of findings from a lister (by repository, project or scan).
func (h findingsAPI) list(c *fiber.Ctx, fn findingLister) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	items, next, err := fn(c, c.Params("id"), queryOf(c), p)
	if err != nil {
		return err
	}
	return c.JSON(NewList(items, next))
}

func (h findingsAPI) listForRepository(c *fiber.Ctx) error {
	return h.list(c, func(c *fiber.Ctx, id string, q findings.Query, p store.Page) ([]store.Finding, string, error) {
		return h.svc.ListForRepository(c.UserContext(), Scope(c), id, q, p)
	})
}

func (h findingsAPI) listForProject(c *fiber.Ctx) error {
	return h.list(c, func(c *fiber.Ctx, id string, q findings.Query, p store.Page) ([]store.Finding, string, error) {
		return h.svc.ListForProject(c.UserContext(), Scope(c), id, q, p)
	})
}

func (h findingsAPI) listForScan(c *fiber.Ctx) error {
	return h.list(c, func(c *fiber.Ctx, id string, q findings.Query, p store.Page) ([]store.Finding, string, error) {
		return h.svc.ListForScan(c.UserContext(), Scope(c), id, q, p)
	})
}

func (h findingsAPI) get(c *fiber.Ctx) error {
	f, err := h.svc.Get(c.UserContext(), Scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (h findingsAPI) triage(c *fiber.Ctx) error {
	var in findings.Triage
	if err := Decode(c, &in); err != nil {
		return err
	}
	f, err := h.svc.Triage(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (h findingsAPI) bulkTriage(c *fiber.Ctx) error {
	var in findings.BulkTriage
	if err := Decode(c, &in); err != nil {
		return err
	}
	res, err := h.svc.BulkTriage(c.UserContext(), Scope(c), Principal(c).User.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h findingsAPI) history(c *fiber.Ctx) error {
	hist, err := h.svc.History(c.UserContext(), Scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(NewList(hist, ""))
}

func (h findingsAPI) exportRepository(c *fiber.Ctx) error {
	return h.export(c, findings.ExportTarget{RepositoryID: c.Params("id")})
}

func (h findingsAPI) exportScan(c *fiber.Ctx) error {
	return h.export(c, findings.ExportTarget{ScanID: c.Params("id")})
}

// export renders in memory first, so an error is still answered in the
// envelope instead of cutting a half-written file.
func (h findingsAPI) export(c *fiber.Ctx, t findings.ExportTarget) error {
	format := c.Query("format", "sarif")
	ct, err := findings.ExportFormat(format)
	if err != nil {
		return err
	}
	t.Query, t.Version = queryOf(c), h.version
	var buf bytes.Buffer
	if err := h.svc.Export(c.UserContext(), Scope(c), &buf, format, t); err != nil {
		return err
	}
	ext := map[string]string{"sarif": "sarif", "csv": "csv", "json": "json"}[format]
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+c.Params("id")+"-findings."+ext+`"`)
	return c.Send(buf.Bytes())
}
