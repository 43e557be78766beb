package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func defaults() options { return options{now: "2026-11-30T20:00:00+08:00"} }

func TestSampleShowsRealBreaches(t *testing.T) {
	var a, b bytes.Buffer
	if err := run(&a, defaults()); err != nil {
		t.Fatal(err)
	}
	if err := run(&b, defaults()); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatal("output is not deterministic")
	}
	out := a.String()
	for _, want := range []string{
		"V2   breached NJ-01 K2611-02   arrived 1h20m after opened",
		"V12  breached NJ-01 K2611-02   T02 dispatched 2026-11-04 without a valid certificate",
		"V8   breached NJ-01 SK2026-000601 installed 6d23h after paid",
		"A5   breached NJ-01 K2611-09   not fixed by 2026-11-30 18:00",
		"A7   breached NJ-01 C07",
		"G3   breached NJ-01 K2611-06   covered until 2026-11-21 but the repair was charged",
		"A1   breached NJ-X K2611-07   unit NJ-X is not authorised",
		"V1   breached NJ-01 NJ-01@2026-11-15 02:40",
		"A6b  missed   NJ-01 C02",
		"plan: (no plan)",
		"C07 urban    0 phone, 0 on site; next due 2026-11-10 OVERDUE",
		"Maintenance report to 南京市玄武区税务局",
		"Tickets: 11 opened, 8 closed (1 by phone), 3 open at period end",
		"Q2611-02 C02 received 11-13 09:00, replied 11-16 11:00 (breached), closed 11-17 10:00 (breached)",
		"A11  breached JS   JS@2026-10 submitted 2026-11-19 15:00, after the due time 2026-11-16 00:00 (limit 15d after the period)",
		"Submitted: not yet",
		"Staffing: 7 customers, 2 certified technicians of the unit itself (the A9 ratio uses the unit's own customers)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The exempt remote repair is shown as exempt, not as a breach.
	if strings.Contains(out, "A5   breached NJ-01 K2611-05") {
		t.Error("remote-zone A5 reported as a breach")
	}
}

func TestCSV(t *testing.T) {
	o := defaults()
	o.csv = true
	var buf bytes.Buffer
	if err := run(&buf, o); err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(buf.String(), "\n\n", 2)
	if len(parts) != 2 {
		t.Fatalf("want summary and maintenance CSV separated by a blank line")
	}
	rows, err := csv.NewReader(strings.NewReader(parts[0])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 30 || rows[0][3] != "commitment" {
		t.Fatalf("summary CSV: %d rows, header %v", len(rows), rows[0])
	}
	r := csv.NewReader(strings.NewReader(parts[1]))
	r.FieldsPerRecord = -1
	rows, err = r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tickets := 0
	for _, row := range rows {
		if strings.HasPrefix(row[1], "K2611-") {
			tickets++
		}
	}
	if tickets != 12 {
		t.Fatalf("maintenance CSV has %d ticket rows, want 12", tickets)
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(bad, []byte(`{"name": "x", "base": "seed", "commitments": [{"id": "V2", "limit": "soon"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o := defaults()
	o.policy = bad
	err := run(&bytes.Buffer{}, o)
	if err == nil || !strings.Contains(err.Error(), "commitments[0].limit") {
		t.Fatalf("want an error naming commitments[0].limit, got %v", err)
	}
	o = defaults()
	o.now = "2028-03-01T10:00:00+08:00"
	if err := run(&bytes.Buffer{}, o); err != nil {
		t.Fatalf("records end in 2026; evaluating in 2028 needs only covered years: %v", err)
	}
}

func TestStricterPolicyFile(t *testing.T) {
	o := defaults()
	o.policy = filepath.Join("data", "stricter-policy.json")
	var buf bytes.Buffer
	if err := run(&buf, o); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// K2611-08 arrived after 45 min: met (over target) under the seed, a breach under a 40-minute limit.
	if !strings.Contains(out, "V2   breached NJ-01 K2611-08   arrived 45m after opened") {
		t.Error("the stricter V2 limit is not applied")
	}
	if strings.Contains(out, "NJ-01  G1 ") {
		t.Error("disabled G1 still evaluated")
	}
	if !strings.Contains(out, "NJ-01  X1   best-effort") {
		t.Error("added commitment X1 missing from the summary")
	}
}

// NJ-01 handed in October's report on 12 November (met); November's is
// pending until 16 December and breached after it.
func TestReportSubmissionOverTime(t *testing.T) {
	for _, tc := range []struct{ now, want, not string }{
		{"2026-11-30T20:00:00+08:00", "NJ-01  A11  mandatory    1    0", "NJ-01@2026-10"},
		{"2026-12-10T09:00:00+08:00", "NJ-01  A11  mandatory    0    0         0       1", "A11  breached NJ-01"},
		{"2026-12-16T09:00:00+08:00", "A11  breached NJ-01 NJ-01@2026-11 not submitted by 2026-12-16 00:00", ""},
	} {
		o := defaults()
		o.now = tc.now
		var b bytes.Buffer
		if err := run(&b, o); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("at %s: output lacks %q", tc.now, tc.want)
		}
		if tc.not != "" && strings.Contains(b.String(), tc.not) {
			t.Errorf("at %s: output has %q", tc.now, tc.not)
		}
	}
}
