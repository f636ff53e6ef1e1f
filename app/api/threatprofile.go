package api

import (
	"bytes"
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/repos"
	"github.com/vegasec/vega/store"
)

func (h threatProfileAPI) routes() []Route {
	return []Route{
		Route{"GET", "/repositories/:id/threat-profile", byID(Scope, h.svc.Profile), Op{Summary: "Get the repository's threat profile", Response: store.ThreatProfile{}}},
		Route{"PUT", "/repositories/:id/threat-profile", answer(h.put), Op{Summary: "Replace the threat profile's content (an edit). The body is the content object; the whole profile as GET returns it is accepted too (its content is saved, its other fields are read-only and ignored). An unknown field is a 400, never dropped",
			Request: store.ThreatProfileContent{}, Response: store.ThreatProfile{}}},
		Route{"GET", "/repositories/:id/threat-profile/versions", listByID(Scope, h.svc.ProfileVersions), Op{Summary: "List the kept versions of the threat profile, newest first (every generation result, edit and restore; the newest 50)",
			Response: List[store.ThreatProfileVersion]{}}},
		Route{"POST", "/repositories/:id/threat-profile/versions/:versionId/restore", answer(h.restore), Op{Summary: "Make a kept version the profile's content again (source restored; itself kept as a new version)",
			Response: store.ThreatProfile{}}},
		Route{"POST", "/repositories/:id/threat-profile/generate", byIDAsCaller(h.svc.GenerateProfile), Op{Summary: "Generate the threat profile in the background (status generating, then ready or failed)", Response: store.ThreatProfile{}, Status: 202}},
	}
}

type threatProfileAPI struct{ svc *repos.Service }

func (h threatProfileAPI) put(c *fiber.Ctx) (*store.ThreatProfile, error) {
	in, err := decodeProfileContent(c)
	if err != nil {
		return nil, err
	}
	return h.svc.PutProfile(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), in)
}

// decodeProfileContent reads a PUT body in either documented shape: the
// content object, or the GET answer (recognised by its "content" key).
// Before both were decoded strictly, the GET shape was read as an empty
// content object and wiped the profile.
func decodeProfileContent(c *fiber.Ctx) (store.ThreatProfileContent, error) {
	var in store.ThreatProfileContent
	body, err := jsonBody(c)
	if err != nil {
		return in, err
	}
	// The GET shape is decoded as what GET returns (store.ThreatProfile), so
	// it stays accepted whatever fields GET gains; they are the server's and
	// only content is kept. Anything else in it is refused like any unknown field.
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) == nil {
		if raw, wrapped := keys["content"]; wrapped {
			if v := bytes.TrimSpace(raw); len(v) == 0 || v[0] != '{' {
				return in, apperr.Validation(map[string]string{"content": "must be an object"})
			}
			var doc store.ThreatProfile
			if err := decodeStrict(body, &doc); err != nil {
				return in, err
			}
			return doc.Content, nil
		}
	}
	return in, decodeStrict(body, &in)
}

func (h threatProfileAPI) restore(c *fiber.Ctx) (*store.ThreatProfile, error) {
	return h.svc.RestoreProfile(c.UserContext(), Scope(c), Principal(c).User.ID, c.Params("id"), c.Params("versionId"))
}
