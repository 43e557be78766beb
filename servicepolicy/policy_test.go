package servicepolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSeedPoliciesCoverEveryCommitment(t *testing.T) {
	p := SeedPolicy()
	require.NoError(t, p.Validate())
	var want []string
	for i := 1; i <= 12; i++ {
		want = append(want, fmt.Sprint("V", i), fmt.Sprint("A", i))
	}
	for i := 1; i <= 5; i++ {
		want = append(want, fmt.Sprint("G", i))
	}
	for _, id := range want {
		c, ok := p.Lookup(id)
		require.True(t, ok, id)
		require.NotEmpty(t, c.Source, id)
	}
	for _, part := range []Policy{VendorPlan(), AuthorityRules(), GenericPromises()} {
		require.NoError(t, part.Validate(), part.Name)
	}
	a5, _ := p.Lookup("A5")
	require.Equal(t, WorkingClock, a5.Clock)
	require.Equal(t, []Zone{ZoneRemote}, a5.Exempt)
	a6b, _ := p.Lookup("A6b")
	require.Equal(t, BestEffort, a6b.Level)
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	p := SeedPolicy()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	got, err := ParsePolicy(b)
	require.NoError(t, err)
	require.Equal(t, p, got)
}

func TestParsePolicyOverrides(t *testing.T) {
	p, err := ParsePolicy([]byte(`{
		"name": "Acme 2026",
		"base": "seed",
		"commitments": [
			{"id": "V2", "limit": "45m", "target": "20m"},
			{"id": "G1", "disabled": true},
			{"id": "X1", "title": "loaner back within 2 working days of the fix", "kind": "deadline",
			 "level": "best-effort", "subject": "ticket", "start": "fixed", "stop": ["loaner-back"],
			 "clock": "working", "limit": "2d"}
		]}`))
	require.NoError(t, err)
	v2, ok := p.Lookup("V2")
	require.True(t, ok)
	require.Equal(t, Dur(45*time.Minute), v2.Limit)
	require.Equal(t, Dur(20*time.Minute), v2.Target)
	require.Equal(t, []Zone{ZoneUrban}, v2.Zones, "fields not named keep the base value")
	_, ok = p.Lookup("G1")
	require.False(t, ok)
	x1, ok := p.Lookup("X1")
	require.True(t, ok)
	require.Equal(t, DaysSpan(2), x1.Limit)
	// The shipped policy is untouched.
	orig, _ := SeedPolicy().Lookup("V2")
	require.Equal(t, Dur(60*time.Minute), orig.Limit)
}

func TestCombineOverrides(t *testing.T) {
	strict := VendorPlan().Commitments[1]
	strict.Limit = Dur(40 * time.Minute)
	p := Combine("mine", SeedPolicy(), Policy{Commitments: []Commitment{strict}})
	c, _ := p.Lookup("V2")
	require.Equal(t, Dur(40*time.Minute), c.Limit)
	require.Equal(t, len(SeedPolicy().Commitments), len(p.Commitments))
}

func TestParsePolicyErrorsNameTheField(t *testing.T) {
	seedDeadline := `"title": "t", "kind": "deadline", "level": "mandatory", "subject": "ticket", "start": "opened", "stop": ["arrived"]`
	cases := []struct{ in, field string }{
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `}]}`, "commitments[0].limit"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": "-5m"}]}`, "commitments[0].limit"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": "soon"}]}`, "commitments[0].limit"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": "1h", "zones": ["moon"]}]}`, "commitments[0].zones[0]"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": "1h", "stop": ["paid"]}]}`, "commitments[0].stop[0]"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": "1mo", "clock": "working"}]}`, "commitments[0].limit"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": "1h", "colour": "red"}]}`, "commitments[0].colour"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": 60}]}`, "commitments[0].limit"},
		{`{"name": "x", "base": "seed", "commitments": [{"id": "V2", "level": "sometimes"}]}`, "commitments[0].level"},
		{`{"name": "x", "base": "seed", "commitments": [{"id": "A9", "max": 0}]}`, "commitments[0].max"},
		{`{"name": "x", "base": "seed", "commitments": [{"id": "Q7", "disabled": true}]}`, "commitments[0].disabled"},
		{`{"name": "x", "base": "nope"}`, "base"},
		{`{"base": "seed"}`, "name"},
		{`{"name": "x", "commitments": [{"id": "Z", "title": "t", "kind": "check", "level": "mandatory", "subject": "machine", "check": "staffing-ratio", "max": 5}]}`, "commitments[0].subject"},
		{`{"name": "x", "commitments": [{"id": "Z", ` + seedDeadline + `, "limit": "1h"}, {"id": "Z", ` + seedDeadline + `, "limit": "1h"}]}`, "commitments[1].id"},
		{`{"name": "x", "extra": 1}`, "extra"},
	}
	for _, tc := range cases {
		_, err := ParsePolicy([]byte(tc.in))
		require.ErrorIs(t, err, ErrInvalidPolicy, tc.in)
		var fe *FieldError
		require.True(t, errors.As(err, &fe), tc.in)
		require.Equal(t, tc.field, fe.Field, "%s\n%v", tc.in, err)
		require.Contains(t, err.Error(), tc.field)
	}
}

func FuzzParsePolicy(f *testing.F) {
	b, _ := json.Marshal(SeedPolicy())
	f.Add(b)
	f.Add([]byte(`{"name": "x", "base": "seed", "commitments": [{"id": "V2", "limit": "45m"}, {"id": "G1", "disabled": true}]}`))
	f.Add([]byte(`{"name": "x", "commitments": [{"id": "Z", "kind": "quota", "per": "1y", "count": 2}]}`))
	f.Add([]byte(`null`))
	cal := newCal(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		// Any valid policy evaluates the fixture without panicking.
		e, err := NewEvaluator(p, cal)
		if err != nil {
			t.Fatal(err)
		}
		d := sampleFixture()
		_, _ = e.Evaluate(d, at("2026-11-20 00:00"))
	})
}

// sampleFixture is the fixture with a few records of every kind.
func sampleFixture() *Dataset {
	d := fixture()
	d.Tickets = []Ticket{{ID: "K1", Unit: "P1", Customer: "urban", Machine: "M-new", Events: []Event{
		{Kind: EvOpened, At: at("2026-11-02 10:00")}, {Kind: EvDispatched, At: at("2026-11-02 10:05"), Technician: "T1"},
		{Kind: EvArrived, At: at("2026-11-02 11:15")}, {Kind: EvEstimate, At: at("2026-11-02 12:00"), Estimate: DaysSpan(4)},
		{Kind: EvCarriedIn, At: at("2026-11-02 12:10")}, {Kind: EvException, At: at("2026-11-02 12:20"), Reason: "r", Plan: "p"},
		{Kind: EvFixed, At: at("2026-11-06 10:00")}}}}
	d.Callbacks = []Callback{{Customer: "urban", Unit: "P1", At: at("2026-03-01 10:00")}}
	d.Contacts = []Contact{{ID: "Q", Unit: "P1", Topic: TopicComplaint, Received: at("2026-11-02 10:00")}}
	d.Calls = []Call{{Unit: "P1", At: at("2026-11-02 10:00")}}
	return d
}

func TestParseDataset(t *testing.T) {
	d := sampleFixture()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	got, err := ParseDataset(b)
	require.NoError(t, err)
	require.Equal(t, len(d.Tickets[0].Events), len(got.Tickets[0].Events))
	require.True(t, d.Tickets[0].Events[3].At.Equal(got.Tickets[0].Events[3].At))
	require.Equal(t, DaysSpan(4), got.Tickets[0].Events[3].Estimate)

	cases := []struct{ in, field string }{
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P9", "zone": "urban"}]}`, "customers[0].unit"},
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "lunar"}]}`, "customers[0].zone"},
		{`{"units": [{"id": "P1"}], "customers": [], "tickets": [{"id": "k", "unit": "P1", "customer": "c", "events": []}]}`, "tickets[0].customer"},
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "urban"}], "tickets": [{"id": "k", "unit": "P1", "customer": "c", "events": [{"kind": "opened", "at": "2026-11-02T10:00:00+08:00"}, {"kind": "teleported", "at": "2026-11-02T11:00:00+08:00"}]}]}`, "tickets[0].events[1].kind"},
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "urban"}], "tickets": [{"id": "k", "unit": "P1", "customer": "c", "events": [{"kind": "opened", "at": "2026-11-02T10:00:00+08:00"}, {"kind": "estimate", "at": "2026-11-02T11:00:00+08:00", "estimate": "forever"}]}]}`, "tickets[0].events[1].estimate"},
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "urban"}], "tickets": [{"id": "k", "unit": "P1", "customer": "c", "events": [{"kind": "opened", "at": "2026-11-02T10:00:00+08:00"}, {"kind": "fixed", "at": "2026-11-01T11:00:00+08:00"}]}]}`, "tickets[0].events[1].at"},
		{`{"units": [{"id": "P1"}], "customers": [], "technicians": [{"id": "t", "unit": "P1", "certificates": [{"number": "n", "issued": "2026-13-01", "expires": "2027-01-01"}]}]}`, "technicians[0].certificates[0].issued"},
		{`{"units": [{"id": "P1", "authorised": 2020}], "customers": []}`, "units[0].authorised"},
		{`{"units": [{"id": "P1"}], "customers": [], "calls": [{"unit": "P1", "at": "yesterday", "answered": true}]}`, "calls[0].at"},
		{`{"units": [{"id": "P1"}, {"id": "P1"}], "customers": []}`, "units[1].id"},
		{`{"units": [{"id": ""}], "customers": []}`, "units[0].id"},
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "urban"}, {"id": "c", "unit": "P1", "zone": "urban"}]}`, "customers[1].id"},
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "urban"}], "machines": [{"serial": "", "customer": "c", "paid": "2026-01-01T00:00:00+08:00"}]}`, "machines[0].serial"},
		{`{"units": [{"id": "P1"}], "customers": [], "technicians": [{"id": "t", "unit": "P1"}, {"id": "t", "unit": "P1"}]}`, "technicians[1].id"},
		{`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "urban"}], "tickets": [{"id": "", "unit": "P1", "customer": "c", "events": [{"kind": "opened", "at": "2026-11-02T10:00:00+08:00"}]}]}`, "tickets[0].id"},
	}
	for _, tc := range cases {
		_, err := ParseDataset([]byte(tc.in))
		require.ErrorIs(t, err, ErrInvalidRecord, tc.in)
		var fe *FieldError
		require.True(t, errors.As(err, &fe), tc.in)
		require.Equal(t, tc.field, fe.Field, "%s\n%v", tc.in, err)
	}
}

func FuzzParseDataset(f *testing.F) {
	b, _ := json.Marshal(sampleFixture())
	f.Add(b)
	f.Add([]byte(`{"units": [{"id": "P1"}], "customers": [{"id": "c", "unit": "P1", "zone": "urban"}], "tickets": [{"id": "k", "unit": "P1", "customer": "c", "events": [{"kind": "opened", "at": "2026-11-02T10:00:00+08:00"}]}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"units": [{"id": "A", "parent": "B", "authorised": "2026-01-01"}, {"id": "B", "parent": "A"}], "customers": [], "reports": [{"unit": "A", "from": "2026-09-01", "to": "2026-09-30", "submitted": "2026-10-10T10:00:00+08:00"}]}`))
	f.Add([]byte(`{"units": [{"id": "A", "authorised": "0001-01-01"}, {"id": "B", "parent": "A"}], "customers": [{"id": "c", "unit": "B", "zone": "urban"}], "reports": [{"unit": "A", "from": "0001-01-01", "to": "0001-01-31", "submitted": "2026-10-10T10:00:00+08:00"}]}`))
	e, err := NewEvaluator(SeedPolicy(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDataset(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		// A valid data set evaluates without panicking; the only error
		// allowed is a year outside the holiday data.
		ev, err := e.Evaluate(d, at("2026-11-20 00:00"))
		if err != nil {
			if !errors.Is(err, ErrYearNotCovered) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		for _, u := range d.Units {
			e.Summarize(ev, u.ID, at("2026-11-01 00:00"), at("2026-12-01 00:00"))
			if _, err := e.MaintenanceReport(NewIndex(d), ev, u.ID, at("2026-11-01 00:00"), at("2026-12-01 00:00")); err != nil {
				t.Fatal(err)
			}
		}
	})
}
