package blob_test

import (
	"testing"

	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/blob/blobtest"
)

func TestLocalContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		l, err := blob.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}
