package redact

import (
	"strings"
	"testing"
)

// TestText pins what each rule masks and, as importantly, what it leaves
// readable. Every want is exact, so a rule that starts eating code shows up.
func TestText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		// The two lines of the hostile-user report (issue 15).
		{"json beside a detected key", `{"aws_access_key_id":"AKIA…[20 chars]","aws_secret_access_key":"8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX"}`,
			`{"aws_access_key_id":"AKIA…[20 chars]","aws_secret_access_key":"[redacted]"}`},
		{"env beside a detected key", `AWS_ACCESS_KEY_ID=AKIA…[20 chars] DATABASE_URL=postgres://admin:Tr0ub4dor-horse@db/app`,
			`AWS_ACCESS_KEY_ID=AKIA…[20 chars] DATABASE_URL=postgres://admin:[redacted]@db/app`},

		// URL userinfo.
		{"url password", `https://user:pa55@example.com/path`, `https://user:[redacted]@example.com/path`},
		{"url empty user", `redis://:s3cret@cache:6379/0`, `redis://:[redacted]@cache:6379/0`},
		{"url user only", `https://git@github.com/org/repo.git`, `https://git@github.com/org/repo.git`},
		{"url at in path", `https://registry.npmjs.org:443/@scope/pkg`, `https://registry.npmjs.org:443/@scope/pkg`},
		{"url query token", `https://api.example.com/v1?access_token=xyz123&page=2`, `https://api.example.com/v1?access_token=[redacted]&page=2`},
		{"url password placeholder", `postgres://app:${DB_PASSWORD}@db/app`, `postgres://app:${DB_PASSWORD}@db/app`},

		// Key/value forms.
		{"json", `"password": "hunter2",`, `"password": "[redacted]",`},
		{"json number", `{"pin_password": 123456}`, `{"pin_password": [redacted]}`},
		{"yaml", `  client_secret: abc`, `  client_secret: [redacted]`},
		{"yaml spaces and comment", `password: correct horse battery staple # admin`, `password: [redacted] # admin`},
		{"yaml quoted", `api_key: 'k-123'`, `api_key: '[redacted]'`},
		{"yaml list item", `- token: abc`, `- token: [redacted]`},
		{"env", `DB_PASS=letmein`, `DB_PASS=[redacted]`},
		{"env export quoted", `export GITHUB_TOKEN="abc def"`, `export GITHUB_TOKEN="[redacted]"`},
		{"env two assignments", `API_KEY=abc DEBUG=1`, `API_KEY=[redacted] DEBUG=1`},
		{"shell semicolon", `passwd=abc; user=bob`, `passwd=[redacted]; user=bob`},
		{"go", `const secret = "s3cr3t-value"`, `const secret = "[redacted]"`},
		{"go short decl", `authToken := "abc"`, `authToken := "[redacted]"`},
		{"python typed", `password: str = "hunter2"`, `password: str = "[redacted]"`},
		{"ts typed", `const apiKey: string = 'abc';`, `const apiKey: string = '[redacted]';`},
		{"annotation that is a value", `password: hunter2 = more`, `password: [redacted]`},
		{"php", `$password = 'hunter2';`, `$password = '[redacted]';`},
		{"ruby symbol", `:password => "hunter2",`, `:password => "[redacted]",`},
		{"index", `cfg["secret"] = "abc"`, `cfg["secret"] = "[redacted]"`},
		{"comparison", `if password == "letmein" {`, `if password == "[redacted]" {`},
		{"python bytes", `SECRET_KEY = b"abc"`, `SECRET_KEY = b"[redacted]"`},
		{"escaped quote", `"token": "a\"b", "x": 1`, `"token": "[redacted]", "x": 1`},
		{"unclosed quote", `password = "abc`, `password = "[redacted]`},
		{"dotted", `spring.datasource.password=abc`, `spring.datasource.password=[redacted]`},
		{"camel case", `privateKey: abc`, `privateKey: [redacted]`},
		{"upper camel", `APIKey = "abc"`, `APIKey = "[redacted]"`},
		{"numbered", `API_KEY_2=abc`, `API_KEY_2=[redacted]`},
		{"flag equals", `--password=hunter2`, `--password=[redacted]`},
		{"flag space", `mysql --password hunter2 -u root`, `mysql --password [redacted] -u root`},
		{"xml", `<password>hunter2</password>`, `<password>[redacted]</password>`},
		{"bearer", `curl -H "Authorization: Bearer abcdef123456" https://x`, `curl -H "Authorization: Bearer [redacted]" https://x`},
		{"basic", `Authorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=`, `Authorization: Basic [redacted]`},
		{"oauth", `oauth: abc`, `oauth: [redacted]`},
		{"credentials", `credentials = "u:p"`, `credentials = "[redacted]"`},

		// Names that are about a secret but do not hold one, and values that
		// only refer to one: left readable.
		{"key id", `aws_access_key_id = AKIA…[20 chars]`, `aws_access_key_id = AKIA…[20 chars]`},
		{"token url", `auth_url: https://login.example.com/oauth`, `auth_url: https://login.example.com/oauth`},
		{"token counts", `"max_tokens": 4096, "input_tokens": 12`, `"max_tokens": 4096, "input_tokens": 12`},
		{"key path", `private_key_path: /etc/ssl/key.pem`, `private_key_path: /etc/ssl/key.pem`},
		{"public key", `public_key: ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB`, `public_key: ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB`},
		{"secret name", `secret_name: prod/db`, `secret_name: prod/db`},
		{"env lookup", `db_password = os.environ["DB_PASSWORD"]`, `db_password = os.environ["DB_PASSWORD"]`},
		{"call", `token := r.Header.Get("Authorization")`, `token := r.Header.Get("Authorization")`},
		{"process env", `apiKey: process.env.API_KEY,`, `apiKey: process.env.API_KEY,`},
		{"empty", `if token == "" {`, `if token == "" {`},
		{"nil", `if err != nil || key == nil {`, `if err != nil || key == nil {`},
		{"type", `  token?: string;`, `  token?: string;`},
		{"placeholder", `password: <your-password>`, `password: <your-password>`},
		{"template", `password: "{{ .Values.db.password }}"`, `password: "{{ .Values.db.password }}"`},
		{"shell var", `PGPASSWORD=$DB_PASSWORD psql`, `PGPASSWORD=$DB_PASSWORD psql`},
		{"stars", `password: ********`, `password: ********`},
		{"bool", `auth: true`, `auth: true`},
		{"author", `author: Jane Doe`, `author: Jane Doe`},
		{"monkey", `monkey = "banana"`, `monkey = "banana"`},
		{"keyboard", `keyboard: qwerty`, `keyboard: qwerty`},
		{"go signature", `func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {`, `func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {`},
		{"import", `import { getUserAccountSettings } from "../components/AccountSettings2";`, `import { getUserAccountSettings } from "../components/AccountSettings2";`},
		{"long identifier", `BenchmarkNetHTTPClientGetEndToEnd100Inmemory(b)`, `BenchmarkNetHTTPClientGetEndToEnd100Inmemory(b)`},
		{"path", `see src/components/Dashboard/SettingsPanel2/Account.tsx`, `see src/components/Dashboard/SettingsPanel2/Account.tsx`},
		{"prose", `The API key is read from the environment.`, `The API key is read from the environment.`},
		{"sql", `SELECT * FROM users WHERE id = $1`, `SELECT * FROM users WHERE id = $1`},

		// High-entropy tokens and known formats, wherever they stand.
		{"github token", `use ghp_abcdefghijklmnopqrstuvwxyz0123456789 here`, `use [redacted] here`},
		{"openai key", `sk-proj-abcdefghijklmnopqrstuv`, `[redacted]`},
		{"aws id", `id AKIAQYLPMN5HHHFPAAAF`, `id [redacted]`},
		{"jwt", `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`, `[redacted]`},
		{"base64 random", `blob 30tEfhuJSVRhpG97XCuWgz2okj7L8vQ1s6V9zVUPeDQ= end`, `blob [redacted] end`},
		{"hex key", `commit 3d3c42e5aac5ba805825da76410c181273ba90b1 fixed it`, `commit [redacted] fixed it`},
		{"hash in path", `com/moby/moby/blob/0df791cb72b568eeadba2267fe9a5040d12b0487/daemon/logger`, `com/moby/moby/blob/[redacted]/daemon/logger`},
		{"random beside key", `x = "Zq3hT8vLk2Pw9Rm4Xc7Bn1Yd"`, `x = "[redacted]"`},
		{"private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
			"-----BEGIN RSA PRIVATE KEY-----[redacted]-----END RSA PRIVATE KEY-----"},
		{"private key cut", `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU`, `-----BEGIN OPENSSH PRIVATE KEY-----[redacted]`},
		{"multi-line", "user: bob\npassword: hunter2\nhost: db", "user: bob\npassword: [redacted]\nhost: db"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Text(c.in)
			if got != c.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
			if again := Text(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	for in, want := range map[string]string{
		"AKIAABCDEFGHIJKLMNOP": "AKIA…[20 chars]",
		"hunter2hunter2":       "hun…[14 chars]",
		"abc":                  "…[3 chars]",
		"ключключключключ":     "ключ…[16 chars]",
	} {
		if got := Secret(in); got != want {
			t.Errorf("Secret(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextKnown(t *testing.T) {
	line := "a=" + "SECRETVALUE1234567890" + " b=" + "OTHERSECRET0987654321"
	got := Text(line, "SECRETVALUE1234567890", "OTHERSECRET0987654321")
	if got != "a=SECR…[21 chars] b=OTHE…[21 chars]" {
		t.Errorf("known secrets: %q", got)
	}
	// A known secret that contains another is replaced whole.
	if got := Text("k=abcdefgh12345678", "abcdefgh", "abcdefgh12345678"); got != "k=abcd…[16 chars]" {
		t.Errorf("nested known secrets: %q", got)
	}
}

func TestEvidence(t *testing.T) {
	own, other := "SECRETVALUE1234567890", "OTHERSECRET0987654321"
	got := Evidence("a="+own+" b="+other+" db=postgres://u:pw12@h/x\r\n", own, []string{own, other})
	if got != "a=SECR…[21 chars] b=OTHE…[21 chars] db=postgres://u:[redacted]@h/x" {
		t.Errorf("evidence: %q", got)
	}
	if got := Evidence("encoded=U0VDUkVU", "SECRET", []string{"SECRET"}); got != Withheld {
		t.Errorf("a line whose secret cannot be located must be withheld, got %q", got)
	}
	long := strings.Repeat("x", 5000) + " KEY=" + own + " " + strings.Repeat("y", 5000)
	got = Evidence(long, own, []string{own})
	if len(got) > MaxEvidenceBytes+10 || !strings.Contains(got, "KEY=SECR…[21 chars]") || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long line evidence %d bytes: %q", len(got), got)
	}
	// Beside the secret on a long minified line, a password is masked too.
	long = strings.Repeat("a;", 3000) + `{"key":"` + own + `","password":"hunter2"}` + strings.Repeat(";b", 3000)
	if got := Evidence(long, own, []string{own}); strings.Contains(got, "hunter2") || !strings.Contains(got, `"password":"[redacted]"`) {
		t.Errorf("minified line: %q", got)
	}
	// Multi-byte text is cut on rune boundaries.
	got = Evidence(strings.Repeat("é", 1000)+own+strings.Repeat("ü", 1000), own, []string{own})
	if !strings.Contains(got, "SECR…[21 chars]") || strings.ToValidUTF8(got, "?") != got {
		t.Errorf("multi-byte evidence: %q", got)
	}
}

func TestTextInsideJSONStrings(t *testing.T) {
	// Codex's JSONL output quotes source files as JSON strings.
	in := `{"aggregated_output":"API_KEY = \"abc\"\nDEBUG = True\npassword: correct horse\nuser=bob\n","exit_code":0}`
	want := `{"aggregated_output":"API_KEY = \"[redacted]\"\nDEBUG = True\npassword: [redacted]\nuser=bob\n","exit_code":0}`
	if got := Text(in); got != want {
		t.Errorf("Text(%q)\n got %q\nwant %q", in, got, want)
	}
}
