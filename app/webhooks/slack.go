package webhooks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vegasec/vega/store"
)

// slackBody renders an event as a Slack incoming-webhook message
// ({"text": …}, mrkdwn). Names and paths come from repositories and are
// escaped, so a file named "<!channel>" cannot ping a channel.
func slackBody(ev *Event) ([]byte, error) {
	return json.Marshal(map[string]string{"text": slackText(ev)})
}

func slackText(ev *Event) string {
	where := "*" + slackEscape(ev.Project.Name) + "*"
	if ev.Repository != nil {
		where += " / " + slackEscape(ev.Repository.Name)
	}
	var b strings.Builder
	switch ev.Event {
	case store.WebhookScanCompleted:
		fmt.Fprintf(&b, ":white_check_mark: Vega scan completed in %s: %s", where, countsText(ev.Scan.FindingCounts))
		if ev.Scan.StopReason != "" {
			fmt.Fprintf(&b, " (stopped early: %s)", ev.Scan.StopReason)
		}
	case store.WebhookScanFailed:
		fmt.Fprintf(&b, ":x: Vega scan failed in %s", where)
		if ev.Scan.Error != nil {
			fmt.Fprintf(&b, ": %s", slackEscape(ev.Scan.Error.Message))
		}
	case store.WebhookFindingNew:
		fmt.Fprintf(&b, ":rotating_light: %d new finding", ev.FindingsTotal)
		if ev.FindingsTotal != 1 {
			b.WriteString("s")
		}
		fmt.Fprintf(&b, " in %s", where)
		const shown = 10
		for i, f := range ev.Findings {
			if i == shown {
				fmt.Fprintf(&b, "\n…and %d more", ev.FindingsTotal-shown)
				break
			}
			loc := slackEscape(f.FilePath)
			if f.StartLine > 0 {
				loc += fmt.Sprintf(":%d", f.StartLine)
			}
			fmt.Fprintf(&b, "\n• *%s* %s — `%s`", strings.ToUpper(f.Severity), slackEscape(f.Title), strings.ReplaceAll(loc, "`", "'"))
		}
	case store.WebhookTest:
		fmt.Fprintf(&b, ":wave: Test message from Vega for %s: this webhook works.", where)
	default:
		fmt.Fprintf(&b, "Vega event %s in %s", ev.Event, where)
	}
	if ev.Scan != nil {
		fmt.Fprintf(&b, "\nScan `%s`", ev.Scan.ID)
	}
	return b.String()
}

func countsText(c store.SeverityCounts) string {
	total := c.Critical + c.High + c.Medium + c.Low + c.Info
	if total == 0 {
		return "no findings"
	}
	var parts []string
	for _, x := range []struct {
		n    int
		name string
	}{{c.Critical, "critical"}, {c.High, "high"}, {c.Medium, "medium"}, {c.Low, "low"}, {c.Info, "info"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.name))
		}
	}
	return strings.Join(parts, ", ")
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control characters (https://api.slack.com/reference/surfaces/formatting).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
