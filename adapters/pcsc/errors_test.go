//go:build pcsc

package pcsc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ebfe/scard"
)

func TestSentinelMapping(t *testing.T) {
	tests := []struct {
		code scard.Error
		want error
	}{
		{scard.ErrNoService, ErrNoService},
		{scard.ErrServiceStopped, ErrNoService},
		{scard.ErrNoReadersAvailable, ErrNoReaders},
		{scard.ErrUnknownReader, ErrReaderUnavailable},
		{scard.ErrReaderUnavailable, ErrReaderUnavailable},
		{scard.ErrNoSmartcard, ErrNoCard},
		{scard.ErrRemovedCard, ErrCardRemoved},
		{scard.ErrResetCard, ErrCardReset},
		{scard.ErrSharingViolation, ErrSharingViolation},
		{scard.ErrUnresponsiveCard, ErrUnresponsiveCard},
		{scard.ErrUnpoweredCard, ErrUnresponsiveCard},
		{scard.ErrInvalidAtr, ErrUnresponsiveCard},
		{scard.ErrProtoMismatch, ErrProtocolMismatch},
		{scard.ErrCommError, ErrCommunication},
		{scard.ErrCommDataLost, ErrCommunication},
		{scard.ErrNotTransacted, ErrCommunication},
		{scard.ErrTimeout, ErrTimeout},
		{scard.ErrInvalidParameter, nil},
	}
	all := []error{ErrNoService, ErrNoReaders, ErrReaderUnavailable, ErrNoCard, ErrCardRemoved, ErrCardReset,
		ErrSharingViolation, ErrUnresponsiveCard, ErrProtocolMismatch, ErrCommunication, ErrTimeout, ErrClosed}
	for _, tt := range tests {
		err := wrap("transmit", "Reader 0", tt.code)
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != tt.code || pe.Op != "transmit" || pe.Reader != "Reader 0" {
			t.Errorf("%v: not an *Error carrying op, reader and code: %#v", tt.code, err)
			continue
		}
		if !errors.Is(err, tt.code) {
			t.Errorf("%v: raw code not reachable with errors.Is", tt.code)
		}
		for _, s := range all {
			if got := errors.Is(err, s); got != (s == tt.want) {
				t.Errorf("%v: errors.Is(err, %v) = %v", tt.code, s, got)
			}
		}
		if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("0x%08X", uint32(tt.code))) || !strings.Contains(msg, `"Reader 0"`) {
			t.Errorf("%v: message %q lacks the code or the reader", tt.code, msg)
		}
	}
	if wrap("x", "", nil) != nil {
		t.Error("wrap(nil) is not nil")
	}
	other := errors.New("not a PC/SC code")
	if err := wrap("connect", "", other); !errors.Is(err, other) {
		t.Errorf("a non-PC/SC error is lost: %v", err)
	}
}
