package data_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/creditrisk/engine/data"
)

func ExampleLoad() {
	csv := "id,income,housing,y\n1,2500,own,bad\n2,NA,rent,good\n3,4100,own,good\n"
	tab, err := data.Load(strings.NewReader(csv), data.Options{
		Name: "loans.csv", Label: "y", Positive: "bad",
		Types: map[string]data.Kind{"id": data.Ignore},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range tab.Columns {
		fmt.Println(c.Name, c.Kind, c.Values, c.Levels)
	}
	fmt.Println("label", tab.Label)
	// Output:
	// income numeric [2500 NaN 4100] []
	// housing categorical [0 1 0] [own rent]
	// label [1 0 0]
}

func ExampleError() {
	_, err := data.Load(strings.NewReader("a,y\n1,bad\n2\n"), data.Options{Name: "loans.csv", Label: "y", Positive: "bad"})
	var de *data.Error
	if errors.As(err, &de) {
		fmt.Println(de.File, de.Line, errors.Is(err, data.ErrFieldCount))
	}
	fmt.Println(err)
	// Output:
	// loans.csv 3 true
	// loans.csv:3: line 3 has 1 field, header has 2
}

func ExampleSchema_EncodeRow() {
	tab, _ := data.Default()
	s := tab.Schema()
	row := tab.Record(0)
	row["housing"] = "castle" // not seen in training: encoded as missing
	x, unseen, err := s.EncodeRow(row)
	fmt.Println(len(x), unseen, err)

	delete(row, "age_in_years")
	row["agee"] = 30.0
	_, _, err = s.EncodeRow(row)
	fmt.Println(err)
	// Output:
	// 20 [housing] <nil>
	// field "age_in_years": missing required feature; field "agee": unknown feature
}

func ExampleTable_Split() {
	tab, _ := data.Default()
	s, err := tab.Split(data.DefaultFractions(), 42)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rows := range [][]int{s.Train, s.Validation, s.Test} {
		part := tab.Subset(rows)
		fmt.Println(part.Rows(), part.PositiveRate())
	}
	// Output:
	// 600 0.3
	// 200 0.3
	// 200 0.3
}

func ExampleHistogram_PSI() {
	tab, _ := data.Default()
	s, _ := tab.Split(data.DefaultFractions(), 1)
	ref := data.NewProfile(tab.Subset(s.Train))
	age, _ := ref.Feature("age_in_years")
	test, _ := tab.Subset(s.Test).Column("age_in_years")
	psi, _ := age.PSI(age.Count(test.Values))
	fmt.Printf("%.3f\n", psi)
	// Output: 0.108
}
