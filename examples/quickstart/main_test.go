package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register/print"
)

// TestRunTwice runs the quickstart twice on one directory: the second run
// recovers and continues, and the fiscal memory then holds both runs'
// invoices with unique numbers.
func TestRunTwice(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(ctx, &out, dir, print.Columns57mm); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		if i == 1 && !strings.Contains(out.String(), "recovered register") {
			t.Fatalf("second run did not recover:\n%s", out.String())
		}
		for _, want := range []string{"【退票】", "【作废】", "日汇总", "时段汇总", "control update", "税控码：", "verify: ok=true"} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("run %d output lacks %q", i+1, want)
			}
		}
	}
	m, err := memory.OpenDir(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	invs, err := m.Invoices(ctx, fiscal.Date{}, fiscal.Date{})
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 14 {
		t.Fatalf("%d invoices after two runs, want 14", len(invs))
	}
	for i, v := range invs {
		if v.Detail.Number != uint32(i+1) {
			t.Fatalf("invoice %d has number %d", i, v.Detail.Number)
		}
	}
	if n := len(m.Dailies(fiscal.Date{}, fiscal.Date{})); n != 4 {
		t.Fatalf("%d daily records, want 4", n)
	}
	if n := len(m.Declarations(fiscal.Date{}, fiscal.Date{})); n != 2 {
		t.Fatalf("%d declarations, want 2", n)
	}
}

// TestTemporaryDirectoryRemoved runs the quickstart without -data: it works
// in a temporary directory and removes it at the end, leaving nothing behind.
func TestTemporaryDirectoryRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out bytes.Buffer
	if err := run(context.Background(), &out, "", print.Columns57mm); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
	for _, want := range []string{"(temporary, removed at the end", "removed the temporary data directory", "verify: ok=true"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "run again with -data") {
		t.Error("output offers to continue in a directory that no longer exists")
	}
}
