package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
)

// Digest returns the SHA-256 (hex) of the table's canonical content: the
// label column, the class values, and for each feature its name, type,
// levels and values (NaN as one value), then the labels. It depends only on
// what training sees: not on the source's name, line endings, quoting or
// ignored columns.
func (t *Table) Digest() string {
	h := sha256.New()
	var buf []byte
	str := func(s string) {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(s)))
		h.Write(buf)
		h.Write([]byte(s))
	}
	num := func(n int) {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(n))
		h.Write(buf)
	}
	str("creditrisk-dataset-v1")
	str(t.LabelCol)
	str(t.Positive)
	str(t.Negative)
	num(t.Rows())
	num(len(t.Columns))
	for _, c := range t.Columns {
		str(c.Name)
		str(c.Kind.String())
		num(len(c.Levels))
		for _, l := range c.Levels {
			str(l)
		}
		buf = buf[:0]
		for _, v := range c.Values {
			b := math.Float64bits(v)
			if v != v {
				b = 0x7ff8000000000001 // one NaN for all
			}
			buf = binary.LittleEndian.AppendUint64(buf, b)
		}
		h.Write(buf)
	}
	buf = buf[:0]
	for _, y := range t.Label {
		buf = append(buf, byte(y))
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// ShortDigest is the first 8 hex digits of a [Table.Digest], the length
// MLflow uses for dataset digests.
func ShortDigest(digest string) string { return digest[:8] }

// ColSpec is one column of MLflow's dataset schema.
type ColSpec struct {
	Type     string `json:"type"` // "double" or "string"
	Name     string `json:"name"`
	Required bool   `json:"required"`
}

// MLflowSchema returns the table's schema in MLflow's dataset schema form,
// {"mlflow_colspec": [...]}: numeric features as "double", categorical
// ones as "string", then the label column ("long" when both class values
// are integers, else "string"), as for a dataset logged with
// mlflow.log_input.
func (t *Table) MLflowSchema() string {
	cols := make([]ColSpec, 0, len(t.Columns)+1)
	for _, c := range t.Columns {
		typ := "double"
		if c.Kind == Categorical {
			typ = "string"
		}
		cols = append(cols, ColSpec{Type: typ, Name: c.Name, Required: true})
	}
	typ := "string"
	if isInt(t.Positive) && isInt(t.Negative) {
		typ = "long"
	}
	cols = append(cols, ColSpec{Type: typ, Name: t.LabelCol, Required: true})
	b, _ := json.Marshal(struct {
		Cols []ColSpec `json:"mlflow_colspec"`
	}{cols})
	return string(b)
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// DatasetProfile is the profile logged with a dataset input: MLflow's
// num_rows and num_elements (rows × columns, label included), plus the
// feature counts, the positive rate and the number of missing values.
type DatasetProfile struct {
	NumRows        int     `json:"num_rows"`
	NumElements    int     `json:"num_elements"`
	NumFeatures    int     `json:"num_features"`
	NumNumeric     int     `json:"num_numeric"`
	NumCategorical int     `json:"num_categorical"`
	NumMissing     int     `json:"num_missing"`
	PositiveRate   float64 `json:"positive_rate"`
}

// DatasetProfile returns the profile logged with the table as an MLflow
// dataset input.
func (t *Table) DatasetProfile() DatasetProfile {
	p := DatasetProfile{NumRows: t.Rows(), NumElements: t.Rows() * (len(t.Columns) + 1),
		NumFeatures: len(t.Columns), PositiveRate: t.PositiveRate()}
	for _, c := range t.Columns {
		if c.Kind == Numeric {
			p.NumNumeric++
		} else {
			p.NumCategorical++
		}
		for _, v := range c.Values {
			if v != v {
				p.NumMissing++
			}
		}
	}
	return p
}

// MLflowProfile returns [Table.DatasetProfile] as JSON, the form MLflow stores.
func (t *Table) MLflowProfile() string {
	b, _ := json.Marshal(t.DatasetProfile())
	return string(b)
}
