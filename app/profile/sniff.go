package profile

import (
	"path"
	"strings"
)

// Source sniffing bounds: a profile must be cheap and deterministic even
// for huge repositories, so only the first files (in path order) are read.
const (
	maxSniffFiles     = 400
	maxSniffFileBytes = 256 << 10
	maxManifestBytes  = 1 << 20
	maxManifests      = 200
)

// signal is a code pattern that reveals a trait not visible in manifests
// (standard-library servers, exec, native deserialisation).
type signal struct {
	needle string
	trait  trait
	label  string
}

var signalsByExt = map[string][]signal{
	".go": {
		{"http.ListenAndServe", traitFramework, "net/http"}, {"http.HandleFunc(", traitFramework, "net/http"},
		{"http.Server{", traitFramework, "net/http"},
		{"http.Get(", traitHTTPClient, "net/http client"}, {"http.NewRequest", traitHTTPClient, "net/http client"},
		{`"os/exec"`, traitExec, "os/exec"}, {`"database/sql"`, traitSQL, "database/sql"},
		{`"html/template"`, traitTemplate, "html/template"}, {`"encoding/gob"`, traitDeserialize, "encoding/gob"},
	},
	".py": {
		{"import pickle", traitDeserialize, "pickle"}, {"pickle.load", traitDeserialize, "pickle"},
		{"yaml.load(", traitDeserialize, "yaml.load"}, {"marshal.loads", traitDeserialize, "marshal"},
		{"import subprocess", traitExec, "subprocess"}, {"os.system(", traitExec, "os.system"}, {"os.popen(", traitExec, "os.popen"},
		{"import sqlite3", traitSQL, "SQLite"}, {"urllib.request", traitHTTPClient, "urllib"},
		{"xml.etree", traitXML, "xml.etree"}, {"http.server", traitFramework, "http.server"},
	},
	".js": jsSignals, ".mjs": jsSignals, ".cjs": jsSignals, ".ts": jsSignals, ".jsx": jsSignals, ".tsx": jsSignals,
	".java": jvmSignals, ".kt": jvmSignals,
	".rb": {
		{"Marshal.load", traitDeserialize, "Marshal"}, {"YAML.load(", traitDeserialize, "YAML.load"},
		{"system(", traitExec, "Kernel#system"}, {"IO.popen", traitExec, "IO.popen"}, {"Open3.", traitExec, "Open3"},
		{"%x(", traitExec, "%x()"}, {"Net::HTTP", traitHTTPClient, "Net::HTTP"},
	},
	".php": {
		{"unserialize(", traitDeserialize, "unserialize"}, {"shell_exec(", traitExec, "shell_exec"},
		{"passthru(", traitExec, "passthru"}, {"proc_open(", traitExec, "proc_open"}, {"exec(", traitExec, "exec"},
		{"mysqli_", traitSQL, "mysqli"}, {"new PDO(", traitSQL, "PDO"}, {"$_GET", traitFramework, "plain PHP"},
		{"$_POST", traitFramework, "plain PHP"}, {"curl_exec(", traitHTTPClient, "cURL"}, {"file_get_contents($", traitHTTPClient, "file_get_contents"},
		{"simplexml_load", traitXML, "SimpleXML"},
	},
	".rs": {
		{"std::process::Command", traitExec, "std::process::Command"}, {"Command::new(", traitExec, "std::process::Command"},
	},
	".cs": {
		{"BinaryFormatter", traitDeserialize, "BinaryFormatter"}, {"Process.Start", traitExec, "Process.Start"},
		{"SqlCommand", traitSQL, "ADO.NET"}, {"HttpClient", traitHTTPClient, "HttpClient"}, {"[ApiController]", traitFramework, "ASP.NET Core"},
		{"XmlDocument", traitXML, "XmlDocument"},
	},
}

var jsSignals = []signal{
	{"child_process", traitExec, "child_process"}, {"http.createServer", traitFramework, "Node http"},
	{"dangerouslySetInnerHTML", traitTemplate, "dangerouslySetInnerHTML"}, {".innerHTML", traitTemplate, "innerHTML"},
}

var jvmSignals = []signal{
	{"ObjectInputStream", traitDeserialize, "Java serialization"}, {"XMLDecoder", traitDeserialize, "XMLDecoder"},
	{"Runtime.getRuntime().exec", traitExec, "Runtime.exec"}, {"ProcessBuilder", traitExec, "ProcessBuilder"},
	{"DocumentBuilderFactory", traitXML, "DOM parser"}, {"SAXParserFactory", traitXML, "SAX parser"},
	{"XMLInputFactory", traitXML, "StAX parser"}, {"java.sql.", traitSQL, "JDBC"}, {"JdbcTemplate", traitSQL, "JdbcTemplate"},
	{"@RestController", traitFramework, "Spring"}, {"@Controller", traitFramework, "Spring"},
	{"HttpURLConnection", traitHTTPClient, "HttpURLConnection"}, {"RestTemplate", traitHTTPClient, "RestTemplate"},
	{"WebClient", traitHTTPClient, "WebClient"},
}

// sniffable reports whether p is a source file worth scanning for signals.
func sniffable(p string) bool {
	_, ok := signalsByExt[path.Ext(p)]
	return ok
}

// sniff records the traits whose needles occur in content.
func sniff(p string, content []byte, f *facts) {
	s := string(content)
	for _, sig := range signalsByExt[path.Ext(p)] {
		if strings.Contains(s, sig.needle) {
			f.add(sig.trait, sig.label)
		}
	}
}
