// Package scorecard is the points-scorecard model family: per-feature
// optimal binning, weight of evidence (WoE) and information value (IV),
// selection by IV, a logistic regression on the WoE values, and integer
// points per bin, the model a credit regulator reads.
//
// Inputs are those of package model/logistic: a [data.Table] ([Train]) or
// encoded rows with their [data.Schema] ([Fit]): numbers for numeric
// features, category codes for categorical ones, NaN for missing.
//
// # Binning
//
// A numeric feature is cut into quantile pre-bins (max_prebins, 50 by
// default: cuts halfway between the neighbouring distinct values, so ties
// make fewer pre-bins), which are then merged into the binning of highest
// IV whose event rate follows the feature's trend strictly (ascending,
// descending, peak or valley; "auto" picks the best monotone trend unless
// a peak or valley gains [PeakGain] more IV) and whose every bin holds at
// least min_bin_share of the training rows, min_bin_events events and one
// non-event. The merge is exact (a dynamic programme over the pre-bins), so
// it is the finest binning those constraints allow. Missing values (NaN)
// have their own bin.
//
// A categorical feature's levels below rare_share of the rows (and levels
// without training rows) are pooled into one rare group; the levels and
// that group are ordered by event rate and merged the same way under an
// ascending trend. A code outside the levels (or NaN) is missing.
//
// Bins below a limit are merged, never kept: each feature's Notes say
// which pre-bin broke which limit and which bin took it, and when no
// binning meets the limits the feature is left as one bin (IV 0, so it is
// never selected) with a note saying why.
//
// # WoE and IV
//
// WoE = ln(non-event share / event share), optbinning's sign convention:
// a bin riskier than average has a negative WoE, and each bin's IV =
// (non-event share − event share)·WoE is non-negative. Shares are taken
// over all training rows, the missing bin included. A bin lacking a class
// has WoE 0 and IV 0 (as in optbinning), and so does a missing bin smaller
// than min_bin_share (its evidence is too thin); see [Evidence].
//
// # Model and points
//
// Features with IV ≥ min_iv (0.02) are selected; a logistic regression of
// default on their WoE values is fitted with package model/logistic's
// Newton solver (L2 penalty l2 on the standardised WoE, intercept free).
// Coefficients should be negative (a higher WoE is safer); a positive one
// is kept and noted. The points of bin b of selected feature j are, as in
// optbinning's Scorecard with scaling "pdo_odds",
//
//	points = round(−(β_j·WoE_b + α/n)·Factor + Offset/n)
//	Factor = PDO/ln 2, Offset = BasePoints − Factor·ln(BaseOdds)
//
// with n selected features and intercept α, so that the score, the sum of
// a row's points, is about BasePoints at odds BaseOdds:1 (good:bad) and
// rises by PDO when the odds double. A higher score is a safer applicant.
// [Model.Predict] gives the probability of default from the unrounded
// log-odds; [Model.Score] the integer score; [Model.Points] each feature's
// points; [Model.Reasons] the points lost on each feature against its best
// bin, the classic adverse-action reasons, with a direction for
// package reasons.
//
// The model file (FileName, JSON) holds every feature's binning table,
// selected or not, the coefficients and the scaling; [Parse] checks it
// against the schema and refuses points that do not follow from the rest.
// [Model.WriteArtifacts] writes the scorecard table (CSV, PNG), the IV
// ranking (CSV, PNG) and a binning plot per feature.
//
// A Model is not modified after Fit or Parse and is safe for concurrent
// use.
package scorecard
