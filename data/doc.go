// Package data loads loan data for training and encodes new rows for
// scoring.
//
// [Load] reads a CSV file with a header row into a [Table]: numeric
// features as float64 (NaN for a missing value) and categorical features as
// non-negative integer codes into a sorted level list (NaN for missing), the
// form the gbdt trainer takes. Column types are inferred from the whole file
// and can be overridden (numeric, categorical, ignore). Every problem with
// the input is reported as an [*Error] naming the file, the line and the
// column.
//
// A [Schema] records the features, their types and category levels. It is
// saved in the model directory as JSON and is what predict and serve use to
// turn a request ([Schema.EncodeRow]) or a CSV of new rows
// ([Schema.LoadBatch]) into feature vectors.
//
// The package also splits a table for training ([Table.Split]) and records
// a split as a [Manifest] that replays it on the same data, computes
// the dataset digest and MLflow dataset schema/profile logged with a run, and
// the reference [Profile] of the training data that drift monitoring
// compares live traffic with ([PSI]).
//
// The German credit data set is embedded and is the default source
// ([Default], [DefaultOptions]).
package data
