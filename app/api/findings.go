package api

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/store"
)

var findingQuery = []string{"severity", "status", "engine", "rule", "path_prefix", "cwe", "q", "scan_id", "sort"}

// findingQueryDoc describes the list parameters in the OpenAPI document
// (README, "Findings lists").
var findingQueryDoc = map[string]string{
	"severity":    "Comma list of critical, high, medium, low, info",
	"status":      "Comma list of open, confirmed, dismissed, fixed (counts ignores it: one number per status tab)",
	"engine":      "Comma list of engine names",
	"rule":        "Comma list of rule IDs (gitleaks rule, or the Codex category), exact",
	"path_prefix": "Findings under this repository path",
	"cwe":         "One CWE, e.g. CWE-79",
	"q":           "Case-insensitive substring of title, description, path or rule ID",
	"scan_id":     "Findings this scan reported",
	"sort": "severity, path, rule, first_seen, last_seen or status, - first for descending; applied before paging. " +
		"Ascending is info→critical, A→Z, oldest first, open→fixed; ties by path then ID. Default -severity (most severe first, then path). " +
		"The cursor is a keyset position of this sort: pass it back with the same sort and filters",
	"change": "new, fixed or unchanged: relative to the previous complete scan of the repository (base_scan_id in the answer)",
}

func queryOf(c *fiber.Ctx) findings.Query {
	return findings.Query{Severity: c.Query("severity"), Status: c.Query("status"), Engine: c.Query("engine"), Rule: c.Query("rule"),
		PathPrefix: c.Query("path_prefix"), CWE: c.Query("cwe"), Q: c.Query("q"), ScanID: c.Query("scan_id"),
		Sort: c.Query("sort"), Change: c.Query("change")}
}

func (r *Router) findingRoutes(d ScanDeps) {
	svc := d.Findings
	tag := "findings"
	list := func(target func(id string) findings.Target) fiber.Handler {
		return func(c *fiber.Ctx) error {
			p, err := PageParams(c)
			if err != nil {
				return err
			}
			l, err := svc.List(c.UserContext(), Scope(c), target(c.Params("id")), queryOf(c), p)
			if err != nil {
				return err
			}
			return c.JSON(l)
		}
	}
	rules := func(target func(id string) findings.Target) fiber.Handler {
		return func(c *fiber.Ctx) error {
			l, err := svc.Rules(c.UserContext(), Scope(c), target(c.Params("id")), queryOf(c))
			if err != nil {
				return err
			}
			return c.JSON(l)
		}
	}
	byRepo := func(id string) findings.Target { return findings.Target{RepositoryID: id} }
	byProject := func(id string) findings.Target { return findings.Target{ProjectID: id} }
	byScan := func(id string) findings.Target { return findings.Target{ScanID: id} }
	scanQuery := append(append([]string{}, findingQuery...), "change")
	r.Authed("GET", "/repositories/:id/findings", Op{Tag: tag, Summary: "List a repository's findings: sorted before paging, with total and per-status counts",
		Response: findings.List{}, Paged: true, Query: findingQuery, QueryDoc: findingQueryDoc}, list(byRepo))
	r.Authed("GET", "/projects/:id/findings", Op{Tag: tag, Summary: "List the findings of every repository of a project",
		Response: findings.List{}, Paged: true, Query: findingQuery, QueryDoc: findingQueryDoc}, list(byProject))
	r.Authed("GET", "/scans/:id/findings", Op{Tag: tag, Summary: "List the findings a scan reported, or with change= what is new, fixed or unchanged since the previous complete scan",
		Response: findings.List{}, Paged: true, Query: scanQuery, QueryDoc: findingQueryDoc}, list(byScan))
	r.Authed("GET", "/repositories/:id/findings/rules", Op{Tag: tag, Summary: "A repository's findings grouped by rule: count and highest severity per rule",
		Response: findings.RuleList{}, Query: findingQuery, QueryDoc: findingQueryDoc}, rules(byRepo))
	r.Authed("GET", "/projects/:id/findings/rules", Op{Tag: tag, Summary: "A project's findings grouped by rule",
		Response: findings.RuleList{}, Query: findingQuery, QueryDoc: findingQueryDoc}, rules(byProject))
	r.Authed("GET", "/scans/:id/findings/rules", Op{Tag: tag, Summary: "A scan's findings grouped by rule",
		Response: findings.RuleList{}, Query: scanQuery, QueryDoc: findingQueryDoc}, rules(byScan))
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
	r.Authed("POST", "/findings/bulk-triage", Op{Tag: tag, Summary: "Triage up to 10,000 findings at once: listed by ids, or every match of filter (the list parameters plus repository_id, project_id or scan_id)",
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
			name, err := svc.Export(c.UserContext(), Scope(c), &buf, format, t)
			if err != nil {
				return err
			}
			c.Set(fiber.HeaderContentType, ct)
			c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
			return c.Send(buf.Bytes())
		}
	}
	q := append([]string{"format"}, findingQuery...)
	r.Authed("GET", "/repositories/:id/findings/export", Op{Tag: tag, Summary: "Export a repository's findings as SARIF 2.1.0, CSV or JSON", Query: q, Produces: "application/octet-stream"}, exporter(false))
	r.Authed("GET", "/scans/:id/findings/export", Op{Tag: tag, Summary: "Export the findings of one scan as SARIF 2.1.0, CSV or JSON", Query: q, Produces: "application/octet-stream"}, exporter(true))
}
