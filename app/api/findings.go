package api

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/store"
)

var findingQuery = []string{"severity", "status", "engine", "path_prefix", "cwe", "q", "scan_id"}

func queryOf(c *fiber.Ctx) findings.Query {
	return findings.Query{Severity: c.Query("severity"), Status: c.Query("status"), Engine: c.Query("engine"),
		PathPrefix: c.Query("path_prefix"), CWE: c.Query("cwe"), Q: c.Query("q"), ScanID: c.Query("scan_id")}
}

func (r *Router) findingRoutes(d ScanDeps) {
	svc := d.Findings
	tag := "findings"
	type lister func(c *fiber.Ctx, q findings.Query, p store.Page) ([]store.Finding, string, error)
	list := func(fn lister) fiber.Handler {
		return func(c *fiber.Ctx) error {
			p, err := PageParams(c)
			if err != nil {
				return err
			}
			items, next, err := fn(c, queryOf(c), p)
			if err != nil {
				return err
			}
			return c.JSON(NewList(items, next))
		}
	}
	r.Authed("GET", "/repositories/:id/findings", Op{Tag: tag, Summary: "List a repository's findings with filters (comma lists for severity, status, engine)",
		Response: List[store.Finding]{}, Paged: true, Query: findingQuery}, list(func(c *fiber.Ctx, q findings.Query, p store.Page) ([]store.Finding, string, error) {
		return svc.ListForRepository(c.UserContext(), Scope(c), c.Params("id"), q, p)
	}))
	r.Authed("GET", "/projects/:id/findings", Op{Tag: tag, Summary: "List the findings of every repository of a project",
		Response: List[store.Finding]{}, Paged: true, Query: findingQuery}, list(func(c *fiber.Ctx, q findings.Query, p store.Page) ([]store.Finding, string, error) {
		return svc.ListForProject(c.UserContext(), Scope(c), c.Params("id"), q, p)
	}))
	r.Authed("GET", "/scans/:id/findings", Op{Tag: tag, Summary: "List the findings a scan reported",
		Response: List[store.Finding]{}, Paged: true, Query: findingQuery}, list(func(c *fiber.Ctx, q findings.Query, p store.Page) ([]store.Finding, string, error) {
		return svc.ListForScan(c.UserContext(), Scope(c), c.Params("id"), q, p)
	}))
	r.Authed("GET", "/findings/:id", Op{Tag: tag, Summary: "Get a finding", Response: store.Finding{}}, func(c *fiber.Ctx) error {
		f, err := svc.Get(c.UserContext(), Scope(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(f)
	})
	r.Authed("PATCH", "/findings/:id", Op{Tag: tag, Summary: "Triage a finding: open, confirmed or dismissed (a dismissal needs dismissed_reason)",
		Request: findings.Triage{}, Response: store.Finding{}}, func(c *fiber.Ctx) error {
		var in findings.Triage
		if err := Decode(c, &in); err != nil {
			return err
		}
		f, err := svc.Triage(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in)
		if err != nil {
			return err
		}
		return c.JSON(f)
	})
	r.Authed("POST", "/findings/bulk-triage", Op{Tag: tag, Summary: "Triage up to 500 findings at once",
		Request: findings.BulkTriage{}, Response: findings.BulkResult{}}, func(c *fiber.Ctx) error {
		var in findings.BulkTriage
		if err := Decode(c, &in); err != nil {
			return err
		}
		res, err := svc.BulkTriage(c.UserContext(), Scope(c), Principal(c).User.ID, in)
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
	r.Authed("GET", "/findings/:id/history", Op{Tag: tag, Summary: "Every status change of a finding, oldest first",
		Response: List[store.FindingHistory]{}}, func(c *fiber.Ctx) error {
		h, err := svc.History(c.UserContext(), Scope(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(NewList(h, ""))
	})
	exporter := func(byScan bool) fiber.Handler {
		return func(c *fiber.Ctx) error {
			format := c.Query("format", "sarif")
			ct, err := findings.ExportFormat(format)
			if err != nil {
				return err
			}
			t := findings.ExportTarget{Query: queryOf(c), Version: d.Version}
			if byScan {
				t.ScanID = c.Params("id")
			} else {
				t.RepositoryID = c.Params("id")
			}
			// Rendered in memory first so an error is still answered in the
			// envelope instead of cutting a half-written file.
			var buf bytes.Buffer
			if err := svc.Export(c.UserContext(), Scope(c), &buf, format, t); err != nil {
				return err
			}
			ext := map[string]string{"sarif": "sarif", "csv": "csv", "json": "json"}[format]
			c.Set(fiber.HeaderContentType, ct)
			c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+c.Params("id")+"-findings."+ext+`"`)
			return c.Send(buf.Bytes())
		}
	}
	q := append([]string{"format"}, findingQuery...)
	r.Authed("GET", "/repositories/:id/findings/export", Op{Tag: tag, Summary: "Export a repository's findings as SARIF 2.1.0, CSV or JSON", Query: q, Produces: "application/octet-stream"}, exporter(false))
	r.Authed("GET", "/scans/:id/findings/export", Op{Tag: tag, Summary: "Export the findings of one scan as SARIF 2.1.0, CSV or JSON", Query: q, Produces: "application/octet-stream"}, exporter(true))
}
