// Package profile derives a threat profile from a snapshot's manifest when no
// model is available (docs/architecture.md, "Sources and threat profiles"). The derivation is deterministic: the same
// files and contents always give the same profile, so it can be tested,
// diffed and trusted as a baseline the user edits.
package profile

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/vegasec/vega/store"
)

// File is one entry of a snapshot manifest.
type File struct {
	Path     string // repository-relative, forward slashes
	Size     int64
	Language string // as detected at ingest; empty when unknown
}

// maxEntryPoints keeps the list readable; the rest is summarised.
const maxEntryPoints = 30

// facts accumulates what the manifest reveals, as ordered sets so output
// does not depend on map iteration.
type facts struct {
	traits map[trait]*orderedSet
}

func newFacts() *facts { return &facts{traits: map[trait]*orderedSet{}} }

func (f *facts) add(t trait, label string) {
	s := f.traits[t]
	if s == nil {
		s = &orderedSet{seen: map[string]bool{}}
		f.traits[t] = s
	}
	s.add(label)
}

// list returns the labels of t, sorted.
func (f *facts) list(t trait) []string {
	s := f.traits[t]
	if s == nil {
		return nil
	}
	out := append([]string(nil), s.items...)
	sort.Strings(out)
	return out
}

func (f *facts) has(t trait) bool { return f.traits[t] != nil }

type orderedSet struct {
	items []string
	seen  map[string]bool
}

func (s *orderedSet) add(v string) {
	if v != "" && !s.seen[v] {
		s.seen[v] = true
		s.items = append(s.items, v)
	}
}

// Derive builds a threat profile from the manifest. read returns a file's
// content by path; it may be nil (then only names are used) and its errors
// are ignored, because a profile from names alone is still useful.
func Derive(files []File, read func(path string) ([]byte, error)) store.ThreatProfileContent {
	files = normalise(files)
	f := newFacts()

	langBytes := map[string]int64{}
	skipped := map[string]map[string]bool{} // dir name → prefixes where it occurs
	testPatterns := map[string]bool{}
	entries := &orderedSet{seen: map[string]bool{}}
	var inScope []File

	for _, file := range files {
		if prefix, name, ok := skippedDir(file.Path); ok {
			if skipped[name] == nil {
				skipped[name] = map[string]bool{}
			}
			skipped[name][prefix] = true
			continue
		}
		if pat, ok := isTestFile(file.Path); ok {
			testPatterns[pat] = true
			continue
		}
		inScope = append(inScope, file)
		if file.Language != "" {
			langBytes[file.Language] += file.Size
		}
		if e, why, ok := entryPoint(file.Path); ok {
			entries.add(e + " (" + why + ")")
		}
	}

	if read != nil {
		manifests, sniffed := 0, 0
		for _, file := range inScope {
			if mp, ok := manifestFor(file.Path); ok && manifests < maxManifests && file.Size <= maxManifestBytes {
				if data, err := read(file.Path); err == nil && len(data) <= maxManifestBytes {
					manifests++
					for _, name := range mp.parse(data) {
						if d, ok := lookup(mp.ecosystem, name); ok {
							f.add(d.trait, d.label)
						}
					}
				}
				continue
			}
			if sniffable(file.Path) && sniffed < maxSniffFiles && file.Size <= maxSniffFileBytes {
				if data, err := read(file.Path); err == nil && len(data) <= maxSniffFileBytes {
					sniffed++
					sniff(file.Path, data, f)
				}
			}
		}
	}

	langs := rankLanguages(langBytes)
	c := store.ThreatProfileContent{
		EntryPoints:       capEntries(entries.items),
		OutOfScope:        outOfScope(skipped, testPatterns),
		SeverityThreshold: store.SeverityLow,
	}
	web := f.has(traitFramework) || hasEntryDir(entries.items)
	c.TrustBoundaries = trustBoundaries(f, web, entries.items)
	c.Assets = assets(f, web)
	c.Focus = focus(f, web, langs)
	c.Summary = summary(f, web, langs, len(inScope), len(entries.items))
	for _, p := range []*[]string{&c.Assets, &c.EntryPoints, &c.TrustBoundaries, &c.Focus, &c.OutOfScope} {
		if *p == nil {
			*p = []string{}
		}
	}
	return c
}

// normalise cleans paths, drops unusable entries and sorts by path.
func normalise(files []File) []File {
	out := make([]File, 0, len(files))
	for _, f := range files {
		p := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(f.Path, `\`, "/")), "/")
		if p == "" || p == "." {
			continue
		}
		f.Path = p
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

type langShare struct {
	name  string
	bytes int64
}

// rankLanguages orders languages by bytes (then name) and drops those under
// 2% of the code, which are usually config or tooling.
func rankLanguages(m map[string]int64) []string {
	var total int64
	shares := make([]langShare, 0, len(m))
	for n, b := range m {
		total += b
		shares = append(shares, langShare{n, b})
	}
	sort.Slice(shares, func(i, j int) bool {
		if shares[i].bytes != shares[j].bytes {
			return shares[i].bytes > shares[j].bytes
		}
		return shares[i].name < shares[j].name
	})
	var out []string
	for i, s := range shares {
		if i > 0 && total > 0 && s.bytes*50 < total {
			break
		}
		out = append(out, s.name)
	}
	return out
}

func capEntries(items []string) []string {
	if len(items) <= maxEntryPoints {
		return items
	}
	out := append([]string(nil), items[:maxEntryPoints]...)
	return append(out, fmt.Sprintf("… and %d more", len(items)-maxEntryPoints))
}

func hasEntryDir(entries []string) bool {
	for _, e := range entries {
		if strings.Contains(e, "/ (") {
			return true
		}
	}
	return false
}

func hasEntry(entries []string, why string) bool {
	for _, e := range entries {
		if strings.Contains(e, "("+why) {
			return true
		}
	}
	return false
}

func trustBoundaries(f *facts, web bool, entries []string) []string {
	var out []string
	if web {
		via := ""
		if fw := f.list(traitFramework); len(fw) > 0 {
			via = " (" + strings.Join(fw, ", ") + ")"
		}
		out = append(out, "Internet → HTTP handlers"+via+": paths, query strings, headers, cookies and bodies are attacker-controlled")
	}
	if f.has(traitFrontEnd) {
		out = append(out, "Browser ↔ server ("+strings.Join(f.list(traitFrontEnd), ", ")+"): client-side code and anything it sends are untrusted")
	}
	if f.has(traitRPC) || hasEntry(entries, "gRPC") || hasEntry(entries, "GraphQL") {
		out = append(out, "RPC/GraphQL interfaces: every method or resolver receives untrusted arguments")
	}
	if f.has(traitSQL) || f.has(traitNoSQL) {
		out = append(out, "Application → database ("+strings.Join(append(f.list(traitSQL), f.list(traitNoSQL)...), ", ")+"): queries built from request data")
	}
	if f.has(traitCloud) {
		out = append(out, "Application → cloud provider APIs ("+strings.Join(f.list(traitCloud), ", ")+") using service credentials")
	}
	if f.has(traitQueue) {
		out = append(out, "Message queues and background jobs ("+strings.Join(f.list(traitQueue), ", ")+"): messages may come from other, less trusted producers")
	}
	if f.has(traitHTTPClient) {
		out = append(out, "Application → outbound HTTP ("+strings.Join(f.list(traitHTTPClient), ", ")+"): requests to URLs that user input may influence")
	}
	if f.has(traitExec) {
		out = append(out, "Application → operating system processes ("+strings.Join(f.list(traitExec), ", ")+")")
	}
	if hasEntry(entries, "container image") || hasEntry(entries, "serverless") || hasEntry(entries, "SAM/") {
		out = append(out, "Build and deployment configuration (containers, serverless templates): build-time secrets and runtime permissions")
	}
	if len(out) == 0 {
		out = append(out, "Process inputs: command-line arguments, environment variables and files the program reads")
	}
	return out
}

func assets(f *facts, web bool) []string {
	out := []string{"Credentials and secrets: API keys, tokens, private keys and connection strings in code, config and environment"}
	if f.has(traitSQL) || f.has(traitNoSQL) {
		out = append(out, "Data stored in "+strings.Join(append(f.list(traitSQL), f.list(traitNoSQL)...), ", "))
	}
	if f.has(traitAuth) || web {
		s := "User accounts and sessions: passwords, session cookies, tokens"
		if a := f.list(traitAuth); len(a) > 0 {
			s += " (" + strings.Join(a, ", ") + ")"
		}
		out = append(out, s)
	}
	if web {
		out = append(out, "User-supplied data processed and returned by the application")
	}
	if f.has(traitCloud) {
		out = append(out, "Cloud resources reachable with the application's "+strings.Join(f.list(traitCloud), "/")+" credentials")
	}
	if f.has(traitQueue) {
		out = append(out, "Messages and jobs on "+strings.Join(f.list(traitQueue), ", "))
	}
	return out
}

var memoryUnsafe = map[string]bool{"C": true, "C++": true, "Objective-C": true, "Assembly": true}

func focus(f *facts, web bool, langs []string) []string {
	var out []string
	add := func(cond bool, s string) {
		if cond {
			out = append(out, s)
		}
	}
	add(f.has(traitSQL), "SQL injection (CWE-89): queries built from request data ("+strings.Join(f.list(traitSQL), ", ")+")")
	add(f.has(traitNoSQL), "NoSQL/query injection (CWE-943): operators smuggled into "+strings.Join(f.list(traitNoSQL), ", ")+" queries")
	add(f.has(traitExec), "Command injection (CWE-78): process execution via "+strings.Join(f.list(traitExec), ", "))
	add(f.has(traitHTTPClient), "Server-side request forgery (CWE-918): outbound requests via "+strings.Join(f.list(traitHTTPClient), ", "))
	add(f.has(traitTemplate) || f.has(traitFrontEnd),
		"Cross-site scripting (CWE-79): output encoding in "+strings.Join(append(f.list(traitTemplate), f.list(traitFrontEnd)...), ", "))
	javaOrPython := slices.Contains(langs, "Java") || slices.Contains(langs, "Kotlin") || slices.Contains(langs, "Python")
	add(f.has(traitDeserialize) || (javaOrPython && web),
		"Insecure deserialization (CWE-502)"+labelled(f.list(traitDeserialize)))
	add(f.has(traitXML), "XML external entities (CWE-611): parsers "+strings.Join(f.list(traitXML), ", "))
	add(web, "Broken access control and IDOR (CWE-862, CWE-639): every handler checks who may act on which object")
	add(web, "Path traversal (CWE-22): file paths built from request data")
	add(f.has(traitAuth) || web, "Authentication and session handling (CWE-287, CWE-384)"+labelled(f.list(traitAuth)))
	for _, l := range langs {
		if memoryUnsafe[l] {
			out = append(out, "Memory safety (CWE-787, CWE-416): buffer handling and lifetimes in "+l)
		}
	}
	out = append(out, "Hard-coded secrets (CWE-798)")
	return out
}

func labelled(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	return ": " + strings.Join(labels, ", ")
}

// summary is one sentence built from the facts, e.g. "A Go web application
// (Gin) using PostgreSQL (pgx) and AWS; 42 files in scope, 5 entry points."
func summary(f *facts, web bool, langs []string, files, entries int) string {
	kind := "codebase"
	switch {
	case web && f.has(traitFrontEnd):
		kind = "web application with a browser front end"
	case web:
		kind = "web application or service"
	case f.has(traitFrontEnd):
		kind = "front-end application"
	case f.has(traitQueue):
		kind = "background worker"
	}
	lang := ""
	switch len(langs) {
	case 0:
	case 1:
		lang = langs[0] + " "
	default:
		n := min(len(langs), 3)
		lang = strings.Join(langs[:n-1], ", ") + " and " + langs[n-1] + " "
	}
	s := article(lang+kind) + " " + lang + kind
	if fw := append(f.list(traitFramework), f.list(traitFrontEnd)...); len(fw) > 0 {
		s += " built with " + strings.Join(fw, ", ")
	}
	var uses []string
	uses = append(uses, f.list(traitSQL)...)
	uses = append(uses, f.list(traitNoSQL)...)
	uses = append(uses, f.list(traitCloud)...)
	uses = append(uses, f.list(traitQueue)...)
	if len(uses) > 0 {
		s += ", using " + strings.Join(uses, ", ")
	}
	return fmt.Sprintf("%s; %d files in scope, %d entry points. Derived from file names and dependency manifests without a model: review and edit.", s, files, entries)
}

func article(phrase string) string {
	if phrase != "" && strings.ContainsRune("AEIOUaeiou", rune(phrase[0])) {
		return "An"
	}
	return "A"
}
