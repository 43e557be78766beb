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
// after; the check card's EF01 names the key id shared with the fiscal
// card; the PINs are given in Cards. Each subtest asks for a new set,
// because registration cannot be undone and some subtests block PINs.
//
// Beyond the happy paths the suite checks that DAILY_COLLECT_SIGN signs
// only the fiscal card's own totals (for EF03's day, a rolled-over day
// and an empty day), that a pending T=0 response is dropped by the next
// command, that a control record in force may be sent again, and that
// PIN_UNBLOCK with a wrong MAC leaves the PIN blocked.
//
// The optional hooks of Cards reach what APDUs cannot, and switch on more
// subtests: Reset (PowerCycle: application to select again, fiscal PIN
// verification, user VERIFY and check-card authentication lost, a partly
// read T=0 response gone, the cards' files and rolling PIN kept),
// FailNext (CardFaults: 6581 changes nothing), Lock (9303, lifted by
// PIN_UNBLOCK), UnblockMAC (PINUnblock with the tax office's MAC) and
// RenewControls (ControlsReplay: an older control record answers 6985,
// card.ErrStaleControls). Without a hook those checks are not run and
// the subtest logs it (no t.Skip, so a real-stack run that lacks hooks
// stays skip-free). EmulatorCards and EmulatorSet set every hook.
package cardtest
