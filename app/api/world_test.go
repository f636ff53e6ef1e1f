package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/app/server/servertest"
	"github.com/vegasec/vega/store"
)

// world is one api role with an ordinary user who owns one of every kind of
// object a route can point at (a project, a ready repository with a planted
// secret, a completed scan with its artifacts and findings, a threat profile,
// an API key, a push remote), another ordinary user, and the credentials the
// hostile-input and authorization tests call with. Objects are made through
// the API where it can make them, so what the tests reach is what ships.
type world struct {
	h        *servertest.Harness
	owner    *store.User
	ownerKey string // the owner's API key
	otherKey string // another ordinary user's API key
	root     string // the debug account's access token (root, operator)
	revoked  string // an API key of the owner, revoked
	expired  string // an access token of the owner, correctly signed, expired
	// ids maps a path's first segment to the owner's object of that kind.
	ids map[string]string
	// also holds the owner's other objects: snapshot, artifact name.
	snapshot, artifact string
	profileVersion     string // a kept threat-profile version of the owner's repository
	// otherRepo is a repository of the other user's own, in otherProject.
	otherRepo    string
	otherProject string
}

// ownerSecret is the planted secret of the owner's repository; it must never
// reach another user.
const ownerSecret = "AKIA" + "QZ7XK2LMN4PB6RTW"

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	h := servertest.New(t, map[string]string{"VEGA_SCAN_ENGINES": "secrets"})
	env := &scantest.Env{Store: h.Env.Store, Blobs: h.Env.Blobs, Dir: t.TempDir()}
	w := &world{h: h, owner: env.User(t), root: h.DebugToken(), ids: map[string]string{}}
	other := env.User(t)
	key := func(userID, name string) string {
		k, err := h.App.Auth.CreateAPIKey(ctx, userID, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k.Secret
	}
	w.ownerKey, w.otherKey = key(w.owner.ID, "owner"), key(other.ID, "other")
	gone, err := h.App.Auth.CreateAPIKey(ctx, w.owner.ID, "gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.App.Auth.RevokeAPIKey(ctx, w.owner.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	w.revoked = gone.Secret
	spare, err := h.App.Auth.CreateAPIKey(ctx, w.owner.ID, "spare", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.ids["api-keys"] = spare.ID
	w.ids["users"] = w.owner.ID
	w.expired, err = jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"typ": "access", "sub": w.owner.ID, "jti": "j", "iss": "vega",
		"iat": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(-time.Minute).Unix()}).SignedString([]byte(h.Env.Config.AuthSecret))
	if err != nil {
		t.Fatal(err)
	}

	theirs, _ := env.Repo(t, other.ID, map[string]string{"README.md": "theirs\n"})
	w.otherRepo, w.otherProject = theirs.ID, theirs.ProjectID
	repo, snap := env.Repo(t, w.owner.ID, map[string]string{"deploy/prod.env": "AWS_ACCESS_KEY_ID=" + ownerSecret + "\n", "main.go": "package main\n"})
	w.ids["projects"], w.ids["repositories"], w.snapshot = repo.ProjectID, repo.ID, snap.ID
	scan := w.must(t, "POST", "/v1/repositories/"+repo.ID+"/scans", w.ownerKey, nil, 202)
	w.ids["scans"] = scan["id"].(string)
	if _, err := h.App.Scans.Scans.Claim(ctx, "wrk_test"); err != nil {
		t.Fatal(err)
	}
	if err := h.App.Scans.Runner.Run(ctx, w.ids["scans"]); err != nil {
		t.Fatal(err)
	}
	items, _ := w.must(t, "GET", "/v1/scans/"+w.ids["scans"]+"/findings", w.ownerKey, nil, 200)["items"].([]any)
	if len(items) == 0 {
		t.Fatal("the scan found no finding in the owner's repository")
	}
	w.ids["findings"] = items[0].(map[string]any)["id"].(string)
	w.artifact = "report.json"
	w.must(t, "PUT", "/v1/repositories/"+repo.ID+"/threat-profile", w.ownerKey,
		store.ThreatProfileContent{Summary: "the owner's profile", Assets: []string{"customer data"}}, 200)
	up := w.must(t, "POST", "/v1/git-uploads", w.ownerKey, map[string]string{"project_id": repo.ProjectID, "repository_name": "pushed"}, 201)
	w.ids["git-uploads"] = up["id"].(string)
	versions, _ := w.must(t, "GET", "/v1/repositories/"+repo.ID+"/threat-profile/versions", w.ownerKey, nil, 200)["items"].([]any)
	if len(versions) == 0 {
		t.Fatal("the owner's profile edit kept no version")
	}
	w.profileVersion = versions[0].(map[string]any)["id"].(string)
	hook := w.must(t, "POST", "/v1/projects/"+repo.ProjectID+"/webhooks", w.ownerKey, map[string]any{"url": "https://93.184.215.14/in", "events": []string{"scan.completed"}}, 201)
	w.ids["webhooks"] = hook["id"].(string)
	return w
}

// must sends a request and fails the test unless it answers want.
func (w *world) must(t *testing.T, method, path, bearer string, body any, want int) map[string]any {
	t.Helper()
	r := w.h.Do(method, path, bearer, body)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.JSON(t)
}

// path fills a route's path parameters with the owner's objects: :id is the
// object its first segment names (/scans/:id is the owner's scan), :name the
// artifact. ok is false when the route points at a kind of object this world
// does not make; the caller says what to add.
func (w *world) path(route string) (string, bool) {
	segs := strings.Split(strings.TrimPrefix(route, "/v1/"), "/")
	for i, s := range segs {
		switch s {
		case ":id":
			id, ok := w.ids[segs[0]]
			if !ok {
				return "", false
			}
			segs[i] = id
		case ":name":
			segs[i] = w.artifact
		case ":versionId":
			segs[i] = w.profileVersion
		default:
			if strings.HasPrefix(s, ":") {
				return "", false
			}
		}
	}
	return "/v1/" + strings.Join(segs, "/"), true
}
