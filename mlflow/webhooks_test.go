package mlflow_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/mlflow"
)

// FuzzVerifyWebhook: arbitrary headers never verify without the secret's
// signature, and a correctly signed body always does.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add("d1", "1700000000", "v1,abc", []byte(`{}`))
	f.Add("", "", "", []byte(nil))
	f.Add("d2", "-1", "v1, v1,", []byte(`{"entity":"model_version_alias"}`))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		now := time.Unix(1700000000, 0)
		h := http.Header{}
		h.Set(mlflow.HeaderDeliveryID, id)
		h.Set(mlflow.HeaderTimestamp, ts)
		h.Set(mlflow.HeaderSignature, sig)
		if err := mlflow.VerifyWebhook("secret", h, body, now, time.Minute); err == nil && sig != mlflow.SignWebhook("secret", h.Get(mlflow.HeaderDeliveryID), h.Get(mlflow.HeaderTimestamp), body) {
			// only a signature list holding the right one may pass
			found := false
			for _, s := range strings.Fields(sig) {
				found = found || s == mlflow.SignWebhook("secret", h.Get(mlflow.HeaderDeliveryID), h.Get(mlflow.HeaderTimestamp), body)
			}
			if !found {
				t.Fatalf("verified without the right signature: %q", sig)
			}
		}
		h.Set(mlflow.HeaderTimestamp, "1700000000")
		if h.Get(mlflow.HeaderDeliveryID) == "" {
			return
		}
		h.Set(mlflow.HeaderSignature, mlflow.SignWebhook("secret", h.Get(mlflow.HeaderDeliveryID), "1700000000", body))
		if err := mlflow.VerifyWebhook("secret", h, body, now, time.Minute); err != nil {
			t.Fatalf("signed delivery refused: %v", err)
		}
	})
}
