package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vegasec/vega/store"
)

// A bulk triage changes four fields of up to 10,000 findings. Decoding and
// re-encoding each whole JSON record (locations, CWE, long texts) was most of
// its CPU (docs/benchmarks.md, "Findings lists and bulk triage"), so
// TriageFindings splits a record into its top-level members without decoding
// them, decodes only the scalar fields a triage decision reads, and writes the
// record back with the triage members replaced and every other member copied
// byte for byte. The result is what json.Marshal of the updated record gives
// (same members, same order), so the records stay interchangeable.

// jsonMember is one top-level member of a JSON object: its key (unescaped
// bytes between the quotes) and its raw value.
type jsonMember struct{ key, val []byte }

var errNotSplittable = errors.New("bolt: record is not a splittable JSON object")

// splitObject appends the top-level members of the JSON object v to out.
// v is trusted (written by json.Marshal); anything unexpected is an error
// and the caller falls back to a full decode.
func splitObject(v []byte, out []jsonMember) ([]jsonMember, error) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return out, errNotSplittable
	}
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == '}' {
		return out, trailing(v, i+1)
	}
	for {
		if i >= len(v) || v[i] != '"' {
			return out, errNotSplittable
		}
		end, ok := scanString(v, i)
		if !ok {
			return out, errNotSplittable
		}
		key := v[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			return out, errNotSplittable
		}
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ':' {
			return out, errNotSplittable
		}
		i = skipSpace(v, i+1)
		start := i
		if i, ok = scanValue(v, i); !ok {
			return out, errNotSplittable
		}
		out = append(out, jsonMember{key: key, val: v[start:i]})
		i = skipSpace(v, i)
		switch {
		case i < len(v) && v[i] == ',':
			i = skipSpace(v, i+1)
		case i < len(v) && v[i] == '}':
			return out, trailing(v, i+1)
		default:
			return out, errNotSplittable
		}
	}
}

func trailing(v []byte, i int) error {
	if skipSpace(v, i) != len(v) {
		return errNotSplittable
	}
	return nil
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the string starting at v[i] (a quote).
func scanString(v []byte, i int) (int, bool) {
	for j := i + 1; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// scanValue returns the index after the value starting at v[i].
func scanValue(v []byte, i int) (int, bool) {
	if i >= len(v) {
		return 0, false
	}
	switch v[i] {
	case '"':
		return scanString(v, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(v); j++ {
			switch v[j] {
			case '"':
				end, ok := scanString(v, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for ; j < len(v); j++ {
		if c := v[j]; c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
	}
	return j, j > i
}

// decodeString decodes a JSON string value; json.Marshal's output without
// escapes is the string itself, so only escaped values go through json.
func decodeString(val []byte) (string, error) {
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' && bytes.IndexByte(val, '\\') < 0 && utf8.Valid(val) {
		return string(val[1 : len(val)-1]), nil
	}
	var s string
	err := json.Unmarshal(val, &s)
	return s, err
}

// triageView decodes the scalar members of a finding record: what a triage
// decision reads (store.FindingStore.TriageFindings). CWE, locations,
// suppression and the long texts (description, evidence, recommendation)
// are left empty.
func triageView(members []jsonMember) (*store.Finding, error) {
	f := &store.Finding{}
	for _, m := range members {
		var s *string
		var t *time.Time
		var n *int
		switch string(m.key) {
		case "id":
			s = &f.ID
		case "scan_id":
			s = &f.ScanID
		case "repository_id":
			s = &f.RepositoryID
		case "project_id":
			s = &f.ProjectID
		case "owner_user_id":
			s = &f.OwnerUserID
		case "fingerprint":
			s = &f.Fingerprint
		case "engine":
			s = &f.Engine
		case "title":
			s = &f.Title
		case "severity":
			s = &f.Severity
		case "confidence":
			s = &f.Confidence
		case "category":
			s = &f.Category
		case "rule_id":
			s = &f.RuleID
		case "file_path":
			s = &f.FilePath
		case "status":
			s = &f.Status
		case "dismissed_reason":
			s = &f.DismissedReason
		case "triage_note":
			s = &f.TriageNote
		case "first_seen_scan_id":
			s = &f.FirstSeenScanID
		case "last_seen_scan_id":
			s = &f.LastSeenScanID
		case "created_at":
			t = &f.CreatedAt
		case "updated_at":
			t = &f.UpdatedAt
		case "start_line":
			n = &f.StartLine
		case "end_line":
			n = &f.EndLine
		}
		var err error
		switch {
		case s != nil:
			*s, err = decodeString(m.val)
		case t != nil:
			err = t.UnmarshalJSON(m.val)
		case n != nil:
			*n, err = strconv.Atoi(string(m.val))
		}
		if err != nil {
			return nil, errNotSplittable
		}
	}
	if f.ID == "" || f.Status == "" {
		return nil, errNotSplittable
	}
	return f, nil
}

// patchTriage writes the record split into members back with f's triage
// fields (status, dismissed_reason, triage_note, updated_at) and every other
// member as it was. dismissed_reason and triage_note are omitempty and
// follow status, as in store.Finding.
func patchTriage(members []jsonMember, size int, f *store.Finding) ([]byte, error) {
	out := make([]byte, 0, size+64)
	out = append(out, '{')
	add := func(key []byte, val []byte) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, key...)
		out = append(out, '"', ':')
		out = append(out, val...)
	}
	addString := func(key, s string) error {
		val, err := json.Marshal(s)
		add([]byte(key), val)
		return err
	}
	sawStatus := false
	for _, m := range members {
		switch string(m.key) {
		case "dismissed_reason", "triage_note":
		case "status":
			sawStatus = true
			if err := addString("status", f.Status); err != nil {
				return nil, err
			}
			if f.DismissedReason != "" {
				if err := addString("dismissed_reason", f.DismissedReason); err != nil {
					return nil, err
				}
			}
			if f.TriageNote != "" {
				if err := addString("triage_note", f.TriageNote); err != nil {
					return nil, err
				}
			}
		case "updated_at":
			val, err := f.UpdatedAt.MarshalJSON()
			if err != nil {
				return nil, err
			}
			add(m.key, val)
		default:
			add(m.key, m.val)
		}
	}
	if !sawStatus {
		return nil, errNotSplittable
	}
	return append(out, '}'), nil
}

// metaWithStatus returns the meta record v with its status replaced
// (the sixth string of encodeMeta), the rest copied.
func metaWithStatus(v []byte, status string) ([]byte, error) {
	if len(v) == 0 || v[0] != metaVersion {
		return nil, errMeta
	}
	i := 1
	for field := 0; field < 6; field++ {
		n, k := binary.Uvarint(v[i:])
		if k <= 0 || n > uint64(len(v)-i-k) {
			return nil, errMeta
		}
		if field == 5 {
			out := make([]byte, 0, len(v)+len(status))
			out = append(out, v[:i]...)
			out = appendStr(out, status)
			return append(out, v[i+k+int(n):]...), nil
		}
		i += k + int(n)
	}
	return nil, errMeta
}
