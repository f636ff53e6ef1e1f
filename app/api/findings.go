package api

import (
	"bytes"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/store"
)

func (h findingsAPI) routes() []Route {
	scanQuery := append(append([]string{}, findingQuery...), "change")
	export := append([]string{"format"}, findingQuery...)
	return []Route{
		Route{"GET", "/repositories/:id/findings", h.list(repositoryTarget), Op{Summary: "List a repository's findings: sorted before paging, with total and per-status counts",
			Response: findings.List{}, Paged: true, Query: findingQuery, QueryDoc: findingQueryDoc}},
		Route{"GET", "/projects/:id/findings", h.list(projectTarget), Op{Summary: "List the findings of every repository of a project",
			Response: findings.List{}, Paged: true, Query: findingQuery, QueryDoc: findingQueryDoc}},
		Route{"GET", "/scans/:id/findings", h.list(scanTarget), Op{Summary: "List the findings a scan reported, or with change= what is new, fixed or unchanged since the previous complete scan",
			Response: findings.List{}, Paged: true, Query: scanQuery, QueryDoc: findingQueryDoc}},
		Route{"GET", "/repositories/:id/findings/rules", h.rules(repositoryTarget), Op{Summary: "A repository's findings grouped by rule: count and highest severity per rule",
			Response: findings.RuleList{}, Query: findingQuery, QueryDoc: findingQueryDoc}},
		Route{"GET", "/projects/:id/findings/rules", h.rules(projectTarget), Op{Summary: "A project's findings grouped by rule",
			Response: findings.RuleList{}, Query: findingQuery, QueryDoc: findingQueryDoc}},
		Route{"GET", "/scans/:id/findings/rules", h.rules(scanTarget), Op{Summary: "A scan's findings grouped by rule",
			Response: findings.RuleList{}, Query: scanQuery, QueryDoc: findingQueryDoc}},
		Route{"GET", "/projects/:id/overview", byID(Scope, h.svc.ProjectOverview), Op{Summary: "A project's rollups in one request: open findings by severity, a 30-day trend of them, and each repository's open findings and last scan",
			Response: findings.Overview{}}},
		Route{"GET", "/repositories/:id/overview", byID(Scope, h.svc.RepositoryOverview), Op{Summary: "A repository's open findings by severity and their 30-day trend",
			Response: findings.Overview{}}},
		Route{"GET", "/findings/:id", byID(Scope, h.svc.Get), Op{Summary: "Get a finding", Response: store.Finding{}}},
		Route{"PATCH", "/findings/:id", withBody(h.triage), Op{Summary: "Triage a finding: open, confirmed or dismissed (a dismissal needs dismissed_reason)",
			Request: findings.Triage{}, Response: store.Finding{}}},
		Route{"POST", "/findings/bulk-triage", withBody(h.bulkTriage), Op{Summary: "Triage up to 10,000 findings at once: listed by ids, or every match of filter (the list parameters plus repository_id, project_id or scan_id)",
			Request: findings.BulkTriage{}, Response: findings.BulkResult{},
			Description: "Applies the decision in one transaction. previous groups the findings it changed by the status and " +
				"dismissed_reason (and note, when the request set one) each had, read in that transaction: sending each group " +
				"with restorable true back as a bulk triage by ids undoes the change. restorable is false for states only Vega " +
				"sets (fixed, dismissed as suppressed_in_source)."}},
		Route{"GET", "/findings/:id/history", listByID(Scope, h.svc.History), Op{Summary: "Every status change of a finding, oldest first",
			Response: List[store.FindingHistory]{}}},
		Route{"GET", "/findings/:id/occurrences", answer(h.occurrences), Op{Summary: "A page of a finding's occurrences with the code around each, each file read once, detected secrets masked",
			Response: findings.Occurrences{}, Query: []string{"offset", "limit", "context"}, QueryDoc: occurrenceQueryDoc}},
		Route{"POST", "/findings/:id/reveal", withOptionalBody(h.reveal), Op{Summary: "The same page of occurrences with the secrets shown; records the reveal in the finding's history first",
			Request: findings.OccurrenceQuery{}, BodyOptional: true, Response: findings.Occurrences{}}},
		Route{"GET", "/repositories/:id/findings/in-file", answer(h.inFile), Op{Summary: "Every place a finding of the repository points at in one file: the file browser's marks and secret masks",
			Response: findings.FileMarks{}, Query: []string{"path"}, QueryDoc: map[string]string{"path": "A file path inside the repository"}}},
		Route{"GET", "/repositories/:id/findings/export", h.export(repositoryTarget), Op{Summary: "Export a repository's findings as SARIF 2.1.0, CSV or JSON", Query: export, Produces: "application/octet-stream"}},
		Route{"GET", "/projects/:id/findings/export", h.export(projectTarget), Op{Summary: "Export the findings of every repository of a project as SARIF 2.1.0 (one run per repository), CSV or JSON; each finding names its repository", Query: export, Produces: "application/octet-stream"}},
		Route{"GET", "/scans/:id/findings/export", h.export(scanTarget), Op{Summary: "Export the findings of one scan as SARIF 2.1.0, CSV or JSON", Query: export, Produces: "application/octet-stream"}},
	}
}

type findingsAPI struct {
	svc     *findings.Service
	version string // stamped into exports
}

var findingQuery = []string{"severity", "status", "engine", "rule", "path_prefix", "cwe", "q", "scan_id", "sort"}

// findingQueryDoc describes the list parameters in the OpenAPI document
// (docs/findings.md).
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

var occurrenceQueryDoc = map[string]string{
	"offset":  "How many occurrences to skip (default 0)",
	"limit":   "Occurrences per page, 1 to 50 (default 10)",
	"context": "Lines of code before and after each occurrence, 0 to 20 (default 3)",
}

func queryOf(c *fiber.Ctx) findings.Query {
	return findings.Query{Severity: c.Query("severity"), Status: c.Query("status"), Engine: c.Query("engine"), Rule: c.Query("rule"),
		PathPrefix: c.Query("path_prefix"), CWE: c.Query("cwe"), Q: c.Query("q"), ScanID: c.Query("scan_id"),
		Sort: c.Query("sort"), Change: c.Query("change")}
}

// targetOf reads a findings route's :id as the target it names: a
// repository, project or scan — the route says which.
type targetOf func(c *fiber.Ctx) findings.Target

func repositoryTarget(c *fiber.Ctx) findings.Target {
	return findings.Target{RepositoryID: c.Params("id")}
}

func projectTarget(c *fiber.Ctx) findings.Target { return findings.Target{ProjectID: c.Params("id")} }

func scanTarget(c *fiber.Ctx) findings.Target { return findings.Target{ScanID: c.Params("id")} }

// list answers one page of the findings of the route's target.
func (h findingsAPI) list(target targetOf) fiber.Handler {
	return answer(func(c *fiber.Ctx) (*findings.List, error) {
		p, err := PageParams(c)
		if err != nil {
			return nil, err
		}
		return h.svc.List(c.UserContext(), Scope(c), target(c), queryOf(c), p)
	})
}

// rules answers the route's target's findings grouped by rule.
func (h findingsAPI) rules(target targetOf) fiber.Handler {
	return answer(func(c *fiber.Ctx) (*findings.RuleList, error) {
		return h.svc.Rules(c.UserContext(), Scope(c), target(c), queryOf(c))
	})
}

func (h findingsAPI) triage(c *fiber.Ctx, in findings.Triage) (*store.Finding, error) {
	return h.svc.Triage(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in)
}

func (h findingsAPI) bulkTriage(c *fiber.Ctx, in findings.BulkTriage) (*findings.BulkResult, error) {
	return h.svc.BulkTriage(c.UserContext(), Scope(c), Principal(c).User.ID, in)
}

func (h findingsAPI) occurrences(c *fiber.Ctx) (*findings.Occurrences, error) {
	q := findings.OccurrenceQuery{}
	var err error
	if q.Offset, err = intQuery(c, "offset"); err != nil {
		return nil, err
	}
	if q.Limit, err = intQuery(c, "limit"); err != nil {
		return nil, err
	}
	if c.Query("context") != "" {
		n, err := intQuery(c, "context")
		if err != nil {
			return nil, err
		}
		q.Context = &n
	}
	return h.svc.Occurrences(c.UserContext(), Scope(c), c.Params("id"), q)
}

// reveal takes the same page as occurrences, in a body that may be left out.
func (h findingsAPI) reveal(c *fiber.Ctx, q findings.OccurrenceQuery) (*findings.Occurrences, error) {
	return h.svc.Reveal(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), q)
}

func (h findingsAPI) inFile(c *fiber.Ctx) (*findings.FileMarks, error) {
	return h.svc.InFile(c.UserContext(), Scope(c), c.Params("id"), c.Query("path"))
}

// export answers the route's target's findings as a file. It renders in
// memory first, so an error is still answered in the envelope instead of
// cutting a half-written file.
func (h findingsAPI) export(target targetOf) fiber.Handler {
	return func(c *fiber.Ctx) error {
		format := c.Query("format", "sarif")
		ct, err := findings.ExportFormat(format)
		if err != nil {
			return err
		}
		t := target(c)
		var buf bytes.Buffer
		name, err := h.svc.Export(c.UserContext(), Scope(c), &buf, format, findings.ExportTarget{
			RepositoryID: t.RepositoryID, ProjectID: t.ProjectID, ScanID: t.ScanID, Query: queryOf(c), Version: h.version})
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, ct)
		attachment(c, name)
		return c.Send(buf.Bytes())
	}
}

// intQuery reads an optional whole-number query parameter; absent is 0 (the
// service's default).
func intQuery(c *fiber.Ctx, name string) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, apperr.Validation(map[string]string{name: "must be a whole number"})
	}
	return n, nil
}
