// Package servicepolicy expresses warranty and service-level commitments as
// data and evaluates them on service records with a Chinese working-day
// calendar.
package servicepolicy
