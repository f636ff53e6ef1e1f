package server

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/awsemu"
	"github.com/vegasec/vega/testutil/cognitoidp"
)

// kumoPool is a user pool in the emulator: real AdminInitiateAuth sign-ins,
// real RS256 tokens, the real JWKS. kumo's tokens carry no groups and no
// auth_time; cognitoidp plays the pool where those matter.
type kumoPool struct {
	t      testing.TB
	emu    *awsemu.Emulator
	client *cip.Client
	id     string
	app    string // the dashboard's app client
	other  string // another app client of the same pool
}

func newKumoPool(t testing.TB) *kumoPool {
	t.Helper()
	emu := awsemu.Start(t)
	c := cip.NewFromConfig(emu.Config(t))
	ctx := context.Background()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(awsemu.Unique("vega"))})
	if err != nil {
		t.Fatal(err)
	}
	p := &kumoPool{t: t, emu: emu, client: c, id: aws.ToString(pool.UserPool.Id)}
	for _, dst := range []*string{&p.app, &p.other} {
		cl, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(p.id), ClientName: aws.String(awsemu.Unique("client")),
			ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
		if err != nil {
			t.Fatal(err)
		}
		*dst = aws.ToString(cl.UserPoolClient.ClientId)
	}
	return p
}

const kumoPassword = "Correct-Horse-Battery-9"

// addUser invites a user the way docs/deploy-aws.md does (verified email).
func (p *kumoPool) addUser(username, email, name string) {
	p.t.Helper()
	ctx := context.Background()
	attrs := []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String(email)}, {Name: aws.String("email_verified"), Value: aws.String("true")}}
	if name != "" {
		attrs = append(attrs, ciptypes.AttributeType{Name: aws.String("name"), Value: aws.String(name)})
	}
	if _, err := p.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(p.id), Username: aws.String(username),
		UserAttributes: attrs, TemporaryPassword: aws.String("Temporary-Password-1")}); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(p.id), Username: aws.String(username),
		Password: aws.String(kumoPassword), Permanent: true}); err != nil {
		p.t.Fatal(err)
	}
}

func (p *kumoPool) deleteUser(username string) {
	p.t.Helper()
	if _, err := p.client.AdminDeleteUser(context.Background(), &cip.AdminDeleteUserInput{UserPoolId: aws.String(p.id), Username: aws.String(username)}); err != nil {
		p.t.Fatal(err)
	}
}

// signIn returns an access token of username for the app client.
func (p *kumoPool) signIn(username, client string) string {
	p.t.Helper()
	out, err := p.client.AdminInitiateAuth(context.Background(), &cip.AdminInitiateAuthInput{UserPoolId: aws.String(p.id), ClientId: aws.String(client),
		AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": kumoPassword}})
	if err != nil {
		p.t.Fatal(err)
	}
	return aws.ToString(out.AuthenticationResult.AccessToken)
}

// env is the api role's configuration for the pool, as the CDK stack sets it.
func (p *kumoPool) env() map[string]string {
	return map[string]string{"VEGA_AUTH_PROVIDER": "cognito", "VEGA_COGNITO_REGION": awsemu.Region, "VEGA_COGNITO_USER_POOL_ID": p.id,
		"VEGA_COGNITO_APP_CLIENT_ID": p.app, "VEGA_COGNITO_DOMAIN": "vega-test.auth.us-east-1.amazoncognito.com",
		// The emulator's issuer is its own address, not cognito-idp.<region>.amazonaws.com.
		"VEGA_COGNITO_ISSUER": p.emu.URL + "/" + p.id}
}

// server is the api role configured for the pool. Sign someone in first: kumo
// makes a pool's signing key at its first sign-in.
func (p *kumoPool) server(t testing.TB) *harness {
	return newHarness(t, p.env(), WithAWS(p.emu.Options()))
}

// signedInServer is a pool with one user, signed in to the dashboard's app
// client (which makes the pool's signing key), and the api role for the pool.
func signedInServer(t testing.TB, username, email, name string) (*kumoPool, *harness, string) {
	t.Helper()
	pool := newKumoPool(t)
	pool.addUser(username, email, name)
	tok := pool.signIn(username, pool.app)
	return pool, pool.server(t), tok
}

// subject reads a token's sub without checking it (the server checks).
func subject(t testing.TB, tok string) string {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatal(err)
	}
	return c["sub"].(string)
}

func (h *harness) me(tok string) map[string]any {
	h.t.Helper()
	r := h.do("GET", "/v1/auth/me", tok, nil)
	if r.Status != 200 {
		h.t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)
}

// usersWithSubject lists the stored users of one Cognito sub.
func (h *harness) usersWithSubject(sub string) []store.User {
	h.t.Helper()
	us, _, err := h.env.Store.ListUsers(context.Background(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.User
	for _, u := range us {
		if u.AuthSubject == sub {
			out = append(out, u)
		}
	}
	return out
}

// TestCognitoUsersFromThePool signs users in at the emulator and uses their
// tokens against the real router: first sign-in makes the user (email and
// name from the pool), owners are the tokens' subs, and a token of another
// app client opens nothing.
func TestCognitoUsersFromThePool(t *testing.T) {
	pool := newKumoPool(t)
	pool.addUser("alice", "Alice@Example.com", "Alice Liddell")
	pool.addUser("bob", "bob@example.com", "")
	alice := pool.signIn("alice", pool.app) // also makes the pool's signing key, which the server reads at start
	h := pool.server(t)

	me := h.me(alice)
	if me["email"] != "alice@example.com" || me["display_name"] != "Alice Liddell" || me["auth_subject"] != subject(t, alice) ||
		fmt.Sprint(me["groups"]) != "[user]" || me["last_login_at"] == nil {
		t.Fatalf("alice after her first sign-in: %v", me)
	}
	aliceID := me["id"].(string)
	if again := h.me(pool.signIn("alice", pool.app)); again["id"] != aliceID {
		t.Fatalf("a second sign-in made another user: %v", again)
	}
	bob := pool.signIn("bob", pool.app)
	if me := h.me(bob); me["email"] != "bob@example.com" || me["display_name"] != "bob" || me["id"] == aliceID {
		t.Fatalf("bob: %v", me)
	}

	prj := h.project(alice, "alice's")
	if r := h.do("GET", "/v1/projects/"+prj, bob, nil); r.Status != 404 || r.ErrCode(t) != "not_found" {
		t.Fatalf("bob reads alice's project: %d %s", r.Status, r.Body)
	}
	if r := h.do("DELETE", "/v1/projects/"+prj, bob, nil); r.Status != 404 {
		t.Fatalf("bob deletes alice's project: %d %s", r.Status, r.Body)
	}
	if items := h.do("GET", "/v1/projects", bob, nil).JSON(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("bob lists %v", items)
	}

	// A real token of the same pool, issued to another app client.
	if r := h.do("GET", "/v1/auth/me", pool.signIn("alice", pool.other), nil); r.Status != 401 || r.ErrCode(t) != "unauthorized" {
		t.Fatalf("token of another app client: %d %s", r.Status, r.Body)
	}
	// Cognito users have no password in Vega, and password sign-in is off.
	if r := h.do("POST", "/v1/auth/login", "", map[string]string{"email": "alice@example.com", "password": kumoPassword}); r.Status != 400 || r.ErrCode(t) != "bad_request" {
		t.Fatalf("password sign-in with Cognito: %d %s", r.Status, r.Body)
	}

	// Deleted and re-created in Cognito: a new sub, so a new Vega user with
	// the same email, who sees nothing of the old one's.
	pool.deleteUser("alice")
	pool.addUser("alice", "alice@example.com", "Alice Liddell")
	alice2 := pool.signIn("alice", pool.app)
	me2 := h.me(alice2)
	if me2["id"] == aliceID || me2["email"] != "alice@example.com" || subject(t, alice2) == subject(t, alice) {
		t.Fatalf("re-created alice: %v (first was %s)", me2, aliceID)
	}
	if r := h.do("GET", "/v1/projects/"+prj, alice2, nil); r.Status != 404 {
		t.Fatalf("re-created alice reads the old alice's project: %d", r.Status)
	}
}

// Many first requests at once (a dashboard's first page load, several api
// tasks) make one user: requests of one process share the sign-in, and
// processes race in the store, whose unique subject decides.
func TestCognitoFirstSignInMakesOneUser(t *testing.T) {
	_, h, tok := signedInServer(t, "carol", "carol@example.com", "Carol")
	// A second api process on the same store (Postgres under
	// VEGA_TEST_STORE=postgres): its own auth service, its own sign-in record.
	other, err := NewAuth(context.Background(), h.env)
	if err != nil {
		t.Fatal(err)
	}

	const n = 16
	ids := make([]string, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := h.do("GET", "/v1/auth/me", tok, nil)
			if r.Status != 200 {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
				return
			}
			ids[i] = r.JSON(t)["id"].(string)
		}()
		go func() {
			defer wg.Done()
			p, err := other.Authenticate(context.Background(), tok)
			if err != nil {
				t.Errorf("other process, request %d: %v", i, err)
				return
			}
			ids[n+i] = p.User.ID
		}()
	}
	wg.Wait()
	if seen := slices.Compact(slices.Sorted(slices.Values(ids))); len(seen) != 1 || seen[0] == "" {
		t.Fatalf("first requests saw users %v", seen)
	}
	if us := h.usersWithSubject(subject(t, tok)); len(us) != 1 || us[0].Email != "carol@example.com" {
		t.Fatalf("stored users of carol's sub: %+v", us)
	}
}

// scriptedPool is the api role against cognitoidp: tokens with groups and
// auth_time, as Cognito's hosted UI issues them, for group names configured
// away from the defaults.
func scriptedPool(t testing.TB) (*harness, *cognitoidp.Issuer) {
	idp := cognitoidp.Start(t)
	h := newHarness(t, map[string]string{"VEGA_AUTH_PROVIDER": "cognito", "VEGA_COGNITO_ISSUER": idp.URL(),
		"VEGA_COGNITO_APP_CLIENT_ID": "client-1", "VEGA_COGNITO_DOMAIN": "auth.example.com",
		"VEGA_COGNITO_ROOT_GROUP": "vega-admins", "VEGA_COGNITO_OPERATOR_GROUP": "secops"})
	return h, idp
}

// Groups come from every token: a group removed in Cognito is gone with the
// next token, and only the configured names count.
func TestCognitoGroupsFollowTheToken(t *testing.T) {
	h, idp := scriptedPool(t)
	tok := func(sub string, groups ...string) string { return idp.Sign(t, idp.Access(sub, "client-1", groups...)) }

	op := tok("sub-op", "secops", "unrelated")
	if got := fmt.Sprint(h.me(op)["groups"]); got != "[operator user]" {
		t.Fatalf("groups of a secops member: %s", got)
	}
	if r := h.do("GET", "/v1/ops/queue", op, nil); r.Status != 200 {
		t.Fatalf("operator on ops: %d %s", r.Status, r.Body)
	}
	if r := h.do("GET", "/v1/users", op, nil); r.Status != 403 {
		t.Fatalf("operator on users: %d", r.Status)
	}

	// Removed from secops: the next token (a refresh; same sign-in) has no group.
	plain := tok("sub-op")
	if r := h.do("GET", "/v1/ops/queue", plain, nil); r.Status != 403 || r.ErrCode(t) != "forbidden" {
		t.Fatalf("ops after leaving secops: %d %s", r.Status, r.Body)
	}
	if us := h.usersWithSubject("sub-op"); len(us) != 1 || fmt.Sprint(us[0].Groups) != "[user]" {
		t.Fatalf("stored groups after leaving secops: %+v", us)
	}
	// The older token still carries the group until it expires (≤ its
	// lifetime; "sign out everywhere" ends it at once).
	if r := h.do("GET", "/v1/ops/queue", op, nil); r.Status != 200 {
		t.Fatalf("the older token: %d", r.Status)
	}

	// An API key proves no group membership: it acts as a plain user.
	r := h.do("POST", "/v1/api-keys", op, map[string]string{"name": "ops automation"})
	if r.Status != 201 {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	key := r.JSON(t)["secret"].(string)
	if got := fmt.Sprint(h.me(key)["groups"]); got != "[user]" {
		t.Fatalf("groups of an operator's API key: %s", got)
	}
	if r := h.do("GET", "/v1/ops/queue", key, nil); r.Status != 403 {
		t.Fatalf("operator's API key on ops: %d", r.Status)
	}
	if r := h.do("GET", "/v1/projects", key, nil); r.Status != 200 {
		t.Fatalf("operator's API key on projects: %d", r.Status)
	}

	// The default names mean nothing when others are configured.
	if r := h.do("GET", "/v1/users", tok("sub-x", "root", "operator"), nil); r.Status != 403 {
		t.Fatalf("group 'root' with VEGA_COGNITO_ROOT_GROUP=vega-admins: %d", r.Status)
	}
	admin := tok("sub-admin", "vega-admins")
	r = h.do("GET", "/v1/users", admin, nil)
	if r.Status != 200 {
		t.Fatalf("root lists users: %d %s", r.Status, r.Body)
	}
	if n := len(r.JSON(t)["items"].([]any)); n != 3 {
		t.Fatalf("users listed: %d, want sub-op, sub-x and sub-admin", n)
	}
}

// Cognito tokens that must not open anything, and credentials of the custom
// provider, which a Cognito server does not take.
func TestCognitoRefusedTokens(t *testing.T) {
	h, idp := scriptedPool(t)
	good := func() jwt.MapClaims { return idp.Access("sub-1", "client-1", "vega-admins") }
	mutate := func(f func(jwt.MapClaims)) string { c := good(); f(c); return idp.Sign(t, c) }
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	custom, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"typ": "access", "sub": "usr_x", "jti": "j", "iss": "vega",
		"sid": "fam_x", "gen": 0, "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(h.env.Config.AuthSecret))
	for name, tok := range map[string]string{
		"another app client": mutate(func(c jwt.MapClaims) { c["client_id"] = "client-2" }),
		"an id token":        mutate(func(c jwt.MapClaims) { c["token_use"] = "id"; c["aud"] = "client-1"; delete(c, "client_id") }),
		"expired":            mutate(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"another pool":       mutate(func(c jwt.MapClaims) { c["iss"] = strings.Replace(idp.URL(), cognitoidp.Pool, "us-east-1_Other", 1) }),
		"alg none":           none,
		"a custom token":     custom,
	} {
		t.Run(name, func(t *testing.T) {
			if r := h.do("GET", "/v1/auth/me", tok, nil); r.Status != 401 || r.ErrCode(t) != "unauthorized" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	if us := h.usersWithSubject("sub-1"); len(us) != 0 {
		t.Fatalf("a refused token made a user: %+v", us)
	}

	for name, req := range map[string]struct {
		method, path string
		body         any
	}{
		"password sign-in": {"POST", "/v1/auth/login", map[string]string{"email": "a@example.com", "password": "whatever-it-is"}},
		"refresh":          {"POST", "/v1/auth/refresh", map[string]string{"refresh_token": "x"}},
	} {
		if r := h.do(req.method, req.path, "", req.body); r.Status != 400 || r.ErrCode(t) != "bad_request" {
			t.Errorf("%s under Cognito: %d %s", name, r.Status, r.Body)
		}
	}
	admin := idp.Sign(t, good())
	if r := h.do("POST", "/v1/users", admin, map[string]any{"email": "local@example.com", "password": "a long password"}); r.Status != 400 {
		t.Errorf("root creates a local user under Cognito: %d %s", r.Status, r.Body)
	}
	uid := h.me(admin)["id"].(string)
	for _, patch := range []map[string]any{{"password": "a long new password"}, {"groups": []string{"user"}}} {
		if r := h.do("PATCH", "/v1/users/"+uid, admin, patch); r.Status != 400 || r.ErrCode(t) != "bad_request" {
			t.Errorf("PATCH %v of a Cognito user: %d %s", patch, r.Status, r.Body)
		}
	}
}

// "Sign out everywhere" for a Cognito user refuses every token of a sign-in
// at or before it, including those renewed with a refresh token later (they
// keep auth_time); the next sign-in works.
func TestCognitoSignOutEverywhere(t *testing.T) {
	h, idp := scriptedPool(t)
	signedIn := time.Now().Add(-10 * time.Minute)
	token := func(sub string, authTime time.Time, groups ...string) string {
		c := idp.Access(sub, "client-1", groups...)
		c["auth_time"] = authTime.Unix()
		return idp.Sign(t, c)
	}
	mallory := token("sub-m", signedIn)
	admin := token("sub-admin", signedIn, "vega-admins")
	other := token("sub-other", signedIn)
	mID, otherID := h.me(mallory)["id"].(string), h.me(other)["id"].(string)
	h.me(admin)

	if r := h.do("POST", "/v1/users/"+mID+"/revoke-sessions", other, nil); r.Status != 404 {
		t.Fatalf("a user ends another's sessions: %d", r.Status)
	}
	if r := h.do("POST", "/v1/users/"+mID+"/revoke-sessions", admin, nil); r.Status != 204 {
		t.Fatalf("root ends a user's sessions: %d %s", r.Status, r.Body)
	}
	r := h.do("GET", "/v1/auth/me", mallory, nil)
	if r.Status != 401 || !strings.Contains(string(r.Body), "sign in again") {
		t.Fatalf("token of before: %d %s", r.Status, r.Body)
	}
	if r := h.do("GET", "/v1/auth/me", token("sub-m", signedIn), nil); r.Status != 401 {
		t.Fatalf("a token renewed from the same sign-in: %d", r.Status)
	}
	if r := h.do("GET", "/v1/auth/me", other, nil); r.Status != 200 {
		t.Fatalf("someone else's session ended too: %d", r.Status)
	}
	// auth_time has whole seconds: a sign-in in the second of the sign-out is
	// refused too, the one after it works.
	next := time.Now().Truncate(time.Second).Add(time.Second)
	if me := h.me(token("sub-m", next)); me["id"] != mID {
		t.Fatalf("the next sign-in: %v", me)
	}

	// Users may end their own sessions.
	if r := h.do("POST", "/v1/users/"+otherID+"/revoke-sessions", other, nil); r.Status != 204 {
		t.Fatalf("own sessions: %d", r.Status)
	}
	if r := h.do("GET", "/v1/auth/me", other, nil); r.Status != 401 {
		t.Fatalf("own token after ending own sessions: %d", r.Status)
	}
}

// The emulator's tokens carry no auth_time: sign-out everywhere counts from
// their iat, so a token of before is refused and a new sign-in works.
func TestCognitoSignOutEverywhereWithPoolTokens(t *testing.T) {
	pool, h, tok := signedInServer(t, "dave", "dave@example.com", "")
	id := h.me(tok)["id"].(string)
	if r := h.do("POST", "/v1/users/"+url.PathEscape(id)+"/revoke-sessions", tok, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := h.do("GET", "/v1/auth/me", tok, nil); r.Status != 401 {
		t.Fatalf("token of before: %d", r.Status)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	if me := h.me(pool.signIn("dave", pool.app)); me["id"] != id {
		t.Fatalf("next sign-in: %v", me)
	}
}
