package servicepolicy

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSummarizeAndReports(t *testing.T) {
	d := sampleFixture()
	// One more ticket in December, outside the report month.
	d.Tickets = append(d.Tickets, Ticket{ID: "K-dec", Unit: "P1", Customer: "urban", Events: evs(EvOpened, "2026-12-02 10:00", EvArrived, "2026-12-02 12:00")})
	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	now := at("2026-12-03 00:00")
	ev, err := e.Evaluate(d, now)
	require.NoError(t, err)
	from, to := at("2026-11-01 00:00"), at("2026-12-01 00:00")

	s := e.Summarize(ev, "P1", from, to)
	rows := make(map[string]SummaryRow)
	for _, r := range s.Rows {
		require.Equal(t, "P1", r.Unit)
		rows[r.Commitment] = r
	}
	// K1 arrived 75 min after the request: V2 breached once; K-dec is December.
	require.Equal(t, 1, rows["V2"].Breached)
	require.Equal(t, 0, rows["V2"].Met)
	require.Equal(t, 0.0, rows["V2"].Rate())
	// K1 was carried in with a 4-day estimate and no loaner: V7 and A12.
	require.Equal(t, 1, rows["V7"].Breached)
	require.Equal(t, 1, rows["A12"].Breached)
	// The open complaint is pending in the archive.
	require.Equal(t, 1, rows["A3"].Pending)
	for _, f := range s.Breaches {
		require.NotEqual(t, "K-dec", f.Record)
		require.Contains(t, []State{Breached, Missed}, f.State)
	}

	var txt bytes.Buffer
	require.NoError(t, s.WriteText(&txt))
	require.Contains(t, txt.String(), "Compliance summary, 2026-11-01 to 2026-11-30")
	require.Contains(t, txt.String(), "K1")
	var c bytes.Buffer
	require.NoError(t, s.WriteCSV(&c))
	recs, err := csv.NewReader(&c).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(s.Rows)+1)
	require.Equal(t, "commitment", recs[0][3])

	r, err := e.MaintenanceReport(NewIndex(d), ev, "P1", from, to)
	require.NoError(t, err)
	require.Len(t, r.Rows, 1)
	require.Equal(t, "K1", r.Rows[0].Ticket)
	require.Equal(t, "fixed", r.Rows[0].Outcome)
	require.Contains(t, r.Rows[0].Breaches, "V2")
	require.Equal(t, "chargeable", r.Rows[0].Warranty, "K1 came without proof of purchase")
	require.Len(t, r.Complaints, 1)
	txt.Reset()
	require.NoError(t, r.WriteText(&txt))
	require.Contains(t, txt.String(), "市税务局")
	require.Contains(t, txt.String(), "Tickets: 1 opened, 1 closed")
	c.Reset()
	require.NoError(t, r.WriteCSV(&c))
	recs, err = csv.NewReader(&c).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.True(t, strings.HasPrefix(recs[1][7], "2026-11-02T10:00:00+08:00"))

	_, err = e.MaintenanceReport(NewIndex(d), ev, "nope", from, to)
	require.ErrorIs(t, err, ErrInvalidRecord)
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReportWriteErrors(t *testing.T) {
	d := sampleFixture()
	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	ev, err := e.Evaluate(d, at("2026-12-01 00:00"))
	require.NoError(t, err)
	s := e.Summarize(ev, "", at("2026-11-01 00:00"), at("2026-12-01 00:00"))
	require.Error(t, s.WriteText(failWriter{}))
	require.Error(t, s.WriteCSV(failWriter{}))
	r, err := e.MaintenanceReport(NewIndex(d), ev, "P1", at("2026-11-01 00:00"), at("2026-12-01 00:00"))
	require.NoError(t, err)
	require.Error(t, r.WriteText(failWriter{}))
	require.Error(t, r.WriteCSV(failWriter{}))
}

func TestComplaintArchive(t *testing.T) {
	d := fixture()
	d.Contacts = []Contact{
		{ID: "Q2", Unit: "P1", Topic: TopicComplaint, Received: at("2026-11-10 10:00"), Replied: at("2026-11-13 10:00"), Closed: at("2026-11-14 10:00")},
		{ID: "Q1", Unit: "P1", Topic: TopicComplaint, Received: at("2026-10-01 10:00"), Replied: at("2026-10-02 10:00"), Closed: at("2026-10-03 10:00"), Resolution: "fixed"},
		{ID: "I1", Unit: "P1", Topic: TopicInquiry, Received: at("2026-10-01 10:00")},
		{ID: "Q3", Unit: "U2", Topic: TopicComplaint, Received: at("2026-10-01 10:00")},
	}
	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	ev, err := e.Evaluate(d, at("2026-11-20 00:00"))
	require.NoError(t, err)
	a := e.Complaints(NewIndex(d), ev, "P1")
	require.Len(t, a.Entries, 2)
	require.Equal(t, "Q1", a.Entries[0].Contact.ID, "oldest first")
	require.Equal(t, Met, a.Entries[0].Reply)
	require.Equal(t, Met, a.Entries[0].Closure)
	require.Equal(t, Breached, a.Entries[1].Reply, "replied after 72 h")
	require.Equal(t, Breached, a.Entries[1].Closure, "closed without resolution")
	var buf bytes.Buffer
	require.NoError(t, a.WriteText(&buf))
	require.Contains(t, buf.String(), "2 complaints")
	buf.Reset()
	require.NoError(t, a.WriteCSV(&buf))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, "breached", recs[2][5])
}

// The maintenance report gives both staffing figures and says which one the
// policy's A9 ratio uses.
func TestMaintenanceReportStaffingScope(t *testing.T) {
	d := treeDataset()
	ix := NewIndex(d)
	now := at("2026-12-03 00:00")
	from, to := at("2026-11-01 00:00"), at("2026-12-01 00:00")
	tree, err := ParsePolicy([]byte(`{"name": "tree", "base": "seed", "commitments": [{"id": "A9", "scope": "tree"}]}`))
	require.NoError(t, err)
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{SeedPolicy(), "Staffing: 100 customers, 2 certified technicians of the unit itself; 500 customers, 3 with the 2 unit(s) below (the A9 ratio uses the unit's own customers)"},
		{tree, "(the A9 ratio uses the unit and the 2 unit(s) below it)"},
	} {
		e, err := NewEvaluator(tc.p, nil)
		require.NoError(t, err)
		ev, err := e.Evaluate(d, now)
		require.NoError(t, err)
		r, err := e.MaintenanceReport(ix, ev, "CITY", from, to)
		require.NoError(t, err)
		var b bytes.Buffer
		require.NoError(t, r.WriteText(&b))
		require.Contains(t, b.String(), tc.want)
	}
}

func TestMaintenanceReportSubmission(t *testing.T) {
	d := sampleFixture()
	d.Reports = []ReportSubmission{
		{Unit: "P1", From: Date{2026, 11, 1}, To: Date{2026, 11, 30}, Submitted: at("2026-12-05 10:00"), TaxOffice: "市税务局", Reference: "R-11"},
		{Unit: "P1", From: Date{2026, 10, 1}, To: Date{2026, 10, 31}, Submitted: at("2026-11-05 10:00"), Reference: "R-10"},
	}
	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	ev, err := e.Evaluate(d, at("2026-12-06 00:00"))
	require.NoError(t, err)
	r, err := e.MaintenanceReport(NewIndex(d), ev, "P1", at("2026-11-01 00:00"), at("2026-12-01 00:00"))
	require.NoError(t, err)
	require.Len(t, r.Submitted, 1, "only the November report belongs to the November period")
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	require.Contains(t, b.String(), "Submitted: 2026-12-05 10:00 to 市税务局, reference R-11")
	require.NotContains(t, b.String(), "R-10")
}
