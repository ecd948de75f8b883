package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// RollbackOptions say which alias to move back, and optionally where to.
type RollbackOptions struct {
	Name   string
	Alias  string // default DefaultAlias
	To     string // a version; empty: the previous holder in the history
	Stage  string // with a stage, also transition the target (archiving others)
	Reason string
	User   string // default "unknown"

	beforeWrite, afterWrite func(context.Context) error
}

// RollbackResult is what a rollback did.
type RollbackResult struct {
	Name    string    `json:"name"`
	Alias   string    `json:"alias"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	History []string  `json:"history"` // after the rollback, oldest first
	At      time.Time `json:"rolled_back_at"`
	By      string    `json:"rolled_back_by"`
}

// Rollback points the alias at the version that held it before the current
// one (or at opts.To), and drops the current one from the history, so that
// calling it again walks further back. Without a history tag (an alias set
// by hand, or by an older tool) it follows the current version's
// previous_champion tag once.
func Rollback(ctx context.Context, b tracking.Backend, opts RollbackOptions) (*RollbackResult, error) {
	if err := CheckRollbackOptions(&opts); err != nil {
		return nil, err
	}
	cur, err := aliasVersion(ctx, b, opts.Name, opts.Alias)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("%s has no alias %q to roll back", opts.Name, opts.Alias)
	}
	history, err := readHistory(ctx, b, opts.Name, opts.Alias)
	if err != nil {
		return nil, err
	}
	recorded := len(history) > 0
	if !recorded || history[len(history)-1] != cur.Version {
		history = append(history, cur.Version)
	}

	var target string
	switch {
	case opts.To != "":
		target = opts.To
		if i := slices.Index(history, target); i >= 0 {
			history = history[:i+1]
		} else {
			history = append(history, target)
		}
	case len(history) >= 2:
		history = history[:len(history)-1]
		target = history[len(history)-1]
	case !recorded:
		prev, ok := cur.Tag(TagPreviousChampion)
		if !ok || prev == "" || prev == "none" {
			return nil, fmt.Errorf("%s@%s is version %s: %w", opts.Name, opts.Alias, cur.Version, ErrNoHistory)
		}
		target, history = prev, []string{prev}
	default:
		return nil, fmt.Errorf("%s@%s is version %s, the oldest in its history: %w", opts.Name, opts.Alias, cur.Version, ErrNoHistory)
	}
	if target == cur.Version {
		return nil, fmt.Errorf("%s@%s is already version %s", opts.Name, opts.Alias, target)
	}
	mv, err := b.GetModelVersion(ctx, opts.Name, target)
	if err != nil {
		return nil, fmt.Errorf("get %s version %s: %w", opts.Name, target, err)
	}
	if mv.Status != "" && mv.Status != mlflow.StatusReady {
		return nil, fmt.Errorf("%s version %s is %s, not READY", opts.Name, target, mv.Status)
	}

	res := &RollbackResult{Name: opts.Name, Alias: opts.Alias, From: cur.Version, To: target, History: history,
		At: time.Now().UTC().Truncate(time.Second), By: opts.User}
	if err := moveAlias(ctx, b, opts.Name, opts.Alias, cur.Version, target, opts.beforeWrite, opts.afterWrite); err != nil {
		return nil, err
	}
	if opts.Stage != "" {
		if _, err := b.TransitionModelVersionStage(ctx, opts.Name, target, opts.Stage, true); err != nil {
			return res, fmt.Errorf("alias %s@%s moved back to version %s, but the stage transition to %s failed: %w", opts.Name, opts.Alias, target, opts.Stage, err)
		}
	}
	tags := map[string]string{
		TagPromotedAt:       res.At.Format(time.RFC3339),
		TagPromotedBy:       res.By,
		TagPromotedAlias:    opts.Alias,
		TagPreviousChampion: cur.Version,
		TagKind:             "rollback",
		TagForced:           "false",
	}
	if strings.TrimSpace(opts.Reason) != "" {
		tags[TagReason] = opts.Reason
	}
	if err := tagVersion(ctx, b, opts.Name, target, tags); err != nil {
		return res, err
	}
	if err := tagVersion(ctx, b, opts.Name, cur.Version, map[string]string{
		"rolled_back_at": res.At.Format(time.RFC3339), "rolled_back_by": res.By}); err != nil {
		return res, err
	}
	return res, writeHistory(ctx, b, opts.Name, opts.Alias, history)
}

// CheckRollbackOptions validates options without contacting the server and
// fills in the defaults; Rollback calls it too.
func CheckRollbackOptions(o *RollbackOptions) error {
	if o.Name == "" {
		return errors.New("model name is empty")
	}
	if o.Alias == "" {
		o.Alias = DefaultAlias
	}
	if err := mlflow.ValidateAlias(o.Alias); err != nil {
		return err
	}
	if o.To != "" {
		if v, err := strconv.Atoi(o.To); err != nil || v < 1 {
			return fmt.Errorf("version %q is not a positive integer", o.To)
		}
	}
	if o.Stage != "" {
		st, err := mlflow.CanonicalStage(o.Stage)
		if err != nil {
			return err
		}
		o.Stage = st
	}
	if o.User == "" {
		o.User = "unknown"
	}
	return nil
}
