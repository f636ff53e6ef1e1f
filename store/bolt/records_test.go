package bolt

import (
	"testing"

	"github.com/vegasec/vega/store"
)

// A record that would drop or mistype a hidden field fails when its table is
// declared, not silently on the first write.
func TestRecordCodecRefusesAWrongRecord(t *testing.T) {
	type missesAField struct {
		store.User
		PasswordHash string `json:"password_hash"`
	}
	type wrongType struct {
		store.APIKey
		Hash []byte `json:"hash"`
	}
	type notHidden struct {
		store.APIKey
		Hash   string `json:"hash"`
		UserID string `json:"user_id2"`
	}
	type notEmbedded struct {
		Key  store.APIKey `json:"key"`
		Hash string       `json:"hash"`
	}
	for name, check := range map[string]func(){
		"missing field": func() { newRecordCodec[missesAField, store.User]() },
		"wrong type":    func() { newRecordCodec[wrongType, store.APIKey]() },
		"not hidden":    func() { newRecordCodec[notHidden, store.APIKey]() },
		"not embedded":  func() { newRecordCodec[notEmbedded, store.APIKey]() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			check()
		}()
	}
}
