package findings

import (
	"context"
	"strconv"

	"github.com/vegasec/vega/app/redact"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// In-source suppressions (docs/findings.md, "In-source suppressions"): a
// suppressed report is recorded, dismissed by Vega with reason
// suppressed_in_source, never hidden. Vega only undoes what it did itself: a
// dismissal with another reason, and a confirmation, are human decisions and
// stand.

// Reasons in the history of findings Vega dismisses or reopens on its own.
const (
	ReasonSuppressed          = store.DismissSuppressedInSource
	ReasonSuppressionRemoved  = "suppression_removed"
	ReasonSuppressionsIgnored = "suppressions_not_honored"
)

// honors reports whether the scan's project honours in-source suppressions;
// it is read once per recorder. A project that cannot be read (deleted
// meanwhile) counts as the default, on: its findings go with it anyway.
func (r *Recorder) honors(ctx context.Context) bool {
	r.honorOnce.Do(func() {
		r.honor = true
		if p, err := r.st.GetProject(ctx, store.System(), r.scan.ProjectID); err == nil {
			r.honor = !p.IgnoreSuppressions
		}
	})
	return r.honor
}

// suppress applies rep's suppression to f (already updated by apply) and
// returns the history entry of a status change, or nil. f.Status is the
// status before this report; created is set for a finding new to the
// repository.
func (r *Recorder) suppress(ctx context.Context, f *store.Finding, rep engine.Report) *store.FindingHistory {
	f.Suppression = rep.Suppression
	honored := rep.Suppression != nil && r.honors(ctx)
	switch {
	case honored && (f.Status == store.FindingOpen || f.Status == store.FindingFixed):
		h := r.history(f, store.FindingDismissed, ReasonSuppressed)
		h.Note = "scan " + r.scan.ID + ": " + describe(rep.Suppression)
		f.Status, f.DismissedReason = store.FindingDismissed, store.DismissSuppressedInSource
		return h
	case !honored && f.Status == store.FindingDismissed && f.DismissedReason == store.DismissSuppressedInSource:
		reason := ReasonSuppressionRemoved
		if rep.Suppression != nil {
			reason = ReasonSuppressionsIgnored
		}
		h := r.history(f, store.FindingOpen, reason)
		f.Status, f.DismissedReason = store.FindingOpen, ""
		return h
	}
	return nil
}

// describe is the suppression as one history note line.
func describe(s *store.Suppression) string {
	at := s.FilePath
	if s.Line > 0 {
		at += ":" + itoa(s.Line)
	}
	return s.Kind + " at " + at
}

func itoa(n int) string { return strconv.Itoa(n) }

// maxSuppressionText caps what a suppression keeps; the engine caps
// tighter, this bounds any engine.
const maxSuppressionText = 500

// sanitizeSuppression redacts and caps what an engine says about a
// suppression, as for every other text of a report. A .gitleaksignore
// entry that is exactly the finding's own path, rule and line is kept as is:
// it holds nothing the finding does not already show, and redaction would
// take "rule-token:12" for an assignment.
func sanitizeSuppression(s *store.Suppression, r engine.Report) *store.Suppression {
	if s == nil {
		return nil
	}
	c := *s
	c.Kind = truncate(c.Kind, 50)
	c.FilePath = NormalizePath(c.FilePath)
	c.Line, _ = clampLines(c.Line, c.Line)
	if c.Kind != store.SuppressGitleaksIgnore || c.Text != r.FilePath+":"+r.Category+":"+itoa(r.StartLine) {
		c.Text = truncate(redact.Text(c.Text), maxSuppressionText)
	}
	c.RuleID = truncate(c.RuleID, 100)
	c.Reason = truncate(redact.Text(c.Reason), maxSuppressionText)
	return &c
}
