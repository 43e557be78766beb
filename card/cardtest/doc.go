// Package cardtest is the conformance suite of GB 18240.2 card sets: it
// drives a fiscal, a user and a check card through package card's clients
// and checks every command's happy path, the status words a host can
// provoke, the PIN try counters, T=0 response chaining and the file
// layouts.
//
// Run takes a factory of freshly personalised card sets, so the same
// suite runs against the in-process emulator (EmulatorCards), the
// emulator behind pcscd and real cards:
//
//	func TestConformance(t *testing.T) {
//		cardtest.Run(t, cardtest.EmulatorCards(emulator.IssueOptions{}))
//	}
//
// What the suite expects of a set (what a tax office issues): the fiscal
// card is personalised but not registered; the user card lists the
// (machine, fiscal card) pair in EF06, holds a control record for the
// fiscal card in EF01, at least one tax item in EF03 and at least two
// invoice rolls of at least 5 numbers in EF05; the control data allow
// invoices dated on the fiscal card's application start date and the day
// after; the check
// card's EF01 names the key id shared with the fiscal card; the PINs are
// given in Cards. Each subtest asks for a new set, because registration
// cannot be undone and some subtests block PINs.
package cardtest
