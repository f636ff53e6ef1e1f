package ingest

import (
	"path"
	"strings"
)

// languageByName recognises files whose name, not extension, says the language.
var languageByName = map[string]string{
	"dockerfile":     "Dockerfile",
	"makefile":       "Makefile",
	"gnumakefile":    "Makefile",
	"cmakelists.txt": "CMake",
	"gemfile":        "Ruby",
	"rakefile":       "Ruby",
	"jenkinsfile":    "Groovy",
	"vagrantfile":    "Ruby",
	"build":          "Starlark",
	"workspace":      "Starlark",
}

// languageByExt maps a lower-case extension (with dot) to a language name.
var languageByExt = map[string]string{
	".go": "Go", ".py": "Python", ".pyi": "Python", ".js": "JavaScript", ".mjs": "JavaScript",
	".cjs": "JavaScript", ".jsx": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript",
	".mts": "TypeScript", ".cts": "TypeScript", ".java": "Java", ".kt": "Kotlin", ".kts": "Kotlin",
	".scala": "Scala", ".groovy": "Groovy", ".gradle": "Groovy", ".c": "C", ".h": "C",
	".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".hpp": "C++", ".hh": "C++", ".hxx": "C++",
	".cs": "C#", ".fs": "F#", ".vb": "Visual Basic", ".rs": "Rust", ".rb": "Ruby", ".erb": "Ruby",
	".php": "PHP", ".swift": "Swift", ".m": "Objective-C", ".mm": "Objective-C", ".dart": "Dart",
	".lua": "Lua", ".pl": "Perl", ".pm": "Perl", ".r": "R", ".jl": "Julia", ".ex": "Elixir",
	".exs": "Elixir", ".erl": "Erlang", ".hs": "Haskell", ".clj": "Clojure", ".elm": "Elm",
	".ml": "OCaml", ".zig": "Zig", ".nim": "Nim", ".sol": "Solidity", ".sh": "Shell",
	".bash": "Shell", ".zsh": "Shell", ".ps1": "PowerShell", ".bat": "Batchfile", ".cmd": "Batchfile",
	".sql": "SQL", ".html": "HTML", ".htm": "HTML", ".css": "CSS", ".scss": "SCSS", ".sass": "Sass",
	".less": "Less", ".vue": "Vue", ".svelte": "Svelte", ".json": "JSON", ".yaml": "YAML",
	".yml": "YAML", ".toml": "TOML", ".xml": "XML", ".md": "Markdown", ".tf": "HCL", ".hcl": "HCL",
	".proto": "Protocol Buffers", ".graphql": "GraphQL", ".gql": "GraphQL", ".tpl": "Template",
	".cmake": "CMake", ".ini": "INI", ".dockerfile": "Dockerfile", ".bzl": "Starlark",
}

// LanguageOf names the language of a snapshot path, or "" when unknown.
func LanguageOf(p string) string {
	base := strings.ToLower(path.Base(p))
	if l, ok := languageByName[base]; ok {
		return l
	}
	if strings.HasPrefix(base, "dockerfile.") {
		return "Dockerfile"
	}
	return languageByExt[path.Ext(base)]
}

// storedExts are formats that are already compressed: deflating them again
// costs time and saves nothing, so the snapshot stores them as they are.
var storedExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".ico": true,
	".zip": true, ".jar": true, ".war": true, ".gz": true, ".tgz": true, ".bz2": true,
	".xz": true, ".zst": true, ".7z": true, ".rar": true, ".br": true, ".mp3": true,
	".mp4": true, ".mov": true, ".woff": true, ".woff2": true, ".pdf": true, ".whl": true,
	".apk": true, ".aar": true, ".nupkg": true, ".docx": true, ".xlsx": true, ".pptx": true,
}
