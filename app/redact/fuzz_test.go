package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzText: whatever the input, Text does not panic, is idempotent (a
// second pass over masked text changes nothing) and keeps valid UTF-8 valid.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		`{"aws_access_key_id":"AKIAQYLPMN5HHHFPAAAF","aws_secret_access_key":"8dyX8dyX8dyX8dyX8dyX"}`,
		`AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPAAAF DATABASE_URL=postgres://admin:Tr0ub4dor-horse@db/app`,
		"password: correct horse # c\ntoken: \"a\\\"b\"\n-----BEGIN EC PRIVATE KEY-----\nabc",
		`Authorization: Bearer x y`, `password: str = "a" = b`, `var token string = "x"`, `--secret  a`,
		`<password>a</password><token>b</token>`, `https://a:b@c:d@e/f?token=g&h=i`, `key=AKIA…[20 chars]x`,
		strings.Repeat("a=", 50) + "token=" + strings.Repeat("Zq3hT8vLk2Pw9Rm4", 4),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Text(s)
		if twice := Text(once); twice != once {
			t.Fatalf("not idempotent:\n in   %q\n once %q\n twice %q", s, once, twice)
		}
		if utf8.ValidString(s) && !utf8.ValidString(once) {
			t.Fatalf("valid UTF-8 in, invalid out: %q", once)
		}
	})
}

// forms are the contexts a secret is recognised in without a detector.
var forms = []string{
	`password=%s`, `DB_PASSWORD='%s'`, `"client_secret": "%s"`, `apiKey: "%s"`, `api_key: %s`, `token := "%s"`,
	`$secret = '%s'`, `--password %s`, `--token=%s`, `https://user:%s@db.internal/app`, `<password>%s</password>`,
	`Authorization: Bearer %s`, `password: str = "%s"`, `var authToken string = "%s"`, `cfg["private_key"] = "%s"`,
	`if passwd == "%s"`, `https://x.example/cb?access_token=%s&y=1`,
}

// FuzzPlanted plants a value in each form, between arbitrary text, and
// checks it never survives. The value and its neighbours are constrained only
// where the syntax requires it (see plantable).
func FuzzPlanted(f *testing.F) {
	f.Add(uint8(0), "", "hunter2hunter2", "")
	f.Add(uint8(4), "  - ", "Tr0ub4dor-horse", " # admin")
	f.Add(uint8(11), `curl -H "`, "abc.def+ghi=", `" x`)
	f.Fuzz(func(t *testing.T, form uint8, before, secret, after string) {
		tmpl := forms[int(form)%len(forms)]
		if !plantable(secret, tmpl) || strings.Contains(before, secret) || strings.Contains(after, secret) {
			t.Skip()
		}
		// Text before must not extend the name; text after an unquoted value
		// must end it and not turn it into a call or an index (code, not a
		// literal).
		if before != "" && strings.IndexByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$@-:/", before[len(before)-1]) >= 0 {
			t.Skip()
		}
		if strings.HasSuffix(tmpl, "%s") && after != "" && (!stopsValue(after[0]) || after[0] == '(' || after[0] == '[') {
			t.Skip()
		}
		line := before + strings.Replace(tmpl, "%s", secret, 1) + after
		if strings.Count(line, secret) != 1 {
			t.Skip() // the value also stands elsewhere, in text no rule covers
		}
		if got := Text(line); strings.Contains(got, secret) {
			t.Fatalf("%q survived:\n in  %q\n out %q", secret, line, got)
		}
	})
}

// plantable: the value may stand in the form (no quote, separator or space
// that would end it early) and is something a secret can be, not a
// placeholder or a word the form itself contains.
func plantable(s, tmpl string) bool {
	if len(s) < 6 || notASecret(s) || masked(s) || isScheme(s) || strings.Contains(tmpl+Marker, s) {
		return false
	}
	if s[0] == '=' {
		return false // "token==x" is a comparison; '=' is padding, at the end
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isWordByte(c) || strings.IndexByte("+=.-~!*^", c) >= 0) {
			return false
		}
	}
	return true
}

// FuzzEvidence: whatever surrounds them, neither the finding's secret nor
// another one of the same file survives in its evidence.
func FuzzEvidence(f *testing.F) {
	f.Add("export TOKEN=", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", " # ok", "AKIAABCDEFGHIJKLMNOP")
	f.Add(strings.Repeat("é", 300), "abababababababab", strings.Repeat("x", 600), "babababababababa")
	f.Fuzz(func(t *testing.T, before, secret, after, other string) {
		if !tokenLike(secret) || !tokenLike(other) {
			t.Skip()
		}
		line := before + secret + after + " " + other
		got := Evidence(line, secret, []string{secret, other})
		if strings.Contains(got, secret) || strings.Contains(got, other) {
			t.Fatalf("secret survived redaction: %q", got)
		}
	})
}

// tokenLike limits secrets to the alphabet real credentials use; the
// markers' own words are not secrets.
func tokenLike(s string) bool {
	if len(s) < 8 || strings.Contains(Marker+Withheld, s) {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+/=_-.", r)) {
			return false
		}
	}
	return true
}
