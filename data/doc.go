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
// saved in the model directory as JSON. An [Encoder] (a schema and the
// training ranges of its reference profile) gives every input value its
// one meaning, whichever way it came: a JSON number, a JSON string, a CSV
// field (numbers are category codes, text is a level, one set of missing
// spellings), with a [Note] for what is scored with a warning (an unseen
// category, a value outside the training range, a missing required value)
// or refused. serve's protocols and pipeline predict all use it, without
// allocating on the way to a scored value. A [BatchReader] reads a CSV of
// new rows in blocks of whole records that decode concurrently, so that a
// file of any size is scored in constant memory; [Schema.LoadBatch] reads
// one whole and [Schema.EncodeRow] encodes one decoded JSON object.
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
