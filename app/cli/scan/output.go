package scan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/vegasec/vega/app/export"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
)

// writeOutputs prints the table or JSON (to stdout or --output) and writes
// --sarif. The JSON and SARIF are app/export's documents, the same bytes the
// dashboard's export gives for the same findings.
func writeOutputs(o *options, stdout io.Writer, findings []store.Finding, meta export.Meta) error {
	if o.sarif != "" {
		if err := writeFile(o.sarif, func(w io.Writer) error { return export.SARIF(w, findings, meta) }); err != nil {
			return fmt.Errorf("--sarif: %w", err)
		}
	}
	write := func(w io.Writer) error {
		if o.format == "json" {
			return export.JSON(w, findings, meta)
		}
		return table(w, findings)
	}
	if o.output != "" {
		if err := writeFile(o.output, write); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		return nil
	}
	return write(stdout)
}

// writeFile writes through a buffer and reports the first error, close included.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// table prints one row per finding, ordered as the export orders them, and
// a count per severity.
func table(w io.Writer, findings []store.Finding) error {
	if len(findings) == 0 {
		_, err := fmt.Fprintln(w, "No findings.")
		return err
	}
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tSTATUS\tENGINE\tLOCATION\tTITLE")
	var counts store.SeverityCounts
	for _, f := range export.Sorted(findings) {
		counts.Inc(f.Severity)
		loc := f.FilePath
		if f.StartLine > 0 {
			loc = fmt.Sprintf("%s:%d", loc, f.StartLine)
		}
		if n := len(f.Locations); n > 1 {
			loc = fmt.Sprintf("%s (+%d more)", loc, n-1)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(f.Severity), f.Status, f.Engine, oneLine(loc), oneLine(f.Title))
	}
	tw.Flush()
	fmt.Fprintf(&buf, "\n%d finding(s): %d critical, %d high, %d medium, %d low, %d info\n",
		len(findings), counts.Critical, counts.High, counts.Medium, counts.Low, counts.Info)
	_, err := io.WriteString(w, buf.String())
	return err
}

// oneLine keeps a hostile title or path from drawing on the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

// listSelection is --dry-run: the selected paths (or JSON with sizes and skip counts).
func listSelection(w io.Writer, format string, sel *ingest.Selection) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"files": sel.Files, "file_count": len(sel.Files), "total_bytes": sel.TotalBytes, "skipped": sel.Skipped})
	}
	bw := bufio.NewWriter(w)
	for _, f := range sel.Files {
		fmt.Fprintln(bw, oneLine(f.Path))
	}
	return bw.Flush()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
