package servicepolicy

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// ErrNotCertified is matched by the error of a dispatch check for a
// technician without a valid certificate at the time (V12, A10).
var ErrNotCertified = errors.New("servicepolicy: technician not certified")

// CertificateError says why a technician may not be dispatched.
type CertificateError struct {
	Technician string
	At         time.Time
	// Last is the most recently expired certificate, if any.
	Last *Certificate
}

// Error implements error.
func (e *CertificateError) Error() string {
	msg := fmt.Sprintf("servicepolicy: technician %s has no valid certificate on %s", e.Technician, DateOf(e.At))
	if e.Last != nil {
		msg += fmt.Sprintf(" (%s expired %s)", e.Last.Number, e.Last.Expires)
	}
	return msg
}

// Is matches ErrNotCertified.
func (e *CertificateError) Is(target error) bool { return target == ErrNotCertified }

// CanDispatch reports whether the technician may be dispatched at t: nil, a
// *CertificateError, or a *FieldError for an unknown technician.
func (ix *Index) CanDispatch(technician string, t time.Time) error {
	tech, ok := ix.techs[technician]
	if !ok {
		return &FieldError{Field: "technician", Problem: fmt.Sprintf("unknown technician %q", technician), Err: ErrInvalidRecord}
	}
	if _, ok := tech.CertifiedAt(t); ok {
		return nil
	}
	e := &CertificateError{Technician: technician, At: t}
	for i := range tech.Certificates {
		c := &tech.Certificates[i]
		if c.Expires.Before(DateOf(t)) && (e.Last == nil || e.Last.Expires.Before(c.Expires)) {
			e.Last = c
		}
	}
	return e
}

// Dispatchable returns the technicians of unit who hold a valid certificate
// at t, in ID order.
func (ix *Index) Dispatchable(unit string, t time.Time) []*Technician {
	var out []*Technician
	for i := range ix.D.Technicians {
		tech := &ix.D.Technicians[i]
		if _, ok := tech.CertifiedAt(t); ok && tech.Unit == unit {
			out = append(out, tech)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
