package data_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

func TestDigest(t *testing.T) {
	tab := testkit.German(t)
	d := tab.Digest()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(d) || data.ShortDigest(d) != d[:8] {
		t.Fatalf("digest %q short %q", d, data.ShortDigest(d))
	}
	testkit.Golden(t, "german_digest.golden", []byte(d+"\n"))
	if again := testkit.German(t).Digest(); again != d {
		t.Error("loading twice gave different digests")
	}
	// The same content written differently: LF line endings, an extra
	// quoted field, an ignored column.
	csv := strings.ReplaceAll(string(data.DefaultCSV()), "\r\n", "\n")
	lines := strings.Split(strings.TrimSuffix(csv, "\n"), "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = "row_id," + lines[i]
		} else {
			lines[i] = fmt.Sprintf("\"%d\",%s", i, lines[i])
		}
	}
	opts := data.DefaultOptions()
	opts.Name = "other.csv"
	opts.Types = map[string]data.Kind{"row_id": data.Ignore}
	other, err := data.Load(strings.NewReader(strings.Join(lines, "\n")), opts)
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest() != d {
		t.Error("digest depends on formatting, file name or ignored columns")
	}
	// Any change in content changes it.
	changed := testkit.German(t)
	changed.Columns[1].Values[500]++
	relabelled := testkit.German(t)
	relabelled.Label[3] = 1 - relabelled.Label[3]
	renamed := testkit.German(t)
	renamed.Columns[0].Name += "_"
	for name, tb := range map[string]*data.Table{"value": changed, "label": relabelled, "name": renamed, "subset": tab.Subset([]int{0, 1, 2})} {
		if tb.Digest() == d {
			t.Errorf("changing the %s kept the digest", name)
		}
	}
}

func TestMLflowDataset(t *testing.T) {
	tab := testkit.German(t)
	var schema struct {
		Cols []data.ColSpec `json:"mlflow_colspec"`
	}
	if err := json.Unmarshal([]byte(tab.MLflowSchema()), &schema); err != nil {
		t.Fatal(err)
	}
	if len(schema.Cols) != 21 || schema.Cols[0] != (data.ColSpec{Type: "string", Name: "status_of_existing_checking_account", Required: true}) ||
		schema.Cols[1].Type != "double" || schema.Cols[20] != (data.ColSpec{Type: "string", Name: "creditability", Required: true}) {
		t.Errorf("schema %s", tab.MLflowSchema())
	}
	testkit.Golden(t, "german_mlflow_schema.json", []byte(tab.MLflowSchema()+"\n"))
	const wantProfile = `{"num_rows":1000,"num_elements":21000,"num_features":20,"num_numeric":7,"num_categorical":13,"num_missing":0,"positive_rate":0.3}`
	if got := tab.MLflowProfile(); got != wantProfile {
		t.Errorf("profile %s, want %s", got, wantProfile)
	}
	num, err := data.Load(strings.NewReader("a,y\n1,1\n,0\n"), data.Options{Label: "y", Positive: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if s := num.MLflowSchema(); s != `{"mlflow_colspec":[{"type":"double","name":"a","required":true},{"type":"long","name":"y","required":true}]}` {
		t.Errorf("schema %s", s)
	}
	if p := num.DatasetProfile(); p.NumMissing != 1 || p.NumElements != 4 {
		t.Errorf("profile %+v", p)
	}
}
