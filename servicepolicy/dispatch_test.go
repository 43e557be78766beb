package servicepolicy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDispatchEligibility(t *testing.T) {
	ix := NewIndex(fixture())
	require.NoError(t, ix.CanDispatch("T1", at("2026-11-20 10:00")))
	require.NoError(t, ix.CanDispatch("T2", at("2026-09-30 23:59")), "valid through its last day")
	err := ix.CanDispatch("T2", at("2026-10-01 00:00"))
	require.ErrorIs(t, err, ErrNotCertified)
	var ce *CertificateError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "C2", ce.Last.Number)
	err = ix.CanDispatch("T1", at("2024-12-31 10:00"))
	require.ErrorIs(t, err, ErrNotCertified, "before the certificate was issued")
	require.ErrorIs(t, ix.CanDispatch("T9", at("2026-11-20 10:00")), ErrInvalidRecord)

	got := ix.Dispatchable("P1", at("2026-11-20 10:00"))
	require.Len(t, got, 1)
	require.Equal(t, "T1", got[0].ID)
	require.Len(t, ix.Dispatchable("P1", at("2026-06-01 10:00")), 2)
}
