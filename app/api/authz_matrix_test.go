package api_test

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/server/servertest"
)

// access is who may call a route, as the authorization matrix checks it.
type access int

const (
	// public needs no credential (health, sign-in); its hostile input is
	// TestEveryRouteAnswersBadInputWithTheEnvelope's.
	public access = iota + 1
	// signedIn is any signed-in user acting on their own account or making
	// objects of their own: another user is answered about themself, never
	// with the owner's objects.
	signedIn
	// owned points at an ordinary user's object (in the path, or in the body
	// the row sends): anyone else gets 404, exactly as for an object that
	// does not exist.
	owned
	// operator and root routes need that group: a plain user gets 403.
	operator
	root
)

func (a access) String() string {
	return map[access]string{public: "public", signedIn: "signed-in", owned: "owned", operator: "operator", root: "root"}[a]
}

// authzRow is one route of the matrix: who may call it and, for a route that
// takes a body, one the route accepts, so the call reaches the ownership
// check instead of stopping at validation. {project}, {repository},
// {snapshot}, {scan} and {finding} in it become the owner's objects.
type authzRow struct {
	access access
	body   string
	query  string // a query the route needs to get that far
}

// authzMatrix lists every /v1 route by "METHOD /v1/path" (as in the route
// tables). A route that is registered but not listed here fails
// TestAuthorizationMatrix: add it, with its access and (for a body) a body it
// accepts.
var authzMatrix = map[string]authzRow{
	"GET /v1/healthz":       {access: public},
	"GET /v1/readyz":        {access: public},
	"GET /v1/auth/config":   {access: public},
	"POST /v1/auth/login":   {access: public},
	"POST /v1/auth/refresh": {access: public},
	"POST /v1/auth/logout":  {access: public},
	"GET /v1/auth/me":       {access: signedIn},

	"GET /v1/users":                      {access: root},
	"POST /v1/users":                     {access: root, body: `{"email":"new@example.com","password":"correct horse battery"}`},
	"GET /v1/users/:id":                  {access: root},
	"PATCH /v1/users/:id":                {access: root, body: `{"display_name":"taken over"}`},
	"POST /v1/users/:id/revoke-sessions": {access: owned},
	"DELETE /v1/users/:id":               {access: root},

	"GET /v1/api-keys":        {access: signedIn},
	"POST /v1/api-keys":       {access: signedIn, body: `{"name":"mine"}`},
	"DELETE /v1/api-keys/:id": {access: owned},

	"GET /v1/projects":                   {access: signedIn},
	"POST /v1/projects":                  {access: signedIn, body: `{"name":"mine"}`},
	"GET /v1/projects/:id":               {access: owned},
	"PUT /v1/projects/:id":               {access: owned, body: `{"name":"taken over"}`},
	"DELETE /v1/projects/:id":            {access: owned},
	"POST /v1/projects/:id/repositories": {access: owned, body: `{"name":"planted","git_url":"https://git.example.com/x.git"}`},
	"GET /v1/projects/:id/repositories":  {access: owned},

	"GET /v1/repositories/:id":                                             {access: owned},
	"DELETE /v1/repositories/:id":                                          {access: owned},
	"POST /v1/repositories/:id/ingest":                                     {access: owned, body: `{}`},
	"GET /v1/repositories/:id/snapshots":                                   {access: owned},
	"GET /v1/repositories/:id/tree":                                        {access: owned},
	"GET /v1/repositories/:id/file":                                        {access: owned, query: "path=deploy/prod.env"},
	"GET /v1/repositories/:id/threat-profile":                              {access: owned},
	"PUT /v1/repositories/:id/threat-profile":                              {access: owned, body: `{"summary":"taken over"}`},
	"POST /v1/repositories/:id/threat-profile/generate":                    {access: owned},
	"GET /v1/repositories/:id/threat-profile/versions":                     {access: owned},
	"POST /v1/repositories/:id/threat-profile/versions/:versionId/restore": {access: owned},
	"GET /v1/repositories/:id/overview":                                    {access: owned},
	"GET /v1/projects/:id/overview":                                        {access: owned},

	"POST /v1/git-uploads":    {access: owned, body: `{"project_id":"{project}","repository_name":"planted"}`},
	"GET /v1/git-uploads/:id": {access: owned},

	"POST /v1/repositories/:id/scans":   {access: owned},
	"GET /v1/repositories/:id/scans":    {access: owned},
	"GET /v1/projects/:id/scans":        {access: owned},
	"GET /v1/scans/:id":                 {access: owned},
	"POST /v1/scans/:id/cancel":         {access: owned},
	"POST /v1/scans/:id/retry":          {access: owned},
	"GET /v1/scans/:id/artifacts/:name": {access: owned},
	"GET /v1/engines":                   {access: signedIn},
	"GET /v1/scans/:id/events":          {access: owned},
	"GET /v1/repositories/:id/events":   {access: owned},
	"GET /v1/scans/:id/events/stream":   {access: owned},

	"GET /v1/repositories/:id/findings":         {access: owned},
	"GET /v1/projects/:id/findings":             {access: owned},
	"GET /v1/scans/:id/findings":                {access: owned},
	"GET /v1/repositories/:id/findings/rules":   {access: owned},
	"GET /v1/projects/:id/findings/rules":       {access: owned},
	"GET /v1/scans/:id/findings/rules":          {access: owned},
	"GET /v1/findings/:id":                      {access: owned},
	"PATCH /v1/findings/:id":                    {access: owned, body: `{"status":"dismissed","dismissed_reason":"false_positive"}`},
	"POST /v1/findings/bulk-triage":             {access: owned, body: `{"filter":{"repository_id":"{repository}"},"status":"dismissed","dismissed_reason":"false_positive"}`},
	"GET /v1/findings/:id/history":              {access: owned},
	"GET /v1/findings/:id/occurrences":          {access: owned},
	"POST /v1/findings/:id/reveal":              {access: owned, body: `{"offset":0}`},
	"GET /v1/repositories/:id/findings/in-file": {access: owned, query: "path=deploy/prod.env"},
	"GET /v1/repositories/:id/findings/export":  {access: owned},
	"GET /v1/scans/:id/findings/export":         {access: owned},
	"GET /v1/projects/:id/findings/export":      {access: owned},

	"GET /v1/billing/usage": {access: signedIn},

	"GET /v1/projects/:id/webhooks":   {access: owned},
	"POST /v1/projects/:id/webhooks":  {access: owned, body: `{"url":"https://93.184.215.14/in","events":["scan.failed"]}`},
	"GET /v1/webhooks/:id":            {access: owned},
	"DELETE /v1/webhooks/:id":         {access: owned},
	"POST /v1/webhooks/:id/test":      {access: owned},
	"GET /v1/webhooks/:id/deliveries": {access: owned},

	"GET /v1/ops/workers":  {access: operator},
	"GET /v1/ops/limits":   {access: operator},
	"GET /v1/ops/queue":    {access: operator},
	"POST /v1/ops/recover": {access: operator},
	"POST /v1/ops/cleanup": {access: operator},
}

// identity is one caller of the matrix and what it must get.
type identity struct {
	name   string
	bearer string
	query  bool // the credential goes in ?access_token= (EventSource routes only)
}

// TestAuthorizationMatrix walks every registered route, from the same table
// as the OpenAPI document, and calls it as: no credential, an expired access
// token, a revoked API key (each 401), another ordinary user on the owner's
// objects (404, as if they did not exist) and a plain user on operator and
// root routes (403). No such call may answer 2xx or 5xx. Then the owner
// calls each owned route (anything but 401/403/404), which proves the
// objects the others were refused do exist. `VEGA_TEST_STORE=postgres` runs
// it on Postgres. docs/benchmarks.md records routes × identities.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	ops := w.h.App.Router.Ops()
	seen := map[string]bool{}
	for _, op := range ops {
		key := op.Method + " " + op.Path
		seen[key] = true
		row, ok := authzMatrix[key]
		if !ok {
			t.Errorf("route %s is not in the authorization matrix: add a row to authzMatrix in app/api/authz_matrix_test.go, "+
				"e.g. %q: {access: owned}, with public, signedIn, owned, operator or root, and a body it accepts if it takes one", key, key)
			continue
		}
		checkRowAgreesWithRoute(t, key, row, op)
	}
	for key := range authzMatrix {
		if !seen[key] {
			t.Errorf("authzMatrix lists %s, which is not a registered route: remove or rename the row", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	others := []identity{
		{name: "no token"},
		{name: "expired token", bearer: w.expired},
		{name: "revoked API key", bearer: w.revoked},
		{name: "other user", bearer: w.otherKey},
	}
	tally := map[string]map[int]int{} // identity → status → calls
	record := func(who string, status int) {
		if tally[who] == nil {
			tally[who] = map[int]int{}
		}
		tally[who][status]++
	}
	routes := 0
	for _, op := range ops {
		row := authzMatrix[op.Method+" "+op.Path]
		if row.access == public {
			continue
		}
		routes++
		path, ok := w.path(op.Path)
		if !ok {
			t.Fatalf("%s %s: world_test.go makes no object for its path parameters: add one to newWorld", op.Method, op.Path)
		}
		if row.query != "" {
			path += "?" + row.query
		}
		body := w.fill(row.body)
		callers := others
		if op.QueryToken {
			callers = append(callers, identity{name: "other user (access_token)", bearer: w.otherKey, query: true})
		}
		if row.access == operator || row.access == root {
			callers = append(callers, identity{name: "plain user", bearer: w.ownerKey})
		}
		for _, who := range callers {
			r := w.call(op.Method, path, who, body)
			record(fmt.Sprintf("%-9s route, %s", row.access, who.name), r.Status)
			want := wantFor(who, row.access)
			if r.Status >= 200 && r.Status < 300 && want != 0 || r.Status >= 500 {
				t.Errorf("%s %s as %s: %d %s", op.Method, op.Path, who.name, r.Status, truncate(r.Body))
				continue
			}
			if want != 0 && r.Status != want {
				t.Errorf("%s %s as %s: %d %s, want %d", op.Method, op.Path, who.name, r.Status, truncate(r.Body), want)
			}
			if r.Status >= 400 {
				code := r.ErrCode(t)
				if r.Status == 404 && code != "not_found" || r.Status == 401 && code != "unauthorized" || r.Status == 403 && code != "forbidden" {
					t.Errorf("%s %s as %s: %d with code %s", op.Method, op.Path, who.name, r.Status, code)
				}
			}
			if leak := w.leak(r.Body, r.Status < 300); leak != "" {
				t.Errorf("%s %s as %s: the answer carries the owner's %s: %s", op.Method, op.Path, who.name, leak, truncate(r.Body))
			}
		}
	}
	t.Logf("authorization matrix: %d routes (%d public) × identities:", routes, len(ops)-routes)
	names := make([]string, 0, len(tally))
	for n := range tally {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("  %-45s %v", n, tally[n])
	}
	w.checkCrossObjectReferences(t)
	w.checkOwnerReaches(t, ops)
}

// checkRowAgreesWithRoute keeps the matrix honest about the route table: a
// route the table makes public or group-only must say so here, and an owned
// route must point at an object.
func checkRowAgreesWithRoute(t *testing.T, key string, row authzRow, op api.Op) {
	t.Helper()
	groups := strings.Join(op.Groups, ",")
	switch {
	case op.Public != (row.access == public):
		t.Errorf("%s: the route table says public=%v, the matrix %s", key, op.Public, row.access)
	case row.access == root && groups != "root", row.access == operator && !strings.Contains(groups, "operator"):
		t.Errorf("%s: the matrix says %s, the route table needs groups %q", key, row.access, groups)
	case (row.access == signedIn || row.access == owned) && groups != "":
		t.Errorf("%s: the route table needs groups %q; the matrix says %s", key, groups, row.access)
	case row.access == owned && !strings.Contains(op.Path, ":") && !strings.Contains(row.body, "{"):
		t.Errorf("%s: owned, but neither its path nor its body points at an object", key)
	case op.Request != nil && !op.BodyOptional && !op.Public && row.body == "":
		t.Errorf("%s takes a body: give its matrix row one the route accepts", key)
	}
}

// wantFor is the status an identity must get on a route of some access; 0
// means "not 2xx-of-another's-data, not 5xx" (a signed-in route called by
// another user answers about that user).
func wantFor(who identity, a access) int {
	switch {
	case who.bearer == "" || who.name == "expired token" || who.name == "revoked API key":
		return 401
	case a == operator || a == root:
		return 403
	case a == owned:
		return 404
	}
	return 0
}

// call sends one request as who.
func (w *world) call(method, path string, who identity, body string) servertest.Response {
	w.h.T.Helper()
	var b any
	if body != "" {
		b = body
	}
	if who.query {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return w.h.Do(method, path+sep+"access_token="+url.QueryEscape(who.bearer), "", b)
	}
	return w.h.Do(method, path, who.bearer, b)
}

// fill puts the owner's objects into a matrix body.
func (w *world) fill(body string) string {
	return strings.NewReplacer("{project}", w.ids["projects"], "{repository}", w.ids["repositories"], "{scan}", w.ids["scans"],
		"{finding}", w.ids["findings"], "{snapshot}", w.snapshot).Replace(body)
}

// leak names what of the owner's an answer to someone else carries. An error
// may repeat the ID the caller sent; a success may not carry the owner's IDs.
func (w *world) leak(body []byte, success bool) string {
	s := string(body)
	if strings.Contains(s, ownerSecret) {
		return "planted secret"
	}
	if strings.Contains(s, "the owner's profile") {
		return "threat profile"
	}
	if !success {
		return ""
	}
	for kind, id := range w.ids {
		if kind != "users" && strings.Contains(s, id) {
			return kind + " " + id
		}
	}
	return ""
}

// checkCrossObjectReferences: another user who owns a repository of their
// own cannot reach the owner's objects through a query parameter or a body
// that names them beside it.
func (w *world) checkCrossObjectReferences(t *testing.T) {
	t.Helper()
	mine := "/v1/repositories/" + w.otherRepo
	for _, path := range []string{
		mine + "/events?scan_id=" + w.ids["scans"],
		mine + "/tree?snapshot_id=" + w.snapshot,
		mine + "/file?path=deploy/prod.env&snapshot_id=" + w.snapshot,
		mine + "/findings?scan_id=" + w.ids["scans"],
		mine + "/findings/rules?scan_id=" + w.ids["scans"],
		mine + "/findings/export?format=json&scan_id=" + w.ids["scans"],
		"/v1/projects/" + w.otherProject + "/findings/export?format=json&scan_id=" + w.ids["scans"],
	} {
		r := w.h.Do("GET", path, w.otherKey, nil)
		if r.Status >= 500 || w.leak(r.Body, r.Status < 300) != "" {
			t.Errorf("GET %s as the other user: %d %s", path, r.Status, truncate(r.Body))
		}
	}
	r := w.h.Do("POST", "/v1/findings/bulk-triage", w.otherKey,
		fmt.Sprintf(`{"ids":[%q],"status":"dismissed","dismissed_reason":"false_positive"}`, w.ids["findings"]))
	// Its answer lists the ID back under not_found, as for an ID that does not exist.
	if m := r.JSON(t); r.Status != 200 || m["matched"] != float64(0) || m["changed"] != float64(0) || strings.Contains(string(r.Body), ownerSecret) {
		t.Errorf("bulk triage of the owner's finding by ID: %d %s", r.Status, r.Body)
	}
	if f := w.must(t, "GET", "/v1/findings/"+w.ids["findings"], w.ownerKey, nil, 200); f["status"] != "open" {
		t.Errorf("another user changed the owner's finding: %v", f["status"])
	}
	if p := w.must(t, "GET", "/v1/repositories/"+w.ids["repositories"]+"/threat-profile", w.ownerKey, nil, 200); p["content"].(map[string]any)["summary"] != "the owner's profile" {
		t.Errorf("another user changed the owner's threat profile: %v", p["content"])
	}
}

// checkOwnerReaches calls every owned route as its owner: each must get past
// authorization, or the 404s above prove nothing, and a success must have the
// route's documented status. Routes that destroy run
// last, the project (which takes the rest with it) at the very end.
func (w *world) checkOwnerReaches(t *testing.T, ops []api.Op) {
	t.Helper()
	var mine []api.Op
	for _, op := range ops {
		if authzMatrix[op.Method+" "+op.Path].access == owned {
			mine = append(mine, op)
		}
	}
	rank := func(op api.Op) int {
		switch {
		case op.Path == "/v1/projects/:id" && op.Method == "DELETE":
			return 3
		case op.Method == "DELETE":
			return 2
		case strings.HasSuffix(op.Path, "/revoke-sessions"):
			return 1
		}
		return 0
	}
	sort.SliceStable(mine, func(i, j int) bool { return rank(mine[i]) < rank(mine[j]) })
	me := identity{name: "owner", bearer: w.ownerKey}
	for _, op := range mine {
		path, _ := w.path(op.Path)
		if q := authzMatrix[op.Method+" "+op.Path].query; q != "" {
			path += "?" + q
		}
		r := w.call(op.Method, path, me, w.fill(authzMatrix[op.Method+" "+op.Path].body))
		if r.Status == 401 || r.Status == 403 || r.Status == 404 || r.Status >= 500 {
			t.Errorf("%s %s as its owner: %d %s", op.Method, op.Path, r.Status, truncate(r.Body))
		}
		// A success is the one the route table documents (Router.Add sets it).
		if r.Status < 300 && r.Status != op.Status {
			t.Errorf("%s %s as its owner: %d, the route table documents %d", op.Method, op.Path, r.Status, op.Status)
		}
	}
}
