package profile

import (
	"encoding/json"
	"path"
	"regexp"
	"strings"
)

// manifestParser extracts dependency names from one manifest file.
type manifestParser struct {
	ecosystem string
	parse     func(data []byte) []string
}

// manifestFor returns the parser for a file name, if it is a dependency manifest.
func manifestFor(p string) (manifestParser, bool) {
	base := path.Base(p)
	switch {
	case base == "package.json":
		return manifestParser{"npm", parsePackageJSON}, true
	case base == "go.mod":
		return manifestParser{"go", parseGoMod}, true
	case base == "requirements.txt" || (strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt")):
		return manifestParser{"python", parseRequirements}, true
	case base == "pyproject.toml" || base == "Pipfile" || base == "setup.py" || base == "setup.cfg":
		return manifestParser{"python", parseLoosePython}, true
	case base == "Gemfile":
		return manifestParser{"ruby", parseGemfile}, true
	case base == "pom.xml":
		return manifestParser{"java", parsePom}, true
	case base == "build.gradle" || base == "build.gradle.kts":
		return manifestParser{"java", parseGradle}, true
	case base == "composer.json":
		return manifestParser{"php", parseComposer}, true
	case base == "Cargo.toml":
		return manifestParser{"rust", parseCargo}, true
	}
	return manifestParser{}, false
}

func parsePackageJSON(data []byte) []string {
	var pkg struct {
		Dependencies     map[string]any `json:"dependencies"`
		DevDependencies  map[string]any `json:"devDependencies"`
		PeerDependencies map[string]any `json:"peerDependencies"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return nil
	}
	return keysOf(pkg.Dependencies, pkg.PeerDependencies, pkg.DevDependencies)
}

// parseGoMod reads module paths from require lines and blocks.
func parseGoMod(data []byte) []string {
	var out []string
	inBlock := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(stripComment(line, "//"))
		switch {
		case line == "":
		case strings.HasPrefix(line, "require ("):
			inBlock = true
		case inBlock && line == ")":
			inBlock = false
		case inBlock:
			out = append(out, firstField(line))
		case strings.HasPrefix(line, "require "):
			out = append(out, firstField(strings.TrimPrefix(line, "require ")))
		}
	}
	return out
}

var reqName = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)`)

func parseRequirements(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(stripComment(line, "#"))
		if line == "" || strings.HasPrefix(line, "-") {
			continue // options such as -r, -e, --index-url
		}
		if m := reqName.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

var (
	quotedReq = regexp.MustCompile(`["']\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;,"']|$)`)
	tomlKey   = regexp.MustCompile(`(?m)^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=`)
)

// parseLoosePython handles pyproject.toml, Pipfile and setup.py without a
// TOML/Python parser: dependency names appear either as quoted requirement
// strings ("django>=4") or as table keys (django = "*"). Non-dependency keys
// picked up this way simply match nothing in the catalog.
func parseLoosePython(data []byte) []string {
	return append(submatches(quotedReq, data, 1), submatches(tomlKey, data, 1)...)
}

var gemLine = regexp.MustCompile(`(?m)^\s*gem\s+['"]([^'"]+)['"]`)

func parseGemfile(data []byte) []string { return submatches(gemLine, data, 1) }

var pomArtifact = regexp.MustCompile(`<artifactId>\s*([^<\s]+)\s*</artifactId>`)

func parsePom(data []byte) []string { return submatches(pomArtifact, data, 1) }

// gradleCoord matches "group:artifact[:version]" strings in Gradle files.
var gradleCoord = regexp.MustCompile(`["']([A-Za-z0-9._-]+):([A-Za-z0-9._-]+)(?::[^"']*)?["']`)

func parseGradle(data []byte) []string { return submatches(gradleCoord, data, 2) }

func parseComposer(data []byte) []string {
	var c struct {
		Require    map[string]any `json:"require"`
		RequireDev map[string]any `json:"require-dev"`
	}
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	return keysOf(c.Require, c.RequireDev)
}

// parseCargo reads keys of [dependencies]-like tables.
func parseCargo(data []byte) []string {
	var out []string
	inDeps := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(stripComment(line, "#"))
		if strings.HasPrefix(line, "[") {
			t := strings.Trim(line, "[] ")
			inDeps = strings.HasSuffix(t, "dependencies")
			// [dependencies.serde] style tables name the crate in the header.
			if i := strings.Index(t, "dependencies."); i >= 0 {
				out = append(out, t[i+len("dependencies."):])
				inDeps = false
			}
			continue
		}
		if inDeps {
			if k, _, ok := strings.Cut(line, "="); ok {
				out = append(out, strings.Trim(strings.TrimSpace(k), `"`))
			}
		}
	}
	return out
}

// keysOf lists the keys of JSON dependency maps (package.json,
// composer.json): the names are the keys, the versions do not matter.
func keysOf(maps ...map[string]any) []string {
	var out []string
	for _, m := range maps {
		for k := range m {
			out = append(out, k)
		}
	}
	return out
}

// submatches returns capture group of every match of re in data: how the
// regexp-based manifest readers pick dependency names out.
func submatches(re *regexp.Regexp, data []byte, group int) []string {
	var out []string
	for _, m := range re.FindAllSubmatch(data, -1) {
		out = append(out, string(m[group]))
	}
	return out
}

func stripComment(line, marker string) string {
	if i := strings.Index(line, marker); i >= 0 {
		return line[:i]
	}
	return line
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}
